"""Property-based fuzzing of every public entry point, from one table.

For every entry of :data:`signatures.TABLE`, hypothesis replaces one
argument of a valid call by a bad value of that argument's kind (wrong
types, ragged lists, complex, boolean, object and long-double arrays, nan
and inf, zero-size, extra and missing axes, out-of-range and impossible
sizes, wrong caches, malformed files...) and checks the boundary promise:

* the call returns a correct result (for a value that is only a different
  spelling of the valid one, such as a list for an array, the result equals
  the valid call's), or raises a :class:`ValueError` whose message names a
  public argument of the function;
* nothing it was given has changed, except, after a *successful* call, the
  state the function exists to update;
* after a failed call of a stateful function (optimiser steps, parameter
  loads, ``fit``), the state is exactly what it was before.

A public name missing from the table fails ``test_every_public_name_is_in
_the_table``.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import io
import math
import os
import pkgutil
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from signatures import BY_NAME, TABLE, Arg, Ctx, caches, parameter_files, small_mlp

import cnnscratch
from cnnscratch import layers, network

#: ``FUZZ_DEPTH=10 pytest tests/test_fuzz.py`` runs ten times the examples (a
#: deeper search, minutes long, for a change to the validation layer).
DEPTH = int(os.environ.get("FUZZ_DEPTH", "1"))


def fuzz_settings(examples: int) -> settings:
    """Deterministic (the same examples every run), no database, no deadline."""
    return settings(
        max_examples=examples * DEPTH,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.function_scoped_fixture,
        ],
    )


Bad = tuple[str, object, bool]  # (label, value, is it the valid value respelled?)


# --- Bad values, by kind ---------------------------------------------------------


def _ragged(a: np.ndarray) -> object:
    rows = np.atleast_1d(a).tolist()
    return [rows, rows[:-1] if len(rows) > 1 else []]


@st.composite
def bad_arrays(draw: st.DrawFn, a: np.ndarray) -> Bad:
    a = np.asarray(a)
    choices: list[Callable[[], Bad]] = [
        lambda: ("None", None, False),
        lambda: ("text", "abc", False),
        lambda: ("a dict", {"a": 1.0}, False),
        lambda: ("ragged", _ragged(a), False),
        lambda: ("objects", a.astype(object), False),
        lambda: ("complex", a + 1j, False),
        lambda: ("booleans", a > 0, False),
        lambda: ("long double", a.astype(np.longdouble), False),
        lambda: ("a list", a.tolist(), True),
        lambda: ("a scalar", 0.5, False),
        lambda: ("an extra axis", a[None], False),
    ]
    if a.ndim:
        index = tuple(draw(st.integers(0, n - 1)) for n in a.shape)
        axis = draw(st.integers(0, a.ndim - 1))
        bad = draw(st.sampled_from([np.nan, np.inf, -np.inf]))

        def non_finite() -> Bad:
            b = a.astype(np.float64).copy()
            b[index] = bad
            return (f"{bad} at {index}", b, False)

        def zero_size() -> Bad:
            shape = list(a.shape)
            shape[axis] = 0
            return (f"size 0 on axis {axis}", np.zeros(shape), False)

        def longer() -> Bad:
            return (
                f"one more on axis {axis}",
                np.concatenate([a, a], axis)[
                    tuple(slice(0, n + (i == axis)) for i, n in enumerate(a.shape))
                ],
                False,
            )

        choices += [
            non_finite,
            zero_size,
            longer,
            lambda: ("an axis less", a[0], False),
        ]
    return draw(st.sampled_from(choices))()


def _real_outside(arg: Arg) -> st.SearchStrategy[float]:
    parts = []
    if math.isfinite(arg.low):
        parts.append(st.floats(max_value=arg.low, exclude_max=not arg.low_open))
    if math.isfinite(arg.high):
        parts.append(st.floats(min_value=arg.high, exclude_min=not arg.high_open))
    parts.append(st.sampled_from([math.nan, math.inf, -math.inf]))
    return st.one_of(parts).filter(
        lambda x: not (arg.low < x < arg.high) or not math.isfinite(x)
    )


@st.composite
def bad_reals(draw: st.DrawFn, value: float, arg: Arg) -> Bad:
    outside = draw(_real_outside(arg))
    return draw(
        st.sampled_from(
            [
                ("None", None, False),
                ("text", str(value), False),
                ("True", True, False),
                ("complex", complex(value, 1.0), False),
                ("an array", np.array([value, value]), False),
                ("a 0-d array", np.array(value), False),
                ("a list", [value], False),
                ("long double", np.longdouble(value), False),
                (f"outside: {outside}", outside, False),
                ("np.float64", np.float64(value), True),
            ]
        )
    )


@st.composite
def bad_ints(draw: st.DrawFn, value: int, arg: Arg) -> Bad:
    below = draw(st.integers(max_value=int(arg.low) - 1))
    return draw(
        st.sampled_from(
            [
                ("None", None, False),
                ("a float", float(value), False),
                ("a fraction", value + 0.5, False),
                ("True", True, False),
                ("text", str(value), False),
                ("a 0-d array", np.array(value), False),
                ("a list", [value], False),
                (f"below: {below}", below, False),
                ("2**70", 2**70, False),
                ("np.int64", np.int64(value), True),
            ]
        )
    )


@st.composite
def bad_pairs(draw: st.DrawFn, value: object, arg: Arg) -> Bad:
    low = int(arg.low)
    below = draw(st.integers(-5, low - 1))
    return draw(
        st.sampled_from(
            [
                ("None", None, False),
                (f"below: {below}", below, False),
                ("half below", (below, max(low, 1)), False),
                ("one entry", (2,), False),
                ("three entries", (1, 2, 3), False),
                ("a float", 1.5, False),
                ("text", "2", False),
                ("True", True, False),
                ("a bool pair", (True, 1), False),
                ("a list", [1, 1], False),
                ("2**70", 2**70, False),
                ("(2**40, 1)", (2**40, 1), False),
            ]
        )
    )


def _cache_values(ctx: Ctx, valid: object) -> list[Bad]:
    others = [
        (f"a {kind} cache", cache, False)
        for kind, cache in caches(ctx).items()
        # same-type caches that mean something else: a max-pool cache to an
        # average-pool backward, an evaluation-mode cache where the batch's
        # statistics are needed
        if type(cache) is not type(valid) or kind in ("max", "avg", "batchnorm eval")
    ]
    return [
        ("None", None, False),
        ("an empty tuple", (), False),
        ("text", "cache", False),
        ("a plain tuple", tuple(valid) if isinstance(valid, tuple) else (), False),
        *others,
        *[
            (f"cache.{field} = {bad!r}", valid._replace(**{field: bad}), False)
            for field in getattr(valid, "_fields", ())
            for bad in (None, [[1.0]])
        ],
    ]


def _param_dicts(ctx: Ctx, valid: dict[str, np.ndarray]) -> list[Bad]:
    read_only = {k: v.copy() for k, v in valid.items()}
    read_only["b"].flags.writeable = False
    as_int = {**valid, "b": valid["b"].astype(np.int64)}
    as_list = {**valid, "b": valid["b"].tolist()}
    return [
        ("None", None, False),
        ("a list", list(valid.values()), False),
        ("a read-only array", read_only, False),
        ("an int64 array", as_int, False),
        ("a list entry", as_list, False),
        ("a missing key", {"w": valid["w"]}, False),
        ("an extra key", {**valid, "c": np.zeros(1)}, False),
        ("a shared array", {"w": valid["w"], "b": valid["w"][:2]}, False),
    ]


def _grad_dicts(ctx: Ctx, valid: dict[str, np.ndarray]) -> list[Bad]:
    return [
        ("None", None, False),
        ("a missing key", {"w": valid["w"]}, False),
        ("nan", {**valid, "b": np.array([np.nan, 0.0])}, False),
        ("a wrong shape", {**valid, "b": np.zeros(3)}, False),
        ("complex", {**valid, "b": valid["b"] + 1j}, False),
        ("ragged", {**valid, "b": [[1.0], [1.0, 2.0]]}, False),
        ("huge", {**valid, "b": np.full(2, 1e308)}, False),
    ]


def _models(ctx: Ctx) -> list[Bad]:
    nan = small_mlp(ctx)
    nan.parameters()["0.W"][0, 0] = np.nan
    read_only = small_mlp(ctx)
    read_only.parameters()["2.b"].flags.writeable = False
    as_int = small_mlp(ctx)
    as_int.layers[2].params["b"] = np.zeros(2, np.int64)
    return [
        ("None", None, False),
        ("a list", [], False),
        ("a dict", {"0.W": np.zeros((4, 3))}, False),
        ("a layer", layers.Dense(3, 2, rng=ctx.rng()), False),
        ("a nan weight", nan, False),
        ("a read-only bias", read_only, False),
        ("an integer bias", as_int, False),
        ("another architecture", network.mlp([3, 5, 2], rng=ctx.rng()), False),
        ("a CNN", network.digits_cnn(rng=ctx.rng(), filters=1), False),
    ]


def _mappings(ctx: Ctx, valid: dict[str, np.ndarray]) -> list[Bad]:
    first = next(iter(valid))
    return [
        ("None", None, False),
        ("a list", list(valid.values()), False),
        ("a missing key", {k: v for k, v in valid.items() if k != first}, False),
        ("an extra key", {**valid, "9.W": np.zeros(1)}, False),
        ("a wrong shape", {**valid, first: np.zeros((1, 1))}, False),
        ("nan", {**valid, first: np.full_like(valid[first], np.nan)}, False),
        ("ragged", {**valid, first: [[1.0], [1.0, 2.0]]}, False),
        ("long double", {**valid, first: valid[first].astype(np.longdouble)}, False),
    ]


def _layers_one(ctx: Ctx) -> list[Bad]:
    """Bad values for a single layer: not a layer, or a kind not handled."""
    return [
        ("None", None, False),
        ("text", "conv", False),
        ("a number", 3, False),
        ("an object", object(), False),
        ("a list of layers", [layers.ReLU()], False),
        ("a model", small_mlp(ctx), False),
        ("a batch-norm layer", layers.BatchNorm1D(3), False),
        ("a Dense layer", layers.Dense(5, 2, rng=ctx.rng()), False),
        ("a 3x3 max-pool", layers.MaxPool2D(3), False),
    ]


def _argv() -> list[Bad]:
    train = ["train", "--no-progress", "--model", "mlp"]
    return [
        (" ".join(extra), [*train, *extra], False)
        for extra in (
            ["--lr", "abc"],
            ["--lr", "nan"],
            ["--lr", "-1"],
            ["--lr", "1e400"],
            ["--lr", "1e200", "--epochs", "1"],
            ["--epochs", "0"],
            ["--epochs", "1" + "0" * 30],
            ["--epochs", "2.5"],
            ["--batch-size", "-3"],
            ["--seed", "-1"],
            ["--seed", "x"],
            ["--model", "rnn"],
            ["--output", ""],
            ["--output", "newdir/"],
            ["--output", "x" * 300],
            ["--output", "/nonexistent-folder/m.npz"],
            ["--output", "."],
            ["--bogus"],
        )
    ]


def bad_values(arg: Arg, value: object, ctx: Ctx) -> st.SearchStrategy[Bad]:
    kind = arg.kind
    if kind == "array":
        return bad_arrays(np.asarray(value))
    if kind == "real":
        return bad_reals(float(value), arg)  # type: ignore[arg-type]
    if kind == "int":
        return bad_ints(int(value), arg)  # type: ignore[call-overload]
    if kind == "pair":
        return bad_pairs(value, arg)
    fixed: dict[str, Callable[[], list[Bad]]] = {
        "rng": lambda: [
            ("None", None, False),
            ("a seed", 0, False),
            ("a RandomState", np.random.RandomState(0), False),
        ],
        "choice": lambda: [
            ("unknown", "nope", False),
            ("None", None, False),
            ("a list", [value], False),
            ("upper case", str(value).upper(), False),
            ("a number", 1, False),
        ],
        "callable": lambda: [("None", None, False), ("a number", 1, False)],
        "bool": lambda: [
            ("None", None, False),
            ("text", str(value), False),
            ("a number", 1, False),
            ("an array", np.array([True, False]), False),
            ("np.bool_", np.bool_(value), True),
        ],
        "layer": lambda: _layers_one(ctx),
        "cache": lambda: _cache_values(ctx, value),
        "shape": lambda: [
            ("None", None, False),
            ("two entries", (4, 3), False),
            ("a zero", (2, 0, 5, 5), False),
            ("text", "abcd", False),
            ("floats", tuple(float(n) for n in value), False),  # type: ignore[attr-defined]
            ("booleans", (True, 1, 5, 5), False),
            ("a number", 4, False),
            ("huge", (2**40, 1, 2**40, 5), False),
        ],
        "sizes": lambda: [
            ("None", None, False),
            ("one size", [3], False),
            ("a zero", [3, 0], False),
            ("a float", [3, 2.0], False),
            ("text", "32", False),
            ("a bool", [3, True], False),
            ("2**70", [3, 2**70], False),
            ("a number", 5, False),
        ],
        "labels": lambda: [
            ("None", None, False),
            ("a fraction", np.array([0.5, 1.0, 0.0, 1.0][: len(value)]), False),  # type: ignore[arg-type]
            ("nan", [np.nan] * len(value), False),  # type: ignore[arg-type]
            ("negative", [-1] * len(value), False),  # type: ignore[arg-type]
            ("text", ["1"] * len(value), False),  # type: ignore[arg-type]
            ("booleans", np.ones(len(value), bool), False),  # type: ignore[arg-type]
            ("2-d", [list(value)], False),  # type: ignore[call-overload]
            ("empty", [], False),
            ("too large", [10**6] * len(value), False),  # type: ignore[arg-type]
            ("ragged", [[0], [0, 1]], False),
            ("a list", list(value), True),  # type: ignore[call-overload]
        ],
        "model": lambda: _models(ctx),
        "optimizer": lambda: [
            ("None", None, False),
            ("an object", object(), False),
            ("text", "sgd", False),
        ],
        "params": lambda: _param_dicts(ctx, value),  # type: ignore[arg-type]
        "grads": lambda: _grad_dicts(ctx, value),  # type: ignore[arg-type]
        "mapping": lambda: _mappings(ctx, value),  # type: ignore[arg-type]
        "validation": lambda: [
            ("one array", (value[0],), False),  # type: ignore[index]
            ("text", "xy", False),
            ("X of another width", (np.zeros((4, 5)), value[1]), False),  # type: ignore[index]
            ("Y of another K", (value[0], np.eye(3)[[0, 1, 2, 0]]), False),  # type: ignore[index]
            ("nan in X", (np.full((4, 3), np.nan), value[1]), False),  # type: ignore[index]
            ("Y not one-hot", (value[0], np.zeros((4, 2))), False),  # type: ignore[index]
            ("N mismatch", (value[0], value[1][:3]), False),  # type: ignore[index]
        ],
        "layers": lambda: [
            ("None", None, False),
            ("text", "abc", False),
            ("numbers", [1, 2], False),
            ("a string layer", [layers.ReLU(), "relu"], False),
        ],
        "path": lambda: [
            ("None", None, False),
            ("a number", 3, False),
            ("empty", "", False),
            ("bytes", b"model.npz", False),
            ("a folder", str(ctx.tmp), False),
            ("a missing folder", str(ctx.tmp / "absent" / "m.npz"), False),
            ("a long name", str(ctx.tmp / ("x" * 300)), False),
            ("a NUL byte", str(ctx.tmp / "a\0b.npz"), False),
        ],
        "paramfile": lambda: (
            [
                (name, str(path), False)
                for name, path in parameter_files(ctx).items()
                if name != "good"
            ]
            + [("None", None, False), ("a number", 3, False)]
        ),
        "argv": _argv,
    }
    return st.sampled_from(fixed[kind]())


# --- Snapshots: everything a call could change -----------------------------------


def snapshot(value: object, depth: int = 0) -> object:
    """A deep, comparable copy of ``value`` (arrays with dtype and flags)."""
    if depth > 6:
        return "..."
    if isinstance(value, np.ndarray):
        return (
            "ndarray",
            value.dtype.str,
            value.shape,
            value.flags.writeable,
            value.tobytes(),
        )
    if isinstance(value, np.random.Generator):
        return ("rng", repr(value.bit_generator.state))
    if isinstance(value, dict):
        return {k: snapshot(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return (type(value).__name__, [snapshot(v, depth + 1) for v in value])
    if isinstance(value, network.Sequential):  # layer caches are not state
        return (
            "model",
            snapshot(value.parameters()),
            snapshot(value.gradients()),
            snapshot(value.buffers()),
        )
    if hasattr(value, "__dict__") and type(value).__module__.startswith("cnnscratch"):
        return (type(value).__name__, snapshot(vars(value), depth + 1))
    if hasattr(value, "__dataclass_fields__"):
        return snapshot(vars(value), depth + 1)
    return repr(value)


def same_result(a: object, b: object) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.allclose(np.asarray(a, float), np.asarray(b, float), equal_nan=True)
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        return len(a) == len(b) and all(
            same_result(x, y) for x, y in zip(a, b, strict=True)
        )
    if isinstance(a, float | int) and isinstance(b, float | int):
        return math.isclose(a, b, rel_tol=1e-9) or (math.isnan(a) and math.isnan(b))
    if hasattr(a, "__dict__") or isinstance(a, network.Sequential):
        return snapshot(a) == snapshot(b)  # layers, models, optimisers, records
    return bool(a == b)


def finite_result(value: object) -> bool:
    """No nan, no complex, in whatever arrays and floats a call returned."""
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "iuf" and bool(np.all(np.isfinite(value)))
    if isinstance(value, tuple | list):
        return all(finite_result(v) for v in value)
    if isinstance(value, float):
        return not math.isnan(value)
    return True


def names_an_argument(message: str, kwargs: dict[str, object]) -> bool:
    """True if ``message`` names an argument, or quotes a text argument's value.

    A file is named by its path, and ``as_pair("stride", ...)`` speaks of
    ``stride``: the value of a text argument names what the caller passed.
    """
    words = list(kwargs)
    words += [str(v) for v in kwargs.values() if isinstance(v, str | Path) and v]
    return any(
        re.search(rf"(?<![\w]){re.escape(word)}(?![\w])", message) for word in words
    )


# --- The tests -----------------------------------------------------------------------

FUZZED = [entry for entry in TABLE if entry.build is not None and entry.args]


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Ctx:
    return Ctx(tmp_path_factory.mktemp("fuzz"))


def _call(f: Callable[..., object], kwargs: dict[str, object]) -> object:
    if getattr(f, "__name__", "") == "main":
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                return f(**kwargs)
            except SystemExit as exit_:
                code, lines = exit_.code, err.getvalue().splitlines()
            assert code != 0, code
            assert len(lines) == 1, err.getvalue()
            assert lines[0].startswith("python -m cnnscratch: error: "), lines
            raise ValueError("argv: " + lines[0])
    return f(**kwargs)


@pytest.mark.parametrize("entry", FUZZED, ids=lambda e: e.name)
def test_bad_arguments_get_a_named_value_error_and_change_nothing(entry, ctx) -> None:
    @fuzz_settings(entry.examples or 10)
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        assert entry.build is not None
        f, valid = entry.build(ctx)
        name = data.draw(st.sampled_from(sorted(entry.args)), label="argument")
        label, bad, respelled = data.draw(
            bad_values(entry.args[name], valid[name], ctx), label="bad value"
        )
        kwargs = {**valid, name: bad}
        owner = getattr(f, "__self__", None)
        before = snapshot(kwargs), snapshot(owner)
        public = {p: kwargs.get(p) for p in inspect.signature(f).parameters}
        try:
            with np.errstate(over="raise", invalid="raise", divide="raise"):
                result = _call(f, kwargs)
        except ValueError as error:
            message = str(error)
            assert "\n" not in message.strip(), message
            assert names_an_argument(message, public), (
                f"{entry.name}({name}={label}): {message!r} names no argument"
            )
            assert snapshot(kwargs) == before[0], f"{entry.name} changed an argument"
            assert snapshot(owner) == before[1], f"{entry.name} changed its state"
            return
        if respelled:
            f2, valid2 = entry.build(ctx)
            expected = _call(f2, valid2)
            assert same_result(result, expected), f"{entry.name}({name}={label})"
        assert finite_result(result), f"{entry.name}({name}={label}) gave {result!r}"
        after = snapshot(kwargs)
        assert isinstance(after, dict)
        assert isinstance(before[0], dict)
        for key in kwargs:
            if key not in entry.mutates:
                assert after[key] == before[0][key], f"{entry.name} changed {key}"

    run()


def _public_names() -> set[str]:
    names = set()
    for module_info in pkgutil.iter_modules(cnnscratch.__path__):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"cnnscratch.{module_info.name}")
        for name, obj in vars(module).items():
            if name.startswith("_") or not callable(obj):
                continue
            if getattr(obj, "__module__", None) != module.__name__:
                continue
            names.add(f"{module_info.name}.{name}")
            if inspect.isclass(obj):
                for method, function in inspect.getmembers(obj, inspect.isfunction):
                    if not method.startswith("_") and function.__module__.startswith(
                        "cnnscratch"
                    ):
                        names.add(f"{module_info.name}.{name}.{method}")
    return names


def test_every_public_name_is_in_the_table() -> None:
    missing = sorted(_public_names() - set(BY_NAME))
    assert not missing, f"add these to tests/signatures.py: {missing}"
    stale = sorted(set(BY_NAME) - _public_names())
    assert not stale, f"the table lists names that are gone: {stale}"


def test_every_skipped_entry_says_why_and_every_other_is_fuzzed() -> None:
    for entry in TABLE:
        assert (entry.skip is None) == (entry.build is not None), entry.name
    assert len(FUZZED) >= 100
