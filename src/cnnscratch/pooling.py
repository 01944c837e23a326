"""Max-pooling, average pooling and flatten: forward and backward.

Max-pooling routes each output's gradient to the one input that was the
maximum of its window. When several inputs tie for the maximum, the
**first maximum in row-major window order** wins (as in PyTorch), and it
alone receives the gradient. Where windows overlap (stride smaller than the
kernel), an input can be the maximum of several windows and then receives
the sum of their gradients.

Shapes: inputs ``(N, C, H, W)``, outputs ``(N, C, OH, OW)`` with
``OH = ⌊(H − KH) / s⌋ + 1`` (no padding, no dilation). The kernel and stride
are an ``int`` or an ``(h, w)`` pair; the stride defaults to the kernel size.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validate import (
    FloatArray,
    check_array,
    check_cache,
    check_entries,
    is_int,
    short_repr,
)
from .conv import (
    ConvGeometry,
    IntOrPair,
    Pair,
    _axis_output_size,
    _tap_slices,
    _windows,
    as_pair,
)


class PoolCache(NamedTuple):
    """What the pooling backward functions need from the forward pass.

    ``X_shape`` is (N, C, H, W). A max-pooling cache holds each window's
    winner, ``winners``, shape (N, C, OH, OW): the row-major index
    ``u·KW + v`` inside the window of the input the output copied, the first
    maximum on ties. The loop reference stores it as ``intp``; the fast path
    as the smallest unsigned type that holds ``KH·KW − 1`` (``uint8`` for
    any kernel up to 16×16), which its backward pass compares faster. An
    average-pooling cache has none. The cache keeps neither the input nor
    the output: the winners are all the backward pass needs.
    """

    X_shape: tuple[int, ...]
    kernel: Pair
    stride: Pair
    winners: NDArray[np.integer] | None

    @property
    def argmax(self) -> NDArray[np.intp] | None:
        """Each window's winner as ``intp``; ``None`` for average pooling."""
        if self.winners is None:
            return None
        return np.asarray(self.winners).astype(np.intp, copy=False)


def _pool_geometry(
    X: ArrayLike, kernel: IntOrPair, stride: IntOrPair | None
) -> tuple[FloatArray, Pair, Pair, Pair]:
    X_ = check_array("X", X, ("N", "C", "H", "W"))
    k = as_pair("kernel", kernel, minimum=1)
    s = k if stride is None else as_pair("stride", stride, minimum=1)
    H, W = X_.shape[2:]
    if k[0] > H or k[1] > W:
        raise ValueError(
            f"kernel (KH, KW) = {k} is larger than the input (H, W) = {(H, W)}"
        )
    return X_, k, s, _pool_output(H, W, k, s)


def _pool_output(H: int, W: int, kernel: Pair, stride: Pair) -> Pair:
    """(OH, OW): the convolution's output size with no padding and no dilation."""
    return (
        _axis_output_size(H, kernel[0], stride[0], 0, 1),
        _axis_output_size(W, kernel[1], stride[1], 0, 1),
    )


def _check_upstream(dY: ArrayLike, cache: PoolCache) -> FloatArray:
    check_cache(cache, PoolCache, "maxpool2d_forward or avgpool2d_forward")
    _check_flatten_cache(
        cache.X_shape, "cache.X_shape", "maxpool2d_forward or avgpool2d_forward"
    )
    for field in ("kernel", "stride"):
        pair = getattr(cache, field)
        if not (
            isinstance(pair, tuple)
            and len(pair) == 2
            and all(is_int(n) and n >= 1 for n in pair)
        ):
            raise ValueError(
                f"cache.{field} is {short_repr(pair)}; expected the PoolCache "
                "that maxpool2d_forward or avgpool2d_forward returns"
            )
    N, C, H, W = cache.X_shape
    OH, OW = _pool_output(H, W, cache.kernel, cache.stride)
    return check_array(
        "dY",
        dY,
        ("N", "C", "OH", "OW"),
        N=(N, "X"),
        C=(C, "X"),
        OH=(OH, "the forward output"),
        OW=(OW, "the forward output"),
    )


# ---------------------------------------------------------------------------
# Max-pooling, the loop reference. Part 3, eqs. (3.9) and (3.10)


