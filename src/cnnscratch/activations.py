"""Activation functions and their derivatives.

Element-wise activations (sigmoid, tanh, ReLU) act on each entry separately,
so their Jacobian is diagonal: ∂a/∂z = diag(σ′(z)) (Part 1, eq. (1.12);
Part 2, eq. (2.5)). Softmax mixes the entries of a row, and its Jacobian is
the full matrix diag(s) − s sᵀ (Part 2, eq. (2.9)).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ._validate import FloatArray, as_array, check_any_shape, check_array


def sigmoid(z: ArrayLike) -> FloatArray:
    """Logistic sigmoid σ(z) = 1 / (1 + e^(−z)), element-wise, any shape.

    Evaluated as e^z / (1 + e^z) for negative entries so that neither form
    ever computes the exponential of a large positive number.

    Examples
    --------
    >>> sigmoid([-1000.0, 0.0, 1000.0])
    array([0. , 0.5, 1. ])
    """
    return _sigmoid(check_any_shape("z", z))


def _sigmoid(z: FloatArray) -> FloatArray:
    """:func:`sigmoid` of a checked array."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_derivative(z: ArrayLike) -> FloatArray:
    """σ′(z) = σ(z)(1 − σ(z)), element-wise, same shape as ``z``.

    Examples
    --------
    >>> sigmoid_derivative([0.0])
    array([0.25])
    """
    return sigmoid_derivative_from_output(sigmoid(z))


def sigmoid_derivative_from_output(s: ArrayLike) -> FloatArray:
    """σ′ written with the output s = σ(z): s(1 − s), element-wise, any shape.

    A layer that stored its output in the forward pass gets σ′ without
    evaluating σ again.

    Examples
    --------
    >>> sigmoid_derivative_from_output([0.5])
    array([0.25])
    """
    return _sigmoid_derivative_from_output(check_any_shape("s", s))


def _sigmoid_derivative_from_output(s: FloatArray) -> FloatArray:
    """:func:`sigmoid_derivative_from_output` of a checked array."""
    return s * (1 - s)


def tanh(z: ArrayLike) -> FloatArray:
    """Hyperbolic tangent tanh(z), element-wise, any shape.

    Notes
    -----
    Part 2, eq. (2.6).

    Examples
    --------
    >>> tanh([-1000.0, 0.0, 1000.0])
    array([-1.,  0.,  1.])
    """
    return np.tanh(check_any_shape("z", z))


def tanh_derivative(z: ArrayLike) -> FloatArray:
    """tanh′(z) = 1 − tanh(z)², element-wise, same shape as ``z``.

    Notes
    -----
    Part 2, eq. (2.6).

    Examples
    --------
    >>> tanh_derivative([0.0])
    array([1.])
    """
    return tanh_derivative_from_output(tanh(z))


def tanh_derivative_from_output(t: ArrayLike) -> FloatArray:
    """tanh′ written with the output t = tanh(z): 1 − t², element-wise, any shape.

    A layer that stored its output in the forward pass gets tanh′ without
    evaluating tanh again.

    Notes
    -----
    Part 2, eq. (2.6).

    Examples
    --------
    >>> tanh_derivative_from_output([0.0])
    array([1.])
    """
    return _tanh_derivative_from_output(check_any_shape("t", t))


def _tanh_derivative_from_output(t: FloatArray) -> FloatArray:
    """:func:`tanh_derivative_from_output` of a checked array."""
    return 1 - t * t


def relu(z: ArrayLike) -> FloatArray:
    """Rectified linear unit max(z, 0), element-wise, any shape.

    Notes
    -----
    Part 2, eq. (2.7).

    Examples
    --------
    >>> relu([-2.0, 0.0, 3.0])
    array([0., 0., 3.])
    """
    return _relu(check_any_shape("z", z))


def _relu(z: FloatArray) -> FloatArray:
    """:func:`relu` of a checked array."""
    return np.maximum(z, 0)


