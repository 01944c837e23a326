"""MkDocs hook: what the search index holds of a page.

The search plugin indexes the text of a page's HTML. Left alone, it indexes
every formula three times (KaTeX's visual HTML, its MathML and the TeX
annotation) and every listing and output in full. This hook shows the
search plugin a lighter view of each page, and the reader the page as it is:

* each formula once, as its TeX (the ``<annotation>``);
* prose, headings, tables and inline code; not the ``<pre>`` blocks (code
  listings, doctest sessions, notebook cells), nor a notebook cell's
  outputs (its printed tables of numbers), its copy of its source, its
  In/Out prompts and its copy button's "Copied!"; the names in them are
  found through the prose and the API reference's headings;
* of each docstring on the API reference, its first paragraph (what the
  object computes): its heading already holds the name, and
  its Parameters, Returns, Raises and Examples sections, a third of the
  whole index, would make every argument name (``X``, ``dY``, ``shape``) a
  hit on every function that takes one.

The search plugin's index takes the view (priority 100: before the plugin's
own ``on_page_context``), and the page is marked ``search: exclude`` for
that plugin's own pass, which would index it a second time.

Each section's entry then holds what a query needs of its text. The search
(lunr, in Material's worker) matches terms, not phrases: it splits a text
at its tags and at ``separator`` (whitespace and hyphens), lowercases each
piece and drops lunr's English stop words; a typed query ``kern`` is
``kern*``, a prefix of the tokens it finds. A result shows, under the
section's title, the blocks of its text that hold a match. So a section
longer than ``OPENING`` characters becomes

* its opening, verbatim as plain text: its first sentence of at least
  ``SENTENCE`` characters, or as much as fits in ``OPENING`` and "…";
* then, in an element the result does not show (``<i hidden>``), its other
  terms once each, in order: no stop word, no punctuation ending a term
  (``kernel,`` is ``kernel``), no term whose index term (lunr's stem:
  ``kernels`` and ``kernel`` are both ``kernel``) another token of the entry
  has, or begins with, since a query's stem is a prefix of the terms it
  finds; each formula whole, as TeX with the punctuation around it, where
  it first appears on the page. The stems are lunr's own
  (``tools/lunr_terms.mjs``, the npm package at the version the theme's
  search worker bundles).

The opening and the hidden terms make one block of the worker's tokenizer
(the opening has no tags), so every match shows the opening as the teaser.
A query that does not end in punctuation finds every section it found
before (tests/site/test_search_index.py); a term's repeats no longer raise
a section's rank. An API heading is indexed by its name
(``conv2d_forward()``), not its signature, whose argument names would be
title hits (boosted a thousandfold) on every function that takes them.

Once the plugin has written ``search/search_index.json``, it is written
again without the bytes no search needs: paragraph tags, the spaces of the
JSON and its ``\\u`` escapes of non-ASCII text (× is one character, in
UTF-8, not six).
"""

from __future__ import annotations

import bisect
import json
import re
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page

KATEX_HTML = re.compile(r'<span class="katex-html"[^>]*>')
SPAN_TAG = re.compile(r"<span\b|</span>")
PRESENTATION = re.compile(r"<semantics>.*?(?=<annotation\b)", re.S)
PARAGRAPH_TAG = re.compile(r"</?p>")
#: The TeX of a formula, marked in the search view so that a section's entry
#: keeps it whole (private-use characters: no page holds them).
FORMULA_START, FORMULA_END = "\ue000", "\ue001"
TEX = re.compile(
    r'(<annotation encoding="application/x-tex">)(.*?)(</annotation>)', re.S
)
#: lunr's English stop words (lunr 2.3.9, as Material's search worker ships
#: them): the index and the query both drop them.
_LUNR_STOP_WORDS = """
    a able about across after all almost also am among an and any are as at be
    because been but by can cannot could dear did do does either else ever every
    for from get got had has have he her hers him his how however i if in into is
    it its just least let like likely may me might most must my neither no nor
    not of off often on only or other our own rather said say says she should
    since so some than that the their them then there these they this tis to too
    twas us wants was we were what when where which while who whom why will with
    would yet you your"""