def maxpool2d_forward_loops(
    X: ArrayLike, kernel: IntOrPair = 2, *, stride: IntOrPair | None = None
) -> tuple[FloatArray, PoolCache]:
    """Max-pooling forward pass, one loop per index (the reference).

    Y[n, c, i, j] = max over (u, v) of X[n, c, i s + u, j s + v].

    Parameters
    ----------
    X : ndarray, shape (N, C, H, W)
    kernel : int or (KH, KW)
    stride : int or (int, int), optional
        Defaults to ``kernel`` (non-overlapping windows).

    Returns
    -------
    Y : ndarray, shape (N, C, OH, OW)
    cache : PoolCache
        Holds the winner of each window: its row-major index ``u·KW + v``,
        the first maximum when several entries tie.

    Notes
    -----
    Part 3, eq. (3.9).

    Examples
    --------
    >>> X = np.array([[[[1, 5, 2, 2], [3, 5, 2, 0]]]])
    >>> Y, cache = maxpool2d_forward_loops(X, 2)
    >>> Y[0, 0], cache.argmax[0, 0]  # both windows have ties
    (array([[5., 2.]]), array([[1, 0]]))
    """
    X_, (KH, KW), (sh, sw), (OH, OW) = _pool_geometry(X, kernel, stride)
    # --8<-- [start:maxpool_loops]
    N, C = X_.shape[:2]
    Y = np.zeros((N, C, OH, OW), dtype=X_.dtype)
    argmax = np.zeros((N, C, OH, OW), dtype=np.intp)
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    best, best_index = -np.inf, 0
                    for u in range(KH):
                        for v in range(KW):
                            x = X_[n, c, i * sh + u, j * sw + v]
                            if x > best:  # strictly greater: the first maximum stays
                                best, best_index = x, u * KW + v
                    Y[n, c, i, j] = best
                    argmax[n, c, i, j] = best_index
    # --8<-- [end:maxpool_loops]
    return Y, PoolCache(X_.shape, (KH, KW), (sh, sw), argmax)


