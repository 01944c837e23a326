"""The exercise checker: correct code passes, each known bug is named, the runner
contains what the reader's code does.

The readers' implementations below are written here, in the styles a reader
uses (loops, einsum, im2col), independently of the package and of the
checker's own catalogue of bugs: a diagnosis must fire on a bug written for
it and on no correct implementation.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from markdown.extensions.toc import slugify

from cnnscratch.exercises import (
    EXERCISES,
    UsageError,
    check,
    check_file,
    starter,
    write_starter,
)
from cnnscratch.exercises._core import same

DOCS = Path(__file__).resolve().parents[1] / "docs"


def pair(value: Any) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


# --- dense_backward ------------------------------------------------------------


def dense_matrix(dZ, X, W):
    return dZ @ W, dZ.T @ X, dZ.sum(axis=0)


def dense_per_sample(dZ, X, W):
    dX = np.zeros_like(X)
    dW = np.zeros_like(W)
    db = np.zeros(W.shape[0])
    for n in range(len(X)):
        dX[n] = W.T @ dZ[n]
        dW += np.outer(dZ[n], X[n])
        db += dZ[n]
    return dX, dW, db


def dense_transposed_dW(dZ, X, W):
    return dZ @ W, X.T @ dZ, dZ.sum(axis=0)


def dense_mean_dW(dZ, X, W):
    return dZ @ W, dZ.T @ X / len(X), dZ.sum(axis=0)


def dense_mean_db(dZ, X, W):
    return dZ @ W, dZ.T @ X, np.mean(dZ, axis=0)


def dense_db_not_summed(dZ, X, W):
    return dZ @ W, dZ.T @ X, dZ.copy()


def dense_last_sample_only(dZ, X, W):  # a loop that overwrites instead of adding
    dW = np.zeros_like(W)
    for n in range(len(X)):
        dW = np.outer(dZ[n], X[n])
    return dZ @ W, dW, dZ.sum(axis=0)


# --- softmax_cross_entropy_gradient --------------------------------------------


def softmax_ce_max(Z, Y):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return (E / E.sum(axis=1, keepdims=True) - Y) / len(Z)


def softmax_ce_logsumexp(Z, Y):
    m = Z.max(axis=1, keepdims=True)
    log_p = Z - m - np.log(np.sum(np.exp(Z - m), axis=1, keepdims=True))
    return (np.exp(log_p) - Y) / Z.shape[0]


def softmax_ce_naive(Z, Y):
    P = np.exp(Z) / np.sum(np.exp(Z), axis=1, keepdims=True)
    return (P - Y) / len(Z)


def softmax_ce_no_mean(Z, Y):
    return softmax_ce_max(Z, Y) * len(Z)


def softmax_ce_sign(Z, Y):
    return -softmax_ce_max(Z, Y)


def softmax_ce_axis0(Z, Y):
    E = np.exp(Z - Z.max(axis=0))
    return (E / E.sum(axis=0) - Y) / len(Z)


def softmax_ce_no_softmax(Z, Y):
    return (Z - Y) / len(Z)


# --- conv2d_forward ------------------------------------------------------------


def conv_forward_loops(X, W, b, stride=1, padding=0, dilation=1, flip=False):
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    Xp = np.pad(X, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    N, _, H, Wd = Xp.shape
    C_out, _, KH, KW = W.shape
    K = W[:, :, ::-1, ::-1] if flip else W
    OH = (H - dh * (KH - 1) - 1) // sh + 1
    OW = (Wd - dw * (KW - 1) - 1) // sw + 1
    Y = np.zeros((N, C_out, OH, OW))
    for n in range(N):
        for o in range(C_out):
            for i in range(OH):
                for j in range(OW):
                    patch = Xp[
                        n,
                        :,
                        i * sh : i * sh + dh * (KH - 1) + 1 : dh,
                        j * sw : j * sw + dw * (KW - 1) + 1 : dw,
                    ]
                    Y[n, o, i, j] = np.sum(patch * K[o]) + b[o]
    return Y


def conv_forward_im2col(X, W, b, stride=1, padding=0, dilation=1):
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    Xp = np.pad(X, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    N, C, H, Wd = Xp.shape
    C_out, _, KH, KW = W.shape
    OH = (H - dh * (KH - 1) - 1) // sh + 1
    OW = (Wd - dw * (KW - 1) - 1) // sw + 1
    cols = np.empty((N, OH, OW, C, KH, KW))
    for u in range(KH):
        for v in range(KW):
            r, c = u * dh, v * dw
            block = Xp[
                :, :, r : r + sh * (OH - 1) + 1 : sh, c : c + sw * (OW - 1) + 1 : sw
            ]
            cols[:, :, :, :, u, v] = block.transpose(0, 2, 3, 1)
    Y = cols.reshape(N * OH * OW, -1) @ W.reshape(C_out, -1).T + b
    return Y.reshape(N, OH, OW, C_out).transpose(0, 3, 1, 2)


def conv_forward_flipped(X, W, b, stride=1, padding=0, dilation=1):
    return conv_forward_loops(X, W, b, stride, padding, dilation, flip=True)


def conv_forward_no_stride(X, W, b, stride=1, padding=0, dilation=1):
    return conv_forward_loops(X, W, b, 1, padding, dilation)


def conv_forward_no_padding(X, W, b, stride=1, padding=0, dilation=1):
    return conv_forward_loops(X, W, b, stride, 0, dilation)


def conv_forward_no_dilation(X, W, b, stride=1, padding=0, dilation=1):
    return conv_forward_im2col(X, W, b, stride, padding, 1)


def conv_forward_no_bias(X, W, b, stride=1, padding=0, dilation=1):
    return conv_forward_im2col(X, W, np.zeros_like(b), stride, padding, dilation)


# --- conv2d_backward -----------------------------------------------------------


def conv_backward_loops(dY, X, W, stride=1, padding=0, dilation=1, **bug):
    """Reader-style loops; ``bug`` switches in one classic mistake."""
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    if bug.get("no_stride"):
        sh = sw = 1
    if bug.get("no_dilation"):
        dh = dw = 1
    Xp = np.pad(X, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    dXp = np.zeros_like(Xp)
    dW = np.zeros_like(W)
    N, C_out, OH, OW = dY.shape
    KH, KW = W.shape[2:]
    K = W[:, :, ::-1, ::-1] if bug.get("flip") else W
    for n in range(N):
        for o in range(C_out):
            for i in range(OH):
                for j in range(OW):
                    rows = slice(i * sh, i * sh + dh * (KH - 1) + 1, dh)
                    cols = slice(j * sw, j * sw + dw * (KW - 1) + 1, dw)
                    g = dY[n, o, i, j]
                    if bug.get("assign"):
                        dXp[n, :, rows, cols] = g * K[o]
                    else:
                        dXp[n, :, rows, cols] += g * K[o]
                    dW[o] += g * Xp[n, :, rows, cols]
    db = dY.sum(axis=(0, 2, 3))
    if bug.get("no_crop"):
        return dXp, dW, db
    return dXp[:, :, ph : ph + X.shape[2], pw : pw + X.shape[3]], dW, db


def conv_backward_einsum(dY, X, W, stride=1, padding=0, dilation=1):
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    Xp = np.pad(X, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    dXp = np.zeros_like(Xp)
    dW = np.empty_like(W)
    OH, OW = dY.shape[2:]
    for u in range(W.shape[2]):
        for v in range(W.shape[3]):
            r = slice(u * dh, u * dh + sh * (OH - 1) + 1, sh)
            c = slice(v * dw, v * dw + sw * (OW - 1) + 1, sw)
            dW[:, :, u, v] = np.einsum("nohw,nchw->oc", dY, Xp[:, :, r, c])
            dXp[:, :, r, c] += np.einsum("nohw,oc->nchw", dY, W[:, :, u, v])
    H, Wd = X.shape[2:]
    return dXp[:, :, ph : ph + H, pw : pw + Wd], dW, dY.sum(axis=(0, 2, 3))


def conv_backward_im2col(dY, X, W, stride=1, padding=0, dilation=1):
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    Xp = np.pad(X, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    N, C = X.shape[:2]
    C_out, _, KH, KW = W.shape
    OH, OW = dY.shape[2:]
    windows = [
        (n, i, j) for n in range(N) for i in range(OH) for j in range(OW)
    ]  # one im2col row per window
    cols = np.array(
        [
            Xp[
                n,
                :,
                i * sh : i * sh + dh * (KH - 1) + 1 : dh,
                j * sw : j * sw + dw * (KW - 1) + 1 : dw,
            ].ravel()
            for n, i, j in windows
        ]
    )
    dY_mat = dY.transpose(0, 2, 3, 1).reshape(-1, C_out)
    dW = (dY_mat.T @ cols).reshape(W.shape)
    dcols = dY_mat @ W.reshape(C_out, -1)
    dXp = np.zeros_like(Xp)
    for row, (n, i, j) in enumerate(windows):  # col2im
        dXp[
            n,
            :,
            i * sh : i * sh + dh * (KH - 1) + 1 : dh,
            j * sw : j * sw + dw * (KW - 1) + 1 : dw,
        ] += dcols[row].reshape(C, KH, KW)
    return dXp[:, :, ph : ph + X.shape[2], pw : pw + X.shape[3]], dW, dY_mat.sum(0)


def conv_backward_col2im_assign(dY, X, W, stride=1, padding=0, dilation=1):
    """The gotchas page's bug 3, in the reader's whole layer."""
    _, dW, db = conv_backward_im2col(dY, X, W, stride, padding, dilation)
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    N, C = X.shape[:2]
    KH, KW = W.shape[2:]
    dXp = np.zeros((N, C, X.shape[2] + 2 * ph, X.shape[3] + 2 * pw))
    for n in range(N):
        for i in range(dY.shape[2]):
            for j in range(dY.shape[3]):
                patch = np.tensordot(dY[n, :, i, j], W, axes=1)
                dXp[
                    n,
                    :,
                    i * sh : i * sh + dh * (KH - 1) + 1 : dh,
                    j * sw : j * sw + dw * (KW - 1) + 1 : dw,
                ] = patch
    return dXp[:, :, ph : ph + X.shape[2], pw : pw + X.shape[3]], dW, db


def conv_backward_dW_overwritten(dY, X, W, stride=1, padding=0, dilation=1):
    dX, dW, db = conv_backward_einsum(dY, X, W, stride, padding, dilation)
    for n in range(len(X)):  # BUG: '=' keeps the last sample only
        dW = conv_backward_einsum(
            dY[n : n + 1], X[n : n + 1], W, stride, padding, dilation
        )[1]
    return dX, dW, db


def _with(fn: Callable[..., Any], position: int, change: Callable[..., Any]):
    def buggy(dY, X, W, stride=1, padding=0, dilation=1):
        outputs = list(fn(dY, X, W, stride, padding, dilation))
        outputs[position] = change(outputs[position], dY, X)
        return tuple(outputs)

    return buggy


def _bug(**flags):
    def buggy(dY, X, W, stride=1, padding=0, dilation=1):
        return conv_backward_loops(dY, X, W, stride, padding, dilation, **flags)

    return buggy


# --- max-pooling ---------------------------------------------------------------


def pool_forward_loops(X, kernel=2, stride=None, halve=False):
    KH, KW = pair(kernel)
    sh, sw = pair(kernel if stride is None else stride)
    N, C, H, W = X.shape
    OH, OW = (H // sh, W // sw) if halve else ((H - KH) // sh + 1, (W - KW) // sw + 1)
    Y = np.empty((N, C, OH, OW))
    for i in range(OH):
        for j in range(OW):
            Y[:, :, i, j] = X[:, :, i * sh : i * sh + KH, j * sw : j * sw + KW].max(
                axis=(2, 3)
            )
    return Y


def pool_forward_windows(X, kernel=2, stride=None):
    KH, KW = pair(kernel)
    sh, sw = pair(kernel if stride is None else stride)
    view = np.lib.stride_tricks.sliding_window_view(X, (KH, KW), axis=(2, 3))
    return view[:, :, ::sh, ::sw].max(axis=(4, 5))


def pool_forward_stride_1(X, kernel=2, stride=None):
    return pool_forward_windows(X, kernel, 1 if stride is None else stride)


def pool_forward_stride_ignored(X, kernel=2, stride=None):
    return pool_forward_windows(X, kernel)


def pool_forward_halving(X, kernel=2, stride=None):
    return pool_forward_loops(X, kernel, stride, halve=True)


def pool_backward_loops(dY, X, kernel=2, stride=None, tie="first", assign=False):
    KH, KW = pair(kernel)
    sh, sw = pair(kernel if stride is None else stride)
    dX = np.zeros_like(X)
    N, C, OH, OW = dY.shape
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    window = X[n, c, i * sh : i * sh + KH, j * sw : j * sw + KW]
                    if tie == "all":
                        mask = window == window.max()
                        dX[n, c, i * sh : i * sh + KH, j * sw : j * sw + KW] += (
                            mask * dY[n, c, i, j]
                        )
                        continue
                    flat = window.ravel()
                    k = (
                        np.argmax(flat)
                        if tie == "first"
                        else flat.size - 1 - np.argmax(flat[::-1])
                    )
                    u, v = divmod(int(k), KW)
                    if assign:
                        dX[n, c, i * sh + u, j * sw + v] = dY[n, c, i, j]
                    else:
                        dX[n, c, i * sh + u, j * sw + v] += dY[n, c, i, j]
    return dX


def pool_backward_vectorised(dY, X, kernel=2, stride=None):
    KH, KW = pair(kernel)
    sh, sw = pair(kernel if stride is None else stride)
    view = np.lib.stride_tricks.sliding_window_view(X, (KH, KW), axis=(2, 3))
    view = view[:, :, ::sh, ::sw][:, :, : dY.shape[2], : dY.shape[3]]
    winner = view.reshape(*view.shape[:4], -1).argmax(axis=-1)
    u, v = np.divmod(winner, KW)
    n, c, i, j = np.indices(dY.shape)
    dX = np.zeros_like(X)
    np.add.at(dX, (n, c, i * sh + u, j * sw + v), dY)
    return dX


def pool_backward_no_stride(dY, X, kernel=2, stride=None):
    return pool_backward_loops(dY, X, kernel)


# --- the table of implementations ----------------------------------------------

CORRECT: list[tuple[str, Callable[..., Any]]] = [
    ("dense_backward", dense_matrix),
    ("dense_backward", dense_per_sample),
    ("softmax_cross_entropy_gradient", softmax_ce_max),
    ("softmax_cross_entropy_gradient", softmax_ce_logsumexp),
    ("conv2d_forward", conv_forward_loops),
    ("conv2d_forward", conv_forward_im2col),
    ("conv2d_backward", conv_backward_loops),
    ("conv2d_backward", conv_backward_einsum),
    ("conv2d_backward", conv_backward_im2col),
    ("maxpool2d_forward", pool_forward_loops),
    ("maxpool2d_forward", pool_forward_windows),
    ("maxpool2d_backward", pool_backward_loops),
    ("maxpool2d_backward", pool_backward_vectorised),
]

BUGGY: list[tuple[str, Callable[..., Any], set[tuple[str, str]]]] = [
    ("dense_backward", dense_transposed_dW, {("dW", "weight-gradient-transposed")}),
    ("dense_backward", dense_mean_dW, {("dW", "mean-not-sum")}),
    ("dense_backward", dense_mean_db, {("db", "mean-not-sum")}),
    ("dense_backward", dense_db_not_summed, {("db", "batch-sum-missing")}),
    ("dense_backward", dense_last_sample_only, {("dW", "batch-sum-missing")}),
    ("softmax_cross_entropy_gradient", softmax_ce_naive, {("dZ", "unstable-softmax")}),
    ("softmax_cross_entropy_gradient", softmax_ce_no_mean, {("dZ", "sum-not-mean")}),
    ("softmax_cross_entropy_gradient", softmax_ce_sign, {("dZ", "sign-flipped")}),
    (
        "softmax_cross_entropy_gradient",
        softmax_ce_axis0,
        {("dZ", "softmax-wrong-axis")},
    ),
    (
        "softmax_cross_entropy_gradient",
        softmax_ce_no_softmax,
        {("dZ", "softmax-missing")},
    ),
    ("conv2d_forward", conv_forward_flipped, {("Y", "kernel-flipped-forward")}),
    ("conv2d_forward", conv_forward_no_stride, {("Y", "stride-ignored")}),
    ("conv2d_forward", conv_forward_no_padding, {("Y", "padding-ignored")}),
    ("conv2d_forward", conv_forward_no_dilation, {("Y", "dilation-ignored")}),
    ("conv2d_forward", conv_forward_no_bias, {("Y", "bias-missing")}),
    ("conv2d_backward", _bug(assign=True), {("dX", "assign-not-accumulate")}),
    ("conv2d_backward", conv_backward_col2im_assign, {("dX", "assign-not-accumulate")}),
    ("conv2d_backward", _bug(flip=True), {("dX", "kernel-not-flipped")}),
    (
        "conv2d_backward",
        _bug(no_stride=True),
        {("dX", "stride-ignored"), ("dW", "stride-ignored")},
    ),
    (
        "conv2d_backward",
        _bug(no_dilation=True),
        {("dX", "dilation-ignored"), ("dW", "dilation-ignored")},
    ),
    ("conv2d_backward", _bug(no_crop=True), {("dX", "padding-not-cropped")}),
    (
        "conv2d_backward",
        _with(conv_backward_einsum, 1, lambda dW, dY, X: dW[:, :, ::-1, ::-1]),
        {("dW", "weight-gradient-rotated")},
    ),
    (
        "conv2d_backward",
        _with(conv_backward_einsum, 1, lambda dW, dY, X: np.swapaxes(dW, 0, 1)),
        {("dW", "weight-gradient-transposed")},
    ),
    (
        "conv2d_backward",
        _with(conv_backward_einsum, 2, lambda db, dY, X: db / len(X)),
        {("db", "mean-not-sum")},
    ),
    (
        "conv2d_backward",
        _with(conv_backward_einsum, 2, lambda db, dY, X: dY.sum(axis=(2, 3))),
        {("db", "batch-sum-missing")},
    ),
    (
        "conv2d_backward",
        _with(conv_backward_einsum, 1, lambda dW, dY, X: dW / len(X)),
        {("dW", "mean-not-sum")},
    ),
    ("conv2d_backward", conv_backward_dW_overwritten, {("dW", "batch-sum-missing")}),
    ("maxpool2d_forward", pool_forward_stride_1, {("Y", "stride-defaults-to-1")}),
    ("maxpool2d_forward", pool_forward_stride_ignored, {("Y", "stride-ignored")}),
    ("maxpool2d_forward", pool_forward_halving, {("Y", "output-size-halved")}),
    (
        "maxpool2d_backward",
        lambda dY, X, kernel=2, stride=None: pool_backward_loops(
            dY, X, kernel, stride, tie="all"
        ),
        {("dX", "ties-to-every-max")},
    ),
    (
        "maxpool2d_backward",
        lambda dY, X, kernel=2, stride=None: pool_backward_loops(
            dY, X, kernel, stride, tie="last"
        ),
        {("dX", "ties-to-last-max")},
    ),
    (
        "maxpool2d_backward",
        lambda dY, X, kernel=2, stride=None: pool_backward_loops(
            dY, X, kernel, stride, assign=True
        ),
        {("dX", "assign-not-accumulate")},
    ),
    ("maxpool2d_backward", pool_backward_no_stride, {("dX", "stride-ignored")}),
]


@pytest.mark.parametrize(
    ("name", "fn"), CORRECT, ids=[f"{n}-{f.__name__}" for n, f in CORRECT]
)
def test_correct_implementations_written_differently_pass(
    name: str, fn: Callable[..., Any]
) -> None:
    report = check(name, fn)
    assert report.passed, report.text
    assert report.bugs == ()
    assert report.text == f"{name}: all {report.total} cases pass."


@pytest.mark.parametrize(
    ("name", "fn", "diagnoses"),
    BUGGY,
    ids=[f"{n}-{'+'.join(':'.join(d) for d in sorted(b))}" for n, _, b in BUGGY],
)
def test_each_known_bug_is_named_on_a_bug_written_for_it(
    name: str, fn: Callable[..., Any], diagnoses: set[tuple[str, str]]
) -> None:
    report = check(name, fn)
    assert not report.passed
    assert set(report.diagnoses) == diagnoses, report.text
    for output, key in diagnoses:
        entries = [
            b for b in EXERCISES[name].bugs if (b.output, b.key) == (output, key)
        ]
        assert any(
            f"Likely bug in {output}: {b.text}\n  See docs/{b.link}" in report.text
            for b in entries
        )


def test_every_known_bug_has_a_bug_written_for_it_here() -> None:
    covered = {(name, *d) for name, _, diagnoses in BUGGY for d in diagnoses}
    catalogue = {(e.name, b.output, b.key) for e in EXERCISES.values() for b in e.bugs}
    assert catalogue - covered == set()


def test_a_bug_outside_the_catalogue_fails_without_a_name() -> None:
    def off_by_one(dZ, X, W):
        dX, dW, db = dense_matrix(dZ, X, W)
        dX[0, 0] += 1.0
        return dX, dW, db

    report = check("dense_backward", off_by_one)
    assert not report.passed
    assert report.bugs == ()
    assert "Likely bug" not in report.text


# --- the battery ---------------------------------------------------------------


def test_batteries_are_ordered_smallest_first() -> None:
    for exercise in EXERCISES.values():
        sizes = [case.size for case in exercise.cases()]
        assert sizes == sorted(sizes), exercise.name


def test_the_report_shows_the_smallest_failing_case_and_the_first_wrong_index() -> None:
    # Ignoring the stride changes only cases with a stride > 1 on some axis.
    cases = EXERCISES["conv2d_forward"].cases()
    strided = [c for c in cases if pair(c.kwargs["stride"]) != (1, 1)]
    smallest = min(strided, key=lambda c: c.size)
    report = check("conv2d_forward", conv_forward_no_stride)
    lines = report.text.splitlines()
    assert lines[1] == f"Smallest failing case: {smallest.describe()}"
    assert lines[0] == f"conv2d_forward: {len(strided)} of {len(cases)} cases fail."
    assert lines[2].startswith("  Y has shape ")

    # A wrong value: the index is the first in row-major order, the values
    # those of the reference and of the buggy function there.
    report = check("conv2d_forward", conv_forward_flipped)
    first = next(
        c
        for c in cases
        if not np.allclose(
            conv_forward_flipped(*c.args, **c.kwargs),
            conv_forward_loops(*c.args, **c.kwargs),
        )
    )
    Y_bug = conv_forward_flipped(*first.args, **first.kwargs)
    Y_ref = conv_forward_loops(*first.args, **first.kwargs)
    index = tuple(np.argwhere(~np.isclose(Y_bug, Y_ref))[0])
    line = report.text.splitlines()[2]
    assert line.startswith(f"  Y{list(map(int, index))}: expected {Y_ref[index]:.6g},")
    assert f"got {Y_bug[index]:.6g}" in line


def test_batteries_cover_what_weak_checkers_miss() -> None:
    conv = EXERCISES["conv2d_backward"].cases()
    shapes = [(c.args[1].shape, c.args[2].shape, c.kwargs) for c in conv]
    assert any(x[0] > 1 for x, _, _ in shapes)  # batch > 1
    assert any(x[1] > 1 and w[0] > 1 for x, w, _ in shapes)  # several channels
    assert any(x[2] != x[3] for x, _, _ in shapes)  # non-square image
    assert any(w[2] != w[3] for _, w, _ in shapes)  # non-square kernel
    assert any(x[2:] == (1, 1) for x, _, _ in shapes)  # 1x1 image
    assert any(w[2:] == (1, 1) for _, w, _ in shapes)  # 1x1 kernel
    for x, w, o in shapes:
        (ph, _), (dh, _) = pair(o["padding"]), pair(o["dilation"])
        assert (x[2] + 2 * ph - dh * (w[2] - 1) - 1) >= 0
    assert any(  # a stride that does not divide
        (x[2] + 2 * pair(o["padding"])[0] - pair(o["dilation"])[0] * (w[2] - 1) - 1)
        % pair(o["stride"])[0]
        for x, w, o in shapes
    )
    assert any(  # a kernel as large as the padded input
        w[2] == x[2] + 2 * pair(o["padding"])[0] for x, w, o in shapes
    )
    assert any(pair(o["padding"]) != (0, 0) for _, _, o in shapes)
    assert any(pair(o["dilation"]) != (1, 1) for _, _, o in shapes)
    assert all(a.dtype == np.float64 for c in conv for a in c.args)

    pool = EXERCISES["maxpool2d_backward"].cases()

    def overlapping_positive_tie(case) -> bool:
        X = case.args[1]
        KH, KW = pair(case.kwargs["kernel"])
        sh, _ = pair(case.kwargs.get("stride", case.kwargs["kernel"]))
        windows = np.lib.stride_tricks.sliding_window_view(X, (KH, KW), axis=(2, 3))
        flat = windows.reshape(*windows.shape[:4], -1)
        top = flat.max(axis=-1)
        ties = ((flat == top[..., None]).sum(-1) > 1) & (top > 0)
        return sh < KH and bool(ties.any())

    assert any(overlapping_positive_tie(c) for c in pool)
    Z = [c.args[0] for c in EXERCISES["softmax_cross_entropy_gradient"].cases()]
    assert any(np.abs(z).max() >= 1e4 for z in Z)


def test_every_known_bug_differs_from_the_reference_and_from_other_bugs() -> None:
    # Otherwise a diagnosis could never fire, or two could not be told apart.
    for exercise in EXERCISES.values():
        cases = exercise.cases()
        position = {name: i for i, name in enumerate(exercise.outputs)}

        def outputs(bug, case):
            try:
                with np.errstate(all="ignore"):
                    return case.call(bug.compute)
            except Exception:
                return None

        table = {id(b): [outputs(b, c) for c in cases] for b in exercise.bugs}
        for bug in exercise.bugs:
            reference = [
                c.call(exercise.reference)[position[bug.output]] for c in cases
            ]
            assert any(
                got is not None and not same(got, want)
                for got, want in zip(table[id(bug)], reference, strict=True)
            ), (exercise.name, bug.key)
            for other in exercise.bugs:
                if other.output != bug.output or other.key == bug.key:
                    continue
                assert any(
                    a is None or b is None or not same(a, b)
                    for a, b in zip(table[id(bug)], table[id(other)], strict=True)
                ), (exercise.name, bug.key, other.key)


def test_every_link_points_at_a_heading_of_a_page() -> None:
    def anchors(page: str) -> set[str]:
        text = (DOCS / page).read_text(encoding="utf-8")
        text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
        headings = re.findall(r"^#+ (.+)$", text, flags=re.M)
        return {slugify(h, "-") for h in headings}

    links = [b.link for e in EXERCISES.values() for b in e.bugs]
    links += [e.page for e in EXERCISES.values()]
    for link in links:
        page, anchor = link.split("#")
        assert anchor in anchors(page), link


# --- the runner: time limit, crashes, tracebacks, files ------------------------


def test_an_infinite_loop_is_stopped_at_the_time_limit() -> None:
    def forever(dZ, X, W):
        while True:
            pass

    report = check("dense_backward", forever, time_limit=0.3)
    assert not report.passed
    assert "no answer within the time limit of 0.3 s" in report.text
    assert report.failed == report.total  # the rest were not run


def test_a_crash_of_the_reader_s_code_is_reported_not_suffered() -> None:
    def crash(dZ, X, W):
        os._exit(3)

    report = check("dense_backward", crash)
    assert not report.passed
    assert "died (exit code 3)" in report.text


def test_an_exception_shows_the_traceback_trimmed_to_the_reader_s_file(
    tmp_path: Path,
) -> None:
    file = tmp_path / "mine.py"
    file.write_text(
        "import numpy as np\n"
        "\n"
        "def helper(dZ, W):\n"
        "    return dZ @ W.T\n"
        "\n"
        "def dense_backward(dZ, X, W):\n"
        "    return helper(dZ, W), dZ.T @ X, dZ.sum(axis=0)\n",
        encoding="utf-8",
    )
    report = check_file("dense_backward", file)
    assert not report.passed
    text = report.text
    assert "your function raised ValueError: matmul" in text
    assert 'File "mine.py", line 7, in dense_backward' in text
    assert 'File "mine.py", line 4, in helper' in text
    assert "    return dZ @ W.T" in text
    assert "cnnscratch" not in text.split("raised", 1)[1]  # no checker frames
    assert str(tmp_path) not in text


def test_the_reader_s_prints_and_input_changes_do_not_disturb_the_check(
    capfd: pytest.CaptureFixture[str],
) -> None:
    def noisy(dZ, X, W):
        print("debugging", dZ.shape)
        X *= 0  # mutates its own copy, not the checker's arrays
        return dZ @ W, dZ.T @ (X + 0), dZ.sum(axis=0)

    report = check("dense_backward", noisy)
    assert "debugging" not in capfd.readouterr().out
    assert not report.passed  # dW from a zeroed X is wrong ...
    report = check("dense_backward", dense_matrix)
    assert report.passed  # ... and the battery's X is intact for the next check


def test_starter_writes_once_and_checks_as_not_implemented(tmp_path: Path) -> None:
    path = write_starter("conv2d_backward", tmp_path)
    assert path == tmp_path / "conv2d_backward.py"
    with pytest.raises(UsageError, match="already exists; not overwriting it"):
        write_starter("conv2d_backward", tmp_path)
    report = check_file("conv2d_backward", path, time_limit=2)
    assert not report.passed
    assert "raised NotImplementedError: write its body first" in report.text


def test_a_filled_in_starter_passes(tmp_path: Path) -> None:
    # The reader's path: write the starter, replace the body, check.
    path = write_starter("maxpool2d_forward", tmp_path)
    body = (
        "    KH, KW = (kernel, kernel) if isinstance(kernel, int) else kernel\n"
        "    stride = kernel if stride is None else stride\n"
        "    sh, sw = (stride, stride) if isinstance(stride, int) else stride\n"
        "    N, C, H, W = X.shape\n"
        "    Y = np.empty((N, C, (H - KH) // sh + 1, (W - KW) // sw + 1))\n"
        "    for i in range(Y.shape[2]):\n"
        "        for j in range(Y.shape[3]):\n"
        "            window = X[:, :, i * sh : i * sh + KH, j * sw : j * sw + KW]\n"
        "            Y[:, :, i, j] = window.max(axis=(2, 3))\n"
        "    return Y\n"
    )
    text = path.read_text(encoding="utf-8")
    assert text.count("    raise NotImplementedError\n") == 1
    path.write_text(text.replace("    raise NotImplementedError\n", body))
    report = check_file("maxpool2d_forward", path)
    assert report.passed, report.text


@pytest.mark.parametrize("name", list(EXERCISES))
def test_starters_have_the_signature_shapes_and_no_body(name: str) -> None:
    text = starter(name)
    compile(text, f"{name}.py", "exec")
    arguments = EXERCISES[name].signature.split(" -> ")[0]
    assert f"def {arguments}:" in text
    assert "ndarray, shape (" in text
    assert text.endswith("    raise NotImplementedError\n")
    assert f"python -m cnnscratch check {name} {name}.py" in text


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (None, "no such file"),
        ("def f(:\n", "line 1: syntax error"),
        ("x = 1\n", "defines no function named dense_backward"),
        ("1 / 0\n", "raised ZeroDivisionError while loading (line 1)"),
    ],
)
def test_files_that_cannot_be_checked_raise_a_usage_error(
    tmp_path: Path, source: str | None, message: str
) -> None:
    file = tmp_path / "mine.py"
    if source is not None:
        file.write_text(source, encoding="utf-8")
    with pytest.raises(UsageError, match=re.escape(message)):
        check_file("dense_backward", file)


def test_an_unknown_exercise_names_the_known_ones() -> None:
    with pytest.raises(UsageError, match="expected name to be one of dense_backward, "):
        check("conv3d_forward", dense_matrix)


# --- finite differences of the reader's own forward pass -----------------------


def test_a_backward_pass_consistent_with_a_flipped_forward_pass_is_told_so(
    tmp_path: Path,
) -> None:
    # Gotcha 6: the forward pass flips the kernel, and the backward pass is
    # its exact gradient. The reference fails it; finite differences of the
    # reader's own forward pass agree with it, which points at the forward.
    file = tmp_path / "flipped.py"
    file.write_text(
        "import numpy as np\n"
        "from cnnscratch import conv\n"
        "\n"
        "def conv2d_forward(X, W, b, stride=1, padding=0, dilation=1):\n"
        "    options = dict(stride=stride, padding=padding, dilation=dilation)\n"
        "    return conv.conv2d_forward(X, W[:, :, ::-1, ::-1], b, **options)[0]\n"
        "\n"
        "def conv2d_backward(dY, X, W, stride=1, padding=0, dilation=1):\n"
        "    options = dict(stride=stride, padding=padding, dilation=dilation)\n"
        "    b = np.zeros(len(W))\n"
        "    _, cache = conv.conv2d_forward(X, W[:, :, ::-1, ::-1], b, **options)\n"
        "    dX, dW, db = conv.conv2d_backward(dY, cache)\n"
        "    return dX, dW[:, :, ::-1, ::-1], db\n",
        encoding="utf-8",
    )
    report = check_file("conv2d_backward", file)
    assert not report.passed
    assert (
        "Finite differences of your conv2d_forward on this case: dX agrees, "
        "dW agrees, db agrees." in report.text
    )
    assert "exact gradient of your own conv2d_forward" in report.text


def test_finite_differences_of_a_correct_forward_pass_expose_the_backward_bug() -> None:
    report = check("conv2d_backward", _bug(assign=True), forward=conv_forward_loops)
    line = next(line for line in report.text.splitlines() if line.startswith("Finite"))
    assert re.fullmatch(
        r"Finite differences of your conv2d_forward on this case: "
        r"dX differs \([0-9.e-]+\), dW agrees, db agrees\.",
        line,
    ), line


def test_no_finite_differences_where_max_pooling_has_ties() -> None:
    # Ties everywhere: the maximum has no derivative, so no finite differences.
    def all_ties(dY, X, kernel=2, stride=None):
        return pool_backward_loops(dY, X, kernel, stride, tie="all")

    report = check("maxpool2d_backward", all_ties, forward=pool_forward_loops)
    assert report.bugs == ("ties-to-every-max",)
    assert "Finite differences" not in report.text


def test_the_notebook_has_each_exercise_with_its_signature_and_a_check() -> None:
    import ast

    notebook = DOCS / "notebooks" / "exercises.py"
    tree = ast.parse(notebook.read_text(encoding="utf-8"))
    functions = {
        node.name: f"{node.name}({ast.unparse(node.args)})"
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
    }
    checked = [
        node.value.args[0].value
        for node in tree.body
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and getattr(node.value.func, "id", "") == "check"
    ]
    assert checked == list(EXERCISES)
    for name, exercise in EXERCISES.items():
        assert functions[name] == exercise.signature.split(" -> ")[0]


def test_a_wrong_dtype_or_a_wrong_number_of_outputs_is_reported_as_such() -> None:
    def in_float32(Z, Y):
        return softmax_ce_max(Z, Y).astype(np.float32)

    report = check("softmax_cross_entropy_gradient", in_float32)
    assert report.text.splitlines()[2] == "  dZ has dtype float32; expected float64"

    def two_outputs(dZ, X, W):
        return dZ @ W, dZ.T @ X

    report = check("dense_backward", two_outputs)
    assert report.text.splitlines()[2] == (
        "  your function returned a tuple of 2; expected a tuple (dX, dW, db)"
    )
