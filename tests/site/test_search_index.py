"""The search index of the built site: each formula once, as TeX; small."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest

from tools import site_audit

pytestmark = pytest.mark.site

MAX_INDEX_BYTES = 150_000
ANNOTATION = re.compile(r'<annotation encoding="application/x-tex">(.*?)</annotation>')
#: Characters only KaTeX's renderings hold, never its TeX: the zero-width
#: space of the visual HTML's struts, MathML's invisible times and function
#: application.
RENDERED_ONLY = ("\u200b", "\u2062", "\u2061")


@pytest.fixture(scope="module")
def index(built_site: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (built_site / "search" / "search_index.json").read_text(encoding="utf-8")
    )
    return data


def page_text(index: dict[str, Any], path: str) -> str:
    location = path.lstrip("/")
    return " ".join(
        d["text"]
        for d in index["docs"]
        if d["location"].split("#")[0] == location
        or (location == "" and d["location"].startswith("#"))
    )


@pytest.mark.audit
def test_index_is_within_its_budget(built_site: Path) -> None:
    size = (built_site / "search" / "search_index.json").stat().st_size
    assert size <= MAX_INDEX_BYTES


def test_every_formula_is_indexed_as_its_tex(
    built_site: Path, index: dict[str, Any]
) -> None:
    missing: dict[str, list[str]] = {}
    checked = 0
    for path in site_audit.pages(built_site):
        if path == "/404.html":
            continue
        source = (built_site / path.lstrip("/") / "index.html").read_text("utf-8")
        text = html.unescape(page_text(index, path))
        squashed = " ".join(text.split())
        for tex in ANNOTATION.findall(source):
            checked += 1
            wanted = " ".join(html.unescape(tex).split())
            if wanted not in squashed:
                missing.setdefault(path, []).append(wanted)
    assert checked > 500
    assert missing == {}


def test_no_formula_is_indexed_as_its_rendering(index: dict[str, Any]) -> None:
    rendered = {
        d["location"]: [c for c in RENDERED_ONLY if c in d["text"]]
        for d in index["docs"]
        if any(c in d["text"] for c in RENDERED_ONLY)
    }
    assert rendered == {}


def test_every_api_object_is_found_by_name_and_summary(
    built_site: Path, index: dict[str, Any]
) -> None:
    source = (built_site / "api" / "index.html").read_text("utf-8")
    ids = re.findall(r'<h\d id="(cnnscratch\.[\w.]+)" class="doc doc-heading"', source)
    assert len(ids) > 150
    docs = {d["location"]: d for d in index["docs"]}
    missing = [i for i in ids if f"api/#{i}" not in docs]
    assert missing == []
    unnamed = [i for i in ids if i.rsplit(".", 1)[1] not in docs[f"api/#{i}"]["title"]]
    assert unnamed == []
    jacobian = docs["api/#cnnscratch.gradcheck.numerical_jacobian"]
    assert "Central-difference Jacobian of" in jacobian["text"]
    # The argument tables stay on the page, out of the index.
    assert "Parameters:" in source
    assert not [d["location"] for d in index["docs"] if "Parameters:" in d["text"]]


def test_prose_is_found_on_its_page(index: dict[str, Any]) -> None:
    flipped = page_text(index, "/part3-convolution/")
    assert "The gather reading of (3.5)" in flipped
    assert "flipped kernel" in flipped
    assert "translation equivariance" in page_text(index, "/notebooks/cnn-digits/")
    # A notebook's printed outputs and copy buttons are not prose.
    assert "Copied!" not in json.dumps(index)
