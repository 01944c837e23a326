"""Batch normalisation forward and backward, training and evaluation mode.

Batch normalisation standardises every channel of a batch with the batch's
own statistics, then applies a learnable scale γ and shift β per channel:

    X̂ = (X − μ) / σ,   σ = √(σ² + ε),   Y = γ X̂ + β.

The statistics are taken over every axis but the channel axis: over N for a
dense layer's output ``(N, D)``, over N, H and W for a convolution's output
``(N, C, H, W)``. ``M`` below is the number of values each channel's
statistics average: ``M = N`` or ``M = N·H·W``.

Two variances appear, and they are not the same:

* the **normalising variance** is the *biased* one, σ² = (1/M) Σ (x − μ)²:
  the forward pass divides by it, and the backward pass differentiates it;
* the **running variance**, kept for evaluation mode, is updated with the
  *unbiased* estimate M/(M − 1) · σ², as PyTorch does.

In training mode (:func:`batchnorm_forward`) the output of each sample
depends on every other sample of the batch through μ and σ², so the
backward pass (:func:`batchnorm_backward`) has two extra terms. In
evaluation mode (:func:`batchnorm_eval_forward`) μ and σ² are the running
averages, constants, and the layer is a per-channel affine map.

Part 5, "Batch normalisation", eqs. (5.1)–(5.8).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from ._validate import (
    FloatArray,
    as_array,
    check_array,
    check_cache,
    check_like,
    check_positive_int,
    is_int,
    short_repr,
)

#: PyTorch's defaults: ε added to the variance, momentum of the running averages.
EPS = 1e-5
MOMENTUM = 0.1


class BatchNormCache(NamedTuple):
    """What :func:`batchnorm_backward` needs from a forward pass.

    ``X_hat`` is shaped like X; ``mean``, ``var`` (the biased batch
    variance, or the running variance in evaluation mode), ``inv_std``
    (1/√(var + ε)) and ``gamma`` have shape (C,). ``training`` says whether
    the statistics came from the batch (and so depend on X) or were
    constants.
    """

    X_hat: FloatArray
    mean: FloatArray
    var: FloatArray
    inv_std: FloatArray
    gamma: FloatArray
    training: bool


def _channel_view(v: FloatArray, ndim: int) -> FloatArray:
    """A per-channel vector (C,) shaped to broadcast against (N, C) or (N, C, H, W)."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def _axes(ndim: int) -> tuple[int, ...]:
    """The axes each channel's statistics run over: every axis but axis 1."""
    return (0,) if ndim == 2 else (0, 2, 3)


def _check_x(X: ArrayLike) -> FloatArray:
    X_ = as_array("X", X)
    axes = ("N", "D") if X_.ndim == 2 else ("N", "C", "H", "W")
    return check_array("X", X, axes)


def _check_affine(
    X: FloatArray, gamma: ArrayLike, beta: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    gamma_ = check_array("gamma", gamma, ("C",), C=(X.shape[1], "X"))
    beta_ = check_array("beta", beta, ("C",), C=(X.shape[1], "X"))
    return gamma_, beta_


def _as_float(value: object) -> float:
    """``value`` as a float if it is a real number (not a bool), else nan.

    Complex numbers and long doubles (wider than float64) are not real
    numbers here, as in :func:`~cnnscratch._validate.check_real`.
    """
    if isinstance(value, bool) or not isinstance(
        value, int | float | np.integer | np.floating
    ):
        return math.nan
    if np.dtype(type(value)).itemsize > 8:
        return math.nan
    try:
        return float(value)
    except OverflowError:  # an int beyond float64's range
        return math.inf


def check_eps(eps: float) -> float:
    """``eps`` as a float if it is finite and >= 0, else raise.

    Examples
    --------
    >>> check_eps(1e-5)
    1e-05
    """
    value = _as_float(eps)
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"eps must be a finite number >= 0; got {eps!r}")
    return value


