"""The site's favicon and its social preview image, drawn at build time.

The motif is the site's subject: a 3×3 kernel (deep orange, the theme's
accent) lying on an image of pixels (indigo, the theme's primary), as in a
convolution. The favicon is an SVG; the social preview (Open Graph's
``og:image``) is a 1200×630 PNG, the size link previews use, drawn with
matplotlib's Agg renderer and written without a timestamp so that two
builds write the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Callable

INDIGO = "#3f51b5"
INDIGO_DARK = "#283593"
ORANGE = "#ff7043"
WHITE = "#ffffff"

#: A 5×5 "image": 1 where the pixel is lit (a stroke of a digit, roughly a 7).
PIXELS = (
    (1, 1, 1, 1, 1),
    (0, 0, 0, 1, 0),
    (0, 0, 1, 0, 0),
    (0, 1, 0, 0, 0),
    (0, 1, 0, 0, 0),
)
#: Where the kernel lies: its top-left pixel (row, column).
KERNEL_AT = (1, 1)
SOCIAL_SIZE = (1200, 630)


def favicon_svg() -> bytes:
    """A 5×5 pixel grid with a 3×3 kernel over it, on a rounded indigo square."""
    cell, gap, margin = 10, 2, 5
    size = 2 * margin + 5 * cell + 4 * gap
    body = [
        f'<rect width="{size}" height="{size}" rx="9" fill="{INDIGO_DARK}"/>',
    ]
    for r, row in enumerate(PIXELS):
        for c, lit in enumerate(row):
            x = margin + c * (cell + gap)
            y = margin + r * (cell + gap)
            fill = WHITE if lit else INDIGO
            body.append(
                f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" rx="1.5" '
                f'fill="{fill}"/>'
            )
    kr, kc = KERNEL_AT
    x0 = margin + kc * (cell + gap) - gap / 2
    y0 = margin + kr * (cell + gap) - gap / 2
    side = 3 * (cell + gap)
    body.append(
        f'<rect x="{x0}" y="{y0}" width="{side}" height="{side}" rx="3" '
        f'fill="none" stroke="{ORANGE}" stroke-width="3"/>'
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}">'
        "<title>CNNs from Scratch</title>" + "".join(body) + "</svg>\n"
    ).encode()


def social_png(title: str = "CNNs from Scratch") -> bytes:
    """The link-preview card: the favicon's motif, the title, the promise."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyBboxPatch, Rectangle

    width, height = SOCIAL_SIZE
    dpi = 100
    fig = Figure(figsize=(width / dpi, height / dpi), dpi=dpi, facecolor=INDIGO_DARK)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.set_axis_off()
    cell, gap, left, top = 62, 10, 90, 135
    for r, row in enumerate(PIXELS):
        for c, lit in enumerate(row):
            ax.add_patch(
                FancyBboxPatch(
                    (left + c * (cell + gap), top + r * (cell + gap)),
                    cell,
                    cell,
                    boxstyle="round,pad=0,rounding_size=8",
                    facecolor=WHITE if lit else INDIGO,
                    edgecolor="none",
                )
            )
    kr, kc = KERNEL_AT
    ax.add_patch(
        Rectangle(
            (left + kc * (cell + gap) - gap / 2, top + kr * (cell + gap) - gap / 2),
            3 * (cell + gap),
            3 * (cell + gap),
            facecolor="none",
            edgecolor=ORANGE,
            linewidth=7,
        )
    )
    text_x = left + 5 * (cell + gap) + 70
    ax.text(text_x, 250, title, color=WHITE, fontsize=40, fontweight="bold")
    lines = (
        "How a convolutional network works,",
        "down to the last derivative.",
        "Every output on the page is the output",
        "of the code, checked by CI.",
    )
    for i, line in enumerate(lines):
        ax.text(text_x, 320 + 40 * i, line, color="#c5cae9", fontsize=21)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


FIGURES: dict[str, Callable[[], bytes]] = {
    "assets/favicon.svg": favicon_svg,
    "assets/social.png": social_png,
}
