"""2-D convolution (cross-correlation) forward and backward, four ways.

* the **loop reference** (:func:`conv2d_forward_loops`,
  :func:`conv2d_backward_loops`): one ``for`` per index of Part 3, eqs.
  (3.1) and (3.3)–(3.5), written to be read beside the page;
* the **matrix form** (:func:`conv2d_forward_im2col`,
  :func:`conv2d_backward_im2col`): :func:`im2col` turns every receptive
  field into a row, so the forward pass is one matrix product and the
  backward pass is the dense layer's backward pass followed by
  :func:`col2im`, which *accumulates* overlapping windows (Part 3, eqs.
  (3.7)–(3.8));
* the **flipped-kernel form** of the input gradient
  (:func:`conv2d_input_gradient_flipped`): a full correlation of the dilated,
  padded upstream gradient with the flipped kernel (Part 3, eq. (3.6));
* the **fast path** (:func:`conv2d_forward`, :func:`conv2d_backward`), which
  the layers train with: the matrix form transposed, so each pass is one
  matrix product over the whole batch, its window columns kept for the
  backward pass, and the input gradient as a sum of KH·KW shifted matrix
  products (Part 3, "The fast path").

Shapes: images ``(N, C_in, H, W)``, kernels ``(C_out, C_in, KH, KW)``, biases
``(C_out,)``, outputs ``(N, C_out, OH, OW)``. Stride, padding and dilation are
an ``int`` (the same on both axes) or an ``(h, w)`` pair.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike

from ._validate import (
    FloatArray,
    check_array,
    check_cache,
    check_entries,
    short_repr,
)

#: An ``int`` used on both axes, or an ``(h, w)`` pair.
IntOrPair = int | tuple[int, int]
Pair = tuple[int, int]


# ---------------------------------------------------------------------------
# Hyper-parameters and the output size


def _is_int(value: object) -> bool:
    """True for a Python or NumPy integer (not a bool)."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def as_pair(name: str, value: IntOrPair, *, minimum: int) -> Pair:
    """``value`` as an ``(h, w)`` pair of integers ``>= minimum``, else raise.

    Examples
    --------
    >>> as_pair("stride", 2, minimum=1), as_pair("padding", (0, 1), minimum=0)
    ((2, 2), (0, 1))
    """
    if not _is_int(minimum) or minimum < 0:
        raise ValueError(f"minimum must be an int >= 0; got {minimum!r}")
    items = value if isinstance(value, tuple) else (value, value)
    if len(items) != 2 or not all(_is_int(v) for v in items):
        raise ValueError(f"{name} must be an int or a pair of ints; got {value!r}")
    if min(items) < minimum:
        raise ValueError(f"{name} must be >= {minimum} on both axes; got {value!r}")
    return int(items[0]), int(items[1])


def _as_int(name: str, value: int, *, minimum: int) -> int:
    """``value`` as an ``int >= minimum``, else raise (one axis: no pairs)."""
    if not _is_int(value):
        raise ValueError(f"{name} must be an int; got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value!r}")
    return int(value)


