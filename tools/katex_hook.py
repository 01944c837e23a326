"""MkDocs hook: render every equation with KaTeX at build time.

* Markdown pages: ``pymdownx.arithmatex`` (generic mode) wraps ``$…$`` in
  ``<span class="arithmatex">\\(…\\)</span>`` and ``$$…$$`` in
  ``<div class="arithmatex">\\[…\\]</div>``; each becomes KaTeX HTML+MathML.
* Notebook pages (mkdocs-jupyter) bypass arithmatex: their Markdown cells
  still hold raw ``$…$``. Those are rendered here too, nbconvert's MathJax
  loader and other scripts that fetch from a CDN are dropped (nbconvert's
  stylesheet is dropped before this hook by ``notebook_pages_hook.py``).
* One Node process (``katex_render.mjs``, the npm ``katex`` pinned in
  ``package.json``) serves the whole build, one request per page.
* The KaTeX CSS and fonts of that same installation are copied into the site
  (``assets/katex/``): the browser runs no math JavaScript and fetches
  nothing from another origin.
* Any LaTeX error, or TeX left unrendered in a page, fails the build with the
  page and the offending source.
* The KaTeX stylesheet is linked only from pages that have math.
* KaTeX's output loses bytes that change nothing (:func:`slim`): the
  ``xmlns`` of each ``<math>`` (the HTML parser puts it in the MathML
  namespace by itself), the leading zero of ``0.25em`` and the last ``;``
  of each ``style``. A Part 3 has 290 formulas and 4,500 styles.
* KaTeX's inline styles become classes (:class:`PageStyles`): a page repeats
  a few hundred distinct ``style`` values thousands of times (``height:2.7em``
  on every superscript's strut), so each value is written once, in a
  ``<style>`` in the page's head (``.s-0{height:2.7em!important}``), and each
  element carries its short class. ``!important`` gives the rule the
  precedence the inline style had over every rule of ``katex.min.css`` (whose
  one ``!important`` is on a property KaTeX never sets inline); the
  rendering is the same, pixel for pixel, in Chromium.
"""

from __future__ import annotations

import html
import json
import posixpath
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

WORKER = Path(__file__).with_name("katex_render.mjs")
CSS_URI = "assets/katex/katex.min.css"


class KatexRenderer:
    """A long-lived ``node katex_render.mjs`` process."""

    def __init__(self, cwd: Path) -> None:
        node = shutil.which("node")
        if node is None:
            raise PluginError("KaTeX: `node` is not on PATH (Node 20+ is required)")
        self.process = subprocess.Popen(
            [node, str(WORKER)],
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        hello = self._read()
        self.version: str = hello["version"]
        self.dist = Path(hello["dist"])

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            assert self.process.stderr is not None
            detail = self.process.stderr.read().strip()
            raise PluginError(
                "KaTeX: the renderer stopped. Is the npm package installed "
                f"(`npm ci`)?\n{detail}"
            )
        reply: dict[str, Any] = json.loads(line)
        return reply

    def render(
        self, items: list[tuple[str, bool]], macros: dict[str, str]
    ) -> list[dict[str, str]]:
        """Render ``(tex, display)`` pairs; each result has ``html`` or ``error``."""
        assert self.process.stdin is not None
        request = {"items": [{"tex": t, "display": d} for t, d in items]}
        request["macros"] = macros  # type: ignore[assignment]
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        results: list[dict[str, str]] = self._read()["results"]
        return results

    def close(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            self.process.wait(timeout=10)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


_renderer: KatexRenderer | None = None

# --- Markdown pages: arithmatex output -------------------------------------

ARITHMATEX = re.compile(
    r'<(?P<tag>span|div) class="arithmatex">(?P<tex>.*?)</(?P=tag)>', re.S
)

# --- Notebook pages ----------------------------------------------------------

NB_MARKDOWN_CELL = re.compile(r'<div class="[^"]*\bjp-RenderedMarkdown\b[^"]*"[^>]*>')
DIV_TAG = re.compile(r"<div\b|</div>")
CODE_OR_PRE = re.compile(r"(<pre\b.*?</pre>|<code\b.*?</code>)", re.S)
NB_DISPLAY_PARAGRAPH = re.compile(r"<p>\s*\$\$(.+?)\$\$\s*</p>", re.S)
PLACEHOLDER = re.compile("\x00(\\d+)\x00")
NB_DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.S)
NB_INLINE = re.compile(r"(?<![\\$])\$(?![\s$])([^$]+?)(?<![\s\\])\$(?!\d)", re.S)
SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.S | re.I)
# A script that loads MathJax, fetches from another origin, or has an empty
# src (which makes the browser re-request the page itself as a script).
FETCHES = re.compile(r"mathjax|https?://|\bsrc=\"\"", re.I)
MATHJAX_COMMENT = re.compile(r"<!--[^>]*mathjax[^>]*-->", re.I)

