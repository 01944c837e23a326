"""Part 5 figures: the checkerboard of a transposed convolution.

Every cell's value is computed by the package
(``cnnscratch.transposed.conv_transpose2d_forward`` on an input of ones), so
the picture cannot drift from the code the page tests.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from svg import LINE, label, svg

from cnnscratch.transposed import conv_transpose2d_forward

CELL = 22


def _overlaps(kernel: int, stride: int, size: int = 4) -> np.ndarray:
    """Output of a transposed convolution of a size x size input of ones."""
    Y, _ = conv_transpose2d_forward(
        np.ones((1, 1, size, size)),
        np.ones((1, 1, kernel, kernel)),
        [0.0],
        stride=stride,
    )
    return Y[0, 0]


def _shade(fraction: float) -> tuple[str, str]:
    """An opaque fill from light to deep orange, and a text colour that reads on it.

    Opaque, so the contrast is the same on the light and the dark theme.
    """
    light, deep = (255, 224, 212), (216, 67, 21)
    rgb = [round(a + (b - a) * fraction) for a, b in zip(light, deep, strict=True)]
    text = "#000" if fraction < 0.5 else "#fff"
    return "#{:02x}{:02x}{:02x}".format(*rgb), text


def _panel(x0: float, values: np.ndarray, caption: str) -> list[str]:
    body = []
    low, top = values.min(), values.max()
    y0 = 30
    for r, row in enumerate(values):
        for c, value in enumerate(row):
            x, y = x0 + c * CELL, y0 + r * CELL
            fill, ink = _shade((value - low) / (top - low) if top > low else 1.0)
            body.append(
                f'<rect x="{x}" y="{y}" width="{CELL}" height="{CELL}" '
                f'fill="{fill}" stroke="{LINE}"/>'
                f'<text x="{x + CELL / 2}" y="{y + CELL / 2 + 4}" fill="{ink}" '
                f'font-size="11" text-anchor="middle">{value:g}</text>'
            )
    width = values.shape[1] * CELL
    body.append(label(x0 + width / 2, y0 + values.shape[0] * CELL + 26, caption))
    return body


def checkerboard_svg() -> bytes:
    """Stamp counts of kernel 3 and kernel 4 transposed convolutions, stride 2."""
    odd, even = _overlaps(3, 2), _overlaps(4, 2)
    body = _panel(50, odd, "k = 3, s = 2: uneven overlap")
    body += _panel(50 + odd.shape[1] * CELL + 90, even, "k = 4, s = 2: even inside")
    width = 50 + (odd.shape[1] + even.shape[1]) * CELL + 90 + 40
    height = 30 + max(odd.shape[0], even.shape[0]) * CELL + 50
    title = (
        "Transposed convolution, stride 2, of a 4 by 4 input of ones. Left, "
        f"kernel 3: a {odd.shape[0]} by {odd.shape[1]} output alternating "
        f"{', '.join(f'{v:g}' for v in np.unique(odd))} in a checkerboard. "
        f"Right, kernel 4: a {even.shape[0]} by {even.shape[1]} output, "
        f"{even[even.shape[0] // 2, even.shape[1] // 2]:g} everywhere inside."
    )
    return svg(width, height, title, body)


FIGURES: dict[str, Callable[[], bytes]] = {
    "figures/part5/checkerboard.svg": checkerboard_svg,
}
