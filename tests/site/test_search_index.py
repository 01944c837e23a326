"""The search index of the built site: each formula once, as TeX; every term
of a section's prose in its entry, once; small."""

from __future__ import annotations

import bisect
import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
from material.plugins.search.plugin import Parser

from conftest import ROOT
from tools import search_index_hook as hook
from tools import site_audit

pytestmark = pytest.mark.site

MAX_INDEX_BYTES = 150_000
ANNOTATION = re.compile(r'<annotation encoding="application/x-tex">(.*?)</annotation>')
#: Characters only KaTeX's renderings hold, never its TeX: the zero-width
#: space of the visual HTML's struts, MathML's invisible times and function
#: application.
RENDERED_ONLY = ("\u200b", "\u2062", "\u2061")
#: mkdocs.yml leaves the search plugin its default separator.
SEPARATOR = r"[\s\-]+"
ARTICLE = re.compile(
    r'<article class="md-content__inner md-typeset">(.*)</article>', re.S
)
PROVENANCE = '<p class="md-provenance"'
EDIT_BUTTON = re.compile(r'<a [^>]*class="md-content__button[^>]*>.*?</a>', re.S)
HIDDEN = "<i hidden>"
PARAGRAPH = re.compile(r"</?p>")


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
    heading = re.compile(r'<h\d id="(cnnscratch\.[\w.]+)" class="doc doc-heading"')
    locations = []  # every object of every page of the reference
    sources = ""
    for page in sorted((built_site / "api").glob("*/index.html")):
        source = page.read_text("utf-8")
        sources += source
        url = page.parent.relative_to(built_site).as_posix()
        locations += [f"{url}/#{i}" for i in heading.findall(source)]
    assert len(locations) > 150
    docs = {d["location"]: d for d in index["docs"]}
    missing = [loc for loc in locations if loc not in docs]
    assert missing == []
    unnamed = [
        loc for loc in locations if loc.rsplit(".", 1)[1] not in docs[loc]["title"]
    ]
    assert unnamed == []
    jacobian = docs["api/part1/#cnnscratch.gradcheck.numerical_jacobian"]
    assert "Central-difference Jacobian of" in jacobian["text"]
    # The argument tables stay on the pages, out of the index.
    assert "Parameters:" in sources
    assert not [d["location"] for d in index["docs"] if "Parameters:" in d["text"]]


def missing_terms(prose: str, title: str, text: str) -> list[str]:
    """The terms of a section's ``prose`` (its HTML as the search plugin saw
    it) that no query finds in its entry (``title`` and ``text``): a query is
    a prefix of the tokens it finds (Material appends ``*``), and lunr drops
    its stop words. ``hook.terms`` says which terms a query finds in the
    prose: ``kernel`` in ``kernel,``, not ``part`` in ``(Part``. lunr stems
    the tokens it indexes and the query (``hook.index_terms``): a term is
    found when its stem is a prefix of an entry token's stem."""
    tokens = hook.lunr_tokens(f"{title} {text}", SEPARATOR)
    words = hook.terms(hook.unmark(prose), SEPARATOR)
    stems = hook.index_terms([*tokens, *words])
    indexed = sorted({stems[t] for t in tokens})

    def found(word: str) -> bool:
        at = bisect.bisect_left(indexed, stems[word])
        return at < len(indexed) and indexed[at].startswith(stems[word])

    return sorted(w for w in words if not found(w))


def sections(built_site: Path, path: str) -> dict[str, str]:
    """Each section of a built page, by its index location: its text as the
    search plugin sees it (the hook's view, before the hook shortens it)."""
    source = (built_site / path.lstrip("/") / "index.html").read_text("utf-8")
    # The page's content: the article without the theme's edit button and
    # provenance stamp.
    article = EDIT_BUTTON.sub("", ARTICLE.findall(source)[0].split(PROVENANCE)[0])
    parser = Parser()
    parser.feed(hook.search_view(article.strip()))
    parser.close()
    page = path.lstrip("/")
    return {
        page + (f"#{s.id}" if s.id else ""): " ".join("".join(s.text).split())
        for s in parser.data
        if not s.is_excluded()
    }


