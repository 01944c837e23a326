"""MkDocs hook: images served at the size they are shown, and sized in the HTML.

* **Notebook figures.** nbconvert inlines each figure as a base64 PNG, drawn
  at matplotlib's 100 dpi (a 10-inch figure is 990 pixels wide) and shown at
  most :data:`MAX_WIDTH` CSS pixels wide by the page. Each one becomes a file
  of its own (``assets/figures/<hash>.png``, named by its content), resampled
  to that width when it is wider (to a 256-colour palette), with ``width``
  and ``height`` set: the page's HTML no longer carries every figure in
  base64 (a third larger than the file), and the browser reserves each
  figure's space before it arrives.
* **Stylesheets where they are used.** mkdocstrings links its stylesheet
  from every page; it styles only the API reference's docstrings, so it is
  linked from the pages that have one (``class="doc doc-...``) and from no
  other, as a stylesheet in ``<head>`` blocks rendering until it arrives.
* **Every other image** of a page whose file is part of the site (the SVG
  figures drawn at build time) gets the ``width`` and ``height`` of its file,
  so the browser reserves its space before it arrives (no layout shift).
* **The closing blocks are marked** (``data-closing``): the last
  :data:`CLOSING` children of the article, and of a notebook its last
  :data:`CLOSING_CELLS` cells. ``docs/assets/site.css`` lays a long page out
  as the reader reaches it, but always these (see there why). Marked here,
  not picked in CSS with ``:nth-last-child``: that selector makes the
  browser restyle every earlier block each time the parser adds one (Part 5
  took up to three times longer to show, Lighthouse's TBT 100 -> 600 ms).
* **No blank lines.** The templates of the theme and of mkdocstrings indent
  and space their HTML for their authors (the API reference was a fifth
  whitespace). Outside the elements whose spaces are shown or are code
  (``<pre>``, ``<code>``, ``<textarea>``, ``<script>``, ``<style>``, inline
  ``<svg>``), every run of white space between tags or words that holds a
  line break becomes that one line break: HTML shows any such run as one
  space (or none, between blocks), so the page looks the same.
"""

from __future__ import annotations

import base64
import hashlib
import io
import posixpath
import re
from html.parser import HTMLParser
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import event_priority
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

#: The widest a notebook figure is shown, in CSS pixels (the output column).
MAX_WIDTH = 520
FIGURE_DIR = "assets/figures"

IMG = re.compile(r"<img\b[^>]*>")
DATA_PNG = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=\s]+)"')
SRC = re.compile(r'\bsrc="([^"]+)"')
SVG_SIZE = re.compile(
    rb'<svg\b[^>]*?\bwidth="([\d.]+)(pt|px)?"[^>]*?\bheight="([\d.]+)(pt|px)?"'
)
#: CSS pixels per unit of an SVG length (matplotlib writes points).
PIXELS_PER = {b"": 1.0, b"px": 1.0, b"pt": 4 / 3}
#: mkdocstrings' stylesheet, and the mark of a page that shows a docstring.
MKDOCSTRINGS_CSS = "assets/_mkdocstrings.css"
DOCSTRING = 'class="doc doc-'
#: Elements whose white space is kept as it is.
VERBATIM = re.compile(
    r"<(pre|code|textarea|script|style|svg)\b.*?</\1\s*>", re.S | re.I
)
TAG = re.compile(r"<[^>]*>")
#: How many of the article's last blocks, and of a notebook's last cells,
#: are always laid out (:func:`mark_closing_blocks`).
CLOSING, CLOSING_CELLS = 6, 2
#: Elements without an end tag.
VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta"}
    | {"source", "track", "wbr"}
)
#: The elements whose last children are marked, by class: how many.
CONTAINERS = {"md-content__inner": CLOSING, "jp-Notebook": CLOSING_CELLS}
BLANK = re.compile(r"[ \t\r\f]*\n\s*")
_figures: dict[str, bytes] = {}  # site path → PNG bytes, for on_post_build


def shown_png(png: bytes, max_width: int = MAX_WIDTH) -> tuple[bytes, int, int]:
    """``png`` no wider than ``max_width`` pixels, and its size (width, height)."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        width, height = image.size
        if width <= max_width:
            return png, width, height
        new_size = (max_width, max(1, round(height * max_width / width)))
        rgba = image.convert("RGBA")
        on_white = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba)
        smaller = on_white.convert("RGB").resize(new_size, Image.Resampling.LANCZOS)
        # Resampling blends colours: a 256-colour palette keeps the file
        # smaller than the original (plots have few colours and flat areas).
        palette = smaller.quantize(256, method=Image.Quantize.MEDIANCUT)
        out = io.BytesIO()
        palette.save(out, format="PNG", optimize=True)
        return out.getvalue(), new_size[0], new_size[1]


def svg_size(svg: bytes) -> tuple[int, int] | None:
    """The width and height on an SVG's root element, if it gives them."""
    match = SVG_SIZE.search(svg)
    if match is None:
        return None
    width = float(match[1]) * PIXELS_PER[match[2] or b""]
    height = float(match[3]) * PIXELS_PER[match[4] or b""]
    return round(width), round(height)


def _with_attributes(tag: str, **attributes: str | int) -> str:
    extra = "".join(
        f' {name}="{value}"'
        for name, value in attributes.items()
        if f" {name}=" not in tag
    )
    return tag[:-1].rstrip("/").rstrip() + extra + ">"


