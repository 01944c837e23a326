"""MkDocs hook: a saved link to a section that moved to another page still
arrives there.

Two pages were split, and their sections went to new pages: the API
reference (one page until 09c0f71, now an index and six pages by part) and
Part 3 (until 0e9b3f7, now "Convolution" and "Fast convolution and
pooling"). A link saved before, such as
``/api/#cnnscratch.conv.conv2d_forward``, would open the old page at its top.

For each page of :data:`MOVED`, the build writes ``moved-sections.json``
beside it: every anchor of the pages its sections went to that the page
itself does not have, with the URL of the page that has it now. The page
gets a short script: when the address names an anchor that the page does not
have, it reads the file and goes there (``location.replace``: Back does not
return to the page that sent the reader on). A page's load fetches nothing
more: the file is read only for an anchor that is not on the page.
"""

from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

#: A page whose sections moved → the pages they went to (source paths).
MOVED: dict[str, list[str]] = {
    "api/index.md": [
        "api/part1.md",
        "api/part2.md",
        "api/part3.md",
        "api/part4-5.md",
        "api/layers.md",
        "api/training.md",
    ],
    "part3-convolution.md": ["part3-fast-convolution-and-pooling.md"],
}
MAP_NAME = "moved-sections.json"
ID = re.compile(r'\bid="([^"]+)"')

SCRIPT = """<script>
(function () {
  var id = decodeURIComponent(location.hash.slice(1));
  if (!id || document.getElementById(id)) return;
  fetch("MAP_NAME")
    .then(function (reply) { return reply.json(); })
    .then(function (moved) {
      if (Object.prototype.hasOwnProperty.call(moved, id)) {
        location.replace(moved[id] + location.hash);
      }
    });
})();
</script>""".replace("MAP_NAME", MAP_NAME)

_pages: dict[str, tuple[str, str]] = {}


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Remember where each page involved is written, and its URL."""
    _pages.clear()
    wanted = set(MOVED) | {dest for dests in MOVED.values() for dest in dests}
    for path in sorted(wanted):
        file = files.get_file_from_path(path)
        if file is None:
            raise ValueError(f"moved_sections_hook: {path} is not a page")
        _pages[path] = (file.dest_uri, file.url)
    return files


def on_post_page(output: str, page: Page, config: MkDocsConfig) -> str:
    if page.file.src_uri in MOVED:
        output = output.replace("</body>", SCRIPT + "\n</body>", 1)
    return output


def moved_anchors(site: Path, source: str) -> dict[str, str]:
    """The anchors of ``source``'s successors that ``source`` lacks, each
    with the URL (relative to ``source``) of the first successor that has
    it."""
    dest_uri, url = _pages[source]
    here = set(ID.findall((site / dest_uri).read_text(encoding="utf-8")))
    found: dict[str, str] = {}
    for successor in MOVED[source]:
        successor_uri, successor_url = _pages[successor]
        html = (site / successor_uri).read_text(encoding="utf-8")
        relative = posixpath.relpath(successor_url or ".", url or ".") + "/"
        for anchor in ID.findall(html):
            if anchor not in here:
                found.setdefault(anchor, relative)
    return dict(sorted(found.items()))


def on_post_build(config: MkDocsConfig) -> None:
    """Every page is written (a ``--dirty`` rebuild kept the others): write
    each map beside its page."""
    site = Path(config.site_dir)
    for source in MOVED:
        dest_uri, _ = _pages[source]
        target = site / posixpath.dirname(dest_uri) / MAP_NAME
        target.write_text(
            json.dumps(moved_anchors(site, source), separators=(",", ":")),
            encoding="utf-8",
        )