def _axis_output_size(size: int, k: int, s: int, p: int, d: int) -> int:
    """⌊(H + 2p − d(k − 1) − 1) / s⌋ + 1 along one axis (Part 3, eq. (3.2)).

    Less than 1 exactly when the dilated kernel, extent ``d(k − 1) + 1``, is
    larger than the padded input ``H + 2p``; the callers check that.
    """
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def conv_output_size(
    H: int, k: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int:
    """Output length along one axis: ⌊(H + 2p − d(k − 1) − 1) / s⌋ + 1.

    Parameters
    ----------
    H : int
        Input length (height or width), before padding.
    k : int
        Kernel length along the same axis.
    stride, padding, dilation : int
        ``s >= 1``, ``p >= 0``, ``d >= 1``.

    Returns
    -------
    int
        The number of window positions. When the stride does not divide
        ``H + 2p − d(k − 1) − 1``, the last rows (or columns) of the padded
        input are never read.

    Raises
    ------
    ValueError
        If a size or hyper-parameter is out of range, or the dilated kernel
        (extent ``d(k − 1) + 1``) is larger than the padded input.

    Notes
    -----
    Part 3, eq. (3.2).

    Examples
    --------
    >>> conv_output_size(7, 3, stride=2)  # rows 0-2, 2-4, 4-6
    3
    >>> conv_output_size(8, 3, stride=2)  # the same three windows: row 7 is never read
    3
    >>> conv_output_size(5, 3, padding=1, dilation=2)
    3
    """
    H_, k_ = _as_int("H", H, minimum=1), _as_int("k", k, minimum=1)
    s = _as_int("stride", stride, minimum=1)
    p = _as_int("padding", padding, minimum=0)
    d = _as_int("dilation", dilation, minimum=1)
    size = _axis_output_size(H_, k_, s, p, d)
    if size < 1:
        raise ValueError(
            f"kernel extent d(k - 1) + 1 = {d * (k_ - 1) + 1} (k = {k_}, "
            f"dilation = {d}) is larger than the padded input H + 2p = "
            f"{H_ + 2 * p} (H = {H_}, padding = {p})"
        )
    return size


class ConvGeometry(NamedTuple):
    """Hyper-parameters of one convolution, each an ``(h, w)`` pair."""

    stride: Pair
    padding: Pair
    dilation: Pair


def _geometry(
    x_shape: tuple[int, ...],
    kernel: Pair,
    stride: IntOrPair,
    padding: IntOrPair,
    dilation: IntOrPair,
) -> tuple[ConvGeometry, Pair]:
    """Check the hyper-parameters against the input; return them and (OH, OW)."""
    s = as_pair("stride", stride, minimum=1)
    p = as_pair("padding", padding, minimum=0)
    d = as_pair("dilation", dilation, minimum=1)
    OH, OW = (
        _axis_output_size(x_shape[2 + a], kernel[a], s[a], p[a], d[a]) for a in (0, 1)
    )
    if min(OH, OW) < 1:
        raise ValueError(
            f"kernel (KH, KW) = {kernel} with dilation {d} spans "
            f"{d[0] * (kernel[0] - 1) + 1} x {d[1] * (kernel[1] - 1) + 1}; "
            f"larger than the padded input "
            f"{x_shape[2] + 2 * p[0]} x {x_shape[3] + 2 * p[1]} "
            f"((H, W) = {(x_shape[2], x_shape[3])}, padding {p})"
        )
    N, C, H, W = x_shape
    padded = (N, C, H + 2 * p[0], W + 2 * p[1])
    check_entries("padding", padded, "a padded input")
    check_entries("X", (N * OH * OW, C * kernel[0] * kernel[1]), "an im2col matrix")
    return ConvGeometry(s, p, d), (OH, OW)


def pad(X: ArrayLike, padding: IntOrPair) -> FloatArray:
    """Zero-pad the last two axes of ``X`` by ``padding = (ph, pw)`` on each side.

    Parameters
    ----------
    X : ndarray, shape (N, C, H, W)
    padding : int or (ph, pw)
        Rows of zeros added above and below, columns left and right; ``>= 0``.

    Returns
    -------
    Xp : ndarray, shape (N, C, H + 2 ph, W + 2 pw)

    Raises
    ------
    ValueError
        If ``X`` is not a finite 4-D array of numbers, or ``padding`` is not an
        int or a pair of ints ``>= 0``.

    Examples
    --------
    >>> pad(np.ones((1, 1, 1, 2)), (1, 0))[0, 0]
    array([[0., 0.],
           [1., 1.],
           [0., 0.]])
    """
    X_ = check_array("X", X, ("N", "C", "H", "W"))
    ph, pw = as_pair("padding", padding, minimum=0)
    N, C, H, W = X_.shape
    check_entries("padding", (N, C, H + 2 * ph, W + 2 * pw), "a padded input")
    return _pad(X_, (ph, pw))


def _pad(X: FloatArray, padding: Pair) -> FloatArray:
    # A zero array and one slice assignment: np.pad does the same with far
    # more Python overhead, which dominates on the small images of the labs.
    (ph, pw), (N, C, H, W) = padding, X.shape
    Xp = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=X.dtype)
    Xp[:, :, ph : ph + H, pw : pw + W] = X
    return Xp


def _as_shape(X_shape: Sequence[int], axes: str) -> tuple[int, int, int, int]:
    """``X_shape`` as four ``int`` sizes ``>= 1``, else raise.

    ``axes`` names them for the message, e.g. ``"(N, C, H, W)"``.
    """
    sizes = tuple(X_shape) if isinstance(X_shape, Sequence | np.ndarray) else ()
    if len(sizes) != 4 or not all(_is_int(n) for n in sizes) or min(sizes) < 1:
        raise ValueError(f"X_shape is {X_shape!r}; expected {axes}, all integers >= 1")
    check_entries("X_shape", sizes, "an image batch")
    return int(sizes[0]), int(sizes[1]), int(sizes[2]), int(sizes[3])


class ConvCache(NamedTuple):
    """What the backward functions need from a forward pass.

    ``X`` has shape (N, C_in, H, W) (not padded), ``W`` (C_out, C_in, KH, KW).
    """

    X: FloatArray
    W: FloatArray
    geometry: ConvGeometry
    #: The fast path's window columns, (C_in·KH·KW, N·OH·OW) = im2col(X)ᵀ,
    #: kept from the forward pass so the backward pass does not copy the
    #: windows again; ``None`` from the loop and matrix forms.
    cols: FloatArray | None = None


