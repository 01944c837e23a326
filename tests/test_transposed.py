"""Tests of cnnscratch.transposed: finite differences, the loop reference,
the adjoint identity with convolution, the output size and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from strategies import transposed_cases

from cnnscratch.conv import conv2d_forward, conv_output_size
from cnnscratch.gradcheck import gradients_match, numerical_gradient
from cnnscratch.transposed import (
    conv_transpose2d_backward,
    conv_transpose2d_forward,
    conv_transpose2d_forward_loops,
    conv_transpose_output_size,
)

HYPER = ("stride", "padding", "output_padding", "dilation")


def _hyper(case: dict) -> dict:
    return {k: case[k] for k in HYPER}


@given(case=transposed_cases())
@settings(max_examples=20)
def test_backward_matches_finite_differences(case: dict) -> None:
    X, W, b, dY, hyper = case["X"], case["W"], case["b"], case["dY"], _hyper(case)

    def L(X_, W_, b_):
        return np.sum(conv_transpose2d_forward(X_, W_, b_, **hyper)[0] * dY)

    _, cache = conv_transpose2d_forward(X, W, b, **hyper)
    dX, dW, db = conv_transpose2d_backward(dY, cache)
    assert gradients_match(dX, numerical_gradient(lambda v: L(v, W, b), X))
    assert gradients_match(dW, numerical_gradient(lambda v: L(X, v, b), W))
    assert gradients_match(db, numerical_gradient(lambda v: L(X, W, v), b))


@given(case=transposed_cases())
@settings(max_examples=20)
def test_vectorised_forward_equals_the_loops(case: dict) -> None:
    Y, _ = conv_transpose2d_forward(case["X"], case["W"], case["b"], **_hyper(case))
    Y_loops, _ = conv_transpose2d_forward_loops(
        case["X"], case["W"], case["b"], **_hyper(case)
    )
    assert Y.shape == case["dY"].shape
    np.testing.assert_allclose(Y, Y_loops, rtol=1e-12, atol=1e-12)


@given(case=transposed_cases())
@settings(max_examples=20)
def test_it_is_the_adjoint_of_convolution(case: dict) -> None:
    """⟨conv(Z), X⟩ = ⟨convᵀ(X), Z⟩ for every Z of the transposed output's shape,
    whenever that shape convolves back to X's (output_padding < stride)."""
    pairs = zip(case["output_padding"], case["stride"], strict=True)
    assume(all(op < s for op, s in pairs))
    hyper = _hyper(case)
    X, W = case["X"], case["W"]
    no_bias = np.zeros(W.shape[1])
    Y, _ = conv_transpose2d_forward(X, W, no_bias, **hyper)
    Z = np.random.default_rng(0).normal(size=Y.shape)
    conv_Z, _ = conv2d_forward(
        Z,
        W,
        np.zeros(W.shape[0]),
        stride=hyper["stride"],
        padding=hyper["padding"],
        dilation=hyper["dilation"],
    )
    assert conv_Z.shape == X.shape
    np.testing.assert_allclose(
        np.sum(conv_Z * X), np.sum(Y * Z), rtol=1e-10, atol=1e-10
    )


def test_stride_two_stamps_overlap_unevenly() -> None:
    """Hand-worked: four 3x3 stamps of ones, two pixels apart."""
    Y, _ = conv_transpose2d_forward(
        np.ones((1, 1, 2, 2)), np.ones((1, 1, 3, 3)), [0.0], stride=2
    )
    row = np.array([1.0, 1.0, 2.0, 1.0, 1.0])
    np.testing.assert_array_equal(Y[0, 0], np.outer(row, row))


def test_bias_is_added_to_every_output_pixel() -> None:
    Y, _ = conv_transpose2d_forward(
        np.zeros((2, 1, 2, 3)), np.ones((1, 2, 2, 2)), [1.0, -2.0]
    )
    assert Y.shape == (2, 2, 3, 4)
    np.testing.assert_array_equal(Y[:, 0], 1.0)
    np.testing.assert_array_equal(Y[:, 1], -2.0)


