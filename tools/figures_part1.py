"""Part 1 figures: the perceptron, the dense layer, gradient descent."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

from svg import ARROW_HEAD, INPUT, LINE, NEUTRAL, OUTPUT, TEXT, arrow, label, node, svg


def perceptron_svg() -> bytes:
    """One input x, weight w, bias b: z = w x + b, then a = σ(z)."""
    body = [
        ARROW_HEAD,
        node(60, 100, 26, INPUT, "x"),
        node(60, 30, 18, NEUTRAL, "b"),
        node(250, 100, 34, NEUTRAL, "z"),
        node(430, 100, 26, OUTPUT, "a"),
        arrow(86, 100, 216, 100),
        label(150, 90, "× w"),
        arrow(76, 38, 222, 84),
        label(150, 45, "+ b"),
        arrow(284, 100, 404, 100),
        label(344, 90, "σ(·)"),
        label(250, 160, "z = w x + b"),
        label(430, 160, "a = σ(z)"),
    ]
    return svg(480, 180, "A single perceptron", body)


def dense_layer_svg() -> bytes:
    """Four inputs fully connected to four outputs; one edge labelled W[3, 2]."""
    ys = [50, 130, 210, 290]
    body = [ARROW_HEAD]
    for i, y_out in enumerate(ys, start=1):
        for j, y_in in enumerate(ys, start=1):
            highlight = (i, j) == (3, 2)
            colour = OUTPUT if highlight else LINE
            width = 3 if highlight else 1.2
            body.append(
                f'<line x1="106" y1="{y_in}" x2="354" y2="{y_out}" '
                f'stroke="{colour}" stroke-width="{width}" opacity="0.9"/>'
            )
    for k, y in enumerate(ys, start=1):
        body.append(node(80, y, 26, INPUT, "x", str(k)))
        body.append(node(380, y, 26, NEUTRAL, "z", str(k)))
        body.append(arrow(406, y, 476, y))
        body.append(node(502, y, 26, OUTPUT, "a", str(k)))
    body += [
        label(230, 196, "w₃₂", "middle"),
        label(80, 335, "input x ∈ ℝ⁴"),
        label(380, 335, "z = W x + b"),
        label(502, 335, "a = σ(z)"),
    ]
    return svg(560, 350, "A dense layer with four inputs and four outputs", body)


#: The SVG metadata matplotlib writes by default (none is shown).
SVG_METADATA = ["Creator", "Date", "Format", "Type"]
#: A number with more than two decimals: a hundredth of a point is well
#: below a pixel of the drawing (matplotlib writes six).
LONG_DECIMAL = re.compile(rb"(?<![\w#.])(-?\d+\.\d{3,})")


def round_svg_numbers(svg_bytes: bytes) -> bytes:
    """Every coordinate and length in a tag to two decimals (the text the
    figure shows keeps its digits), and no indentation."""

    def round_tag(tag: re.Match[bytes]) -> bytes:
        return LONG_DECIMAL.sub(lambda m: b"%.2f" % float(m[1]), tag[0])

    return re.sub(rb"\n *", b"\n", re.sub(rb"<[^>]*>", round_tag, svg_bytes))


def descent_svg() -> bytes:
    """F(x_k) against k for learning rates below, near and above the limit."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from cnnscratch.linear_system import gradient_descent, stability_limit

    A = np.array([[1, 3, 2, -1], [5, 2, 1, -2], [0, 1, 2, 4], [1, 1, -1, -3]])
    b = np.array([9, 4, 24, -12])
    x0 = np.random.default_rng(0).random(4)
    limit = stability_limit(A)
    # Text as text in the site's sans-serif (the other figures' font), not
    # as glyph outlines: a third of the file.
    plt.rcParams.update(
        {
            "svg.hashsalt": "cnnscratch",
            "svg.fonttype": "none",
            "font.family": "sans-serif",
            "font.sans-serif": ["Helvetica", "Arial", "DejaVu Sans"],
        }
    )
    fig, ax = plt.subplots(figsize=(7, 3.6))
    runs = [(0.005, INPUT), (0.01, NEUTRAL), (0.02, "#7e57c2"), (0.021, OUTPUT)]
    for rate, colour in runs:
        result = gradient_descent(A, b, x0, rate, max_steps=4000)
        ax.semilogy(result.objectives, color=colour, lw=2, label=f"γ = {rate}")
    ax.set_xlabel("step k")
    ax.set_ylabel("F(x_k) = ‖A x_k − b‖²")
    ax.set_title(f"stability limit 2 / λ_max(2AᵀA) = {limit:.4f}")
    ax.set_ylim(1e-24, 1e14)
    for spine in ax.spines.values():
        spine.set_color(TEXT)
    ax.tick_params(colors=TEXT)
    for text in (ax.xaxis.label, ax.yaxis.label, ax.title):
        text.set_color(TEXT)
    ax.legend(frameon=False, labelcolor=TEXT, ncols=2)
    fig.patch.set_alpha(0)
    ax.patch.set_alpha(0)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="svg", metadata=dict.fromkeys(SVG_METADATA))
    plt.close(fig)
    return round_svg_numbers(out.getvalue())


FIGURES: dict[str, Callable[[], bytes]] = {
    "figures/part1/perceptron.svg": perceptron_svg,
    "figures/part1/dense-layer.svg": dense_layer_svg,
    "figures/part1/descent.svg": descent_svg,
}
