"""Accessibility of every page of the built site, audited with axe-core.

Every page listed in the site's ``sitemap.xml`` is opened in headless
Chromium on a desktop (1280 px) and on a phone (375 px, touch), and audited
in the light and in the dark scheme: no serious or critical violation of
axe-core's WCAG rules (contrast, names, focusable scroll boxes, ...). The
same visits check what a phone reader needs and axe cannot see: no page
wider than the screen, wide equations scrolling inside a box that says so.

axe-core is the npm package pinned in ``package.json`` (``npm ci``), injected
into each page from ``node_modules``: nothing is fetched.
"""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    EXPLORABLES_READY,
    LAY_OUT_EVERYTHING,
    SCROLL_PAST_EXPLORABLES,
    SCROLL_REGIONS_CHECKED,
)

pytestmark = pytest.mark.site

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts"

#: The two devices; each audits every page in both schemes.
DEVICES: dict[str, dict[str, Any]] = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {
        "viewport": {"width": 375, "height": 812},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
}
#: The reader's preference → the Material scheme the page must then show.
SCHEMES = {"light": "default", "dark": "slate"}
FAILING = ("serious", "critical")

#: True once the whole page has arrived: Material's footer closes every page.
COMPLETE = "() => document.querySelector('footer.md-footer') !== null"
SCHEME = "document.body.getAttribute('data-md-color-scheme')"

#: What a scheme changes: colours. The second scheme runs only these rules.
COLOUR_RULES = ["color-contrast", "link-in-text-block"]
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]

RUN_AXE = """async ([tags, only, within]) => {
  const chosen = axe.getRules(tags)
    .filter((r) => r.enabled && (only === null || only.includes(r.ruleId)))
    .map((r) => r.ruleId);
  const result = await axe.run(within === null ? document : {include: [[within]]}, {
    runOnly: {type: "rule", values: chosen},
    resultTypes: ["violations"],
  });
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    nodes: v.nodes.map((n) => n.target.join(" ")),
  }));
}"""


#: The theme's colour transitions (up to 250 ms) would let axe read a colour
#: halfway between the two schemes; the audit switches them off.
NO_TRANSITIONS = "*, *::before, *::after { transition: none !important; }"


def run_axe(
    page: Any, only: list[str] | None = None, within: str | None = None
) -> list[dict[str, Any]]:
    """axe's WCAG A/AA and best-practice rules (or ``only`` those) in one run
    (one run shares its work between the rules, so is the fastest way), on
    the whole page or ``within`` the element a selector names."""
    violations: list[dict[str, Any]] = page.evaluate(RUN_AXE, [TAGS, only, within])
    return violations


#: The footer as the page loads, before a reader scrolls: what Lighthouse's
#: accessibility audit reads (it does not lay the page out first). The
#: article's closing blocks are always laid out (docs/assets/site.css), so
#: the footer stays where it is drawn while an audit scrolls to it.
FOOTER_RULES = ["color-contrast", "target-size"]


MEASURE = """() => {
  const displays = Array.from(
    document.querySelectorAll(".md-typeset div.arithmatex"));
  return {
    scheme: document.body.getAttribute("data-md-color-scheme"),
    pageWidth: document.documentElement.scrollWidth,
    regions: Array.from(document.querySelectorAll("[data-scroll-region]"),
      (e) => e.getAttribute("aria-label")),
    equations: displays.map((d) => ({
      cut: d.scrollWidth > d.clientWidth + 1,
      tabindex: d.getAttribute("tabindex"),
      role: d.getAttribute("role"),
      label: d.getAttribute("aria-label"),
      cue: getComputedStyle(d).backgroundImage,
    })),
    figures: Array.from(
      document.querySelectorAll(".md-typeset p > img[src$='.svg']:only-child"),
      (img) => ({
        src: img.getAttribute("src"),
        scale: img.getBoundingClientRect().width / img.naturalWidth,
        cut: img.parentElement.scrollWidth > img.parentElement.clientWidth + 1,
        tabindex: img.parentElement.getAttribute("tabindex"),
        label: img.parentElement.getAttribute("aria-label"),
      })),
  };
}"""


@dataclass
class Audit:
    """One page on one device in one scheme."""

    url: str
    device: str
    scheme: str
    violations: list[dict[str, Any]] = field(default_factory=list)
    measured: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    #: The footer's, on load (FOOTER_RULES; the first scheme's audit only).
    footer_on_load: list[dict[str, Any]] = field(default_factory=list)

    def failing(self) -> dict[str, list[str]]:
        return {
            v["id"]: v["nodes"][:3]
            for v in self.violations + self.footer_on_load
            if v["impact"] in FAILING
        }


