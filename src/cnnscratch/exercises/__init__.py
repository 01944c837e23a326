"""Exercises: the reader writes a layer, the checker grades it and names the bug.

Each exercise is one entry of :data:`EXERCISES`: the reader's signature, a
battery of cases ordered by size, the package's verified implementation as
the reference and a catalogue of known bugs. :func:`check` runs the reader's
function on every case in a child process with a time limit per case, and
returns a :class:`Report`: on failure, the smallest failing case, the first
wrong index with the expected and received values, and the known bugs whose
output the reader's matches on every case. The command line
(``python -m cnnscratch exercise NAME`` and ``check NAME FILE.py``) prints
the same report. See the page "Exercises".

Adding an exercise is adding one :class:`Exercise` to :data:`EXERCISES`.

Examples
--------
>>> import numpy as np
>>> def dense_backward(dZ, X, W):
...     return dZ @ W, dZ.T @ X, dZ.sum(axis=0)
>>> check("dense_backward", dense_backward).passed
True
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ._core import TOLERANCE, Case, Exercise, KnownBug, Report, grade
from ._part2 import DENSE_BACKWARD, SOFTMAX_CROSS_ENTROPY_GRADIENT
from ._part3 import (
    CONV2D_BACKWARD,
    CONV2D_FORWARD,
    MAXPOOL2D_BACKWARD,
    MAXPOOL2D_FORWARD,
)
from ._runner import UsageError, compile_file, run

__all__ = [
    "EXERCISES",
    "TIME_LIMIT",
    "TOLERANCE",
    "Case",
    "Exercise",
    "KnownBug",
    "Report",
    "UsageError",
    "check",
    "check_file",
    "get",
    "starter",
    "write_starter",
]

#: Every exercise, by name, in the order of the pages.
EXERCISES: dict[str, Exercise] = {
    e.name: e
    for e in (
        DENSE_BACKWARD,
        SOFTMAX_CROSS_ENTROPY_GRADIENT,
        CONV2D_FORWARD,
        CONV2D_BACKWARD,
        MAXPOOL2D_FORWARD,
        MAXPOOL2D_BACKWARD,
    )
}
#: Seconds the reader's function may take on one case before it is stopped.
TIME_LIMIT = 5.0


def get(name: str) -> Exercise:
    """The exercise called ``name``; a :class:`UsageError` naming them all if none."""
    if isinstance(name, str) and name in EXERCISES:
        return EXERCISES[name]
    raise UsageError(
        f"no exercise named {name!r}; expected name to be one of {', '.join(EXERCISES)}"
    )


def check(
    name: str,
    fn: Callable[..., Any],
    *,
    forward: Callable[..., Any] | None = None,
    time_limit: float = TIME_LIMIT,
) -> Report:
    """Grade ``fn``, the reader's implementation of exercise ``name``.

    Parameters
    ----------
    name : str
        A key of :data:`EXERCISES`, such as ``"conv2d_backward"``.
    fn : callable
        The reader's function, with the exercise's signature (plain arrays
        in, plain arrays out).
    forward : callable, optional
        For a backward exercise, the reader's forward pass (the signature of
        the forward exercise): the report then also compares ``fn`` with
        finite differences of it, on the smallest case with wrong values.
    time_limit : float
        Seconds allowed per case; a slower case stops the run.

    Returns
    -------
    Report
        ``passed`` and the text that ``python -m cnnscratch check`` prints.

    Raises
    ------
    UsageError
        If ``name`` is not an exercise.
    TypeError
        If ``fn`` or ``forward`` is not callable.
    """
    exercise = get(name)
    for argument, value in (("fn", fn), ("forward", forward)):
        if value is not None and not callable(value):
            raise TypeError(f"{argument} must be a function; got {value!r}")
    cases = exercise.cases()
    outcomes, numerical = run(
        exercise, cases, time_limit=time_limit, fn=fn, forward=forward
    )
    return grade(exercise, cases, outcomes, len(cases), numerical)


def check_file(
    name: str, path: str | Path, *, time_limit: float = TIME_LIMIT
) -> Report:
    """Grade the function ``name`` defined in the reader's file ``path``.

    The file is compiled here and imported only in the child process. For a
    backward exercise, a forward pass defined in the same file (a function
    named like the forward exercise, such as ``conv2d_forward``) is used for
    finite differences, as the ``forward`` argument of :func:`check` is.

    Raises
    ------
    UsageError
        If ``name`` is not an exercise, the file is missing or has a syntax
        error, raises while loading, or defines no function ``name``.
    """
    exercise = get(name)
    file = Path(path)
    compile_file(file)
    cases = exercise.cases()
    outcomes, numerical = run(exercise, cases, time_limit=time_limit, path=file)
    return grade(exercise, cases, outcomes, len(cases), numerical)


def starter(name: str) -> str:
    """The text of the starter file ``NAME.py``: signature, docstring, no body."""
    exercise = get(name)
    arguments = exercise.signature.split(" -> ")[0]
    tested = "\n".join(f"- {line}" for line in exercise.tests)
    return f'''"""Exercise {exercise.name}, from 'CNNs from Scratch'.

{exercise.summary}
Write the body of the function below, with NumPy only, then grade it:

    python -m cnnscratch check {exercise.name} {exercise.name}.py

The derivation is on the site's page {exercise.page.replace(".md", "/")}.

The checker tests:
{tested}
"""

import numpy as np


def {arguments}:
    """{exercise.docstring.rstrip()}
    """
    raise NotImplementedError
'''


def write_starter(name: str, folder: str | Path = ".") -> Path:
    """Write :func:`starter` to ``folder/NAME.py``; never overwrite a file.

    Raises
    ------
    UsageError
        If ``name`` is not an exercise or the file already exists.
    """
    text = starter(name)
    path = Path(folder) / f"{name}.py"
    try:
        with path.open("x", encoding="utf-8") as file:
            file.write(text)
    except FileExistsError:
        raise UsageError(f"{path} already exists; not overwriting it") from None
    except OSError as error:
        raise UsageError(f"{path} could not be written ({error.strerror})") from None
    return path
