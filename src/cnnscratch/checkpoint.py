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

import io
import math
import os
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import Protocol

import numpy as np

from ._validate import (
    MAX_ENTRIES,
    FloatArray,
    as_array,
    check_finite,
    check_parameter,
)

FORMAT_KEY = "__format__"
FORMAT = "cnnscratch-parameters-v1"
#: Most arrays a parameter file may hold (a model has a few per layer).
MAX_MEMBERS = 1000
#: Buffers (state that is saved but not trained) are stored as BUFFER_PREFIX + name.
BUFFER_PREFIX = "buffers/"


class HasParameters(Protocol):
    """Anything with named parameter arrays, like ``network.Sequential``."""

    def parameters(self) -> dict[str, FloatArray]: ...


def _state(model: HasParameters) -> dict[str, FloatArray]:
    """The parameters, and the buffers (if the model has any) under their prefix."""
    state = dict(_parameters(model))
    buffers = getattr(model, "buffers", None)
    if callable(buffers):
        state.update({BUFFER_PREFIX + k: v for k, v in buffers().items()})
    return state


def _umask() -> int:
    """The process's file-creation mask (reading it means setting it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _as_path(path: object) -> Path:
    """``path`` as a :class:`~pathlib.Path`, if it is a str or path-like."""
    if not isinstance(path, str | os.PathLike) or isinstance(path, bytes):
        raise ValueError(
            f"path is {path!r}; expected a file name (a str or a path-like)"
        )
    text = os.fspath(path)
    if not isinstance(text, str) or not text or "\0" in text:
        raise ValueError(f"path is {path!r}; expected a file name")
    return Path(text)


def _parameters(model: object) -> dict[str, FloatArray]:
    """``model.parameters()``, checked to be a dict of name → float array."""
    method = getattr(model, "parameters", None)
    if not callable(method):
        raise ValueError(
            f"model is a {type(model).__name__}; expected a model with a "
            "parameters() method (a Sequential)"
        )
    params = method()
    if not isinstance(params, dict) or not all(isinstance(k, str) for k in params):
        raise ValueError("model.parameters() is not a dict of name -> array")
    return params


def save_parameters(model: HasParameters, path: str | os.PathLike[str]) -> Path:
    """Write ``model.parameters()`` (and its buffers) to ``path`` (``.npz``).

    The file is written to a temporary name beside ``path`` and renamed into
    place, so an interrupted save never leaves a half-written file. It gets
    the permissions of any new file (``0o666`` less the umask).

    Parameters
    ----------
    model : Sequential (anything with ``parameters()``)
        Every parameter must be finite: a file holding ``nan`` could never be
        loaded, so none is written.
    path : str or path-like
        Where to write; ``.npz`` is *not* appended.

    Returns
    -------
    path : pathlib.Path

    Raises
    ------
    ValueError
        If a parameter is not a finite float32/float64 array, or ``path``
        cannot be written (a missing folder, a directory, a name too long);
        the message names ``path`` as given, and no file is left behind.

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
    target = _as_path(path)
    arrays: dict[str, np.ndarray] = {}
    for name, value in _state(model).items():
        label = f"model parameter {name!r}"
        array = as_array(label, value)
        if array.dtype not in (np.float32, np.float64) or name == FORMAT_KEY:
            raise ValueError(f"{label} cannot be saved (dtype {array.dtype})")
        check_finite(label, array)
        arrays[name] = array
    arrays[FORMAT_KEY] = np.array(FORMAT)
    folder = target.parent
    try:
        if target.is_dir():
            raise ValueError(f"path {target} is a directory; expected a file name")
        if not folder.is_dir():
            raise ValueError(f"path {target}: the folder {folder} does not exist")
        # A short temporary name: one built from a long target name could
        # pass the file system's limit where the target itself does not.
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".cnnscratch-", suffix=".tmp")
    except OSError as error:
        raise ValueError(
            f"path {target} cannot be written ({error.strerror})"
        ) from error
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600, as open() would
        with os.fdopen(fd, "wb") as file:
            np.savez(file, **arrays)  # type: ignore[arg-type]
        os.replace(tmp, target)
    except OSError as error:
        os.unlink(tmp)
        raise ValueError(
            f"path {target} cannot be written ({error.strerror})"
        ) from error
    except BaseException:
        os.unlink(tmp)
        raise
    return target


