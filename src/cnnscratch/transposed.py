"""Transposed convolution: the adjoint of convolution, forward and backward.

A convolution with stride s, padding p and dilation d maps an image of
height H′ to one of height ⌊(H′ + 2p − d(k − 1) − 1)/s⌋ + 1 through a linear
map A. The transposed convolution is Aᵀ: its forward pass is exactly the
convolution's input gradient (Part 3, eq. (3.6)), and its backward pass is
a convolution. Each input pixel stamps a copy of the kernel, scaled by the
pixel, into the output, s pixels apart; where the stamps overlap they add.

Output size, per axis::

    H_out = s (H − 1) + d (k − 1) + 1 − 2p + output_padding

Several H′ give the same convolution output size (the floor), so the
transposed convolution cannot know which one to return; ``output_padding``
(``< s`` or ``< d``, as in PyTorch) picks a larger one by adding rows at the
bottom and columns at the right.

Shapes, as in PyTorch's ``conv_transpose2d``: inputs ``(N, C_in, H, W)``,
kernels ``(C_in, C_out, KH, KW)`` (the kernel of the convolution it is the
transpose of), biases ``(C_out,)``, outputs ``(N, C_out, OH, OW)``.

Part 5, "Transposed convolution", eqs. (5.14)–(5.16).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from ._validate import FloatArray, check_array, check_cache, check_entries, short_repr
from .conv import (
    IntOrPair,
    Pair,
    _as_int,
    as_pair,
    conv2d_input_gradient_flipped,
    im2col,
)


class TransposedGeometry(NamedTuple):
    """Hyper-parameters of one transposed convolution, each an ``(h, w)`` pair."""

    stride: Pair
    padding: Pair
    output_padding: Pair
    dilation: Pair


class TransposedCache(NamedTuple):
    """What :func:`conv_transpose2d_backward` needs from the forward pass.

    ``X`` has shape (N, C_in, H, W), ``W`` (C_in, C_out, KH, KW).
    """

    X: FloatArray
    W: FloatArray
    geometry: TransposedGeometry


def conv_transpose_output_size(
    H: int,
    k: int,
    stride: int = 1,
    padding: int = 0,
    output_padding: int = 0,
    dilation: int = 1,
) -> int:
    """Output length along one axis: s(H − 1) + d(k − 1) + 1 − 2p + output_padding.

    Parameters
    ----------
    H : int
        Input length (height or width).
    k : int
        Kernel length along the same axis.
    stride, padding, output_padding, dilation : int
        ``s >= 1``, ``p >= 0``, ``output_padding >= 0`` and smaller than
        ``s`` or ``d``, ``d >= 1``.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        If a value is out of range, or the padding leaves no output.

    Notes
    -----
    Part 5, eq. (5.16).

    Examples
    --------
    A stride-2 convolution with k = 3 maps both 7 and 8 rows to 3 (Part 3,
    eq. (3.2)); its transpose returns 7, or 8 with ``output_padding=1``:

    >>> conv_transpose_output_size(3, 3, stride=2)
    7
    >>> conv_transpose_output_size(3, 3, stride=2, output_padding=1)
    8
    """
    g = _geometry(stride, padding, output_padding, dilation)
    H_, k_ = _as_int("H", H, minimum=1), _as_int("k", k, minimum=1)
    return _output_size((1, 1, H_, H_), (1, 1, k_, k_), g)[0]


def _geometry(
    stride: IntOrPair,
    padding: IntOrPair,
    output_padding: IntOrPair,
    dilation: IntOrPair,
) -> TransposedGeometry:
    s = as_pair("stride", stride, minimum=1)
    p = as_pair("padding", padding, minimum=0)
    op = as_pair("output_padding", output_padding, minimum=0)
    d = as_pair("dilation", dilation, minimum=1)
    for a in (0, 1):
        if op[a] >= s[a] and op[a] >= d[a]:
            raise ValueError(
                f"output_padding is {output_padding!r}; expected it smaller than "
                f"the stride {s} or the dilation {d} on each axis"
            )
    return TransposedGeometry(s, p, op, d)


def _full_size(
    X_shape: tuple[int, ...], W_shape: tuple[int, ...], g: TransposedGeometry
) -> Pair:
    """s(H − 1) + d(k − 1) + 1 per axis: every row a kernel stamp reaches."""
    return (
        g.stride[0] * (X_shape[2] - 1) + g.dilation[0] * (W_shape[2] - 1) + 1,
        g.stride[1] * (X_shape[3] - 1) + g.dilation[1] * (W_shape[3] - 1) + 1,
    )


def _output_size(
    X_shape: tuple[int, ...], W_shape: tuple[int, ...], g: TransposedGeometry
) -> Pair:
    full = _full_size(X_shape, W_shape, g)
    OH, OW = (full[a] - 2 * g.padding[a] + g.output_padding[a] for a in (0, 1))
    if min(OH, OW) < 1:
        raise ValueError(
            f"padding {g.padding} removes every row or column of the "
            f"{full[0]} x {full[1]} output that the kernel stamps reach "
            f"(output_padding {g.output_padding}); expected a smaller padding"
        )
    return OH, OW


def _check_entries(
    X_shape: tuple[int, ...], W_shape: tuple[int, ...], g: TransposedGeometry
) -> None:
    """Refuse an output (or its im2col matrix) too large to allocate.

    The argument blamed is the one that makes the larger axis large: the
    stride (s(H − 1)) or the dilation (d(k − 1)), else X or W themselves.
    """
    N, C_in = X_shape[:2]
    _, C_out, KH, KW = W_shape
    full = _full_size(X_shape, W_shape, g)
    a = 0 if full[0] >= full[1] else 1
    by_stride = g.stride[a] * (X_shape[2 + a] - 1)
    by_dilation = g.dilation[a] * (W_shape[2 + a] - 1)
    if by_stride >= by_dilation:
        name = "stride" if g.stride[a] > 1 else "X"
    else:
        name = "dilation" if g.dilation[a] > 1 else "W"
    padded = tuple(full[i] + g.output_padding[i] for i in (0, 1))
    check_entries(name, (N, C_out, *padded), "an output")
    extent = tuple(full[i] + g.dilation[i] * (W_shape[2 + i] - 1) for i in (0, 1))
    check_entries(name, (N, C_in, *extent), "a dilated, padded input")
    check_entries(name, (N * full[0] * full[1], C_in * KH * KW), "an im2col matrix")


def _check_cache(cache: object) -> TransposedCache:
    """``cache`` if it is the :class:`TransposedCache` a forward pass returns."""
    producer = "conv_transpose2d_forward"
    cache = check_cache(cache, TransposedCache, producer, {"X": 4, "W": 4})
    X, W, g = cache
    valid_geometry = isinstance(g, TransposedGeometry) and all(
        isinstance(pair, tuple)
        and len(pair) == 2
        and all(isinstance(n, int) and not isinstance(n, bool) for n in pair)
        for pair in g
    )
    if not valid_geometry or X.shape[1] != W.shape[0]:
        raise ValueError(
            f"cache.geometry ({short_repr(g)}) or cache.W does not fit cache.X; "
            f"expected the TransposedCache that {producer} returns"
        )
    try:
        _geometry(*g)
        _output_size(X.shape, W.shape, g)
    except ValueError:
        raise ValueError(
            f"cache.geometry is {short_repr(g)}; expected the TransposedCache "
            f"that {producer} returns"
        ) from None
    return cache


def _check_inputs(
    X: ArrayLike, W: ArrayLike, b: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    W_ = check_array("W", W, ("C_in", "C_out", "KH", "KW"))
    X_ = check_array("X", X, ("N", "C_in", "H", "W"), C_in=(W_.shape[0], "W"))
    b_ = check_array("b", b, ("C_out",), C_out=(W_.shape[1], "W"))
    return X_, W_, b_


def conv_transpose2d_forward_loops(
    X: ArrayLike,
    W: ArrayLike,
    b: ArrayLike,
    *,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    output_padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
) -> tuple[FloatArray, TransposedCache]:
    """Transposed convolution, one loop per index: every pixel stamps the kernel.

    Yp[n, o, i s + u d, j s + v d] += X[n, c, i, j] · W[c, o, u, v], then the
    padding p is cropped from every side of Yp (output_padding rows and
    columns are added at the bottom and right first) and b is added.

    Parameters
    ----------
    X : ndarray, shape (N, C_in, H, W)
    W : ndarray, shape (C_in, C_out, KH, KW)
    b : ndarray, shape (C_out,)
    stride, padding, output_padding, dilation : int or (int, int)

    Returns
    -------
    Y : ndarray, shape (N, C_out, OH, OW)
        OH and OW from :func:`conv_transpose_output_size`.
    cache : TransposedCache

    Notes
    -----
    Part 5, eq. (5.14). Slow on purpose: it is the definition.

    Examples
    --------
    >>> Y, _ = conv_transpose2d_forward_loops(
    ...     np.ones((1, 1, 2, 2)), np.ones((1, 1, 3, 3)), [0.0], stride=2
    ... )
    >>> Y[0, 0]  # four 3 x 3 stamps, two pixels apart: the overlaps add up
    array([[1., 1., 2., 1., 1.],
           [1., 1., 2., 1., 1.],
           [2., 2., 4., 2., 2.],
           [1., 1., 2., 1., 1.],
           [1., 1., 2., 1., 1.]])
    """
    X_, W_, b_ = _check_inputs(X, W, b)
    g = _geometry(stride, padding, output_padding, dilation)
    OH, OW = _output_size(X_.shape, W_.shape, g)
    _check_entries(X_.shape, W_.shape, g)
    # --8<-- [start:conv_transpose_loops]
    (sh, sw), (ph, pw), (dh, dw) = g.stride, g.padding, g.dilation
    N, C_in, H, W_in = X_.shape
    _, C_out, KH, KW = W_.shape
    Yp = np.zeros((N, C_out, OH + 2 * ph, OW + 2 * pw))  # padded, + output_padding
    for n in range(N):
        for c in range(C_in):
            for i in range(H):
                for j in range(W_in):
                    for o in range(C_out):
                        for u in range(KH):
                            for v in range(KW):
                                r, t = i * sh + u * dh, j * sw + v * dw
                                Yp[n, o, r, t] += X_[n, c, i, j] * W_[c, o, u, v]
    Y = Yp[:, :, ph : ph + OH, pw : pw + OW] + b_.reshape(1, -1, 1, 1)
    # --8<-- [end:conv_transpose_loops]
    return Y, TransposedCache(X_, W_, g)


def conv_transpose2d_forward(
    X: ArrayLike,
    W: ArrayLike,
    b: ArrayLike,
    *,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    output_padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
) -> tuple[FloatArray, TransposedCache]:
    """Transposed convolution forward pass: a convolution's input gradient.

    1. the full adjoint: the input gradient of a convolution with stride s,
       dilation d and no padding whose input is s(H − 1) + d(k − 1) + 1
       high, with X in the place of the upstream gradient (Part 3, eq. (3.6));
    2. add ``output_padding`` rows of zeros at the bottom and columns at the
       right;
    3. crop the padding p from every side (the transpose of padding is
       cropping), then add the bias.

    Parameters
    ----------
    X : ndarray, shape (N, C_in, H, W)
    W : ndarray, shape (C_in, C_out, KH, KW)
    b : ndarray, shape (C_out,)
    stride, padding, output_padding, dilation : int or (int, int)

    Returns
    -------
    Y : ndarray, shape (N, C_out, OH, OW)
        OH = s(H − 1) + d(KH − 1) + 1 − 2p + output_padding, and OW alike.
    cache : TransposedCache

    Raises
    ------
    ValueError
        If a shape does not fit (``C_in`` of X and W, ``C_out`` of W and b),
        a hyper-parameter is out of range, ``output_padding`` is not smaller
        than the stride or the dilation, or the padding leaves no output.

    Notes
    -----
    Part 5, eq. (5.14), through
    :func:`~cnnscratch.conv.conv2d_input_gradient_flipped`; equal to
    :func:`conv_transpose2d_forward_loops`.

    Examples
    --------
    >>> Y, _ = conv_transpose2d_forward(
    ...     np.ones((1, 1, 2, 2)), np.ones((1, 1, 3, 3)), [0.0], stride=2, padding=1
    ... )
    >>> Y[0, 0]
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    """
    X_, W_, b_ = _check_inputs(X, W, b)
    g = _geometry(stride, padding, output_padding, dilation)
    OH, OW = _output_size(X_.shape, W_.shape, g)
    _check_entries(X_.shape, W_.shape, g)
    N, C_out = X_.shape[0], W_.shape[1]
    # --8<-- [start:conv_transpose_forward]
    full_shape = (N, C_out, *_full_size(X_.shape, W_.shape, g))
    full = conv2d_input_gradient_flipped(  # step 1: (N, C_out, s(H-1)+d(k-1)+1, ...)
        X_, W_, full_shape, stride=g.stride, dilation=g.dilation
    )
    (ph, pw), (oph, opw) = g.padding, g.output_padding
    full = np.pad(full, ((0, 0), (0, 0), (0, oph), (0, opw)))  # step 2
    Y = full[:, :, ph : ph + OH, pw : pw + OW] + b_.reshape(1, -1, 1, 1)  # step 3
    # --8<-- [end:conv_transpose_forward]
    return np.ascontiguousarray(Y), TransposedCache(X_, W_, g)


def conv_transpose2d_backward(
    dY: ArrayLike, cache: TransposedCache
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Gradients of a scalar loss through a transposed convolution.

    The adjoint of the adjoint is the convolution: pad dY by p on every
    side, drop the ``output_padding`` rows and columns, and convolve it with
    W (stride s, dilation d) to get dX; the weight gradient pairs every
    window of that padded dY with the input pixel that stamped it.

    Parameters
    ----------
    dY : ndarray, shape (N, C_out, OH, OW)
    cache : TransposedCache
        From :func:`conv_transpose2d_forward` or the loop reference.

    Returns
    -------
    dX : ndarray, shape (N, C_in, H, W)
    dW : ndarray, shape (C_in, C_out, KH, KW)
    db : ndarray, shape (C_out,)

    Notes
    -----
    Part 5, eq. (5.15).

    Examples
    --------
    >>> X = np.ones((1, 1, 2, 2))
    >>> _, cache = conv_transpose2d_forward(X, np.ones((1, 1, 3, 3)), [0.0], stride=2)
    >>> dX, dW, db = conv_transpose2d_backward(np.ones((1, 1, 5, 5)), cache)
    >>> dX[0, 0]  # each pixel's stamp covers nine outputs
    array([[9., 9.],
           [9., 9.]])
    >>> db
    array([25.])
    """
    X, W, g = _check_cache(cache)
    OH, OW = _output_size(X.shape, W.shape, g)
    dY_ = check_array(
        "dY",
        dY,
        ("N", "C_out", "OH", "OW"),
        N=(X.shape[0], "X"),
        C_out=(W.shape[1], "W"),
        OH=(OH, "the forward output"),
        OW=(OW, "the forward output"),
    )
    N, C_in, H, W_in = X.shape
    (ph, pw), (oph, opw) = g.padding, g.output_padding
    # --8<-- [start:conv_transpose_backward]
    G = np.pad(dY_, ((0, 0), (0, 0), (ph, ph), (pw, pw)))  # undo the crop
    G = G[:, :, : G.shape[2] - oph, : G.shape[3] - opw]  # undo output_padding
    k = (W.shape[2], W.shape[3])
    cols = im2col(G, k, stride=g.stride, dilation=g.dilation)  # (N·H·W, C_out·KH·KW)
    X_mat = X.transpose(0, 2, 3, 1).reshape(-1, C_in)  # (N·H·W, C_in)
    dX = (cols @ W.reshape(C_in, -1).T).reshape(N, H, W_in, C_in).transpose(0, 3, 1, 2)
    dW = (X_mat.T @ cols).reshape(W.shape)
    db = dY_.sum(axis=(0, 2, 3))
    # --8<-- [end:conv_transpose_backward]
    return np.ascontiguousarray(dX), dW, db
