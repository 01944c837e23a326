"""Run the reader's function in a child process, one case at a time.

One child per check: it loads the function (imports the reader's file, or
inherits the function object through ``fork``), then answers one case per
request over a pipe. The parent waits at most ``time_limit`` seconds for each
answer; a case that takes longer (an infinite loop) or a child that dies (a
crash, ``os._exit``) ends the run, and the child is killed, so the checker
never hangs. Exceptions are caught in the child and sent back with their
traceback trimmed to the reader's own file.

The child is started with ``fork`` where the system has it (Linux, macOS),
so a function typed into a notebook or a doctest can be checked; elsewhere
``spawn`` is used, and only functions importable from a file can be.
"""

from __future__ import annotations

import importlib.util
import io
import multiprocessing
import re
import sys
import traceback
import warnings
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

from ._core import (
    Case,
    Exercise,
    Outcome,
    Raised,
    Returned,
    Stopped,
    _relative_error,
    first_failure,
)


class UsageError(ValueError):
    """The check could not start: a missing file, a syntax error, no function.

    A :class:`ValueError`, like every refusal of the package's arguments.
    """


class _Loader:
    """Produces the reader's function inside the child, and names its file.

    ``forward`` names the reader's forward pass (a function given directly,
    or a name looked up in the file), used for finite differences.
    """

    def __init__(
        self,
        name: str,
        fn: Callable[..., Any] | None,
        path: Path | None,
        forward: Callable[..., Any] | str | None = None,
    ):
        self.name, self.fn, self.path, self.forward = name, fn, path, forward
        self.forward_fn: Callable[..., Any] | None = None

    @property
    def filename(self) -> str:
        if self.path is not None:
            return str(self.path.absolute())
        code = getattr(self.fn, "__code__", None)
        return code.co_filename if code is not None else ""

    def load(self) -> Callable[..., Any]:
        if self.fn is not None:
            if callable(self.forward):
                self.forward_fn = self.forward
            return self.fn
        assert self.path is not None
        # A name of its own: a reader's numpy.py must not replace numpy.
        stem = "_exercise_" + (self.path.stem if self.path.stem.isidentifier() else "")
        spec = importlib.util.spec_from_file_location(stem, self.filename)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[stem] = module
        sys.path.insert(0, str(self.path.absolute().parent))  # the reader's helpers
        try:
            spec.loader.exec_module(module)
        except Exception as error:
            frames = _own_frames(error, self.filename)
            where = f" (line {frames[-1].lineno})" if frames else ""
            raise UsageError(
                f"{self.path} raised {type(error).__name__} while loading{where}: "
                f"{error}"
            ) from None
        fn = getattr(module, self.name, None)
        if isinstance(self.forward, str):
            forward = getattr(module, self.forward, None)
            self.forward_fn = forward if callable(forward) else None
        if not callable(fn):
            raise UsageError(f"{self.path} defines no function named {self.name}")
        return fn  # type: ignore[no-any-return]


