"""What an exercise is, and how a reader's outputs are graded into a report.

An :class:`Exercise` holds a battery of :class:`Case` objects (ordered by
element count, so the first failing case is the smallest), the package's
verified implementation as the reference, and a catalogue of
:class:`KnownBug` objects: each one a *buggy implementation* of one output.
A wrong output is diagnosed by comparing it with the output of each known bug
on every case, never by reading the reader's source.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.floating]
#: Relative error (Frobenius norm) under which an output counts as correct.
#: Correct implementations that sum in another order differ by ~1e-15.
TOLERANCE = 1e-8
#: Where the site's pages live in a clone; links in reports point there.
DOCS = "docs/"


@dataclass(frozen=True)
class Case:
    """One call of the reader's function: its arguments and what they test.

    ``args`` are the arrays passed positionally, named by ``names``;
    ``kwargs`` the hyper-parameters, passed by keyword.
    """

    names: tuple[str, ...]
    args: tuple[Array, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    @property
    def size(self) -> int:
        """Number of input elements: the battery is sorted by it."""
        return sum(int(a.size) for a in self.args)

    def call(self, fn: Callable[..., Any]) -> Any:
        """``fn`` on fresh copies of the arguments (a reader may mutate them)."""
        return fn(*(a.copy() for a in self.args), **self.kwargs)

    def describe(self) -> str:
        """``X (1, 1, 3, 3), W (1, 1, 2, 2), stride 2``: shapes, then options."""
        pairs = zip(self.names, self.args, strict=True)
        parts = [f"{n} {_shape(a.shape)}" for n, a in pairs]
        parts += [f"{k} {v}" for k, v in self.kwargs.items()]
        text = ", ".join(parts)
        return f"{text} ({self.note})" if self.note else text


@dataclass(frozen=True)
class KnownBug:
    """A classic mistake, as an implementation of the one output it breaks.

    ``compute`` takes the reader's arguments and returns what a function with
    this bug returns for ``output`` (it may raise where such a function would).
    """

    key: str
    output: str
    text: str
    link: str
    compute: Callable[..., Any]


@dataclass(frozen=True)
class Exercise:
    """One exercise: the reader's signature, a battery, a reference, known bugs."""

    name: str
    signature: str
    summary: str
    docstring: str
    outputs: tuple[str, ...]
    battery: Callable[[], list[Case]]
    reference: Callable[..., tuple[Array, ...]]
    bugs: tuple[KnownBug, ...]
    page: str
    tests: tuple[str, ...]
    #: For a backward exercise: the exercise whose function is its forward
    #: pass, and the finite-difference gradients of a scalar loss through
    #: that forward pass, one per output (None where they mean nothing).
    forward: str | None = None
    numerical: Callable[[Case, Callable[..., Any]], tuple[Any, ...] | None] | None = (
        None
    )

    def cases(self) -> list[Case]:
        """The battery, smallest case (fewest input elements) first."""
        return sorted(self.battery(), key=lambda case: case.size)


# ---------------------------------------------------------------------------
# What came back from the reader's function


@dataclass(frozen=True)
class Returned:
    """The reader's function returned ``value`` (converted to arrays)."""

    value: Any


@dataclass(frozen=True)
class Raised:
    """The reader's function raised; ``kind`` is the exception's class name."""

    kind: str
    message: str
    traceback: str


@dataclass(frozen=True)
class Stopped:
    """The child process running the reader's code timed out or died."""

    reason: str


Outcome = Returned | Raised | Stopped


# ---------------------------------------------------------------------------
# The report


@dataclass(frozen=True)
class Report:
    """The verdict of :func:`cnnscratch.exercises.check`.

    ``passed`` is True when every case passed; ``bugs`` holds the keys of the
    known bugs the wrong outputs match, and ``diagnoses`` the same as
    ``(output, key)`` pairs; ``text`` is what the command line prints (also
    the report's ``str`` and ``repr``).
    """

    exercise: str
    passed: bool
    text: str
    failed: int
    total: int
    diagnoses: tuple[tuple[str, str], ...] = ()

    @property
    def bugs(self) -> tuple[str, ...]:
        """The keys of the known bugs named, without repeats, in report order."""
        return tuple(dict.fromkeys(key for _, key in self.diagnoses))

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text


def _shape(shape: Sequence[int]) -> str:
    return (
        "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
    )


def _number(value: float) -> str:
    return f"{value:.6g}"


