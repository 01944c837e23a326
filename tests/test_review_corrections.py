"""Regression tests for the corrections of the pages' review (Part 4 issue).

The corrections that a number can show are doctests on the pages themselves
(Part 1: the optimal step and its two runs, the capped run of the figure,
every eigenvalue positive, ``W[2, 1]``; Part 2: the sigmoid gradient's
shrink factor, Adam's steps; gotchas: the assigning col2im's wrong pixels, a
positive tie behind a ReLU). The ones about wording and structure are
checked here on the sources, the way a reviewer would.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
TAG = re.compile(r"\\tag\{(\d+)\.(\d+)\}")


def text(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_equation_tags_are_numbered_in_reading_order(page: Path) -> None:
    tags = [(int(a), int(b)) for a, b in TAG.findall(page.read_text(encoding="utf-8"))]
    assert tags == sorted(tags)
    assert len(set(tags)) == len(tags)
    assert len({part for part, _ in tags}) <= 1  # one part per page


def test_each_parts_equations_are_numbered_1_2_3_across_its_pages() -> None:
    """In the nav's order: Part 3's second page goes on from the first."""
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), _Loader)
    numbers: dict[int, list[int]] = {}
    for page in _nav_pages(config["nav"]):
        if page.endswith(".md"):
            for a, b in TAG.findall(text(page)):
                numbers.setdefault(int(a), []).append(int(b))
    assert {1, 2, 3, 4, 5} <= numbers.keys()
    assert numbers == {
        part: list(range(1, len(tags) + 1)) for part, tags in numbers.items()
    }


def _nav_pages(entries: list) -> list[str]:
    pages: list[str] = []
    for entry in entries:
        for value in entry.values() if isinstance(entry, dict) else [entry]:
            pages += _nav_pages(value) if isinstance(value, list) else [value]
    return pages


class _Loader(yaml.SafeLoader):
    """mkdocs.yml uses !ENV tags; their values do not matter here."""


_Loader.add_constructor("!ENV", lambda loader, node: None)


def test_home_page_reading_order_links_every_page_of_the_nav() -> None:
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), _Loader)
    reading_order = text("index.md").split("## Reading order")[1].split("\n## ")[0]
    for page in _nav_pages(config["nav"]):
        if page != "index.md" and not page.startswith("api/"):
            assert f"]({page})" in reading_order, page


@pytest.mark.parametrize(
    "name",
    ["index.md", "part3-convolution.md", "part3-fast-convolution-and-pooling.md"],
)
def test_pages_say_checked_not_proven_about_outputs(name: str) -> None:
    assert not re.search(r"\bproven\b", text(name))


def test_part3_flattens_row_major_with_its_own_symbol() -> None:
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert '"\\\\vec": "\\\\operatorname{vec}"' in config  # Parts 1-2: columns
    assert '"\\\\flatten":' in config
    for page in ("part3-convolution.md", "part3-fast-convolution-and-pooling.md"):
        assert "\\vec" not in text(page)
        assert "\\flatten" in text(page)


def test_gotchas_say_an_assigning_col2im_is_wrong_not_too_small() -> None:
    assert "too small wherever windows overlap" not in text("part3-gotchas.md")


def test_gradients_match_is_defined_where_part1_first_uses_it() -> None:
    part1 = text("part1-matrix-calculus.md")
    first_use = re.search(r"^>>> .*gradients_match", part1, re.M).start()
    assert "gradcheck.RTOL" in part1[:first_use]
    assert "central difference" in part1[:first_use]


def test_tie_subgradients_and_the_output_floor_are_explained_once() -> None:
    gotchas = text("part3-gotchas.md")
    assert "subgradient" in text("part3-fast-convolution-and-pooling.md")
    assert "lim_{h\\to 0^+}" not in gotchas  # the one-sided slopes: Part 3
    assert "\\lfloor" not in gotchas  # the floor: Part 3, eq. (3.2)
    assert "part3-fast-convolution-and-pooling.md#ties" in gotchas
    assert "part3-convolution.md#the-output-size" in gotchas


def test_lab_does_not_call_a_strided_convolution_a_new_derivation() -> None:
    lab = (DOCS / "notebooks" / "cnn-digits.py").read_text(encoding="utf-8")
    assert not re.search(r"stride\)?\s*#?\s*means a new derivation", lab)
    assert "digits_deep_cnn" in lab