def maxpool2d_backward_loops(dY: ArrayLike, cache: PoolCache) -> FloatArray:
    """Max-pooling backward pass, one loop per index (the reference).

    Each dY[n, c, i, j] goes to the one input its window copied; inputs that
    win several (overlapping) windows receive the sum.

    Parameters
    ----------
    dY : ndarray, shape (N, C, OH, OW)
    cache : PoolCache
        From :func:`maxpool2d_forward_loops` or :func:`maxpool2d_forward`.

    Returns
    -------
    dX : ndarray, shape (N, C, H, W)

    Notes
    -----
    Part 3, eq. (3.10).

    Examples
    --------
    >>> X = np.array([[[[1, 5, 2, 2], [3, 5, 2, 0]]]])
    >>> _, cache = maxpool2d_forward_loops(X, 2)
    >>> maxpool2d_backward_loops([[[[10, 20]]]], cache)[0, 0]
    array([[ 0., 10., 20.,  0.],
           [ 0.,  0.,  0.,  0.]])
    """
    dY_ = _check_upstream(dY, cache)
    argmax = _require_argmax(cache)
    # --8<-- [start:maxpool_backward_loops]
    (_, KW), (sh, sw) = cache.kernel, cache.stride
    N, C, OH, OW = dY_.shape
    dX = np.zeros(cache.X_shape, dtype=dY_.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    u, v = divmod(int(argmax[n, c, i, j]), KW)
                    dX[n, c, i * sh + u, j * sw + v] += dY_[n, c, i, j]
    # --8<-- [end:maxpool_backward_loops]
    return dX


def _require_no_argmax(cache: PoolCache) -> None:
    if cache.winners is not None:
        raise ValueError(
            "cache holds an argmax; expected the cache of an average-pooling "
            "forward pass"
        )


def _require_argmax(cache: PoolCache) -> NDArray[np.integer]:
    argmax = cache.winners  # not cache.argmax, which copies uint8 winners to intp
    if argmax is None:
        raise ValueError(
            "cache has no argmax; expected the cache of a max-pooling forward pass"
        )
    N, C, H, W = cache.X_shape
    shape = (N, C, *_pool_output(H, W, cache.kernel, cache.stride))
    taps = cache.kernel[0] * cache.kernel[1]
    if (
        not isinstance(argmax, np.ndarray)
        or argmax.dtype.kind not in "iu"
        or argmax.shape != shape
        or argmax.min() < 0
        or argmax.max() >= taps
    ):
        raise ValueError(
            f"cache.argmax is {short_repr(argmax)}; expected the {shape} window "
            "indices that maxpool2d_forward returns"
        )
    return argmax


# ---------------------------------------------------------------------------
# Max-pooling, vectorised


def _pool_windows(X: FloatArray, kernel: Pair, stride: Pair) -> FloatArray:
    """View of every window: shape (N, C, OH, OW, KH, KW), no copy."""
    return _windows(X, kernel, ConvGeometry(stride, (0, 0), (1, 1)))


def _tap(X: FloatArray, u: int, v: int, out: Pair, stride: Pair) -> FloatArray:
    """Tap (u, v) of every window at once: X[:, :, i s + u, j s + v], (N, C, OH, OW)."""
    rows, columns = _tap_slices(u, v, out, stride)
    return X[:, :, rows, columns]


def maxpool2d_forward(
    X: ArrayLike, kernel: IntOrPair = 2, *, stride: IntOrPair | None = None
) -> tuple[FloatArray, PoolCache]:
    """Max-pooling forward pass, the fast path the layers use.

    One strided view per kernel tap (u, v) holds that tap of every window.
    Walking the KH·KW taps in row-major order, ``np.maximum`` keeps each
    window's running maximum and a strict comparison records which tap last
    raised it: that is each window's first maximum, the site's tie policy,
    with no copy of the windows. Float32 stays float32.

    Parameters
    ----------
    X : ndarray, shape (N, C, H, W)
    kernel : int or (KH, KW)
    stride : int or (int, int), optional
        Defaults to ``kernel`` (non-overlapping windows).

    Returns
    -------
    Y : ndarray, shape (N, C, OH, OW)
        ``OH = ⌊(H − KH) / s⌋ + 1``; rows and columns the stride does not
        reach are ignored.
    cache : PoolCache
        Each window's winner, ``u·KW + v``, in ``cache.winners``.

    Raises
    ------
    ValueError
        If ``X`` is not a finite 4-D array, ``kernel`` or ``stride`` is not
        a positive int or pair, or the kernel is larger than the input.

    Notes
    -----
    Part 3, eq. (3.9), "Max-pooling's fast path"; equal to
    :func:`maxpool2d_forward_loops`, ties included.

    Examples
    --------
    >>> X = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> Y, cache = maxpool2d_forward(X, 2)
    >>> Y[0, 0]
    array([[ 5.,  7.],
           [13., 15.]])
    """
    X_, k, s, out = _pool_geometry(X, kernel, stride)
    return _maxpool2d_forward(X_, k, s, out)


def _maxpool2d_forward(
    X: FloatArray, kernel: Pair, s: Pair, out: Pair
) -> tuple[FloatArray, PoolCache]:
    """:func:`maxpool2d_forward` of a checked X, the geometry and (OH, OW) known."""
    KH, KW = kernel
    # --8<-- [start:maxpool_fast]
    index = np.min_scalar_type(KH * KW - 1)  # uint8 up to 16x16 windows
    Y = _tap(X, 0, 0, out, s).copy()  # tap (0, 0) of every window
    winners = np.zeros(Y.shape, dtype=index)
    tap = np.empty_like(Y)
    for t in range(1, KH * KW):
        tap[...] = _tap(X, *divmod(t, KW), out, s)  # tap (u, v), contiguous
        beats = np.greater(tap, Y)  # strictly: a tie stays with the earlier tap
        # t exceeds every earlier index, so the maximum records the new winner
        np.maximum(winners, beats * index.type(t), out=winners)
        np.maximum(Y, tap, out=Y)
    # --8<-- [end:maxpool_fast]
    return Y, PoolCache(X.shape, (KH, KW), s, winners)


def maxpool2d_backward(dY: ArrayLike, cache: PoolCache) -> FloatArray:
    """Max-pooling backward pass, the fast path: route dY to each window's winner.

    Tap by tap, dY goes where that tap won its window and +0 elsewhere;
    with overlapping windows the contributions add.

    Parameters
    ----------
    dY : ndarray, shape (N, C, OH, OW)
    cache : PoolCache
        From :func:`maxpool2d_forward` or :func:`maxpool2d_forward_loops`.

    Returns
    -------
    dX : ndarray, shape (N, C, H, W)
        Zero except at window winners; a winner of several overlapping windows
        receives the sum of their gradients.

    Notes
    -----
    Part 3, eq. (3.10), "Max-pooling's fast path"; equal to
    :func:`maxpool2d_backward_loops`, ties included.

    Examples
    --------
    >>> X = np.array([[[[0, 1, 0], [0, 9, 0], [0, 0, 0]]]])
    >>> _, cache = maxpool2d_forward(X, 2, stride=1)  # 9 wins all four windows
    >>> maxpool2d_backward(np.ones((1, 1, 2, 2)), cache)[0, 0]
    array([[0., 0., 0.],
           [0., 4., 0.],
           [0., 0., 0.]])
    """
    dY_ = _check_upstream(dY, cache)
    return _maxpool2d_backward(dY_, cache, _require_argmax(cache))


def _maxpool2d_backward(
    dY_: FloatArray, cache: PoolCache, winners: NDArray[np.integer]
) -> FloatArray:
    """:func:`maxpool2d_backward` of a checked dY, cache and winners."""
    (KH, KW), (sh, sw), (OH, OW) = cache.kernel, cache.stride, dY_.shape[2:]
    # --8<-- [start:maxpool_fast_backward]
    overlap = sh < KH or sw < KW  # a pixel can win several windows
    tiled = (sh, sw) == (KH, KW) and cache.X_shape[2:] == (OH * KH, OW * KW)
    # windows that tile X write every pixel once: no zeros needed
    dX = (np.empty if tiled else np.zeros)(cache.X_shape, dtype=dY_.dtype)
    for t in range(KH * KW):  # tap t = (u, v) in row-major order
        routed = dY_ * (winners == t)  # dY where tap t won, ±0 elsewhere
        dX_tap = _tap(dX, *divmod(t, KW), (OH, OW), cache.stride)
        # adding to +0 turns the -0 of a negative dY times False into +0
        np.add(dX_tap if overlap else 0.0, routed, out=dX_tap)
    # --8<-- [end:maxpool_fast_backward]
    return dX


# ---------------------------------------------------------------------------
# Average pooling. Part 3, eq. (3.11)


def avgpool2d_forward_loops(
    X: ArrayLike, kernel: IntOrPair = 2, *, stride: IntOrPair | None = None
) -> tuple[FloatArray, PoolCache]:
    """Average pooling forward pass, one loop per index (the reference).

    Y[n, c, i, j] = (1 / (KH·KW)) Σ_{u, v} X[n, c, i s + u, j s + v].

    Parameters
    ----------
    X : ndarray, shape (N, C, H, W)
    kernel : int or (KH, KW)
    stride : int or (int, int), optional
        Defaults to ``kernel``.

    Returns
    -------
    Y : ndarray, shape (N, C, OH, OW)
    cache : PoolCache

    Notes
    -----
    Part 3, eq. (3.11).

    Examples
    --------
    >>> Y, _ = avgpool2d_forward_loops(np.arange(16.0).reshape(1, 1, 4, 4), 2)
    >>> Y[0, 0]
    array([[ 2.5,  4.5],
           [10.5, 12.5]])
    """
    X_, (KH, KW), (sh, sw), (OH, OW) = _pool_geometry(X, kernel, stride)
    N, C = X_.shape[:2]
    Y = np.zeros((N, C, OH, OW), dtype=X_.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    total = 0.0
                    for u in range(KH):
                        for v in range(KW):
                            total += X_[n, c, i * sh + u, j * sw + v]
                    Y[n, c, i, j] = total / (KH * KW)
    return Y, PoolCache(X_.shape, (KH, KW), (sh, sw), None)


def avgpool2d_backward_loops(dY: ArrayLike, cache: PoolCache) -> FloatArray:
    """Average pooling backward pass, one loop per index (the reference).

    Every input of a window receives dY / (KH·KW); overlaps accumulate.

    Parameters
    ----------
    dY : ndarray, shape (N, C, OH, OW)
    cache : PoolCache

    Returns
    -------
    dX : ndarray, shape (N, C, H, W)

    Notes
    -----
    Part 3, eq. (3.12).

    Examples
    --------
    >>> _, cache = avgpool2d_forward_loops(np.zeros((1, 1, 2, 3)), 2, stride=1)
    >>> avgpool2d_backward_loops([[[[4.0, 8.0]]]], cache)[0, 0]
    array([[1., 3., 2.],
           [1., 3., 2.]])
    """
    dY_ = _check_upstream(dY, cache)
    _require_no_argmax(cache)
    (KH, KW), (sh, sw) = cache.kernel, cache.stride
    N, C, OH, OW = dY_.shape
    dX = np.zeros(cache.X_shape, dtype=dY_.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    for u in range(KH):
                        for v in range(KW):
                            share = dY_[n, c, i, j] / (KH * KW)
                            dX[n, c, i * sh + u, j * sw + v] += share
    return dX


def avgpool2d_forward(
    X: ArrayLike, kernel: IntOrPair = 2, *, stride: IntOrPair | None = None
) -> tuple[FloatArray, PoolCache]:
    """Average pooling forward pass (vectorised).

    Parameters
    ----------
    X : ndarray, shape (N, C, H, W)
    kernel : int or (KH, KW)
    stride : int or (int, int), optional
        Defaults to ``kernel``.

    Returns
    -------
    Y : ndarray, shape (N, C, OH, OW)
    cache : PoolCache

    Notes
    -----
    Part 3, eq. (3.11); equal to :func:`avgpool2d_forward_loops`.

    Examples
    --------
    >>> Y, _ = avgpool2d_forward(np.arange(16.0).reshape(1, 1, 4, 4), 2)
    >>> Y[0, 0]
    array([[ 2.5,  4.5],
           [10.5, 12.5]])
    """
    X_, k, s, _ = _pool_geometry(X, kernel, stride)
    Y = _pool_windows(X_, k, s).mean(axis=(4, 5))
    return Y, PoolCache(X_.shape, k, s, None)


def avgpool2d_backward(dY: ArrayLike, cache: PoolCache) -> FloatArray:
    """Average pooling backward pass (vectorised).

    Parameters
    ----------
    dY : ndarray, shape (N, C, OH, OW)
    cache : PoolCache

    Returns
    -------
    dX : ndarray, shape (N, C, H, W)

    Notes
    -----
    Part 3, eq. (3.12); equal to :func:`avgpool2d_backward_loops`.

    Examples
    --------
    >>> _, cache = avgpool2d_forward(np.zeros((1, 1, 2, 4)), 2)
    >>> avgpool2d_backward([[[[4.0, 8.0]]]], cache)[0, 0]
    array([[1., 1., 2., 2.],
           [1., 1., 2., 2.]])
    """
    dY_ = _check_upstream(dY, cache)
    _require_no_argmax(cache)
    KH, KW = cache.kernel
    OH, OW = dY_.shape[2:]
    share = dY_ / (KH * KW)
    dX = np.zeros(cache.X_shape, dtype=dY_.dtype)
    for u in range(KH):
        for v in range(KW):
            rows, columns = _tap_slices(u, v, (OH, OW), cache.stride)
            dX[:, :, rows, columns] += share
    return dX


# ---------------------------------------------------------------------------
# Flatten: the bridge from feature maps to a dense layer


def flatten_forward(X: ArrayLike) -> tuple[FloatArray, tuple[int, ...]]:
    """Reshape feature maps (N, C, H, W) to rows (N, C·H·W) for a dense layer.

    Parameters
    ----------
    X : ndarray, shape (N, C, H, W)

    Returns
    -------
    Z : ndarray, shape (N, C·H·W)
        Row n lists image n's entries in (c, h, w) row-major order.
    cache : tuple of int
        ``X``'s shape, what :func:`flatten_backward` needs.

    Notes
    -----
    Part 3, eq. (3.13).

    Examples
    --------
    >>> Z, shape = flatten_forward(np.zeros((2, 3, 4, 5)))
    >>> Z.shape, shape
    ((2, 60), (2, 3, 4, 5))
    """
    return _flatten_forward(check_array("X", X, ("N", "C", "H", "W")))


def _flatten_forward(X: FloatArray) -> tuple[FloatArray, tuple[int, ...]]:
    """:func:`flatten_forward` of a checked X."""
    return X.reshape(X.shape[0], -1), X.shape


def flatten_backward(dZ: ArrayLike, cache: tuple[int, ...]) -> FloatArray:
    """Reshape the gradient (N, C·H·W) back to the feature maps' shape.

    A reshape moves no number, so its Jacobian is the identity and the
    backward pass is the inverse reshape.

    Parameters
    ----------
    dZ : ndarray, shape (N, C·H·W)
    cache : tuple of int
        ``(N, C, H, W)`` from :func:`flatten_forward`.

    Returns
    -------
    dX : ndarray, shape (N, C, H, W)

    Notes
    -----
    Part 3, eq. (3.13).

    Examples
    --------
    >>> flatten_backward(np.arange(4.0).reshape(1, 4), (1, 1, 2, 2))[0, 0]
    array([[0., 1.],
           [2., 3.]])
    """
    shape = _check_flatten_cache(cache)
    N, C, H, W = shape
    dZ_ = check_array("dZ", dZ, ("N", "CHW"), N=(N, "X"), CHW=(C * H * W, "X"))
    return dZ_.reshape(shape)


def _check_flatten_cache(
    cache: object, name: str = "cache", producer: str = "flatten_forward"
) -> tuple[int, int, int, int]:
    """``cache`` if it is the (N, C, H, W) shape :func:`flatten_forward` returns."""
    if (
        not isinstance(cache, tuple)
        or len(cache) != 4
        or not all(is_int(n) and n >= 1 for n in cache)
    ):
        raise ValueError(
            f"{name} is {short_repr(cache)}; expected the (N, C, H, W) shape that "
            f"{producer} returns"
        )
    return int(cache[0]), int(cache[1]), int(cache[2]), int(cache[3])


# ---------------------------------------------------------------------------
# Global average pooling: one number per channel. Part 5, eqs. (5.10)-(5.11)


def global_avgpool2d_forward(X: ArrayLike) -> tuple[FloatArray, tuple[int, ...]]:
    """The mean of every feature map: (N, C, H, W) to (N, C).

    Y[n, c] = (1/(H·W)) Σ_{h, w} X[n, c, h, w]: average pooling with one
    window as large as the map, followed by a flatten. The output has C
    entries whatever H and W are, so a dense layer after it accepts images
    of any size.

    Parameters
    ----------
    X : ndarray, shape (N, C, H, W)

    Returns
    -------
    Y : ndarray, shape (N, C)
    cache : tuple of int
        ``X``'s shape, what :func:`global_avgpool2d_backward` needs.

    Notes
    -----
    Part 5, eq. (5.10).

    Examples
    --------
    >>> Y, cache = global_avgpool2d_forward(np.arange(8.0).reshape(1, 2, 2, 2))
    >>> Y, cache
    (array([[1.5, 5.5]]), (1, 2, 2, 2))
    """
    return _global_avgpool2d_forward(check_array("X", X, ("N", "C", "H", "W")))


def _global_avgpool2d_forward(X: FloatArray) -> tuple[FloatArray, tuple[int, ...]]:
    """:func:`global_avgpool2d_forward` of a checked X."""
    return X.mean(axis=(2, 3)), X.shape


def global_avgpool2d_backward(dY: ArrayLike, cache: tuple[int, ...]) -> FloatArray:
    """dX = dY / (H·W), copied to every pixel of its feature map.

    Every pixel of map (n, c) enters Y[n, c] with weight 1/(H·W), so each
    receives that share of dY[n, c].

    Parameters
    ----------
    dY : ndarray, shape (N, C)
    cache : tuple of int
        ``(N, C, H, W)`` from :func:`global_avgpool2d_forward`.

    Returns
    -------
    dX : ndarray, shape (N, C, H, W)

    Notes
    -----
    Part 5, eq. (5.11).

    Examples
    --------
    >>> global_avgpool2d_backward([[4.0]], (1, 1, 2, 2))[0, 0]
    array([[1., 1.],
           [1., 1.]])
    """
    N, C, H, W = _check_flatten_cache(cache, "cache", "global_avgpool2d_forward")
    check_entries("cache", (N, C, H, W), "an input gradient")
    dY_ = check_array("dY", dY, ("N", "C"), N=(N, "X"), C=(C, "X"))
    return _global_avgpool2d_backward(dY_, (N, C, H, W))


def _global_avgpool2d_backward(
    dY_: FloatArray, shape: tuple[int, int, int, int]
) -> FloatArray:
    """:func:`global_avgpool2d_backward` of a checked dY and input shape."""
    N, C, H, W = shape
    # --8<-- [start:global_avgpool_backward]
    share = dY_ / (H * W)  # (N, C)
    dX = np.broadcast_to(share[:, :, None, None], (N, C, H, W))
    # --8<-- [end:global_avgpool_backward]
    return np.array(dX)
