"""The batch dense layer (Part 2): forward, backward and its Jacobian form."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from strategies import dense_cases

from cnnscratch.dense import (
    affine,
    dense_backward,
    dense_forward,
    flatten_weight_jacobian,
    jacobian_z_wrt_W,
)
from cnnscratch.gradcheck import gradients_match, numerical_gradient


@given(case=dense_cases())
def test_dense_forward_applies_the_single_sample_affine_map_to_every_row(case) -> None:
    Z, _ = dense_forward(case["X"], case["W"], case["b"])
    rows = [affine(case["W"], x, case["b"]) for x in case["X"]]
    np.testing.assert_allclose(Z, np.array(rows), rtol=1e-12, atol=1e-12)


@given(case=dense_cases())
def test_dense_backward_matches_finite_differences(case) -> None:
    X, W, b, dZ = case["X"], case["W"], case["b"], case["dZ"]
    dX, dW, db = dense_backward(dZ, dense_forward(X, W, b)[1])

    def loss(X_: np.ndarray, W_: np.ndarray, b_: np.ndarray) -> float:
        # L = Σ dZ ⊙ Z has ∂L/∂Z = dZ, so its gradients are what backward returns
        return float(np.sum(dZ * dense_forward(X_, W_, b_)[0]))

    assert gradients_match(dX, numerical_gradient(lambda v: loss(v, W, b), X))
    assert gradients_match(dW, numerical_gradient(lambda v: loss(X, v, b), W))
    assert gradients_match(db, numerical_gradient(lambda v: loss(X, W, v), b))


@given(case=dense_cases())
def test_weight_gradient_is_a_sum_of_outer_products_over_the_batch(case) -> None:
    X, dZ = case["X"], case["dZ"]
    _, dW, _ = dense_backward(dZ, dense_forward(X, case["W"], case["b"])[1])
    outer = sum(np.outer(d, x) for d, x in zip(dZ, X, strict=True))
    np.testing.assert_allclose(dW, outer, rtol=1e-12, atol=1e-12)


@given(case=dense_cases())
def test_vjp_equals_the_kronecker_jacobian_product_for_every_sample(case) -> None:
    X, W, b, dZ = case["X"], case["W"], case["b"], case["dZ"]
    n_out = W.shape[0]
    for x, dz in zip(X, dZ, strict=True):
        _, dW, _ = dense_backward(dz[None, :], dense_forward(x[None, :], W, b)[1])
        J = flatten_weight_jacobian(jacobian_z_wrt_W(x, n_out))  # xᵀ ⊗ I, vec order
        np.testing.assert_allclose(dW.ravel(order="F"), J.T @ dz, atol=1e-12)


def test_dense_backward_of_a_hand_worked_case() -> None:
    X = np.array([[1.0, 2.0], [3.0, 4.0]])
    W = np.array([[1.0, -1.0]])
    dX, dW, db = dense_backward(np.array([[1.0], [2.0]]), dense_forward(X, W, [0])[1])
    np.testing.assert_array_equal(dX, [[1.0, -1.0], [2.0, -2.0]])
    np.testing.assert_array_equal(dW, [[7.0, 10.0]])
    np.testing.assert_array_equal(db, [3.0])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: dense_forward(np.zeros((2, 4)), np.zeros((3, 5)), np.zeros(3)),
            r"X has shape \(2, 4\); expected \(N, n_in\) with n_in = 5 to match W",
        ),
        (
            lambda: dense_forward(np.zeros((2, 5)), np.zeros((3, 5)), np.zeros(4)),
            r"b has shape \(4,\); expected \(n_out,\) with n_out = 3 to match W",
        ),
        (
            lambda: dense_forward(np.zeros(5), np.zeros((3, 5)), np.zeros(3)),
            r"X has shape \(5,\); expected \(N, n_in\)",
        ),
        (
            lambda: dense_forward(np.zeros((1, 2)), [[np.nan, 0.0]], [0.0]),
            "W .* non-finite",
        ),
        (
            lambda: dense_backward(
                np.zeros((2, 4)),
                dense_forward(np.zeros((2, 5)), np.zeros((3, 5)), np.zeros(3))[1],
            ),
            r"dZ has shape \(2, 4\); expected \(N, n_out\) with n_out = 3 to match W",
        ),
        (
            lambda: dense_backward(
                np.zeros((1, 3)),
                dense_forward(np.zeros((2, 5)), np.zeros((3, 5)), np.zeros(3))[1],
            ),
            r"dZ has shape \(1, 3\); expected \(N, n_out\) with N = 2 to match X",
        ),
    ],
)
def test_bad_inputs_raise_a_value_error_naming_the_argument(call, message) -> None:
    with pytest.raises(ValueError, match=message):
        call()