@pytest.mark.parametrize(
    ("H", "k", "s", "p", "d"), [(7, 3, 2, 0, 1), (8, 3, 2, 1, 1), (9, 2, 3, 0, 2)]
)
def test_output_padding_recovers_every_size_the_floor_merges(H, k, s, p, d) -> None:
    """Every input size that convolves to OH comes back for one output_padding."""
    OH = conv_output_size(H, k, s, p, d)
    sizes = {conv_transpose_output_size(OH, k, s, p, op, d) for op in range(max(s, d))}
    same = {h for h in range(1, 30) if h + 2 * p >= d * (k - 1) + 1}
    merged = {h for h in same if conv_output_size(h, k, s, p, d) == OH}
    assert merged <= sizes
    assert H in sizes


def test_output_size_formula() -> None:
    assert conv_transpose_output_size(4, 3, stride=2, padding=1, output_padding=1) == 8
    assert conv_transpose_output_size(5, 2, stride=1, dilation=3) == 8


def test_inputs_are_not_modified() -> None:
    rng = np.random.default_rng(1)
    X, W, b = (
        rng.normal(size=(1, 2, 3, 3)),
        rng.normal(size=(2, 1, 2, 2)),
        rng.normal(size=1),
    )
    copies = [a.copy() for a in (X, W, b)]
    Y, cache = conv_transpose2d_forward(X, W, b, stride=2)
    dY = rng.normal(size=Y.shape)
    dY_copy = dY.copy()
    conv_transpose2d_backward(dY, cache)
    for a, c in zip((X, W, b, dY), (*copies, dY_copy), strict=True):
        np.testing.assert_array_equal(a, c)


# --- bad input ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("stride", "dilation", "output_padding"),
    [(1, 1, 1), (2, 1, 2), (2, 2, 3), ((2, 1), 1, (1, 1))],
)
def test_output_padding_must_be_smaller_than_stride_or_dilation(
    stride, dilation, output_padding
) -> None:
    with pytest.raises(ValueError, match=r"^output_padding is"):
        conv_transpose2d_forward(
            np.ones((1, 1, 3, 3)),
            np.ones((1, 1, 2, 2)),
            [0.0],
            stride=stride,
            dilation=dilation,
            output_padding=output_padding,
        )


def test_output_padding_below_the_dilation_is_allowed() -> None:
    Y, _ = conv_transpose2d_forward(
        np.ones((1, 1, 2, 2)),
        np.ones((1, 1, 2, 2)),
        [0.0],
        dilation=3,
        output_padding=2,
    )
    assert Y.shape == (1, 1, 7, 7)  # 1·(2 − 1) + 3·(2 − 1) + 1 + 2


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("stride", {"stride": 0}),
        ("padding", {"padding": -1}),
        ("dilation", {"dilation": 0}),
        ("output_padding", {"output_padding": -1}),
    ],
)
def test_bad_hyper_parameters_name_the_argument(name, kwargs) -> None:
    with pytest.raises(ValueError, match=f"^{name} must be"):
        conv_transpose2d_forward(
            np.ones((1, 1, 2, 2)), np.ones((1, 1, 2, 2)), [0.0], **kwargs
        )


def test_padding_that_leaves_no_output_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"^padding"):
        conv_transpose2d_forward(
            np.ones((1, 1, 1, 1)), np.ones((1, 1, 1, 1)), [0.0], padding=1
        )


def test_mismatched_shapes_name_the_argument() -> None:
    with pytest.raises(ValueError, match=r"^X has shape \(1, 3, 2, 2\).*C_in = 2"):
        conv_transpose2d_forward(np.ones((1, 3, 2, 2)), np.ones((2, 1, 2, 2)), [0.0])
    with pytest.raises(ValueError, match=r"^b has shape \(2,\).*C_out = 1"):
        conv_transpose2d_forward(
            np.ones((1, 2, 2, 2)), np.ones((2, 1, 2, 2)), [0.0, 0.0]
        )
    _, cache = conv_transpose2d_forward(
        np.ones((1, 2, 2, 2)), np.ones((2, 1, 2, 2)), [0.0]
    )
    with pytest.raises(ValueError, match=r"^dY has shape \(1, 1, 2, 2\).*OH = 3"):
        conv_transpose2d_backward(np.ones((1, 1, 2, 2)), cache)
