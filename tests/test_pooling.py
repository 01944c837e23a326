"""Tests of cnnscratch.pooling: max-pool ties and overlaps, avg-pool, flatten."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from strategies import pool_cases

from cnnscratch.gradcheck import gradients_match, numerical_gradient
from cnnscratch.pooling import (
    avgpool2d_backward,
    avgpool2d_backward_loops,
    avgpool2d_forward,
    avgpool2d_forward_loops,
    flatten_backward,
    flatten_forward,
    maxpool2d_backward,
    maxpool2d_backward_loops,
    maxpool2d_forward,
    maxpool2d_forward_loops,
)

EXACT = 1e-12


def _pool_args(case: dict) -> dict:
    return {"kernel": case["kernel"], "stride": case["stride"]}


# --- max-pooling -----------------------------------------------------------


def test_maxpool_forward_matches_hand_worked_example() -> None:
    X = np.array([[[[1, 2, 0, 7], [3, 4, 6, 5], [9, 8, 1, 1], [8, 9, 1, 0]]]])
    Y, _ = maxpool2d_forward(X, 2)
    np.testing.assert_array_equal(Y[0, 0], [[4, 7], [9, 1]])


@given(case=pool_cases())
def test_maxpool_gradient_matches_finite_differences(case: dict) -> None:
    def L(X: np.ndarray) -> float:
        return float(np.sum(case["dY"] * maxpool2d_forward(X, **_pool_args(case))[0]))

    _, cache = maxpool2d_forward(case["X"], **_pool_args(case))
    dX = maxpool2d_backward(case["dY"], cache)
    assert gradients_match(dX, numerical_gradient(L, case["X"]))


@given(case=pool_cases(ties=True))
def test_maxpool_loops_match_vectorised_with_ties(case: dict) -> None:
    Y_loops, cache_loops = maxpool2d_forward_loops(case["X"], **_pool_args(case))
    Y_fast, cache_fast = maxpool2d_forward(case["X"], **_pool_args(case))
    np.testing.assert_array_equal(Y_loops, Y_fast)
    np.testing.assert_array_equal(cache_loops.argmax, cache_fast.argmax)
    dX_loops = maxpool2d_backward_loops(case["dY"], cache_loops)
    dX_fast = maxpool2d_backward(case["dY"], cache_fast)
    assert np.max(np.abs(dX_loops - dX_fast)) < EXACT


@given(case=pool_cases(ties=True))
def test_maxpool_caches_are_interchangeable_with_ties(case: dict) -> None:
    """The loops' cache stores winners, the fast path's X and Y: both route alike."""
    _, cache_loops = maxpool2d_forward_loops(case["X"], **_pool_args(case))
    _, cache_fast = maxpool2d_forward(case["X"], **_pool_args(case))
    expected = maxpool2d_backward_loops(case["dY"], cache_loops)
    for backward, cache in [
        (maxpool2d_backward, cache_loops),
        (maxpool2d_backward_loops, cache_fast),
    ]:
        # overlapping windows add in another order: equal to rounding
        assert np.max(np.abs(backward(case["dY"], cache) - expected)) < EXACT


@pytest.mark.parametrize(
    ("kernel", "stride"), [(2, None), (3, 2), ((2, 3), (1, 2)), (3, 1)]
)
def test_maxpool_float32_stays_float32_and_routes_like_float64(kernel, stride) -> None:
    rng = np.random.default_rng(5)
    X = rng.integers(0, 3, size=(2, 3, 7, 8)).astype(np.float64)  # many ties
    Y64, cache64 = maxpool2d_forward(X, kernel, stride=stride)
    dY = rng.standard_normal(Y64.shape)
    Y32, cache32 = maxpool2d_forward(X.astype(np.float32), kernel, stride=stride)
    dX32 = maxpool2d_backward(dY.astype(np.float32), cache32)
    assert Y32.dtype == dX32.dtype == np.float32
    np.testing.assert_array_equal(Y32, Y64)  # small integers: exact in float32
    # the same routes; only float32's rounding of the sums where windows overlap
    dY32 = dY.astype(np.float32)
    expected = maxpool2d_backward(dY32.astype(np.float64), cache64)
    windows_per_pixel = np.prod(np.broadcast_to(kernel, 2))
    bound = windows_per_pixel * np.finfo(np.float32).eps * np.abs(dY32).max()
    np.testing.assert_allclose(dX32, expected, rtol=0, atol=bound)


@given(case=pool_cases(ties=True))
def test_maxpool_backward_sends_each_gradient_exactly_once(case: dict) -> None:
    _, cache = maxpool2d_forward(case["X"], **_pool_args(case))
    dX = maxpool2d_backward(case["dY"], cache)
    totals = dX.sum(axis=(2, 3)) - case["dY"].sum(axis=(2, 3))
    assert np.max(np.abs(totals)) < 1e-12


def test_maxpool_backward_routes_ties_to_first_max() -> None:
    X = np.array([[[[1.0, 3.0], [3.0, 3.0]]]])  # three maxima in one window
    _, cache = maxpool2d_forward(X, 2)
    dX = maxpool2d_backward([[[[1.0]]]], cache)
    np.testing.assert_array_equal(dX[0, 0], [[0, 1], [0, 0]])  # row-major first


def test_maxpool_backward_accumulates_overlapping_windows() -> None:
    X = np.zeros((1, 1, 3, 4))
    X[0, 0, 1, 1] = 5.0  # wins windows (0, 0), (0, 1), (1, 0), (1, 1)
    _, cache = maxpool2d_forward(X, 2, stride=1)
    dX = maxpool2d_backward(np.full((1, 1, 2, 3), 2.0), cache)
    assert dX[0, 0, 1, 1] == 8.0
    assert dX.sum() == 2.0 * 6


def test_maxpool_ignores_rows_the_stride_does_not_reach() -> None:
    X = np.zeros((1, 1, 5, 5))
    X[0, 0, 4, :] = 100.0  # the last row; 2 x 2 windows with stride 2 stop at row 3
    Y, cache = maxpool2d_forward(X, 2)
    assert Y.shape == (1, 1, 2, 2)
    assert np.all(Y == 0)
    assert np.all(maxpool2d_backward(np.ones((1, 1, 2, 2)), cache)[0, 0, 4] == 0)


# --- average pooling -------------------------------------------------------


@given(case=pool_cases())
def test_avgpool_gradient_matches_finite_differences(case: dict) -> None:
    def L(X: np.ndarray) -> float:
        return float(np.sum(case["dY"] * avgpool2d_forward(X, **_pool_args(case))[0]))

    _, cache = avgpool2d_forward(case["X"], **_pool_args(case))
    dX = avgpool2d_backward(case["dY"], cache)
    assert gradients_match(dX, numerical_gradient(L, case["X"]))


@given(case=pool_cases())
def test_avgpool_loops_match_vectorised(case: dict) -> None:
    Y_loops, cache = avgpool2d_forward_loops(case["X"], **_pool_args(case))
    Y_fast, _ = avgpool2d_forward(case["X"], **_pool_args(case))
    assert np.max(np.abs(Y_loops - Y_fast)) < EXACT
    dX_loops = avgpool2d_backward_loops(case["dY"], cache)
    dX_fast = avgpool2d_backward(case["dY"], cache)
    assert np.max(np.abs(dX_loops - dX_fast)) < EXACT


# --- flatten ----------------------------------------------------------------


def test_flatten_round_trip_is_the_identity() -> None:
    X = np.arange(2 * 3 * 2 * 2.0).reshape(2, 3, 2, 2)
    Z, shape = flatten_forward(X)
    np.testing.assert_array_equal(Z[1], X[1].ravel())
    np.testing.assert_array_equal(flatten_backward(Z, shape), X)


# --- bad inputs -------------------------------------------------------------

POOL_FORWARDS = [
    maxpool2d_forward,
    maxpool2d_forward_loops,
    avgpool2d_forward,
    avgpool2d_forward_loops,
]
POOL_BACKWARDS = [
    (maxpool2d_forward, maxpool2d_backward),
    (maxpool2d_forward, maxpool2d_backward_loops),
    (avgpool2d_forward, avgpool2d_backward),
    (avgpool2d_forward, avgpool2d_backward_loops),
]


@pytest.mark.parametrize("forward", POOL_FORWARDS)
@pytest.mark.parametrize(
    ("X", "kwargs", "message"),
    [
        (np.zeros((1, 1, 4, 4)), {"kernel": 0}, "kernel must be >= 1"),
        (np.zeros((1, 1, 4, 4)), {"kernel": 2, "stride": 0}, "stride must be >= 1"),
        (np.zeros((1, 1, 4, 4)), {"kernel": 2.0}, "kernel must be an int or a pair"),
        (np.zeros((1, 1, 4, 4)), {"kernel": (5, 2)}, r"\(5, 2\) is larger than"),
        (np.zeros((4, 4)), {"kernel": 2}, r"X has shape \(4, 4\); expected"),
        (np.full((1, 1, 2, 2), np.nan), {"kernel": 2}, "X .* non-finite"),
    ],
)
def test_pool_forward_rejects_bad_inputs(forward, X, kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        forward(X, **kwargs)


@pytest.mark.parametrize(("forward", "backward"), POOL_BACKWARDS)
@pytest.mark.parametrize(
    ("dY", "message"),
    [
        (np.zeros((1, 2, 2, 3)), r"dY has shape \(1, 2, 2, 3\).*OW = 2"),
        (np.zeros((1, 3, 2, 2)), r"dY has shape \(1, 3, 2, 2\).*C = 2"),
        (np.zeros((1, 2, 2)), r"dY has shape \(1, 2, 2\); expected"),
    ],
)
def test_pool_backward_rejects_bad_upstream_gradient(
    forward, backward, dY, message
) -> None:
    _, cache = forward(np.zeros((1, 2, 4, 5)), 2)
    with pytest.raises(ValueError, match=message):
        backward(dY, cache)


@pytest.mark.parametrize("backward", [maxpool2d_backward, maxpool2d_backward_loops])
def test_maxpool_backward_rejects_an_average_pool_cache(backward) -> None:
    _, cache = avgpool2d_forward(np.zeros((1, 1, 2, 2)), 2)
    with pytest.raises(ValueError, match="cache has no argmax"):
        backward(np.zeros((1, 1, 1, 1)), cache)


def test_flatten_rejects_bad_inputs() -> None:
    with pytest.raises(ValueError, match=r"X has shape \(2, 3\); expected"):
        flatten_forward(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"dZ has shape \(2, 5\).*CHW = 4"):
        flatten_backward(np.zeros((2, 5)), (2, 1, 2, 2))
