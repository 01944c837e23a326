"""Part 1's linear-system functions: values, gradients, descent, bad input."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import normal_arrays, sizes

from cnnscratch.gradcheck import gradients_match, numerical_gradient, numerical_jacobian
from cnnscratch.linear_system import (
    gradient_descent,
    objective,
    objective_gradient,
    residual,
    residual_jacobian,
    stability_limit,
)


@st.composite
def systems(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m, n = draw(sizes), draw(sizes)
    return (
        draw(normal_arrays((m, n))),
        draw(normal_arrays((n,))),
        draw(normal_arrays((m,))),
    )


@given(systems())
def test_objective_gradient_matches_finite_differences(system) -> None:
    A, x, b = system
    numeric = numerical_gradient(lambda v: objective(A, v, b), x)
    assert gradients_match(objective_gradient(A, x, b), numeric)


@given(systems())
def test_residual_jacobian_is_A_at_any_point(system) -> None:
    A, x, b = system
    numeric = numerical_jacobian(lambda v: residual(A, v, b), x)
    assert gradients_match(residual_jacobian(A), numeric)


@given(systems())
def test_gradient_is_transpose_of_the_chain_rule_row(system) -> None:
    A, x, b = system
    row = 2 * (A @ x - b)[None, :] @ A  # eq. (1.5), a 1 x n row
    assert np.allclose(objective_gradient(A, x, b), row.ravel())


def test_descent_solves_the_two_by_two_system_exactly_enough() -> None:
    A = np.array([[4.0, 2.0], [3.0, 8.0]])
    b = np.array([22.0, 49.0])
    result = gradient_descent(A, b, [0.0, 0.0], 0.01)
    assert result.converged
    assert not result.diverged
    assert np.allclose(result.x, np.linalg.solve(A, b), atol=1e-10)
    assert result.objectives.shape == (result.steps + 1,)
    assert result.objectives[-1] < 1e-18 < result.objectives[0]


def test_descent_stops_on_the_gradient_not_a_step_count() -> None:
    A = np.array([[4.0, 2.0], [3.0, 8.0]])
    b = np.array([22.0, 49.0])
    loose = gradient_descent(A, b, [0.0, 0.0], 0.01, tol=1e-3)
    tight = gradient_descent(A, b, [0.0, 0.0], 0.01, tol=1e-12)
    assert loose.steps < tight.steps < 100_000
    assert np.linalg.norm(objective_gradient(A, loose.x, b)) <= 1e-3


def test_descent_respects_max_steps() -> None:
    A = np.array([[4.0, 2.0], [3.0, 8.0]])
    result = gradient_descent(A, [22.0, 49.0], [0.0, 0.0], 1e-4, max_steps=10)
    assert result.steps == 10
    assert not result.converged
    assert not result.diverged


def test_descent_does_not_modify_the_starting_point() -> None:
    x0 = np.array([0.5, 0.5])
    gradient_descent([[4.0, 2.0], [3.0, 8.0]], [22.0, 49.0], x0, 0.01)
    assert x0.tolist() == [0.5, 0.5]


def test_stability_limit_of_a_diagonal_system() -> None:
    # H = 2 A^T A = diag(2, 8, 18): the limit is 2 / 18.
    assert stability_limit(np.diag([1.0, 2.0, 3.0])) == pytest.approx(1 / 9)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: residual([[1, 2], [3, 4]], [1, 2, 3], [1, 2]),
            "x has shape (3,); expected (n,) with n = 2 to match A",
        ),
        (
            lambda: residual([[1, 2], [3, 4]], [1, 2], [1, 2, 3]),
            "b has shape (3,); expected (m,) with m = 2 to match A",
        ),
        (lambda: residual([1, 2], [1, 2], [1, 2]), "A has shape (2,); expected (m, n)"),
        (
            lambda: objective([[1, 2], [3, 4]], [1, np.nan], [1, 2]),
            "x (shape (2,)) has a non-finite entry nan at index (1,)",
        ),
        (
            lambda: objective_gradient([[1, np.inf]], [1, 2], [1]),
            "A (shape (1, 2)) has a non-finite entry inf at index (0, 1)",
        ),
        (lambda: residual_jacobian([["a", "b"]]), "A has dtype <U1"),
        (lambda: stability_limit([[[1.0]]]), "A has shape (1, 1, 1); expected (m, n)"),
        (
            lambda: gradient_descent([[1.0]], [1.0], [0.0], -0.1),
            "learning_rate must be a finite number > 0; got -0.1",
        ),
        (
            lambda: gradient_descent([[1.0]], [1.0], [0.0], 0.1, max_steps=0),
            "max_steps must be an integer in [1, 10000000]; got 0",
        ),
        (
            lambda: gradient_descent([[1.0]], [1.0], [0.0, 1.0], 0.1),
            "x0 has shape (2,); expected (n,) with n = 1 to match A",
        ),
    ],
)
def test_bad_input_is_rejected_with_a_clear_message(call, message: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        call()
