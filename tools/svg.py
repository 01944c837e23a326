"""Shared drawing helpers for the figure modules (figures_*.py).

Colours are mid-tones that read on both the light and the dark theme.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

INPUT = "#5c6bc0"  # indigo, the theme's primary
OUTPUT = "#ff7043"  # deep orange, the theme's accent
NEUTRAL = "#26a69a"
LINE = "#9e9e9e"
TEXT = "#9e9e9e"


def svg(width: int, height: int, title: str, body: list[str]) -> bytes:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" '
        'font-family="Helvetica, Arial, sans-serif" font-size="16">'
        f"<title>{escape(title)}</title>"
    )
    return (head + "".join(body) + "</svg>\n").encode()


def node(x: float, y: float, r: float, fill: str, label: str, sub: str = "") -> str:
    sub_text = f'<tspan font-size="11" dy="4">{escape(sub)}</tspan>' if sub else ""
    return (
        f'<circle cx="{x}" cy="{y}" r="{r}" fill="{fill}"/>'
        f'<text x="{x}" y="{y + 5}" fill="#fff" text-anchor="middle" '
        f'font-style="italic">{escape(label)}{sub_text}</text>'
    )


def arrow(x1: float, y1: float, x2: float, y2: float, colour: str = LINE) -> str:
    return (
        f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="{colour}" '
        'stroke-width="2" marker-end="url(#head)"/>'
    )


def label(x: float, y: float, text: str, anchor: str = "middle") -> str:
    return (
        f'<text x="{x}" y="{y}" fill="{TEXT}" text-anchor="{anchor}" '
        f'font-style="italic">{text}</text>'
    )


ARROW_HEAD = (
    '<defs><marker id="head" viewBox="0 0 10 10" refX="10" refY="5" '
    'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
    f'<path d="M0,0 L10,5 L0,10 z" fill="{LINE}"/></marker></defs>'
)
