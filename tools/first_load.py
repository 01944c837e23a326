"""What a page of the built site fetches on its first load, from its files.

Issue 17's budget: every page, on an empty cache, at most 1 MB uncompressed
and 350 KB compressed. Lighthouse measures it in Chromium (``make audit``);
this module counts it from the built site alone, so that ``make test``
checks it on every page in a second, without a browser:

* the page's HTML;
* what its HTML loads by itself: stylesheets, scripts, the icon, images;
* what its stylesheets load: images and fonts. A font is fetched only when
  some text is drawn with it, so KaTeX's fonts are counted from the
  formulas: the family, style and weight that ``katex.min.css`` gives each
  piece of visual text (:class:`KatexFonts`), as a browser resolves them;
* what the site's JavaScript fetches on load: Material's search worker on
  every page with the search form (not ``search/search_index.json``, which
  ``overrides/partials/search-on-demand.html`` holds back until the reader
  reaches for search). Not the frames (``data-src``) of the explorable
  figures either: ``explorables.js`` fetches a figure's frames once it
  comes within two screens of the viewport, which on this site's pages is
  never at load (tests/site/test_browser.py checks it on every page with
  one); ``explorables=True`` counts them all, an upper bound that holds for
  any page.

Left out, as the browser does not fetch them: links, what a ``<noscript>``
holds (the explorables' first frames, for readers without JavaScript), and
the other formats of each font (Chromium takes the first, WOFF2).

Compressed sizes are those of :mod:`tools.site_audit`'s server (gzip level
6, as GitHub Pages serves text); fonts and images go as they are.

``python -m tools.first_load SITE_DIR`` prints every page's weight.
"""

from __future__ import annotations

import gzip
import json
import posixpath
import re
import sys
from dataclasses import dataclass, field
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from tools.site_audit import pages

#: The files :mod:`tools.site_audit` compresses, by suffix.
COMPRESSED = {".html", ".css", ".js", ".json", ".svg", ".xml", ".txt"}
LINK = re.compile(r"<link\b[^>]*>")
REL = re.compile(r'\brel="([^"]*)"')
HREF = re.compile(r'\bhref="([^"]*)"')
SCRIPT_SRC = re.compile(r'<script\b[^>]*\bsrc="([^"]*)"')
NOSCRIPT = re.compile(r"<noscript\b.*?</noscript>", re.S)
EXPLORABLE_SRC = re.compile(
    r'<figure\b[^>]*\bclass="explorable"[^>]*\bdata-src="([^"]*)"'
)
IMG_SRC = re.compile(r'<img\b[^>]*\bsrc="([^"]*)"')
CONFIG = re.compile(
    r'<script id="__config" type="application/json">(.*?)</script>', re.S
)
SEARCH_FORM = '<form class="md-search__form" name="search">'
CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)")
FONT_FACE = re.compile(r"@font-face\{([^}]*)\}")
RULE = re.compile(r"([^{}@]+)\{([^{}]*)\}")
DECLARATION = re.compile(r"([\w-]+)\s*:\s*([^;]+)")
COMPOUND = re.compile(r"^(?P<type>[a-z]+)?(?P<classes>(?:\.[\w-]+)*)$")
#: ``font: [style weight …] size[/line-height] family, …``
FONT_SHORTHAND = re.compile(
    r"(?P<keywords>(?:[a-z]+\s+)*)[\d.]+(?:em|rem|px|pt|%)(?:/\S+)?\s+(?P<family>.+)"
)
FONT_FILE = re.compile(r"url\(([^)]+\.woff2)\)")
KATEX_CSS = "katex.min.css"


@dataclass(frozen=True)
class Face:
    family: str
    style: str = "normal"
    weight: int = 400


def _weight(value: str) -> int:
    value = value.strip()
    return (
        700 if value in ("bold", "bolder") else int(value) if value.isdigit() else 400
    )


def _family(value: str) -> str:
    return value.split(",")[0].strip().strip("\"'")


@dataclass
class _Rule:
    compounds: list[tuple[str | None, frozenset[str]]]
    specificity: tuple[int, int]
    order: int
    family: str | None = None
    style: str | None = None
    weight: int | None = None


