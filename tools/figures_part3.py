"""Part 3 figures: what an output pixel reads, and where a gradient goes back.

Every highlighted cell is computed by the package (``cnnscratch.conv.im2col``
applied to an image of pixel indices), so the pictures cannot drift from the
code the page tests.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from svg import INPUT, LINE, OUTPUT, TEXT, label, svg

from cnnscratch.conv import im2col

CELL = 24


def _reads(
    size: tuple[int, int], kernel: int, stride: int, padding: int, dilation: int
) -> np.ndarray:
    """reads[i, j, a, b] = flat index, in the padded grid, that output (i, j)
    multiplies with kernel weight (a, b)."""
    Hp, Wp = size[0] + 2 * padding, size[1] + 2 * padding
    index = np.arange(Hp * Wp, dtype=float).reshape(1, 1, Hp, Wp)
    cols = im2col(index, kernel, stride=stride, dilation=dilation)
    OH = (Hp - dilation * (kernel - 1) - 1) // stride + 1
    OW = (Wp - dilation * (kernel - 1) - 1) // stride + 1
    return cols.reshape(OH, OW, kernel, kernel).astype(int)


def _grid(
    x0: float,
    y0: float,
    shape: tuple[int, int],
    fills: dict[tuple[int, int], str],
    texts: dict[tuple[int, int], str] | None = None,
    padding: int = 0,
) -> list[str]:
    """A grid of cells; the outer ``padding`` ring is drawn dashed (zeros)."""
    out = []
    rows, cols = shape
    for r in range(rows):
        for c in range(cols):
            x, y = x0 + c * CELL, y0 + r * CELL
            in_pad = not (
                padding <= r < rows - padding and padding <= c < cols - padding
            )
            fill = fills.get((r, c), "none")
            dash = ' stroke-dasharray="3 3"' if in_pad else ""
            out.append(
                f'<rect x="{x}" y="{y}" width="{CELL}" height="{CELL}" '
                f'fill="{fill}" fill-opacity="0.85" stroke="{LINE}"{dash}/>'
            )
            if texts and (r, c) in texts:
                out.append(
                    f'<text x="{x + CELL / 2}" y="{y + CELL / 2 + 4}" fill="#fff" '
                    f'font-size="10" text-anchor="middle">{texts[(r, c)]}</text>'
                )
    return out


def _link(x1: float, y1: float, x2: float, y2: float) -> str:
    return (
        f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="{TEXT}" '
        'stroke-width="1.5" stroke-dasharray="5 4"/>'
    )


def _read_panel(
    x0: float,
    size: tuple[int, int],
    kernel: int,
    stride: int,
    padding: int,
    dilation: int,
    pixel: tuple[int, int],
    caption: str,
) -> list[str]:
    """Left: the padded input, cells read by output ``pixel`` marked; right: output."""
    reads = _reads(size, kernel, stride, padding, dilation)
    OH, OW = reads.shape[:2]
    Wp = size[1] + 2 * padding
    grid_in = (size[0] + 2 * padding, Wp)
    fills, texts = {}, {}
    for a in range(kernel):
        for b in range(kernel):
            r, c = divmod(int(reads[pixel[0], pixel[1], a, b]), Wp)
            fills[(r, c)] = INPUT
            texts[(r, c)] = f"w{a}{b}"
    y0 = 40
    out_x = x0 + grid_in[1] * CELL + 50
    out_y = y0 + (grid_in[0] - OH) * CELL / 2
    body = _grid(x0, y0, grid_in, fills, texts, padding)
    body += _grid(out_x, out_y, (OH, OW), {pixel: OUTPUT}, {pixel: "y"})
    body.append(
        _link(
            x0 + grid_in[1] * CELL + 4,
            y0 + grid_in[0] * CELL / 2,
            out_x - 4,
            out_y + (pixel[0] + 0.5) * CELL,
        )
    )
    width = out_x + OW * CELL - x0
    body.append(label(x0 + width / 2, y0 + grid_in[0] * CELL + 30, caption))
    return body


def receptive_field_svg() -> bytes:
    """Which input pixels one output pixel reads: stride 2 + padding, then dilation."""
    body = _read_panel(20, (5, 5), 3, 2, 1, 1, (1, 2), "k = 3, s = 2, p = 1")
    body += _read_panel(400, (7, 7), 3, 1, 0, 2, (0, 1), "k = 3, d = 2")
    title = (
        "Which input pixels one output pixel reads. Left: a 3 by 3 kernel with "
        "stride 2 on a 5 by 5 input padded by one ring of zeros (dashed); output "
        "pixel (1, 2) reads a 3 by 3 block starting at padded row 2, column 4. "
        "Right: the same kernel with dilation 2 reads every other pixel of a 5 by 5 "
        "block."
    )
    return svg(720, 270, title, body)


def _flow_panel(
    x0: float, size: int, kernel: int, stride: int, pixel: tuple[int, int], caption: str
) -> list[str]:
    """Left: one input pixel; right: every output that read it and the weight used."""
    reads = _reads((size, size), kernel, stride, 0, 1)
    OH, OW = reads.shape[:2]
    target = pixel[0] * size + pixel[1]
    fills, texts = {}, {}
    for i in range(OH):
        for j in range(OW):
            hits = np.argwhere(reads[i, j] == target)
            if len(hits):
                a, b = hits[0]
                fills[(i, j)] = OUTPUT
                texts[(i, j)] = f"w{a}{b}"
    y0 = 40
    out_x = x0 + size * CELL + 50
    out_y = y0 + (size - OH) * CELL / 2
    body = _grid(x0, y0, (size, size), {pixel: INPUT}, {pixel: "x"})
    body += _grid(out_x, out_y, (OH, OW), fills, texts)
    body.append(
        _link(
            x0 + (pixel[1] + 1) * CELL + 2,
            y0 + (pixel[0] + 0.5) * CELL,
            out_x - 4,
            out_y + OH * CELL / 2,
        )
    )
    width = out_x + OW * CELL - x0
    body.append(label(x0 + width / 2, y0 + size * CELL + 30, caption))
    return body


def gradient_flow_svg() -> bytes:
    """The outputs whose gradients reach one input pixel, stride 1 and stride 2."""
    body = _flow_panel(20, 7, 3, 1, (3, 3), "k = 3, s = 1: nine outputs")
    body += _flow_panel(400, 7, 3, 2, (4, 4), "k = 3, s = 2: four outputs")
    title = (
        "Which output gradients flow back to one input pixel. Left, stride 1: input "
        "pixel (3, 3) is read by nine outputs, through the weights w22 down to w00, "
        "the kernel flipped. Right, stride 2: input pixel (4, 4) is read by only "
        "four outputs, through the weights w22, w20, w02 and w00."
    )
    return svg(720, 270, title, body)


FIGURES: dict[str, Callable[[], bytes]] = {
    "figures/part3/receptive-field.svg": receptive_field_svg,
    "figures/part3/gradient-flow.svg": gradient_flow_svg,
}