STOP_WORDS = frozenset(_LUNR_STOP_WORDS.split())
#: A section's opening, shown as a result's teaser: its first sentence of at
#: least SENTENCE characters, at most OPENING characters.
SENTENCE, OPENING = 60, 200
TAG = re.compile(r"<[^>]*>")
#: Tags that end a line of text (a paragraph, a list item, a listing); others
#: (``<code>``, ``<sub>``, ``<sup>``) sit inside a line.
BLOCK_TAG = re.compile(r"</?(?:p|li|ol|ul|pre)>")
FORMULA = re.compile(f"{FORMULA_START}[^{FORMULA_END}]*{FORMULA_END}")
#: A term a query can find has a letter or a digit.
WORD = re.compile(r"\w")
#: Punctuation that ends a token and no query types.
TRAILING = re.compile(r"[.,;:!?\"'”’]+$")
LEADING = re.compile(r"^[\"'“‘]+")
#: A run of text without spaces, a formula (spaces and all) counting as text.
PIECE = re.compile(f"(?:{FORMULA.pattern}|[^\\s{FORMULA_START}])+")
#: An API heading (``<code>conv2d_forward(X, W, b, stride=1)</code>``): the
#: index keeps its name, ``conv2d_forward()``, so that an argument's name
#: (``kernel``, ``stride``) is not a title hit outranking the prose.
API_HEADING = re.compile(r"^<code>([\w.]+)(\()?.*</code>$")
INDEX = "search/search_index.json"
LUNR_TERMS = Path(__file__).with_name("lunr_terms.mjs")
#: Each token's index term, as lunr gives it (filled by :func:`index_terms`).
_INDEX_TERMS: dict[str, str] = {}


def index_terms(tokens: Iterable[str]) -> dict[str, str]:
    """Each of ``tokens`` (lowercased, as the worker's tokenizer cuts them)
    mapped to the term lunr indexes for it: trimmed of non-word characters,
    stemmed. One ``node tools/lunr_terms.mjs`` for the tokens not seen yet."""
    wanted = set(tokens)
    new = sorted(wanted - _INDEX_TERMS.keys())
    if new:
        node = shutil.which("node")
        if node is None:
            raise PluginError("search index: `node` is not on PATH (Node 20+)")
        result = subprocess.run(
            [node, str(LUNR_TERMS)],
            input=json.dumps(new),
            capture_output=True,
            text=True,
            cwd=LUNR_TERMS.parent.parent,  # node_modules/lunr
            check=False,
        )
        if result.returncode != 0:
            raise PluginError(f"search index: lunr_terms.mjs failed: {result.stderr}")
        _INDEX_TERMS.update(zip(new, json.loads(result.stdout), strict=True))
    return {token: _INDEX_TERMS[token] for token in wanted}


PRE = re.compile(r"<pre\b.*?</pre>", re.S)
#: A notebook code cell's source kept for the copy button, and its prompts.
NOTEBOOK_CHROME = re.compile(
    r'<div[^>]*class="(?:clipboard-copy-txt|jp-InputPrompt[^"]*|jp-OutputPrompt[^"]*)"'
    r"[^>]*>.*?</div>",
    re.S,
)
COPIED_NOTICE = re.compile(r'<span class="notice" hidden="">Copied!</span>')
NOTEBOOK_OUTPUTS = re.compile(r'<div class="jp-OutputArea jp-Cell-outputArea"[^>]*>')


DOC_CONTENTS = re.compile(r'<div class="doc doc-contents[^"]*">')
DOC_CHILDREN = '<div class="doc doc-children">'
DIV_TAG = re.compile(r"<div\b|</div>")
#: A docstring's first paragraph (not a "Parameters:" section title).
FIRST_PARAGRAPH = re.compile(r"<p>(?!<span class=\"doc-section-title\">).*?</p>", re.S)


def _element_end(html_text: str, start: int, tags: re.Pattern[str]) -> int:
    """Where the element opened at ``start`` closes (after its end tag)."""
    depth = 0
    for tag in tags.finditer(html_text, start):
        depth += 1 if not tag.group().startswith("</") else -1
        if depth == 0:
            return tag.end()
    return len(html_text)


def _drop_elements(
    html_text: str, opening: re.Pattern[str], tags: re.Pattern[str] = DIV_TAG
) -> str:
    """``html_text`` without the elements whose start tag matches ``opening``
    (``tags`` finds that element's start and end tags: ``<div>`` unless told)."""
    pieces, last = [], 0
    for match in opening.finditer(html_text):
        if match.start() < last:
            continue
        pieces.append(html_text[last : match.start()])
        last = _element_end(html_text, match.start(), tags)
    pieces.append(html_text[last:])
    return "".join(pieces)