@dataclass
class KatexFonts:
    """The fonts ``katex.min.css`` makes a browser fetch for a page's math."""

    faces: dict[Face, str] = field(default_factory=dict)  # face → WOFF2 path
    rules: list[_Rule] = field(default_factory=list)

    @classmethod
    def from_css(cls, css: str) -> KatexFonts:
        fonts = cls()
        for body in FONT_FACE.findall(css):
            declarations = dict(DECLARATION.findall(body))
            woff2 = FONT_FILE.search(body)
            if woff2 is None:
                continue
            face = Face(
                _family(declarations["font-family"]),
                declarations.get("font-style", "normal").strip(),
                _weight(declarations.get("font-weight", "400")),
            )
            fonts.faces[face] = woff2[1]
        for order, (selectors, body) in enumerate(RULE.findall(FONT_FACE.sub("", css))):
            declarations = dict(DECLARATION.findall(body))
            rule: dict[str, str | int | None] = {}
            if "font" in declarations:  # the shorthand resets style and weight
                shorthand = FONT_SHORTHAND.match(declarations["font"].strip())
                if shorthand is not None:
                    keywords = shorthand["keywords"].split()
                    rule = {
                        "family": _family(shorthand["family"]),
                        "style": "italic" if "italic" in keywords else "normal",
                        "weight": 700 if "bold" in keywords else 400,
                    }
            if "font-family" in declarations:
                rule["family"] = _family(declarations["font-family"])
            if "font-style" in declarations:
                rule["style"] = declarations["font-style"].strip()
            if "font-weight" in declarations:
                rule["weight"] = _weight(declarations["font-weight"])
            if not rule:
                continue
            for selector in selectors.split(","):
                compounds = []
                for part in selector.replace(">", " ").split():
                    match = COMPOUND.match(part)
                    if match is None:  # pseudo-classes, attributes: not in KaTeX's text
                        compounds = []
                        break
                    classes = frozenset(filter(None, match["classes"].split(".")))
                    compounds.append((match["type"], classes))
                if compounds:
                    specificity = (
                        sum(len(c) for _, c in compounds),
                        sum(t is not None for t, _ in compounds),
                    )
                    fonts.rules.append(_Rule(compounds, specificity, order, **rule))  # type: ignore[arg-type]
        fonts.rules.sort(key=lambda r: (r.specificity, r.order))
        return fonts

    def file(self, face: Face) -> str | None:
        """The WOFF2 a browser fetches for ``face`` (the closest of its family)."""
        if face in self.faces:
            return self.faces[face]
        family = [f for f in self.faces if f.family == face.family]
        same_style = [f for f in family if f.style == face.style] or family
        if not same_style:
            return None
        best = min(same_style, key=lambda f: abs(f.weight - face.weight))
        return self.faces[best]

    def used(self, html_text: str) -> set[str]:
        """The WOFF2 files (relative to the CSS) the page's formulas draw with."""
        parser = _FaceParser(self)
        parser.feed(html_text)
        parser.close()
        return {file for face in parser.faces if (file := self.file(face))}


class _FaceParser(HTMLParser):
    """Walks a page, resolving the font of every piece of KaTeX's visual text."""

    VOID = frozenset(
        {
            "area",
            "base",
            "br",
            "col",
            "embed",
            "hr",
            "img",
            "input",
            "link",
            "meta",
            "source",
            "track",
            "wbr",
        }
    )

    def __init__(self, fonts: KatexFonts) -> None:
        super().__init__(convert_charrefs=True)
        self.fonts = fonts
        self.stack: list[tuple[str, frozenset[str], Face | None]] = []
        self.faces: set[Face] = set()

    def _matches(self, rule: _Rule, tag: str, classes: frozenset[str]) -> bool:
        *ancestors_wanted, (own_type, own_classes) = rule.compounds
        if own_type not in (None, tag) or not own_classes <= classes:
            return False
        ancestors = iter(reversed(self.stack))
        return all(
            any(
                t in (None, a_tag) and c <= a_classes
                for a_tag, a_classes, _ in ancestors
            )
            for t, c in reversed(ancestors_wanted)
        )

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = frozenset((dict(attrs).get("class") or "").split())
        face = self.stack[-1][2] if self.stack else None
        if "katex-mathml" in classes or tag in ("svg", "math"):
            face = None  # MathML is drawn with the browser's math font
        elif "katex" in classes or face is not None:
            for rule in self.fonts.rules:
                if self._matches(rule, tag, classes):
                    face = Face(
                        rule.family or (face.family if face else "serif"),
                        rule.style or (face.style if face else "normal"),
                        rule.weight or (face.weight if face else 400),
                    )
        if tag not in self.VOID:
            self.stack.append((tag, classes, face))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, -1, -1):
            if self.stack[depth][0] == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1][2] is not None and data.strip():
            self.faces.add(self.stack[-1][2])


