"""Collect the doctests of every page and every module (see tools/doctests.py)."""

from pathlib import Path

from tools.doctests import site_sybil

pytest_collect_file = site_sybil(Path(__file__).parent).pytest()