def compile_file(path: Path) -> None:
    """Raise :class:`UsageError` unless ``path`` is a readable Python file."""
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    try:
        source = path.read_text(encoding="utf-8")
        compile(source, str(path), "exec")
    except SyntaxError as error:
        raise UsageError(
            f"{path}, line {error.lineno}: syntax error: {error.msg}"
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise UsageError(f"{path} cannot be read: {error}") from None


def _own_frames(error: BaseException, filename: str) -> list[traceback.FrameSummary]:
    return [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if frame.filename == filename
    ]


def _display(filename: str) -> str:
    """A file name without its folders, also inside ``<doctest /a/b.md[0]>``."""
    return re.sub(r"[^\s<]*[/\\]", "", filename)


def _trimmed_traceback(error: BaseException, filename: str) -> str:
    """The traceback's frames in the reader's file only, without absolute paths."""
    frames = _own_frames(error, filename)
    if not frames:
        return ""
    lines = ["Traceback (your code only):"]
    for frame in frames:
        lines.append(
            f'  File "{_display(frame.filename)}", line {frame.lineno}, in {frame.name}'
        )
        if frame.line:
            lines.append(f"    {frame.line.strip()}")
    return "\n".join(lines)


def _portable(value: Any) -> Any:
    """The return value with arrays for array-likes, so it pickles cleanly."""
    if isinstance(value, tuple | list):
        return type(value)(_portable(v) for v in value)
    try:
        return np.asarray(value)
    except Exception:
        return repr(value)


def _child(
    conn: Connection,
    loader: _Loader,
    cases: list[Case],
    numerical: Callable[[Case, Callable[..., Any]], tuple[Any, ...] | None] | None,
) -> None:
    sys.stdout = sys.stderr = io.StringIO()  # the reader's prints go nowhere
    try:
        fn = loader.load()
    except UsageError as error:
        conn.send(("usage", str(error)))
        return
    conn.send(("ready", loader.forward_fn is not None))
    while (request := conn.recv()) is not None:
        index, finite_differences = request
        try:
            with np.errstate(all="ignore"):
                if finite_differences:
                    assert numerical is not None
                    assert loader.forward_fn is not None
                    value = _compare(cases[index], fn, loader.forward_fn, numerical)
                else:
                    value = _portable(cases[index].call(fn))
        except BaseException as error:  # SystemExit too: the child must answer
            trace = _trimmed_traceback(error, loader.filename)
            conn.send(("raised", (type(error).__name__, str(error), trace)))
            continue
        try:
            conn.send(("ok", value))
        except Exception:
            conn.send(("ok", repr(value)))


def _compare(
    case: Case,
    fn: Callable[..., Any],
    forward: Callable[..., Any],
    numerical: Callable[[Case, Callable[..., Any]], tuple[Any, ...] | None],
) -> tuple[float, ...] | None:
    """Relative error of each backward output against finite differences."""
    numeric = numerical(case, forward)
    if numeric is None:
        return None
    outputs = case.call(fn)
    return tuple(
        _relative_error(np.asarray(got, dtype=np.float64), want)
        for got, want in zip(outputs, numeric, strict=True)
    )


def _start(
    loader: _Loader,
    cases: list[Case],
    numerical: Callable[[Case, Callable[..., Any]], tuple[Any, ...] | None] | None,
) -> tuple[Any, Connection]:
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    context: Any = multiprocessing.get_context(method)  # fork's or spawn's
    parent, child = context.Pipe()
    process = context.Process(
        target=_child, args=(child, loader, cases, numerical), daemon=True
    )
    with warnings.catch_warnings():
        # Python warns that fork in a threaded process (a Jupyter kernel) may
        # deadlock; the child only computes and writes to its pipe.
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        process.start()
    child.close()
    return process, parent


#: The finite-difference request calls the forward pass twice per input
#: entry, and loading a file may import slow modules: both may take this
#: many times the per-case time limit.
NUMERICAL_SLACK = 10


class _Session:
    """The parent's end of one child: ask for a case, wait, or give up."""

    def __init__(self, process: Any, conn: Connection, time_limit: float):
        self.process, self.conn, self.time_limit = process, conn, time_limit

    def ask(self, request: tuple[int, bool], slack: float = 1) -> Outcome:
        limit = self.time_limit * slack
        self.conn.send(request)
        if not self.conn.poll(limit):
            return Stopped(
                f"no answer within the time limit of {limit:g} s (an infinite "
                "loop?); larger cases were not run"
            )
        try:
            status, payload = self.conn.recv()
        except EOFError:
            self.process.join(1)
            return Stopped(
                f"the process running your function died (exit code "
                f"{self.process.exitcode}); larger cases were not run"
            )
        return Raised(*payload) if status == "raised" else Returned(payload)


def run(
    exercise: Exercise,
    cases: list[Case],
    *,
    time_limit: float,
    fn: Callable[..., Any] | None = None,
    path: Path | None = None,
    forward: Callable[..., Any] | None = None,
) -> tuple[list[Outcome], tuple[int, Outcome] | None]:
    """The outcome of each case, in order, until a case times out or crashes.

    Then, for a backward exercise whose forward pass the reader gave (the
    ``forward`` function, or a function named like the forward exercise in
    the file), the comparison with finite differences of that forward pass
    on the smallest case with wrong values. Raises :class:`UsageError` if
    the function cannot be loaded.
    """
    wanted = forward if forward is not None else exercise.forward
    numerical = exercise.numerical if exercise.forward else None
    loader = _Loader(exercise.name, fn, path, wanted if numerical else None)
    process, conn = _start(loader, cases, numerical)
    session = _Session(process, conn, time_limit)
    outcomes: list[Outcome] = []
    finite_differences: tuple[int, Outcome] | None = None
    shown = path or exercise.name
    try:
        load_limit = time_limit * NUMERICAL_SLACK  # imports may be slow
        if not conn.poll(load_limit):
            raise UsageError(f"{shown} did not load within {load_limit:g} s")
        try:
            status, payload = conn.recv()
        except EOFError:
            raise UsageError(f"{shown} stopped Python while loading") from None
        if status == "usage":
            raise UsageError(payload)
        has_forward = bool(payload)
        for index in range(len(cases)):
            outcomes.append(session.ask((index, False)))
            if isinstance(outcomes[-1], Stopped):
                break
        else:
            index_ = first_failure(exercise, cases, outcomes) if has_forward else None
            result: Outcome | None = None
            if index_ is not None:
                result = session.ask((index_, True), slack=NUMERICAL_SLACK)
                if not (isinstance(result, Returned) and result.value is None):
                    finite_differences = (index_, result)
            if not isinstance(result, Stopped):  # else the child is busy: killed
                conn.send(None)
    except (BrokenPipeError, ConnectionResetError):
        outcomes.append(Stopped("the process running your function closed its pipe"))
    finally:
        conn.close()
        process.join(0.5)
        if process.is_alive():
            process.kill()
            process.join()
    return outcomes, finite_differences
