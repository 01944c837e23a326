"""tools/accessibility_hook.py on small pieces of HTML."""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any

import pytest

from tools import accessibility_hook as hook

TABLE = (
    "<table><thead><tr><th>Layer</th><th align='right'>Params</th></tr></thead>"
    "<tbody><tr><th>conv</th><td>160</td></tr>"
    '<tr><th scope="col">kept</th><td>0</td></tr></tbody></table>'
)


def test_header_cells_are_scoped_to_columns_in_the_head_and_rows_in_the_body() -> None:
    html = hook.scope_headers(TABLE)
    assert html.count('<th scope="col">Layer</th>') == 1
    assert "<th scope=\"col\" align='right'>Params</th>" in html
    assert '<th scope="row">conv</th>' in html
    assert '<th scope="col">kept</th>' in html  # a scope already given stays
    assert "<thead>" in html
    assert "<tbody>" in html


def page(src: str = "index.md") -> Any:
    return SimpleNamespace(file=SimpleNamespace(src_uri=src))


def test_the_search_dialog_is_named() -> None:
    out = hook.on_post_page(
        '<div class="md-search" data-md-component="search" role="dialog">',
        page(),
        None,  # type: ignore[arg-type]
    )
    assert out == (
        '<div class="md-search" data-md-component="search" role="dialog" '
        'aria-label="Search">'
    )


def test_a_search_dialog_written_differently_is_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    html = '<div role="dialog" class="md-search" data-md-component="search">'
    with caplog.at_level(logging.WARNING, logger="mkdocs.hooks.accessibility"):
        out = hook.on_post_page(html, page("part1.md"), None)  # type: ignore[arg-type]
    assert out == html
    assert "part1.md" in caplog.text
    assert "without a name" in caplog.text


def test_the_search_dialog_of_the_404_page_is_named() -> None:
    out = hook.on_post_template(
        '<div class="md-search" data-md-component="search" role="dialog">',
        "404.html",
        None,  # type: ignore[arg-type]
    )
    assert out == (
        '<div class="md-search" data-md-component="search" role="dialog" '
        'aria-label="Search">'
    )