# --- Leftover TeX detection -------------------------------------------------

HIDDEN = re.compile(
    r"<(script|style|pre|code|annotation)\b.*?</\1>"
    r'|<div class="clipboard-copy-txt"[^>]*>.*?</div>'  # notebook code, for copying
    r"|<[^>]+>",
    re.S,
)
RAW_TEX = re.compile(r"\$\$|\\\(|\\\[|\\begin\{|(?<![\\\w])\$[^\s$][^$]*?\$", re.S)


MATHML_XMLNS = ' xmlns="http://www.w3.org/1998/Math/MathML"'
STYLE = re.compile(r' style="([^"]*)"')
LEADING_ZERO = re.compile(r"(?<![\w.])0\.(?=\d)")


def slim(katex_html: str) -> str:
    """KaTeX's HTML without bytes that change neither its rendering nor its
    MathML: ``<math>``'s ``xmlns``, ``0.`` before decimals in ``style``
    values (``.25em``), and each ``style``'s trailing ``;``."""

    def style(match: re.Match[str]) -> str:
        value = LEADING_ZERO.sub(".", match[1]).removesuffix(";")
        return f' style="{value}"'

    return STYLE.sub(style, katex_html.replace(MATHML_XMLNS, ""))


SPAN_STYLE = re.compile(r'<span\b([^>]*?) style="([^"]*)"([^>]*)>')
CLASS_ATTRIBUTE = re.compile(r' class="([^"]*)"')


class PageStyles:
    """The inline styles of one page's formulas, as classes ``s-0``, ``s-1``…

    numbered in order of first use, so that a build is reproducible."""

    def __init__(self) -> None:
        self.classes: dict[str, str] = {}

    def _class(self, style: str) -> str:
        if style not in self.classes:
            self.classes[style] = f"s-{len(self.classes):x}"
        return self.classes[style]

    def classify(self, katex_html: str) -> str:
        """``katex_html`` with each ``<span style>`` given a class instead."""

        def replace(match: re.Match[str]) -> str:
            before, style, after = match[1], match[2], match[3]
            name = self._class(style)
            attributes = before + after
            found = CLASS_ATTRIBUTE.search(attributes)
            if found is None:
                return f'<span class="{name}"{attributes}>'
            start, end = found.span()
            merged = f' class="{found[1]} {name}"'
            return f"<span{attributes[:start]}{merged}{attributes[end:]}>"

        return SPAN_STYLE.sub(replace, katex_html)

    def css(self) -> str:
        """One rule per style, each declaration ``!important``."""
        rules = []
        for style, name in self.classes.items():
            declarations = ";".join(
                f"{d.strip()}!important" for d in style.split(";") if d.strip()
            )
            rules.append(f".{name}{{{declarations}}}")
        return "".join(rules)


_styles: dict[str, PageStyles] = {}  # page → its formulas' styles


def _strip_delimiters(tex: str) -> tuple[str, bool | None]:
    if tex.startswith("\\(") and tex.endswith("\\)"):
        return tex[2:-2], False
    if tex.startswith("\\[") and tex.endswith("\\]"):
        return tex[2:-2], True
    return tex, None


def _render_all(
    page: Page, items: list[tuple[str, bool]], config: MkDocsConfig
) -> list[str]:
    if not items:
        return []
    assert _renderer is not None, "on_pre_build starts the renderer"
    macros: dict[str, str] = config.extra.get("katex_macros", {})
    out = []
    for (tex, _), result in zip(items, _renderer.render(items, macros), strict=True):
        if "error" in result:
            raise PluginError(
                f"KaTeX could not render math in '{page.file.src_uri}': "
                f"{result['error']}\n  source: {tex.strip()}"
            )
        styles = _styles.setdefault(page.file.src_uri, PageStyles())
        out.append(styles.classify(slim(result["html"])))
    return out


def _render_arithmatex(html_text: str, page: Page, config: MkDocsConfig) -> str:
    matches = list(ARITHMATEX.finditer(html_text))
    items = []
    for m in matches:
        tex, display = _strip_delimiters(html.unescape(m["tex"]).strip())
        items.append((tex, m["tag"] == "div" if display is None else display))
    rendered = iter(_render_all(page, items, config))
    return ARITHMATEX.sub(
        lambda m: f'<{m["tag"]} class="arithmatex">{next(rendered)}</{m["tag"]}>',
        html_text,
    )


