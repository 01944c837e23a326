"""The Part 3 exercises: convolution and max-pooling, forward and backward.

The known bugs are written here as small implementations of their own (the
package's functions are the reference, and stay correct): a bug is what a
function with that mistake returns.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..conv import as_pair, conv2d_backward, conv2d_forward, pad
from ..gradcheck import numerical_gradient
from ..pooling import maxpool2d_backward, maxpool2d_forward
from ._core import Array, Case, Exercise, KnownBug

GOTCHAS = "part3-gotchas.md"
FLIP_FORWARD = f"{GOTCHAS}#1-convolution-or-correlation"
FLIP_BACKWARD = f"{GOTCHAS}#2-the-missing-flip-in-lx"
ASSIGN = f"{GOTCHAS}#3-col2im-must-add-not-assign"
TIES = f"{GOTCHAS}#4-max-pool-ties-counted-twice"
STRIDE = f"{GOTCHAS}#5-a-stride-that-does-not-divide-the-input"
CONV = "part3-convolution.md"
FORWARD = f"{CONV}#a-dense-layer-that-slides"
SIZE = f"{CONV}#the-output-size"
BIAS = f"{CONV}#the-bias"
WEIGHTS = f"{CONV}#the-weights-a-correlation-of-the-input-with-the-gradient"
INPUT = f"{CONV}#the-input-every-read-sends-a-gradient-back"
POOL = "part3-fast-convolution-and-pooling.md"
POOL_BACKWARD = f"{POOL}#backward-the-gradient-goes-to-the-winner"
POOL_FORWARD = f"{POOL}#forward"

# (N, C_in, H, W), (C_out, KH, KW), stride, padding, dilation, what it tests
CONV_SPECS: list[tuple[tuple[int, ...], tuple[int, ...], Any, Any, Any, str]] = [
    ((1, 1, 1, 1), (1, 1, 1), 1, 0, 1, "1x1 image and kernel"),
    ((1, 1, 3, 3), (1, 2, 2), 1, 0, 1, "overlapping windows"),
    ((1, 1, 4, 3), (1, 3, 2), 1, 0, 1, "non-square"),
    ((1, 1, 2, 2), (1, 4, 4), 1, 1, 1, "kernel as large as the padded input"),
    ((1, 1, 3, 3), (1, 3, 3), 1, 1, 1, "padding"),
    ((1, 1, 5, 5), (1, 3, 3), 2, 0, 1, "stride"),
    ((1, 1, 6, 5), (1, 3, 2), (2, 3), 0, 1, "a stride that does not divide"),
    ((1, 1, 5, 6), (1, 2, 2), 1, 0, 2, "dilation"),
    ((3, 2, 1, 1), (2, 1, 1), 1, 0, 1, "batch > 1, 1x1 images"),
    ((2, 1, 4, 4), (1, 2, 2), 1, 0, 1, "batch > 1"),
    ((1, 1, 7, 6), (1, 2, 3), 2, 1, (2, 1), "stride, padding and dilation"),
    ((1, 3, 4, 5), (2, 2, 3), 1, 0, 1, "several channels"),
    ((2, 2, 3, 4), (2, 2, 2), 1, (0, 1), (1, 2), "padding and dilation pairs"),
    ((1, 2, 4, 4), (2, 3, 3), 1, 1, 1, "C_in = C_out"),
    ((2, 2, 5, 4), (3, 3, 2), (1, 2), (1, 0), 1, "batch, channels, pairs"),
    ((2, 3, 6, 7), (2, 3, 3), 2, (2, 1), 2, "everything at once"),
]


def _conv_case(spec: Any, seed: int, backward: bool) -> Case:
    (N, C_in, H, W_), (C_out, KH, KW), stride, padding, dilation, note = spec
    rng = np.random.default_rng(300 + seed)
    X = rng.normal(size=(N, C_in, H, W_))
    W = rng.normal(size=(C_out, C_in, KH, KW))
    options = {"stride": stride, "padding": padding, "dilation": dilation}
    if not backward:
        b = rng.normal(size=C_out)
        return Case(("X", "W", "b"), (X, W, b), options, note)
    Y, _ = conv2d_forward(X, W, np.zeros(C_out), **options)
    dY = rng.normal(size=Y.shape)
    return Case(("dY", "X", "W"), (dY, X, W), options, note)


def _conv_forward_battery() -> list[Case]:
    return [_conv_case(spec, i, backward=False) for i, spec in enumerate(CONV_SPECS)]


def _conv_backward_battery() -> list[Case]:
    return [_conv_case(spec, i, backward=True) for i, spec in enumerate(CONV_SPECS)]


def _conv_forward_reference(X: Array, W: Array, b: Array, **options: Any) -> Any:
    return (conv2d_forward(X, W, b, **options)[0],)


def _conv_backward_reference(dY: Array, X: Array, W: Array, **options: Any) -> Any:
    _, cache = conv2d_forward(X, W, np.zeros(W.shape[0]), **options)
    return conv2d_backward(dY, cache)


def _rot180(W: Array) -> Array:
    return W[:, :, ::-1, ::-1]


def _forward_with(X: Array, W: Array, b: Array, **options: Any) -> Array:
    return conv2d_forward(X, W, b, **options)[0]


def _taps(
    dY: Array,
    X: Array,
    W: Array,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    *,
    crop: bool = True,
) -> tuple[Array, Array]:
    """(dX, dW) with each kernel tap's contribution added in one step.

    Tap (u, v) of window (i, j) reads Xp[i s + u d, j s + v d]; passing a
    wrong ``stride`` or ``dilation`` here is what ignoring it looks like.
    """
    (sh, sw), (ph, pw) = (
        as_pair("s", stride, minimum=1),
        as_pair("p", padding, minimum=0),
    )
    dh, dw = as_pair("d", dilation, minimum=1)
    Xp = pad(X, (ph, pw))
    dXp, dW = np.zeros_like(Xp), np.zeros_like(W)
    OH, OW = dY.shape[2:]
    for u in range(W.shape[2]):
        for v in range(W.shape[3]):
            rows = slice(u * dh, u * dh + sh * (OH - 1) + 1, sh)
            cols = slice(v * dw, v * dw + sw * (OW - 1) + 1, sw)
            dW[:, :, u, v] = np.einsum("nohw,nchw->oc", dY, Xp[:, :, rows, cols])
            dXp[:, :, rows, cols] += np.einsum("nohw,oc->nchw", dY, W[:, :, u, v])
    if crop:
        dXp = dXp[:, :, ph : ph + X.shape[2], pw : pw + X.shape[3]]
    return dXp, dW


def _assigned_dX(
    dY: Array, X: Array, W: Array, *, per_channel: bool, **options: Any
) -> Array:
    """dX with '=' per window (row-major), as a col2im that assigns.

    ``per_channel``: one assignment per output channel too (the channel loop
    outside the window loops), rather than the channel sum of im2col.
    """
    (sh, sw) = as_pair("s", options["stride"], minimum=1)
    (ph, pw) = as_pair("p", options["padding"], minimum=0)
    (dh, dw) = as_pair("d", options["dilation"], minimum=1)
    KH, KW = W.shape[2:]
    dXp = np.zeros_like(pad(X, (ph, pw)))
    N, C_out, OH, OW = dY.shape
    for n in range(N):
        for o in range(C_out) if per_channel else [None]:
            for i in range(OH):
                for j in range(OW):
                    rows = slice(i * sh, i * sh + dh * (KH - 1) + 1, dh)
                    cols = slice(j * sw, j * sw + dw * (KW - 1) + 1, dw)
                    if o is None:
                        patch = np.einsum("o,ocuv->cuv", dY[n, :, i, j], W)
                    else:
                        patch = dY[n, o, i, j] * W[o]
                    dXp[n, :, rows, cols] = patch
    return dXp[:, :, ph : ph + X.shape[2], pw : pw + X.shape[3]]


def _ignoring(name: str, value: int) -> Any:
    def apply(dY: Array, X: Array, W: Array, **options: Any) -> tuple[Array, Array]:
        return _taps(dY, X, W, **{**options, name: value})

    return apply


_stride_ignored = _ignoring("stride", 1)
_dilation_ignored = _ignoring("dilation", 1)


def _correct(dY: Array, X: Array, W: Array, **options: Any) -> tuple[Any, ...]:
    return tuple(_conv_backward_reference(dY, X, W, **options))


CONV_FORWARD_BUGS = (
    KnownBug(
        "kernel-flipped-forward",
        "Y",
        "the kernel is flipped in the forward pass: a convolution layer "
        "correlates, W[u, v] meets X[i + u, j + v]",
        FLIP_FORWARD,
        lambda X, W, b, **o: _forward_with(X, _rot180(W), b, **o),
    ),
    KnownBug(
        "stride-ignored",
        "Y",
        "the stride is ignored: window (i, j) starts at row i * stride",
        SIZE,
        lambda X, W, b, **o: _forward_with(X, W, b, **{**o, "stride": 1}),
    ),
    KnownBug(
        "padding-ignored",
        "Y",
        "the padding is ignored: pad X with zeros on every side first",
        SIZE,
        lambda X, W, b, **o: _forward_with(X, W, b, **{**o, "padding": 0}),
    ),
    KnownBug(
        "dilation-ignored",
        "Y",
        "the dilation is ignored: tap (u, v) reads row i * stride + u * dilation",
        SIZE,
        lambda X, W, b, **o: _forward_with(X, W, b, **{**o, "dilation": 1}),
    ),
    KnownBug(
        "bias-missing",
        "Y",
        "the bias is missing: add b[o] to every output of channel o",
        FORWARD,
        lambda X, W, b, **o: _forward_with(X, W, 0 * b, **o),
    ),
)

CONV_BACKWARD_BUGS = (
    KnownBug(
        "assign-not-accumulate",
        "dX",
        "assignment instead of accumulation: where windows overlap, a pixel "
        "must add the gradient of every window that reads it (+=, not =)",
        ASSIGN,
        lambda dY, X, W, **o: _assigned_dX(dY, X, W, per_channel=False, **o),
    ),
    KnownBug(
        "assign-not-accumulate",
        "dX",
        "assignment instead of accumulation: where windows (or output "
        "channels) meet a pixel, add their gradients (+=, not =)",
        ASSIGN,
        lambda dY, X, W, **o: _assigned_dX(dY, X, W, per_channel=True, **o),
    ),
    KnownBug(
        "kernel-not-flipped",
        "dX",
        "the kernel is not flipped: dX is a full correlation of dY with the "
        "kernel rotated by 180°",
        FLIP_BACKWARD,
        lambda dY, X, W, **o: _correct(dY, X, _rot180(W), **o)[0],
    ),
    KnownBug(
        "stride-ignored",
        "dX",
        "the stride is ignored in the backward pass: window (i, j) reads from "
        "row i * stride, so its gradient goes back there",
        INPUT,
        lambda dY, X, W, **o: _stride_ignored(dY, X, W, **o)[0],
    ),
    KnownBug(
        "dilation-ignored",
        "dX",
        "the dilation is ignored in the backward pass: tap (u, v) reads row "
        "i * stride + u * dilation",
        INPUT,
        lambda dY, X, W, **o: _dilation_ignored(dY, X, W, **o)[0],
    ),
    KnownBug(
        "padding-not-cropped",
        "dX",
        "the padding is not cropped: dX is the gradient of the padded input "
        "with the padding's rows and columns removed, X's shape",
        INPUT,
        lambda dY, X, W, **o: _taps(dY, X, W, **o, crop=False)[0],
    ),
    KnownBug(
        "weight-gradient-rotated",
        "dW",
        "the weight gradient is rotated by 180°: dW[u, v] correlates X with dY "
        "at offset (u, v), no flip",
        WEIGHTS,
        lambda dY, X, W, **o: _rot180(_correct(dY, X, W, **o)[1]),
    ),
    KnownBug(
        "weight-gradient-transposed",
        "dW",
        "a transposed weight gradient: C_out and C_in swapped; dW must have "
        "W's shape (C_out, C_in, KH, KW)",
        WEIGHTS,
        lambda dY, X, W, **o: _correct(dY, X, W, **o)[1].transpose(1, 0, 2, 3),
    ),
    KnownBug(
        "stride-ignored",
        "dW",
        "the stride is ignored in the backward pass: window (i, j) starts at "
        "row i * stride",
        WEIGHTS,
        lambda dY, X, W, **o: _stride_ignored(dY, X, W, **o)[1],
    ),
    KnownBug(
        "dilation-ignored",
        "dW",
        "the dilation is ignored in the backward pass: tap (u, v) reads row "
        "i * stride + u * dilation",
        WEIGHTS,
        lambda dY, X, W, **o: _dilation_ignored(dY, X, W, **o)[1],
    ),
    KnownBug(
        "mean-not-sum",
        "dW",
        "a mean over the batch where a sum belongs: every sample's "
        "contribution adds up",
        WEIGHTS,
        lambda dY, X, W, **o: _correct(dY, X, W, **o)[1] / len(X),
    ),
    KnownBug(
        "batch-sum-missing",
        "dW",
        "the batch sum is missing: dW uses the first sample only",
        WEIGHTS,
        lambda dY, X, W, **o: _correct(dY[:1], X[:1], W, **o)[1],
    ),
    KnownBug(
        "batch-sum-missing",
        "dW",
        "the batch sum is missing: dW keeps the last sample's contribution "
        "(= where += belongs)",
        WEIGHTS,
        lambda dY, X, W, **o: _correct(dY[-1:], X[-1:], W, **o)[1],
    ),
    KnownBug(
        "mean-not-sum",
        "db",
        "a mean where a sum belongs: db[o] adds dY[n, o, i, j] over the batch "
        "and every position",
        BIAS,
        lambda dY, X, W, **o: dY.mean(axis=(0, 2, 3)),
    ),
    KnownBug(
        "mean-not-sum",
        "db",
        "a mean over the batch where a sum belongs: db[o] adds dY over the batch",
        BIAS,
        lambda dY, X, W, **o: dY.sum(axis=(2, 3)).mean(axis=0),
    ),
    KnownBug(
        "batch-sum-missing",
        "db",
        "the batch sum is missing: db[o] adds dY[n, o, i, j] over n too",
        BIAS,
        lambda dY, X, W, **o: dY.sum(axis=(2, 3)),
    ),
    KnownBug(
        "batch-sum-missing",
        "db",
        "the batch sum is missing: db uses the first sample only",
        BIAS,
        lambda dY, X, W, **o: dY[0].sum(axis=(1, 2)),
    ),
)


def _conv_numerical(case: Case, forward: Any) -> tuple[Array, Array, Array]:
    """Finite differences of L = sum(dY * forward(X, W, b)) in X, W and b."""
    dY, X, W = case.args
    b = np.zeros(W.shape[0])

    def loss(X_: Array, W_: Array, b_: Array) -> float:
        return float(np.sum(dY * np.asarray(forward(X_, W_, b_, **case.kwargs))))

    return (
        numerical_gradient(lambda v: loss(v, W, b), X),
        numerical_gradient(lambda v: loss(X, v, b), W),
        numerical_gradient(lambda v: loss(X, W, v), b),
    )


_CONV_DOC_ARGS = """stride, padding, dilation : int or (int, int)
        The same on both axes, or (along H, along W)."""

CONV2D_FORWARD = Exercise(
    name="conv2d_forward",
    signature="conv2d_forward(X, W, b, stride=1, padding=0, dilation=1) -> Y",
    summary="A convolution layer's forward pass (a cross-correlation).",
    docstring=f"""Convolution layer forward pass (cross-correlation, no kernel flip).

    Y[n, o, i, j] = b[o] + sum over c, u, v of
                    W[o, c, u, v] * Xp[n, c, i*sh + u*dh, j*sw + v*dw]
    where Xp is X with `padding` zeros on each side.

    Parameters
    ----------
    X : ndarray, shape (N, C_in, H, W)
    W : ndarray, shape (C_out, C_in, KH, KW)
    b : ndarray, shape (C_out,)
    {_CONV_DOC_ARGS}

    Returns
    -------
    Y : ndarray, shape (N, C_out, OH, OW)
        OH = (H + 2*ph - dh*(KH - 1) - 1) // sh + 1, and OW likewise.
    """,
    outputs=("Y",),
    battery=_conv_forward_battery,
    reference=_conv_forward_reference,
    bugs=CONV_FORWARD_BUGS,
    page=FORWARD,
    tests=(
        "batch > 1, several channels, non-square images and kernels",
        "a stride that does not divide the size, padding, dilation, pairs",
        "1x1 images and kernels, a kernel as large as the padded input",
        "the shape and dtype (float64) of Y",
    ),
)

CONV2D_BACKWARD = Exercise(
    name="conv2d_backward",
    signature="conv2d_backward(dY, X, W, stride=1, padding=0, dilation=1) "
    "-> (dX, dW, db)",
    summary="A convolution layer's backward pass: the gradients of X, W and b.",
    docstring=f"""Gradients of a scalar loss through a convolution layer.

    Parameters
    ----------
    dY : ndarray, shape (N, C_out, OH, OW)
        dL/dY, the gradient arriving from the layer above.
    X : ndarray, shape (N, C_in, H, W)
        The forward pass's input.
    W : ndarray, shape (C_out, C_in, KH, KW)
        The kernels.
    {_CONV_DOC_ARGS}

    Returns
    -------
    dX : ndarray, shape (N, C_in, H, W)
    dW : ndarray, shape (C_out, C_in, KH, KW)
    db : ndarray, shape (C_out,)
    """,
    outputs=("dX", "dW", "db"),
    battery=_conv_backward_battery,
    reference=_conv_backward_reference,
    bugs=CONV_BACKWARD_BUGS,
    page=INPUT,
    tests=(
        "the cases of conv2d_forward, with a random upstream gradient dY",
        "overlapping windows, and rows and columns no window reads",
        "the shapes and dtypes (float64) of dX, dW and db",
    ),
    forward="conv2d_forward",
    numerical=_conv_numerical,
)


# --- max-pooling --------------------------------------------------------------

# (N, C, H, W), kernel, stride, values: "normal", or "ints" (many ties, also
# among positive values), or "relu" (windows of zeros)
POOL_SPECS: list[tuple[tuple[int, ...], Any, Any, str, str]] = [
    ((1, 1, 1, 1), 1, None, "normal", "1x1 image"),
    ((1, 1, 2, 2), 2, None, "ties", "a tie among positive values"),
    ((1, 1, 3, 3), 2, 1, "center", "overlapping windows"),
    ((1, 1, 3, 3), 3, None, "normal", "kernel as large as the input"),
    ((1, 1, 4, 4), 2, None, "normal", "stride defaults to kernel"),
    ((1, 1, 5, 4), (2, 3), 1, "normal", "non-square kernel, overlapping"),
    ((1, 1, 4, 4), 2, 1, "relu", "windows of zeros"),
    ((1, 1, 5, 5), 3, 2, "normal", "overlapping windows"),
    ((1, 1, 6, 7), 3, 2, "normal", "a stride that does not divide"),
    ((1, 1, 7, 7), 2, 3, "normal", "stride > kernel"),
    ((2, 1, 4, 6), 2, (1, 2), "ints", "batch > 1, ties, stride pair"),
    ((1, 2, 5, 5), 3, 1, "ints", "ties in overlapping windows"),
    ((2, 3, 4, 4), 2, None, "ints", "batch > 1, channels, ties"),
    ((2, 2, 6, 5), (3, 2), (2, 1), "ints", "ties, pairs"),
]


def _pool_values(kind: str, shape: tuple[int, ...], rng: np.random.Generator) -> Array:
    if kind == "ties":
        return np.array([[[[1.0, 1.0], [0.0, 1.0]]]])
    if kind == "center":
        X = rng.normal(size=shape)
        X[..., 1, 1] = 5.0  # wins all four windows
        return X
    if kind == "ints":
        return rng.integers(0, 3, size=shape).astype(np.float64)
    if kind == "relu":
        return np.maximum(rng.normal(size=shape), 0.0)
    return rng.normal(size=shape)


def _pool_case(spec: Any, seed: int, backward: bool) -> Case:
    shape, kernel, stride, kind, note = spec
    rng = np.random.default_rng(400 + seed)
    X = _pool_values(kind, shape, rng)
    options: dict[str, Any] = {"kernel": kernel}
    if stride is not None:
        options["stride"] = stride
    if not backward:
        return Case(("X",), (X,), options, note)
    Y, _ = maxpool2d_forward(X, kernel, stride=stride)
    dY = rng.normal(size=Y.shape)
    return Case(("dY", "X"), (dY, X), options, note)


def _pool_forward_battery() -> list[Case]:
    return [_pool_case(spec, i, backward=False) for i, spec in enumerate(POOL_SPECS)]


def _pool_backward_battery() -> list[Case]:
    return [_pool_case(spec, i, backward=True) for i, spec in enumerate(POOL_SPECS)]


def _pool_forward_reference(X: Array, kernel: Any = 2, stride: Any = None) -> Any:
    return (maxpool2d_forward(X, kernel, stride=stride)[0],)


def _pool_backward_reference(
    dY: Array, X: Array, kernel: Any = 2, stride: Any = None
) -> Any:
    _, cache = maxpool2d_forward(X, kernel, stride=stride)
    return (maxpool2d_backward(dY, cache),)


def _route(
    dY: Array,
    X: Array,
    kernel: Any = 2,
    stride: Any = None,
    *,
    winner: str = "first",
    assign: str = "",
) -> Array:
    """Max-pool dX, loops over windows: who wins a tie, and '+=' or '='.

    ``winner``: "first", "last" or "all" of the tied maxima; ``assign``:
    "" adds, "window" assigns the whole window, "winner" assigns the winner.
    """
    KH, KW = as_pair("kernel", kernel, minimum=1)
    sh, sw = as_pair("stride", kernel if stride is None else stride, minimum=1)
    dX = np.zeros_like(X)
    N, C, OH, OW = dY.shape
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    rows = slice(i * sh, i * sh + KH)
                    cols = slice(j * sw, j * sw + KW)
                    window = X[n, c, rows, cols]
                    flat = window.ravel()
                    mask = np.zeros(flat.size)
                    if winner == "all":
                        mask[flat == flat.max()] = 1.0
                    elif winner == "last":
                        mask[flat.size - 1 - int(np.argmax(flat[::-1]))] = 1.0
                    else:
                        mask[int(np.argmax(flat))] = 1.0
                    grad = mask.reshape(window.shape) * dY[n, c, i, j]
                    if assign == "window":
                        dX[n, c, rows, cols] = grad
                    elif assign == "winner":
                        r, t = np.unravel_index(int(np.argmax(mask)), window.shape)
                        dX[n, c, i * sh + r, j * sw + t] = dY[n, c, i, j]
                    else:
                        dX[n, c, rows, cols] += grad
    return dX


def _halving(X: Array, kernel: Any = 2, stride: Any = None) -> Array:
    """Max-pool forward whose output size is H // stride (partial windows)."""
    KH, KW = as_pair("kernel", kernel, minimum=1)
    sh, sw = as_pair("stride", kernel if stride is None else stride, minimum=1)
    N, C, H, W = X.shape
    Y = np.zeros((N, C, H // sh, W // sw))
    for i in range(H // sh):
        for j in range(W // sw):
            window = X[:, :, i * sh : i * sh + KH, j * sw : j * sw + KW]
            Y[:, :, i, j] = window.max(axis=(2, 3))
    return Y


def _pool_numerical(case: Case, forward: Any) -> tuple[Array] | None:
    """Finite differences of L = sum(dY * forward(X)) in X; None with ties.

    At a tie the maximum has no derivative (gotcha 4), so only cases whose
    entries are all far apart are differentiated.
    """
    dY, X = case.args
    if np.min(np.diff(np.sort(X, axis=None)), initial=1.0) < 1e-3:
        return None

    def loss(X_: Array) -> float:
        return float(np.sum(dY * np.asarray(forward(X_, **case.kwargs))))

    return (numerical_gradient(loss, X),)


POOL_FORWARD_BUGS = (
    KnownBug(
        "stride-ignored",
        "Y",
        "the stride is ignored: windows start every `stride` rows, not every "
        "`kernel` rows",
        POOL_FORWARD,
        lambda X, kernel=2, stride=None: _pool_forward_reference(X, kernel)[0],
    ),
    KnownBug(
        "stride-defaults-to-1",
        "Y",
        "without a stride, the windows must not overlap: stride defaults to the kernel",
        POOL_FORWARD,
        lambda X, kernel=2, stride=None: _pool_forward_reference(
            X, kernel, 1 if stride is None else stride
        )[0],
    ),
    KnownBug(
        "output-size-halved",
        "Y",
        "the output size is not H // stride: it is (H - KH) // stride + 1, and "
        "rows no window reaches are dropped",
        STRIDE,
        _halving,
    ),
)

POOL_BACKWARD_BUGS = (
    KnownBug(
        "ties-to-every-max",
        "dX",
        "ties are sent to every maximum: the gradient of a window goes to one "
        "input only, the first maximum in row-major order",
        TIES,
        lambda dY, X, **o: _route(dY, X, **o, winner="all"),
    ),
    KnownBug(
        "ties-to-last-max",
        "dX",
        "ties go to the last maximum: the site's policy (and PyTorch's) is the "
        "first maximum in row-major order, np.argmax's choice",
        TIES,
        lambda dY, X, **o: _route(dY, X, **o, winner="last"),
    ),
    KnownBug(
        "assign-not-accumulate",
        "dX",
        "assignment instead of accumulation: where windows overlap, one window "
        "overwrites another's gradient; add with +=",
        ASSIGN,
        lambda dY, X, **o: _route(dY, X, **o, assign="window"),
    ),
    KnownBug(
        "assign-not-accumulate",
        "dX",
        "assignment instead of accumulation: an input that wins several "
        "overlapping windows must receive the sum of their gradients (+=)",
        ASSIGN,
        lambda dY, X, **o: _route(dY, X, **o, assign="winner"),
    ),
    KnownBug(
        "stride-ignored",
        "dX",
        "the stride is ignored in the backward pass: window (i, j) starts at "
        "row i * stride, as in the forward pass",
        POOL_BACKWARD,
        lambda dY, X, kernel=2, stride=None: _route(dY, X, kernel),
    ),
)

_POOL_DOC_ARGS = """kernel : int or (KH, KW)
        The window size.
    stride : int or (int, int), optional
        Defaults to the kernel (windows that do not overlap)."""

MAXPOOL2D_FORWARD = Exercise(
    name="maxpool2d_forward",
    signature="maxpool2d_forward(X, kernel=2, stride=None) -> Y",
    summary="Max-pooling forward: the largest entry of every window.",
    docstring=f"""Max-pooling forward pass.

    Y[n, c, i, j] = max over u < KH, v < KW of X[n, c, i*sh + u, j*sw + v].

    Parameters
    ----------
    X : ndarray, shape (N, C, H, W)
    {_POOL_DOC_ARGS}

    Returns
    -------
    Y : ndarray, shape (N, C, OH, OW)
        OH = (H - KH) // sh + 1, and OW likewise.
    """,
    outputs=("Y",),
    battery=_pool_forward_battery,
    reference=_pool_forward_reference,
    bugs=POOL_FORWARD_BUGS,
    page=POOL_FORWARD,
    tests=(
        "batch > 1, several channels, non-square kernels, pairs",
        "overlapping windows, a stride that does not divide, stride > kernel",
        "the default stride, a kernel as large as the input, 1x1 images",
    ),
)

MAXPOOL2D_BACKWARD = Exercise(
    name="maxpool2d_backward",
    signature="maxpool2d_backward(dY, X, kernel=2, stride=None) -> dX",
    summary="Max-pooling backward: each window's gradient goes to its first maximum.",
    docstring=f"""Max-pooling backward pass.

    Each dY[n, c, i, j] goes to the input that won window (i, j): on a tie,
    the first maximum in row-major window order (what np.argmax returns).
    An input that wins several overlapping windows receives their sum.

    Parameters
    ----------
    dY : ndarray, shape (N, C, OH, OW)
        dL/dY, the gradient arriving from the layer above.
    X : ndarray, shape (N, C, H, W)
        The forward pass's input.
    {_POOL_DOC_ARGS}

    Returns
    -------
    dX : ndarray, shape (N, C, H, W)
    """,
    outputs=("dX",),
    battery=_pool_backward_battery,
    reference=_pool_backward_reference,
    bugs=POOL_BACKWARD_BUGS,
    page=POOL_BACKWARD,
    tests=(
        "the cases of maxpool2d_forward, with a random upstream gradient dY",
        "ties, also among positive values, in overlapping windows",
        "windows of zeros (as after a ReLU)",
    ),
    forward="maxpool2d_forward",
    numerical=_pool_numerical,
)
