"""Timing goals of the project, measured on this machine (not in the test suite).

Run with ``make bench``. Each line prints a measurement, its goal and whether
it is met; the exit status is non-zero if a goal is missed.

* the strict site build, notebooks executed: goal < 60 s;
* each notebook page executed on its own: goal < 30 s (the labs' budget).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(command: list[str], **kwargs: object) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, **kwargs)  # type: ignore[call-overload]
    return time.perf_counter() - start


def notebook_seconds(path: Path) -> float:
    """Execute one jupytext notebook the way mkdocs-jupyter does."""
    code = (
        "import jupytext, nbclient, sys\n"
        "nb = jupytext.read(sys.argv[1])\n"
        "nbclient.NotebookClient(nb, kernel_name='python3', allow_errors=False,"
        " resources={'metadata': {'path': sys.argv[2]}}).execute()\n"
    )
    return timed([sys.executable, "-c", code, str(path), str(path.parent)])


def main() -> int:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    results = []
    with tempfile.TemporaryDirectory() as site:
        build = timed(
            [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", site],
            cwd=ROOT,
            env=env,
        )
    results.append(("mkdocs build --strict (notebooks executed)", build, 60.0))
    for notebook in sorted((ROOT / "docs" / "notebooks").glob("*.py")):
        name = f"notebook {notebook.relative_to(ROOT)}"
        results.append((name, notebook_seconds(notebook), 30.0))
    missed = 0
    for name, seconds, goal in results:
        ok = seconds < goal
        missed += not ok
        verdict = "ok" if ok else "MISSED"
        print(f"{name:60s} {seconds:7.1f} s  goal < {goal:.0f} s  {verdict}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
