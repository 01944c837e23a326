"""Every page of the built site, opened in headless Chromium.

One visit per page records what the page did (requests, console errors,
rendered math, leftover TeX, links, anchors, images); each test then asserts
one property over all pages, so a failure lists every offending page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urlparse

import pytest

pytestmark = pytest.mark.site

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
ARTIFACTS = ROOT / "test-artifacts"
MATH_IN_SOURCE = re.compile(r"\$[^$\s][^$]*\$|\$\$")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)

COLLECT = """() => {
  const article = document.querySelector("article");
  const text = article.cloneNode(true);
  text.querySelectorAll(
    "pre, code, script, style, .katex, .clipboard-copy-txt"
  ).forEach((e) => e.remove());
  return {
    katex: article.querySelectorAll(".katex").length,
    katexErrors: document.querySelectorAll(".katex-error").length,
    text: text.textContent,
    links: Array.from(document.querySelectorAll("a[href]"), (a) => a.href),
    ids: Array.from(document.querySelectorAll("[id]"), (e) => e.id),
    outputs: Array.from(
      article.querySelectorAll(".jp-OutputArea-output pre"), (e) => e.textContent
    ),
    images: Array.from(article.querySelectorAll("img"), (img) => ({
      src: img.src, alt: img.alt, ok: img.complete && img.naturalWidth > 0,
    })),
  };
}"""


def source_pages() -> dict[str, Path]:
    """Site path ('' for home, 'part1-matrix-calculus/', ...) → source file."""
    pages = {}
    for path in sorted(DOCS.rglob("*.md")):
        rel = path.relative_to(DOCS).with_suffix("")
        url = "" if rel.name == "index" else f"{rel.as_posix()}/"
        pages[url] = path
    for path in sorted((DOCS / "notebooks").glob("*.py")):
        pages[f"notebooks/{path.stem}/"] = path
    return pages


def source_has_math(path: Path) -> bool:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return bool(MATH_IN_SOURCE.search(text))


@dataclass
class Visit:
    url: str
    foreign_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)


@pytest.fixture(scope="module")
def visits(server: str, browser: Any) -> dict[str, Visit]:
    context = browser.new_context()
    results = {}
    for url in source_pages():
        visit = Visit(url)
        page = context.new_page()
        page.on(
            "request",
            lambda r, v=visit: (
                v.foreign_requests.append(r.url)
                if urlparse(r.url).scheme in ("http", "https", "ws", "wss")
                and not r.url.startswith(server)
                else None
            ),
        )
        page.on(
            "console",
            lambda m, v=visit: (
                v.console_errors.append(m.text) if m.type == "error" else None
            ),
        )
        page.on("pageerror", lambda e, v=visit: v.console_errors.append(str(e)))
        response = page.goto(f"{server}/{url}", wait_until="networkidle")
        assert response is not None, url
        assert response.ok, url
        visit.data = page.evaluate(COLLECT)
        page.close()
        results[url] = visit
    context.close()
    return results


def test_every_page_was_visited(visits: dict[str, Visit]) -> None:
    assert "" in visits
    assert "part1-matrix-calculus/" in visits


def test_no_request_leaves_the_local_server(visits: dict[str, Visit]) -> None:
    bad = {u: v.foreign_requests for u, v in visits.items() if v.foreign_requests}
    assert bad == {}


def test_no_console_errors(visits: dict[str, Visit]) -> None:
    bad = {u: v.console_errors for u, v in visits.items() if v.console_errors}
    assert bad == {}


def test_no_katex_errors(visits: dict[str, Visit]) -> None:
    bad = {u: v.data["katexErrors"] for u, v in visits.items() if v.data["katexErrors"]}
    assert bad == {}


def test_math_is_rendered_where_the_source_has_math(visits: dict[str, Visit]) -> None:
    sources = source_pages()
    missing = [
        u
        for u, v in visits.items()
        if source_has_math(sources[u]) and v.data["katex"] == 0
    ]
    assert missing == []
    assert visits["part1-matrix-calculus/"].data["katex"] > 100


@pytest.mark.parametrize(
    "raw", ["$$", "\\(", "\\[", "\\begin{", "\\frac", "\\partial", "\\mathbf"]
)
def test_no_raw_tex_left_in_the_text(visits: dict[str, Visit], raw: str) -> None:
    bad = [u for u, v in visits.items() if raw in v.data["text"]]
    assert bad == []


# What a notebook prints when a cell ends in a plotting call instead of
# showing only the figure: `Text(0.5, 1.0, 'title')`, `<Figure size ...>`.
OBJECT_REPR = re.compile(
    r"^\[?(Text\(|Line2D\(|<matplotlib\.|<Figure size|<Axes)", re.M
)


def test_notebook_outputs_show_no_stray_object_reprs(
    visits: dict[str, Visit],
) -> None:
    assert any(v.data["outputs"] for v in visits.values())
    bad = {
        u: [o for o in v.data["outputs"] if OBJECT_REPR.search(o)]
        for u, v in visits.items()
    }
    assert {u: o for u, o in bad.items() if o} == {}


def test_internal_links_and_anchors_resolve(
    visits: dict[str, Visit], server: str, built_site: Path
) -> None:
    ids = {f"{server}/{u}": set(v.data["ids"]) for u, v in visits.items()}
    broken = []
    for u, visit in visits.items():
        for link in visit.data["links"]:
            if not link.startswith(server):
                continue
            target, anchor = urldefrag(link)
            path = urlparse(target).path.lstrip("/")
            file = built_site / path
            if path == "" or path.endswith("/"):
                file = file / "index.html"
            if not file.is_file():
                broken.append(f"{u} → {link} (no file)")
            elif anchor and target in ids and anchor not in ids[target]:
                broken.append(f"{u} → {link} (no anchor)")
            elif anchor and target not in ids:
                html = file.read_text(encoding="utf-8")
                if f'id="{anchor}"' not in html:
                    broken.append(f"{u} → {link} (no anchor)")
    assert broken == []


def test_images_load_and_have_alt_text(visits: dict[str, Visit]) -> None:
    bad = [
        f"{u}: {img['src']}"
        for u, v in visits.items()
        for img in v.data["images"]
        if not img["ok"]
        or len(img["alt"].strip()) < 10
        or img["alt"].startswith("No description has been provided")  # nbconvert's
    ]
    assert bad == []


def test_copy_button_copies_code_without_prompts_or_outputs(
    server: str, browser: Any
) -> None:
    context = browser.new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    page = context.new_page()
    page.goto(f"{server}/part1-matrix-calculus/", wait_until="networkidle")
    # A block with continuation prompts and outputs.
    block = page.locator("div.language-pycon", has_text="by_hand = 2")
    block.hover()
    block.locator("button[data-md-type=copy]").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    context.close()
    assert "by_hand = 2 * np.array(" in copied
    assert ">>>" not in copied
    assert "..." not in copied
    assert "True" not in copied  # the outputs
    compile(copied, "<copied>", "exec")  # what a reader pastes is valid Python


def test_screenshots_light_and_dark(server: str, browser: Any) -> None:
    """Part 1 in both palettes, saved under test-artifacts/ (not committed)."""
    ARTIFACTS.mkdir(exist_ok=True)
    schemes = {}
    for scheme in ("light", "dark"):
        context = browser.new_context(
            color_scheme=scheme, viewport={"width": 1280, "height": 900}
        )
        page = context.new_page()
        page.goto(f"{server}/part1-matrix-calculus/", wait_until="networkidle")
        schemes[scheme] = page.evaluate(
            "document.body.getAttribute('data-md-color-scheme')"
        )
        page.screenshot(path=ARTIFACTS / f"part1-{scheme}.png", full_page=False)
        context.close()
        assert (ARTIFACTS / f"part1-{scheme}.png").stat().st_size > 10_000
    assert schemes == {"light": "default", "dark": "slate"}
