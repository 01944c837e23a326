"""The Part 2 exercises: the dense layer's backward pass, softmax cross-entropy."""

from __future__ import annotations

import numpy as np

from ..dense import dense_backward, dense_forward
from ..losses import softmax_cross_entropy_gradient
from ._core import Array, Case, Exercise, KnownBug

DENSE = "part2-backpropagation.md#from-one-sample-to-a-batch"
DENSE_W = "part2-backpropagation.md#step-2-the-weights"
DENSE_B = "part2-backpropagation.md#step-3-the-bias"
SOFTMAX = "part2-backpropagation.md#softmax-cross-entropy-without-overflow"
GRADIENT = "part2-backpropagation.md#the-gradient-p-yn"


# --- dense_backward(dZ, X, W) -> (dX, dW, db) ---------------------------------


def _dense_battery() -> list[Case]:
    shapes = [(1, 1, 1), (1, 2, 3), (2, 1, 1), (2, 3, 2), (3, 2, 2), (4, 3, 5)]
    shapes += [(5, 4, 4), (3, 6, 2)]
    cases = []
    for seed, (N, n_in, n_out) in enumerate(shapes):
        rng = np.random.default_rng(100 + seed)
        dZ, X = rng.normal(size=(N, n_out)), rng.normal(size=(N, n_in))
        W = rng.normal(size=(n_out, n_in))
        note = "batch > 1" if N > 1 else ""
        cases.append(Case(("dZ", "X", "W"), (dZ, X, W), note=note))
    return cases


def _dense_reference(dZ: Array, X: Array, W: Array) -> tuple[Array, ...]:
    _, cache = dense_forward(X, W, np.zeros(W.shape[0]))
    return dense_backward(dZ, cache)


DENSE_BUGS = (
    KnownBug(
        "weight-gradient-transposed",
        "dW",
        "a transposed weight gradient: X.T @ dZ has shape (n_in, n_out); "
        "dW must have W's shape (n_out, n_in), dZ.T @ X",
        DENSE_W,
        lambda dZ, X, W: X.T @ dZ,
    ),
    KnownBug(
        "mean-not-sum",
        "dW",
        "a mean over the batch where a sum belongs: the loss's 1/N is already in dZ",
        DENSE_W,
        lambda dZ, X, W: dZ.T @ X / len(X),
    ),
    KnownBug(
        "batch-sum-missing",
        "dW",
        "the batch sum is missing: dW uses the first sample only",
        DENSE_W,
        lambda dZ, X, W: np.outer(dZ[0], X[0]),
    ),
    KnownBug(
        "batch-sum-missing",
        "dW",
        "the batch sum is missing: dW keeps the last sample's outer product "
        "(= where += belongs)",
        DENSE_W,
        lambda dZ, X, W: np.outer(dZ[-1], X[-1]),
    ),
    KnownBug(
        "mean-not-sum",
        "db",
        "a mean over the batch where a sum belongs: the loss's 1/N is already in dZ",
        DENSE_B,
        lambda dZ, X, W: dZ.mean(axis=0),
    ),
    KnownBug(
        "batch-sum-missing",
        "db",
        "the batch sum is missing: db must add dZ's rows, db = dZ.sum(axis=0)",
        DENSE_B,
        lambda dZ, X, W: dZ,
    ),
    KnownBug(
        "batch-sum-missing",
        "db",
        "the batch sum is missing: db uses the first sample only",
        DENSE_B,
        lambda dZ, X, W: dZ[0],
    ),
)

DENSE_BACKWARD = Exercise(
    name="dense_backward",
    signature="dense_backward(dZ, X, W) -> (dX, dW, db)",
    summary="The gradients of a dense layer Z = X @ W.T + b on a batch.",
    docstring="""Gradients of a scalar loss through Z = X @ W.T + b, on a batch.

    Parameters
    ----------
    dZ : ndarray, shape (N, n_out)
        dL/dZ, the gradient arriving from the layer above.
    X : ndarray, shape (N, n_in)
        The layer's input, one sample per row.
    W : ndarray, shape (n_out, n_in)
        The weights.

    Returns
    -------
    dX : ndarray, shape (N, n_in)
    dW : ndarray, shape (n_out, n_in)
    db : ndarray, shape (n_out,)
    """,
    outputs=("dX", "dW", "db"),
    battery=_dense_battery,
    reference=_dense_reference,
    bugs=DENSE_BUGS,
    page=DENSE,
    tests=(
        "batch sizes 1 to 5, n_in and n_out from 1 to 6, square and not",
        "shapes and dtypes (float64) of all three gradients",
    ),
)


