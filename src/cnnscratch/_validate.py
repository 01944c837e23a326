"""The one validation layer: every public function checks its arguments here.

Each check raises a :class:`ValueError` whose message starts with the name of
the argument the caller passed, then says what it received and what was
expected, for example::

    W has shape (3, 5); expected (n_out, n_in) with n_in = 4 to match x

Public functions call these helpers once, where the user's values enter the
library; internals trust what they get. Layers validate under their own
argument names (``X``, ``dY``) before they call the functions they wrap.

Arrays
------
Anything NumPy turns into a rectangular array of real numbers is accepted:
lists, tuples, scalars, ndarrays. The dtype policy:

* **float64 and float32 pass through unchanged**: no copy and no cast, so a
  float32 input gives a float32 result wherever the computation keeps it
  (the convolution and pooling fast paths do). Only an array in the other
  byte order is copied, to the machine's.
* **Integers and float16 become float64.** Every float16 value, and every
  integer up to 2**53, is exactly a float64: nothing is lost, and a
  derivative of an integer input is not an integer.
* **Rejected**, with the dtype in the message: booleans (``True`` is not the
  number 1 on purpose), complex numbers (dropping the imaginary part would
  make ``1+1j`` equal ``1``), long double (float64 is the widest precision
  the library computes in; rounding silently would hide values beyond
  float64's range, like 1e400), strings, objects, dates.
* **Ragged** nested lists (rows of different lengths) are rejected, naming
  the argument, before NumPy's own message would.
* **Zero-size axes** are rejected: an empty batch, a kernel with no taps or
  a layer with no units has no meaningful output here.
* **Non-finite** entries (``nan``, ``inf``) are rejected and located.

Scalars and integers
--------------------
Hyper-parameters are real numbers: Python or NumPy ints and floats, never
``bool``, strings, ``None``, complex numbers or arrays (not even 0-d ones),
and always finite. Integer arguments (sizes, counts, steps) must be Python
or NumPy integers, not floats with integer values.

Sizes
-----
No function allocates an array of more than :data:`MAX_ENTRIES` entries;
:func:`check_entries` refuses before NumPy is asked, so an impossible size
(``n_out=2**70``, ``pad(X, 2**40)``) is a one-line error, not a
``MemoryError`` or an overflow deep in NumPy.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.floating]

#: The largest array (number of entries) any function here allocates: 2**27,
#: 1 GiB in float64, far beyond anything the site trains.
MAX_ENTRIES = 2**27


class NonFiniteError(ValueError):
    """An array argument holds ``nan`` or ``inf``.

    A :class:`ValueError` like every other boundary error; training code
    catches this subclass to tell "the weights overflowed" from a bad shape.
    """


def _format_shape(shape: Sequence[object]) -> str:
    """``(3,)`` for one axis, ``(3, 4)`` for two: the way NumPy prints shapes."""
    if len(shape) == 1:
        return f"({shape[0]},)"
    return "(" + ", ".join(str(s) for s in shape) + ")"


def short_repr(value: object) -> str:
    """``repr(value)``, cut to one short line for an error message."""
    text = repr(value).replace("\n", " ")
    return text if len(text) <= 60 else text[:57] + "..."


def as_array(name: str, value: ArrayLike) -> FloatArray:
    """``value`` as a real floating-point array under the module's dtype policy.

    Parameters
    ----------
    name : str
        The argument's name, for the error message.
    value : array_like, any shape

    Returns
    -------
    ndarray, same shape as ``value``
        float32 and float64 arrays unchanged (the same object when ``value``
        is one); integers and float16 as float64.

    Raises
    ------
    ValueError
        If ``value`` is ``None``, ragged, or of a dtype the policy rejects.
    """
    if value is None:
        raise ValueError(f"{name} is None; expected an array of numbers")
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"{name} is not a rectangular array of numbers ({error}); "
            "expected rows of equal length"
        ) from None
    kind, dtype = array.dtype.kind, array.dtype
    if kind == "f" and dtype.itemsize in (4, 8):  # float32, float64
        return array if dtype.isnative else array.astype(dtype.newbyteorder("="))
    if kind in "iu" or (kind == "f" and dtype == np.float16):
        return array.astype(np.float64)
    what = {
        "b": "booleans are not numbers here",
        "c": "complex numbers are not accepted",
        "f": "long double is wider than the float64 the library computes in",
    }.get(kind, "not an array of numbers")
    raise ValueError(
        f"{name} has dtype {dtype} ({what}); expected a real floating-point "
        "(float32 or float64) or integer array"
    )


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
        ``value`` as an array under the dtype policy (:func:`as_array`).

    Raises
    ------
    ValueError
        If the dtype is not accepted, the number of axes or a size is wrong,
        an axis has size 0, or (with ``finite``) an entry is not finite.
    """
    array = as_array(name, value)
    # The messages are built only on failure: this runs on every layer call.
    shape = array.shape

    def fail(detail: str = "") -> ValueError:
        return ValueError(
            f"{name} has shape {_format_shape(shape)}; expected "
            f"{_format_shape(axes)}{detail}"
        )

    if array.ndim != len(axes):
        raise fail()
    seen: dict[str, int] = {}
    for symbol, size in zip(axes, shape, strict=True):
        if symbol in known and size != known[symbol][0]:
            want, source = known[symbol]
            raise fail(f" with {symbol} = {want} to match {source}")
        if symbol in seen and size != seen[symbol]:
            raise fail(f" (both {symbol} axes the same size)")
        seen[symbol] = size
    if array.size == 0:
        raise fail(" with every size >= 1")
    if finite:
        check_finite(name, array)
    return array


