"""The one NumPy print policy shared by the site, the doctests and notebooks.

Every output shown on the site is printed under these options, so what a page
shows does not depend on the NumPy version's default repr (NumPy 2 prints a
scalar as ``np.float64(0.5)``; under this policy it prints ``0.5``) or on
noise in the last digits.

Examples
--------
>>> import numpy as np
>>> with print_policy():
...     print(repr(np.float64(1) / 3), np.array([1e-12, 2 / 3]))
0.3333333333333333 [0.     0.6667]
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

#: Four decimals, no scientific notation for tiny values, NumPy 1.25 scalar reprs.
PRINT_OPTIONS: dict[str, Any] = {
    "precision": 4,
    "suppress": True,
    "legacy": "1.25",
    "linewidth": 88,
}


def set_print_policy() -> None:
    """Apply :data:`PRINT_OPTIONS` for the rest of the session.

    Call it once at the top of an interactive session (every page does) to
    see exactly the outputs the site shows.
    """
    np.set_printoptions(**PRINT_OPTIONS)


@contextmanager
def print_policy() -> Iterator[None]:
    """Apply :data:`PRINT_OPTIONS` inside a ``with`` block, then restore."""
    with np.printoptions(**PRINT_OPTIONS):
        yield