def sitemap_pages(site: Path) -> list[str]:
    """Every page of the built site, as a path below its root ('' for home)."""
    namespace = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    tree = ET.parse(site / "sitemap.xml")
    locs = sorted(loc.text or "" for loc in tree.iter(f"{namespace}loc"))
    home = min(locs, key=len)  # the site_url itself
    return [loc[len(home) :] for loc in locs]


def show_scheme(page: Any, scheme: str) -> None:
    """Switch the page to a scheme as the palette toggle in the header does."""
    wanted = SCHEMES[scheme]
    if page.evaluate(SCHEME) == wanted:
        return
    page.evaluate(
        "s => document.querySelector(`input[name=__palette][data-md-color-scheme=${s}]`)"
        ".click()",
        wanted,
    )
    assert page.evaluate(SCHEME) == wanted


def audit_site(browser: Any, server: str, pages: list[str]) -> list[Audit]:
    """Each page opened once per device and audited in both schemes."""
    audits = []
    for device, options in DEVICES.items():
        context = browser.new_context(**options)
        context.add_init_script(path=str(AXE))
        page = context.new_page()
        for url in pages:
            page.goto(f"{server}/{url}", wait_until="networkidle")
            for _ in range(2):  # see test_browser.py: a reply cut short under load
                if not page.evaluate(COMPLETE):
                    page.reload(wait_until="networkidle")
            assert page.evaluate(COMPLETE), f"{url} did not load completely"
            show_scheme(page, "light")
            footer = run_axe(page, FOOTER_RULES, "footer.md-footer")
            page.evaluate(SCROLL_PAST_EXPLORABLES)
            page.wait_for_function(EXPLORABLES_READY)
            # The page as a reader who passed over it sees it: every block
            # laid out (content-visibility), every box that scrolls named.
            page.evaluate(LAY_OUT_EVERYTHING)
            page.wait_for_function(SCROLL_REGIONS_CHECKED)
            page.add_style_tag(content=NO_TRANSITIONS)
            # The first scheme gets every rule; the second only the rules
            # whose outcome a scheme can change.
            for first, scheme in zip((True, False), SCHEMES, strict=True):
                show_scheme(page, scheme)
                start = time.perf_counter()
                audit = Audit(url, device, scheme)
                audit.measured = page.evaluate(MEASURE)
                audit.violations = run_axe(page, None if first else COLOUR_RULES)
                if first:
                    audit.footer_on_load = footer
                audit.seconds = time.perf_counter() - start
                audits.append(audit)
        context.close()
    return audits


@pytest.fixture(scope="module")
def pages(built_site: Path) -> list[str]:
    return sitemap_pages(built_site)


