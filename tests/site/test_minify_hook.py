"""The site's own scripts and stylesheets are served minified
(``tools/minify_hook.py``); the browser tests show they still work."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from conftest import ROOT, make_site, mkdocs_build
from tools import minify_hook

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


def test_a_dirty_rebuild_minifies_only_what_it_copied_again(tmp_path: Path) -> None:
    """``mkdocs serve --dirty`` copies only the sources that changed; a
    second pass over a minified script would rename its names again."""
    docs, site = tmp_path / "docs" / "assets", tmp_path / "site" / "assets"
    docs.mkdir(parents=True)
    site.mkdir(parents=True)
    source = (ROOT / "docs" / "assets" / "keep-place.js").read_text("utf-8")
    (docs / "keep-place.js").write_text(source, encoding="utf-8")
    shutil.copy(docs / "keep-place.js", site / "keep-place.js")
    config: Any = SimpleNamespace(
        docs_dir=str(tmp_path / "docs"), site_dir=str(site.parent)
    )
    minify_hook.on_post_build(config)
    minified = (site / "keep-place.js").read_bytes()
    assert len(minified) < len(source) / 2
    minify_hook.on_post_build(config)  # a rebuild that copied nothing
    assert (site / "keep-place.js").read_bytes() == minified
    # An edited source is copied again, and minified again.
    (docs / "keep-place.js").write_text(source + "\n// edited\n", encoding="utf-8")
    shutil.copy(docs / "keep-place.js", site / "keep-place.js")
    minify_hook.on_post_build(config)
    assert (site / "keep-place.js").read_bytes() == minified
