"""The site's own scripts and stylesheets are served minified
(``tools/minify_hook.py``); the browser tests show they still work."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import ROOT, make_site, mkdocs_build

pytestmark = pytest.mark.site

SOURCES = sorted(
    [
        *(ROOT / "docs" / "assets").glob("*.js"),
        *(ROOT / "docs" / "assets").glob("*.css"),
    ]
)


def test_the_site_s_own_assets_are_served_without_their_comments(
    built_site: Path,
) -> None:
    assert len(SOURCES) >= 6
    served = {
        s.name: (built_site / "assets" / s.name).read_text("utf-8") for s in SOURCES
    }
    sources = {s.name: s.read_text("utf-8") for s in SOURCES}
    assert all("/*" in text or "//" in text for text in sources.values())
    with_comments = [n for n, text in served.items() if "/*" in text or "\n//" in text]
    assert with_comments == []
    assert all(len(served[n]) < len(sources[n]) for n in served)
    saved = sum(map(len, sources.values())) - sum(map(len, served.values()))
    assert saved > 10_000
    # The names the scripts and rules use are kept.
    assert "data-scroll-region" in served["scroll-regions.js"]
    assert "content-visibility:auto" in served["site.css"]


def test_a_script_that_does_not_parse_fails_the_build(tmp_path: Path) -> None:
    config = make_site(
        tmp_path,
        {"index.md": "# Home\n", "assets/broken.js": "function (\n"},
        hooks=("minify_hook.py",),
    )
    result = mkdocs_build(config, tmp_path / "site")
    assert result.returncode != 0
    assert "minify:" in result.stderr
    assert "broken.js" in result.stderr
