"""Activations and their derivatives against finite differences (Part 2)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import batch_cases, classification_cases, normal_arrays, sizes

from cnnscratch.activations import (
    relu,
    relu_derivative,
    sigmoid,
    sigmoid_derivative,
    sigmoid_derivative_from_output,
    softmax,
    softmax_backward,
    softmax_jacobian,
    tanh,
    tanh_derivative,
    tanh_derivative_from_output,
)
from cnnscratch.gradcheck import gradients_match, numerical_gradient, numerical_jacobian

ELEMENTWISE = [
    (sigmoid, sigmoid_derivative),
    (tanh, tanh_derivative),
    (relu, relu_derivative),
]


@pytest.mark.parametrize(("f", "df"), ELEMENTWISE, ids=["sigmoid", "tanh", "relu"])
@given(case=batch_cases())
def test_elementwise_jacobian_is_the_diagonal_of_the_derivative(f, df, case) -> None:
    Z = case["Z"]
    Z = Z + np.sign(Z) * 1e-3  # keep ReLU's kink at 0 out of the difference quotient
    # a batch (N, K) flattened row-major: entry (n, k) depends on itself only
    assert gradients_match(np.diag(df(Z).ravel()), numerical_jacobian(f, Z))


@pytest.mark.parametrize(
    ("f", "df_from_output"),
    [(sigmoid, sigmoid_derivative_from_output), (tanh, tanh_derivative_from_output)],
    ids=["sigmoid", "tanh"],
)
@given(case=batch_cases())
def test_derivative_from_the_output_matches_finite_differences(
    f, df_from_output, case
) -> None:
    Z = case["Z"]
    assert gradients_match(
        np.diag(df_from_output(f(Z)).ravel()), numerical_jacobian(f, Z)
    )


def test_relu_derivative_at_zero_is_zero_like_every_framework() -> None:
    assert relu_derivative([0.0]).tolist() == [0.0]


def test_tanh_is_bounded_for_huge_inputs() -> None:
    assert tanh([-1e4, 1e4]).tolist() == [-1.0, 1.0]


@given(case=classification_cases())
def test_softmax_rows_are_probabilities(case) -> None:
    S = softmax(case["Z"])
    assert np.all(S > 0)
    np.testing.assert_allclose(S.sum(axis=1), 1.0, rtol=1e-12)


def test_softmax_is_unchanged_by_adding_a_constant_to_a_row() -> None:
    z = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(softmax(z + 1000.0), softmax(z), rtol=1e-12)


def test_softmax_is_finite_for_logits_of_magnitude_1e4() -> None:
    S = softmax(np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]]))
    assert np.all(np.isfinite(S))
    np.testing.assert_allclose(S, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]], atol=1e-15)


@given(z=st.integers(1, 6).flatmap(lambda K: normal_arrays((K,))))
def test_softmax_jacobian_matches_finite_differences(z) -> None:
    assert gradients_match(softmax_jacobian(z), numerical_jacobian(softmax, z))


@given(z=normal_arrays((4,)))
def test_softmax_jacobian_is_symmetric_with_rows_summing_to_zero(z) -> None:
    J = softmax_jacobian(z)
    np.testing.assert_allclose(J, J.T, atol=1e-15)
    np.testing.assert_allclose(J.sum(axis=1), 0.0, atol=1e-15)


@given(case=classification_cases())
def test_softmax_backward_matches_finite_differences(case) -> None:
    Z, dS = case["Z"], case["dS"]
    dZ = softmax_backward(dS, softmax(Z))
    assert gradients_match(dZ, numerical_gradient(lambda z: np.sum(dS * softmax(z)), Z))


@given(case=classification_cases())
def test_softmax_backward_is_the_jacobian_transpose_times_dS_row_by_row(case) -> None:
    Z, dS = case["Z"], case["dS"]
    rows = np.stack([softmax_jacobian(z).T @ ds for z, ds in zip(Z, dS, strict=True)])
    np.testing.assert_allclose(softmax_backward(dS, softmax(Z)), rows, atol=1e-14)


@given(n=sizes)
def test_softmax_keeps_the_shape_of_a_single_row(n) -> None:
    assert softmax(np.zeros(n)).shape == (n,)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: softmax(np.zeros((2, 3, 4))),
            r"Z has shape \(2, 3, 4\); expected \(N, K\)",
        ),
        (lambda: softmax([[np.nan, 1.0]]), "Z .* non-finite"),
        (
            lambda: softmax_jacobian(np.zeros((2, 2))),
            r"z has shape \(2, 2\); expected \(K,\)",
        ),
        (
            lambda: softmax_backward(np.zeros((2, 3)), np.ones((2, 4)) / 4),
            r"dS has shape \(2, 3\); expected \(N, K\) with K = 4 to match S",
        ),
        (lambda: relu(["a"]), "z has dtype"),
        (lambda: tanh([np.inf]), "z .* non-finite"),
        (lambda: tanh_derivative([[np.nan]]), "z .* non-finite"),
        (lambda: relu_derivative(np.array([1 + 1j])), "z has dtype complex"),
        (lambda: sigmoid_derivative_from_output([np.nan]), "s .* non-finite"),
        (lambda: tanh_derivative_from_output(["a"]), "t has dtype"),
    ],
)
def test_bad_inputs_raise_a_value_error_naming_the_argument(call, message) -> None:
    with pytest.raises(ValueError, match=message):
        call()
