"""MkDocs hook: what the search index holds of a page.

The search plugin indexes the text of a page's HTML. Left alone, it indexes
every formula three times (KaTeX's visual HTML, its MathML and the TeX
annotation) and every listing and output in full. This hook shows the
search plugin a lighter view of each page, and the reader the page as it is:

* each formula once, as its TeX (the ``<annotation>``);
* prose, headings, tables and inline code; not the ``<pre>`` blocks (code
  listings, doctest sessions, notebook cells and their outputs), nor a
  notebook cell's copy of its source and its In/Out prompts; the names in
  them are found through the prose and the API reference's headings.

The search plugin's index takes the view (priority 100: before the plugin's
own ``on_page_context``), and the page is marked ``search: exclude`` for
that plugin's own pass, which would index it a second time.
"""

from __future__ import annotations

import re
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import event_priority
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page

KATEX_HTML = re.compile(r'<span class="katex-html"[^>]*>')
SPAN_TAG = re.compile(r"<span\b|</span>")
PRESENTATION = re.compile(r"<semantics>.*?(?=<annotation\b)", re.S)
PRE = re.compile(r"<pre\b.*?</pre>", re.S)
#: A notebook code cell's source kept for the copy button, and its prompts.
NOTEBOOK_CHROME = re.compile(
    r'<div[^>]*class="(?:clipboard-copy-txt|jp-InputPrompt[^"]*|jp-OutputPrompt[^"]*)"'
    r"[^>]*>.*?</div>",
    re.S,
)


def _drop_katex_html(html_text: str) -> str:
    pieces, last = [], 0
    for match in KATEX_HTML.finditer(html_text):
        if match.start() < last:
            continue
        depth = 0
        for tag in SPAN_TAG.finditer(html_text, match.start()):
            depth += 1 if tag.group() == "<span" else -1
            if depth == 0:
                pieces.append(html_text[last : match.start()])
                last = tag.end()
                break
    pieces.append(html_text[last:])
    return "".join(pieces)


def search_view(html_text: str) -> str:
    """The HTML the search index is built from: formulas as TeX, no ``<pre>``."""
    html_text = _drop_katex_html(html_text)
    html_text = PRESENTATION.sub("<semantics>", html_text)
    html_text = NOTEBOOK_CHROME.sub("", html_text)
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