def check_momentum(momentum: float) -> float:
    """``momentum`` as a float if it lies in [0, 1], else raise.

    Examples
    --------
    >>> check_momentum(0.1)
    0.1
    """
    value = _as_float(momentum)
    if not (0.0 <= value <= 1.0):
        raise ValueError(f"momentum must be a number in [0, 1]; got {momentum!r}")
    return value


def values_per_channel(X_shape: tuple[int, ...]) -> int:
    """M, the number of values each channel's statistics average: N or N·H·W.

    Examples
    --------
    >>> values_per_channel((8, 3)), values_per_channel((8, 3, 4, 4))
    (8, 128)
    """
    shape = _check_shape("X_shape", X_shape)
    return math.prod(shape) // shape[1]


def _check_shape(name: str, X_shape: object) -> tuple[int, ...]:
    """``X_shape`` as a tuple of 2 or 4 ints >= 1: (N, D) or (N, C, H, W)."""
    sizes = tuple(X_shape) if isinstance(X_shape, tuple | list) else ()
    if len(sizes) not in (2, 4) or not all(is_int(n) and n >= 1 for n in sizes):
        raise ValueError(
            f"{name} is {short_repr(X_shape)}; expected (N, D) or (N, C, H, W), "
            "all integers >= 1"
        )
    return tuple(int(n) for n in sizes)


def _check_cache(cache: object, *, training: bool = False) -> BatchNormCache:
    """``cache`` if it is a :class:`BatchNormCache` a forward pass could return.

    With ``training``, it must come from :func:`batchnorm_forward`.
    """
    producer = (
        "batchnorm_forward"
        if training
        else "batchnorm_forward or batchnorm_eval_forward"
    )
    cache = check_cache(cache, BatchNormCache, producer)
    X_hat = cache.X_hat
    if not (
        isinstance(X_hat, np.ndarray)
        and X_hat.dtype.kind == "f"
        and X_hat.ndim in (2, 4)
        and X_hat.size > 0
    ):
        raise ValueError(
            f"cache.X_hat is {short_repr(X_hat)}; expected the BatchNormCache "
            f"that {producer} returns, whose X_hat is a 2-D or 4-D float array"
        )
    C = X_hat.shape[1]
    for field in ("mean", "var", "inv_std", "gamma"):
        value = getattr(cache, field)
        if not (
            isinstance(value, np.ndarray)
            and value.dtype.kind == "f"
            and value.shape == (C,)
        ):
            raise ValueError(
                f"cache.{field} is {short_repr(value)}; expected the BatchNormCache "
                f"that {producer} returns, whose {field} has shape ({C},)"
            )
    if not isinstance(cache.training, bool | np.bool_):
        raise ValueError(
            f"cache.training is {short_repr(cache.training)}; expected the "
            f"BatchNormCache that {producer} returns, whose training is a bool"
        )
    if training and not cache.training:
        raise ValueError(
            "cache is from evaluation mode; expected one from batchnorm_forward"
        )
    return cache


def _normalise(
    X: FloatArray,
    mean: FloatArray,
    var: FloatArray,
    gamma: FloatArray,
    beta: FloatArray,
    eps: float,
    training: bool,
) -> tuple[FloatArray, BatchNormCache]:
    denominator = var + eps
    if np.any(denominator <= 0):
        c = int(np.argmax(denominator <= 0))
        raise ValueError(
            f"eps is {eps!r} and channel {c} has variance 0, so σ² + ε = 0; "
            "expected eps > 0 for a constant channel"
        )
    # --8<-- [start:batchnorm_forward]
    inv_std = 1.0 / np.sqrt(denominator)  # 1/σ, (C,)
    X_hat = (X - _channel_view(mean, X.ndim)) * _channel_view(inv_std, X.ndim)
    Y = _channel_view(gamma, X.ndim) * X_hat + _channel_view(beta, X.ndim)
    # --8<-- [end:batchnorm_forward]
    return Y, BatchNormCache(X_hat, mean, var, inv_std, gamma, training)