def _notebook_figure(tag: str, match: re.Match[str], page: Page) -> str:
    png, width, height = shown_png(base64.b64decode(match[1]))
    name = f"{FIGURE_DIR}/{hashlib.sha256(png).hexdigest()[:16]}.png"
    _figures[name] = png
    href = posixpath.relpath(name, posixpath.dirname(page.file.dest_uri))
    tag = tag[: match.start()] + f'src="{href}"' + tag[match.end() :]
    return _with_attributes(tag, width=width, height=height, decoding="async")


def _site_image(tag: str, page: Page, files: Files) -> str:
    src = SRC.search(tag)
    if src is None or ":" in src[1] or " width=" in tag:
        return tag
    folder = posixpath.dirname(page.file.dest_uri)
    target = files.get_file_from_path(posixpath.normpath(f"{folder}/{src[1]}"))
    if target is None or not target.src_uri.endswith(".svg"):
        return tag
    size = svg_size(target.content_bytes)
    if size is None:
        return tag
    return _with_attributes(tag, width=size[0], height=size[1])


@event_priority(-100)  # after mkdocstrings has added its stylesheet
def on_config(config: MkDocsConfig) -> MkDocsConfig:
    if MKDOCSTRINGS_CSS in config.extra_css:
        config.extra_css.remove(MKDOCSTRINGS_CSS)
    return config


def collapse_blank_lines(html_text: str) -> str:
    """Each white-space run with a line break as one line break, outside
    :data:`VERBATIM` elements and outside tags (attribute values stay)."""

    def collapse(text: str) -> str:
        pieces, last = [], 0
        for tag in TAG.finditer(text):
            pieces += [BLANK.sub("\n", text[last : tag.start()]), tag.group()]
            last = tag.end()
        pieces.append(BLANK.sub("\n", text[last:]))
        return "".join(pieces)

    pieces, last = [], 0
    for match in VERBATIM.finditer(html_text):
        pieces += [collapse(html_text[last : match.start()]), match.group()]
        last = match.end()
    pieces.append(collapse(html_text[last:]))
    return "".join(pieces)


class _Children(HTMLParser):
    """Where the start tag of each child element of the article (and of a
    notebook) ends: ``found`` holds, for each such container, how many of
    its last children to mark and the (line, column) after each child's
    start tag."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        # Each open element: its tag, and its children if it is a container.
        self.open: list[tuple[str, list[tuple[int, int]] | None]] = []
        self.found: list[tuple[int, list[tuple[int, int]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.open and (siblings := self.open[-1][1]) is not None:
            line, column = self.getpos()
            siblings.append((line, column + len(self.get_starttag_text() or "")))
        if tag in VOID:
            return
        classes = (dict(attrs).get("class") or "").split()
        count = next((n for c, n in CONTAINERS.items() if c in classes), 0)
        children: list[tuple[int, int]] | None = [] if count else None
        if children is not None:
            self.found.append((count, children))
        self.open.append((tag, children))

    def handle_endtag(self, tag: str) -> None:
        if any(name == tag for name, _ in self.open):
            while self.open.pop()[0] != tag:
                pass


def mark_closing_blocks(html_text: str) -> str:
    """Mark (``data-closing``, the start tag's last attribute) the last
    :data:`CLOSING` children of the article and the last
    :data:`CLOSING_CELLS` cells of a notebook."""
    parser = _Children()
    parser.feed(html_text)
    parser.close()
    lines = [0] + [m.end() for m in re.finditer("\n", html_text)]
    ends = sorted(
        lines[line - 1] + column
        for count, children in parser.found
        for line, column in children[-count:]
    )
    pieces, last = [], 0
    for end in ends:
        at = end - 2 if html_text[end - 2 : end] == "/>" else end - 1
        pieces += [html_text[last:at], " data-closing"]
        last = at
    pieces.append(html_text[last:])
    return "".join(pieces)


@event_priority(-200)  # last: after every hook that edits the page
def on_post_page(output: str, page: Page, config: MkDocsConfig) -> str:
    """Link mkdocstrings' stylesheet from the pages that show a docstring;
    mark the closing blocks; collapse the blank lines."""
    output = collapse_blank_lines(mark_closing_blocks(output))
    if DOCSTRING not in output or "mkdocstrings" not in config.plugins:
        return output
    href = posixpath.relpath(MKDOCSTRINGS_CSS, posixpath.dirname(page.file.dest_uri))
    head = output.index("<head>") + len("<head>")
    first_css = output.find('<link rel="stylesheet"', head)
    at = first_css if first_css != -1 else output.index("</head>")
    return output[:at] + f'<link rel="stylesheet" href="{href}">\n' + output[at:]


def on_pre_build(config: MkDocsConfig) -> None:
    _figures.clear()


def on_page_content(
    html_text: str, page: Page, config: MkDocsConfig, files: Files
) -> str:
    def rewrite(match: re.Match[str]) -> str:
        tag = match.group(0)
        data = DATA_PNG.search(tag)
        if data is not None:
            return _notebook_figure(tag, data, page)
        return _site_image(tag, page, files)

    return IMG.sub(rewrite, html_text)


def on_post_build(config: MkDocsConfig) -> None:
    for name, png in _figures.items():
        target = Path(config.site_dir) / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(png)
