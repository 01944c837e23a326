"""The boundary checks every public function relies on."""

from __future__ import annotations

import re

import numpy as np
import pytest

from cnnscratch._validate import (
    MAX_ENTRIES,
    check_array,
    check_cache,
    check_entries,
    check_positive,
    check_positive_int,
)


def test_integers_become_float64_and_floats_keep_their_precision() -> None:
    assert check_array("x", [1, 2], ("n",)).dtype == np.float64
    assert check_array("x", np.ones(2, np.float32), ("n",)).dtype == np.float32


def test_known_sizes_name_the_argument_they_come_from() -> None:
    message = "W has shape (3, 5); expected (n_out, n_in) with n_in = 4 to match x"
    with pytest.raises(ValueError, match=re.escape(message) + "$"):
        check_array("W", np.ones((3, 5)), ("n_out", "n_in"), n_in=(4, "x"))


def test_a_repeated_symbol_must_repeat_its_size() -> None:
    with pytest.raises(ValueError, match=r"expected \(n, n\) \(both n axes"):
        check_array("A", np.ones((2, 3)), ("n", "n"))


def test_non_finite_entries_are_located() -> None:
    x = np.zeros((2, 2))
    x[1, 0] = -np.inf
    with pytest.raises(ValueError, match=r"entry -inf at index \(1, 0\)"):
        check_array("x", x, ("a", "b"))
    assert check_array("x", x, ("a", "b"), finite=False) is not None


@pytest.mark.parametrize("bad", [True, np.array([1 + 1j]), np.array(["a"])])
def test_non_real_dtypes_are_rejected(bad) -> None:
    with pytest.raises(ValueError, match="has dtype"):
        check_array("x", np.atleast_1d(bad), ("n",))


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf")])
def test_check_positive(bad: float) -> None:
    with pytest.raises(ValueError, match="must be a finite number > 0"):
        check_positive("rate", bad)
    assert check_positive("rate", 0.5) == 0.5


@pytest.mark.parametrize("bad", [0, -3, 2.0, True, "3"])
def test_check_positive_int(bad: object) -> None:
    with pytest.raises(ValueError, match="must be an integer >= 1"):
        check_positive_int("steps", bad)  # type: ignore[arg-type]
    assert check_positive_int("steps", np.int64(3)) == 3


# --- The dtype policy ---------------------------------------------------------


def test_float16_and_integers_become_float64_exactly() -> None:
    half = np.array([0.1, 65504.0], np.float16)
    got = check_array("x", half, ("n",))
    assert got.dtype == np.float64
    assert got.tolist() == [float(v) for v in half]  # every float16 is a float64


def test_float32_and_float64_pass_through_as_the_same_object() -> None:
    for dtype in (np.float32, np.float64):
        x = np.ones((2, 3), dtype)
        assert check_array("x", x, ("a", "b")) is x


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        (np.ones(2, np.longdouble), "long double"),
        (np.ones(2, bool), "booleans"),
        (np.ones(2, complex), "complex"),
        (np.array([{}, {}], dtype=object), "not an array of numbers"),
        (np.array(["a", "b"]), "not an array of numbers"),
    ],
)
def test_rejected_dtypes_say_why(bad: np.ndarray, why: str) -> None:
    with pytest.raises(ValueError, match=f"^x has dtype .*{why}"):
        check_array("x", bad, ("n",))


def test_a_ragged_list_names_the_argument() -> None:
    with pytest.raises(ValueError, match=r"^z is not a rectangular array"):
        check_array("z", [[0.5, 0.5], [0.5]], ("N", "K"))


def test_a_zero_size_axis_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"^X has shape \(0, 3\).*every size >= 1"):
        check_array("X", np.zeros((0, 3)), ("N", "n_in"))


@pytest.mark.parametrize(
    "bad", [None, "0.1", True, 1j, np.array([0.1, 0.2]), np.array(0.1), [0.1]]
)
def test_a_real_scalar_is_a_real_number_only(bad: object) -> None:
    with pytest.raises(ValueError, match=r"^lr must be a finite number > 0; got"):
        check_positive("lr", bad)


def test_real_scalars_accept_numpy_numbers_and_huge_ints_are_out_of_range() -> None:
    assert check_positive("lr", np.float32(0.5)) == 0.5
    assert check_positive("lr", np.int64(2)) == 2.0
    with pytest.raises(ValueError, match="lr must be a finite number > 0"):
        check_positive("lr", 10**400)


def test_sizes_are_bounded_before_allocation() -> None:
    check_entries("n", (MAX_ENTRIES,))
    with pytest.raises(ValueError, match=r"^n_out asks for .*expected at most"):
        check_entries("n_out", (2**70, 3))


def test_a_backward_function_checks_its_cache_type() -> None:
    with pytest.raises(ValueError, match=r"^cache is None of type NoneType; expected"):
        check_cache(None, tuple, "forward")
