"""Accessibility of every page of the built site, audited with axe-core.

Every page listed in the site's ``sitemap.xml`` is opened in headless
Chromium on a desktop (1280 px, here) and on a phone (375 px, touch:
``test_accessibility_phone.py``), and audited in the light and in the dark
scheme: no serious or critical violation of axe-core's WCAG rules
(contrast, names, focusable scroll boxes, ...). The audit itself, and what it
must show on every device, are in ``axe_audit.py``; this file also checks
the harness, that the audit walks every page, and the notebook pages'
stylesheet.

axe-core is the npm package pinned in ``package.json`` (``npm ci``), injected
into each page from ``node_modules``: nothing is fetched.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from axe_audit import AXE, FAILING, Audit, DeviceChecks, run_axe, sitemap_pages

pytestmark = pytest.mark.site


class TestDesktop(DeviceChecks):
    device = "desktop"

    def test_equations_that_fit_are_not_tab_stops(self, audits: list[Audit]) -> None:
        light = [a for a in audits if a.scheme == "light"]
        fitting = [e for a in light for e in a.measured["equations"] if not e["cut"]]
        assert len(fitting) > 50
        assert [e for e in fitting if e["tabindex"] or e["role"]] == []


@pytest.fixture(scope="module")
def pages(built_site: Path) -> list[str]:
    return sitemap_pages(built_site)


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