def same(a: Any, b: Any) -> bool:
    """Equal shapes, non-finite entries in the same places, finite ones close."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or not (_is_real(a) and _is_real(b)):
        return False
    a, b = a.astype(np.float64), b.astype(np.float64)
    finite_a, finite_b = np.isfinite(a), np.isfinite(b)
    if not np.array_equal(finite_a, finite_b):
        return False
    if not np.array_equal(a[~finite_a], b[~finite_b], equal_nan=True):
        return False
    return _relative_error(a[finite_a], b[finite_b]) < TOLERANCE


def _is_real(a: NDArray[Any]) -> bool:
    return a.dtype.kind in "fiub"


def _relative_error(a: Array, b: Array) -> float:
    scale = max(float(np.linalg.norm(a)), float(np.linalg.norm(b)))
    return 0.0 if scale == 0.0 else float(np.linalg.norm(a - b)) / scale


def _as_outputs(value: Any, names: tuple[str, ...]) -> tuple[Any, ...] | str:
    """The reader's return value as one entry per output, or what is wrong."""
    if len(names) == 1:
        if isinstance(value, tuple):
            return f"returned a tuple of {len(value)}; expected one array, {names[0]}"
        return (value,)
    if not isinstance(value, tuple | list) or len(value) != len(names):
        kind = type(value).__name__
        article = "an" if kind[0] in "aeiou" else "a"
        what = f"{article} {kind}"
        if isinstance(value, tuple | list):
            what += f" of {len(value)}"
        return f"returned {what}; expected a tuple ({', '.join(names)})"
    return tuple(value)


def _first_problem(got: Any, expected: Array, name: str) -> str | None:
    """One line on what is wrong with output ``name``, or None if it is right."""
    got = np.asarray(got)
    if got.shape != expected.shape:
        return (
            f"{name} has shape {_shape(got.shape)}; expected {_shape(expected.shape)}"
        )
    if got.dtype != expected.dtype:
        return f"{name} has dtype {got.dtype}; expected {expected.dtype}"
    bad_finite = np.isfinite(got) != np.isfinite(expected)
    if bad_finite.any():
        index = tuple(int(i) for i in np.argwhere(bad_finite)[0])
        return (
            f"{name}{list(index)}: expected {_number(expected[index])}, got "
            f"{_number(got[index])} (not finite: an overflow?)"
        )
    error = _relative_error(got, expected)
    if error < TOLERANCE:
        return None
    difference = np.abs(got - expected)
    scale = float(np.max(np.abs(expected), initial=0.0))
    wrong = np.argwhere(difference > TOLERANCE * max(scale, 1e-300))
    # The first entry off by more than the tolerance; if the error is spread
    # thinly over many entries, the entry that is off the most.
    flat = np.unravel_index(int(np.argmax(difference)), difference.shape)
    index = tuple(int(i) for i in (wrong[0] if len(wrong) else flat))
    return (
        f"{name}{list(index)}: expected {_number(expected[index])}, got "
        f"{_number(got[index])} (relative error of {name}: {error:.2g})"
    )


def first_failure(
    exercise: Exercise, cases: list[Case], outcomes: list[Outcome]
) -> int | None:
    """The smallest case whose outputs came back with the right shapes but
    wrong values: where finite differences can say more. None if there is none.
    """
    for i, outcome in enumerate(outcomes):
        if not isinstance(outcome, Returned):
            continue
        outputs = _as_outputs(outcome.value, exercise.outputs)
        if isinstance(outputs, str):
            continue
        expected = cases[i].call(exercise.reference)
        shapes = [
            np.shape(g) == w.shape for g, w in zip(outputs, expected, strict=True)
        ]
        wrong = [
            _first_problem(g, w, "") is not None
            for g, w in zip(outputs, expected, strict=True)
        ]
        if all(shapes) and any(wrong):
            return i
    return None


