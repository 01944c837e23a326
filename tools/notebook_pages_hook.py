"""MkDocs hook: links, figure descriptions and styles of notebook pages.

mkdocs-jupyter renders a notebook's cells itself, so what MkDocs and the
Markdown pages take for granted needs doing again on notebook pages:

* **Links between pages.** MkDocs rewrites ``[Part 2](../part2-backpropagation.md)``
  to the URL of the page it names; in a notebook cell the ``.md`` stays, a
  link the browser cannot follow. This hook resolves every relative link to a
  source file (``.md``, or a notebook ``.py``/``.ipynb``) against the
  notebook's own folder and replaces it with the target page's URL, keeping
  any ``#anchor``. A link to a file that is not a page is a warning, so
  ``mkdocs build --strict`` fails on it as it does on ordinary pages.
* **Alt text of figures.** nbconvert gives every output image the
  placeholder alt "No description has been provided for this image". A code
  cell states what its figure shows in its metadata, on the jupytext cell
  line: ``# %% alt="Loss curves of ..."``; the hook puts that text on the
  images the cell produced. An output image of a cell without ``alt`` is a
  warning, so a figure without a description fails the strict build.
* **Styles.** nbconvert inlines JupyterLab's whole stylesheet (about 590 KB,
  nearly all of it for JupyterLab's own interface, light colours only) in
  every notebook page, and mkdocs-jupyter has no option to leave it out.
  The hook removes every ``<style>`` block of the notebook and links the
  site's own small ``assets/notebook.css`` instead, which colours the cells
  from the theme's variables in both schemes.
* **Prompts.** ``In [3]:`` and ``Out[3]:`` are hidden from screen readers
  (``aria-hidden``): read aloud before every cell they are noise, and the
  execution count says nothing the order of the cells does not.
"""

from __future__ import annotations

import html
import logging
import posixpath
import re

import jupytext
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import event_priority
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

log = logging.getLogger("mkdocs.hooks.notebook_pages")

NOTEBOOK_SOURCES = (".py", ".ipynb")
#: A relative href to a page source: no scheme, not absolute, not only an anchor.
SOURCE_LINK = re.compile(
    r'href="(?![a-z][a-z0-9+.-]*:|/|#)([^"#?]+\.(?:md|py|ipynb))(#[^"]*)?"'
)
#: What nbconvert writes on an output image that has no description.
PLACEHOLDER_ALT = 'alt="No description has been provided for this image"'
#: The start of each code cell in mkdocs-jupyter's HTML (the element with the id;
#: the template also wraps it in a div with the same classes but no id).
CODE_CELL = re.compile(r'(?=<div class="jp-Cell jp-CodeCell[^"]*" id="cell-id=)')
#: nbconvert's inlined stylesheets (JupyterLab's, and Pygments' for the cells).
STYLE = re.compile(r"<style\b[^>]*>.*?</style>\s*", re.S | re.I)
#: The site's stylesheet for notebook cells (docs/assets/notebook.css).
NOTEBOOK_CSS = "assets/notebook.css"
#: The In/Out prompt of a cell, as nbconvert's lab template writes it.
PROMPT = re.compile(r'<div class="(jp-(?:Input|Output)Prompt [^"]*)">')


def link_pages(html_text: str, page: Page, files: Files) -> str:
    """Relative links to page sources → the URLs of those pages."""
    folder = posixpath.dirname(page.file.src_uri)

    def rewrite(match: re.Match[str]) -> str:
        path, anchor = match.group(1), match.group(2) or ""
        target = files.get_file_from_path(posixpath.normpath(f"{folder}/{path}"))
        if target is None or not target.is_documentation_page():
            log.warning(
                "Doc file '%s' contains a link '%s', but the target is not a page "
                "of the site.",
                page.file.src_uri,
                path,
            )
            return match.group(0)
        return f'href="{target.url_relative_to(page.file)}{anchor}"'

    return SOURCE_LINK.sub(rewrite, html_text)


def describe_figures(html_text: str, page: Page) -> str:
    """Each code cell's ``alt`` metadata → the alt text of its output images."""
    if PLACEHOLDER_ALT not in html_text:
        return html_text
    notebook = jupytext.read(page.file.abs_src_path)
    alts = [
        cell.metadata.get("alt") for cell in notebook.cells if cell.cell_type == "code"
    ]
    head, *cells = CODE_CELL.split(html_text)
    if len(cells) != len(alts):
        log.warning(
            "Notebook '%s': %d code cells in the source but %d on the page; "
            "cannot match figures to their alt text.",
            page.file.src_uri,
            len(alts),
            len(cells),
        )
        return html_text
    for number, (alt, cell) in enumerate(zip(alts, cells, strict=True), start=1):
        if PLACEHOLDER_ALT not in cell:
            continue
        if not alt:
            log.warning(
                "Notebook '%s': code cell %d draws a figure but has no alt text; "
                'describe it on its cell line: # %%%% alt="..."',
                page.file.src_uri,
                number,
            )
            continue
        cells[number - 1] = cell.replace(
            PLACEHOLDER_ALT, f'alt="{html.escape(alt, quote=True)}"'
        )
    return head + "".join(cells)


def restyle(html_text: str, page: Page) -> str:
    """nbconvert's ``<style>`` blocks → one link to the site's notebook CSS."""
    href = posixpath.relpath(NOTEBOOK_CSS, posixpath.dirname(page.file.dest_uri))
    link = f'<link rel="stylesheet" href="{href}">\n'
    return link + STYLE.sub("", html_text)


def hide_prompts(html_text: str) -> str:
    """``In [n]:`` / ``Out[n]:`` prompts → hidden from assistive technology."""
    return PROMPT.sub(r'<div class="\1" aria-hidden="true">', html_text)


# Before tools/katex_hook.py (priority 0), so that no hook after this one sees
# nbconvert's stylesheet.
@event_priority(50)
def on_page_content(
    html_text: str, page: Page, config: MkDocsConfig, files: Files
) -> str:
    if not page.file.src_uri.endswith(NOTEBOOK_SOURCES):
        return html_text
    html_text = describe_figures(link_pages(html_text, page, files), page)
    return restyle(hide_prompts(html_text), page)
