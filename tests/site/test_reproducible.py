"""Two builds of the same commit are byte-identical, every file.

The session's first build (``built_site``) executes every notebook; once it
is done, ``conftest._build_once`` starts a second, independent build of the
same tree in the background, which executes every notebook again (no cache:
a stored run would hide a clock or an address printed by a cell). This test
waits for it and compares the two sites file by file.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.site.conftest import ROOT

pytestmark = pytest.mark.site

#: The second build runs beside the other tests; it is a full build.
PATIENCE_SECONDS = 900


def files(site: Path) -> dict[str, bytes]:
    return {
        p.relative_to(site).as_posix(): p.read_bytes()
        for p in sorted(site.rglob("*"))
        if p.is_file()
    }


def test_two_builds_are_byte_identical(built_site: Path, shared_dir: Path) -> None:
    rc = shared_dir / "site-2.rc"
    deadline = time.monotonic() + PATIENCE_SECONDS
    while not rc.exists() or not rc.read_text().strip():
        assert time.monotonic() < deadline, "the second build did not finish"
        time.sleep(1)
    log = (shared_dir / "site-2.log").read_text(encoding="utf-8")
    assert rc.read_text().strip() == "0", log
    notebooks = len(list((ROOT / "docs" / "notebooks").glob("*.py")))
    assert f"Notebooks: {notebooks} executing" in log, log  # all ran again
    first, second = files(built_site), files(shared_dir / "site-2")
    assert sorted(first) == sorted(second)
    differing = {
        name: first_difference(first[name], second[name])
        for name in first
        if first[name] != second[name]
    }
    assert differing == {}


def first_difference(a: bytes, b: bytes) -> str:
    """Where two files part, with a little of each around it."""
    at = next(
        i for i, (x, y) in enumerate(zip(a + b"\0", b + b"\1", strict=False)) if x != y
    )
    start = max(at - 80, 0)
    return f"byte {at}: {a[start : at + 80]!r} != {b[start : at + 80]!r}"
