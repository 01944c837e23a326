"""Losses: gradients, the stable log-sum-exp form, fused vs composed (Part 2)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from strategies import batch_cases, classification_cases

from cnnscratch.activations import softmax, softmax_backward, softmax_jacobian
from cnnscratch.gradcheck import gradients_match, numerical_gradient
from cnnscratch.losses import (
    cross_entropy,
    cross_entropy_gradient,
    log_softmax,
    mse,
    mse_gradient,
    softmax_cross_entropy,
    softmax_cross_entropy_gradient,
)


def test_mse_of_a_hand_worked_case() -> None:
    # errors 1, -2, 0, 3 over N K = 4 entries: (1 + 4 + 0 + 9) / 4
    assert mse([[2.0, 0.0], [1.0, 4.0]], [[1.0, 2.0], [1.0, 1.0]]) == 3.5


@given(case=batch_cases())
def test_mse_gradient_matches_finite_differences(case) -> None:
    Y_hat, Y = case["Z"], case["dZ"]  # two independent (N, K) arrays, N = 1 or more
    numeric = numerical_gradient(lambda p: mse(p, Y), Y_hat)
    assert gradients_match(mse_gradient(Y_hat, Y), numeric)


@given(case=classification_cases())
def test_softmax_cross_entropy_gradient_matches_finite_differences(case) -> None:
    Z, Y = case["Z"], case["Y"]
    numeric = numerical_gradient(lambda z: softmax_cross_entropy(z, Y), Z)
    assert gradients_match(softmax_cross_entropy_gradient(Z, Y), numeric)


@given(case=classification_cases())
def test_cross_entropy_gradient_matches_finite_differences(case) -> None:
    P, Y = softmax(case["Z"]), case["Y"]
    # -log p has third derivative -2/p^3, so a fixed step's truncation error
    # grows like (h/p)^2: scale the step with the smallest probability.
    h = 1e-4 * P.min()
    numeric = numerical_gradient(lambda p: cross_entropy(p, Y), P, h=h)
    assert gradients_match(cross_entropy_gradient(P, Y), numeric)


@given(case=classification_cases())
def test_fused_gradient_equals_softmax_jacobian_times_cross_entropy_gradient(
    case,
) -> None:
    Z, Y = case["Z"], case["Y"]
    P = softmax(Z)
    composed = softmax_backward(cross_entropy_gradient(P, Y), P)
    np.testing.assert_allclose(
        softmax_cross_entropy_gradient(Z, Y), composed, rtol=1e-10, atol=1e-14
    )


def test_fused_gradient_equals_the_explicit_jacobian_product_for_one_sample() -> None:
    z, y = np.array([0.3, -1.2, 2.0]), np.array([0.0, 1.0, 0.0])
    composed = softmax_jacobian(z).T @ cross_entropy_gradient([softmax(z)], [y])[0]
    fused = softmax_cross_entropy_gradient([z], [y])[0]
    np.testing.assert_allclose(fused, composed, rtol=1e-12)


@given(case=classification_cases())
def test_softmax_cross_entropy_equals_cross_entropy_of_the_softmax(case) -> None:
    Z, Y = case["Z"], case["Y"]
    assert softmax_cross_entropy(Z, Y) == pytest.approx(cross_entropy(softmax(Z), Y))


@given(case=classification_cases())
def test_fused_gradient_rows_sum_to_zero(case) -> None:
    dZ = softmax_cross_entropy_gradient(case["Z"], case["Y"])
    np.testing.assert_allclose(dZ.sum(axis=1), 0.0, atol=1e-15)


def test_softmax_cross_entropy_is_stable_for_logits_of_magnitude_1e4() -> None:
    Z = np.array([[1e4, 0.0, -1e4], [-1e4, -1e4, 1e4]])
    Y = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    loss = softmax_cross_entropy(Z, Y)
    dZ = softmax_cross_entropy_gradient(Z, Y)
    assert np.isfinite(loss)
    assert np.all(np.isfinite(dZ))
    assert np.all(np.isfinite(log_softmax(Z)))
    # sample 1 scores its true class 1e4 below the best: loss 1e4; sample 2 is right
    assert loss == pytest.approx(1e4 / 2)
    np.testing.assert_allclose(dZ, [[0.5, -0.5, 0.0], [0.0, 0.0, 0.0]], atol=1e-15)


def test_the_naive_formula_overflows_where_log_sum_exp_does_not() -> None:
    Z = np.array([[1e4, 0.0]])
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        naive = np.log(np.exp(Z) / np.exp(Z).sum())
    assert not np.all(np.isfinite(naive))
    np.testing.assert_allclose(log_softmax(Z), [[0.0, -1e4]])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: mse(np.zeros((2, 3)), np.zeros((2, 4))),
            r"Y has shape \(2, 4\); expected \(N, K\) with K = 3 to match Y_hat",
        ),
        (lambda: mse_gradient(np.zeros(3), np.zeros(3)), r"Y_hat has shape \(3,\)"),
        (
            lambda: softmax_cross_entropy(np.zeros((2, 3)), np.zeros((1, 3))),
            r"Y has shape \(1, 3\); expected \(N, K\) with N = 2 to match Z",
        ),
        (
            lambda: softmax_cross_entropy_gradient(np.zeros((2, 3)), np.zeros((2, 2))),
            r"Y has shape \(2, 2\); expected \(N, K\) with K = 3 to match Z",
        ),
        (lambda: softmax_cross_entropy([[np.inf, 0.0]], [[1.0, 0.0]]), "non-finite"),
        (lambda: log_softmax(np.zeros(3)), r"Z has shape \(3,\); expected \(N, K\)"),
        (lambda: cross_entropy([[0.0, 1.0]], [[1.0, 0.0]]), "P has entries <= 0"),
        (lambda: cross_entropy_gradient([[1.0, 0.0]], [[1.0, 0.0]]), "P has entries"),
        (
            lambda: cross_entropy(np.ones((2, 2)) / 2, np.ones((3, 2))),
            r"Y has shape \(3, 2\)",
        ),
    ],
)
def test_bad_inputs_raise_a_value_error_naming_the_argument(call, message) -> None:
    with pytest.raises(ValueError, match=message):
        call()
