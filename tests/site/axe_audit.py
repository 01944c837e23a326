"""The axe-core audit of the built site, one device at a time.

Every page listed in the site's ``sitemap.xml`` is opened in headless
Chromium on one device (1280 px, or a 375 px touch screen) and audited in the
light and in the dark scheme: no serious or critical violation of axe-core's
WCAG rules (contrast, names, focusable scroll boxes, ...). The same visits
measure what a phone reader needs and axe cannot see: the page's width, the
boxes that scroll sideways, equations and figures.

:class:`DeviceChecks` holds what every device's audit must show; each test
file subclasses it for one device (``test_accessibility.py``: the desktop,
``test_accessibility_phone.py``: the phone), so that xdist (``--dist
loadfile``) audits the two devices on two workers side by side.

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
    ARTIFACTS,
    COMPLETE,
    EXPLORABLES_READY,
    LAY_OUT_EVERYTHING,
    ROOT,
    SCHEME,
    SCROLL_PAST_EXPLORABLES,
    SCROLL_REGIONS_CHECKED,
)

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"

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
        "s => document.querySelector("
        "`input[name=__palette][data-md-color-scheme=${s}]`).click()",
        wanted,
    )
    assert page.evaluate(SCHEME) == wanted


def audit_device(
    browser: Any, server: str, pages: list[str], device: str
) -> list[Audit]:
    """Each page opened once on ``device`` and audited in both schemes."""
    audits = []
    context = browser.new_context(**DEVICES[device])
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
        # The page as a reader who passed over it sees it: every block laid
        # out (content-visibility), every box that scrolls named.
        page.evaluate(LAY_OUT_EVERYTHING)
        page.wait_for_function(SCROLL_REGIONS_CHECKED)
        page.add_style_tag(content=NO_TRANSITIONS)
        # The first scheme gets every rule; the second only the rules whose
        # outcome a scheme can change.
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
    ARTIFACTS.mkdir(exist_ok=True)
    lines = [
        f"{a.scheme:6} {a.url or '/':40} {a.seconds:5.1f} s "
        + " ".join(f"{v['id']}({v['impact']}):{len(v['nodes'])}" for v in a.violations)
        for a in audits
    ]
    report = ARTIFACTS / f"axe-{device}.txt"
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return audits


class DeviceChecks:
    """What the audit of every page on one device must show. A test file
    subclasses it, naming the device."""

    device: str

    @pytest.fixture(scope="class")
    @classmethod
    def audits(cls, browser: Any, server: str, built_site: Path) -> list[Audit]:
        return audit_device(browser, server, sitemap_pages(built_site), cls.device)

    def test_every_page_was_audited_in_both_schemes(
        self, audits: list[Audit], built_site: Path
    ) -> None:
        assert {a.url for a in audits} == set(sitemap_pages(built_site))
        assert {a.device for a in audits} == {self.device}
        shown = {(a.scheme, a.measured["scheme"]) for a in audits}
        assert shown == set(SCHEMES.items())
        assert len(audits) == len({a.url for a in audits}) * len(SCHEMES)

    @pytest.mark.parametrize("scheme", list(SCHEMES))
    def test_no_serious_or_critical_axe_violations(
        self, audits: list[Audit], scheme: str
    ) -> None:
        chosen = [a for a in audits if a.scheme == scheme]
        assert len(chosen) == len({a.url for a in audits})
        bad = {a.url or "/": a.failing() for a in chosen if a.failing()}
        assert bad == {}

    def test_every_box_that_scrolls_has_a_name_of_its_own(
        self, audits: list[Audit]
    ) -> None:
        """A screen reader lists a page's regions by name (axe's
        landmark-unique): each kind of box is numbered ("Equation, scrolls
        sideways (3 of 40)")."""
        regions = {(a.scheme, a.url): a.measured["regions"] for a in audits}
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
