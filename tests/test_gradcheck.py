"""The referee itself: finite differences against derivatives known by hand."""

from __future__ import annotations

import numpy as np
import pytest

from cnnscratch.gradcheck import (
    RTOL,
    gradients_match,
    numerical_gradient,
    numerical_jacobian,
    relative_error,
)


def test_jacobian_of_a_nonlinear_map_matches_the_hand_derivative() -> None:
    def f(v: np.ndarray) -> np.ndarray:
        return np.array([v[0] * v[1], np.sin(v[0]), v[1] ** 3])

    x = np.array([0.3, -1.2])
    by_hand = np.array([[x[1], x[0]], [np.cos(x[0]), 0.0], [0.0, 3 * x[1] ** 2]])
    assert relative_error(numerical_jacobian(f, x), by_hand) < 1e-9


def test_jacobian_is_in_numerator_layout() -> None:
    A = np.arange(6.0).reshape(3, 2)  # f: R^2 -> R^3, so J is 3 x 2
    assert numerical_jacobian(lambda v: A @ v, np.ones(2)).shape == (3, 2)


def test_flattening_order_permutes_the_columns() -> None:
    B = np.array([[1.0, 2.0], [3.0, 4.0]])
    x = np.array([[0.5, -1.0], [2.0, 1.5]])

    def f(X: np.ndarray) -> np.ndarray:
        return (B * X).sum(axis=0)

    J_c = numerical_jacobian(f, x, order="C")
    J_f = numerical_jacobian(f, x, order="F")
    # column of X[k, l] is k*2 + l in C order and l*2 + k in F order
    assert np.allclose(J_c[:, [0, 2, 1, 3]], J_f)
    assert not np.allclose(J_c, J_f)


def test_gradient_has_the_shape_of_x() -> None:
    X = np.arange(6.0).reshape(2, 3)
    assert np.allclose(numerical_gradient(lambda V: np.sum(V**2), X), 2 * X)


def test_gradient_rejects_a_vector_valued_function() -> None:
    with pytest.raises(ValueError, match=r"f\(x\) has shape \(2,\); expected a scalar"):
        numerical_gradient(lambda v: v, np.ones(2))


def test_input_is_not_modified() -> None:
    x = np.array([1.0, 2.0])
    numerical_gradient(lambda v: np.sum(v**2), x)
    assert x.tolist() == [1.0, 2.0]


def test_relative_error_is_scale_free_and_zero_for_zeros() -> None:
    assert relative_error([1e-8, 0.0], [1.1e-8, 0.0]) == pytest.approx(
        relative_error([1e8, 0.0], [1.1e8, 0.0])
    )
    assert relative_error([0.0, 0.0], [0.0, 0.0]) == 0.0


def test_gradients_match_detects_a_wrong_factor_of_two() -> None:
    x = np.array([0.7, -0.2, 1.9])
    numeric = numerical_gradient(lambda v: np.sum(v**2), x)
    assert gradients_match(2 * x, numeric)
    assert not gradients_match(x, numeric)
    assert not gradients_match(2 * x * (1 + 10 * RTOL), numeric)


def test_float32_differences_are_too_noisy_to_check_anything() -> None:
    x = np.array([0.7, -0.2, 1.9], dtype=np.float32)

    def f32(v: np.ndarray) -> np.ndarray:
        return np.sum(v.astype(np.float32) ** 2, dtype=np.float32)

    noisy = numerical_gradient(f32, x)  # evaluated in float32 inside f
    assert relative_error(2 * x.astype(np.float64), noisy) > 1e3 * RTOL


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="non-finite"):
        numerical_jacobian(lambda v: v, np.array([np.nan]))
    with pytest.raises(ValueError, match="h must be a finite number > 0; got 0"):
        numerical_jacobian(lambda v: v, np.ones(1), h=0)
    with pytest.raises(ValueError, match=r"a has shape \(2,\); expected \(3,\) as b"):
        relative_error(np.ones(2), np.ones(3))
