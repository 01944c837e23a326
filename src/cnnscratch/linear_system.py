"""Solving A x = b by gradient descent on F(x) = ‖A x − b‖² (Part 1).

Vectors are 1-D arrays: ``x`` has shape ``(n,)``, ``b`` shape ``(m,)`` and
``A`` shape ``(m, n)``. The page writes them as column vectors; NumPy's
``A @ x`` is the same product.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validate import FloatArray, check_array, check_int, check_positive

#: Upper bound on ``gradient_descent``'s ``max_steps`` (ten million updates).
MAX_STEPS = 10**7


def _system(
    A: ArrayLike, x: ArrayLike, b: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    A_ = check_array("A", A, ("m", "n"))
    x_ = check_array("x", x, ("n",), n=(A_.shape[1], "A"))
    b_ = check_array("b", b, ("m",), m=(A_.shape[0], "A"))
    return A_, x_, b_


def residual(A: ArrayLike, x: ArrayLike, b: ArrayLike) -> FloatArray:
    """The residual y = A x − b (Part 1, eq. (1.2)).

    Entry i is ``sum_j A[i, j] x[j] − b[i]``: row i of A, and entry i of b.

    Parameters
    ----------
    A : ndarray, shape (m, n)
    x : ndarray, shape (n,)
    b : ndarray, shape (m,)

    Returns
    -------
    y : ndarray, shape (m,)

    Examples
    --------
    >>> residual([[4, 2], [3, 8]], [1, 1], [22, 49])
    array([-16., -38.])
    """
    A_, x_, b_ = _system(A, x, b)
    return A_ @ x_ - b_


def residual_jacobian(A: ArrayLike) -> FloatArray:
    """Jacobian ∂(A x − b)/∂x = A, shape (m, n), in numerator layout (eq. (1.3)).

    It does not depend on x or b: the map is affine.

    Examples
    --------
    >>> residual_jacobian([[4, 2], [3, 8]])
    array([[4., 2.],
           [3., 8.]])
    """
    return check_array("A", A, ("m", "n")).copy()


def objective(A: ArrayLike, x: ArrayLike, b: ArrayLike) -> float:
    """The least-squares objective F(x) = ‖A x − b‖₂², a scalar (eq. (1.1)).

    Returns
    -------
    float
        The sum of the squared residuals (not the vector of squares).

    Examples
    --------
    >>> objective([[4, 2], [3, 8]], [1, 1], [22, 49])
    1700.0
    """
    y = residual(A, x, b)
    return float(y @ y)


def objective_gradient(A: ArrayLike, x: ArrayLike, b: ArrayLike) -> FloatArray:
    """Gradient ∇F(x) = 2 Aᵀ(A x − b), shape (n,) (eq. (1.6)).

    The transpose of the numerator-layout derivative 2 (A x − b)ᵀ A, so it has
    the shape of ``x`` and can be subtracted from it.

    Examples
    --------
    >>> objective_gradient([[4, 2], [3, 8]], [1, 1], [22, 49])
    array([-356., -672.])
    """
    A_, x_, b_ = _system(A, x, b)
    return 2 * A_.T @ (A_ @ x_ - b_)


def stability_limit(A: ArrayLike) -> float:
    """Largest learning rate for which gradient descent on F converges.

    F has the constant Hessian H = 2 AᵀA. One step maps the error
    e = x − x* to (I − γH) e, which shrinks for every starting point exactly
    when |1 − γλ| < 1 for every eigenvalue λ of H, that is when
    γ < 2 / λ_max(2 AᵀA) (eq. (1.8)).

    Parameters
    ----------
    A : ndarray, shape (m, n)

    Returns
    -------
    float
        2 / λ_max(2 AᵀA); ``inf`` when A is zero (F is then constant and
        every step size is stable).

    Examples
    --------
    >>> round(stability_limit([[4, 2], [3, 8]]), 4)
    0.0118
    >>> stability_limit([[0.0]])
    inf
    """
    A_ = check_array("A", A, ("m", "n")).astype(np.float64)
    largest = float(np.max(np.abs(A_)))
    if largest == 0.0:
        return math.inf
    # λ_max scales with the square of A: compute it for A / 2^e (an exact
    # rescaling, entries at most 1) so that 2 AᵀA can neither overflow nor
    # underflow, then scale the limit back by 2^(2e).
    exponent = math.frexp(largest)[1]
    B = np.ldexp(A_, -exponent)
    lam_max = float(np.linalg.eigvalsh(2 * B.T @ B)[-1])
    with np.errstate(over="ignore", under="ignore"):
        return float(np.ldexp(2.0 / lam_max, -2 * exponent))


@dataclass(frozen=True)
class DescentResult:
    """What :func:`gradient_descent` returns.

    Attributes
    ----------
    x : ndarray, shape (n,)
        The last iterate.
    steps : int
        Number of updates made.
    converged : bool
        True if the stopping rule ‖∇F‖ ≤ ``tol`` was met.
    diverged : bool
        True if F became non-finite or grew past ``1e12 · F(x₀)``.
    objectives : ndarray, shape (steps + 1,)
        F at every iterate, starting with F(x₀).
    """

    x: FloatArray
    steps: int
    converged: bool
    diverged: bool
    objectives: FloatArray


def gradient_descent(
    A: ArrayLike,
    b: ArrayLike,
    x0: ArrayLike,
    learning_rate: float,
    *,
    tol: float = 1e-10,
    max_steps: int = 100_000,
) -> DescentResult:
    """Minimise ‖A x − b‖² by x ← x − γ ∇F(x) (eq. (1.7)).

    Stops as soon as the gradient is small, ‖∇F(x)‖₂ ≤ ``tol`` (the minimum
    is where the gradient vanishes), when the objective blows up, or after
    ``max_steps`` updates, whichever comes first.

    Parameters
    ----------
    A : ndarray, shape (m, n)
    b : ndarray, shape (m,)
    x0 : ndarray, shape (n,)
        Starting point; not modified.
    learning_rate : float
        The step size γ > 0. Above :func:`stability_limit` the iterates diverge.
    tol : float
        Stop when the gradient's 2-norm is at most this.
    max_steps : int
        Upper bound on the number of updates.

    Returns
    -------
    DescentResult

    Examples
    --------
    >>> result = gradient_descent([[4, 2], [3, 8]], [22, 49], [0, 0], 0.01)
    >>> result.converged, result.x
    (True, array([3., 5.]))
    """
    A_ = check_array("A", A, ("m", "n"))
    b_ = check_array("b", b, ("m",), m=(A_.shape[0], "A"))
    x = check_array("x0", x0, ("n",), n=(A_.shape[1], "A")).astype(np.float64)
    gamma = check_positive("learning_rate", learning_rate)
    tol = check_positive("tol", tol)
    max_steps = check_int("max_steps", max_steps, 1, MAX_STEPS)

    with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported
        return _descend(A_, b_, x, gamma, tol, max_steps)


def _descend(
    A_: FloatArray,
    b_: FloatArray,
    x: NDArray[np.float64],
    gamma: float,
    tol: float,
    max_steps: int,
) -> DescentResult:
    def F(v: NDArray[np.float64]) -> float:
        r = A_ @ v - b_
        return float(r @ r)

    objectives = [F(x)]
    converged = diverged = False
    steps = 0
    while True:
        grad = 2 * A_.T @ (A_ @ x - b_)
        if float(np.linalg.norm(grad)) <= tol:
            converged = True
            break
        if steps == max_steps:
            break
        x = x - gamma * grad
        steps += 1
        objectives.append(F(x))
        if not np.isfinite(objectives[-1]) or objectives[-1] > 1e12 * max(
            objectives[0], 1.0
        ):
            diverged = True
            break
    return DescentResult(x, steps, converged, diverged, np.array(objectives))
