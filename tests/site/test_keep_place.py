"""A link to a section, the table of contents and a reload put the reader
where they mean, on pages laid out on demand (``docs/assets/keep-place.js``).

Without the script, on this site's long pages, a link to a section of
Part 3 left its heading some 200 px down the screen, and a reload of the API
reference or a notebook put the reader thousands of pixels from where they
were: the browser reads the guessed heights of blocks not yet drawn.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_audit import DEVICES, sitemap_pages

from conftest import COMPLETE

pytestmark = pytest.mark.site

DESKTOP = {"viewport": {"width": 1280, "height": 720}}
#: The script has ended its hold on a section or a place.
SETTLED = """() => !['settling', undefined]
  .includes(document.documentElement.dataset.keepPlace)"""
HEADINGS = """() => Array.from(document.querySelectorAll('.md-content [id]'))
  .filter((e) => /^H[1-6]$/.test(e.tagName)).map((e) => e.id)"""
#: How far the heading is from where a jump to it puts it (its
#: scroll-margin below the header); 0 when it cannot go higher (the page's end).
OFF = """(id) => {
  const target = document.getElementById(id);
  const off = target.getBoundingClientRect().top
    - parseFloat(getComputedStyle(target).scrollMarginTop);
  const end = document.documentElement.scrollHeight - innerHeight;
  return off > 0 && scrollY >= end - 1 ? 0 : off;
}"""
TOP = "(id) => document.getElementById(id).getBoundingClientRect().top"
#: HEADINGS, read from a built page's file.
HEADING_IDS = re.compile(r'<h[1-6]\b[^>]*?\bid="([^"]+)"')


@pytest.fixture
def desktop(browser: Any) -> Iterator[Any]:
    context = browser.new_context(**DESKTOP)
    yield context.new_page()
    context.close()


def arrive(page: Any, url: str) -> None:
    """Open ``url``; one with a section, until the script has placed it."""
    page.goto(url)
    page.wait_for_function(COMPLETE)
    if "#" in url:
        page.wait_for_function(SETTLED)


def deep(headings: list[str]) -> str:
    """A heading two thirds down the page."""
    return headings[len(headings) * 2 // 3]


def test_a_link_to_a_section_puts_it_at_the_top_on_every_page(
    server: str, desktop: Any, built_site: Path
) -> None:
    """Each page opened from the one before it: a load, not a jump within
    a page (the table of contents' test has that)."""
    offsets = {}
    for url in sitemap_pages(built_site):
        html = (built_site / url / "index.html").read_text("utf-8")
        headings = HEADING_IDS.findall(html)
        if len(headings) < 3:
            continue
        section = deep(headings)
        arrive(desktop, f"{server}/{url}#{section}")
        offsets[f"{url}#{section}"] = round(desktop.evaluate(OFF, section), 1)
    assert len(offsets) > 15
    assert {link: off for link, off in offsets.items() if abs(off) > 2} == {}


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_the_table_of_contents_puts_a_section_at_the_top(
    server: str, browser: Any, device: str
) -> None:
    context = browser.new_context(
        **(DESKTOP if device == "desktop" else DEVICES[device])
    )
    page = context.new_page()
    arrive(page, f"{server}/part3-convolution/")
    section = deep(page.evaluate(HEADINGS))
    if device == "desktop":
        page.locator(f'a.md-nav__link[href="#{section}"]:visible').first.click()
    else:  # the phone's contents are in the drawer: the link it follows
        page.evaluate("id => { location.hash = '#' + id; }", section)
    page.wait_for_function(SETTLED)
    assert abs(page.evaluate(OFF, section)) <= 2
    context.close()


@pytest.mark.parametrize("device", ["desktop", "phone"])
@pytest.mark.parametrize(
    "url", ["part2-backpropagation/", "api/part3/", "notebooks/cnn-digits/"]
)
def test_a_reload_puts_the_reader_back_where_they_were(
    server: str, browser: Any, url: str, device: str
) -> None:
    context = browser.new_context(
        **(DESKTOP if device == "desktop" else DEVICES[device])
    )
    page = context.new_page()
    arrive(page, f"{server}/{url}")
    section = deep(page.evaluate(HEADINGS))
    # The reader reads a little past a heading, and the page is laid out.
    page.evaluate(
        "id => { document.getElementById(id).scrollIntoView(); scrollBy(0, 150); }",
        section,
    )
    page.wait_for_timeout(1000)
    before = page.evaluate(TOP, section)
    page.reload()
    page.wait_for_function(COMPLETE)
    page.wait_for_function(SETTLED)
    assert page.evaluate("document.documentElement.dataset.keepPlace") == "settled"
    assert abs(page.evaluate(TOP, section) - before) <= 2
    context.close()


def test_a_reader_who_moves_is_not_pulled_back(server: str, desktop: Any) -> None:
    arrive(desktop, f"{server}/part3-convolution/")
    section = deep(desktop.evaluate(HEADINGS))
    desktop.goto(f"{server}/part2-backpropagation/")
    desktop.goto(f"{server}/part3-convolution/#{section}")
    desktop.wait_for_function(
        "() => document.documentElement.dataset.keepPlace === 'settling'"
    )
    desktop.mouse.move(600, 400)
    desktop.mouse.wheel(0, 600)
    desktop.wait_for_function(SETTLED)
    assert desktop.evaluate("document.documentElement.dataset.keepPlace") == (
        "reader-moved"
    )
    desktop.wait_for_timeout(500)
    assert desktop.evaluate(OFF, section) < -300  # where the wheel took it
