"""MkDocs hook: every page's description, and the site's robots.txt.

* **Descriptions.** A Markdown page gives its description in its front
  matter (``description: ...``); a notebook page in its jupytext header,
  under ``jupyter:`` (``description: ...``), which is the notebook's own
  metadata. The theme puts it in ``<meta name="description">`` and
  ``overrides/main.html`` in the Open Graph and Twitter tags. A page without
  one is a warning, so ``mkdocs build --strict`` fails on it, as it does on
  two pages that share one.
* **robots.txt** allows every crawler and names the sitemap by its absolute
  URL, under ``site_url`` (which may have a path, as a GitHub Pages project
  site does).
"""

from __future__ import annotations

import logging

import jupytext
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

log = logging.getLogger("mkdocs.hooks.metadata")

NOTEBOOK_SOURCES = (".py", ".ipynb")
_seen: dict[str, str] = {}  # description → the page that has it


def robots_txt(site_url: str) -> str:
    """robots.txt for a site at ``site_url``: allow all, name the sitemap."""
    base = site_url if site_url.endswith("/") else site_url + "/"
    return f"User-agent: *\nAllow: /\n\nSitemap: {base}sitemap.xml\n"


def notebook_description(path: str) -> str | None:
    """The ``description`` of a notebook (its jupytext header's ``jupyter:``)."""
    description = jupytext.read(path).metadata.get("description")
    return " ".join(description.split()) if isinstance(description, str) else None


def on_pre_build(config: MkDocsConfig) -> None:
    _seen.clear()


def on_files(files: Files, config: MkDocsConfig) -> Files:
    site_url = config.site_url or "/"
    files.append(File.generated(config, "robots.txt", content=robots_txt(site_url)))
    return files


def on_page_content(
    html_text: str, page: Page, config: MkDocsConfig, files: Files
) -> str:
    if page.file.src_uri.endswith(NOTEBOOK_SOURCES) and page.file.abs_src_path:
        description = notebook_description(page.file.abs_src_path)
        if description:
            page.meta["description"] = description
    description = page.meta.get("description")
    if not description:
        log.warning(
            "Page '%s' has no description: give it one in its front matter "
            "(a notebook: under 'jupyter:' in its jupytext header).",
            page.file.src_uri,
        )
    elif description in _seen:
        log.warning(
            "Pages '%s' and '%s' have the same description.",
            _seen[description],
            page.file.src_uri,
        )
    else:
        _seen[description] = page.file.src_uri
    return html_text