def batchnorm_forward(
    X: ArrayLike, gamma: ArrayLike, beta: ArrayLike, *, eps: float = EPS
) -> tuple[FloatArray, BatchNormCache]:
    """Batch normalisation in training mode: the batch's own statistics.

    μ = (1/M) Σ x, σ² = (1/M) Σ (x − μ)² (biased), X̂ = (X − μ)/√(σ² + ε),
    Y = γ X̂ + β, every sum over the M values of one channel.

    Parameters
    ----------
    X : ndarray, shape (N, D) or (N, C, H, W)
        A dense layer's outputs (statistics over N) or a convolution's
        (statistics over N, H and W).
    gamma, beta : ndarray, shape (D,) or (C,)
        Scale and shift, one per channel.
    eps : float
        Added to the variance, ``>= 0``; PyTorch's default 1e-5.

    Returns
    -------
    Y : ndarray, shaped like X
    cache : BatchNormCache
        What :func:`batchnorm_backward` and :func:`update_running_stats` need.

    Raises
    ------
    ValueError
        If X is not 2-D or 4-D, a channel has only one value (M = 1: no
        variance estimate, as PyTorch decides), gamma or beta does not have
        one entry per channel, eps is negative, or eps is 0 for a constant
        channel.

    Notes
    -----
    Part 5, eqs. (5.1)–(5.3).

    Examples
    --------
    >>> X = np.array([[1.0, 10.0], [3.0, 10.0]])
    >>> Y, cache = batchnorm_forward(X, np.ones(2), np.zeros(2), eps=1e-12)
    >>> Y  # the constant second column has σ² = 0: X̂ = 0
    array([[-1.,  0.],
           [ 1.,  0.]])
    >>> cache.mean, cache.var
    (array([ 2., 10.]), array([1., 0.]))
    """
    X_ = _check_x(X)
    gamma_, beta_ = _check_affine(X_, gamma, beta)
    return _batchnorm_forward(X_, gamma_, beta_, check_eps(eps))


def _batchnorm_forward(
    X: FloatArray, gamma: FloatArray, beta: FloatArray, eps: float
) -> tuple[FloatArray, BatchNormCache]:
    """:func:`batchnorm_forward` of checked arrays; still refuses M = 1.

    How many values a channel has depends on the batch, so the training
    loop, which checks its inputs once, relies on this check too.
    """
    M = math.prod(X.shape) // X.shape[1]
    if M < 2:
        axes = "N" if X.ndim == 2 else "N·H·W"
        raise ValueError(
            f"X has shape {X.shape}: one value per channel ({axes} = 1) gives "
            "no variance estimate; expected more than one value per channel "
            "in training mode"
        )
    axes_ = _axes(X.ndim)
    mean = X.mean(axis=axes_)  # μ, (C,)
    var = ((X - _channel_view(mean, X.ndim)) ** 2).mean(axis=axes_)  # σ², biased
    return _normalise(X, mean, var, gamma, beta, eps, training=True)


def batchnorm_eval_forward(
    X: ArrayLike,
    gamma: ArrayLike,
    beta: ArrayLike,
    running_mean: ArrayLike,
    running_var: ArrayLike,
    *,
    eps: float = EPS,
) -> tuple[FloatArray, BatchNormCache]:
    """Batch normalisation in evaluation mode: the running statistics.

    Y = γ (X − μ_run)/√(σ²_run + ε) + β: a per-channel affine map, the same
    for a batch of one as for a batch of a thousand.

    Parameters
    ----------
    X : ndarray, shape (N, D) or (N, C, H, W)
    gamma, beta : ndarray, shape (D,) or (C,)
    running_mean, running_var : ndarray, shape (D,) or (C,)
        From :func:`update_running_stats`; the variance is the unbiased one.
    eps : float

    Returns
    -------
    Y : ndarray, shaped like X
    cache : BatchNormCache
        ``training`` is False: :func:`batchnorm_backward` treats the
        statistics as constants.

    Notes
    -----
    Part 5, eq. (5.8).

    Examples
    --------
    >>> Y, _ = batchnorm_eval_forward(
    ...     np.array([[3.0]]), [2.0], [1.0], [1.0], [4.0], eps=0.0
    ... )
    >>> Y  # 2 · (3 − 1)/2 + 1
    array([[3.]])
    """
    X_ = _check_x(X)
    gamma_, beta_ = _check_affine(X_, gamma, beta)
    mean, var = check_running_stats(X_.shape[1], running_mean, running_var)
    return _normalise(X_, mean, var, gamma_, beta_, check_eps(eps), training=False)


