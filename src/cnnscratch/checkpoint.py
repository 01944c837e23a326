"""Saving and loading a model's parameters as ``.npz`` (Part 4).

The file holds one array per parameter, under the names of
``Sequential.parameters()`` (``"0.W"``, ``"0.b"``, ...), one per buffer (the
running statistics of batch norm, Part 5) under ``"buffers/"`` followed by
the names of ``Sequential.buffers()``, plus a format marker.
Loading checks everything before it changes anything: a file written for
another architecture, or a truncated or corrupted file, raises
:class:`ValueError` and leaves the model as it was.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path
from typing import Protocol

import numpy as np

from ._validate import FloatArray

FORMAT_KEY = "__format__"
FORMAT = "cnnscratch-parameters-v1"
#: Buffers (state that is saved but not trained) are stored as BUFFER_PREFIX + name.
BUFFER_PREFIX = "buffers/"


class HasParameters(Protocol):
    """Anything with named parameter arrays, like ``network.Sequential``."""

    def parameters(self) -> dict[str, FloatArray]: ...


def _state(model: HasParameters) -> dict[str, FloatArray]:
    """The parameters, and the buffers (if the model has any) under their prefix."""
    state = dict(model.parameters())
    buffers = getattr(model, "buffers", None)
    if callable(buffers):
        state.update({BUFFER_PREFIX + k: v for k, v in buffers().items()})
    return state


def _umask() -> int:
    """The process's file-creation mask (reading it means setting it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def save_parameters(model: HasParameters, path: str | os.PathLike[str]) -> Path:
    """Write ``model.parameters()`` (and its buffers) to ``path`` (``.npz``).

    The file is written to a temporary name beside ``path`` and renamed into
    place, so an interrupted save never leaves a half-written file. It gets
    the permissions of any new file (``0o666`` less the umask).

    Parameters
    ----------
    model : Sequential (anything with ``parameters()``)
    path : str or path-like
        Where to write; ``.npz`` is *not* appended.

    Returns
    -------
    path : pathlib.Path

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from cnnscratch.network import mlp
    >>> model = mlp([4, 3], rng=np.random.default_rng(0))
    >>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
    >>> saved = save_parameters(model, path)
    >>> sorted(np.load(saved).files)
    ['0.W', '0.b', '__format__']
    """
    target = Path(path)
    arrays = {name: np.asarray(value) for name, value in _state(model).items()}
    arrays[FORMAT_KEY] = np.array(FORMAT)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600, as open() would
        with os.fdopen(fd, "wb") as file:
            np.savez(file, **arrays)  # type: ignore[arg-type]
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise
    return target


def read_parameters(path: str | os.PathLike[str]) -> dict[str, FloatArray]:
    """Read every parameter array of a file written by :func:`save_parameters`.

    Parameters
    ----------
    path : str or path-like
        An ``.npz`` file written by :func:`save_parameters`.

    Returns
    -------
    arrays : dict of str to ndarray
        One finite floating-point array per parameter, under the names of
        ``Sequential.parameters()`` (``"0.W"``, ``"0.b"``, ...), each with the
        shape it had when saved; the format marker is not included.

    Raises
    ------
    ValueError
        If the file is missing, is not a parameter file, is truncated or
        corrupted, or holds a non-finite value.
    """
    name = os.fspath(path)
    try:
        with open(path, "rb") as file:  # ours to close, whatever np.load does
            loaded = np.load(file, allow_pickle=False)
            if not isinstance(loaded, np.lib.npyio.NpzFile):
                raise ValueError("it holds a single array, not an .npz archive")
            arrays = {key: loaded[key] for key in loaded.files}
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as error:
        raise ValueError(
            f"{name} cannot be read as a parameter file: {error}"
        ) from error
    marker = arrays.pop(FORMAT_KEY, None)
    if marker is None or str(marker) != FORMAT:
        raise ValueError(
            f"{name} is not a cnnscratch parameter file "
            f"(no {FORMAT_KEY!r} = {FORMAT!r} entry)"
        )
    for key, array in arrays.items():
        if array.dtype.kind != "f" or not np.all(np.isfinite(array)):
            raise ValueError(f"{name}: parameter {key!r} is not a finite float array")
    return arrays


def load_parameters(model: HasParameters, path: str | os.PathLike[str]) -> None:
    """Copy the parameters saved in ``path`` into ``model``, all or nothing.

    Every name and shape in the file must match ``model.parameters()`` (and
    ``model.buffers()``, when the model has batch norm: a file without its
    running statistics is rejected); otherwise a :class:`ValueError` lists
    the differences and the model is left untouched.

    Parameters
    ----------
    model : Sequential (anything with ``parameters()``)
        Its parameter arrays are overwritten in place.
    path : str or path-like
        A file written by :func:`save_parameters`.

    Raises
    ------
    ValueError
        If :func:`read_parameters` rejects the file, or its names or shapes
        differ from the model's.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from cnnscratch.network import mlp
    >>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
    >>> _ = save_parameters(mlp([4, 3], rng=np.random.default_rng(0)), path)
    >>> other = mlp([4, 3], rng=np.random.default_rng(1))
    >>> load_parameters(other, path)
    >>> bool(np.array_equal(other.parameters()["0.W"], np.load(path)["0.W"]))
    True
    >>> bigger = mlp([4, 5, 3], rng=np.random.default_rng(0))
    >>> load_parameters(bigger, path)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: ...model.npz was saved for another architecture: missing 2.W, 2.b; ...
    """
    arrays = read_parameters(path)
    params = _state(model)
    problems = []
    missing = sorted(set(params) - set(arrays))
    extra = sorted(set(arrays) - set(params))
    if missing:
        problems.append("missing " + ", ".join(missing))
    if extra:
        problems.append("unexpected " + ", ".join(extra))
    for name in sorted(set(params) & set(arrays)):
        if arrays[name].shape != params[name].shape:
            problems.append(
                f"{name} has shape {arrays[name].shape} in the file but "
                f"{params[name].shape} in the model"
            )
    if problems:
        raise ValueError(
            f"{os.fspath(path)} was saved for another architecture: "
            + "; ".join(problems)
        )
    for name, param in params.items():
        param[...] = arrays[name]
