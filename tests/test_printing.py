"""The print policy: version-independent scalar reprs, four decimals."""

from __future__ import annotations

import numpy as np

from cnnscratch.printing import PRINT_OPTIONS, print_policy, set_print_policy


def test_policy_prints_plain_scalars_and_four_decimals() -> None:
    with print_policy():
        assert repr(np.float64(0.5)) == "0.5"
        assert repr(np.array([1 / 3, 1e-9])) == "array([0.3333, 0.    ])"


def test_context_manager_restores_the_previous_options() -> None:
    before = np.get_printoptions()
    with print_policy():
        assert np.get_printoptions()["precision"] == PRINT_OPTIONS["precision"]
    assert np.get_printoptions() == before


def test_set_print_policy_applies_every_option() -> None:
    before = np.get_printoptions()
    try:
        set_print_policy()
        options = np.get_printoptions()
        assert all(options[key] == value for key, value in PRINT_OPTIONS.items())
    finally:
        np.set_printoptions(**before)
