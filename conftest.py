"""Collect the doctests of every page and every module (see tools/doctests.py);
under CI, fail the run if anything was skipped (see tools/ci_no_skips.py)."""

from pathlib import Path

from tools.doctests import site_sybil

pytest_plugins = ["tools.ci_no_skips"]
pytest_collect_file = site_sybil(Path(__file__).parent).pytest()
