"""Issue 17's page weights, counted from the built site (tools/first_load.py).

The budget tests walk every page of the real build: its first load on an
empty cache at most 1 MB, and 350 KB as served compressed. ``make test``
runs them on every build; ``make audit`` checks the same budgets with
Lighthouse's own count, in Chromium.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest

from conftest import ROOT, make_site, mkdocs_build
from tools import first_load, page_weight_hook, site_audit

pytestmark = pytest.mark.site

MAX_BYTES = 1_000_000
MAX_SERVED = 350_000


def weights(site: Path) -> dict[str, tuple[int, int]]:
    return {
        path: first_load.weight(site, first_load.first_load(site, path))
        for path in site_audit.pages(site)
    }


def test_every_first_load_is_within_one_megabyte(built_site: Path) -> None:
    heavy = {p: w[0] for p, w in weights(built_site).items() if w[0] > MAX_BYTES}
    assert heavy == {}


def test_every_first_load_is_within_350_kb_compressed(built_site: Path) -> None:
    heavy = {p: w[1] for p, w in weights(built_site).items() if w[1] > MAX_SERVED}
    assert heavy == {}


def test_the_first_load_of_a_built_page_holds_what_every_page_fetches(
    built_site: Path,
) -> None:
    files = first_load.first_load(built_site, "/part3-convolution/")
    assert "part3-convolution/index.html" in files
    # Held back until the reader reaches for search (test_browser.py).
    assert "search/search_index.json" not in files
    assert any(
        re.fullmatch(r"assets/javascripts/bundle\.\w+\.min\.js", f) for f in files
    )
    assert any(
        re.fullmatch(r"assets/javascripts/workers/search\.\w+\.min\.js", f)
        for f in files
    )
    assert "assets/katex/katex.min.css" in files
    assert "assets/katex/fonts/KaTeX_Math-Italic.woff2" in files
    # An explorable's frames come when the reader scrolls near it.
    assert "explorables/conv-forward.json" not in files
    scrolled = first_load.first_load(built_site, "/part3-convolution/", True)
    assert scrolled - files == {
        "explorables/conv-forward.json",
        "explorables/gradient-scatter.json",
        "explorables/flipped-kernel.json",
    }
    # The page without math loads neither KaTeX's stylesheet nor its fonts.
    api = first_load.first_load(built_site, "/api/")
    assert not any("katex" in f for f in api)
    assert all((built_site / f).is_file() for f in files | api)


def test_fonts_are_the_faces_the_formulas_draw_with(tmp_path: Path) -> None:
    config = make_site(
        tmp_path,
        {
            "maths.md": "Inline $x$, bold $\\mathbf{b}$, sets $\\R^n$.\n",
            "plain.md": "Only $1$.\n",
            "none.md": "No formula here.\n",
        },
    )
    text = config.read_text().replace(
        "site_name: fixture",
        'site_name: fixture\nextra:\n  katex_macros:\n    "\\\\R": "\\\\mathbb{R}"',
    )
    config.write_text(text)
    result = mkdocs_build(config, tmp_path / "site")
    assert result.returncode == 0, result.stderr
    site = tmp_path / "site"

    def fonts(path: str) -> set[str]:
        return {
            f.rsplit("/", 1)[1]
            for f in first_load.first_load(site, path)
            if f.endswith(".woff2")
        }

    # x is math italic, \mathbf upright bold, \mathbb the AMS font, and the
    # superscript n math italic again; the digit 1 is KaTeX_Main's.
    assert fonts("/maths/") == {
        "KaTeX_Math-Italic.woff2",
        "KaTeX_Main-Bold.woff2",
        "KaTeX_AMS-Regular.woff2",
    }
    assert fonts("/plain/") == {"KaTeX_Main-Regular.woff2"}
    assert fonts("/none/") == set()


def test_sizes_are_the_files_and_their_gzip(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text("<p>" + "weight " * 500 + "</p>")
    (tmp_path / "f.woff2").write_bytes(bytes(range(256)) * 4)
    raw, served = first_load.weight(tmp_path, {"a.html", "f.woff2"})
    html = (tmp_path / "a.html").read_bytes()
    assert raw == len(html) + 1024
    assert served == len(gzip.compress(html, compresslevel=6, mtime=0)) + 1024
    assert served < raw


def test_katex_css_of_the_pinned_package_parses_into_every_face() -> None:
    css = (ROOT / "node_modules/katex/dist/katex.min.css").read_text()
    fonts = first_load.KatexFonts.from_css(css)
    assert len(fonts.faces) == css.count("@font-face")
    main = first_load.Face("KaTeX_Main")
    assert fonts.file(main) == "fonts/KaTeX_Main-Regular.woff2"
    # No upright KaTeX_Math: the browser takes the closest face, the italic.
    assert fonts.file(first_load.Face("KaTeX_Math")) == "fonts/KaTeX_Math-Italic.woff2"


def test_the_closing_blocks_of_an_article_and_a_notebook_are_marked() -> None:
    blocks = "".join(f"<p>{i}<br>text</p>\n" for i in range(9))
    cells = "".join(f'<div class="jp-Cell"><pre>{i}</pre></div>' for i in range(5))
    page = (
        '<div class="md-sidebar"><p>nav</p></div>'
        '<article class="md-content__inner md-typeset">\n<h1>Title</h1>\n'
        f"{blocks}"
        f'<div class="jupyter-wrapper"><div class="jp-Notebook">{cells}</div></div>'
        '<img src="a.svg" alt="a"></article><footer><p>footer</p></footer>'
    )
    marked = page_weight_hook.mark_closing_blocks(page)
    closing = re.findall(r"<(\w+)[^>]* data-closing>([^<]*)", marked)
    # The article's last six children (a notebook and an image among them)
    # and the notebook's last two cells; nothing outside the two.
    assert closing == [
        ("p", "5"),
        ("p", "6"),
        ("p", "7"),
        ("p", "8"),
        ("div", ""),
        ("div", ""),
        ("div", ""),
        ("img", ""),
    ]
    assert re.findall(r'<div class="jp-Cell" data-closing><pre>(\d)', marked) == [
        "3",
        "4",
    ]
    assert marked.replace(" data-closing", "") == page
