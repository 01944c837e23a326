"""The provenance stamp: on every page with code output, and true."""

from __future__ import annotations

import datetime
import os
import re
import subprocess
from pathlib import Path

import numpy
import pytest

import cnnscratch
from tests.site.conftest import ROOT, last_commit_epoch

pytestmark = pytest.mark.site

STAMP = re.compile(r'<p class="md-provenance" data-provenance[^>]*>(.*?)</p>', re.S)
REPO_LINK = re.compile(r'<a href="([^"]+)" title="[^"]*" class="md-source">')


def pages(site: Path) -> dict[str, str]:
    return {
        p.relative_to(site).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(site.rglob("index.html"))
    }


def shows_output(html: str) -> bool:
    """A doctest session (Markdown pages, docstring examples) or a cell output."""
    return 'class="language-pycon' in html or 'class="jp-OutputArea' in html


def test_every_page_with_output_has_one_stamp_and_no_other_page_has_one(
    built_site: Path,
) -> None:
    site = pages(built_site)
    with_output = {name for name, html in site.items() if shows_output(html)}
    # The labs, the notebooks and the Markdown pages with sessions at least.
    assert {
        "notebooks/cnn-digits/index.html",
        "part1-matrix-calculus/index.html",
        "api/part3/index.html",
    } <= with_output
    stamps = {name: len(STAMP.findall(html)) for name, html in site.items()}
    assert {n for n, count in stamps.items() if count} == with_output
    assert {stamps[n] for n in with_output} == {1}


def test_the_stamp_names_the_commit_and_the_versions_that_built_the_site(
    built_site: Path,
) -> None:
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{40}", head)
    epoch = os.environ.get("SOURCE_DATE_EPOCH") or last_commit_epoch()
    assert epoch
    date = datetime.datetime.fromtimestamp(int(epoch), datetime.UTC).date()
    html = (built_site / "notebooks" / "mlp-digits" / "index.html").read_text(
        encoding="utf-8"
    )
    repo = REPO_LINK.search(html)
    assert repo
    (stamp,) = STAMP.findall(html)
    link = re.search(
        r'<a href="([^"]+)" data-commit="([^"]+)"><code>(\w+)</code>', stamp
    )
    assert link
    assert link.groups() == (f"{repo[1].rstrip('/')}/commit/{head}", head, head[:7])
    assert f"<span data-version>{cnnscratch.__version__}</span>" in stamp
    assert f"<span data-numpy>{numpy.__version__}</span>" in stamp
    assert f'<time datetime="{date.isoformat()}">' in stamp