def check_finite(name: str, array: FloatArray) -> None:
    """Raise :class:`NonFiniteError` naming the first ``nan`` or ``inf`` entry."""
    if not np.isfinite(array).all():
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        raise NonFiniteError(
            f"{name} (shape {_format_shape(array.shape)}) has a non-finite "
            f"entry {array[bad]} at index {bad}; expected finite numbers"
        )


def check_any_shape(name: str, value: ArrayLike, *, min_ndim: int = 0) -> FloatArray:
    """:func:`check_array` for an argument of any shape with ``min_ndim`` axes or more.

    A 0-d array (a scalar) is accepted when ``min_ndim`` is 0.
    """
    array = as_array(name, value)
    if array.ndim < min_ndim:
        raise ValueError(
            f"{name} has shape {_format_shape(array.shape)}; expected at least "
            f"{min_ndim} axes"
        )
    return check_array(name, array, tuple(f"d{i}" for i in range(array.ndim)))


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


def check_entries(name: str, shape: Sequence[int], what: str = "an array") -> None:
    """Refuse to allocate an array of ``shape`` if it exceeds :data:`MAX_ENTRIES`.

    ``name`` is the argument that makes the array that large; ``what``
    describes the array, for the message.
    """
    entries = math.prod(int(n) for n in shape)
    if entries > MAX_ENTRIES:
        raise ValueError(
            f"{name} asks for {what} of shape {_format_shape(tuple(shape))} "
            f"({entries:.3g} entries); expected at most {MAX_ENTRIES} entries"
        )


def check_labels(
    name: str, value: ArrayLike, n_classes: int | None = None
) -> NDArray[np.intp]:
    """Class labels: a non-empty 1-D array of integers >= 0 (and < ``n_classes``).

    Floats are refused even when whole (``nan``, ``1.5`` and ``1.0`` alike),
    as are booleans and strings: a label is an index.
    """
    if value is None:
        raise ValueError(f"{name} is None; expected (N,) integers")
    try:
        array = np.asarray(value)
    except (ValueError, TypeError):
        raise ValueError(
            f"{name} is not a rectangular array; expected (N,) integers"
        ) from None
    if array.ndim != 1 or array.dtype.kind not in "iu" or array.size == 0:
        raise ValueError(
            f"{name} has shape {_format_shape(array.shape)} and dtype "
            f"{array.dtype}; expected (N,) integers with N >= 1"
        )
    low, high = int(array.min()), int(array.max())
    if low < 0 or (n_classes is not None and high >= n_classes):
        bound = "" if n_classes is None else f" < n_classes = {n_classes}"
        raise ValueError(
            f"{name} has values in [{low}, {high}]; expected 0 <= label{bound}"
        )
    return array.astype(np.intp)


# --- Scalars ----------------------------------------------------------------


