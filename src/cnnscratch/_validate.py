"""Boundary checks shared by every public function.

Each check raises a :class:`ValueError` whose message names the argument, the
shape (or value) it received and what was expected, for example::

    W has shape (3, 5); expected (n_out, n_in) with n_in = 4 to match x

Internals trust their inputs: these helpers run once, where the user's arrays
enter the library.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.floating]


def _format_shape(shape: Sequence[object]) -> str:
    """``(3,)`` for one axis, ``(3, 4)`` for two: the way NumPy prints shapes."""
    if len(shape) == 1:
        return f"({shape[0]},)"
    return "(" + ", ".join(str(s) for s in shape) + ")"


def check_array(
    name: str,
    value: ArrayLike,
    axes: Sequence[str],
    *,
    finite: bool = True,
    **known: tuple[int, str],
) -> FloatArray:
    """Return ``value`` as a floating array after checking its shape.

    Parameters
    ----------
    name : str
        The argument's name, used in the error message.
    value : array_like
        What the caller passed.
    axes : sequence of str
        One symbol per expected axis, e.g. ``("n_out", "n_in")``. A symbol
        that appears twice must have the same size on both axes.
    finite : bool
        Reject ``nan`` and ``inf`` entries.
    **known : (int, str)
        Sizes fixed by other arguments: ``n_in=(4, "x")`` says axis
        ``n_in`` must have size 4 to match ``x``.

    Returns
    -------
    ndarray
        ``value`` as an array; integers become float64, float32 and float64
        keep their precision.

    Raises
    ------
    ValueError
        If the dtype is not real and numeric, the number of axes or a size is
        wrong, or (with ``finite``) an entry is not finite.
    """
    array = np.asarray(value)
    if array.dtype.kind in "iu":
        array = array.astype(np.float64)
    elif array.dtype.kind != "f":
        raise ValueError(
            f"{name} has dtype {array.dtype}; expected a real floating-point "
            "or integer array"
        )
    expected = _format_shape(axes)
    if array.ndim != len(axes):
        raise ValueError(
            f"{name} has shape {_format_shape(array.shape)}; expected {expected}"
        )
    seen: dict[str, int] = {}
    for symbol, size in zip(axes, array.shape, strict=True):
        if symbol in known and size != known[symbol][0]:
            want, source = known[symbol]
            raise ValueError(
                f"{name} has shape {_format_shape(array.shape)}; expected "
                f"{expected} with {symbol} = {want} to match {source}"
            )
        if symbol in seen and size != seen[symbol]:
            raise ValueError(
                f"{name} has shape {_format_shape(array.shape)}; expected "
                f"{expected} (both {symbol} axes the same size)"
            )
        seen[symbol] = size
    if finite and not np.all(np.isfinite(array)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        raise ValueError(
            f"{name} (shape {_format_shape(array.shape)}) has a non-finite "
            f"entry {array[bad]} at index {bad}; expected finite numbers"
        )
    return array


def check_any_shape(name: str, value: ArrayLike) -> FloatArray:
    """:func:`check_array` for an argument of any shape (dtype and finiteness)."""
    return check_array(name, value, tuple(f"d{i}" for i in range(np.ndim(value))))


def check_like(
    name: str, value: ArrayLike, shape: tuple[int, ...], source: str
) -> FloatArray:
    """Check that ``value`` is a finite float array of exactly ``shape``.

    ``source`` names what fixes the shape, for the error message.
    """
    array = check_any_shape(name, value)
    if array.shape != tuple(shape):
        raise ValueError(
            f"{name} has shape {_format_shape(array.shape)}; expected "
            f"{_format_shape(tuple(shape))} to match {source}"
        )
    return array


T = TypeVar("T")


def require_forward(cache: T | None) -> T:
    """Return a layer's cache, or raise if ``backward`` came before ``forward``."""
    if cache is None:
        raise ValueError("dY arrived before any forward pass; call forward first")
    return cache


def check_positive(name: str, value: float) -> float:
    """Return ``value`` as a float if it is finite and > 0, else raise."""
    number = float(value)
    if not (math.isfinite(number) and number > 0):
        raise ValueError(f"{name} must be a finite number > 0; got {value!r}")
    return number


def check_positive_int(name: str, value: int) -> int:
    """Return ``value`` if it is an integer >= 1, else raise."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer >= 1; got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be an integer >= 1; got {value!r}")
    return int(value)
