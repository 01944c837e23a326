"""MkDocs hook: names and scopes that assistive technology needs.

* **The search dialog.** Material's search box is ``role="dialog"`` with no
  name, so a screen reader announces "dialog" and nothing else. The hook
  names it "Search", on the pages and on the theme's own (``404.html``).
  Should a new version of the theme write the dialog differently, the build
  warns (and ``--strict`` fails) rather than ship the unnamed dialog.
* **Table headers.** A header cell says which cells it heads: ``scope="col"``
  in a table's head, ``scope="row"`` for a header cell in its body (the
  index column of a notebook's data frame).
"""

from __future__ import annotations

import logging
import re

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

log = logging.getLogger("mkdocs.hooks.accessibility")

SEARCH_DIALOG = re.compile(
    r'(<div class="md-search" data-md-component="search")'
    r' role="dialog">'
)
SEARCH_NAME = "Search"
SECTION = re.compile(r"<(thead|tbody)\b.*?</\1>", re.S)
HEADER_CELL = re.compile(r"<th(?![^>]*\bscope=)(?=[\s>])")


def scope_headers(html_text: str) -> str:
    """``<th>`` → ``<th scope="col">`` in a table head, ``scope="row"`` in a body."""

    def scope(section: re.Match[str]) -> str:
        kind = "col" if section[1] == "thead" else "row"
        return HEADER_CELL.sub(f'<th scope="{kind}"', section[0])

    return SECTION.sub(scope, html_text)


def on_page_content(
    html_text: str, page: Page, config: MkDocsConfig, files: Files
) -> str:
    return scope_headers(html_text)


def name_search_dialog(output: str, where: str) -> str:
    """The theme's search dialog named; a warning naming ``where`` if the
    page has the search box written in some other way."""
    named, count = SEARCH_DIALOG.subn(
        rf'\1 role="dialog" aria-label="{SEARCH_NAME}">', output, count=1
    )
    if count == 0 and 'class="md-search"' in output:
        log.warning(
            "Page '%s': the theme's search dialog is not written as "
            "tools/accessibility_hook.py expects; it would ship without a name.",
            where,
        )
    return named


def on_post_page(output: str, page: Page, config: MkDocsConfig) -> str:
    return name_search_dialog(output, page.file.src_uri)


def on_post_template(output: str, template_name: str, config: MkDocsConfig) -> str:
    """The theme's own pages (``404.html``) have the search box too."""
    return name_search_dialog(output, template_name)
