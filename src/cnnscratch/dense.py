"""The dense layer z = W x + b, a = σ(z), and its derivatives (Part 1).

Convention (used on every page): ``W[i, j]`` is the weight from input j to
output i, so ``W`` has shape ``(n_out, n_in)`` and z_i = Σ_j W[i, j] x_j + b_i.

Part 1 works with one sample and writes out whole Jacobians, including the
third-order tensor ∂z/∂W, to show where the familiar formulas come from.
Part 2 adds the batch form (:func:`dense_forward`, :func:`dense_backward`),
which never forms those Jacobians.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from ._validate import (
    FloatArray,
    check_array,
    check_cache,
    check_entries,
    check_positive_int,
)
from .activations import sigmoid, sigmoid_derivative


def _layer(
    W: ArrayLike, x: ArrayLike, b: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    W_ = check_array("W", W, ("n_out", "n_in"))
    x_ = check_array("x", x, ("n_in",), n_in=(W_.shape[1], "W"))
    b_ = check_array("b", b, ("n_out",), n_out=(W_.shape[0], "W"))
    return W_, x_, b_


def affine(W: ArrayLike, x: ArrayLike, b: ArrayLike) -> FloatArray:
    """Pre-activation z = W x + b for one sample (Part 1, eq. (1.9)).

    Parameters
    ----------
    W : ndarray, shape (n_out, n_in)
    x : ndarray, shape (n_in,)
    b : ndarray, shape (n_out,)

    Returns
    -------
    z : ndarray, shape (n_out,)

    Examples
    --------
    >>> affine([[1, 2], [3, 4], [5, 6]], [1, 1], [10, 20, 30])
    array([13., 27., 41.])
    """
    W_, x_, b_ = _layer(W, x, b)
    return W_ @ x_ + b_


def layer_output(W: ArrayLike, x: ArrayLike, b: ArrayLike) -> FloatArray:
    """Activation a = σ(W x + b) with the logistic sigmoid (eq. (1.10)).

    Returns
    -------
    a : ndarray, shape (n_out,)

    Examples
    --------
    >>> layer_output([[1, -1]], [2, 2], [0])
    array([0.5])
    """
    return sigmoid(affine(W, x, b))


def jacobian_z_wrt_b(n_out: int) -> FloatArray:
    """∂z/∂b = I, shape (n_out, n_out) (eq. (1.11)).

    Examples
    --------
    >>> jacobian_z_wrt_b(2)
    array([[1., 0.],
           [0., 1.]])
    """
    n_out = check_positive_int("n_out", n_out)
    check_entries("n_out", (n_out, n_out))
    return np.eye(n_out)


def jacobian_z_wrt_W(x: ArrayLike, n_out: int) -> FloatArray:
    """The third-order tensor ∂z/∂W, shape (n_out, n_out, n_in) (eq. (1.14)).

    Entry ``[i, k, l]`` is ∂z_i/∂W[k, l] = δ_ik x_l: output i depends only on
    row i of W, through the input x.

    Parameters
    ----------
    x : ndarray, shape (n_in,)
    n_out : int

    Returns
    -------
    T : ndarray, shape (n_out, n_out, n_in)

    Examples
    --------
    >>> T = jacobian_z_wrt_W([1, 2], 2)
    >>> T[0]
    array([[1., 2.],
           [0., 0.]])
    """
    x_ = check_array("x", x, ("n_in",))
    n_out = check_positive_int("n_out", n_out)
    check_entries("n_out", (n_out, n_out, x_.size))
    eye = np.eye(n_out)
    return eye[:, :, None] * x_[None, None, :]


def flatten_weight_jacobian(T: ArrayLike) -> FloatArray:
    """Flatten ∂(·)/∂W from (m, n_out, n_in) to (m, n_out·n_in) using vec(W).

    vec stacks the columns of W (column-major, Fortran order): W[k, l] lands
    in column ``l * n_out + k``. This is the flattening under which
    ∂z/∂W = xᵀ ⊗ I (eq. (1.15)).

    Parameters
    ----------
    T : ndarray, shape (m, n_out, n_in)

    Returns
    -------
    J : ndarray, shape (m, n_out * n_in)

    Examples
    --------
    >>> flatten_weight_jacobian(jacobian_z_wrt_W([1, 2], 2))
    array([[1., 0., 2., 0.],
           [0., 1., 0., 2.]])
    """
    T_ = check_array("T", T, ("m", "n_out", "n_in"))
    return T_.reshape(T_.shape[0], -1, order="F")


def jacobian_a_wrt_z(W: ArrayLike, x: ArrayLike, b: ArrayLike) -> FloatArray:
    """∂a/∂z = diag(σ′(W x + b)), shape (n_out, n_out) (eq. (1.12))."""
    z = affine(W, x, b)
    check_entries("W", (z.size, z.size))
    return np.diag(sigmoid_derivative(z))


def jacobian_a_wrt_W(W: ArrayLike, x: ArrayLike, b: ArrayLike) -> FloatArray:
    """∂a/∂W = xᵀ ⊗ diag(σ′(W x + b)), shape (n_out, n_out·n_in) (eq. (1.16)).

    The chain rule in numerator layout, ∂a/∂z · ∂z/∂W, with W flattened by
    vec (column-major, see :func:`flatten_weight_jacobian`).

    Parameters
    ----------
    W : ndarray, shape (n_out, n_in)
    x : ndarray, shape (n_in,)
    b : ndarray, shape (n_out,)

    Returns
    -------
    J : ndarray, shape (n_out, n_out * n_in)

    Examples
    --------
    >>> jacobian_a_wrt_W([[0, 0]], [1, 2], [0])
    array([[0.25, 0.5 ]])
    """
    W_, x_, b_ = _layer(W, x, b)
    check_entries("W", (W_.shape[0], W_.size))
    return np.kron(x_[None, :], jacobian_a_wrt_z(W_, x_, b_))


def jacobian_a_wrt_b(W: ArrayLike, x: ArrayLike, b: ArrayLike) -> FloatArray:
    """∂a/∂b = diag(σ′(W x + b)) · I, shape (n_out, n_out) (eq. (1.13)).

    Examples
    --------
    >>> jacobian_a_wrt_b([[0, 0], [0, 0]], [1, 2], [0, 0])
    array([[0.25, 0.  ],
           [0.  , 0.25]])
    """
    return jacobian_a_wrt_z(W, x, b)


# --- Part 2: the batch form ------------------------------------------------
#
# N samples are the rows of X, so z_n = W x_n + b for every row becomes
# Z = X Wᵀ + 1 bᵀ. Backward functions take the gradient of a scalar loss with
# respect to the output (same shape as the output) and return the gradients
# with respect to every input (same shapes as those inputs).


class DenseCache(NamedTuple):
    """What :func:`dense_backward` needs from the forward pass."""

    X: FloatArray
    W: FloatArray


def dense_forward(
    X: ArrayLike, W: ArrayLike, b: ArrayLike
) -> tuple[FloatArray, DenseCache]:
    """Affine map of a batch, Z = X Wᵀ + b (b added to every row).

    Parameters
    ----------
    X : ndarray, shape (N, n_in)
        One sample per row.
    W : ndarray, shape (n_out, n_in)
        ``W[i, j]`` is the weight from input j to output i.
    b : ndarray, shape (n_out,)

    Returns
    -------
    Z : ndarray, shape (N, n_out)
        Row n is W x_n + b.
    cache : DenseCache
        ``(X, W)``, what :func:`dense_backward` needs.

    Notes
    -----
    Part 2, eq. (2.1).

    Examples
    --------
    >>> X = [[1, 1], [1, 0]]
    >>> Z, cache = dense_forward(X, [[1, 2], [3, 4], [5, 6]], [10, 20, 30])
    >>> Z
    array([[13., 27., 41.],
           [11., 23., 35.]])
    """
    W_ = check_array("W", W, ("n_out", "n_in"))
    X_ = check_array("X", X, ("N", "n_in"), n_in=(W_.shape[1], "W"))
    b_ = check_array("b", b, ("n_out",), n_out=(W_.shape[0], "W"))
    return _dense_forward(X_, W_, b_)


def _dense_forward(
    X: FloatArray, W: FloatArray, b: FloatArray
) -> tuple[FloatArray, DenseCache]:
    """Eq. (2.1) on checked arrays: what :func:`dense_forward` and training share."""
    return X @ W.T + b, DenseCache(X, W)


def dense_backward(
    dZ: ArrayLike, cache: DenseCache
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Gradients of a scalar loss through Z = X Wᵀ + b.

    dX = dZ W, dW = dZᵀ X (a sum over the batch of outer products
    δ_n x_nᵀ), db = dZᵀ 1 (the column sums of dZ).

    Parameters
    ----------
    dZ : ndarray, shape (N, n_out)
        ∂L/∂Z, the gradient arriving from the layer above.
    cache : DenseCache
        From :func:`dense_forward`: X of shape (N, n_in), W of shape
        (n_out, n_in).

    Returns
    -------
    dX : ndarray, shape (N, n_in)
    dW : ndarray, shape (n_out, n_in)
    db : ndarray, shape (n_out,)

    Notes
    -----
    Part 2, eqs. (2.2)–(2.4).

    Examples
    --------
    >>> _, cache = dense_forward([[1, 2], [3, 4]], [[1, 0]], [0])
    >>> dX, dW, db = dense_backward([[1], [1]], cache)
    >>> dW, db
    (array([[4., 6.]]), array([2.]))
    """
    X, W = check_cache(cache, DenseCache, "dense_forward", {"X": 2, "W": 2})
    dZ_ = check_array(
        "dZ", dZ, ("N", "n_out"), N=(X.shape[0], "X"), n_out=(W.shape[0], "W")
    )
    return _dense_backward(dZ_, cache)


def _dense_backward(
    dZ: FloatArray, cache: DenseCache
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Eqs. (2.2)–(2.4) on a checked dZ and a cache from :func:`_dense_forward`."""
    X, W = cache
    return dZ @ W, dZ.T @ X, dZ.sum(axis=0)
