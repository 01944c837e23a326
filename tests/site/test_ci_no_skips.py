"""The CI guard: a skipped test fails the run when CI is set, not otherwise."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

pytestmark = pytest.mark.site

TESTS = """\
import pytest

torch = None

def test_passes():
    assert 1 + 1 == 2

@pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
def test_needs_torch():
    pass
"""


def run_pytest(
    tmp_path: Path, ci: bool, *args: str
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_sample.py").write_text(TESTS, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PYTHONPATH"] = str(ROOT)
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tools.ci_no_skips", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_skip_passes_outside_ci(tmp_path: Path) -> None:
    result = run_pytest(tmp_path, ci=False)
    assert result.returncode == 0, result.stdout
    assert "1 passed, 1 skipped" in result.stdout


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_a_skip_fails_under_ci_and_names_the_test(
    tmp_path: Path, workers: list[str]
) -> None:
    result = run_pytest(tmp_path, True, *workers)
    assert result.returncode == pytest.ExitCode.TESTS_FAILED, result.stdout
    assert "test_sample.py::test_needs_torch: PyTorch is not installed" in result.stdout
