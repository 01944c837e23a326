"""Initial weights for dense and convolution layers (Part 2, eqs. (2.17), (2.18)).

A weight array has shape ``(n_out, n_in)`` for a dense layer and
``(C_out, C_in, KH, KW)`` for a convolution. Each output sums over its
fan-in, ``n_in`` inputs or ``C_in · KH · KW`` taps of a window, and the
initialisers scale the weights by it so that the variance of the signal
stays level from layer to layer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np

from ._validate import FloatArray, check_entries, check_positive_int, check_rng

Init = Literal["he", "xavier"]


def _fans(shape: Sequence[int], rng: object) -> tuple[int, int]:
    if not isinstance(shape, Sequence) or isinstance(shape, str):
        raise ValueError(f"shape is {shape!r}; expected a tuple of ints")
    if len(shape) < 2:
        raise ValueError(
            f"shape has {len(shape)} axes; expected (n_out, n_in, ...) with at least 2"
        )
    for i, size in enumerate(shape):
        check_positive_int(f"shape[{i}]", size)
    check_entries("shape", shape)
    check_rng("rng", rng)
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def xavier_uniform(shape: Sequence[int], *, rng: np.random.Generator) -> FloatArray:
    """Glorot/Xavier weights: uniform on ±√(6 / (fan_in + fan_out)).

    Their variance 2 / (fan_in + fan_out) keeps the variance of the
    signal (forward) and of the gradient (backward) roughly constant through
    tanh or sigmoid layers.

    Parameters
    ----------
    shape : tuple of int
        ``(n_out, n_in)`` for a dense layer, ``(C_out, C_in, KH, KW)`` for a
        convolution: fan_in = n_in · KH · KW, fan_out = n_out · KH · KW.
    rng : numpy.random.Generator

    Returns
    -------
    W : ndarray, shape ``shape``

    Notes
    -----
    Part 2, eq. (2.17).

    Examples
    --------
    >>> import numpy as np
    >>> W = xavier_uniform((200, 100), rng=np.random.default_rng(0))
    >>> bool(abs(W.var() - 2 / 300) < 5e-4), bool(np.abs(W).max() <= np.sqrt(6 / 300))
    (True, True)
    """
    fan_in, fan_out = _fans(shape, rng)
    limit = math.sqrt(6 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=tuple(shape))


def he_normal(shape: Sequence[int], *, rng: np.random.Generator) -> FloatArray:
    """He/Kaiming weights: normal with standard deviation √(2 / fan_in).

    ReLU zeroes half of its inputs on average, halving the signal's second
    moment; the factor 2 restores it, layer after layer.

    Parameters
    ----------
    shape : tuple of int
        ``(n_out, n_in)`` or ``(C_out, C_in, KH, KW)``; fan_in = n_in · KH · KW.
    rng : numpy.random.Generator

    Returns
    -------
    W : ndarray, shape ``shape``

    Notes
    -----
    Part 2, eq. (2.18).

    Examples
    --------
    >>> import numpy as np
    >>> W = he_normal((200, 100), rng=np.random.default_rng(0))
    >>> bool(abs(W.std() - np.sqrt(2 / 100)) < 0.005)
    True
    """
    fan_in, _ = _fans(shape, rng)
    return rng.normal(0.0, math.sqrt(2 / fan_in), size=tuple(shape))


INITIALISERS: dict[str, Callable[..., FloatArray]] = {
    "he": he_normal,
    "xavier": xavier_uniform,
}