def _check_inputs(
    X: ArrayLike, W: ArrayLike, b: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    W_ = check_array("W", W, ("C_out", "C_in", "KH", "KW"))
    X_ = check_array("X", X, ("N", "C_in", "H", "W"), C_in=(W_.shape[1], "W"))
    b_ = check_array("b", b, ("C_out",), C_out=(W_.shape[0], "W"))
    return X_, W_, b_


def _check_upstream(dY: ArrayLike, cache: ConvCache) -> FloatArray:
    cache = check_cache(cache, ConvCache, "conv2d_forward", {"X": 4, "W": 4})
    X, W, g = cache.X, cache.W, cache.geometry
    if not isinstance(g, ConvGeometry) or X.shape[1] != W.shape[1]:
        raise ValueError(
            "cache.geometry or cache.W does not fit cache.X; expected the "
            "ConvCache that conv2d_forward returns"
        )
    _, (OH, OW) = _geometry(X.shape, (W.shape[2], W.shape[3]), *g)
    columns = (W.shape[1] * W.shape[2] * W.shape[3], X.shape[0] * OH * OW)
    if cache.cols is not None and (
        not isinstance(cache.cols, np.ndarray) or cache.cols.shape != columns
    ):
        raise ValueError(
            f"cache.cols is {short_repr(cache.cols)}; expected None or the window "
            f"columns of cache.X, shape {columns}, as conv2d_forward returns"
        )
    return check_array(
        "dY",
        dY,
        ("N", "C_out", "OH", "OW"),
        N=(X.shape[0], "X"),
        C_out=(W.shape[0], "W"),
        OH=(OH, "the forward output"),
        OW=(OW, "the forward output"),
    )


# ---------------------------------------------------------------------------
# The loop reference: Part 3, eqs. (3.1), (3.3), (3.4), (3.5)


def conv2d_forward_loops(
    X: ArrayLike,
    W: ArrayLike,
    b: ArrayLike,
    *,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
) -> tuple[FloatArray, ConvCache]:
    """Convolution layer forward pass, one loop per index (the reference).

    Y[n, o, i, j] = b[o] + Σ_{c, u, v} W[o, c, u, v] · Xp[n, c, i s + u d, j s + v d]
    where Xp is X zero-padded by p on each side.

    Parameters
    ----------
    X : ndarray, shape (N, C_in, H, W)
    W : ndarray, shape (C_out, C_in, KH, KW)
    b : ndarray, shape (C_out,)
    stride, padding, dilation : int or (int, int)

    Returns
    -------
    Y : ndarray, shape (N, C_out, OH, OW)
        OH and OW from :func:`conv_output_size`.
    cache : ConvCache
        What :func:`conv2d_backward_loops` (or :func:`conv2d_backward`) needs.

    Notes
    -----
    Part 3, eq. (3.1). Slow on purpose: it is the definition.

    Examples
    --------
    >>> X = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> Y, _ = conv2d_forward_loops(X, np.ones((1, 1, 2, 2)), [0.0], stride=2)
    >>> Y[0, 0]  # the sum of each 2 x 2 block
    array([[10., 18.],
           [42., 50.]])
    """
    X_, W_, b_ = _check_inputs(X, W, b)
    g, (OH, OW) = _geometry(
        X_.shape, (W_.shape[2], W_.shape[3]), stride, padding, dilation
    )
    # --8<-- [start:conv2d_loops]
    (sh, sw), (dh, dw) = g.stride, g.dilation
    Xp = pad(X_, g.padding)
    N, C_in = X_.shape[:2]
    C_out, _, KH, KW = W_.shape
    Y = np.zeros((N, C_out, OH, OW), dtype=np.result_type(X_, W_, b_))
    for n in range(N):
        for o in range(C_out):
            for i in range(OH):
                for j in range(OW):
                    total = b_[o]
                    for c in range(C_in):
                        for u in range(KH):
                            for v in range(KW):
                                x = Xp[n, c, i * sh + u * dh, j * sw + v * dw]
                                total += W_[o, c, u, v] * x
                    Y[n, o, i, j] = total
    # --8<-- [end:conv2d_loops]
    return Y, ConvCache(X_, W_, g)


def conv2d_backward_loops(
    dY: ArrayLike, cache: ConvCache
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Gradients of a scalar loss through a convolution, one loop per index.

    Every term W[o, c, u, v] · Xp[n, c, i s + u d, j s + v d] of the forward
    sum sends dY[n, o, i, j] times its other factor to each of its factors.

    Parameters
    ----------
    dY : ndarray, shape (N, C_out, OH, OW)
        ∂L/∂Y, the gradient arriving from the layer above.
    cache : ConvCache
        From :func:`conv2d_forward_loops` or :func:`conv2d_forward`.

    Returns
    -------
    dX : ndarray, shape (N, C_in, H, W)
    dW : ndarray, shape (C_out, C_in, KH, KW)
    db : ndarray, shape (C_out,)

    Notes
    -----
    Part 3, eqs. (3.3) (db), (3.4) (dW) and (3.5) (dX).

    Examples
    --------
    >>> X = np.arange(9.0).reshape(1, 1, 3, 3)
    >>> _, cache = conv2d_forward_loops(X, np.ones((1, 1, 2, 2)), [0.0])
    >>> dX, dW, db = conv2d_backward_loops(np.ones((1, 1, 2, 2)), cache)
    >>> dX[0, 0]  # how many windows read each pixel
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    >>> db
    array([4.])
    """
    dY_ = _check_upstream(dY, cache)
    X, W, g = cache.X, cache.W, cache.geometry
    # --8<-- [start:conv2d_backward_loops]
    (sh, sw), (ph, pw), (dh, dw) = g.stride, g.padding, g.dilation
    Xp = pad(X, g.padding)
    N, C_out, OH, OW = dY_.shape
    _, C_in, KH, KW = W.shape
    db = np.zeros(C_out)
    dW = np.zeros(W.shape)
    dXp = np.zeros(Xp.shape)
    for n in range(N):
        for o in range(C_out):
            for i in range(OH):
                for j in range(OW):
                    g_out = dY_[n, o, i, j]
                    db[o] += g_out  # eq. (3.3)
                    for c in range(C_in):
                        for u in range(KH):
                            for v in range(KW):
                                r, t = i * sh + u * dh, j * sw + v * dw
                                dW[o, c, u, v] += g_out * Xp[n, c, r, t]  # (3.4)
                                dXp[n, c, r, t] += g_out * W[o, c, u, v]  # (3.5)
    dX = dXp[:, :, ph : ph + X.shape[2], pw : pw + X.shape[3]]
    # --8<-- [end:conv2d_backward_loops]
    return dX, dW, db


# ---------------------------------------------------------------------------
# The matrix form: im2col, one product, col2im. Part 3, eqs. (3.7)-(3.8)


def _tap_slices(
    u: int, v: int, out: Pair, stride: Pair, dilation: Pair = (1, 1)
) -> tuple[slice, slice]:
    """Rows and columns that kernel tap (u, v) reads, one per output position.

    ``X[:, :, rows, columns]`` has shape (N, C, OH, OW): entry (i, j) is the
    input that tap (u, v) of window (i, j) reads, X[i s + u d, j s + v d].
    """
    (OH, OW), (sh, sw), (dh, dw) = out, stride, dilation
    rows = slice(u * dh, u * dh + sh * (OH - 1) + 1, sh)
    columns = slice(v * dw, v * dw + sw * (OW - 1) + 1, sw)
    return rows, columns


def _windows(Xp: FloatArray, kernel: Pair, g: ConvGeometry) -> FloatArray:
    """View of every receptive field: shape (N, C, OH, OW, KH, KW), no copy."""
    (KH, KW), (sh, sw), (dh, dw) = kernel, g.stride, g.dilation
    extent = (dh * (KH - 1) + 1, dw * (KW - 1) + 1)
    view = sliding_window_view(Xp, extent, axis=(2, 3))
    return view[:, :, ::sh, ::sw, ::dh, ::dw]


def im2col(
    X: ArrayLike,
    kernel: IntOrPair,
    *,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
) -> FloatArray:
    """Copy every receptive field of ``X`` into one row of a matrix.

    Parameters
    ----------
    X : ndarray, shape (N, C, H, W)
    kernel : int or (KH, KW)
    stride, padding, dilation : int or (int, int)

    Returns
    -------
    cols : ndarray, shape (N·OH·OW, C·KH·KW)
        Row ``(n·OH + i)·OW + j`` holds the window that output pixel (i, j) of
        image n reads, in (c, u, v) row-major order: the order of
        ``W.reshape(C_out, -1)``'s columns.

    Notes
    -----
    Part 3, eq. (3.7). The rows overlap whenever the stride is smaller than
    the (dilated) kernel, so a pixel can appear in several rows.

    Examples
    --------
    >>> X = np.arange(9.0).reshape(1, 1, 3, 3)
    >>> im2col(X, 2)
    array([[0., 1., 3., 4.],
           [1., 2., 4., 5.],
           [3., 4., 6., 7.],
           [4., 5., 7., 8.]])
    """
    X_ = check_array("X", X, ("N", "C", "H", "W"))
    k = as_pair("kernel", kernel, minimum=1)
    g, _ = _geometry(X_.shape, k, stride, padding, dilation)
    return _im2col(X_, k, g)


def _im2col(X: FloatArray, kernel: Pair, g: ConvGeometry) -> FloatArray:
    win = _windows(_pad(X, g.padding), kernel, g)  # (N, C, OH, OW, KH, KW)
    N, C, OH, OW, KH, KW = win.shape
    return win.transpose(0, 2, 3, 1, 4, 5).reshape(N * OH * OW, C * KH * KW)


def col2im(
    cols: ArrayLike,
    X_shape: tuple[int, int, int, int],
    kernel: IntOrPair,
    *,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
) -> FloatArray:
    """Scatter rows back to image positions, *adding* where windows overlap.

    The adjoint (transpose) of :func:`im2col`: if ``cols = im2col(X)``, then
    ``Σ cols · D == Σ X · col2im(D)`` for every ``D``. It is not an inverse.

    Parameters
    ----------
    cols : ndarray, shape (N·OH·OW, C·KH·KW)
    X_shape : (N, C, H, W)
        Shape of the image ``im2col`` was applied to.
    kernel : int or (KH, KW)
    stride, padding, dilation : int or (int, int)

    Returns
    -------
    X : ndarray, shape (N, C, H, W)
        Each pixel receives the sum of every entry of ``cols`` that was a copy
        of it; pixels no window reads receive 0.

    Notes
    -----
    Part 3, eq. (3.8).

    Examples
    --------
    >>> col2im(np.ones((4, 4)), (1, 1, 3, 3), 2)[0, 0]  # count of windows per pixel
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    """
    X_shape = _as_shape(X_shape, "(N, C, H, W)")
    N, C = X_shape[:2]
    k = as_pair("kernel", kernel, minimum=1)
    g, (OH, OW) = _geometry(X_shape, k, stride, padding, dilation)
    rows, columns = N * OH * OW, C * k[0] * k[1]
    cols_ = check_array(
        "cols",
        cols,
        ("N_OH_OW", "C_KH_KW"),
        N_OH_OW=(rows, "X_shape"),
        C_KH_KW=(columns, "X_shape and kernel"),
    )
    return _col2im(cols_, X_shape, k, g)


def _col2im(
    cols: FloatArray, X_shape: tuple[int, ...], kernel: Pair, g: ConvGeometry
) -> FloatArray:
    N, C, H, W = X_shape
    (KH, KW), (ph, pw) = kernel, g.padding
    _, out = _geometry(X_shape, kernel, *g)
    blocks = cols.reshape(N, *out, C, KH, KW).transpose(0, 3, 4, 5, 1, 2)
    Xp = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=cols.dtype)
    for u in range(KH):
        for v in range(KW):
            rows, columns = _tap_slices(u, v, out, g.stride, g.dilation)
            Xp[:, :, rows, columns] += blocks[:, :, u, v]  # += : windows overlap
    return Xp[:, :, ph : ph + H, pw : pw + W]


def conv2d_forward_im2col(
    X: ArrayLike,
    W: ArrayLike,
    b: ArrayLike,
    *,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
) -> tuple[FloatArray, ConvCache]:
    """Convolution layer forward pass as one matrix product (the matrix form).

    Y = im2col(X) Wmatᵀ + b, with Wmat = W.reshape(C_out, C_in·KH·KW), then
    reshaped to (N, C_out, OH, OW): a dense layer applied to every window.

    Parameters
    ----------
    X : ndarray, shape (N, C_in, H, W)
    W : ndarray, shape (C_out, C_in, KH, KW)
    b : ndarray, shape (C_out,)
    stride, padding, dilation : int or (int, int)

    Returns
    -------
    Y : ndarray, shape (N, C_out, OH, OW)
    cache : ConvCache
        What :func:`conv2d_backward_im2col` (or any backward function) needs.

    Raises
    ------
    ValueError
        If a shape does not fit (``C_in`` of ``X`` and ``W``, ``C_out`` of
        ``W`` and ``b``), an entry is not finite, a hyper-parameter is out of
        range, or the dilated kernel is larger than the padded input.

    Notes
    -----
    Part 3, eq. (3.7); equal to the loop reference, eq. (3.1), as Part 3,
    "Three forms, one answer" shows.

    Examples
    --------
    >>> X = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> Y, cache = conv2d_forward_im2col(X, np.ones((1, 1, 2, 2)), [0.0], stride=2)
    >>> Y[0, 0]
    array([[10., 18.],
           [42., 50.]])
    """
    X_, W_, b_ = _check_inputs(X, W, b)
    k = (W_.shape[2], W_.shape[3])
    g, (OH, OW) = _geometry(X_.shape, k, stride, padding, dilation)
    # --8<-- [start:conv2d_matrix]
    cols = _im2col(X_, k, g)  # (N·OH·OW, C_in·KH·KW)
    W_mat = W_.reshape(W_.shape[0], -1)  # (C_out, C_in·KH·KW)
    Y_mat = cols @ W_mat.T + b_  # (N·OH·OW, C_out)
    Y = Y_mat.reshape(X_.shape[0], OH, OW, -1).transpose(0, 3, 1, 2)
    # --8<-- [end:conv2d_matrix]
    return np.ascontiguousarray(Y), ConvCache(X_, W_, g)


def conv2d_backward_im2col(
    dY: ArrayLike, cache: ConvCache
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Gradients of a scalar loss through a convolution (the matrix form).

    The dense layer's backward pass on the im2col matrix, then col2im:
    dWmat = dYmatᵀ cols, db = column sums of dYmat, dX = col2im(dYmat Wmat).

    Parameters
    ----------
    dY : ndarray, shape (N, C_out, OH, OW)
        ∂L/∂Y, the gradient arriving from the layer above.
    cache : ConvCache
        From any of the forward functions.

    Returns
    -------
    dX : ndarray, shape (N, C_in, H, W)
    dW : ndarray, shape (C_out, C_in, KH, KW)
    db : ndarray, shape (C_out,)

    Notes
    -----
    Part 3, eq. (3.8); equal to the loop reference, eqs. (3.3)–(3.5), and
    to the flipped-kernel form, eq. (3.6), as Part 3, "Three forms, one
    answer" shows.

    Examples
    --------
    >>> X = np.arange(9.0).reshape(1, 1, 3, 3)
    >>> _, cache = conv2d_forward_im2col(X, np.ones((1, 1, 2, 2)), [0.0])
    >>> dX, dW, db = conv2d_backward_im2col(np.ones((1, 1, 2, 2)), cache)
    >>> dW[0, 0]  # each weight met the four pixels of one 2 x 2 block
    array([[ 8., 12.],
           [20., 24.]])
    """
    dY_ = _check_upstream(dY, cache)
    X, W, g = cache.X, cache.W, cache.geometry
    k = (W.shape[2], W.shape[3])
    # --8<-- [start:conv2d_matrix_backward]
    cols = _im2col(X, k, g)  # (N·OH·OW, C_in·KH·KW)
    W_mat = W.reshape(W.shape[0], -1)  # (C_out, C_in·KH·KW)
    dY_mat = dY_.transpose(0, 2, 3, 1).reshape(-1, W.shape[0])  # (N·OH·OW, C_out)
    db = dY_mat.sum(axis=0)
    dW = (dY_mat.T @ cols).reshape(W.shape)
    dX = _col2im(dY_mat @ W_mat, X.shape, k, g)
    # --8<-- [end:conv2d_matrix_backward]
    return dX, dW, db


# ---------------------------------------------------------------------------
# The fast path the layers train with. Part 3, "The fast path"


def _window_columns(
    X: FloatArray, kernel: Pair, g: ConvGeometry, out: Pair
) -> FloatArray:
    """Every receptive field of the batch as a column: (C·KH·KW, N·OH·OW).

    Exactly ``im2col(X).T``: column ``(n·OH + i)·OW + j`` is the window that
    output pixel (i, j) of image n reads. It is filled with one strided copy
    per kernel tap (u, v), each a block of whole image rows, which is far
    cheaper than copying window by window, and laid out so that each pass
    of the layer is a single matrix product over the whole batch.
    """
    N, C = X.shape[:2]
    (KH, KW), (OH, OW) = kernel, out
    Xp = _pad(X, g.padding) if g.padding != (0, 0) else X
    by_channel = Xp.transpose(1, 0, 2, 3)  # (C, N, H, W), a view
    cols = np.empty((C, KH, KW, N, OH, OW), dtype=X.dtype)
    for u in range(KH):
        for v in range(KW):
            rows, columns = _tap_slices(u, v, out, g.stride, g.dilation)
            cols[:, u, v] = by_channel[:, :, rows, columns]
    return cols.reshape(C * KH * KW, N * OH * OW)


def conv2d_forward(
    X: ArrayLike,
    W: ArrayLike,
    b: ArrayLike,
    *,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
) -> tuple[FloatArray, ConvCache]:
    """Convolution layer forward pass, the fast path the layers use.

    Yᵀ = Wmat · cols + b, where cols = im2col(X)ᵀ (C_in·KH·KW, N·OH·OW)
    holds one receptive field per column: the matrix form of eq. (3.7),
    transposed, one product for the whole batch. Float32 inputs stay
    float32 throughout.

    Parameters
    ----------
    X : ndarray, shape (N, C_in, H, W)
    W : ndarray, shape (C_out, C_in, KH, KW)
    b : ndarray, shape (C_out,)
    stride, padding, dilation : int or (int, int)

    Returns
    -------
    Y : ndarray, shape (N, C_out, OH, OW)
        In the dtype of the product of ``X`` and ``W``: float32 if both are.
    cache : ConvCache
        What :func:`conv2d_backward` needs, including the window columns.

    Raises
    ------
    ValueError
        If a shape does not fit (``C_in`` of ``X`` and ``W``, ``C_out`` of
        ``W`` and ``b``), an entry is not finite, a hyper-parameter is out of
        range, or the dilated kernel is larger than the padded input.

    Notes
    -----
    Part 3, "The fast path": equal to the loop reference, eq. (3.1), and to
    the matrix form, :func:`conv2d_forward_im2col`; the tests check it on
    random shapes and against PyTorch.

    Examples
    --------
    >>> X = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> Y, cache = conv2d_forward(X, np.ones((1, 1, 2, 2)), [0.0], stride=2)
    >>> Y[0, 0]
    array([[10., 18.],
           [42., 50.]])
    """
    X_, W_, b_ = _check_inputs(X, W, b)
    k = (W_.shape[2], W_.shape[3])
    g, out = _geometry(X_.shape, k, stride, padding, dilation)
    return _conv2d_forward(X_, W_, b_, g, out)


def _conv2d_forward(
    X: FloatArray, W: FloatArray, b: FloatArray, g: ConvGeometry, out: Pair
) -> tuple[FloatArray, ConvCache]:
    """:func:`conv2d_forward` on checked arrays, its geometry and (OH, OW) known."""
    k, (OH, OW) = (W.shape[2], W.shape[3]), out
    # --8<-- [start:conv2d_fast]
    cols = _window_columns(X, k, g, (OH, OW))  # (C_in·KH·KW, N·OH·OW)
    W_mat = W.reshape(W.shape[0], -1)  # (C_out, C_in·KH·KW)
    Y_t = W_mat @ cols  # (C_out, N·OH·OW): one product for the whole batch
    Y_t += b[:, None]
    Y = Y_t.reshape(-1, X.shape[0], OH, OW).transpose(1, 0, 2, 3)
    # --8<-- [end:conv2d_fast]
    return np.ascontiguousarray(Y), ConvCache(X, W, g, cols)


def conv2d_backward(
    dY: ArrayLike, cache: ConvCache
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Gradients of a scalar loss through a convolution, the fast path.

    dW and db as in the matrix form, one product with the window columns
    the forward pass kept; dX as a sum of KH·KW shifted products:
    tap (u, v) sends W[:, :, u, v]ᵀ dY to the input pixels it read, which is
    eq. (3.3) with the sum over taps taken last.

    Parameters
    ----------
    dY : ndarray, shape (N, C_out, OH, OW)
        ∂L/∂Y, the gradient arriving from the layer above.
    cache : ConvCache
        From any of the forward functions; without window columns (the
        loop and matrix forms keep none) they are rebuilt.

    Returns
    -------
    dX : ndarray, shape (N, C_in, H, W)
    dW : ndarray, shape (C_out, C_in, KH, KW)
    db : ndarray, shape (C_out,)

    Notes
    -----
    Part 3, "The fast path": equal to the loop reference, eqs. (3.3)–(3.5),
    to the matrix form, eq. (3.8), and to the flipped-kernel form, eq. (3.6).

    Examples
    --------
    >>> X = np.arange(9.0).reshape(1, 1, 3, 3)
    >>> _, cache = conv2d_forward(X, np.ones((1, 1, 2, 2)), [0.0])
    >>> dX, dW, db = conv2d_backward(np.ones((1, 1, 2, 2)), cache)
    >>> dW[0, 0]  # each weight met the four pixels of one 2 x 2 block
    array([[ 8., 12.],
           [20., 24.]])
    >>> dX[0, 0]  # each pixel, once per window that read it
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    """
    return _conv2d_backward(_check_upstream(dY, cache), cache)


def _conv2d_backward(
    dY: FloatArray, cache: ConvCache
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """:func:`conv2d_backward` of a checked dY and a cache from a forward pass."""
    dY_t = _by_channel(dY)
    dW, db = _weight_gradients(dY_t, cache)
    return _input_gradient(dY_t, cache, dY.shape[2:]), dW, db


def _by_channel(dY: FloatArray) -> FloatArray:
    """dY (N, C_out, OH, OW) in the columns' layout: (C_out, N·OH·OW)."""
    return dY.transpose(1, 0, 2, 3).reshape(dY.shape[1], -1)


def _weight_gradients(
    dY_t: FloatArray, cache: ConvCache
) -> tuple[FloatArray, FloatArray]:
    """dW and db, eqs. (3.4) and (3.5), from the window columns the cache keeps."""
    X, W, g = cache.X, cache.W, cache.geometry
    cols = cache.cols
    if cols is None:  # a cache built without columns
        KH, KW = W.shape[2:]
        OH, OW = _geometry(X.shape, (KH, KW), *g)[1]
        cols = _window_columns(X, (KH, KW), g, (OH, OW))
    # --8<-- [start:conv2d_fast_weight_gradients]
    db = dY_t.sum(axis=1)  # dY_t: (C_out, N·OH·OW), the columns' layout
    dW = (dY_t @ cols.T).reshape(W.shape)
    # --8<-- [end:conv2d_fast_weight_gradients]
    return dW, db


def _input_gradient(
    dY_t: FloatArray, cache: ConvCache, out: tuple[int, ...]
) -> FloatArray:
    """dX, eq. (3.3), as one matrix product per kernel tap."""
    X, W, g = cache.X, cache.W, cache.geometry
    (N, C_in, H, W_in), (_, _, KH, KW) = X.shape, W.shape
    OH, OW = out
    # --8<-- [start:conv2d_fast_backward]
    (ph, pw), dtype = g.padding, np.result_type(dY_t, W)
    dXp = np.zeros((C_in, N, H + 2 * ph, W_in + 2 * pw), dtype=dtype)  # by channel
    W_taps = np.ascontiguousarray(W.transpose(2, 3, 1, 0))  # (KH, KW, C_in, C_out)
    for u in range(KH):
        for v in range(KW):
            rows, columns = _tap_slices(u, v, (OH, OW), g.stride, g.dilation)
            tap = W_taps[u, v] @ dY_t  # (C_in, N·OH·OW)
            dXp[:, :, rows, columns] += tap.reshape(C_in, N, OH, OW)  # overlaps add
    dX = dXp[:, :, ph : ph + H, pw : pw + W_in].transpose(1, 0, 2, 3)
    # --8<-- [end:conv2d_fast_backward]
    return np.ascontiguousarray(dX)


# ---------------------------------------------------------------------------
# The flipped-kernel form of ∂L/∂X. Part 3, eq. (3.6)


def dilate(dY: ArrayLike, stride: IntOrPair) -> FloatArray:
    """Insert ``s − 1`` zeros between neighbouring entries of the last two axes.

    Parameters
    ----------
    dY : ndarray, shape (N, C, OH, OW)
    stride : int or (sh, sw)
        The forward pass's stride, ``>= 1``; 1 leaves ``dY`` as it is.

    Returns
    -------
    D : ndarray, shape (N, C, sh (OH − 1) + 1, sw (OW − 1) + 1)

    Raises
    ------
    ValueError
        If ``dY`` is not a finite 4-D array of numbers, or ``stride`` is not an
        int or a pair of ints ``>= 1``.

    Notes
    -----
    Part 3, "Where the flip appears", step 1.

    Examples
    --------
    >>> dilate(np.ones((1, 1, 2, 2)), (2, 3))[0, 0]
    array([[1., 0., 0., 1.],
           [0., 0., 0., 0.],
           [1., 0., 0., 1.]])
    """
    dY_ = check_array("dY", dY, ("N", "C", "OH", "OW"))
    sh, sw = as_pair("stride", stride, minimum=1)
    N, C, OH, OW = dY_.shape
    check_entries("stride", (N, C, sh * (OH - 1) + 1, sw * (OW - 1) + 1))
    out = np.zeros((N, C, sh * (OH - 1) + 1, sw * (OW - 1) + 1), dtype=dY_.dtype)
    out[:, :, ::sh, ::sw] = dY_
    return out


def conv2d_input_gradient_flipped(
    dY: ArrayLike,
    W: ArrayLike,
    X_shape: tuple[int, int, int, int],
    *,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
) -> FloatArray:
    """∂L/∂X as a full correlation of the upstream gradient with the flipped kernel.

    1. dilate dY by the stride (s − 1 zeros between entries);
    2. flip the kernel: W rotated by 180°, with C_in and C_out swapped;
    3. pad the dilated dY by the kernel's extent minus one on every side
       ("full") and correlate it with the flipped kernel, dilated by d,
       stride 1;
    4. pad the bottom and right with zeros for the rows and columns of the
       padded input the stride never reached, then drop the padding p.

    Parameters
    ----------
    dY : ndarray, shape (N, C_out, OH, OW)
    W : ndarray, shape (C_out, C_in, KH, KW)
    X_shape : (N, C_in, H, W)
        Shape of the forward pass's input.
    stride, padding, dilation : int or (int, int)
        Those of the forward pass.

    Returns
    -------
    dX : ndarray, shape (N, C_in, H, W)

    Notes
    -----
    Part 3, eq. (3.6). The flip is where "convolution" in the true,
    kernel-flipped sense appears: the forward pass never flips.

    Examples
    --------
    >>> W = np.arange(1.0, 5.0).reshape(1, 1, 2, 2)
    >>> dY = np.zeros((1, 1, 2, 2))
    >>> dY[0, 0, 0, 0] = 1.0  # the gradient of output pixel (0, 0) alone
    >>> conv2d_input_gradient_flipped(dY, W, (1, 1, 3, 3))[0, 0]
    array([[1., 2., 0.],
           [3., 4., 0.],
           [0., 0., 0.]])
    """
    W_ = check_array("W", W, ("C_out", "C_in", "KH", "KW"))
    X_shape = _as_shape(X_shape, "(N, C_in, H, W)")
    if X_shape[1] != W_.shape[1]:
        raise ValueError(
            f"X_shape is {X_shape!r}; expected (N, C_in, H, W) with C_in = "
            f"{W_.shape[1]} to match W"
        )
    k = (W_.shape[2], W_.shape[3])
    g, (OH, OW) = _geometry(X_shape, k, stride, padding, dilation)
    dY_ = check_array(
        "dY",
        dY,
        ("N", "C_out", "OH", "OW"),
        N=(X_shape[0], "X_shape"),
        C_out=(W_.shape[0], "W"),
        OH=(OH, "X_shape and the hyper-parameters"),
        OW=(OW, "X_shape and the hyper-parameters"),
    )
    # --8<-- [start:conv2d_flipped]
    (dh, dw), (ph, pw) = g.dilation, g.padding
    extent = (dh * (k[0] - 1) + 1, dw * (k[1] - 1) + 1)
    D = dilate(dY_, g.stride)  # step 1: dilate by the stride
    D = pad(D, (extent[0] - 1, extent[1] - 1))  # step 3: pad "full"
    # step 2: flip the kernel (rotate by 180°, swap the two channel axes)
    W_flipped = W_[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)  # (C_in, C_out, KH, KW)
    no_bias = np.zeros(W_flipped.shape[0])
    # step 3, continued: correlate, stride 1, with the forward pass's dilation
    dXp, _ = conv2d_forward(D, W_flipped, no_bias, dilation=g.dilation)
    H_p, W_p = X_shape[2] + 2 * ph, X_shape[3] + 2 * pw
    unreached = ((0, 0), (0, 0), (0, H_p - dXp.shape[2]), (0, W_p - dXp.shape[3]))
    dXp = np.pad(dXp, unreached)  # step 4: fill in the rows the stride never reached
    dX = dXp[:, :, ph : ph + X_shape[2], pw : pw + X_shape[3]]  # then drop the padding
    # --8<-- [end:conv2d_flipped]
    return dX
