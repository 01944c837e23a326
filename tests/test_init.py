"""Initial weights: He and Xavier (Part 2, eqs. (2.17), (2.18))."""

from __future__ import annotations

import numpy as np
import pytest

from cnnscratch.init import he_normal, xavier_uniform


def test_he_normal_has_standard_deviation_sqrt_2_over_fan_in() -> None:
    W = he_normal((64, 8, 3, 3), rng=np.random.default_rng(0))  # fan_in 72
    assert W.std() == pytest.approx(np.sqrt(2 / 72), rel=0.03)


def test_xavier_uniform_is_bounded_by_its_limit_with_variance_two_over_fans() -> None:
    W = xavier_uniform((300, 200), rng=np.random.default_rng(0))
    limit = np.sqrt(6 / 500)
    assert np.abs(W).max() <= limit
    assert W.var() == pytest.approx(2 / 500, rel=0.03)
