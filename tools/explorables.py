"""The frames of the explorables: step-through figures computed by the package.

Each explorable is a function returning plain data (lists, strings and
numbers, ready for JSON) that ``docs/assets/explorables.js`` only displays:
every number a reader sees, in every frame and for every setting, is written
here by ``cnnscratch`` at build time, so no arithmetic in the browser can
drift from the library. ``tools/explorables_hook.py`` writes the data next to
the page, draws the first frame as a static SVG for readers without
JavaScript, and replaces a placeholder line ``{{ explorable: NAME }}`` in a
page with the figure.

The data of one explorable::

    {"name": ..., "caption": ..., "settings": [Setting, ...],
     "variants": {key: Variant, ...}}
    Setting = {"name": "stride", "label": "Stride", "options": [1, 2],
               "labels": ["1", "2"]}
    Variant = {"panels": [Panel, ...], "frames": [Frame, ...], "notes": [str]}
    Panel   = {"id": "X", "label": "...", "rows": R, "cols": C, "pad": p,
               "values": [[str, ...], ...]}
    Frame   = {"values": {panel id: [[str, ...], ...]},   # panels that change
               "marks": {panel id: [[r, c, role], ...]},
               "lines": [str, ...],   # the arithmetic of this step, written out
               "say": str,            # the same in words, for the live region
               "picks": [[panel id, r, c], ...]}  # cells that select this frame

``key`` joins the chosen options, ``"stride=1,padding=0"``, in the order of
``settings``. Roles are ``read`` (what this step reads), ``write`` (what it
writes), ``again`` (written here and by an earlier step: the overlaps that
add up), ``win`` (a max-pool window's winner) and ``tie`` (an entry equal to
the winner that loses the tie).

Adding an explorable: write a function returning this data from the
package's public functions, add it to ``EXPLORABLES`` with its caption, put
``{{ explorable: NAME }}`` on its own line where the derivation is, and add
its checks to ``tests/test_explorables.py``. The browser only needs the
data: ``explorables.js`` and its test find every ``figure.explorable``.

Part 5's transposed convolution (``transposed_variant``) is built like
``scatter_variant``: a frame per input cell, whose ``marks`` are the output
cells its stamp reaches and whose ``values`` are the package's output for
the input masked to the cells stamped so far. A panel may also say
``"added": n``: its last n rows and columns are the ones ``output_padding``
adds, drawn hatched in every frame.
"""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape

import numpy as np

from cnnscratch.conv import (
    col2im,
    conv2d_backward,
    conv2d_forward,
    conv2d_input_gradient_flipped,
    conv_output_size,
    dilate,
    im2col,
    pad,
)
from cnnscratch.pooling import maxpool2d_backward, maxpool2d_forward
from cnnscratch.transposed import conv_transpose2d_forward, conv_transpose_output_size

Data = dict[str, Any]
Grid = list[list[str]]


# ---------------------------------------------------------------------------
# Helpers: formatting and the cells a window reads


def fmt(value: float) -> str:
    """A number as the figures print it: integers without a decimal point."""
    v = float(value)
    if v == round(v):
        return str(round(v))  # also turns -0.0 into "0"
    return f"{v:.4g}"


def term(value: float) -> str:
    """A factor inside a written-out sum: negative numbers in parentheses."""
    text = fmt(value)
    return f"({text})" if text.startswith("-") else text


def grid(A: np.ndarray) -> Grid:
    """A 2-D array as rows of printed numbers."""
    return [[fmt(v) for v in row] for row in np.asarray(A)]


def blank(rows: int, cols: int) -> Grid:
    return [[""] * cols for _ in range(rows)]


def revealed(A: np.ndarray, count: int) -> Grid:
    """``A`` printed in row-major order up to its first ``count`` entries."""
    out = blank(*A.shape)
    for q in range(count):
        r, c = divmod(q, A.shape[1])
        out[r][c] = fmt(A[r, c])
    return out


def window_cells(
    size: tuple[int, int], kernel: int, stride: int, padding: int, dilation: int
) -> np.ndarray:
    """cells[q, k] = (r, t): padded cell that output q reads with tap k.

    Computed by the package: ``im2col`` of an image whose pixels are their own
    row-major indices, in the padded grid. Shape (OH·OW, KH·KW, 2).
    """
    Hp, Wp = size[0] + 2 * padding, size[1] + 2 * padding
    index = np.arange(Hp * Wp, dtype=float).reshape(1, 1, Hp, Wp)
    flat = im2col(index, kernel, stride=stride, dilation=dilation).astype(int)
    return np.stack(np.divmod(flat, Wp), axis=-1)


def spans(cells: np.ndarray) -> tuple[str, str]:
    """The rows and the columns a window covers, as words."""
    rows = sorted({int(r) for r, _ in cells})
    cols = sorted({int(c) for _, c in cells})
    return ", ".join(map(str, rows)), ", ".join(map(str, cols))


def key(**options: object) -> str:
    return ",".join(f"{k}={v}" for k, v in options.items())


def setting(name: str, label: str, options: list[Any]) -> Data:
    return {
        "name": name,
        "label": label,
        "options": options,
        "labels": [str(o) for o in options],
    }


