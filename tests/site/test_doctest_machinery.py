"""The doctest machinery itself: a wrong output on a page must fail the suite."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import ROOT

PAGE = """\
    # A page

    ```pycon
    >>> import numpy as np
    >>> total = sum(
    ...     [1, 2, 3]
    ... )
    >>> total
    {shown}
    >>> np.float64(0.5)  # the print policy gives a version-independent repr
    0.5
    ```
    """


def run_pytest_on_page(tmp_path: Path, shown: str) -> subprocess.CompletedProcess[str]:
    """Run pytest, as CI does, on a page whose example shows ``shown``."""
    (tmp_path / "page.md").write_text(textwrap.dedent(PAGE.format(shown=shown)))
    (tmp_path / "conftest.py").write_text(
        "from tools.doctests import page_sybil\n"
        "pytest_collect_file = page_sybil('.').pytest()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "page.md"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_a_correct_page_passes(tmp_path: Path) -> None:
    result = run_pytest_on_page(tmp_path, shown="6")
    assert result.returncode == 0, result.stdout
    assert "4 passed" in result.stdout


def test_a_wrong_output_on_a_page_fails_the_suite(tmp_path: Path) -> None:
    result = run_pytest_on_page(tmp_path, shown="7")
    assert result.returncode == 1, result.stdout
    assert "1 failed, 3 passed" in result.stdout
    assert "Expected:\n    7\nGot:\n    6" in result.stdout


def test_pytest_on_one_page_runs_that_pages_examples() -> None:
    page = ROOT / "docs" / "part1-matrix-calculus.md"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", str(page)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout
    passed = int(result.stdout.strip().splitlines()[-1].split()[0])
    blocks = page.read_text().count("```pycon")
    assert passed >= blocks > 10


@pytest.mark.parametrize("page", sorted((ROOT / "docs").rglob("*.md")), ids=str)
def test_every_code_block_on_a_page_is_a_doctest(page: Path) -> None:
    """Python on a page is a pycon session Sybil runs, or real source included
    with a snippet marker — never a listing typed into the page."""
    text = page.read_text(encoding="utf-8")
    assert "```py\n" not in text
    for block in text.split("```python")[1:]:
        body = block.split("```", 1)[0].strip()
        assert re.fullmatch(r'--8<-- "cnnscratch/[\w/]+\.py:\w+"', body), (page, body)
    for block in text.split("```pycon")[1:]:
        assert block.lstrip("\n").startswith(">>> "), page
