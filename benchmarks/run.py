"""Timing goals of the project, measured on this machine (not in the test suite).

Run with ``make bench``. Each line prints a measurement, its goal and whether
it is met; the exit status is non-zero if a goal is missed.

* the strict site build, notebooks executed: goal <= 60 s;
* each notebook page executed on its own: goal <= 30 s (the labs' budget);
* ``mkdocs serve --dirty`` (as ``make serve``) with the notebook cache warm:
  from saving an edit to a Markdown page to the browser's reload, goal
  <= 3 s (issue 17; ``tests/site/test_serve.py`` checks that nothing
  re-executes, on a copy of the project made the same way).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
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


SKIPPED = (".git", ".venv", "node_modules", "site", ".cache", "test-artifacts")


def serve_reload_seconds(work: Path, cache: Path, env: dict[str, str]) -> float:
    """Serve a copy of the project, notebook cache seeded; edit a page."""
    project = work / "project"
    shutil.copytree(ROOT, project, ignore=shutil.ignore_patterns(*SKIPPED))
    (project / "node_modules").symlink_to(ROOT / "node_modules")
    shutil.copytree(cache, project / ".cache" / "notebooks")
    env = {**env, "NOTEBOOK_CACHE": "1"}
    env.pop("CI", None)
    config = str(project / "mkdocs.yml")
    serve = ["serve", "--strict", "--dirty", "-a", "127.0.0.1:8799", "-f", config]
    server = subprocess.Popen(
        [sys.executable, "-m", "mkdocs", *serve],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[tuple[float, str]] = []

    def read() -> None:
        for line in server.stdout or []:
            lines.append((time.perf_counter(), line))

    threading.Thread(target=read, daemon=True).start()

    def wait(text: str, after: float) -> float:
        deadline = time.perf_counter() + 600
        while time.perf_counter() < deadline:
            for moment, line in list(lines):
                if moment >= after and text in line:
                    return moment
            time.sleep(0.02)
        raise RuntimeError(f"mkdocs serve printed no {text!r}")

    try:
        wait("Serving on", 0.0)
        time.sleep(2)
        edited = time.perf_counter()
        with (project / "docs" / "part1-matrix-calculus.md").open("a") as f:
            f.write("\nAn edit.\n")
        return wait("Reloading browsers", edited) - edited
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stdout is not None:
            server.stdout.close()


def main() -> int:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    results = []
    with tempfile.TemporaryDirectory() as work:
        cache = Path(work) / "notebooks"
        site = str(Path(work) / "site")
        build = timed(
            [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", site],
            cwd=ROOT,
            # Every notebook executed (none read from the cache), runs kept.
            env={**env, "NOTEBOOK_CACHE": "refresh", "NOTEBOOK_CACHE_DIR": str(cache)},
        )
        results.append(("mkdocs build --strict (notebooks executed)", build, 60.0))
        reload = serve_reload_seconds(Path(work), cache, env)
        results.append(("mkdocs serve --dirty: Markdown edit to reload", reload, 3.0))
    for notebook in sorted((ROOT / "docs" / "notebooks").glob("*.py")):
        name = f"notebook {notebook.relative_to(ROOT)}"
        results.append((name, notebook_seconds(notebook), 30.0))
    missed = 0
    for name, seconds, goal in results:
        ok = seconds <= goal
        missed += not ok
        verdict = "ok" if ok else "MISSED"
        print(f"{name:60s} {seconds:7.1f} s  goal <= {goal:.0f} s  {verdict}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
