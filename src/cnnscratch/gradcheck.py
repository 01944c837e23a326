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

import math
from collections.abc import Callable
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validate import (
    as_array,
    check_any_shape,
    check_callable,
    check_choice,
    check_entries,
    check_finite,
    check_positive,
)

#: Relative error below which an analytic derivative agrees with finite differences.
RTOL = 1e-6
#: Default central-difference step.
STEP = 1e-6

Order = Literal["C", "F"]


def _as_float64(x: ArrayLike) -> NDArray[np.float64]:
    """``x`` as a finite float64 copy: the caller's array is never touched."""
    return np.array(check_any_shape("x", x), dtype=np.float64)


def _evaluate(
    f: Callable[[NDArray[np.float64]], ArrayLike],
    x: NDArray[np.float64],
    shape: tuple[int, ...] | None,
) -> NDArray[np.float64]:
    """``f(x)`` as a finite float64 array, of ``shape`` when one is given."""
    value = as_array("f(x)", f(x.copy()))  # a copy: f cannot move the point
    if value.size == 0:
        raise ValueError(f"f(x) has shape {value.shape}; expected at least one entry")
    check_finite("f(x)", value)
    if shape is not None and value.shape != shape:
        raise ValueError(
            f"f(x) has shape {value.shape} at a nearby point but {shape} at x; "
            "expected the same shape everywhere"
        )
    return value.astype(np.float64)


def _check_step(h: float, flat_x: NDArray[np.float64]) -> None:
    """The step must move every entry of x, and x ± h must stay finite."""
    with np.errstate(over="ignore"):
        plus, minus = flat_x + h, flat_x - h
    if not (np.all(np.isfinite(plus)) and np.all(np.isfinite(minus))):
        raise ValueError(f"h = {h:g} takes x ± h beyond float64's range")
    still = (plus == flat_x) | (minus == flat_x)
    if np.any(still):
        j = int(np.argmax(still))
        raise ValueError(
            f"h = {h:g} is below the float64 spacing of x (entry {j} of the "
            f"flattened x is {flat_x[j]:g}, and x ± h rounds back to it); "
            "expected a step that moves every entry"
        )


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
    check_callable("f", f)
    h = check_positive("h", h)
    check_choice("order", order, ("C", "F"))
    x0 = _as_float64(x)
    flat_x = x0.ravel(order=order)
    _check_step(h, flat_x)
    f0 = _evaluate(f, x0, None)
    check_entries("x", (f0.size, flat_x.size))
    J = np.empty((f0.size, flat_x.size))
    for j in range(flat_x.size):
        step = np.zeros_like(flat_x)
        step[j] = h
        x_plus = (flat_x + step).reshape(x0.shape, order=order)
        x_minus = (flat_x - step).reshape(x0.shape, order=order)
        f_plus = _evaluate(f, x_plus, f0.shape).ravel(order=order)
        f_minus = _evaluate(f, x_minus, f0.shape).ravel(order=order)
        with np.errstate(over="ignore"):
            J[:, j] = (f_plus - f_minus) / (2 * h)
    check_finite("f(x)", J)  # differences beyond float64's range
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
    check_callable("f", f)
    x0 = _as_float64(x)
    value = _evaluate(f, x0, None)
    if value.size != 1:
        raise ValueError(
            f"f(x) has shape {value.shape}; expected a scalar (use numerical_jacobian)"
        )
    return numerical_jacobian(f, x0, h=h).reshape(x0.shape)


def _relative_error(
    a: ArrayLike, b: ArrayLike, names: tuple[str, str] = ("a", "b")
) -> float:
    a_arr = check_any_shape(names[0], a).astype(np.float64)
    b_arr = check_any_shape(names[1], b).astype(np.float64)
    if a_arr.shape != b_arr.shape:
        raise ValueError(
            f"{names[0]} has shape {a_arr.shape}; expected {b_arr.shape} as {names[1]}"
        )
    largest = max(float(np.max(np.abs(a_arr))), float(np.max(np.abs(b_arr))))
    if largest == 0.0:
        return 0.0
    # Divide by a power of two near the largest entry: exact, and afterwards
    # no entry exceeds 1 and the largest is at least 1/2, so the norms can
    # neither overflow nor underflow (and the ratio is unchanged).
    exponent = math.frexp(largest)[1]
    a_arr, b_arr = np.ldexp(a_arr, -exponent), np.ldexp(b_arr, -exponent)
    scale = max(float(np.linalg.norm(a_arr)), float(np.linalg.norm(b_arr)))
    return float(np.linalg.norm(a_arr - b_arr)) / scale


def relative_error(a: ArrayLike, b: ArrayLike) -> float:
    """Relative distance ‖a − b‖ / max(‖a‖, ‖b‖) in the Frobenius norm.

    Zero when both are zero. Scale-free, so one threshold (:data:`RTOL`)
    serves gradients of any size, from 1e-300 to 1e300: both arrays are
    rescaled by the same power of two before the norms are taken, so they
    neither underflow nor overflow.

    Parameters
    ----------
    a, b : array_like, the same shape
        Finite real numbers.

    Returns
    -------
    float
        In [0, 2].

    Raises
    ------
    ValueError
        If the shapes differ, or an entry is not a finite real number
        (``nan``, ``inf`` and complex numbers would make any verdict
        meaningless).

    Notes
    -----
    The measure every gradient check on the site uses, first in Part 1,
    "The Jacobian of the residual, entry by entry".

    Examples
    --------
    >>> relative_error([1.0, 2.0], [1.0, 2.0 + 2e-9]) < RTOL
    True
    >>> relative_error([1e-200], [2e-200]), relative_error([1e200], [2e200])
    (0.5, 0.5)
    """
    return _relative_error(a, b)


def gradients_match(analytic: ArrayLike, numeric: ArrayLike) -> bool:
    """True when ``relative_error(analytic, numeric) < RTOL``.

    Parameters
    ----------
    analytic, numeric : array_like, the same shape
        The derivative under test and its finite-difference estimate.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([0.5, -1.5])
    >>> gradients_match(2 * x, numerical_gradient(lambda v: np.sum(v**2), x))
    True
    """
    return _relative_error(analytic, numeric, ("analytic", "numeric")) < RTOL