def is_int(value: object) -> bool:
    """True for a Python or NumPy integer, not a ``bool``."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def check_real(
    name: str,
    value: object,
    low: float = -math.inf,
    high: float = math.inf,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """``value`` as a finite ``float`` in the interval, else raise naming ``name``.

    Only Python and NumPy ints and floats are real numbers here: ``bool``,
    strings, ``None``, complex numbers and arrays (even 0-d) are rejected.
    """
    if low_open and high == math.inf:
        want = f"a finite number > {low:g}"
    elif low == -math.inf and high == math.inf:
        want = "a finite number"
    else:
        want = (
            f"a finite number in {'(' if low_open else '['}{low:g}, "
            f"{high:g}{')' if high_open else ']'}"
        )
    real = isinstance(value, int | float | np.integer | np.floating)
    if not real or isinstance(value, bool) or np.dtype(type(value)).itemsize > 8:
        raise ValueError(f"{name} must be {want}; got {short_repr(value)}")
    try:
        number = float(value)  # type: ignore[arg-type]
    except OverflowError:  # an int beyond float64's range
        number = math.inf
    inside = (low < number if low_open else low <= number) and (
        number < high if high_open else number <= high
    )
    if not (math.isfinite(number) and inside):
        raise ValueError(f"{name} must be {want}; got {short_repr(value)}")
    return number


def check_positive(name: str, value: object) -> float:
    """Return ``value`` as a float if it is a finite real number > 0, else raise."""
    return check_real(name, value, 0.0, low_open=True)


def check_int(
    name: str, value: object, minimum: int = 1, maximum: int | None = None
) -> int:
    """Return ``value`` as an ``int`` in ``[minimum, maximum]``, else raise.

    Only Python and NumPy integers qualify: not ``bool``, not ``2.0``.
    """
    want = (
        f"an integer >= {minimum}"
        if maximum is None
        else f"an integer in [{minimum}, {maximum}]"
    )
    if not isinstance(value, int | np.integer) or isinstance(value, bool):
        raise ValueError(f"{name} must be {want}; got {short_repr(value)}")
    number = int(value)
    if number < minimum or (maximum is not None and number > maximum):
        raise ValueError(f"{name} must be {want}; got {short_repr(value)}")
    return number


def check_positive_int(name: str, value: object) -> int:
    """Return ``value`` if it is an integer >= 1, else raise."""
    return check_int(name, value, 1)


def check_choice(name: str, value: object, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of the strings ``choices``, else raise."""
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(repr(c) for c in choices[:-1]) + f" or {choices[-1]!r}"
        raise ValueError(f"{name} is {short_repr(value)}; expected {listed}")
    return value


def check_bool(name: str, value: object) -> bool:
    """Return ``value`` as a ``bool`` if it is ``True`` or ``False``, else raise.

    NumPy booleans qualify; ``1``, ``"False"`` (which ``bool`` would turn
    into ``True``) and ``None`` do not.
    """
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"{name} is {short_repr(value)}; expected True or False")
    return bool(value)


def check_rng(name: str, value: object) -> np.random.Generator:
    """Return ``value`` if it is a :class:`numpy.random.Generator`, else raise."""
    if not isinstance(value, np.random.Generator):
        raise ValueError(
            f"{name} is {short_repr(value)}; expected a numpy.random.Generator "
            "(np.random.default_rng(seed))"
        )
    return value


def check_callable(name: str, value: object) -> Callable[..., Any]:
    """Return ``value`` if it can be called, else raise."""
    if not callable(value):
        raise ValueError(f"{name} is {short_repr(value)}; expected a function")
    return value


# --- Caches -----------------------------------------------------------------

T = TypeVar("T")


def check_cache(
    cache: object, kind: type[T], producer: str, arrays: dict[str, int] | None = None
) -> T:
    """Return ``cache`` if it is a ``kind``, what ``producer`` returns, else raise.

    A backward function is the adjoint of one forward function; a cache from
    another forward (or none at all) has no meaning to it. ``arrays`` maps
    fields of the cache to the number of axes their float array must have,
    for a cache put together by hand.
    """
    want = f"the {kind.__name__} that {producer} returns"
    if not isinstance(cache, kind):
        raise ValueError(
            f"cache is {short_repr(cache)} of type {type(cache).__name__}; "
            f"expected {want}"
        )
    for field, ndim in (arrays or {}).items():
        value = getattr(cache, field)
        if not (
            isinstance(value, np.ndarray)
            and value.dtype.kind == "f"
            and value.ndim == ndim
            and value.size > 0
        ):
            raise ValueError(
                f"cache.{field} is {short_repr(value)}; expected {want}, whose "
                f"{field} is a float array with {ndim} axes"
            )
    return cache


def require_forward(cache: T | None) -> T:
    """Return a layer's cache, or raise if ``backward`` came before ``forward``."""
    if cache is None:
        raise ValueError("dY arrived before any forward pass; call forward first")
    return cache


def check_parameter(name: str, value: object) -> NDArray[np.floating]:
    """A parameter array that can be updated in place: float32/64, writeable.

    An update written into an integer array would be truncated, and one
    written into a read-only array fails half-way; both are refused before
    any array changes.
    """
    if not isinstance(value, np.ndarray):
        raise ValueError(
            f"{name} is a {type(value).__name__}; expected a NumPy array "
            "(parameters are updated in place)"
        )
    if value.dtype not in (np.float32, np.float64):
        raise ValueError(
            f"{name} has dtype {value.dtype}; expected float32 or float64 "
            "(an in-place update would be rounded to the array's dtype)"
        )
    if not value.flags.writeable:
        raise ValueError(f"{name} is read-only; expected a writeable array")
    return value