def relu_derivative(z: ArrayLike) -> FloatArray:
    """ReLU′(z) = 1 where z > 0, else 0, element-wise, same shape as ``z``.

    At z = 0 ReLU has no derivative; like every framework we use 0 there
    (a subgradient). Finite differences must stay away from z = 0.

    Notes
    -----
    Part 2, eq. (2.7).

    Examples
    --------
    >>> relu_derivative([-2.0, 0.0, 3.0])
    array([0., 0., 1.])
    """
    return _relu_derivative(check_any_shape("z", z))


def _relu_derivative(z: FloatArray) -> FloatArray:
    """:func:`relu_derivative` of a checked array."""
    return (z > 0).astype(z.dtype)


def softmax(Z: ArrayLike) -> FloatArray:
    """Softmax along the last axis: s_k = e^(z_k) / Σ_j e^(z_j).

    The row maximum is subtracted before exponentiating; softmax does not
    change when a constant is added to every logit, and this way no
    exponential overflows.

    Parameters
    ----------
    Z : ndarray, shape (K,) or (N, K)
        Logits: one row of K class scores per sample.

    Returns
    -------
    S : ndarray, same shape as Z
        Probabilities; each row is positive and sums to 1.

    Notes
    -----
    Part 2, eq. (2.8).

    Examples
    --------
    >>> softmax([1e4, 1e4, -1e4])
    array([0.5, 0.5, 0. ])
    >>> softmax([1e308, -1e308])
    array([1., 0.])
    """
    Z_ = as_array("Z", Z)
    if Z_.ndim == 1:
        Z_ = check_array("Z", Z_, ("K",))
    else:
        Z_ = check_array("Z", Z_, ("N", "K"))
    with np.errstate(over="ignore"):  # 1e308 - (-1e308) is -inf: e^-inf = 0
        e = np.exp(Z_ - Z_.max(axis=-1, keepdims=True))
    S: FloatArray = e / e.sum(axis=-1, keepdims=True)
    return S


def softmax_jacobian(z: ArrayLike) -> FloatArray:
    """Jacobian of softmax for one sample: ∂s/∂z = diag(s) − s sᵀ.

    Unlike an element-wise activation, every output depends on every input,
    so the Jacobian is full, not diagonal. It is symmetric and each row sums
    to zero (the outputs always sum to 1).

    Parameters
    ----------
    z : ndarray, shape (K,)

    Returns
    -------
    J : ndarray, shape (K, K)
        ``J[i, j]`` = ∂s_i/∂z_j = s_i (δ_ij − s_j).

    Notes
    -----
    Part 2, eq. (2.9).

    Examples
    --------
    >>> softmax_jacobian([0.0, 0.0])
    array([[ 0.25, -0.25],
           [-0.25,  0.25]])
    """
    z_ = check_array("z", z, ("K",))
    s = softmax(z_)
    return np.diag(s) - np.outer(s, s)


def softmax_backward(dS: ArrayLike, S: ArrayLike) -> FloatArray:
    """Vector-Jacobian product through softmax, row by row: dZ = S ⊙ (dS − ⟨dS, S⟩).

    For one row this is (diag(s) − s sᵀ) ds, computed without forming the
    K × K Jacobian (it is symmetric, so Jᵀ ds = J ds).

    Parameters
    ----------
    dS : ndarray, shape (N, K)
        Gradient of the loss with respect to the softmax output.
    S : ndarray, shape (N, K)
        The softmax output from the forward pass.

    Returns
    -------
    dZ : ndarray, shape (N, K)
        Gradient of the loss with respect to the logits.

    Notes
    -----
    Part 2, eq. (2.10).

    Examples
    --------
    >>> softmax_backward([[1.0, 0.0]], [[0.5, 0.5]])
    array([[ 0.25, -0.25]])
    """
    S_ = check_array("S", S, ("N", "K"))
    dS_ = check_array("dS", dS, ("N", "K"), N=(S_.shape[0], "S"), K=(S_.shape[1], "S"))
    dZ: FloatArray = S_ * (dS_ - np.sum(dS_ * S_, axis=1, keepdims=True))
    return dZ
