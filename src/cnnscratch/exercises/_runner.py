"""Run the reader's function in a child process, one case at a time.

One child per check: it loads the function (imports the reader's file, or
inherits the function object through ``fork``), then answers one case per
request over a pipe. The parent waits at most ``time_limit`` seconds for each
answer; a case that takes longer (an infinite loop) or a child that dies (a
crash, ``os._exit``) ends the run, and the child is killed, so the checker
never hangs. Exceptions are caught in the child and sent back with their
traceback trimmed to the reader's own file.
"""

from __future__ import annotations

import importlib.util
import io
import multiprocessing
import os
import sys
import traceback
import warnings
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

from ._core import Case, Outcome, Raised, Returned, Stopped


class UsageError(Exception):
    """The check could not start: a missing file, a syntax error, no function."""


class _Loader:
    """Produces the reader's function inside the child, and names its file."""

    def __init__(self, name: str, fn: Callable[..., Any] | None, path: Path | None):
        self.name, self.fn, self.path = name, fn, path

    @property
    def filename(self) -> str:
        if self.path is not None:
            return str(self.path.absolute())
        code = getattr(self.fn, "__code__", None)
        return code.co_filename if code is not None else ""

    def load(self) -> Callable[..., Any]:
        if self.fn is not None:
            return self.fn
        assert self.path is not None
        stem = self.path.stem if self.path.stem.isidentifier() else "exercise"
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


def _trimmed_traceback(error: BaseException, filename: str) -> str:
    """The traceback's frames in the reader's file only, without absolute paths."""
    frames = _own_frames(error, filename)
    if not frames:
        return ""
    lines = ["Traceback (your code only):"]
    for frame in frames:
        lines.append(
            f'  File "{os.path.basename(frame.filename)}", line {frame.lineno}, '
            f"in {frame.name}"
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


def _child(conn: Connection, loader: _Loader, cases: list[Case]) -> None:
    sys.stdout = sys.stderr = io.StringIO()  # the reader's prints go nowhere
    try:
        fn = loader.load()
    except UsageError as error:
        conn.send(("usage", str(error)))
        return
    conn.send(("ready", None))
    while (index := conn.recv()) is not None:
        try:
            with np.errstate(all="ignore"):
                value = _portable(cases[index].call(fn))
        except BaseException as error:  # SystemExit too: the child must answer
            trace = _trimmed_traceback(error, loader.filename)
            conn.send(("raised", (type(error).__name__, str(error), trace)))
            continue
        try:
            conn.send(("ok", value))
        except Exception:
            conn.send(("ok", repr(value)))


def _start(loader: _Loader, cases: list[Case]) -> tuple[Any, Connection]:
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    context: Any = multiprocessing.get_context(method)  # fork's or spawn's
    parent, child = context.Pipe()
    process = context.Process(target=_child, args=(child, loader, cases), daemon=True)
    with warnings.catch_warnings():
        # Python warns that fork in a threaded process (a Jupyter kernel) may
        # deadlock; the child only computes and writes to its pipe.
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        process.start()
    child.close()
    return process, parent


def run(
    name: str,
    cases: list[Case],
    *,
    time_limit: float,
    fn: Callable[..., Any] | None = None,
    path: Path | None = None,
) -> list[Outcome]:
    """The outcome of each case, in order, until a case times out or crashes.

    Raises :class:`UsageError` if the function cannot be loaded.
    """
    process, conn = _start(_Loader(name, fn, path), cases)
    outcomes: list[Outcome] = []
    try:
        if not conn.poll(time_limit):
            raise UsageError(f"{path or name} did not load within {time_limit:g} s")
        try:
            status, payload = conn.recv()
        except EOFError:
            raise UsageError(f"{path or name} stopped Python while loading") from None
        if status == "usage":
            raise UsageError(payload)
        for index in range(len(cases)):
            conn.send(index)
            if not conn.poll(time_limit):
                outcomes.append(
                    Stopped(
                        f"no answer within the time limit of {time_limit:g} s "
                        "(an infinite loop?); larger cases were not run"
                    )
                )
                break
            try:
                status, payload = conn.recv()
            except EOFError:
                process.join(1)
                outcomes.append(
                    Stopped(
                        f"the process running your function died (exit code "
                        f"{process.exitcode}); larger cases were not run"
                    )
                )
                break
            if status == "raised":
                outcomes.append(Raised(*payload))
            else:
                outcomes.append(Returned(payload))
        else:
            conn.send(None)
    except (BrokenPipeError, ConnectionResetError):
        outcomes.append(Stopped("the process running your function closed its pipe"))
    finally:
        conn.close()
        process.join(0.5)
        if process.is_alive():
            process.kill()
            process.join()
    return outcomes