# --- softmax_cross_entropy_gradient(Z, Y) -> dZ --------------------------------


def _softmax_battery() -> list[Case]:
    cases = []
    specs = [
        ((1, 1), 1.0, 0.0, ""),
        ((1, 2), 1.0, 0.0, ""),
        ((1, 3), 1e4, 0.0, "logits of 1e4"),
        ((2, 2), 1.0, 0.0, "batch > 1"),
        ((2, 3), 1e4, -1e4, "logits of -1e4"),
        ((3, 4), 3.0, 0.0, "batch > 1"),
        ((2, 5), 1e4, 1e4, "logits near 1e4"),
        ((4, 3), 1e4, 0.0, "logits of 1e4"),
        ((5, 5), 2.0, 0.0, "batch > 1"),
    ]
    for seed, ((N, K), scale, shift, note) in enumerate(specs):
        rng = np.random.default_rng(200 + seed)
        Z = shift + scale * rng.normal(size=(N, K))
        if scale == 1e4 and shift != 0.0:  # huge, but close to one another
            Z = shift + rng.normal(size=(N, K))
        Y = np.eye(K)[rng.integers(0, K, size=N)]
        cases.append(Case(("Z", "Y"), (Z, Y), note=note))
    return cases


def _softmax_reference(Z: Array, Y: Array) -> tuple[Array, ...]:
    return (softmax_cross_entropy_gradient(Z, Y),)


def _naive_softmax(Z: Array, axis: int = 1) -> Array:
    E = np.exp(Z)
    P: Array = E / E.sum(axis=axis, keepdims=True)
    return P


def _stable_softmax(Z: Array, axis: int = 1) -> Array:
    return _naive_softmax(Z - Z.max(axis=axis, keepdims=True), axis)


SOFTMAX_BUGS = (
    KnownBug(
        "unstable-softmax",
        "dZ",
        "an unstable softmax that overflows: exp(1e4) is inf; subtract each "
        "row's maximum before exp",
        SOFTMAX,
        lambda Z, Y: (_naive_softmax(Z) - Y) / len(Z),
    ),
    KnownBug(
        "sum-not-mean",
        "dZ",
        "a sum where a mean belongs: the loss is the batch mean, so dZ = (P - Y) / N",
        GRADIENT,
        lambda Z, Y: _stable_softmax(Z) - Y,
    ),
    KnownBug(
        "sign-flipped",
        "dZ",
        "the sign is flipped: the gradient of the loss is (P - Y) / N, not (Y - P) / N",
        GRADIENT,
        lambda Z, Y: (Y - _stable_softmax(Z)) / len(Z),
    ),
    KnownBug(
        "softmax-missing",
        "dZ",
        "the softmax is missing: dZ = (P - Y) / N with P = softmax(Z), not (Z - Y) / N",
        GRADIENT,
        lambda Z, Y: (Z - Y) / len(Z),
    ),
    KnownBug(
        "softmax-wrong-axis",
        "dZ",
        "the softmax is normalised over the batch (axis 0); each row must sum to 1",
        SOFTMAX,
        lambda Z, Y: (_stable_softmax(Z, axis=0) - Y) / len(Z),
    ),
)

SOFTMAX_CROSS_ENTROPY_GRADIENT = Exercise(
    name="softmax_cross_entropy_gradient",
    signature="softmax_cross_entropy_gradient(Z, Y) -> dZ",
    summary="The gradient of the batch-mean softmax cross-entropy.",
    docstring="""Gradient of L = -(1/N) sum_n sum_k Y[n, k] log softmax(Z[n])[k].

    Parameters
    ----------
    Z : ndarray, shape (N, K)
        Logits, one row per sample; entries may be as large as 1e4.
    Y : ndarray, shape (N, K)
        One-hot targets.

    Returns
    -------
    dZ : ndarray, shape (N, K)
        dL/dZ.
    """,
    outputs=("dZ",),
    battery=_softmax_battery,
    reference=_softmax_reference,
    bugs=SOFTMAX_BUGS,
    page=GRADIENT,
    tests=(
        "batch sizes 1 to 5 and 1 to 5 classes",
        "logits of ±1e4, and rows whose logits are all near 1e4",
        "the shape and dtype (float64) of dZ",
    ),
)
