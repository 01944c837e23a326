"""Fixtures for the site tests: one strict build, a local server, a browser."""

from __future__ import annotations

import functools
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


def mkdocs_build(config: Path, site_dir: Path) -> subprocess.CompletedProcess[str]:
    """Run ``mkdocs build --strict`` in a subprocess, as a reader would."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",  # no -q: it hides the warnings --strict counts
            "-f",
            str(config),
            "-d",
            str(site_dir),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=config.parent,
        check=False,
    )


def make_site(tmp_path: Path, pages: dict[str, str], notebooks: bool = False) -> Path:
    """A throwaway MkDocs project using the project's hooks and extensions.

    ``pages`` maps a path under ``docs/`` to its (dedented) text; with
    ``notebooks``, ``*.py`` and ``*.ipynb`` files are notebook pages (not
    executed: an ``.ipynb`` brings its stored outputs).
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
            hooks:
              - {ROOT / "tools" / "katex_hook.py"}
              - {ROOT / "tools" / "notebook_pages_hook.py"}
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
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real site, built once per test session with --strict."""
    site = tmp_path_factory.mktemp("site")
    result = mkdocs_build(ROOT / "mkdocs.yml", site)
    assert result.returncode == 0, result.stdout + result.stderr
    return site


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