def grade(
    exercise: Exercise,
    cases: list[Case],
    outcomes: list[Outcome],
    total: int,
    numerical: tuple[int, Outcome] | None = None,
) -> Report:
    """Compare the reader's outcomes with the reference; name matching bugs.

    ``outcomes[i]`` belongs to ``cases[i]``; fewer outcomes than cases means
    the run stopped (a time limit, a crash) and the rest were not run.
    ``numerical`` is a case index and the relative errors, one per output,
    between the reader's backward outputs there and finite differences of
    the reader's own forward pass.
    """
    names = exercise.outputs
    problems: list[tuple[int, str]] = []  # (case, what is wrong), one per case
    returned: dict[int, tuple[Any, ...]] = {}
    wrong_outputs: set[str] = set()
    for i, outcome in enumerate(outcomes):
        if isinstance(outcome, Stopped):
            problems.append((i, outcome.reason))
            continue
        if isinstance(outcome, Raised):
            problems.append((i, _raised_text(outcome)))
            continue
        outputs = _as_outputs(outcome.value, names)
        if isinstance(outputs, str):
            problems.append((i, f"your function {outputs}"))
            continue
        returned[i] = outputs
        expected = cases[i].call(exercise.reference)
        found = {
            name: problem
            for name, got, want in zip(names, outputs, expected, strict=True)
            if (problem := _first_problem(got, want, name)) is not None
        }
        wrong_outputs.update(found)
        if found:  # the first wrong output, in the order of the signature
            problems.append((i, next(iter(found.values()))))
    failed = len(problems)
    not_run = total - len(outcomes)
    if not problems and not_run == 0:
        return Report(
            exercise.name, True, f"{exercise.name}: all {total} cases pass.", 0, total
        )
    bugs = _diagnose(exercise, cases, returned, wrong_outputs)
    first, text = problems[0]
    lines = [
        f"{exercise.name}: {failed} of {total} cases fail"
        + (f" ({not_run} not run)." if not_run else "."),
        f"Smallest failing case: {cases[first].describe()}",
        *("  " + line for line in text.splitlines()),
    ]
    for bug in bugs:
        lines.append(f"Likely bug in {bug.output}: {bug.text}")
        lines.append(f"  See {DOCS}{bug.link}")
    if numerical is not None:
        lines += _numerical_lines(exercise, cases, *numerical, first)
    return Report(
        exercise.name,
        False,
        "\n".join(lines),
        failed + not_run,
        total,
        tuple(dict.fromkeys((bug.output, bug.key) for bug in bugs)),
    )


#: Where the site explains why agreeing with finite differences is not enough.
SHARED_BUG = "part3-gotchas.md#6-a-gradient-check-that-passes-with-a-bug"


def _numerical_lines(
    exercise: Exercise, cases: list[Case], index: int, outcome: Outcome, first: int
) -> list[str]:
    where = "this case" if index == first else f"case {cases[index].describe()}"
    head = f"Finite differences of your {exercise.forward} on {where}:"
    if isinstance(outcome, Stopped):
        return [f"{head} not computed, {outcome.reason.split(';')[0]}"]
    if isinstance(outcome, Raised):
        return [f"{head} not computed, your {exercise.forward} raised {outcome.kind}"]
    errors = outcome.value
    verdicts = [
        f"{name} agrees" if error < 1e-6 else f"{name} differs ({error:.2g})"
        for name, error in zip(exercise.outputs, errors, strict=True)
    ]
    lines = [f"{head} {', '.join(verdicts)}."]
    if all(error < 1e-6 for error in errors):
        lines += [
            "  Your backward pass is the exact gradient of your own "
            f"{exercise.forward}, so that forward pass is what differs from the "
            f"layer: check it with the exercise {exercise.forward}.",
            f"  See {DOCS}{SHARED_BUG}",
        ]
    return lines


def _raised_text(outcome: Raised) -> str:
    if outcome.kind == "NotImplementedError":
        return "your function raised NotImplementedError: write its body first"
    head = f"your function raised {outcome.kind}"
    head += f": {outcome.message}" if outcome.message else ""
    return head + (f"\n{outcome.traceback}" if outcome.traceback else "")


def _diagnose(
    exercise: Exercise,
    cases: list[Case],
    returned: dict[int, tuple[Any, ...]],
    wrong_outputs: set[str],
) -> list[KnownBug]:
    """Known bugs whose output equals the reader's on every case that returned."""
    names = exercise.outputs
    found = []
    for bug in exercise.bugs:
        if bug.output not in wrong_outputs:
            continue
        position = names.index(bug.output)
        if all(
            _matches(bug, cases[i], outputs[position])
            for i, outputs in returned.items()
        ):
            found.append(bug)
    return found


def _matches(bug: KnownBug, case: Case, got: Any) -> bool:
    try:
        with np.errstate(all="ignore"):
            predicted = case.call(bug.compute)
    except Exception:  # the buggy function would have raised: the reader's did not
        return False
    return same(got, predicted)