class _Unreadable(Exception):
    """Why a file is not a parameter file; reported as one ValueError."""


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    """One ``.npy`` member, its header checked before any array is allocated."""
    label = repr(info.filename)
    if info.is_dir() or not info.filename.endswith(".npy"):
        raise _Unreadable(f"member {label} is not a .npy array")
    if info.flag_bits & 0x1:
        raise _Unreadable(f"member {label} is encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise _Unreadable(f"member {label} uses an unsupported compression")
    if info.file_size > 8 * MAX_ENTRIES + 65536:
        raise _Unreadable(f"member {label} is too large ({info.file_size} bytes)")
    data = archive.read(info)  # checks the CRC
    stream = io.BytesIO(data)
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
    elif version == (2, 0):
        shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
    else:
        raise _Unreadable(f"member {label} has .npy version {version}")
    if dtype.hasobject:
        raise _Unreadable(f"member {label} holds Python objects")
    entries = math.prod(shape)
    if entries > MAX_ENTRIES or len(data) != stream.tell() + entries * dtype.itemsize:
        raise _Unreadable(
            f"member {label}'s header (shape {shape}, dtype {dtype}) does not "
            f"match its {len(data)} bytes"
        )
    stream.seek(0)
    array: np.ndarray = np.lib.format.read_array(stream, allow_pickle=False)
    return array


def _read_archive(path: Path) -> dict[str, np.ndarray]:
    """Every member of the archive at ``path``, keyed by name without ``.npy``."""
    with open(path, "rb") as file, zipfile.ZipFile(file) as archive:
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise _Unreadable(f"it has {len(infos)} members")
        arrays: dict[str, np.ndarray] = {}
        for info in infos:
            key = info.filename.removesuffix(".npy")
            if key in arrays:
                raise _Unreadable(f"member {info.filename!r} appears twice")
            arrays[key] = _read_member(archive, info)
    return arrays


def read_parameters(path: str | os.PathLike[str]) -> dict[str, FloatArray]:
    """Read every parameter array of a file written by :func:`save_parameters`.

    Nothing is unpickled, and every member's header is checked (dtype, shape
    against its size) before an array is allocated.

    Parameters
    ----------
    path : str or path-like
        An ``.npz`` file written by :func:`save_parameters`.

    Returns
    -------
    arrays : dict of str to ndarray
        One finite float32 or float64 array per parameter, under the names of
        ``Sequential.parameters()`` (``"0.W"``, ``"0.b"``, ...), each with the
        shape it had when saved; the format marker is not included.

    Raises
    ------
    ValueError
        If the file is missing, is not a parameter file, is truncated or
        corrupted (in any member, in any way), or holds a non-finite value;
        always one line that names the file.
    """
    target = _as_path(path)
    name = os.fspath(target)
    try:
        arrays = _read_archive(target)
    except (
        _Unreadable,
        OSError,
        EOFError,
        ValueError,
        zipfile.BadZipFile,
        zlib.error,
        NotImplementedError,
        RuntimeError,
    ) as error:
        reason = str(error).replace("\n", " ")
        raise ValueError(
            f"{name} cannot be read as a parameter file: {reason}"
        ) from error
    marker = arrays.pop(FORMAT_KEY, None)
    if marker is None or marker.shape != () or str(marker) != FORMAT:
        raise ValueError(
            f"{name} is not a cnnscratch parameter file "
            f"(no {FORMAT_KEY!r} = {FORMAT!r} entry)"
        )
    for key, array in arrays.items():
        if array.dtype not in (np.float32, np.float64) or not np.all(
            np.isfinite(array)
        ):
            raise ValueError(
                f"{name}: parameter {key!r} is not a finite float array "
                f"(float32 or float64; it has dtype {array.dtype})"
            )
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
    params = _state(model)
    arrays = read_parameters(path)
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
    for name, param in params.items():  # every array writable before any write
        check_parameter(f"model parameter {name!r}", param)
    for name, param in params.items():
        param[...] = arrays[name]
