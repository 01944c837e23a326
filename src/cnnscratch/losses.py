"""Losses and their gradients: mean squared error and softmax cross-entropy.

Every loss here is a mean over the N samples of a batch, so its gradient
carries a factor 1/N. Gradients have the shape of the argument they are taken
with respect to (the transpose of the numerator-layout derivative).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ._validate import FloatArray, check_array


def _pair(name: str, value: ArrayLike, Y: ArrayLike) -> tuple[FloatArray, FloatArray]:
    value_ = check_array(name, value, ("N", "K"))
    Y_ = check_array(
        "Y", Y, ("N", "K"), N=(value_.shape[0], name), K=(value_.shape[1], name)
    )
    return value_, Y_


def _check_positive_probabilities(P: FloatArray) -> None:
    if np.any(P <= 0) or np.any(P > 1):
        raise ValueError("P has entries <= 0 or > 1; expected probabilities in (0, 1]")


def _check_targets(Y: FloatArray, *, rows_sum_to_one: bool, name: str = "Y") -> None:
    """Targets are probabilities: entries >= 0 and, where asked, rows summing to 1."""
    if (Y < 0).any():
        raise ValueError(
            f"{name} (shape {Y.shape}) has a negative entry; expected one-hot rows "
            "or rows of probabilities"
        )
    if rows_sum_to_one:
        sums = Y.sum(axis=1)
        off = np.abs(sums - 1.0) > 1e-5 + 1e-8  # np.isclose's tolerances, faster
        if off.any():
            row = int(np.argmax(off))
            raise ValueError(
                f"{name} (shape {Y.shape}) has row {row} summing to {sums[row]}; "
                "expected every row to sum to 1 (one-hot or probabilities)"
            )


def mse(Y_hat: ArrayLike, Y: ArrayLike) -> float:
    """Mean squared error L = (1 / (N K)) Σ_n Σ_k (ŷ_nk − y_nk)².

    The mean runs over every entry, as in ``torch.nn.MSELoss()``.

    Parameters
    ----------
    Y_hat : ndarray, shape (N, K)
        Predictions.
    Y : ndarray, shape (N, K)
        Targets.

    Returns
    -------
    L : float

    Notes
    -----
    Part 2, eq. (2.11).

    Examples
    --------
    >>> mse([[1.0, 2.0]], [[1.0, 0.0]])
    2.0
    """
    Y_hat_, Y_ = _pair("Y_hat", Y_hat, Y)
    return float(np.mean((Y_hat_ - Y_) ** 2))


def mse_gradient(Y_hat: ArrayLike, Y: ArrayLike) -> FloatArray:
    """Gradient of :func:`mse` with respect to the predictions: 2 (Ŷ − Y) / (N K).

    Parameters
    ----------
    Y_hat : ndarray, shape (N, K)
    Y : ndarray, shape (N, K)

    Returns
    -------
    dY_hat : ndarray, shape (N, K)

    Notes
    -----
    Part 2, eq. (2.11).

    Examples
    --------
    >>> mse_gradient([[1.0, 2.0]], [[1.0, 0.0]])
    array([[0., 2.]])
    """
    Y_hat_, Y_ = _pair("Y_hat", Y_hat, Y)
    return 2 * (Y_hat_ - Y_) / Y_.size


def log_softmax(Z: ArrayLike) -> FloatArray:
    """Row-wise log-probabilities log s = z − logsumexp(z), computed stably.

    logsumexp(z) = m + log Σ_j e^(z_j − m) with m = max_j z_j: every
    exponent is ≤ 0, so nothing overflows, and the largest term is exactly 1,
    so the logarithm never sees 0.

    Parameters
    ----------
    Z : ndarray, shape (N, K)
        Logits.

    Returns
    -------
    log_S : ndarray, shape (N, K)

    Notes
    -----
    Part 2, eq. (2.12).

    Examples
    --------
    >>> log_softmax([[1e4, 0.0]])
    array([[     0., -10000.]])
    """
    return _log_softmax(check_array("Z", Z, ("N", "K")))


def _log_softmax(Z: FloatArray) -> FloatArray:
    m = Z.max(axis=1, keepdims=True)
    # Z - m can pass float64's range (1e308 - (-1e308)); the true log-probability
    # is then below -1.7e308 and -inf is its correctly rounded value.
    with np.errstate(over="ignore"):
        shifted = Z - m
    log_S: FloatArray = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return log_S


def cross_entropy(P: ArrayLike, Y: ArrayLike) -> float:
    """Cross-entropy of probabilities: L = −(1/N) Σ_n Σ_k y_nk log p_nk.

    This is the unfused form, on probabilities that a softmax has already
    produced; it is here to show that its composition with the softmax
    Jacobian gives the fused gradient. Train with
    :func:`softmax_cross_entropy`, which never takes the log of a rounded-off
    probability.

    Parameters
    ----------
    P : ndarray, shape (N, K)
        Predicted probabilities (each row sums to 1), all > 0.
    Y : ndarray, shape (N, K)
        Targets: one-hot rows, or any rows of probabilities.

    Returns
    -------
    L : float

    Notes
    -----
    Part 2, eq. (2.12).

    Examples
    --------
    >>> round(cross_entropy([[0.5, 0.5]], [[1.0, 0.0]]), 4)
    0.6931
    """
    P_, Y_ = _pair("P", P, Y)
    _check_positive_probabilities(P_)
    _check_targets(Y_, rows_sum_to_one=False)
    return float(-np.sum(Y_ * np.log(P_)) / P_.shape[0])


def cross_entropy_gradient(P: ArrayLike, Y: ArrayLike) -> FloatArray:
    """Gradient of :func:`cross_entropy` with respect to P: −Y / (N P).

    Parameters
    ----------
    P : ndarray, shape (N, K), entries > 0
    Y : ndarray, shape (N, K)

    Returns
    -------
    dP : ndarray, shape (N, K)

    Notes
    -----
    Part 2, eq. (2.13).

    Examples
    --------
    >>> cross_entropy_gradient([[0.5, 0.5]], [[1.0, 0.0]])
    array([[-2., -0.]])
    """
    P_, Y_ = _pair("P", P, Y)
    _check_positive_probabilities(P_)
    _check_targets(Y_, rows_sum_to_one=False)
    dP: FloatArray = -Y_ / (P_.shape[0] * P_)
    return dP


def softmax_cross_entropy(Z: ArrayLike, Y: ArrayLike) -> float:
    """Softmax followed by cross-entropy, from logits, in log-sum-exp form.

    L = (1/N) Σ_n (logsumexp(z_n) − Σ_k y_nk z_nk) for rows of Y that sum
    to 1 (one-hot labels). Exact for logits of any finite size: a class with
    y_nk = 0 contributes nothing, however small its probability, so the loss
    is ``inf`` only when the true loss itself is beyond float64's range
    (target mass on a class whose logit trails the largest by more than
    about 1.8e308).

    Parameters
    ----------
    Z : ndarray, shape (N, K)
        Logits (the last dense layer's output, before any softmax).
    Y : ndarray, shape (N, K)
        Targets: one-hot rows, or rows of probabilities.

    Returns
    -------
    L : float

    Raises
    ------
    ValueError
        If the shapes differ, an entry is not finite, or Y has a negative
        entry or a row that does not sum to 1.

    Notes
    -----
    Part 2, eq. (2.12). Equals ``torch.nn.functional.cross_entropy``
    with class-index targets when Y is one-hot.

    Examples
    --------
    >>> softmax_cross_entropy([[1e4, 0.0, -1e4]], [[0.0, 1.0, 0.0]])
    10000.0
    """
    Z_, Y_ = _pair("Z", Z, Y)
    _check_targets(Y_, rows_sum_to_one=True)
    return _softmax_cross_entropy(Z_, Y_)


def _softmax_cross_entropy(Z: FloatArray, Y: FloatArray) -> float:
    """:func:`softmax_cross_entropy` of checked logits and targets.

    With non-finite logits (a diverged run) the result is ``nan`` or ``inf``.
    """
    log_S = _log_softmax(Z)
    hit = Y != 0  # 0 · log(0) is 0 here, not nan
    with np.errstate(over="ignore"):
        return float(-np.sum(Y[hit] * log_S[hit]) / Z.shape[0])


def softmax_cross_entropy_gradient(Z: ArrayLike, Y: ArrayLike) -> FloatArray:
    """The fused gradient of :func:`softmax_cross_entropy`: dZ = (P − Y) / N.

    P = softmax(Z). The softmax Jacobian diag(p) − p pᵀ times the
    cross-entropy gradient −y / p collapses to p − y when each row of Y
    sums to 1; no division by a probability is ever computed.

    Parameters
    ----------
    Z : ndarray, shape (N, K)
        Logits.
    Y : ndarray, shape (N, K)
        Targets whose rows sum to 1.

    Returns
    -------
    dZ : ndarray, shape (N, K)

    Raises
    ------
    ValueError
        If Y has a negative entry or a row that does not sum to 1: P − Y is
        then not the gradient.

    Notes
    -----
    Part 2, eq. (2.14).

    Examples
    --------
    >>> softmax_cross_entropy_gradient([[0.0, 0.0]], [[1.0, 0.0]])
    array([[-0.5,  0.5]])
    """
    Z_, Y_ = _pair("Z", Z, Y)
    _check_targets(Y_, rows_sum_to_one=True)
    return _softmax_cross_entropy_gradient(Z_, Y_)


def _softmax_cross_entropy_gradient(Z: FloatArray, Y: FloatArray) -> FloatArray:
    """:func:`softmax_cross_entropy_gradient` of checked logits and targets."""
    P = np.exp(_log_softmax(Z))
    dZ: FloatArray = (P - Y) / Z.shape[0]
    return dZ
