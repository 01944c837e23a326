"""Every page of the built site, opened in headless Chromium.

One visit per page records what the page did (requests, console errors,
rendered math, leftover TeX, links, anchors, images); each test then asserts
one property over all pages, so a failure lists every offending page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urlparse

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from conftest import (
    ARTIFACTS,
    COMPLETE,
    EXPLORABLES_READY,
    READ_THROUGH,
    ROOT,
    SCHEME,
    SCROLL_PAST_EXPLORABLES,
)

pytestmark = pytest.mark.site

DOCS = ROOT / "docs"
MATH_IN_SOURCE = re.compile(r"\$[^$\s][^$]*\$|\$\$")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def arrived(page: Any) -> bool:
    """Whether the whole page is there, allowing a loaded machine 10 s to parse it."""
    try:
        page.wait_for_function(COMPLETE, timeout=10_000)
    except PlaywrightTimeoutError:
        return False
    return True


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


#: The blocks of the article laid out only near the screen (content-visibility
#: in docs/assets/site.css): how much of the article they hold, the headings
#: inside one (there should be none), and, once a reader has passed over the
#: whole page, every block and heading whose box is not where it is when every
#: block is laid out at once.
ON_DEMAND = (
    """async () => {
  const article = document.querySelector("article");
  const all = [...article.querySelectorAll("*")];
  const blocks = all.filter((e) => getComputedStyle(e).contentVisibility === "auto");
  const headings = [...article.querySelectorAll("h1, h2, h3, h4, h5, h6")];
  const covered = new Set(blocks.flatMap((b) => [...b.querySelectorAll("*")]));
  await ("""
    + READ_THROUGH
    + """)();
  // Reading through fetched the explorables' frames; each grows to its size
  // when its frames arrive (at most 10 s: a figure that never gets them
  // fails the explorable tests).
  for (let t = 0; t < 200 && !("""
    + EXPLORABLES_READY
    + """)(); t++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const boxes = () => [...blocks, ...headings].map((e) => {
    const r = e.getBoundingClientRect();
    return [e.tagName + "." + e.className, r.top + scrollY, r.left, r.width, r.height];
  });
  const onDemand = boxes();
  const style = document.createElement("style");
  style.textContent = "* { content-visibility: visible !important; }";
  document.head.append(style);
  const atOnce = boxes();
  style.remove();
  const moved = [];
  onDemand.forEach((box, i) => {
    if (box.slice(1).some((v, k) => Math.abs(v - atOnce[i][k + 1]) > 1)) {
      moved.push([box, atOnce[i]]);
    }
  });
  return {
    elements: all.length,
    covered: covered.size,
    headingsInside: headings.filter((h) => covered.has(h)).map((h) => h.id),
    moved: moved.slice(0, 3),
  };
}"""
)


def source_pages() -> dict[str, Path]:
    """Site path ('' for home, 'part1-matrix-calculus/', ...) → source file."""
    pages = {}
    for path in sorted(DOCS.rglob("*.md")):
        rel = path.relative_to(DOCS).with_suffix("").as_posix()
        url = rel.removesuffix("index") if rel.split("/")[-1] == "index" else rel + "/"
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
        if not arrived(page):
            # Seen under load: the test server's reply to a large page (the
            # API reference) cut short, and Chromium rendering what arrived.
            # Load it once more; a page that is still incomplete fails below.
            page.reload(wait_until="networkidle")
        assert arrived(page), f"{url} did not load completely"
        visit.data = page.evaluate(COLLECT)
        visit.data["on_demand"] = page.evaluate(ON_DEMAND)
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


SCRIPT_TAG = re.compile(r"<script\b([^>]*)>")


def test_no_script_holds_up_the_first_paint(built_site: Path) -> None:
    """Every script file a page loads is deferred, the theme's bundle too
    (overrides/main.html): the first paint waits for no script to download."""
    blocking, bundles = {}, {}
    for html_file in sorted(built_site.rglob("*.html")):
        page = html_file.relative_to(built_site).as_posix()
        tags = SCRIPT_TAG.findall(html_file.read_text(encoding="utf-8"))
        files = [t for t in tags if "src=" in t]
        blocking[page] = [t for t in files if not re.search(r"\b(defer|async)\b", t)]
        bundles[page] = [t for t in files if "javascripts/bundle." in t]
    assert {page: tags for page, tags in blocking.items() if tags} == {}
    assert all(len(tags) == 1 for tags in bundles.values()), bundles
    assert len(bundles) >= 10


def on_demand_findings(visits: dict[str, Visit], key: str) -> dict[str, list[str]]:
    """The pages where the ON_DEMAND measure found something under ``key``."""
    return {
        url: v.data["on_demand"][key]
        for url, v in visits.items()
        if v.data["on_demand"][key]
    }


def test_no_heading_lies_in_a_block_laid_out_on_demand(
    visits: dict[str, Visit],
) -> None:
    # The table of contents follows the reader by the headings' offsets:
    # a heading inside such a block would lay the block out.
    assert on_demand_findings(visits, "headingsInside") == {}


def test_long_pages_are_laid_out_as_the_reader_reaches_them(
    visits: dict[str, Visit],
) -> None:
    shares = {
        url: v.data["on_demand"]["covered"] / v.data["on_demand"]["elements"]
        for url, v in visits.items()
        if v.data["on_demand"]["elements"] > 3000
    }
    assert {"part3-convolution/", "notebooks/cnn-digits/"} <= shares.keys()
    assert {url: share for url, share in shares.items() if share < 0.6} == {}


def test_laying_out_on_demand_keeps_every_box_where_it_is(
    visits: dict[str, Visit],
) -> None:
    assert on_demand_findings(visits, "moved") == {}


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
        schemes[scheme] = page.evaluate(SCHEME)
        page.screenshot(path=ARTIFACTS / f"part1-{scheme}.png", full_page=False)
        context.close()
        assert (ARTIFACTS / f"part1-{scheme}.png").stat().st_size > 10_000
    assert schemes == {"light": "default", "dark": "slate"}


#: The palette toggle shown (one label of two: the other scheme's).
TOGGLE = "form[data-site-palette] label:not([hidden])"
#: Click the palette toggle; what the page is before, during the switch and
#: after it.
SWITCH_SCHEME = """async (TOGGLE) => {
  const link = document.querySelector(".md-typeset a[href]");
  const state = () => ({
    scheme: document.body.getAttribute("data-md-color-scheme"),
    switching: document.body.hasAttribute("data-md-color-switching"),
    fade: getComputedStyle(link).transitionDuration,
    rootScheme: document.documentElement.style.colorScheme,
    themeColour: document.querySelector("meta[name=theme-color]").content,
    header: getComputedStyle(document.querySelector("header")).backgroundColor,
    toggle: document.querySelector(TOGGLE).title,
  });
  const before = state();
  document.querySelector(TOGGLE).click();
  const during = state();
  for (let i = 0; i < 3; i++) await new Promise((r) => requestAnimationFrame(r));
  return {before, during, after: state()};
}"""


def test_the_palette_toggle_switches_fades_nothing_and_is_remembered(
    server: str, browser: Any, built_site: Path
) -> None:
    """The site's toggle (overrides/partials/palette-toggle.html), in place of
    the theme's component, which restyled every element of a page three
    times as it started: it is mounted on no page."""
    mounted = [
        p.relative_to(built_site).as_posix()
        for p in built_site.rglob("*.html")
        if 'data-md-component="palette"' in p.read_text(encoding="utf-8")
    ]
    assert mounted == []
    context = browser.new_context(color_scheme="light")
    page = context.new_page()
    page.goto(f"{server}/part1-matrix-calculus/", wait_until="load")
    page.wait_for_function("document.querySelector('meta[name=theme-color]').content")
    seen = page.evaluate(SWITCH_SCHEME, TOGGLE)
    before, during, after = seen["before"], seen["during"], seen["after"]
    assert before["scheme"] == "default"
    assert before["rootScheme"] == "light"
    assert before["toggle"] == "Switch to dark mode"
    assert before["themeColour"] == before["header"]  # read when idle
    assert not before["switching"]
    assert before["fade"] != "0s"
    assert during["scheme"] == "slate"
    assert during["switching"]
    assert during["fade"] == "0s"  # the theme's rule while switching
    assert after["switching"] is False
    assert after["fade"] == before["fade"]
    assert after["rootScheme"] == "dark"
    assert after["toggle"] == "Switch to light mode"
    assert after["themeColour"] == after["header"]
    # The choice holds on the next page, over the system's preference; the
    # keyboard (Enter on the focused option) switches back.
    page.goto(f"{server}/part2-backpropagation/", wait_until="load")
    assert page.evaluate(SCHEME) == "slate"
    page.focus("input[name=__palette]:checked")
    page.keyboard.press("Enter")
    assert page.evaluate(SCHEME) == "default"
    assert page.evaluate("document.activeElement.id") == "__palette_0"
    context.close()


# ---------------------------------------------------------------------------
# The explorables (tools/explorables.py): stepped with the keyboard, their
# numbers read off the page and compared with the package's own outputs.

EXPLORABLE_PAGE = "part3-convolution/"
POOLING_PAGE = "part3-fast-convolution-and-pooling/"
EXPLORABLE_PAGES = {  # page → the explorables on it
    EXPLORABLE_PAGE: ["conv-forward", "gradient-scatter", "flipped-kernel"],
    POOLING_PAGE: ["im2col", "maxpool"],
    "part5-modern-layers/": ["conv-transpose"],
}
READ_PANEL = """t => Array.from(t.tBodies[0].rows,
  r => Array.from(r.cells, c => c.textContent))"""


@dataclass
class Opened:
    page: Any
    errors: list[str] = field(default_factory=list)  # console errors
    fetched: list[str] = field(default_factory=list)  # paths of the responses

    def data_fetched(self) -> list[str]:
        """The explorables' data files fetched so far."""
        return [p for p in self.fetched if re.search(r"/explorables/.*\.json$", p)]


@contextmanager
def _open(
    server: str,
    browser: Any,
    url: str = EXPLORABLE_PAGE,
    scroll: bool = True,
    **options: Any,
) -> Iterator[Opened]:
    """A page (Part 3 unless told) in a new browser context, once its
    explorables are ready: a reader has scrolled past each of them (not with
    ``scroll=False``)."""
    context = browser.new_context(**options)
    opened = Opened(context.new_page())
    opened.page.on(
        "console",
        lambda m: opened.errors.append(m.text) if m.type == "error" else None,
    )
    opened.page.on("pageerror", lambda e: opened.errors.append(str(e)))
    opened.page.on("response", lambda r: opened.fetched.append(urlparse(r.url).path))
    opened.page.goto(f"{server}/{url}", wait_until="networkidle")
    if not arrived(opened.page):  # cut short under load, as in visits
        opened.fetched.clear()  # count only what the complete load fetched
        opened.errors.clear()
        opened.page.reload(wait_until="networkidle")
    assert arrived(opened.page), f"{url} did not load completely"
    if scroll and options.get("java_script_enabled", True):
        opened.page.evaluate(SCROLL_PAST_EXPLORABLES)
        opened.page.wait_for_function(EXPLORABLES_READY)
    try:
        yield opened
    finally:
        context.close()


SEARCH_INDEX = "/search/search_index.json"
TOUCH_PHONE = {
    "viewport": {"width": 375, "height": 812},
    "is_mobile": True,
    "has_touch": True,
}


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_the_search_index_comes_when_the_reader_reaches_for_search(
    server: str, browser: Any, device: str
) -> None:
    """Not with the page (overrides/partials/search-on-demand.html): on a
    desktop the theme's key ``s`` focuses the search field, on a phone the
    reader taps the search button; then a query finds its page."""
    options = TOUCH_PHONE if device == "phone" else {}
    with _open(server, browser, "part2-backpropagation/", False, **options) as opened:
        page = opened.page
        assert SEARCH_INDEX not in opened.fetched
        if device == "phone":
            page.tap("label[for=__search]")
        else:
            page.keyboard.press("s")
        page.keyboard.type("im2col")
        page.wait_for_selector(".md-search-result__item")
        found = page.eval_on_selector_all(
            ".md-search-result__item > a", "links => links.map((a) => a.href)"
        )
        assert opened.fetched.count(SEARCH_INDEX) == 1
        assert opened.errors == []
    on = "/part3-fast-convolution-and-pooling/"
    assert any(urlparse(href).path == on for href in found), found


@pytest.fixture(scope="module")
def part3(server: str, browser: Any) -> Iterator[Opened]:
    """One visit to Part 3 shared by the tests that read its explorables."""
    with _open(server, browser) as opened:
        yield opened


@pytest.fixture(scope="module")
def part3b(server: str, browser: Any) -> Iterator[Opened]:
    """One visit to Part 3's second page, for its im2col and pooling."""
    with _open(server, browser, POOLING_PAGE) as opened:
        yield opened


@pytest.fixture(scope="module")
def part5(server: str, browser: Any) -> Iterator[Opened]:
    """One visit to Part 5, for its transposed-convolution explorable."""
    with _open(server, browser, "part5-modern-layers/") as opened:
        yield opened


def _panel(figure: Any, pid: str) -> Any:
    import numpy as np

    rows = figure.locator(f'table[data-panel="{pid}"]').evaluate(READ_PANEL)
    return np.array([[float(v) if v else np.nan for v in row] for row in rows])


def _choose(figure: Any, legend: str, option: str) -> None:
    figure.locator("fieldset", has_text=legend).get_by_label(option, exact=True).check()


def _press(figure: Any, key: str) -> str:
    """Press ``key`` on the focused figure; return the step counter's text."""
    figure.locator(".xp-stage").press(key)
    return figure.locator(".xp-count").inner_text()


#: Lighthouse's phone screen, on which the first load is measured.
PHONE = {"width": 412, "height": 823}
#: Where a figure is, in screens below the top of the page.
SCREENS_DOWN = """f => (f.getBoundingClientRect().top + window.scrollY) / innerHeight"""


@pytest.mark.parametrize("url", list(EXPLORABLE_PAGES))
def test_explorables_fetch_their_data_only_when_the_reader_scrolls_near(
    url: str, server: str, browser: Any
) -> None:
    """The first load fetches no explorable's data; scrolling to a figure
    fetches its own (and builds it), not that of a figure screens further on."""
    with _open(server, browser, url, scroll=False, viewport=PHONE) as opened:
        page = opened.page
        figures = page.locator("figure.explorable")
        names = EXPLORABLE_PAGES[url]
        assert figures.count() == len(names)
        first = figures.first
        # Far enough down for the test to mean something: beyond the two
        # screens ahead at which the script starts a fetch.
        assert first.evaluate(SCREENS_DOWN) > 3
        # The load has settled (networkidle: 500 ms without a request).
        assert opened.data_fetched() == []
        assert page.locator("figure.explorable[data-ready]").count() == 0
        assert not page.locator(".xp-app").first.is_visible()

        first.scroll_into_view_if_needed()
        page.wait_for_function(
            "f => f.hasAttribute('data-ready')", arg=first.element_handle()
        )
        assert f"/explorables/{names[0]}.json" in opened.data_fetched()
        assert first.locator(".xp-app").is_visible()
        assert first.locator(".xp-count").inner_text().startswith("Step 1 of ")
        if len(names) > 1:
            last = figures.last
            ahead = last.evaluate(SCREENS_DOWN) - first.evaluate(SCREENS_DOWN)
            assert ahead > 3
            assert f"/explorables/{names[-1]}.json" not in opened.data_fetched()
            assert last.get_attribute("data-ready") is None
        assert opened.errors == []


def test_explorables_step_with_the_keyboard_and_show_the_package_values(
    part3: Opened, part3b: Opened
) -> None:
    import numpy as np

    from cnnscratch.conv import col2im, conv2d_backward, conv2d_forward, im2col
    from cnnscratch.pooling import maxpool2d_backward, maxpool2d_forward
    from tools import explorables as xp

    page = part3.page
    placed = [name for names in EXPLORABLE_PAGES.values() for name in names]
    assert sorted(placed) == sorted(xp.EXPLORABLES)
    assert page.locator("figure.explorable").count() == 3
    fig = page.locator("#explorable-conv-forward")
    _choose(fig, "Stride s", "2")
    _choose(fig, "Padding p", "1")
    _choose(fig, "Dilation d", "1")
    assert _press(fig, "Home") == "Step 1 of 9"
    assert _press(fig, "ArrowRight") == "Step 2 of 9"
    live = fig.locator("[aria-live=polite]").inner_text()
    assert live.startswith("Step 2 of 9. Output row 0, column 1")
    assert _press(fig, "ArrowLeft") == "Step 1 of 9"
    assert _press(fig, "End") == "Step 9 of 9"
    X, W, b = xp.conv_inputs()
    Y, _ = conv2d_forward(X, W, b, stride=2, padding=1)
    assert np.array_equal(_panel(fig, "Y"), Y[0, 0])

    X, W, dY = xp.backward_inputs(1, 0)
    _, cache = conv2d_forward(X, W, [0.0])
    dX, dW, _ = conv2d_backward(dY, cache)
    fig = page.locator("#explorable-gradient-scatter")
    _choose(fig, "Stride s", "1")
    _choose(fig, "Padding p", "0")
    assert _press(fig, "End") == "Step 16 of 16"
    assert np.array_equal(_panel(fig, "dX"), dX[0, 0])  # no padding: dX̃ is dX
    assert np.array_equal(_panel(fig, "dW"), dW[0, 0])
    fig = page.locator("#explorable-flipped-kernel")
    _choose(fig, "Stride s", "1")
    _choose(fig, "Padding p", "0")
    assert np.isnan(_panel(fig, "out")).all()  # nothing computed yet
    _press(fig, "End")
    assert np.array_equal(_panel(fig, "out"), dX[0, 0])  # the same grid

    page = part3b.page
    fig = page.locator("#explorable-im2col")
    _choose(fig, "Show", "row → window")
    _choose(fig, "Stride s", "1")
    X, D = xp.im2col_inputs(1)
    assert np.array_equal(_panel(fig, "cols"), im2col(X, 2))
    matrix = fig.locator("table[data-panel='cols']")
    matrix.locator("td[data-r='2'][data-c='1']").hover()  # hovering a row selects it
    assert fig.locator(".xp-count").inner_text() == "Step 3 of 9"
    matrix.locator("td[data-r='4'][data-c='0']").click()  # and so does a click
    lit = fig.locator("table[data-panel='X'] td[data-role]")
    texts = lit.evaluate_all("cells => cells.map(c => c.textContent)")
    assert texts == ["6", "7", "10", "11"]
    _choose(fig, "Show", "col2im")
    assert _press(fig, "End") == "Step 9 of 9"
    assert np.array_equal(_panel(fig, "dX"), col2im(D, X.shape, 2)[0, 0])

    fig = page.locator("#explorable-maxpool")
    _choose(fig, "Window k", "2")
    _choose(fig, "Stride s", "1")
    X, dY = xp.pool_inputs(2, 1)
    Y, cache = maxpool2d_forward(X, 2, stride=1)
    _press(fig, "Home")
    ties = 0
    for _ in range(15):
        tied = fig.locator("table[data-panel='X'] td[data-role=tie]")
        if tied.count():
            ties += 1
            winner = fig.locator("table[data-panel='X'] td[data-role=win]")
            assert {t.inner_text() for t in tied.all()} == {winner.inner_text()}
        _press(fig, "ArrowDown")
    assert ties > 0
    assert fig.locator(".xp-count").inner_text() == "Step 16 of 16"
    assert np.array_equal(_panel(fig, "Y"), Y[0, 0])
    assert np.array_equal(_panel(fig, "dX"), maxpool2d_backward(dY, cache)[0, 0])
    assert part3.errors == part3b.errors == []


def test_transposed_convolution_explorable_steps_to_the_package_output(
    part5: Opened,
) -> None:
    import numpy as np

    from cnnscratch.transposed import conv_transpose2d_forward
    from tools import explorables as xp

    fig = part5.page.locator("#explorable-conv-transpose")
    X, W = xp.transposed_inputs()
    for s, p, op in ((2, 1, 1), (1, 0, 0)):
        _choose(fig, "Stride s", str(s))
        _choose(fig, "Padding p", str(p))
        _choose(fig, "output_padding", str(op))
        assert _press(fig, "Home") == "Step 1 of 9"
        assert _press(fig, "ArrowRight") == "Step 2 of 9"
        live = fig.locator("[aria-live=polite]").inner_text()
        assert live.startswith("Step 2 of 9. Step 2: input row 0, column 1")
        Y1, _ = conv_transpose2d_forward(
            X * xp.first(2, X.shape), W, [0.0], stride=s, padding=p, output_padding=op
        )
        assert np.array_equal(_panel(fig, "Y"), Y1[0, 0])
        assert _press(fig, "End") == "Step 9 of 9"
        Y, _ = conv_transpose2d_forward(
            X, W, [0.0], stride=s, padding=p, output_padding=op
        )
        assert np.array_equal(_panel(fig, "Y"), Y[0, 0])
        assert np.array_equal(_panel(fig, "X"), X[0, 0])
        # The rows and columns output_padding adds are hatched, in Ỹ and in Y.
        for pid in ("Yt", "Y"):
            table = fig.locator(f"table[data-panel='{pid}']")
            rows = table.locator("tr").count()
            added = table.locator("td.xp-added")
            assert added.count() == rows * rows - (rows - op) ** 2
    _choose(fig, "Stride s", "1")
    _choose(fig, "output_padding", "1")
    assert fig.locator(".xp-count").inner_text() == "Step 1 of 1"
    assert "refuses output_padding = 1" in fig.locator(".xp-lines").inner_text()
    assert "added by output_padding" in fig.locator(".xp-legend").inner_text()
    _choose(fig, "Stride s", "2")  # the widest grids, on a phone
    part5.page.set_viewport_size({"width": 375, "height": 900})
    stage = fig.locator(".xp-stage")
    assert stage.evaluate("s => s.scrollWidth - s.clientWidth") <= 0
    assert part5.page.evaluate("document.documentElement.scrollWidth") <= 375
    ARTIFACTS.mkdir(exist_ok=True)
    fig.screenshot(path=ARTIFACTS / "explorable-conv-transpose-375.png")
    part5.page.set_viewport_size({"width": 1280, "height": 900})
    assert part5.errors == []


def test_explorable_controls_have_accessible_names(
    part3: Opened, part3b: Opened, part5: Opened
) -> None:
    unnamed, counts = [], []
    figures = [
        figure
        for opened in (part3, part3b, part5)
        for figure in opened.page.locator("figure.explorable").all()
    ]
    for fig in figures:
        # Its text is drawn only near the screen: scroll to it, wait a frame.
        fig.scroll_into_view_if_needed()
        fig.evaluate(
            "f => new Promise((r) => requestAnimationFrame("
            "() => requestAnimationFrame(r)))"
        )
        assert fig.locator("figcaption").inner_text().strip()
        tree = fig.aria_snapshot()
        roles = re.findall(r"- (button|radio)\b(.*)", tree)
        unnamed += [
            f"{fig.get_attribute('id')}: {r}{n}"
            for r, n in roles
            if not n.strip().startswith('"')
        ]
        counts.append((len(roles), fig.locator("button, input").count()))
        assert fig.locator(".xp-stage").get_attribute("aria-label")
        assert fig.locator("[aria-live=polite]").count() == 1
    assert unnamed == []
    assert all(n == m and n >= 4 for n, m in counts), counts
    assert len(counts) == 6
    assert part3.errors == part3b.errors == part5.errors == []


@pytest.mark.parametrize("url", list(EXPLORABLE_PAGES))
def test_explorables_add_under_50_kb_compressed_to_their_page(
    url: str, part3: Opened, part3b: Opened, part5: Opened, built_site: Path
) -> None:
    import gzip

    opened = {EXPLORABLE_PAGE: part3, POOLING_PAGE: part3b}.get(url, part5)
    html = (built_site / url / "index.html").read_text(encoding="utf-8")
    markup = "".join(
        re.findall(
            r'<figure class="explorable".*?</figure>'
            r"|<(?:link|script)[^>]*explorables\.[^>]*>",
            html,
            re.S,
        )
    )
    added = [p for p in opened.fetched if "explorables" in p]
    # the script, the style sheet, one JSON each
    assert len(added) == 2 + len(EXPLORABLE_PAGES[url])
    compressed = len(gzip.compress(markup.encode()))
    for path in added:
        compressed += len(gzip.compress((built_site / path.lstrip("/")).read_bytes()))
    assert compressed < 50_000


def test_explorables_fit_a_phone_follow_the_palette_and_respect_reduced_motion(
    server: str, browser: Any
) -> None:
    """Light (reduced motion) and dark, 1280 and 375 px wide; screenshots in
    test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    colours, transitions = {}, {}
    for scheme, motion in (("light", "reduce"), ("dark", "no-preference")):
        options = {"color_scheme": scheme, "reduced_motion": motion}
        with _open(server, browser, **options) as opened:
            fig = opened.page.locator("#explorable-gradient-scatter")
            _choose(fig, "Padding p", "1")  # the widest grids
            _press(fig, "ArrowRight")
            cell = fig.locator("td[data-role=read]").first
            colours[scheme] = cell.evaluate("c => getComputedStyle(c).color")
            transitions[motion] = cell.evaluate(
                "c => getComputedStyle(c).transitionDuration"
            )
            for width in (1280, 375):
                opened.page.set_viewport_size({"width": width, "height": 900})
                sizes = opened.page.evaluate("""() => ({
                    page: document.documentElement.scrollWidth,
                    stages: Array.from(document.querySelectorAll('.xp-stage'),
                                       s => s.scrollWidth - s.clientWidth),
                })""")
                assert sizes["page"] <= width, (scheme, width)
                assert max(sizes["stages"]) <= 0, (scheme, width)
                fig.screenshot(path=ARTIFACTS / f"explorable-{scheme}-{width}.png")
            assert opened.errors == []
    assert colours["light"] != colours["dark"]
    assert transitions == {"reduce": "0s", "no-preference": "0.15s"}


@pytest.mark.parametrize("url", list(EXPLORABLE_PAGES))
def test_explorables_without_javascript_show_their_first_frame(
    server: str, browser: Any, url: str
) -> None:
    with _open(server, browser, url, java_script_enabled=False) as opened:
        page = opened.page
        stills = page.locator("figure.explorable img.xp-static")
        figures = page.locator("figure.explorable").count()
        assert stills.count() == figures == len(EXPLORABLE_PAGES[url])
        for img in stills.all():
            assert img.evaluate("i => i.complete && i.naturalWidth > 0")
            assert img.is_visible()
            assert len(img.get_attribute("alt") or "") > 40
        assert not page.locator(".xp-app").first.is_visible()
        assert opened.errors == []