def _docstring_summaries(html_text: str) -> str:
    """Each mkdocstrings docstring cut to its first paragraph; members kept."""
    pieces, last = [], 0
    for match in DOC_CONTENTS.finditer(html_text):
        if match.start() < last:
            continue
        end = _element_end(html_text, match.start(), DIV_TAG)
        inner = html_text[match.end() : end - len("</div>")]
        own, members = inner, ""
        if DOC_CHILDREN in inner:
            at = inner.index(DOC_CHILDREN)
            own, members = inner[:at], _docstring_summaries(inner[at:])
        first = FIRST_PARAGRAPH.search(own)
        pieces += [
            html_text[last : match.end()],
            first.group() if first else "",
            members,
            "</div>",
        ]
        last = end
    pieces.append(html_text[last:])
    return "".join(pieces)


def search_view(html_text: str) -> str:
    """The HTML the search index is built from: formulas as TeX (marked by
    FORMULA_START and FORMULA_END), no ``<pre>``, docstrings by their first
    paragraph."""
    html_text = _drop_elements(html_text, KATEX_HTML, SPAN_TAG)
    html_text = PRESENTATION.sub("<semantics>", html_text)
    html_text = TEX.sub(rf"\1{FORMULA_START}\2{FORMULA_END}\3", html_text)
    html_text = NOTEBOOK_CHROME.sub("", html_text)
    html_text = COPIED_NOTICE.sub("", html_text)
    html_text = _drop_elements(html_text, NOTEBOOK_OUTPUTS)
    html_text = _docstring_summaries(html_text)
    return PRE.sub("", html_text)


def unmark(text: str) -> str:
    """``text`` without the marks around its formulas."""
    return text.replace(FORMULA_START, "").replace(FORMULA_END, "")


def lunr_tokens(html_text: str, separator: str) -> list[str]:
    """The tokens Material's search worker indexes of ``html_text``: the text
    between its tags split at ``separator``, lowercased."""
    texts = TAG.split(html_text)
    return [t.lower() for text in texts for t in re.split(separator, text) if t]


def term(token: str) -> str:
    """What a query needs of ``token``: the token without the punctuation
    around it (``kernel,`` and ``(kernel`` are found as ``kernel``); "" for
    a stop word or a token without a letter or digit, which no query finds."""
    while True:
        stripped = LEADING.sub("", TRAILING.sub("", token))
        for opening, closing in ("()", "[]"):
            unmatched = stripped.count(closing) - stripped.count(opening)
            if stripped.endswith(closing) and unmatched > 0:
                stripped = stripped[:-1]
            if stripped.startswith(opening) and unmatched < 0:
                stripped = stripped[1:]
        if stripped == token:
            break
        token = stripped
    return token if WORD.search(token) and token not in STOP_WORDS else ""


def terms(html_text: str, separator: str) -> set[str]:
    """The terms a query finds in ``html_text``: those its tokens begin with
    (a query is a prefix of the tokens it finds: ``kern`` finds ``kernel,``;
    ``(kernel`` is found only by a query that starts with the bracket)."""
    tokens = lunr_tokens(html_text, separator)
    return {term(t) for t in tokens if t.startswith(term(t))} - {""}


def _opening(pieces: list[str]) -> tuple[list[str], str]:
    """The first pieces of a section's text, and how they end: its first
    sentence of at least SENTENCE characters (""), or as many pieces as fit
    in OPENING ("…")."""
    opening: list[str] = []
    length = -1
    for piece in pieces:
        if opening and length + 1 + len(unmark(piece)) > OPENING:
            return opening, " …"
        opening.append(piece)
        length += 1 + len(unmark(piece))
        if length >= SENTENCE and piece.endswith((".", "?", "!")):
            break
    return opening, ""