@pytest.fixture(scope="module")
def every_section(built_site: Path) -> dict[str, str]:
    """:func:`sections` of every page but the 404 page."""
    return {
        location: prose
        for path in site_audit.pages(built_site)
        if path != "/404.html"
        for location, prose in sections(built_site, path).items()
    }


def test_every_term_of_a_sections_prose_is_in_its_entry(
    every_section: dict[str, str], index: dict[str, Any]
) -> None:
    docs = {d["location"]: d for d in index["docs"]}
    # Every token's stem from one call to lunr, not one per section.
    hook.index_terms(
        token
        for location, prose in every_section.items()
        for text in (prose, docs[location]["title"], docs[location]["text"])
        for token in hook.lunr_tokens(hook.unmark(text), SEPARATOR)
        + sorted(hook.terms(hook.unmark(text), SEPARATOR))
    )
    missing: dict[str, list[str]] = {}
    for location, prose in every_section.items():
        doc = docs[location]
        if lost := missing_terms(prose, doc["title"], doc["text"]):
            missing[location] = lost
    assert len(every_section) > 300
    assert missing == {}


def test_a_sections_teaser_is_its_opening_verbatim(
    every_section: dict[str, str], index: dict[str, Any]
) -> None:
    docs = {d["location"]: d for d in index["docs"]}
    wrong = {}
    shortened = 0
    for location, prose in every_section.items():
        text = docs[location]["text"]
        if HIDDEN not in text:
            if text != " ".join(PARAGRAPH.sub(" ", hook.unmark(prose)).split()):
                wrong[location] = text
            continue
        shortened += 1
        teaser = text[: text.index(HIDDEN)].removesuffix(" …")
        plain = hook.BLOCK_TAG.sub(" ", hook.unmark(prose))
        plain = " ".join(hook.TAG.sub("", plain).split())
        # Its opening, verbatim and no tags: the terms after it and the
        # teaser make one block of the worker's tokenizer (see the hook).
        if not plain.startswith(teaser) or "<" in teaser or len(teaser) > hook.OPENING:
            wrong[location] = teaser
    assert shortened > 100
    assert wrong == {}


def test_prose_is_found_on_its_page(index: dict[str, Any]) -> None:
    flip = "part3-convolution/#where-the-flip-appears"
    entry = next(d for d in index["docs"] if d["location"] == flip)
    for phrase in ("The gather reading of (3.5)", "flipped kernel", "conv2d_backward"):
        assert missing_terms(phrase, entry["title"], entry["text"]) == [], phrase
    digits = page_text(index, "/notebooks/cnn-digits/")
    assert missing_terms("translation equivariance", "", digits) == []
    # A notebook's printed outputs and copy buttons are not prose.
    assert "Copied!" not in json.dumps(index)


def search_worker(built_site: Path) -> str:
    """The theme's search worker, as built (it bundles lunr)."""
    (worker,) = (built_site / "assets" / "javascripts" / "workers").glob("search.*.js")
    return worker.read_text("utf-8")


def test_the_stop_words_are_those_of_the_search_worker(built_site: Path) -> None:
    words = re.search(
        r"generateStopWordFilter\((\[[^]]*\])\)", search_worker(built_site)
    )
    assert words is not None
    assert frozenset(json.loads(words[1])) == hook.STOP_WORDS


def test_the_stems_are_those_of_the_search_workers_lunr(built_site: Path) -> None:
    """tools/lunr_terms.mjs stems with the npm lunr pinned in package.json,
    which is the version the theme's search worker bundles."""
    bundled = re.findall(r'version="([\d.]+)"', search_worker(built_site))
    pinned = json.loads((ROOT / "package.json").read_text())["dependencies"]["lunr"]
    assert bundled == [pinned]
    # lunr's Porter stemmer, trimmer first: its own forms, not another port's.
    terms = hook.index_terms(["arrays,", "kernels", "(3.5)", "flipped", "×"])
    assert terms == {
        "arrays,": "array",
        "kernels": "kernel",
        "(3.5)": "3.5",
        "flipped": "flip",
        "×": "",
    }