@pytest.fixture(scope="module")
def audits(browser: Any, server: str, pages: list[str]) -> list[Audit]:
    found = audit_site(browser, server, pages)
    ARTIFACTS.mkdir(exist_ok=True)
    lines = [
        f"{a.device:8} {a.scheme:6} {a.url or '/':40} {a.seconds:5.1f} s "
        + " ".join(f"{v['id']}({v['impact']}):{len(v['nodes'])}" for v in a.violations)
        for a in found
    ]
    (ARTIFACTS / "axe.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return found


def test_the_audit_walks_every_page_of_the_site(
    pages: list[str], built_site: Path
) -> None:
    built = sorted(
        "" if p.parent == built_site else f"{p.parent.relative_to(built_site)}/"
        for p in built_site.rglob("index.html")
    )
    assert pages == built
    assert "" in pages
    assert len(pages) >= 10


def test_axe_finds_a_violation_where_there_is_one(browser: Any) -> None:
    """The harness itself: grey on white text and an unnamed dialog are found."""
    context = browser.new_context()
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    page.set_content(
        '<html lang="en"><head><title>t</title></head><body><main>'
        '<p style="color:#aaa;background:#fff">faint</p>'
        '<div role="dialog"><button>x</button></div></main></body></html>'
    )
    found = {v["id"] for v in run_axe(page) if v["impact"] in FAILING}
    context.close()
    assert {"color-contrast", "aria-dialog-name"} <= found


def test_every_page_was_audited_in_both_schemes(audits: list[Audit]) -> None:
    shown = {(a.scheme, a.measured["scheme"]) for a in audits}
    assert shown == set(SCHEMES.items())
    assert len(audits) == len({a.url for a in audits}) * len(DEVICES) * len(SCHEMES)


@pytest.mark.parametrize("device", list(DEVICES))
@pytest.mark.parametrize("scheme", list(SCHEMES))
def test_no_serious_or_critical_axe_violations(
    audits: list[Audit], device: str, scheme: str
) -> None:
    chosen = [a for a in audits if a.device == device and a.scheme == scheme]
    assert len(chosen) == len({a.url for a in audits})
    bad = {a.url or "/": a.failing() for a in chosen if a.failing()}
    assert bad == {}


def test_no_page_is_wider_than_a_phone(audits: list[Audit]) -> None:
    width = DEVICES["phone"]["viewport"]["width"]
    wide = {
        a.url: a.measured["pageWidth"]
        for a in audits
        if a.device == "phone" and a.measured["pageWidth"] > width
    }
    assert wide == {}


def test_cut_equations_scroll_in_a_named_focusable_box_with_a_cue(
    audits: list[Audit],
) -> None:
    phone = [a for a in audits if a.device == "phone" and a.scheme == "light"]
    cut = [e for a in phone for e in a.measured["equations"] if e["cut"]]
    assert len(cut) >= 5  # Part 1 alone has several on a phone
    assert all(e["tabindex"] == "0" and e["role"] == "region" for e in cut)
    assert all(e["label"] and "Equation" in e["label"] for e in cut)
    assert all(e["cue"].count("gradient") == 4 for e in cut)


def test_every_box_that_scrolls_has_a_name_of_its_own(audits: list[Audit]) -> None:
    """A screen reader lists a page's regions by name (axe's landmark-unique):
    each kind of box is numbered ("Equation, scrolls sideways (3 of 40)")."""
    regions = {(a.device, a.scheme, a.url): a.measured["regions"] for a in audits}
    assert sum(map(len, regions.values())) > 100
    repeated = {
        key: sorted({name for name in names if names.count(name) > 1})
        for key, names in regions.items()
    }
    assert {key: names for key, names in repeated.items() if names} == {}
    assert all(
        re.fullmatch(r".+, scrolls sideways \(\d+ of \d+\)", name)
        for names in regions.values()
        for name in names
    )


def test_equations_that_fit_are_not_tab_stops(audits: list[Audit]) -> None:
    desktop = [a for a in audits if a.device == "desktop" and a.scheme == "light"]
    fitting = [e for a in desktop for e in a.measured["equations"] if not e["cut"]]
    assert len(fitting) > 50
    assert [e for e in fitting if e["tabindex"] or e["role"]] == []


def test_figures_keep_their_drawn_size_on_a_phone(audits: list[Audit]) -> None:
    """Shrunk to 343 px, the widest drawings' labels would be 5 px tall."""
    phone = [a for a in audits if a.device == "phone" and a.scheme == "light"]
    figures = [f for a in phone for f in a.measured["figures"]]
    assert len(figures) >= 5
    assert [f["src"] for f in figures if f["scale"] < 0.99] == []
    cut = [f for f in figures if f["cut"]]
    assert cut  # the 720-unit-wide drawings of Part 3 at least
    assert all(f["tabindex"] == "0" and "Figure" in f["label"] for f in cut)


def test_notebook_pages_carry_the_site_stylesheet_not_nbconvert_s(
    pages: list[str], built_site: Path
) -> None:
    notebooks = [p for p in pages if p.startswith("notebooks/")]
    assert len(notebooks) >= 3
    for url in notebooks:
        html = (built_site / url / "index.html").read_text(encoding="utf-8")
        assert "jupyter-wrapper" in html, url
        # The one <style> left is the formulas' own (tools/katex_hook.py).
        html = re.sub(r'<style id="katex-styles">[^<]*</style>', "", html)
        assert "<style" not in html, url
        assert "--jp-" not in html, url  # JupyterLab's variables
        assert 'href="../../assets/notebook.css"' in html, url
        prompts = re.findall(r'<div class="jp-(?:Input|Output)Prompt[^>]*>', html)
        assert prompts, url
        assert all('aria-hidden="true"' in p for p in prompts), url
    css = (built_site / "assets" / "notebook.css").stat().st_size
    assert css < 20_000
