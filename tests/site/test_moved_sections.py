"""Links saved before a page was split still reach their section
(``tools/moved_sections_hook.py``).

``data/anchors-before-the-splits.json`` lists every section anchor of the
two pages before they were split, from those commits' builds: the API
reference at 09c0f71^ and Part 3 at 0e9b3f7^ (the theme's own ids left out).
"""

from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path
from typing import Any

import pytest

from conftest import COMPLETE

pytestmark = pytest.mark.site

BEFORE: dict[str, list[str]] = json.loads(
    (Path(__file__).parent / "data" / "anchors-before-the-splits.json").read_text()
)
#: The old page's own title: it meant the page's top, where a reader lands.
OLD_TITLES = {"part3-convolution/": "part-3-convolution-and-pooling"}
ID = re.compile(r'\bid="([^"]+)"')


def anchors(site: Path, page: str) -> set[str]:
    """The ids of the page at URL path ``page`` (``api/part1/``)."""
    return set(ID.findall((site / page / "index.html").read_text("utf-8")))


def moved(site: Path, page: str) -> dict[str, str]:
    """The page's map: anchor → the page that has it, as a URL path."""
    found = json.loads((site / page / "moved-sections.json").read_text("utf-8"))
    return {
        a: posixpath.normpath(posixpath.join(page, u)) + "/" for a, u in found.items()
    }


@pytest.mark.parametrize("page", sorted(BEFORE))
def test_every_anchor_from_before_the_split_arrives(
    built_site: Path, page: str
) -> None:
    here, sent = anchors(built_site, page), moved(built_site, page)
    assert len(BEFORE[page]) > 20
    stay = [a for a in BEFORE[page] if a in here or a == OLD_TITLES.get(page)]
    go = [a for a in BEFORE[page] if a not in stay]
    assert len(go) > 10
    assert [a for a in go if a not in sent] == []
    assert [a for a in go if a not in anchors(built_site, sent[a])] == []
    # The map sends nothing away that the page itself has.
    assert here & set(sent) == set()


def test_only_the_split_pages_carry_the_script(built_site: Path) -> None:
    carrying = sorted(
        html.parent.relative_to(built_site).as_posix() + "/"
        for html in built_site.rglob("*.html")
        if "moved-sections.json" in html.read_text("utf-8")
    )
    assert carrying == sorted(BEFORE)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (
            "api/#cnnscratch.conv.conv2d_forward",
            "api/part3/#cnnscratch.conv.conv2d_forward",
        ),
        (
            "part3-convolution/#average-pooling",
            "part3-fast-convolution-and-pooling/#average-pooling",
        ),
        # Still on the page: the reader stays.
        ("api/#what-every-function-accepts", "api/#what-every-function-accepts"),
        ("part3-convolution/#the-bias", "part3-convolution/#the-bias"),
        # Nowhere: the page, at its top.
        ("api/#no-such-section", "api/#no-such-section"),
    ],
)
def test_a_saved_link_opens_where_its_section_is_now(
    server: str, browser: Any, old: str, new: str
) -> None:
    page = browser.new_page()
    try:
        page.goto(f"{server}/{old}")
        page.wait_for_url(f"{server}/{new}")
        page.wait_for_load_state("networkidle")
        page.wait_for_function(COMPLETE)
        assert page.url == f"{server}/{new}"
        anchor = new.partition("#")[2]
        box = page.evaluate(
            "id => { const e = document.getElementById(id);"
            " return e && e.getBoundingClientRect().top; }",
            anchor,
        )
        if anchor == "no-such-section":
            assert box is None
        else:
            # On screen, as a link to it on its own page would put it.
            assert box is not None
            assert 0 < box < page.viewport_size["height"] / 2
        # The tab's blank page, then this one: a move replaced the entry of
        # the page that sent the reader on, so Back does not return there.
        assert page.evaluate("history.length") == 2
    finally:
        page.close()