@cache
def _katex_fonts(css_file: Path) -> KatexFonts:
    return KatexFonts.from_css(css_file.read_text(encoding="utf-8"))


def _local(site: Path, base: str, url: str) -> str | None:
    """``url`` (relative to the site path ``base``) as a site path, if local."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or url.startswith("data:") or not parts.path:
        return None
    path = posixpath.normpath(
        posixpath.join(posixpath.dirname(base), unquote(parts.path))
    )
    return path if (site / path).is_file() else None


def page_file(path: str) -> str:
    """A page's URL path as the site path of its HTML (``/a/`` → ``a/index.html``)."""
    path = path.lstrip("/")
    return path + "index.html" if path == "" or path.endswith("/") else path


def first_load(site: Path, path: str, explorables: bool = False) -> set[str]:
    """The site paths of every file the page at URL ``path`` loads at once
    (with ``explorables``, the frames of its explorable figures too)."""
    html_path = page_file(path)
    html_text = NOSCRIPT.sub("", (site / html_path).read_text(encoding="utf-8"))
    found = {html_path}
    stylesheets = []
    for link in LINK.findall(html_text):
        rel, href = REL.search(link), HREF.search(link)
        if rel is None or href is None:
            continue
        kinds = rel[1].split()
        if "stylesheet" in kinds or "icon" in kinds or "preload" in kinds:
            local = _local(site, html_path, href[1])
            if local:
                found.add(local)
                if "stylesheet" in kinds:
                    stylesheets.append(local)
    patterns = [SCRIPT_SRC, IMG_SRC] + ([EXPLORABLE_SRC] if explorables else [])
    for pattern in patterns:
        found.update(
            filter(
                None, (_local(site, html_path, u) for u in pattern.findall(html_text))
            )
        )
    for css in stylesheets:
        text = (site / css).read_text(encoding="utf-8")
        if css.endswith(KATEX_CSS):
            fonts = _katex_fonts(site / css).used(html_text)
            found.update(filter(None, (_local(site, css, f) for f in fonts)))
            continue
        for url in CSS_URL.findall(FONT_FACE.sub("", text)):
            local = _local(site, css, url)
            if local:
                found.add(local)
    if SEARCH_FORM in html_text:
        config = CONFIG.search(html_text)
        if config is not None:
            worker = json.loads(config[1]).get("search")
            if worker:
                found.update(filter(None, [_local(site, html_path, worker)]))
    return found


@cache
def _sizes(file: Path) -> tuple[int, int]:
    body = file.read_bytes()
    if file.suffix in COMPRESSED:
        return len(body), len(gzip.compress(body, compresslevel=6, mtime=0))
    return len(body), len(body)


def weight(site: Path, files: set[str]) -> tuple[int, int]:
    """Bytes of ``files``: (uncompressed, as served compressed)."""
    sizes = [_sizes(site / f) for f in files]
    return sum(s[0] for s in sizes), sum(s[1] for s in sizes)


def main(argv: list[str]) -> None:
    site = Path(argv[0] if argv else "site")
    for path in pages(site):
        files = first_load(site, path)
        raw, served = weight(site, files)
        html_raw, html_served = weight(site, {page_file(path)})
        print(
            f"{path:34} {raw / 1000:7.0f} KB {served / 1000:5.0f} KB gzip"
            f"  (HTML {html_raw / 1000:4.0f} KB {html_served / 1000:3.0f} KB gzip,"
            f" {len(files)} files)"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
