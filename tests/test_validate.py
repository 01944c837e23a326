"""The boundary checks every public function relies on."""

from __future__ import annotations

import re

import numpy as np
import pytest

from cnnscratch._validate import check_array, check_positive, check_positive_int


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
