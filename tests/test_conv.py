"""Tests of cnnscratch.conv: finite differences; loops, matrix form, flip, fast path."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from strategies import conv_cases

from cnnscratch.conv import (
    col2im,
    conv2d_backward,
    conv2d_backward_im2col,
    conv2d_backward_loops,
    conv2d_forward,
    conv2d_forward_im2col,
    conv2d_forward_loops,
    conv2d_input_gradient_flipped,
    conv_output_size,
    dilate,
    im2col,
    pad,
)
from cnnscratch.gradcheck import gradients_match, numerical_gradient

EXACT = 1e-12  # loops vs vectorised: the same sums in a different order
ALL_FORWARDS = [conv2d_forward, conv2d_forward_im2col, conv2d_forward_loops]
ALL_BACKWARDS = [conv2d_backward, conv2d_backward_im2col, conv2d_backward_loops]


def _hyper(case: dict) -> dict:
    return {k: case[k] for k in ("stride", "padding", "dilation")}


def _max_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    assert a.shape == b.shape
    return float(np.max(np.abs(a - b), initial=0.0))


# --- the output size -------------------------------------------------------


@given(case=conv_cases())
def test_output_size_counts_every_window_that_fits(case: dict) -> None:
    H = case["X"].shape[2]
    k = case["W"].shape[2]
    s, p, d = case["stride"][0], case["padding"][0], case["dilation"][0]
    starts = [r for r in range(0, H + 2 * p, s) if r + d * (k - 1) < H + 2 * p]
    assert conv_output_size(H, k, s, p, d) == len(starts)


def test_output_size_ignores_rows_the_stride_does_not_reach() -> None:
    assert conv_output_size(7, 3, stride=2) == 3
    assert conv_output_size(8, 3, stride=2) == 3  # row 7 is never read


def test_unreached_rows_get_zero_gradient() -> None:
    rng = np.random.default_rng(0)
    X, W = rng.standard_normal((1, 1, 8, 8)), rng.standard_normal((1, 1, 3, 3))
    Y, cache = conv2d_forward(X, W, [0.0], stride=2)
    dX, _, _ = conv2d_backward(np.ones_like(Y), cache)
    assert np.all(dX[0, 0, 7, :] == 0)
    assert np.all(dX[0, 0, :, 7] == 0)
    assert np.any(dX[0, 0, 6, :] != 0)


# --- the forward pass ------------------------------------------------------


def test_forward_matches_hand_worked_example() -> None:
    X = np.arange(16.0).reshape(1, 1, 4, 4)
    W = np.array([[[[1.0, 0.0], [0.0, -1.0]]]])  # X[i, j] − X[i + 1, j + 1]
    Y, _ = conv2d_forward(X, W, [0.5])
    np.testing.assert_array_equal(Y, np.full((1, 1, 3, 3), -5.0 + 0.5))


def test_forward_is_correlation_not_convolution() -> None:
    X = np.zeros((1, 1, 3, 3))
    X[0, 0, 1, 1] = 1.0  # an impulse returns the kernel flipped under correlation
    W = np.arange(9.0).reshape(1, 1, 3, 3)
    Y, _ = conv2d_forward(X, W, [0.0], padding=1)
    np.testing.assert_array_equal(Y[0, 0], W[0, 0, ::-1, ::-1])


def test_padding_pads_with_zeros() -> None:
    Y, _ = conv2d_forward(np.ones((1, 1, 2, 2)), np.ones((1, 1, 3, 3)), [0], padding=1)
    np.testing.assert_array_equal(Y[0, 0], np.full((2, 2), 4.0))


@pytest.mark.parametrize("forward", [conv2d_forward, conv2d_forward_im2col])
@given(case=conv_cases())
def test_forward_loops_match_vectorised(forward, case: dict) -> None:
    Y_loops, _ = conv2d_forward_loops(case["X"], case["W"], case["b"], **_hyper(case))
    Y_fast, _ = forward(case["X"], case["W"], case["b"], **_hyper(case))
    assert _max_abs_diff(Y_loops, Y_fast) < EXACT


# --- the backward pass: finite differences ---------------------------------


def _loss(case: dict):  # L = Σ dY ⊙ Y, so ∂L/∂Y = dY
    def of(X: np.ndarray, W: np.ndarray, b: np.ndarray) -> float:
        Y, _ = conv2d_forward(X, W, b, **_hyper(case))
        return float(np.sum(case["dY"] * Y))

    return of


@given(case=conv_cases())
def test_input_gradient_matches_finite_differences(case: dict) -> None:
    L = _loss(case)
    _, cache = conv2d_forward(case["X"], case["W"], case["b"], **_hyper(case))
    dX, _, _ = conv2d_backward(case["dY"], cache)
    numeric = numerical_gradient(lambda X: L(X, case["W"], case["b"]), case["X"])
    assert gradients_match(dX, numeric)


@given(case=conv_cases())
def test_weight_gradient_matches_finite_differences(case: dict) -> None:
    L = _loss(case)
    _, cache = conv2d_forward(case["X"], case["W"], case["b"], **_hyper(case))
    _, dW, _ = conv2d_backward(case["dY"], cache)
    numeric = numerical_gradient(lambda W: L(case["X"], W, case["b"]), case["W"])
    assert gradients_match(dW, numeric)


@given(case=conv_cases())
def test_bias_gradient_matches_finite_differences(case: dict) -> None:
    L = _loss(case)
    _, cache = conv2d_forward(case["X"], case["W"], case["b"], **_hyper(case))
    _, _, db = conv2d_backward(case["dY"], cache)
    numeric = numerical_gradient(lambda b: L(case["X"], case["W"], b), case["b"])
    assert gradients_match(db, numeric)


NAMED_CASES = {
    # name: (N, C_in, C_out, (H, W), (KH, KW), stride, padding, dilation)
    "stride 2 that does not divide": (2, 1, 2, (8, 7), (3, 2), 2, 0, 1),
    "stride 3, padding, several channels": (1, 3, 2, (7, 6), (2, 3), 3, 1, 1),
    "dilation 2, padding 2, non-square": (2, 2, 3, (5, 6), (3, 2), (1, 2), 2, 2),
    "1 x 1 kernel, stride (2, 3)": (1, 2, 2, (5, 5), (1, 1), (2, 3), 0, 1),
}


@pytest.mark.parametrize("shape", NAMED_CASES.values(), ids=NAMED_CASES.keys())
def test_all_gradients_match_finite_differences_on_named_cases(shape) -> None:
    N, C_in, C_out, size, kernel, stride, padding, dilation = shape
    hyper = {"stride": stride, "padding": padding, "dilation": dilation}
    rng = np.random.default_rng(3)
    X = rng.standard_normal((N, C_in, *size))
    W = rng.standard_normal((C_out, C_in, *kernel))
    b = rng.standard_normal(C_out)
    Y, cache = conv2d_forward(X, W, b, **hyper)
    dY = rng.standard_normal(Y.shape)
    dX, dW, db = conv2d_backward(dY, cache)

    def L(X_: np.ndarray, W_: np.ndarray, b_: np.ndarray) -> float:
        return float(np.sum(dY * conv2d_forward(X_, W_, b_, **hyper)[0]))

    assert gradients_match(dX, numerical_gradient(lambda v: L(v, W, b), X))
    assert gradients_match(dW, numerical_gradient(lambda v: L(X, v, b), W))
    assert gradients_match(db, numerical_gradient(lambda v: L(X, W, v), b))
    loops = conv2d_backward_loops(dY, cache)
    assert max(map(_max_abs_diff, loops, (dX, dW, db))) < EXACT
    flipped = conv2d_input_gradient_flipped(dY, W, X.shape, **hyper)
    assert _max_abs_diff(flipped, dX) < EXACT


# --- three forms, one answer -----------------------------------------------


@pytest.mark.parametrize("backward", [conv2d_backward, conv2d_backward_im2col])
@given(case=conv_cases())
def test_backward_loops_match_vectorised(backward, case: dict) -> None:
    _, cache = conv2d_forward(case["X"], case["W"], case["b"], **_hyper(case))
    for loop, fast in zip(
        conv2d_backward_loops(case["dY"], cache),
        backward(case["dY"], cache),
        strict=True,
    ):
        assert _max_abs_diff(loop, fast) < EXACT


@given(case=conv_cases())
def test_flipped_kernel_input_gradient_matches_matrix_form(case: dict) -> None:
    _, cache = conv2d_forward(case["X"], case["W"], case["b"], **_hyper(case))
    dX, _, _ = conv2d_backward(case["dY"], cache)
    flipped = conv2d_input_gradient_flipped(
        case["dY"], case["W"], case["X"].shape, **_hyper(case)
    )
    assert _max_abs_diff(dX, flipped) < EXACT


@pytest.mark.parametrize("backward", ALL_BACKWARDS)
def test_caches_are_interchangeable_between_the_forms(backward) -> None:
    rng = np.random.default_rng(1)
    X, W = rng.standard_normal((2, 2, 5, 4)), rng.standard_normal((3, 2, 2, 3))
    dY = rng.standard_normal((2, 3, 2, 2))  # OW = ⌊(4 + 2 - 3) / 2⌋ + 1
    results = [
        backward(dY, forward(X, W, np.zeros(3), stride=2, padding=(0, 1))[1])
        for forward in ALL_FORWARDS
    ]
    for other in results[1:]:  # the fast path's cache carries its window columns
        for a, b in zip(results[0], other, strict=True):
            np.testing.assert_array_equal(a, b)


def test_fast_path_keeps_its_window_columns_for_the_backward_pass() -> None:
    X = np.arange(2 * 2 * 4 * 4.0).reshape(2, 2, 4, 4)
    _, cache = conv2d_forward(X, np.ones((3, 2, 3, 2)), np.zeros(3), padding=1)
    assert cache.cols is not None
    rows = im2col(X, (3, 2), padding=1)  # (N·OH·OW, C·KH·KW): row per window
    np.testing.assert_array_equal(cache.cols, rows.T)


# --- im2col and col2im -----------------------------------------------------


@given(case=conv_cases())
def test_col2im_is_the_transpose_of_im2col(case: dict) -> None:
    X, kernel = case["X"], case["W"].shape[2:]
    cols = im2col(X, kernel, **_hyper(case))
    D = np.random.default_rng(2).standard_normal(cols.shape)
    back = col2im(D, X.shape, kernel, **_hyper(case))
    assert abs(np.sum(cols * D) - np.sum(X * back)) < 1e-9 * (1 + np.abs(D).sum())


def test_col2im_accumulates_overlapping_windows() -> None:
    counts = col2im(np.ones((9, 4)), (1, 1, 4, 4), 2, stride=1)
    expected = np.array([[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]])
    np.testing.assert_array_equal(counts[0, 0], expected)


def test_im2col_rows_are_the_windows_in_weight_order() -> None:
    X = np.arange(2 * 3 * 3.0).reshape(1, 2, 3, 3)
    cols = im2col(X, (2, 2), stride=1)
    np.testing.assert_array_equal(cols[3], X[0, :, 1:3, 1:3].ravel())


# --- float32 ---------------------------------------------------------------


@pytest.mark.parametrize(
    "hyper",
    [
        {},
        {"stride": 2, "padding": 1},
        {"stride": (1, 2), "padding": (2, 0), "dilation": 2},
        {"stride": 1, "padding": 0, "kernel": 1},  # the 1x1 shortcut
    ],
)
@pytest.mark.parametrize(
    ("forward", "backward"),
    [
        (conv2d_forward, conv2d_backward),
        (conv2d_forward_im2col, conv2d_backward_im2col),
    ],
)
def test_float32_inputs_stay_float32_and_agree_with_float64(
    forward, backward, hyper
) -> None:
    hyper = dict(hyper)
    k = hyper.pop("kernel", 3)
    rng = np.random.default_rng(3)
    X = rng.standard_normal((2, 3, 7, 6))
    W = rng.standard_normal((4, 3, k, k))
    b = rng.standard_normal(4)
    Y64, cache64 = forward(X, W, b, **hyper)
    dY = rng.standard_normal(Y64.shape)
    Y32, cache32 = forward(*(a.astype(np.float32) for a in (X, W, b)), **hyper)
    grads32 = backward(dY.astype(np.float32), cache32)
    assert {a.dtype for a in (Y32, *grads32)} == {np.dtype(np.float32)}
    if cache32.cols is not None:
        assert cache32.cols.dtype == np.float32
    for a32, a64 in zip((Y32, *grads32), (Y64, *backward(dY, cache64)), strict=True):
        np.testing.assert_allclose(a32, a64, rtol=1e-4, atol=1e-4 * np.abs(a64).max())


# --- bad inputs -----------------------------------------------------------

X4 = np.zeros((1, 2, 5, 5))
W4 = np.zeros((3, 2, 3, 3))
B3 = np.zeros(3)
FORWARDS = ALL_FORWARDS


@pytest.mark.parametrize("forward", FORWARDS)
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"stride": 0}, "stride must be >= 1"),
        ({"stride": (1, -2)}, "stride must be >= 1"),
        ({"stride": 1.5}, "stride must be an int or a pair of ints"),
        ({"stride": True}, "stride must be an int or a pair of ints"),
        ({"stride": (1, 2, 3)}, "stride must be an int or a pair of ints"),
        ({"padding": -1}, "padding must be >= 0"),
        ({"dilation": 0}, "dilation must be >= 1"),
        ({"dilation": 3}, r"spans 7 x 7; larger than the padded input 5 x 5"),
    ],
)
def test_forward_rejects_bad_hyper_parameters(forward, kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        forward(X4, W4, B3, **kwargs)


@pytest.mark.parametrize("forward", FORWARDS)
@pytest.mark.parametrize(
    ("X", "W", "b", "message"),
    [
        (np.zeros((1, 4, 5, 5)), W4, B3, r"X has shape \(1, 4, 5, 5\).*C_in = 2"),
        (np.zeros((2, 5, 5)), W4, B3, r"X has shape \(2, 5, 5\); expected"),
        (X4, W4, np.zeros(2), r"b has shape \(2,\).*C_out = 3"),
        (X4, np.zeros((3, 2, 3)), B3, r"W has shape \(3, 2, 3\)"),
        (np.zeros((1, 2, 2, 2)), W4, B3, "larger than the padded input 2 x 2"),
        (np.full((1, 2, 5, 5), np.nan), W4, B3, "X .* non-finite"),
        (X4.astype(complex), W4, B3, "X has dtype complex128"),
    ],
)
def test_forward_rejects_bad_arrays(forward, X, W, b, message) -> None:
    with pytest.raises(ValueError, match=message):
        forward(X, W, b)


@pytest.mark.parametrize("backward", ALL_BACKWARDS)
@pytest.mark.parametrize(
    ("dY", "message"),
    [
        (np.zeros((1, 3, 3, 2)), r"dY has shape \(1, 3, 3, 2\).*OW = 3"),
        (np.zeros((1, 2, 3, 3)), r"dY has shape \(1, 2, 3, 3\).*C_out = 3"),
        (np.zeros((2, 3, 3, 3)), r"dY has shape \(2, 3, 3, 3\).*N = 1"),
        (np.full((1, 3, 3, 3), np.inf), "dY .* non-finite"),
    ],
)
def test_backward_rejects_bad_upstream_gradient(backward, dY, message) -> None:
    _, cache = conv2d_forward(X4, W4, B3)
    with pytest.raises(ValueError, match=message):
        backward(dY, cache)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((0, 3), "H must be >= 1"),
        ((5, 0), "k must be >= 1"),
        ((5, 3, 0), "stride must be >= 1"),
        ((5, 3, 1, -1), "padding must be >= 0"),
        ((5, 3, 1, 0, 0), "dilation must be >= 1"),
        ((5, 7), r"d\(k - 1\) \+ 1 = 7 .* padded input H \+ 2p = 5"),
        ((5, 4, 1, 0, 2), r"d\(k - 1\) \+ 1 = 7 \(k = 4, dilation = 2\)"),
    ],
)
def test_output_size_rejects_bad_arguments(args, message) -> None:
    with pytest.raises(ValueError, match=message):
        conv_output_size(*args)


def test_im2col_rejects_bad_inputs() -> None:
    with pytest.raises(ValueError, match="X has shape"):
        im2col(np.zeros((5, 5)), 3)
    with pytest.raises(ValueError, match="kernel must be >= 1"):
        im2col(X4, 0)
    with pytest.raises(ValueError, match="larger than the padded input"):
        im2col(X4, (6, 1))


def test_col2im_rejects_bad_inputs() -> None:
    with pytest.raises(ValueError, match=r"cols has shape \(8, 18\).*= 4"):
        col2im(np.zeros((8, 18)), (1, 2, 5, 5), 3, stride=2)
    with pytest.raises(ValueError, match=r"cols has shape \(4, 9\).*= 18"):
        col2im(np.zeros((4, 9)), (1, 2, 5, 5), 3, stride=2)
    with pytest.raises(ValueError, match="X_shape is"):
        col2im(np.zeros((9, 18)), (2, 5, 5), 3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="stride must be >= 1"):
        col2im(np.zeros((9, 18)), (1, 2, 5, 5), 3, stride=0)


def test_flipped_input_gradient_rejects_bad_inputs() -> None:
    dY = np.zeros((1, 3, 3, 3))
    with pytest.raises(ValueError, match=r"X_shape is \(1, 4, 5, 5\).*C_in = 2"):
        conv2d_input_gradient_flipped(dY, W4, (1, 4, 5, 5))
    with pytest.raises(ValueError, match=r"dY has shape \(1, 3, 3, 3\).*OH = 2"):
        conv2d_input_gradient_flipped(dY, W4, (1, 2, 5, 5), stride=2)
    with pytest.raises(ValueError, match="padding must be >= 0"):
        conv2d_input_gradient_flipped(dY, W4, (1, 2, 5, 5), padding=-1)
    with pytest.raises(ValueError, match="stride must be >= 1"):
        conv2d_input_gradient_flipped(dY, W4, (1, 2, 5, 5), stride=0)
    with pytest.raises(ValueError, match="larger than the padded input 2 x 2"):
        conv2d_input_gradient_flipped(dY, W4, (1, 2, 2, 2))
    with pytest.raises(ValueError, match="X_shape is"):
        conv2d_input_gradient_flipped(dY, W4, (1, 2, 5))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("X", "padding", "message"),
    [
        (np.zeros((2, 5, 5)), 1, r"X has shape \(2, 5, 5\); expected \(N, C, H, W\)"),
        (X4.astype(complex), 1, "X has dtype complex128"),
        (np.full((1, 1, 2, 2), np.nan), 1, "X .* non-finite"),
        (X4, -1, "padding must be >= 0 on both axes; got -1"),
        (X4, (1, -1), r"padding must be >= 0 on both axes; got \(1, -1\)"),
        (X4, 1.0, "padding must be an int or a pair of ints; got 1.0"),
        (X4, (1,), r"padding must be an int or a pair of ints; got \(1,\)"),
        (X4, True, "padding must be an int or a pair of ints; got True"),
    ],
)
def test_pad_rejects_bad_inputs(X, padding, message) -> None:
    with pytest.raises(ValueError, match=message):
        pad(X, padding)


def test_pad_takes_an_int_for_both_axes() -> None:
    X = np.arange(4.0).reshape(1, 1, 2, 2)
    np.testing.assert_array_equal(pad(X, 1), pad(X, (1, 1)))
    assert pad(X, (0, 2)).shape == (1, 1, 2, 6)


@pytest.mark.parametrize(
    ("dY", "stride", "message"),
    [
        (np.zeros((2, 2)), 2, r"dY has shape \(2, 2\); expected \(N, C, OH, OW\)"),
        (np.full((1, 1, 2, 2), np.inf), 2, "dY .* non-finite"),
        (np.zeros((1, 1, 2, 2)), 0, "stride must be >= 1 on both axes; got 0"),
        (np.zeros((1, 1, 2, 2)), (2, 0), r"stride must be >= 1 .*got \(2, 0\)"),
        (np.zeros((1, 1, 2, 2)), 2.0, "stride must be an int or a pair of ints"),
        (np.zeros((1, 1, 2, 2)), (1, 2, 3), "stride must be an int or a pair"),
    ],
)
def test_dilate_rejects_bad_inputs(dY, stride, message) -> None:
    with pytest.raises(ValueError, match=message):
        dilate(dY, stride)


def test_dilate_takes_an_int_for_both_axes() -> None:
    dY = np.arange(4.0).reshape(1, 1, 2, 2)
    np.testing.assert_array_equal(dilate(dY, 2), dilate(dY, (2, 2)))
    np.testing.assert_array_equal(dilate(dY, 1), dY)


BAD_X_SHAPES = [
    (1, 2, 5.0, 5),
    (1, 2, 5, np.float64(5)),
    (True, 2, 5, 5),
    (1, 2, "5", 5),
    (1, 0, 5, 5),
]


@pytest.mark.parametrize("X_shape", BAD_X_SHAPES)
def test_col2im_rejects_x_shape_entries_that_are_not_integers_ge_1(X_shape) -> None:
    message = r"X_shape is .*; expected \(N, C, H, W\), all integers >= 1"
    with pytest.raises(ValueError, match=message):
        col2im(np.zeros((9, 18)), X_shape, 3)


@pytest.mark.parametrize("X_shape", BAD_X_SHAPES)
def test_flipped_input_gradient_rejects_x_shape_entries_that_are_not_integers(
    X_shape,
) -> None:
    message = r"X_shape is .*; expected \(N, C_in, H, W\), all integers >= 1"
    with pytest.raises(ValueError, match=message):
        conv2d_input_gradient_flipped(np.zeros((1, 3, 3, 3)), W4, X_shape)


def test_x_shape_accepts_numpy_integers() -> None:
    rng = np.random.default_rng(0)
    dY, cols = rng.standard_normal((1, 3, 3, 3)), rng.standard_normal((9, 18))
    numpy_shape = tuple(np.int64(n) for n in (1, 2, 5, 5))
    np.testing.assert_array_equal(
        col2im(cols, numpy_shape, 3), col2im(cols, (1, 2, 5, 5), 3)
    )
    np.testing.assert_array_equal(
        conv2d_input_gradient_flipped(dY, W4, numpy_shape),
        conv2d_input_gradient_flipped(dY, W4, (1, 2, 5, 5)),
    )
