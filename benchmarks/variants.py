"""Vectorised forms the benchmark times beside the package's own.

The package keeps the forms a page derives (loops, the im2col matrix form,
the flipped kernel) and the fast path the layers train with. The two forms
here are only worth timing: each is a natural way to write the same
equation in NumPy, and the Performance page shows why the package does not
use it. ``tests/test_benchmarks.py`` checks that both equal the package's
results, so a timing here is always the timing of a correct computation.
"""

from __future__ import annotations

import numpy as np

from cnnscratch.conv import ConvGeometry, _pad, _windows, conv_output_size
from cnnscratch.pooling import PoolCache, maxpool2d_backward


def conv2d_forward_einsum(
    X: np.ndarray, W: np.ndarray, b: np.ndarray, *, stride: int = 1, padding: int = 0
) -> np.ndarray:
    """Y = Σ_{c,u,v} windows[n, c, i, j, u, v] W[o, c, u, v] + b, by np.einsum.

    The windows are a strided view (no copy); ``einsum`` with
    ``optimize=True`` hands the contraction to ``tensordot``, which copies the
    view into a matrix anyway: im2col by another name.
    """
    g = ConvGeometry((stride, stride), (padding, padding), (1, 1))
    windows = _windows(_pad(X, g.padding), W.shape[2:], g)  # (N, C, OH, OW, KH, KW)
    Y = np.einsum("nchwuv,ocuv->nohw", windows, W, optimize=True)
    return Y + b[:, None, None]


def maxpool2d_forward_argmax(
    X: np.ndarray, kernel: int = 2
) -> tuple[np.ndarray, PoolCache]:
    """Max-pool by copying every window and taking ``np.argmax`` over it.

    The previous vectorised form: ``argmax`` returns the first maximum, so
    ties follow the site's policy, but the windows are copied into an
    (N, C, OH, OW, KH·KW) array first.
    """
    g = ConvGeometry((kernel, kernel), (0, 0), (1, 1))
    windows = _windows(X, (kernel, kernel), g)
    flat = windows.reshape(*windows.shape[:4], kernel * kernel)
    argmax = np.argmax(flat, axis=-1)
    Y = np.take_along_axis(flat, argmax[..., None], axis=-1)[..., 0]
    return Y, PoolCache(X.shape, (kernel, kernel), (kernel, kernel), argmax)


def maxpool2d_backward_argmax(dY: np.ndarray, cache: PoolCache) -> np.ndarray:
    """The package's backward pass, fed the stored winners (one mask per tap)."""
    return maxpool2d_backward(dY, cache)


def output_side(H: int, k: int, stride: int, padding: int) -> int:
    """The output side of a square convolution (Part 3, eq. (3.2))."""
    return conv_output_size(H, k, stride=stride, padding=padding)
