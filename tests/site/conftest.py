"""Fixtures for the site tests: one strict build, a local server, a browser."""

from __future__ import annotations

import fcntl
import functools
import json
import os
import shutil
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

#: The explorables build themselves when a reader scrolls near them
#: (docs/assets/explorables.js): this scrolls past each, as a reader reading
#: down the page would, then back to the top; wait for EXPLORABLES_READY.
SCROLL_PAST_EXPLORABLES = """async () => {
  for (const figure of document.querySelectorAll("figure.explorable")) {
    figure.scrollIntoView();
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  }
  window.scrollTo(0, 0);
}"""
#: A reader's pass over the whole page, a screen at a time, then back to the
#: top: every block that is laid out only near the screen (content-visibility
#: in docs/assets/site.css) has been laid out once and keeps its size.
READ_THROUGH = """async () => {
  const frame = () => new Promise((r) => requestAnimationFrame(r));
  const step = () => frame().then(frame);
  for (let y = 0; y < document.documentElement.scrollHeight; y += innerHeight) {
    window.scrollTo(0, y);
    await step();
  }
  window.scrollTo(0, 0);
  await step();
}"""
#: The whole page laid out at once, as it is once a reader has passed over
#: it (tests/site/test_browser.py checks that every box is then where it is
#: when laid out on demand), and every box that may scroll checked again.
LAY_OUT_EVERYTHING = """() => {
  const style = document.createElement("style");
  style.textContent = "* { content-visibility: visible !important; }";
  document.head.append(style);
  window.dispatchEvent(new Event("resize"));
}"""
#: docs/assets/scroll-regions.js has checked every box that may scroll.
SCROLL_REGIONS_CHECKED = (
    "() => document.documentElement.dataset.scrollRegions === 'checked'"
)
EXPLORABLES_READY = (
    "() => document.querySelectorAll('figure.explorable:not([data-ready])').length == 0"
)
#: True once the whole page has arrived: Material's footer closes every page.
COMPLETE = "() => document.querySelector('footer.md-footer') !== null"
#: The Material scheme the page shows ("default" is light, "slate" dark).
SCHEME = "document.body.getAttribute('data-md-color-scheme')"


