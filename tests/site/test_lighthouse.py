"""Lighthouse on every page of the built site, served compressed as Pages does.

One Chromium (Debian's, with the browser tests' flags) runs Lighthouse (the
npm package pinned in ``package.json``) with its defaults: mobile, simulated
throttling, an empty cache. Each page gets one run of the four categories and
up to two more of the performance metrics; its performance score is the
median of the three, as one run varies. The third run is left out when the
first two already decide the median's side of the budget (both at or above
it, or both below): the table then shows the mean of the two. Each run
gathers only what its scores use (``tools/lighthouse_audit.mjs``), and the
first run also a few unscored
diagnostics for the report; ``LIGHTHOUSE_DIAGNOSTICS=full`` adds the costlier
ones (render-blocking and unused CSS, the LCP element, layout shifts). The
reports (JSON and HTML) and a table of every page's scores, metrics, weight
and time are kept under ``test-artifacts/lighthouse/``. Marker ``audit``:
``make test`` runs it last, in a session of its own, as Lighthouse times
the pages against whatever else runs beside it (``make audit`` alone).
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import statistics
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from conftest import ARTIFACTS, CHROMIUM_FLAGS, ROOT
from tools import site_audit

pytestmark = [pytest.mark.site, pytest.mark.audit]

MIN_SCORE = 0.95  # each of the four categories, every page
MAX_BYTES = 1_000_000  # a page's first load, uncompressed
MAX_TRANSFERRED = 350_000  # the same load as it crosses the network (gzip)
PERFORMANCE_RUNS = 3
#: Unscored audits kept in each page's first run, for its report: they come
#: from the trace and the network log that the scores need anyway.
DIAGNOSTICS = [
    "mainthread-work-breakdown",
    "bootup-time",
    "long-tasks",
    "dom-size",
    "total-byte-weight",
    "unused-javascript",
]
#: ``LIGHTHOUSE_DIAGNOSTICS=full``: these too, at a second or two a page.
FULL_DIAGNOSTICS = [
    "render-blocking-resources",
    "unused-css-rules",
    "font-display",
    "largest-contentful-paint-element",
    "layout-shifts",
]


def majority(runs: int) -> int:
    """How many runs decide the median of ``runs``."""
    return runs // 2 + 1


def table(pages: dict[str, Any], seconds: float) -> str:
    """Every page's scores, the three performance runs' metrics, its first
    load's weight and the time its runs took."""
    lines = [
        f"{'page':26} {'perf':>4} {'runs':14} {'a11y':>4} {'bp':>4} {'seo':>4} "
        f"{'kB':>5} {'kB gz':>5} {'s':>4}  FCP/LCP/TBT/SI ms, CLS (each run)"
    ]
    for path, page in sorted(pages.items()):
        scores = page["scores"]
        runs = page["runs"]
        lines.append(
            f"{path:26} {statistics.median(page['performance_runs']) * 100:4.0f} "
            f"{' '.join(str(round(r['score'] * 100)) for r in runs):14} "
            f"{scores['accessibility'] * 100:4.0f} "
            f"{scores['best-practices'] * 100:4.0f} {scores['seo'] * 100:4.0f} "
            f"{page['weight']['uncompressed'] / 1000:5.0f} "
            f"{page['weight']['transferred'] / 1000:5.0f} {page['seconds']:4.0f}  "
            + "; ".join(
                f"{r['FCP']:.0f}/{r['LCP']:.0f}/{r['TBT']:.0f}/{r['SI']:.0f}, "
                f"{r['CLS']:.3f}"
                for r in runs
            )
        )
    lines.append(f"audit: {seconds:.0f} s for {len(pages)} pages")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def audit(built_site: Path) -> dict[str, Any]:
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if chromium is None:
        pytest.fail("Chromium is not installed: `make test` installs it with apt-get")
    out = ARTIFACTS / "lighthouse"
    shutil.rmtree(out, ignore_errors=True)
    with site_audit.serve(built_site) as origin:
        paths = site_audit.pages(built_site)
        diagnostics = DIAGNOSTICS
        if os.environ.get("LIGHTHOUSE_DIAGNOSTICS") == "full":
            diagnostics = DIAGNOSTICS + FULL_DIAGNOSTICS
        summary = site_audit.lighthouse(
            [origin + p for p in paths],
            out,
            chromium,
            CHROMIUM_FLAGS,
            PERFORMANCE_RUNS,
            diagnostics,
            decide_at=MIN_SCORE,
        )
    pages = {url.removeprefix(origin): page for url, page in summary["pages"].items()}
    (out / "summary.txt").write_text(table(pages, summary["seconds"]), "utf-8")
    return {
        "lighthouse": summary["lighthouse"],
        "pages": pages,
        "walked": paths,
        "diagnostics": diagnostics,
    }


