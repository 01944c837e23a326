"""MkDocs hook: the explorables, step-through figures computed at build time.

A line ``{{ explorable: NAME }}`` on its own in a page becomes a
``<figure class="explorable">``: the first frame as a static SVG with alt
text inside ``<noscript>`` (what a reader without JavaScript sees, and
downloaded by no one else), a caption, and the address of
``explorables/NAME.json``, every frame's numbers for every setting, written
by ``tools/explorables.py`` with the package (fetched by the script only when
the reader scrolls near the figure, so not part of the page's first load).
``docs/assets/explorables.js`` and ``explorables.css`` are linked from the
pages that use one, only. An unknown name, or a name used twice, fails the
build.
"""

from __future__ import annotations

import json
import re
from html import escape
from typing import Any

import explorables
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url

PLACEHOLDER = re.compile(r"^\{\{ explorable: ([a-z0-9-]+) \}\}[ \t]*$", re.M)
DATA: dict[str, dict[str, Any]] = {}  # one build's data, by name
USED: dict[str, str] = {}  # name → the page that shows it


def on_files(files: Files, config: MkDocsConfig) -> Files:
    DATA.clear()
    USED.clear()
    for name in explorables.EXPLORABLES:
        data = explorables.build(name)
        DATA[name] = data
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        files.append(
            File.generated(config, f"explorables/{name}.json", content=text.encode())
        )
        files.append(
            File.generated(
                config,
                f"explorables/{name}.svg",
                content=explorables.first_frame_svg(data),
            )
        )
    return files


def figure(name: str, page: Page) -> str:
    data = DATA[name]
    here = page.file.url

    def url(path: str) -> str:
        return escape(get_relative_url(path, here))

    return (
        f'<figure class="explorable" id="explorable-{name}" '
        f'data-src="{url(f"explorables/{name}.json")}">\n'
        f'<noscript><img class="xp-static" src="{url(f"explorables/{name}.svg")}" '
        f'alt="{escape(explorables.alt_text(data))}"></noscript>\n'
        '<div class="xp-app" hidden></div>\n'
        f"<figcaption>{escape(data['caption'])}</figcaption>\n"
        "</figure>"
    )


def on_page_markdown(
    markdown: str, page: Page, config: MkDocsConfig, files: Files
) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in DATA:
            raise PluginError(
                f"{page.file.src_uri}: unknown explorable {name!r}; "
                f"known: {', '.join(sorted(DATA))}"
            )
        if name in USED:
            raise PluginError(
                f"{page.file.src_uri}: explorable {name!r} is already shown on "
                f"{USED[name]}"
            )
        USED[name] = page.file.src_uri
        return figure(name, page)

    return PLACEHOLDER.sub(replace, markdown)


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    if 'class="explorable"' not in html:
        return html
    here = page.file.url
    css = get_relative_url("assets/explorables.css", here)
    js = get_relative_url("assets/explorables.js", here)
    return (
        html
        + f'\n<link rel="stylesheet" href="{css}">'
        + f'\n<script src="{js}" defer></script>\n'
    )