def _markdown_cells(html_text: str) -> list[tuple[int, int]]:
    """(start, end) of the inner HTML of every rendered Markdown cell."""
    spans = []
    for m in NB_MARKDOWN_CELL.finditer(html_text):
        depth, pos = 1, m.end()
        for tag in DIV_TAG.finditer(html_text, pos):
            depth += 1 if tag.group() == "<div" else -1
            if depth == 0:
                spans.append((m.end(), tag.start()))
                break
    return spans


def _render_dollar_math(text: str, page: Page, config: MkDocsConfig) -> str:
    """Render ``$$…$$`` and ``$…$`` in HTML text that holds no code."""
    found: list[tuple[str, bool]] = []

    def stash(display: bool) -> Callable[[re.Match[str]], str]:
        def mark(m: re.Match[str]) -> str:
            found.append((html.unescape(m[1]).strip(), display))
            return f"\x00{len(found) - 1}\x00"

        return mark

    for pattern, display in (
        (NB_DISPLAY_PARAGRAPH, True),
        (NB_DISPLAY, True),
        (NB_INLINE, False),
    ):
        text = pattern.sub(stash(display), text)
    rendered = _render_all(page, found, config)

    def place(m: re.Match[str]) -> str:
        index = int(m[1])
        tag = "div" if found[index][1] else "span"
        return f'<{tag} class="arithmatex">{rendered[index]}</{tag}>'

    return PLACEHOLDER.sub(place, text)


def _render_notebook_cell(cell: str, page: Page, config: MkDocsConfig) -> str:
    parts = CODE_OR_PRE.split(cell)
    for i in range(0, len(parts), 2):  # even parts lie outside <pre>/<code>
        parts[i] = _render_dollar_math(parts[i], page, config)
    return "".join(parts)


def _render_notebook(html_text: str, page: Page, config: MkDocsConfig) -> str:
    html_text = SCRIPT.sub(
        lambda m: "" if FETCHES.search(m.group(0)) else m.group(0), html_text
    )
    html_text = MATHJAX_COMMENT.sub("", html_text)
    pieces, last = [], 0
    for start, end in _markdown_cells(html_text):
        pieces += [
            html_text[last:start],
            _render_notebook_cell(html_text[start:end], page, config),
        ]
        last = end
    pieces.append(html_text[last:])
    return "".join(pieces)


def leftover_tex(html_text: str) -> list[str]:
    """Fragments of raw TeX still visible in a rendered page's text."""
    visible = HIDDEN.sub(" ", html_text)
    return [m.group(0)[:60] for m in RAW_TEX.finditer(visible)]


# --- MkDocs events ------------------------------------------------------------


def on_pre_build(config: MkDocsConfig) -> None:
    global _renderer
    _close()
    _styles.clear()
    _renderer = KatexRenderer(Path(config.config_file_path).parent)


def on_files(files: Files, config: MkDocsConfig) -> Files:
    assert _renderer is not None
    dist = _renderer.dist
    files.append(
        File.generated(config, CSS_URI, abs_src_path=str(dist / "katex.min.css"))
    )
    for font in sorted((dist / "fonts").iterdir()):
        files.append(
            File.generated(
                config, f"assets/katex/fonts/{font.name}", abs_src_path=str(font)
            )
        )
    return files


def on_page_content(
    html_text: str, page: Page, config: MkDocsConfig, files: Files
) -> str:
    _styles[page.file.src_uri] = PageStyles()
    html_text = _render_arithmatex(html_text, page, config)
    if NB_MARKDOWN_CELL.search(html_text):
        html_text = _render_notebook(html_text, page, config)
    leftovers = leftover_tex(html_text)
    if leftovers:
        raise PluginError(
            f"Unrendered TeX in '{page.file.src_uri}' (is a $$ block missing a "
            f"blank line before it?): {leftovers[:3]}"
        )
    return html_text


def on_post_page(output: str, page: Page, config: MkDocsConfig) -> str:
    """Link the KaTeX stylesheet from the pages that have math, and only those;
    after it, the page's formulas' styles."""
    if 'class="katex"' not in output:
        return output
    href = posixpath.relpath(CSS_URI, posixpath.dirname(page.file.dest_uri))
    link = f'<link rel="stylesheet" href="{href}">'
    styles = _styles.get(page.file.src_uri)
    if styles is not None and styles.classes:
        link += f'\n<style id="katex-styles">{styles.css()}</style>'
    head_end = output.index("</head>")
    return output[:head_end] + link + "\n" + output[head_end:]


def on_post_build(config: MkDocsConfig) -> None:
    _close()


def on_build_error(error: Exception) -> None:
    _close()


def on_shutdown() -> None:
    _close()


def _close() -> None:
    global _renderer
    if _renderer is not None:
        _renderer.close()
        _renderer = None
