"""Hypothesis strategies shared by the test modules: shapes and float64 arrays."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

FINITE = st.floats(-10, 10, allow_nan=False, allow_infinity=False, width=64)


def float_arrays(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    """float64 arrays of ``shape`` with entries in [-10, 10]."""
    return arrays(np.float64, shape, elements=FINITE)


sizes = st.integers(min_value=1, max_value=5)