def check_running_stats(
    C: int, running_mean: ArrayLike, running_var: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Check the running statistics: shape (C,) each, the variance >= 0.

    Examples
    --------
    >>> check_running_stats(2, [0.0, 0.0], [1.0])
    Traceback (most recent call last):
    ...
    ValueError: running_var has shape (1,); expected (C,) with C = 2 to match X
    """
    C = check_positive_int("C", C)
    mean = check_array("running_mean", running_mean, ("C",), C=(C, "X"))
    var = check_array("running_var", running_var, ("C",), C=(C, "X"))
    if np.any(var < 0):
        raise ValueError(f"running_var has a negative entry {var.min()}; expected >= 0")
    return mean, var


def update_running_stats(
    running_mean: ArrayLike,
    running_var: ArrayLike,
    cache: BatchNormCache,
    *,
    momentum: float = MOMENTUM,
) -> tuple[FloatArray, FloatArray]:
    """Exponential moving averages of the batch statistics, as PyTorch keeps them.

    μ_run ← (1 − m) μ_run + m μ, σ²_run ← (1 − m) σ²_run + m · M/(M − 1) · σ²:
    the running variance averages the *unbiased* estimate, while the forward
    pass normalised with the biased σ².

    Parameters
    ----------
    running_mean, running_var : ndarray, shape (C,)
        The current averages (PyTorch starts them at 0 and 1); not modified.
    cache : BatchNormCache
        From :func:`batchnorm_forward` (training mode).
    momentum : float in [0, 1]
        Weight of the new batch; PyTorch's default 0.1.

    Returns
    -------
    running_mean, running_var : ndarray, shape (C,)
        New arrays.

    Notes
    -----
    Part 5, eq. (5.7).

    Examples
    --------
    >>> _, cache = batchnorm_forward(np.array([[1.0], [3.0]]), [1.0], [0.0])
    >>> update_running_stats([0.0], [1.0], cache, momentum=0.5)  # σ² = 1, unbiased 2
    (array([1.]), array([1.5]))
    """
    cache = _check_cache(cache, training=True)
    C = cache.mean.shape[0]
    mean, var = check_running_stats(C, running_mean, running_var)
    return _update_running_stats(mean, var, cache, check_momentum(momentum))


def _update_running_stats(
    mean: FloatArray, var: FloatArray, cache: BatchNormCache, m: float
) -> tuple[FloatArray, FloatArray]:
    """:func:`update_running_stats` of checked statistics and momentum."""
    X_hat = cache.X_hat
    M = math.prod(X_hat.shape) // X_hat.shape[1]
    unbiased = cache.var * M / (M - 1)
    return (1 - m) * mean + m * cache.mean, (1 - m) * var + m * unbiased


def _check_upstream(
    dY: ArrayLike, cache: object, *, training: bool = False
) -> tuple[FloatArray, BatchNormCache]:
    cache_ = _check_cache(cache, training=training)
    return check_like("dY", dY, cache_.X_hat.shape, "the forward output"), cache_


def batchnorm_backward(
    dY: ArrayLike, cache: BatchNormCache
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Gradients of a scalar loss through batch normalisation (compact form).

    Training mode, through the mean and the variance (eq. (5.6)):
    dX = (1/M) γ/σ (M·dY − Σ dY − X̂ Σ(dY·X̂)); evaluation mode, with
    constant statistics: dX = γ/σ · dY. In both, dγ = Σ dY·X̂, dβ = Σ dY.
    Every Σ runs over the M values of one channel.

    Parameters
    ----------
    dY : ndarray, shaped like the forward output
        ∂L/∂Y, (N, D) or (N, C, H, W).
    cache : BatchNormCache
        From :func:`batchnorm_forward` or :func:`batchnorm_eval_forward`.

    Returns
    -------
    dX : ndarray, shaped like X
    dgamma, dbeta : ndarray, shape (C,)

    Notes
    -----
    Part 5, eqs. (5.4)–(5.6); equal to :func:`batchnorm_backward_steps`,
    which follows the derivation step by step.

    Examples
    --------
    A shift of every sample by the same amount is undone by the mean, so
    an upstream gradient that is the same for every sample gives dX = 0:

    >>> X = np.array([[0.0], [1.0], [5.0]])
    >>> _, cache = batchnorm_forward(X, [2.0], [0.0])
    >>> dX, dgamma, dbeta = batchnorm_backward(np.ones((3, 1)), cache)
    >>> np.abs(dX).max() < 1e-12, dbeta
    (True, array([3.]))
    """
    dY_, cache = _check_upstream(dY, cache)
    return _batchnorm_backward(dY_, cache)


def _batchnorm_backward(
    dY_: FloatArray, cache: BatchNormCache
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """:func:`batchnorm_backward` of a checked dY and cache."""
    X_hat, _, _, inv_std, gamma, training = cache
    axes = _axes(X_hat.ndim)
    M = math.prod(X_hat.shape) // X_hat.shape[1]
    # --8<-- [start:batchnorm_backward]
    dbeta = dY_.sum(axis=axes)  # Σ dY, (C,)
    dgamma = (dY_ * X_hat).sum(axis=axes)  # Σ dY·X̂, (C,)
    scale = _channel_view(gamma * inv_std, X_hat.ndim)  # γ/σ
    if not training:  # constant statistics: a per-channel affine map
        return scale * dY_, dgamma, dbeta
    dX = (scale / M) * (
        M * dY_
        - _channel_view(dbeta, X_hat.ndim)
        - X_hat * _channel_view(dgamma, X_hat.ndim)
    )
    # --8<-- [end:batchnorm_backward]
    return dX, dgamma, dbeta


def batchnorm_backward_steps(
    dY: ArrayLike, cache: BatchNormCache
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The training-mode backward pass, one derivation step per line.

    Backpropagates through X̂ = (X − μ)/√(σ² + ε) along each path from X to
    the loss: directly, through the variance σ², and through the mean μ.
    Written to be read beside the page; :func:`batchnorm_backward` is the
    same result, simplified.

    Parameters
    ----------
    dY : ndarray, shaped like the forward output
    cache : BatchNormCache
        From :func:`batchnorm_forward` (training mode).

    Returns
    -------
    dX : ndarray, shaped like X
    dgamma, dbeta : ndarray, shape (C,)

    Notes
    -----
    Part 5, eqs. (5.4) and (5.5), steps 1–4.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X, dY = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    >>> _, cache = batchnorm_forward(X, rng.normal(size=3), np.zeros(3))
    >>> steps = batchnorm_backward_steps(dY, cache)
    >>> compact = batchnorm_backward(dY, cache)
    >>> all(np.allclose(a, b) for a, b in zip(steps, compact))
    True
    """
    dY_, cache = _check_upstream(dY, cache, training=True)
    X_hat, _, _, inv_std, gamma, _ = cache
    n = X_hat.ndim
    axes = _axes(n)
    M = values_per_channel(X_hat.shape)
    # --8<-- [start:batchnorm_backward_steps]
    istd = _channel_view(inv_std, n)  # 1/σ
    X_centred = X_hat / istd  # X − μ
    dbeta = dY_.sum(axis=axes)
    dgamma = (dY_ * X_hat).sum(axis=axes)
    dX_hat = dY_ * _channel_view(gamma, n)  # step 1: through Y = γ X̂ + β
    dvar = (dX_hat * X_centred).sum(axis=axes) * -0.5 * inv_std**3  # step 2: σ²
    dmean = -(dX_hat * istd).sum(axis=axes)  # step 3: μ (the σ² path adds 0)
    dX = (  # step 4: the three paths from X
        dX_hat * istd
        + _channel_view(dvar, n) * 2 * X_centred / M
        + _channel_view(dmean, n) / M
    )
    # --8<-- [end:batchnorm_backward_steps]
    return dX, dgamma, dbeta
