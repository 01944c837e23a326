"""Tests of global average pooling (cnnscratch.pooling, Part 5)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnscratch.gradcheck import gradients_match, numerical_gradient
from cnnscratch.pooling import (
    avgpool2d_forward,
    global_avgpool2d_backward,
    global_avgpool2d_forward,
)

shapes = st.tuples(*(st.integers(1, 4) for _ in range(4)))


@given(shape=shapes, seed=st.integers(0, 2**32 - 1))
@settings(max_examples=20)
def test_backward_matches_finite_differences(shape, seed) -> None:
    rng = np.random.default_rng(seed)
    X, dY = rng.normal(size=shape), rng.normal(size=shape[:2])
    _, cache = global_avgpool2d_forward(X)
    dX = global_avgpool2d_backward(dY, cache)
    numeric = numerical_gradient(
        lambda v: np.sum(global_avgpool2d_forward(v)[0] * dY), X
    )
    assert gradients_match(dX, numeric)


@given(shape=shapes, seed=st.integers(0, 2**32 - 1))
@settings(max_examples=20)
def test_forward_is_average_pooling_with_one_window_the_size_of_the_map(
    shape, seed
) -> None:
    X = np.random.default_rng(seed).normal(size=shape)
    Y, _ = global_avgpool2d_forward(X)
    Y_pool, _ = avgpool2d_forward(X, (shape[2], shape[3]))
    np.testing.assert_allclose(Y, Y_pool.reshape(shape[:2]), rtol=1e-12)


def test_backward_spreads_each_gradient_evenly_over_its_map() -> None:
    dX = global_avgpool2d_backward([[6.0, -12.0]], (1, 2, 2, 3))
    np.testing.assert_array_equal(dX[0, 0], np.full((2, 3), 1.0))
    np.testing.assert_array_equal(dX[0, 1], np.full((2, 3), -2.0))


def test_backward_returns_a_writable_array() -> None:
    dX = global_avgpool2d_backward(np.ones((1, 1)), (1, 1, 2, 2))
    dX[0, 0, 0, 0] = 5.0  # a broadcast view would refuse this
    assert dX[0, 0, 1, 1] == 0.25


def test_bad_shapes_name_the_argument() -> None:
    with pytest.raises(ValueError, match=r"^X has shape \(2, 3\)"):
        global_avgpool2d_forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"^dY has shape \(1, 3\).*C = 2"):
        global_avgpool2d_backward(np.ones((1, 3)), (1, 2, 4, 4))
