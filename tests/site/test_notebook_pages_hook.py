"""Notebook pages: links to other pages and alt text of figures, on fixture sites."""

from __future__ import annotations

import base64
import json
import re
import struct
import zlib
from pathlib import Path

import jupytext
import pytest

from conftest import ROOT, make_site, mkdocs_build

pytestmark = pytest.mark.site

NOTEBOOK = """\
    # %% [markdown]
    # # A lab
    # See [the derivation](../part2.md#the-gradient), [the other lab](other.py),
    # [the home page](../index.md), [an outside page](https://example.org/a.md)
    # and [a section here](#a-lab).
    """


PAGES = {
    "index.md": "# Home\n",
    "part2.md": "# Part 2\n\n## The gradient\n",
    "notebooks/other.py": "# %% [markdown]\n# # Other\n",
}


def build(tmp_path: Path, notebook: str) -> tuple[int, str, Path]:
    config = make_site(
        tmp_path, {**PAGES, "notebooks/lab.py": notebook}, notebooks=True
    )
    result = mkdocs_build(config, tmp_path / "site")
    return result.returncode, result.stderr, tmp_path / "site"


@pytest.fixture(scope="module")
def good_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One fixture site for the tests of a build that passes: the lab with
    links (a jupytext page) and an executed notebook with two described
    figures. (One build instead of one per test: each costs seconds.)"""
    tmp_path = tmp_path_factory.mktemp("good")
    config = make_site(
        tmp_path,
        {
            **PAGES,
            "notebooks/lab.py": NOTEBOOK,
            "figures.ipynb": executed_notebook(
                ["First figure: a sine wave", 'Second "quoted" & more']
            ),
        },
        notebooks=True,
    )
    result = mkdocs_build(config, tmp_path / "site")
    assert result.returncode == 0, result.stderr
    return tmp_path / "site"


def test_links_to_pages_become_their_urls(good_site: Path) -> None:
    html = (good_site / "notebooks" / "lab" / "index.html").read_text(encoding="utf-8")
    assert 'href="../../part2/#the-gradient"' in html
    assert 'href="../other/"' in html
    assert 'href="../.."' in html  # the home page: ../../ (MkDocs writes ../..)
    assert 'href="https://example.org/a.md"' in html  # other sites untouched
    assert 'href="#a-lab"' in html
    assert ".md" not in html.replace("https://example.org/a.md", "")


def test_a_link_to_a_missing_page_fails_the_strict_build(tmp_path: Path) -> None:
    code, stderr, _ = build(tmp_path, "# %% [markdown]\n# [gone](../missing.md)\n")
    assert code != 0
    assert "notebooks/lab.py" in stderr
    assert "../missing.md" in stderr


def test_a_broken_link_in_a_markdown_page_fails_the_strict_build(
    tmp_path: Path,
) -> None:
    # The same rule on ordinary pages, which MkDocs enforces itself; this also
    # guards the test harness: `mkdocs build --strict -q` would pass here.
    config = make_site(tmp_path, {"index.md": "[gone](missing.md)\n"})
    result = mkdocs_build(config, tmp_path / "site")
    assert result.returncode != 0
    assert "missing.md" in result.stderr


def one_pixel_png() -> str:
    """A valid 1x1 PNG, base64-encoded as a notebook stores image outputs."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + chunk(b"IEND", b"")
    )
    return base64.b64encode(png).decode()


def executed_notebook(alts: list[str | None]) -> str:
    """An .ipynb whose code cells each drew one figure, with these alt texts."""
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "# A lab"}]
    for n, alt in enumerate(alts):
        cells.append(
            {
                "cell_type": "code",
                "execution_count": n + 1,
                "metadata": {} if alt is None else {"alt": alt},
                "source": f"plot({n})",
                "outputs": [
                    {
                        "output_type": "display_data",
                        "data": {
                            "image/png": one_pixel_png(),
                            "text/plain": "<Figure>",
                        },
                        "metadata": {},
                    }
                ],
            }
        )
    return json.dumps(
        {
            "cells": cells,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )


def figures_page(site: Path) -> str:
    return (site / "figures" / "index.html").read_text(encoding="utf-8")


def test_each_figure_gets_the_alt_text_of_its_cell(good_site: Path) -> None:
    html = figures_page(good_site)
    first = html.index('alt="First figure: a sine wave"')
    second = html.index('alt="Second &quot;quoted&quot; &amp; more"')
    assert first < second  # in cell order
    assert "No description has been provided" not in html


def test_a_figure_without_alt_text_fails_the_strict_build(tmp_path: Path) -> None:
    config = make_site(
        tmp_path,
        {"index.md": "# Home\n", "lab.ipynb": executed_notebook(["Described", None])},
        notebooks=True,
    )
    result = mkdocs_build(config, tmp_path / "site")
    code, stderr = result.returncode, result.stderr
    assert code != 0
    assert "lab.ipynb" in stderr
    assert "code cell 2" in stderr


def test_nbconvert_styles_give_way_to_the_site_stylesheet(good_site: Path) -> None:
    html = figures_page(good_site)
    # nbconvert inlines JupyterLab's stylesheet in <style> blocks (its
    # variables are named --jp-...); the page links the site's sheet instead.
    assert "<style" not in html
    assert "--jp-" not in html
    assert html.count('<link rel="stylesheet" href="../assets/notebook.css">') == 1


def test_prompts_are_hidden_from_screen_readers(good_site: Path) -> None:
    html = figures_page(good_site)
    prompts = re.findall(r'<div class="jp-(?:Input|Output)Prompt[^>]*>', html)
    assert len(prompts) >= 4  # an input and an output prompt per code cell
    assert all('aria-hidden="true"' in p for p in prompts)


@pytest.mark.parametrize(
    "notebook",
    sorted((ROOT / "docs" / "notebooks").glob("*.py")),
    ids=lambda p: p.name,
)
def test_no_markdown_heading_is_left_inside_a_code_cell(notebook: Path) -> None:
    """A ``# ## Heading`` comment in a code cell is prose whose
    ``# %% [markdown]`` marker went missing: the reader would see a section
    of the page as comments in a listing."""
    cells = jupytext.read(notebook).cells
    stray = [
        line
        for cell in cells
        if cell.cell_type == "code"
        for line in cell.source.splitlines()
        if re.match(r"# #{1,6} \S", line)
    ]
    assert stray == []