def entry_text(title: str, text: str, separator: str, formulas: set[str]) -> str:
    """A section's text (HTML, formulas marked) as its index entry: its
    opening as plain text, then in ``<i hidden>`` each of its other terms
    once, and each formula not yet in ``formulas`` (the page's, updated)
    whole, with the punctuation around it."""
    text = " ".join(text.split())
    text = text.replace(f"{FORMULA_START} ", FORMULA_START)
    text = text.replace(f" {FORMULA_END}", FORMULA_END)
    plain = " ".join(TAG.sub("", BLOCK_TAG.sub(" ", text)).split())
    if len(unmark(plain)) <= OPENING:
        formulas.update(FORMULA.findall(text))
        return unmark(text)
    pieces = PIECE.findall(plain)
    opening, end = _opening(pieces)
    head = unmark(" ".join(opening)) + end
    formulas.update(f for piece in opening for f in FORMULA.findall(piece))
    seen = terms(title, separator) | terms(head, separator)
    rest: list[str] = []
    whole: set[str] = set()
    for piece in pieces[len(opening) :]:
        if not formulas.issuperset(FORMULA.findall(piece)):
            formulas.update(FORMULA.findall(piece))
            whole.add(unmark(piece))
            rest.append(unmark(piece))
            seen |= terms(unmark(piece), separator)
            continue
        for token in lunr_tokens(unmark(piece), separator):
            if (new := term(token)) and new not in seen:
                rest.append(new)
                seen.add(new)
    # Terms the plain text joined (``<code>f</code>(x)`` reads ``f(x)``).
    every = {term(t) for t in lunr_tokens(unmark(text), separator)} - {""}
    rest += sorted(every - seen)
    rest = _without_found_terms(title, head, rest, whole, separator)
    return f"{head}<i hidden>{' '.join(rest)}</i>" if rest else head


def _without_found_terms(
    title: str, head: str, rest: list[str], whole: set[str], separator: str
) -> list[str]:
    """``rest`` without each term a query finds through another token of
    the entry: one whose index term (lunr's stem) begins with the term's
    own, as a query's stem is a prefix of what it finds (``kernels`` finds
    what ``kernel`` would, and the title's ``flip`` what ``flipped`` would).
    Formulas (``whole``) stay, and of terms with one stem, the first."""
    fixed = lunr_tokens(f"{title} {head} {' '.join(whole)}", separator)
    words = [r for r in rest if r not in whole]
    stems = index_terms([*fixed, *words])
    every = sorted(set(stems.values()))
    taken = {stems[t] for t in fixed}
    kept = []
    for r in rest:
        if r not in whole:
            stem = stems[r]
            at = bisect.bisect_right(every, stem)
            if stem in taken or (at < len(every) and every[at].startswith(stem)):
                continue
            taken.add(stem)
        kept.append(r)
    return kept


def api_title(heading: re.Match[str]) -> str:
    """An API heading's title in the index: its name, and "()" if callable."""
    return heading[1] + ("()" if heading[2] else "")


@event_priority(100)
def on_page_context(
    context: dict[str, Any], page: Page, config: MkDocsConfig, nav: Navigation
) -> dict[str, Any]:
    plugin = config.plugins.get("material/search")
    search_meta = page.meta.get("search") or {}
    if plugin is None or page.content is None or search_meta.get("exclude"):
        return context
    content = page.content
    page.content = search_view(content)
    entries = plugin.search_index.entries  # type: ignore[attr-defined]
    first = len(entries)
    try:
        plugin.search_index.add_entry_from_context(page)  # type: ignore[attr-defined]
    finally:
        page.content = content
    formulas: set[str] = set()
    separator = plugin.config.separator
    # The page's tokens and terms, stemmed by one call to lunr.
    tokens = lunr_tokens(
        " ".join(unmark(f"{e['title']} {e['text']}") for e in entries[first:]),
        separator,
    )
    index_terms([*tokens, *map(term, tokens)])
    for entry in entries[first:]:
        entry["title"] = API_HEADING.sub(api_title, unmark(entry["title"]))
        entry["text"] = entry_text(entry["title"], entry["text"], separator, formulas)
    page.meta["search"] = {**search_meta, "exclude": True}
    return context


def compact_index(index: dict[str, Any]) -> str:
    """The index as compact JSON, its texts without paragraph tags."""
    for doc in index["docs"]:
        doc["text"] = " ".join(PARAGRAPH_TAG.sub(" ", doc["text"]).split())
    return json.dumps(index, ensure_ascii=False, separators=(",", ":"))


@event_priority(-100)  # after the search plugin has written the index
def on_post_build(config: MkDocsConfig) -> None:
    path = Path(config.site_dir) / INDEX
    if config.plugins.get("material/search") is None or not path.is_file():
        return
    index = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(compact_index(index), encoding="utf-8")
