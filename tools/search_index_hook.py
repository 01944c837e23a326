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
  object computes): its heading already holds the name and signature, and
  its Parameters, Returns, Raises and Examples sections, a third of the
  whole index, would make every argument name (``X``, ``dY``, ``shape``) a
  hit on every function that takes one.

The search plugin's index takes the view (priority 100: before the plugin's
own ``on_page_context``), and the page is marked ``search: exclude`` for
that plugin's own pass, which would index it a second time. Once the plugin
has written ``search/search_index.json``, it is written again without the
bytes no search needs: paragraph tags (a result shows its text inline), the
spaces of the JSON and its ``\\u`` escapes of non-ASCII text (× is one
character, in UTF-8, not six).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import event_priority
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page

KATEX_HTML = re.compile(r'<span class="katex-html"[^>]*>')
SPAN_TAG = re.compile(r"<span\b|</span>")
PRESENTATION = re.compile(r"<semantics>.*?(?=<annotation\b)", re.S)
PARAGRAPH_TAG = re.compile(r"</?p>")
INDEX = "search/search_index.json"
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
    """The HTML the search index is built from: formulas as TeX, no ``<pre>``,
    docstrings by their first paragraph."""
    html_text = _drop_elements(html_text, KATEX_HTML, SPAN_TAG)
    html_text = PRESENTATION.sub("<semantics>", html_text)
    html_text = NOTEBOOK_CHROME.sub("", html_text)
    html_text = COPIED_NOTICE.sub("", html_text)
    html_text = _drop_elements(html_text, NOTEBOOK_OUTPUTS)
    html_text = _docstring_summaries(html_text)
    return PRE.sub("", html_text)


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
    try:
        plugin.search_index.add_entry_from_context(page)  # type: ignore[attr-defined]
    finally:
        page.content = content
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