def test_the_server_compresses_text_as_pages_does(built_site: Path) -> None:
    with site_audit.serve(built_site) as origin:
        request = urllib.request.Request(
            f"{origin}/", headers={"Accept-Encoding": "gzip"}
        )
        with urllib.request.urlopen(request) as reply:
            assert reply.headers["Content-Encoding"] == "gzip"
            html = gzip.decompress(reply.read())
        assert html == (built_site / "index.html").read_bytes()
        font = next((built_site / "assets" / "katex" / "fonts").glob("*.woff2"))
        request = urllib.request.Request(
            f"{origin}/{font.relative_to(built_site).as_posix()}",
            headers={"Accept-Encoding": "gzip"},
        )
        with urllib.request.urlopen(request) as reply:
            assert reply.headers["Content-Encoding"] is None  # already compressed
            assert reply.read() == font.read_bytes()


def test_every_page_was_audited_with_the_pinned_lighthouse(
    audit: dict[str, Any],
) -> None:
    assert sorted(audit["pages"]) == sorted(audit["walked"])
    assert "/" in audit["pages"]
    assert "/api/" in audit["pages"]
    pinned = json.loads((ROOT / "package.json").read_text())["dependencies"]
    assert audit["lighthouse"] == pinned["lighthouse"]
    for page in audit["pages"].values():
        assert (ARTIFACTS / "lighthouse" / page["report"]).is_file()
        scores = page["performance_runs"]
        assert majority(PERFORMANCE_RUNS) <= len(scores) <= PERFORMANCE_RUNS
        if len(scores) < PERFORMANCE_RUNS:  # stopped early: the runs agree
            assert len({score >= MIN_SCORE for score in scores}) == 1
        assert [run["score"] for run in page["runs"]] == page["performance_runs"]
        for run in page["runs"]:
            assert run["FCP"] > 0
            assert run["LCP"] >= run["FCP"]
            assert run["SI"] > 0
        assert sorted(page["diagnostics"]) == sorted(audit["diagnostics"])
        weight = page["weight"]
        assert weight["requests"] > 1
        assert weight["uncompressed"] > weight["transferred"]


def test_performance_median_of_three_runs(audit: dict[str, Any]) -> None:
    """The median of three is at or above the budget exactly when two runs
    are; a page that stopped after two runs has both there, or both below."""
    low = {
        path: page["performance_runs"]
        for path, page in audit["pages"].items()
        if sum(score >= MIN_SCORE for score in page["performance_runs"])
        < majority(PERFORMANCE_RUNS)
    }
    assert low == {}


@pytest.mark.parametrize("category", ["accessibility", "best-practices", "seo"])
def test_accessibility_best_practices_and_seo(
    audit: dict[str, Any], category: str
) -> None:
    low = {
        path: page["scores"][category]
        for path, page in audit["pages"].items()
        if page["scores"][category] < MIN_SCORE
    }
    assert low == {}


def heavier_than(audit: dict[str, Any], measure: str, limit: int) -> dict[str, int]:
    """The pages whose first load's ``measure`` exceeds ``limit`` bytes."""
    weights = {path: page["weight"][measure] for path, page in audit["pages"].items()}
    return {path: bytes_ for path, bytes_ in weights.items() if bytes_ > limit}


def test_first_load_within_one_megabyte_uncompressed(audit: dict[str, Any]) -> None:
    assert heavier_than(audit, "uncompressed", MAX_BYTES) == {}


def test_first_load_within_350_kb_transferred(audit: dict[str, Any]) -> None:
    assert heavier_than(audit, "transferred", MAX_TRANSFERRED) == {}