def marks(cells: Any, role: str) -> list[list[Any]]:
    return [[int(r), int(c), role] for r, c in cells]


# ---------------------------------------------------------------------------
# The inputs: small integers, so that every sum on screen is exact


def conv_inputs() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """X (1, 1, 5, 5), W (1, 1, 3, 3) and b (1,) of the forward explorable."""
    rng = np.random.default_rng(16)
    X = rng.integers(-2, 4, size=(1, 1, 5, 5)).astype(float)
    W = rng.integers(-1, 3, size=(1, 1, 3, 3)).astype(float)
    return X, W, np.array([1.0])


BACKWARD_SIZE = 6  # even: with stride 2 the last row of x̃ is never read


def backward_inputs(
    stride: int, padding: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """X (1, 1, 6, 6), W (1, 1, 3, 3) and dY (1, 1, OH, OW) for one setting.

    Shared by "where a gradient goes" and "the flipped kernel", so that both
    routes to dX start from the same numbers.
    """
    _, W, _ = conv_inputs()
    H = BACKWARD_SIZE
    X = np.random.default_rng(61).integers(-2, 4, size=(1, 1, H, H)).astype(float)
    OH = conv_output_size(H, 3, stride=stride, padding=padding)
    rng = np.random.default_rng([16, stride, padding])
    # No zeros: every step of the scatter sends something.
    dY = rng.choice([-2.0, -1.0, 1.0, 2.0, 3.0], size=(1, 1, OH, OH))
    return X, W, dY


def im2col_inputs(stride: int) -> tuple[np.ndarray, np.ndarray]:
    """X (1, 1, 4, 4) and a gradient D (OH·OW, 4) of its 2 x 2 windows."""
    X = np.arange(1.0, 17.0).reshape(1, 1, 4, 4)
    rows = conv_output_size(4, 2, stride=stride) ** 2
    D = np.random.default_rng([16, stride]).integers(-2, 4, size=(rows, 4))
    return X, D.astype(float)


def pool_inputs(kernel: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """X (1, 1, 5, 5) with ties in every setting, and dY (1, 1, OH, OW)."""
    X = np.array(
        [
            [3, 7, 7, 1, 4],
            [2, 5, 0, 7, 6],
            [6, 1, 6, 2, 6],
            [4, 6, 3, 5, 0],
            [1, 2, 4, 4, 5],
        ],
        dtype=float,
    ).reshape(1, 1, 5, 5)
    OH = conv_output_size(5, kernel, stride=stride)
    rng = np.random.default_rng([16, kernel, stride])
    return X, rng.integers(1, 6, size=(1, 1, OH, OH)).astype(float)


# ---------------------------------------------------------------------------
# 1. Convolution forward (Part 3, eqs. (3.1) and (3.2))


def output_size_note(H: int, k: int, s: int, p: int, d: int) -> str:
    """Eq. (3.2) evaluated, the result from ``conv_output_size``."""
    top = H + 2 * p - d * (k - 1) - 1
    size = conv_output_size(H, k, stride=s, padding=p, dilation=d)
    return (
        f"Output size (3.2): ⌊(H + 2p − d(k − 1) − 1) / s⌋ + 1 = "
        f"⌊({H} + 2·{p} − {d}·({k} − 1) − 1) / {s}⌋ + 1 = "
        f"⌊{top} / {s}⌋ + 1 = {size}, so Y is {size} × {size}."
    )


def conv_forward_variant(stride: int, padding: int, dilation: int) -> Data:
    X, W, b = conv_inputs()
    hyper = {"stride": stride, "padding": padding, "dilation": dilation}
    Y, _ = conv2d_forward(X, W, b, **hyper)
    y = Y[0, 0]
    OH, OW = y.shape
    cols = im2col(X, 3, **hyper)  # (OH·OW, 9): the window of every output
    cells = window_cells((5, 5), 3, stride, padding, dilation)
    w = W.reshape(-1)
    Xp = pad(X, padding)[0, 0]
    frames = []
    for q in range(OH * OW):
        i, j = divmod(q, OW)
        rows, columns = spans(cells[q])
        products = cols[q] * w
        factors = " + ".join(
            f"{term(wk)}·{term(xk)}" for wk, xk in zip(w, cols[q], strict=True)
        )
        values = " + ".join(term(v) for v in products)
        frames.append(
            {
                "values": {"Y": revealed(y, q + 1)},
                "marks": {"X": marks(cells[q], "read"), "Y": [[i, j, "write"]]},
                "lines": [
                    f"Output ({i}, {j}) reads padded rows {rows} and columns "
                    f"{columns}: rows s·i + d·u, columns s·j + d·v.",
                    f"y[{i}, {j}] = b + Σ w[u, v]·x̃[r, t] = {fmt(b[0])} + {factors}",
                    f"= {fmt(b[0])} + {values} = {fmt(y[i, j])}",
                ],
                "say": (
                    f"Output row {i}, column {j}: the window covers padded rows "
                    f"{rows} and columns {columns}. The bias {fmt(b[0])} plus the "
                    f"nine products {', '.join(map(fmt, products))} is {fmt(y[i, j])}."
                ),
                "picks": [["Y", i, j]],
            }
        )
    return {
        "panels": [
            panel("X", "x̃: the input, padded", grid(Xp), padding),
            panel("W", "w: the kernel", grid(W[0, 0])),
            panel("b", "b", grid(b.reshape(1, 1))),
            panel("Y", "y: the output", blank(OH, OW)),
        ],
        "frames": frames,
        "notes": [output_size_note(5, 3, stride, padding, dilation)],
    }


def panel(pid: str, label: str, values: Grid, pad: int = 0, added: int = 0) -> Data:
    out = {
        "id": pid,
        "label": label,
        "rows": len(values),
        "cols": len(values[0]),
        "pad": pad,
        "values": values,
    }
    if added:
        out["added"] = added  # the last rows and columns, from output_padding
    return out


def conv_forward() -> Data:
    settings = [
        setting("stride", "Stride s", [1, 2, 3]),
        setting("padding", "Padding p", [0, 1, 2]),
        setting("dilation", "Dilation d", [1, 2]),
    ]
    variants = {
        key(stride=s, padding=p, dilation=d): conv_forward_variant(s, p, d)
        for s, p, d in itertools.product(*(o["options"] for o in settings))
    }
    return {"settings": settings, "variants": variants}


# ---------------------------------------------------------------------------
# 2. Where a gradient goes (Part 3, eqs. (3.4) and (3.5))


def first(count: int, shape: tuple[int, ...]) -> np.ndarray:
    """A mask of ones on the first ``count`` entries (row-major) of ``shape``."""
    mask = np.zeros(int(np.prod(shape)))
    mask[:count] = 1.0
    return mask.reshape(shape)


def received(
    before: np.ndarray, after: np.ndarray, cells: Any, factor: str, sent: Any
) -> list[str]:
    """``cell: before + factor×sent = after`` for each cell, a line per kernel row."""
    each = [
        f"[{r}, {c}]: {fmt(before[r, c])} + {factor}×{term(v)} = {fmt(after[r, c])}"
        for (r, c), v in zip(cells, sent, strict=True)
    ]
    return ["; ".join(each[k : k + 3]) for k in range(0, len(each), 3)]


def scatter_variant(stride: int, padding: int) -> Data:
    X, W, dY = backward_inputs(stride, padding)
    H = BACKWARD_SIZE
    Xp = pad(X, padding)
    # The padded input as the layer's input: its gradient dX̃ keeps what lands
    # on the padding, which the layer itself computes and throws away.
    _, cache = conv2d_forward(Xp, W, [0.0], stride=stride)
    OH, OW = dY.shape[2:]
    cells = window_cells((H, H), 3, stride, padding, 1)
    w, x = W.reshape(-1), im2col(Xp, 3, stride=stride)
    frames = []
    prev_dX, prev_dW = np.zeros(Xp.shape[2:]), np.zeros((3, 3))
    earlier: set[tuple[int, int]] = set()
    taps = [(u, v) for u in range(3) for v in range(3)]
    for q in range(OH * OW):
        i, j = divmod(q, OW)
        dXq, dWq, _ = conv2d_backward(dY * first(q + 1, dY.shape), cache)
        dXq, dWq = dXq[0, 0], dWq[0, 0]
        delta = fmt(dY[0, 0, i, j])
        these = [(int(r), int(c)) for r, c in cells[q]]
        rows, columns = spans(cells[q])
        frames.append(
            {
                "values": {"dX": grid(dXq), "dW": grid(dWq)},
                "marks": {
                    "dY": [[i, j, "read"]],
                    "X": marks(these, "read"),
                    "dX": [
                        [r, c, "again" if (r, c) in earlier else "write"]
                        for r, c in these
                    ],
                    "dW": marks(taps, "write"),
                },
                "lines": [
                    f"δ = dY[{i}, {j}] = {delta} goes back through the window of "
                    f"output ({i}, {j}): padded rows {rows}, columns {columns}.",
                    "dX̃ receives δ·w[u, v] at each cell of the window:",
                    *received(prev_dX, dXq, these, term(dY[0, 0, i, j]), w),
                    "dW receives δ·x̃[r, t] at each weight:",
                    *received(prev_dW, dWq, taps, term(dY[0, 0, i, j]), x[q]),
                ],
                "say": (
                    f"Step {q + 1}: the gradient {delta} of output row {i}, column "
                    f"{j} is multiplied by each weight and added to the nine input "
                    f"cells of its window, padded rows {rows} and columns {columns}; "
                    f"multiplied by each of those inputs, it is added to the nine "
                    f"weight gradients."
                ),
                "picks": [["dY", i, j]],
            }
        )
        prev_dX, prev_dW = dXq, dWq
        earlier.update(these)
    last = frames[-1]["lines"]
    last.append(
        f"Every output has sent its gradient: the inner {H} × {H} of dX̃ is dX, and "
        "dX and dW are conv2d_backward's."
    )
    return {
        "panels": [
            panel("dY", "dY: the gradient of the output", grid(dY[0, 0])),
            panel("W", "w: the kernel", grid(W[0, 0])),
            panel("X", "x̃: the input, padded", grid(Xp[0, 0]), padding),
            panel("dX", "dX̃: the gradient of x̃", blank(*Xp.shape[2:]), padding),
            panel("dW", "dW", blank(3, 3)),
        ],
        "frames": frames,
        "notes": [
            "The padding ring (dashed) receives gradient too; the layer drops it: "
            f"dX is the inner {H} × {H} of dX̃."
        ],
    }


def backward_settings() -> list[Data]:
    return [
        setting("stride", "Stride s", [1, 2]),
        setting("padding", "Padding p", [0, 1]),
    ]


def gradient_scatter() -> Data:
    variants = {
        key(stride=s, padding=p): scatter_variant(s, p)
        for s, p in itertools.product([1, 2], [0, 1])
    }
    return {"settings": backward_settings(), "variants": variants}


# ---------------------------------------------------------------------------
# 3. The flipped kernel (Part 3, eq. (3.6))


def flipped_variant(stride: int, padding: int) -> Data:
    X, W, dY = backward_inputs(stride, padding)
    full = 2  # d(K − 1) with d = 1, K = 3
    D = pad(dilate(dY, stride), full)  # δ̄: dilated, then padded "full"
    W_rot = W[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)
    G, _ = conv2d_forward(D, W_rot, [0.0])  # eq. (3.6): the reached rows of dX̃
    G = G[0, 0]
    dX = conv2d_input_gradient_flipped(dY, W, X.shape, stride=stride, padding=padding)
    H = BACKWARD_SIZE
    Hp = H + 2 * padding
    cells = window_cells(D.shape[2:], 3, 1, 0, 1)
    d_cols = im2col(D, 3)
    w_rot = W_rot.reshape(-1)
    GH, GW = G.shape
    frames = []
    for q in range(GH * GW):
        r, t = divmod(q, GW)
        rows, columns = spans(cells[q])
        nonzero = [
            f"{term(a)}·{term(v)}" for a, v in zip(w_rot, d_cols[q], strict=True) if v
        ]
        sum_text = " + ".join(nonzero) if nonzero else "0 (the window holds only zeros)"
        grid_dX = revealed(G, q + 1) + blank(Hp - GH, GW)
        for row in grid_dX:
            row.extend([""] * (Hp - GW))
        frames.append(
            {
                "values": {"dX": grid_dX},
                "marks": {"D": marks(cells[q], "read"), "dX": [[r, t, "write"]]},
                "lines": [
                    f"dX̃[{r}, {t}] correlates the rotated kernel with δ̄ at rows "
                    f"{rows}, columns {columns}.",
                    f"dX̃[{r}, {t}] = Σ w_rot[u, v]·δ̄[{r} + u, {t} + v] = "
                    f"{sum_text} = {fmt(G[r, t])}",
                ],
                "say": (
                    f"Padded input row {r}, column {t}: the rotated kernel over rows "
                    f"{rows} and columns {columns} of the dilated, padded gradient "
                    f"gives {fmt(G[r, t])}."
                ),
                "picks": [["dX", r, t]],
            }
        )
    ext = np.zeros((Hp, Hp))
    ext[:GH, :GW] = G
    unreached = Hp - GH
    if unreached == 0:
        step4 = "Step 4: every row and column of x̃ was reached by a window,"
    else:
        last = (
            "the last row and column"
            if unreached == 1
            else (f"the last {unreached} rows and columns")
        )
        step4 = f"Step 4: {last} of x̃, which no window reached, receive 0,"
    frames.append(
        {
            "values": {"dX": grid(ext), "out": grid(dX[0, 0])},
            "marks": {
                "dX": [
                    [r, c, "write"]
                    for r in range(Hp)
                    for c in range(Hp)
                    if r >= GH or c >= GW
                ],
                "out": [[r, c, "write"] for r in range(H) for c in range(H)],
            },
            "lines": [
                step4,
                f"and dropping the padding p = {padding} leaves dX, the same grid as "
                "the scatter of every output's gradient (conv2d_backward).",
            ],
            "say": (
                "Rows and columns no window reached are zero; without the padding "
                "ring this is dX, equal to the gradient built by scattering."
            ),
            "picks": [],
        }
    )
    return {
        "panels": [
            panel("D", "δ̄: dY dilated by s, padded by 2", grid(D[0, 0]), full),
            panel("W", "w", grid(W[0, 0])),
            panel("Wrot", "w_rot: w rotated by 180°", grid(W_rot[0, 0])),
            panel("dX", "dX̃: the gradient of x̃", blank(Hp, Hp), padding),
            panel("out", "dX", blank(H, H)),
        ],
        "frames": frames,
        "notes": [
            f"Step 1: dY ({dY.shape[2]} × {dY.shape[3]}) dilated by s = {stride}; "
            "step 2: the kernel rotated; step 3: δ̄ padded by d(K − 1) = 2 and "
            "correlated with w_rot."
        ],
    }


def flipped_kernel() -> Data:
    variants = {
        key(stride=s, padding=p): flipped_variant(s, p)
        for s, p in itertools.product([1, 2], [0, 1])
    }
    return {"settings": backward_settings(), "variants": variants}


# ---------------------------------------------------------------------------
# 4. im2col and col2im (Part 3, eqs. (3.7) and (3.8))


def im2col_variant(stride: int, view: str) -> Data:
    X, D = im2col_inputs(stride)
    cols = im2col(X, 2, stride=stride)
    cells = window_cells((4, 4), 2, stride, 0, 1)
    OW = conv_output_size(4, 2, stride=stride)
    rows = cols.shape[0]
    frames = []
    if view == "rows":
        for q in range(rows):
            i, j = divmod(q, OW)
            entries = ", ".join(fmt(v) for v in cols[q])
            frames.append(
                {
                    "values": {},
                    "marks": {
                        "cols": [[q, k, "read"] for k in range(4)],
                        "X": marks(cells[q], "write"),
                    },
                    "lines": [
                        f"Row {q} of im2col(X) is the window of output ({i}, {j}): "
                        f"x[{', x['.join(f'{r}, {c}]' for r, c in cells[q])} "
                        f"= {entries}."
                    ],
                    "say": f"Row {q} holds the window of output row {i}, column "
                    f"{j}: {entries}.",
                    "picks": [["cols", q, k] for k in range(4)],
                }
            )
        panels = [
            panel("X", "x", grid(X[0, 0])),
            panel("cols", "im2col(X): one row per window", grid(cols)),
        ]
    elif view == "pixels":
        for r in range(4):
            for c in range(4):
                copies = [
                    (q, k)
                    for q in range(rows)
                    for k in range(4)
                    if tuple(cells[q, k]) == (r, c)
                ]
                where = ", ".join(f"({q}, {k})" for q, k in copies) or "none"
                frames.append(
                    {
                        "values": {},
                        "marks": {
                            "X": [[r, c, "read"]],
                            "cols": marks(copies, "write"),
                        },
                        "lines": [
                            f"x[{r}, {c}] = {fmt(X[0, 0, r, c])} is copied into "
                            f"{len(copies)} entries of im2col(X): {where}."
                        ],
                        "say": f"Input row {r}, column {c} appears {len(copies)} "
                        f"times in the matrix.",
                        "picks": [["X", r, c]],
                    }
                )
        panels = [
            panel("X", "x", grid(X[0, 0])),
            panel("cols", "im2col(X): one row per window", grid(cols)),
        ]
    else:
        prev = np.zeros((4, 4))
        earlier: set[tuple[int, int]] = set()
        for q in range(rows):
            i, j = divmod(q, OW)
            upto = D * (np.arange(rows) <= q)[:, None]  # rows 0..q of dX_col
            acc = col2im(upto, X.shape, 2, stride=stride)[0, 0]
            these = [(int(r), int(c)) for r, c in cells[q]]
            adds = "; ".join(
                f"x[{r}, {c}]: {fmt(prev[r, c])} + {term(v)} = {fmt(acc[r, c])}"
                for (r, c), v in zip(these, D[q], strict=True)
            )
            frames.append(
                {
                    "values": {"dX": grid(acc)},
                    "marks": {
                        "D": [[q, k, "read"] for k in range(4)],
                        "dX": [
                            [r, c, "again" if (r, c) in earlier else "write"]
                            for r, c in these
                        ],
                    },
                    "lines": [
                        f"Row {q} of dX_col goes back to the window of output "
                        f"({i}, {j}), adding to what is there: {adds}."
                    ],
                    "say": f"Row {q} is added to the four input cells of its window; "
                    f"cells already reached add up.",
                    "picks": [["D", q, k] for k in range(4)],
                }
            )
            prev = acc
            earlier.update(these)
        frames[-1]["lines"].append("All rows added: this is col2im(dX_col).")
        panels = [
            panel("D", "dX_col: a gradient of im2col(X)", grid(D)),
            panel("dX", "col2im(dX_col)", blank(4, 4)),
        ]
    return {"panels": panels, "frames": frames, "notes": []}


def im2col_col2im() -> Data:
    views = ["rows", "pixels", "col2im"]
    settings = [
        setting("view", "Show", views),
        setting("stride", "Stride s", [1, 2]),
    ]
    settings[0]["labels"] = ["row → window", "pixel → copies", "col2im"]
    variants = {
        key(view=v, stride=s): im2col_variant(s, v)
        for v, s in itertools.product(views, [1, 2])
    }
    return {"settings": settings, "variants": variants}


# ---------------------------------------------------------------------------
# 5. Max-pooling forward and backward, ties included (Part 3, eqs. (3.9), (3.10))


def pool_variant(kernel: int, stride: int) -> Data:
    X, dY = pool_inputs(kernel, stride)
    Y, cache = maxpool2d_forward(X, kernel, stride=stride)
    assert cache.argmax is not None
    windows = im2col(X, kernel, stride=stride)  # (OH·OW, k·k)
    cells = window_cells((5, 5), kernel, stride, 0, 1)
    OH, OW = Y.shape[2:]
    frames = []
    prev = np.zeros((5, 5))
    for q in range(OH * OW):
        i, j = divmod(q, OW)
        best = int(cache.argmax[0, 0, i, j])
        top = Y[0, 0, i, j]
        tied = [k for k in range(kernel * kernel) if windows[q, k] == top]
        r, c = (int(v) for v in cells[q, best])
        dX = maxpool2d_backward(dY * first(q + 1, dY.shape), cache)[0, 0]
        entries = ", ".join(fmt(v) for v in windows[q])
        rows, columns = spans(cells[q])
        if len(tied) > 1:
            rule = (
                f"The maximum {fmt(top)} appears {len(tied)} times, at window "
                f"positions {', '.join(map(str, tied))}: a tie. The first in "
                f"row-major order, position {best}, wins."
            )
        else:
            rule = f"The maximum {fmt(top)} is at window position {best} only."
        mark_x = marks(cells[q], "read")
        for k in tied:
            mark_x.append([*map(int, cells[q, k]), "win" if k == best else "tie"])
        frames.append(
            {
                "values": {"Y": revealed(Y[0, 0], q + 1), "dX": grid(dX)},
                "marks": {
                    "X": mark_x,
                    "Y": [[i, j, "write"]],
                    "dY": [[i, j, "read"]],
                    "dX": [[r, c, "write"]],
                },
                "lines": [
                    f"Window ({i}, {j}): rows {rows}, columns {columns}, "
                    f"values {entries}.",
                    rule + f" y[{i}, {j}] = x[{r}, {c}] = {fmt(top)}.",
                    f"Backward: dY[{i}, {j}] = {fmt(dY[0, 0, i, j])} goes to "
                    f"x[{r}, {c}] only: dX[{r}, {c}] = {fmt(prev[r, c])} + "
                    f"{term(dY[0, 0, i, j])} = {fmt(dX[r, c])}.",
                ],
                "say": (
                    f"Window at output row {i}, column {j}. "
                    + rule
                    + f" Its gradient {fmt(dY[0, 0, i, j])} goes to input row {r}, "
                    f"column {c}, which now holds {fmt(dX[r, c])}."
                ),
                "picks": [["Y", i, j], ["dY", i, j]],
            }
        )
        prev = dX
    return {
        "panels": [
            panel("X", "x", grid(X[0, 0])),
            panel("Y", "y = maxpool(x)", blank(OH, OW)),
            panel("dY", "dY", grid(dY[0, 0])),
            panel("dX", "dX", blank(5, 5)),
        ],
        "frames": frames,
        "notes": [],
    }


def maxpool() -> Data:
    settings = [
        setting("kernel", "Window k", [2, 3]),
        setting("stride", "Stride s", [2, 1]),
    ]
    variants = {
        key(kernel=k, stride=s): pool_variant(k, s)
        for k, s in itertools.product([2, 3], [2, 1])
    }
    return {"settings": settings, "variants": variants}


# ---------------------------------------------------------------------------
# 6. Transposed convolution (Part 5, eqs. (5.14) and (5.16))

TRANSPOSED_SIZE = 3  # the input is 3 x 3, the kernel 3 x 3


def transposed_inputs() -> tuple[np.ndarray, np.ndarray]:
    """X (1, 1, 3, 3) and W (1, 1, 3, 3), no zeros: every stamp shows."""
    rng = np.random.default_rng(165)
    X = rng.choice([-1.0, 1.0, 2.0, 3.0], size=(1, 1, 3, 3))
    W = rng.choice([-1.0, 1.0, 2.0], size=(1, 1, 3, 3))
    return X, W


def transposed_size_note(H: int, k: int, s: int, p: int, op: int) -> str:
    """Eq. (5.16) evaluated, the result from ``conv_transpose_output_size``."""
    size = conv_transpose_output_size(H, k, stride=s, padding=p, output_padding=op)
    return (
        "Output size (5.16): s(H − 1) + d(k − 1) + 1 − 2p + output_padding = "
        f"{s}·({H} − 1) + 1·({k} − 1) + 1 − 2·{p} + {op} = {size}, "
        f"so Y is {size} × {size}."
    )


def refused_variant(stride: int, padding: int, output_padding: int) -> Data:
    """The package's refusal, for a setting its rule does not allow."""
    X, W = transposed_inputs()
    try:
        conv_transpose2d_forward(
            X, W, [0.0], stride=stride, padding=padding, output_padding=output_padding
        )
    except ValueError as error:
        message = str(error)
    else:  # pragma: no cover - the caller asks only for refused settings
        raise AssertionError("the package accepted the setting")
    line = (
        f"conv_transpose2d_forward refuses output_padding = {output_padding} "
        f"with stride {stride}: “{message}”."
    )
    why = (
        "With stride 1 (and dilation 1) a convolution maps each input height to "
        "a different output height, so the way back is never ambiguous: there "
        "is nothing for output_padding to choose."
    )
    return {
        "panels": [
            panel("X", "x: the input", grid(X[0, 0])),
            panel("W", "w: the kernel", grid(W[0, 0])),
        ],
        "frames": [
            {
                "values": {},
                "marks": {},
                "lines": [line, why],
                "say": f"This setting is refused: {message}. {why}",
                "picks": [],
            }
        ],
        "notes": [],
    }


def transposed_variant(stride: int, padding: int, output_padding: int) -> Data:
    X, W = transposed_inputs()
    H, k = TRANSPOSED_SIZE, 3
    s, p, op = stride, padding, output_padding
    try:
        conv_transpose_output_size(H, k, stride=s, padding=p, output_padding=op)
    except ValueError:
        return refused_variant(s, p, op)
    full = conv_transpose_output_size(H, k, stride=s)  # every row a stamp reaches
    # The stamp of x[i, j] is the window of output (i, j) of the convolution
    # this one transposes: stride s over a full × full grid.
    cells = window_cells((full, full), k, s, 0, 1)
    w = W.reshape(-1)
    frames = []
    prev = np.zeros((full + op, full + op))
    earlier: set[tuple[int, int]] = set()
    for q in range(H * H):
        i, j = divmod(q, H)
        Xq = X * first(q + 1, X.shape)
        # Ỹ: the stamps and the output_padding rows, before the crop; Y: the layer.
        Yt = conv_transpose2d_forward(Xq, W, [0.0], stride=s, output_padding=op)[0]
        Y = conv_transpose2d_forward(
            Xq, W, [0.0], stride=s, padding=p, output_padding=op
        )[0]
        Yt, Y = Yt[0, 0], Y[0, 0]
        OH = Y.shape[0]
        these = [(int(r), int(c)) for r, c in cells[q]]
        inside = [
            (r - p, c - p) for r, c in these if p <= r < p + OH and p <= c < p + OH
        ]
        rows, columns = spans(cells[q])
        value = fmt(X[0, 0, i, j])
        cropped = len(these) - len(inside)
        crop_text = (
            f"all {len(these)} of its cells are inside Y."
            if cropped == 0
            else f"{len(inside)} of its cells are inside Y; {cropped} fall on the "
            f"border of width p = {p} that the crop removes."
        )
        frames.append(
            {
                "values": {"Yt": grid(Yt), "Y": grid(Y)},
                "marks": {
                    "X": [[i, j, "read"]],
                    "Yt": [
                        [r, c, "again" if (r, c) in earlier else "write"]
                        for r, c in these
                    ],
                    "Y": [
                        [r, c, "again" if (r + p, c + p) in earlier else "write"]
                        for r, c in inside
                    ],
                },
                "lines": [
                    f"x[{i}, {j}] = {value} stamps {term(X[0, 0, i, j])}·w into Ỹ at "
                    f"rows s·i + d·u = {rows} and columns s·j + d·v = {columns}:",
                    *received(prev, Yt, these, term(X[0, 0, i, j]), w),
                    f"Y is Ỹ without its border: {crop_text}",
                ],
                "say": (
                    f"Step {q + 1}: input row {i}, column {j}, value {value}, adds "
                    f"{value} times the kernel to rows {rows} and columns {columns} "
                    "of Ỹ; overlaps with earlier stamps add up. "
                    f"{crop_text[0].upper()}{crop_text[1:]}"
                ),
                "picks": [["X", i, j]],
            }
        )
        prev = Yt
        earlier.update(these)
    frames[-1]["lines"].append(
        "Every input pixel has stamped the kernel: Y is conv_transpose2d_forward's "
        f"output, stride {s}, padding {p}, output_padding {op}, bias 0."
    )
    if op:
        added = (
            f"output_padding = {op} appends a row of zeros at the bottom of Ỹ and a "
            "column at the right (hatched), where no stamp reaches; the crop then "
            "keeps one more row and column, hatched in Y"
            + (
                ": they hold what the stamps put there."
                if p
                else ": with p = 0 they are those zeros."
            )
        )
    else:
        added = "output_padding = 0 adds no row or column."
    size = full + op
    return {
        "panels": [
            panel("X", "x: the input", grid(X[0, 0])),
            panel("W", "w: the kernel", grid(W[0, 0])),
            panel("Yt", "Ỹ: the stamps, before the crop", blank(size, size), p, op),
            panel("Y", "y: the output", blank(OH, OH), 0, op),
        ],
        "frames": frames,
        "notes": [transposed_size_note(H, k, s, p, op), added],
    }


def conv_transpose() -> Data:
    settings = [
        setting("stride", "Stride s", [2, 1]),
        setting("padding", "Padding p", [1, 0]),
        setting("output_padding", "output_padding", [1, 0]),
    ]
    variants = {
        key(stride=s, padding=p, output_padding=op): transposed_variant(s, p, op)
        for s, p, op in itertools.product(*(o["options"] for o in settings))
    }
    return {"settings": settings, "variants": variants}


# ---------------------------------------------------------------------------
# The registry: name → (builder, caption)

EXPLORABLES: dict[str, tuple[Callable[[], Data], str]] = {
    "conv-forward": (
        conv_forward,
        "Convolution forward, eq. (3.1): each step moves the window to the next "
        "output cell and writes out the products that sum to it.",
    ),
    "gradient-scatter": (
        gradient_scatter,
        "Where a gradient goes, eqs. (3.4) and (3.5): each output's gradient is "
        "sent back through its window to dX̃ and dW; overlaps add up.",
    ),
    "flipped-kernel": (
        flipped_kernel,
        "The flipped kernel, eq. (3.6): the same dX, gathered by sliding the "
        "rotated kernel over the dilated, padded dY.",
    ),
    "im2col": (
        im2col_col2im,
        "im2col and col2im, eqs. (3.7) and (3.8): a row of the matrix is a window "
        "of the input; col2im adds the rows back, cell by cell.",
    ),
    "maxpool": (
        maxpool,
        "Max-pooling, eqs. (3.9) and (3.10): the winner of each window, ties "
        "going to the first maximum, and the gradient routed to it.",
    ),
    "conv-transpose": (
        conv_transpose,
        "Transposed convolution, eqs. (5.14) and (5.16): each input pixel stamps "
        "the kernel, scaled by the pixel, into Ỹ; overlaps add up; the crop and "
        "output_padding give Y.",
    ),
}


def build(name: str) -> Data:
    """The complete data of explorable ``name``."""
    builder, caption = EXPLORABLES[name]
    return {"name": name, "caption": caption, **builder()}


def default_key(data: Data) -> str:
    """The variant shown first: the first option of every setting."""
    return ",".join(f"{s['name']}={s['options'][0]}" for s in data["settings"])


# ---------------------------------------------------------------------------
# The first frame as a static picture, for readers without JavaScript

CELL = 26
FILL = {"read": "#c5cae9", "write": "#ffccbc", "again": "#ffab91", "win": "#ff8a65"}
STROKE = {"read": "#3949ab", "write": "#e64a19", "again": "#bf360c", "win": "#bf360c"}
DASH = {"again": "6 3", "tie": "3 2"}


def first_frame_svg(data: Data) -> bytes:
    """The default variant's first frame, drawn as the browser would show it."""
    variant = data["variants"][default_key(data)]
    frame = variant["frames"][0]
    body: list[str] = []
    x, y, row_height, width = 10, 10, 0, 720
    for p in variant["panels"]:
        values = frame["values"].get(p["id"], p["values"])
        roles = {(r, c): role for r, c, role in frame["marks"].get(p["id"], [])}
        w = max(p["cols"] * CELL, 7 * len(p["label"]))
        h = p["rows"] * CELL + 22
        if x + w > width - 10 and x > 10:
            x, y, row_height = 10, y + row_height + 14, 0
        body.append(
            f'<text x="{x}" y="{y + 14}" font-size="13">{escape(p["label"])}</text>'
        )
        for r in range(p["rows"]):
            for c in range(p["cols"]):
                role = roles.get((r, c), "")
                pad = p["pad"]
                ring = not (pad <= r < p["rows"] - pad and pad <= c < p["cols"] - pad)
                dash = DASH.get(role, "3 3" if ring else "")
                body.append(
                    f'<rect x="{x + c * CELL}" y="{y + 22 + r * CELL}" '
                    f'width="{CELL}" height="{CELL}" '
                    f'fill="{FILL.get(role, "#ffffff")}" '
                    f'stroke="{STROKE.get(role, "#9e9e9e")}" '
                    f'stroke-width="{2 if role else 1}"'
                    + (f' stroke-dasharray="{dash}"' if dash else "")
                    + "/>"
                )
                added = p.get("added", 0)
                if r >= p["rows"] - added or c >= p["cols"] - added:
                    body.append(hatch(x + c * CELL, y + 22 + r * CELL))
                body.append(
                    f'<text x="{x + c * CELL + CELL / 2}" '
                    f'y="{y + 22 + r * CELL + 17}" text-anchor="middle" '
                    f'font-size="12">{escape(values[r][c])}</text>'
                )
        x += w + 24
        row_height = max(row_height, h)
    y += row_height + 24
    for text in frame["lines"] + variant["notes"]:
        for piece in textwrap.wrap(text, 100):
            body.append(f'<text x="10" y="{y}" font-size="12">{escape(piece)}</text>')
            y += 17
    height = y + 4
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" fill="#212121" '
        'font-family="Helvetica, Arial, sans-serif">'
        f"<title>{escape(alt_text(data))}</title>"
        f'<rect width="{width}" height="{height}" rx="6" fill="#fafafa" '
        'stroke="#bdbdbd"/>'
    )
    return (head + "".join(body) + "</svg>\n").encode()


def hatch(x: float, y: float) -> str:
    """Diagonal lines across a cell: a row or column added by output_padding."""
    step = CELL / 3
    lines = " ".join(
        f"M{x + a * step} {y}L{x} {y + a * step}"
        f"M{x + CELL} {y + a * step - step}L{x + a * step - step} {y + CELL}"
        for a in (1, 2, 3)
    )
    return f'<path d="{lines}" stroke="#9e9e9e" stroke-width="1"/>'


def alt_text(data: Data) -> str:
    """What the static first frame shows, in words."""
    frame = data["variants"][default_key(data)]["frames"][0]
    return f"First step of the figure (JavaScript shows all steps). {frame['say']}"
