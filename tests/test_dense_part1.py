"""Part 1's single-sample dense-layer Jacobians against finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import normal_arrays, sizes

from cnnscratch.dense import (
    affine,
    flatten_weight_jacobian,
    jacobian_a_wrt_b,
    jacobian_a_wrt_W,
    jacobian_a_wrt_z,
    jacobian_z_wrt_b,
    jacobian_z_wrt_W,
    layer_output,
)
from cnnscratch.gradcheck import gradients_match, numerical_jacobian


@st.composite
def layers(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n_out, n_in = draw(sizes), draw(sizes)
    W = draw(normal_arrays((n_out, n_in))) / 4  # keep σ away from saturation
    return W, draw(normal_arrays((n_in,))) / 4, draw(normal_arrays((n_out,))) / 4


@given(layers())
def test_dz_db_is_identity(layer) -> None:
    W, x, b = layer
    numeric = numerical_jacobian(lambda v: affine(W, x, v), b)
    assert gradients_match(jacobian_z_wrt_b(len(b)), numeric)


@given(layers())
def test_dz_dW_tensor_matches_finite_differences(layer) -> None:
    W, x, b = layer
    numeric = numerical_jacobian(lambda V: affine(V, x, b), W)
    T = jacobian_z_wrt_W(x, W.shape[0])
    assert gradients_match(T, numeric.reshape(T.shape))


@given(layers())
def test_flattened_dz_dW_is_x_transpose_kron_identity(layer) -> None:
    W, x, _ = layer
    flat = flatten_weight_jacobian(jacobian_z_wrt_W(x, W.shape[0]))
    assert np.array_equal(flat, np.kron(x[None, :], np.eye(W.shape[0])))


@given(layers())
def test_da_dz_is_diagonal_sigma_prime(layer) -> None:
    W, x, b = layer
    z = affine(W, x, b)
    numeric = numerical_jacobian(lambda v: 1 / (1 + np.exp(-v)), z)
    assert gradients_match(jacobian_a_wrt_z(W, x, b), numeric)


@given(layers())
def test_da_dW_matches_finite_differences_under_vec(layer) -> None:
    W, x, b = layer
    numeric = numerical_jacobian(lambda V: layer_output(V, x, b), W, order="F")
    assert gradients_match(jacobian_a_wrt_W(W, x, b), numeric)


@given(layers())
def test_da_db_matches_finite_differences(layer) -> None:
    W, x, b = layer
    numeric = numerical_jacobian(lambda v: layer_output(W, x, v), b)
    assert gradients_match(jacobian_a_wrt_b(W, x, b), numeric)


def test_known_small_case() -> None:
    # W = 0, b = 0: z = 0, σ'(0) = 1/4, so ∂a/∂vec(W) = x^T ⊗ I/4.
    J = jacobian_a_wrt_W(np.zeros((2, 3)), [1.0, 2.0, 3.0], np.zeros(2))
    assert np.array_equal(J, np.kron([[1.0, 2.0, 3.0]], np.eye(2) / 4))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: affine(np.ones((3, 2)), np.ones(4), np.ones(3)),
            r"x has shape \(4,\); expected \(n_in,\) with n_in = 2 to match W",
        ),
        (
            lambda: affine(np.ones((3, 2)), np.ones(2), np.ones(2)),
            r"b has shape \(2,\); expected \(n_out,\) with n_out = 3 to match W",
        ),
        (
            lambda: layer_output(np.ones(3), np.ones(2), np.ones(3)),
            r"W has shape \(3,\); expected \(n_out, n_in\)",
        ),
        (
            lambda: jacobian_a_wrt_W(np.ones((1, 1)), [np.inf], [0.0]),
            r"x \(shape \(1,\)\) has a non-finite entry inf",
        ),
        (lambda: jacobian_z_wrt_W(np.ones(2), 0), "n_out must be an integer >= 1"),
        (lambda: jacobian_z_wrt_b(2.5), "n_out must be an integer >= 1"),
        (
            lambda: flatten_weight_jacobian(np.ones((2, 2))),
            r"T has shape \(2, 2\); expected \(m, n_out, n_in\)",
        ),
    ],
)
def test_bad_input_is_rejected_with_a_clear_message(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()
