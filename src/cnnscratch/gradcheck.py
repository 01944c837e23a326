"""Finite-difference derivatives: the referee for every derivation on the site.

A central difference approximates each partial derivative,

    ∂f_i/∂x_j ≈ (f_i(x + h e_j) − f_i(x − h e_j)) / (2h),

with an error of order h² from truncation plus order ε/h from rounding
(ε ≈ 1e-16 in float64). With h = 1e-6 both stay far below the threshold
:data:`RTOL`, which is the one number every gradient test in the project uses.
Always check in float64: in float32 (ε ≈ 1e-7) the rounding term alone is
about 0.1 and no check means anything (Part 3 shows this).

Results follow the site's numerator layout: the Jacobian of f: R^n → R^m is
m × n, rows indexed by outputs and columns by inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validate import check_positive

#: Relative error below which an analytic derivative agrees with finite differences.
RTOL = 1e-6
#: Default central-difference step.
STEP = 1e-6

Order = Literal["C", "F"]


def _as_float64(x: ArrayLike) -> NDArray[np.float64]:
    array = np.array(x, dtype=np.float64)  # a copy: the caller's array is never touched
    if not np.all(np.isfinite(array)):
        raise ValueError(
            f"x (shape {array.shape}) has non-finite entries; expected finite numbers"
        )
    return array


def numerical_jacobian(
    f: Callable[[NDArray[np.float64]], ArrayLike],
    x: ArrayLike,
    *,
    h: float = STEP,
    order: Order = "C",
) -> NDArray[np.float64]:
    """Central-difference Jacobian of ``f`` at ``x``, in numerator layout.

    Parameters
    ----------
    f : callable
        Maps an array shaped like ``x`` to an array (or scalar) of any shape.
    x : array_like, any shape
        The point; converted to a float64 copy.
    h : float
        Step of the central difference.
    order : {"C", "F"}
        How ``x`` and ``f(x)`` are flattened into the columns and rows of the
        Jacobian: ``"C"`` is row-major (NumPy's default), ``"F"`` is
        column-major, which is the ``vec`` of the matrix-calculus literature.

    Returns
    -------
    J : ndarray, shape (f(x).size, x.size)
        ``J[i, j]`` ≈ ∂ (flattened f)_i / ∂ (flattened x)_j.

    Examples
    --------
    The Jacobian of a linear map is its matrix:

    >>> import numpy as np
    >>> A = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    >>> numerical_jacobian(lambda x: A @ x, np.zeros(2))
    array([[1., 2.],
           [3., 4.],
           [5., 6.]])
    """
    h = check_positive("h", h)
    x0 = _as_float64(x)
    flat_x = x0.ravel(order=order)
    f0 = np.asarray(f(x0), dtype=np.float64)
    J = np.empty((f0.size, flat_x.size))
    for j in range(flat_x.size):
        step = np.zeros_like(flat_x)
        step[j] = h
        x_plus = (flat_x + step).reshape(x0.shape, order=order)
        x_minus = (flat_x - step).reshape(x0.shape, order=order)
        f_plus = np.asarray(f(x_plus), dtype=np.float64).ravel(order=order)
        f_minus = np.asarray(f(x_minus), dtype=np.float64).ravel(order=order)
        J[:, j] = (f_plus - f_minus) / (2 * h)
    return J


def numerical_gradient(
    f: Callable[[NDArray[np.float64]], ArrayLike],
    x: ArrayLike,
    *,
    h: float = STEP,
) -> NDArray[np.float64]:
    """Central-difference gradient of a scalar function, shaped like ``x``.

    This is the transpose of the 1 × n Jacobian, reshaped to ``x``'s shape:
    the form gradient descent and every ``backward`` function use.

    Parameters
    ----------
    f : callable
        Maps an array shaped like ``x`` to a scalar.
    x : array_like, any shape

    Returns
    -------
    grad : ndarray, same shape as x

    Examples
    --------
    >>> import numpy as np
    >>> numerical_gradient(lambda x: np.sum(x**2), np.array([1.0, -2.0, 3.0]))
    array([ 2., -4.,  6.])
    """
    x0 = _as_float64(x)
    value = np.asarray(f(x0))
    if value.size != 1:
        raise ValueError(
            f"f(x) has shape {value.shape}; expected a scalar (use numerical_jacobian)"
        )
    return numerical_jacobian(f, x0, h=h).reshape(x0.shape)


def relative_error(a: ArrayLike, b: ArrayLike) -> float:
    """Relative distance ‖a − b‖ / max(‖a‖, ‖b‖) in the Frobenius norm.

    Zero when both are zero. Scale-free, so one threshold (:data:`RTOL`)
    serves gradients of any size.

    Examples
    --------
    >>> relative_error([1.0, 2.0], [1.0, 2.0 + 2e-9]) < RTOL
    True
    """
    a_arr = np.asarray(a, dtype=np.float64)
    b_arr = np.asarray(b, dtype=np.float64)
    if a_arr.shape != b_arr.shape:
        raise ValueError(f"a has shape {a_arr.shape}; expected {b_arr.shape} as b")
    scale = max(float(np.linalg.norm(a_arr)), float(np.linalg.norm(b_arr)))
    if scale == 0.0:
        return 0.0
    return float(np.linalg.norm(a_arr - b_arr)) / scale


def gradients_match(analytic: ArrayLike, numeric: ArrayLike) -> bool:
    """True when ``relative_error(analytic, numeric) < RTOL``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([0.5, -1.5])
    >>> gradients_match(2 * x, numerical_gradient(lambda v: np.sum(v**2), x))
    True
    """
    return relative_error(analytic, numeric) < RTOL