def last_commit_epoch(root: Path = ROOT) -> str | None:
    """The last commit's time, as the Makefile exports it (None outside git)."""
    result = subprocess.run(
        ["git", "log", "-1", "--format=%ct"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() or None if result.returncode == 0 else None


def build_env(**overrides: str) -> dict[str, str]:
    """The environment of a test build: the caller's, ``SOURCE_DATE_EPOCH``
    from the last commit when it is not set, the notebook cache off."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "NOTEBOOK_CACHE": "0"}
    epoch = last_commit_epoch()
    if epoch and "SOURCE_DATE_EPOCH" not in env:
        env["SOURCE_DATE_EPOCH"] = epoch
    env.update(overrides)
    return env


def mkdocs_command(config: Path, site_dir: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "mkdocs",
        "build",
        "--strict",  # no -q: it hides the warnings --strict counts
        "-f",
        str(config),
        "-d",
        str(site_dir),
    ]


def mkdocs_build(
    config: Path, site_dir: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``mkdocs build --strict`` in a subprocess, as a reader would."""
    return subprocess.run(
        mkdocs_command(config, site_dir),
        capture_output=True,
        text=True,
        env=env or build_env(),
        cwd=config.parent,
        check=False,
    )


def make_site(
    tmp_path: Path,
    pages: dict[str, str],
    notebooks: bool = False,
    hooks: tuple[str, ...] = ("katex_hook.py", "notebook_pages_hook.py"),
) -> Path:
    """A throwaway MkDocs project using the project's hooks and extensions.

    ``pages`` maps a path under ``docs/`` to its (dedented) text; with
    ``notebooks``, ``*.py`` and ``*.ipynb`` files are notebook pages (not
    executed: an ``.ipynb`` brings its stored outputs). ``hooks`` are the
    files of ``tools/`` it runs.
    """
    docs = tmp_path / "docs"
    for name, text in pages.items():
        path = docs / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    plugins = "plugins: []"
    if notebooks:
        plugins = textwrap.dedent("""\
            plugins:
              - mkdocs-jupyter:
                  include: ["*.py", "*.ipynb"]
                  execute: false
                  cache: false
            """)
    config = tmp_path / "mkdocs.yml"
    config.write_text(
        textwrap.dedent(f"""\
            site_name: fixture
            theme:
              name: material
              font: false
            hooks: {[str(ROOT / "tools" / hook) for hook in hooks]}
            markdown_extensions:
              - pymdownx.arithmatex:
                  generic: true
            """)
        + plugins
        + "\n",
        encoding="utf-8",
    )
    return config


@pytest.fixture(scope="session")
def shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder every xdist worker of this session sees (pytest's own base
    temporary folder when there are no workers).

    ``TEST_SHARED_DIR`` names one that outlives the session: `make test`
    empties it, its first session builds the site there, and its audit
    session (``-m audit``) audits that build rather than building again.
    """
    given = os.environ.get("TEST_SHARED_DIR")
    if given:
        Path(given).mkdir(parents=True, exist_ok=True)
        return Path(given)
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@functools.cache
def _build_once(shared: Path, second_build: bool) -> dict[str, object]:
    """Build the real site into ``shared/site`` unless a worker already has.

    The first worker to take the lock builds; the others wait for it and read
    its outcome. Then, with ``second_build``, a second build of the same
    tree starts in the background (``shared/site-2``, notebooks executed
    again, no cache), for ``test_reproducible.py`` to compare with the first
    while other tests run.
    """
    outcome = shared / "site.json"
    with open(shared / "site.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not outcome.exists():
            notebooks = shared / "notebooks"
            result = mkdocs_build(
                ROOT / "mkdocs.yml",
                shared / "site",
                # Execute every notebook (no cache read) and keep the results:
                # the serve test starts from them.
                build_env(NOTEBOOK_CACHE="refresh", NOTEBOOK_CACHE_DIR=str(notebooks)),
            )
            if result.returncode == 0 and second_build:
                # Detached: the shell returns at once, the build goes on.
                subprocess.run(
                    [
                        "sh",
                        "-c",
                        '("$@"; echo $? > "$0.rc") > "$0.log" 2>&1 &',
                        str(shared / "site-2"),
                        *mkdocs_command(ROOT / "mkdocs.yml", shared / "site-2"),
                    ],
                    # As the first build: snippets' base_path is the cwd's.
                    cwd=ROOT,
                    env=build_env(),
                    check=True,
                )
            outcome.write_text(
                json.dumps(
                    {
                        "returncode": result.returncode,
                        "output": result.stdout + result.stderr,
                    }
                )
            )
    return dict(json.loads(outcome.read_text()))


@pytest.fixture(scope="session")
def built_site(request: pytest.FixtureRequest, shared_dir: Path) -> Path:
    """The real site, built once per test session (for every worker) with
    --strict, its notebooks executed without the cache, or found built in
    ``TEST_SHARED_DIR`` by the session before. `make audit` (``-m audit``)
    starts no second build: Lighthouse would time the pages against it."""
    second_build = request.config.getoption("markexpr") != "audit"
    outcome = _build_once(shared_dir, second_build)
    assert outcome["returncode"] == 0, outcome["output"]
    return shared_dir / "site"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def server(built_site: Path) -> Iterator[str]:
    """The built site served on a free localhost port; yields its origin."""
    handler = functools.partial(_QuietHandler, directory=str(built_site))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's headless Chromium driven by Playwright (no browser download)."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    executable = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if executable is None:
        pytest.fail("Chromium is not installed: `make test` installs it with apt-get")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=executable, args=CHROMIUM_FLAGS, headless=True
        )
        yield browser
        browser.close()
