"""Activation functions and their derivatives.

Element-wise activations act on each entry separately, so their Jacobian is
diagonal: ∂a/∂z = diag(σ′(z)) (Part 1, eq. (1.12)).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ._validate import FloatArray, check_array


def _any_shape(name: str, z: ArrayLike) -> FloatArray:
    array = np.asarray(z)
    return check_array(name, array, tuple(f"d{i}" for i in range(array.ndim)))


def sigmoid(z: ArrayLike) -> FloatArray:
    """Logistic sigmoid σ(z) = 1 / (1 + e^(−z)), element-wise, any shape.

    Evaluated as e^z / (1 + e^z) for negative entries so that neither form
    ever computes the exponential of a large positive number.

    Examples
    --------
    >>> sigmoid([-1000.0, 0.0, 1000.0])
    array([0. , 0.5, 1. ])
    """
    z_ = _any_shape("z", z)
    e = np.exp(-np.abs(z_))
    return np.where(z_ >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_derivative(z: ArrayLike) -> FloatArray:
    """σ′(z) = σ(z)(1 − σ(z)), element-wise, same shape as ``z``.

    Examples
    --------
    >>> sigmoid_derivative([0.0])
    array([0.25])
    """
    s = sigmoid(z)
    return s * (1 - s)
