"""The real site's build says nothing it should not.

``mkdocs build --strict`` fails on MkDocs' own warnings, but text that the
notebooks' kernels or the hooks' subprocesses write to stderr passes through
to the log. A clean log is what a contributor reads after ``make build``, so
a warning there is a defect wherever it comes from (ipykernel warned about
its TCP transport on every kernel start until the kernels used Unix sockets).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.site

WARNING = re.compile(r"\bwarn(?:ing)?\b", re.I)


def test_the_build_log_has_no_warnings(built_site: Path, shared_dir: Path) -> None:
    output = json.loads((shared_dir / "site.json").read_text())["output"]
    assert "Notebooks:" in output  # the log is the build's, notebooks included
    assert [line for line in output.splitlines() if WARNING.search(line)] == []
