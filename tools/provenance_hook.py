"""MkDocs hook: a provenance stamp on every page that shows code output.

A page with output (a notebook page, or a page with a ``pycon`` session, the
API reference's examples included) ends with one line saying what produced
it: the commit (linked to ``repo_url``/commit/<sha>), the package's version,
NumPy's version and the build date. The template is
``overrides/partials/provenance.html``, placed by ``overrides/main.html``.

* The date is ``SOURCE_DATE_EPOCH`` (the Makefile and the workflows export
  the last commit's time), so two builds of one commit stamp the same date;
  without it, today's date (UTC).
* Outside a git checkout (an unpacked archive, say) the stamp says so
  instead of naming a commit. A checkout with uncommitted changes to tracked
  files says that too: its outputs are not the commit's.
"""

from __future__ import annotations

import datetime
import os
import subprocess
from pathlib import Path
from typing import Any

import numpy
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page

import cnnscratch

#: What a page's HTML contains when it shows code output.
OUTPUT_MARKERS = ('class="language-pycon', 'class="jp-OutputArea')


def _git(root: Path, *args: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", *args],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def build_date() -> datetime.date:
    """``SOURCE_DATE_EPOCH`` as a UTC date, or today's."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = (
        datetime.datetime.fromtimestamp(int(epoch), datetime.UTC)
        if epoch
        else datetime.datetime.now(datetime.UTC)
    )
    return moment.date()


def stamp(root: Path, repo_url: str | None) -> dict[str, Any]:
    """What the stamp shows, for the project at ``root``."""
    inside = _git(root, "rev-parse", "--is-inside-work-tree") == "true"
    toplevel = _git(root, "rev-parse", "--show-toplevel") if inside else None
    # Only the project's own repository counts, not one it happens to sit in.
    own = toplevel is not None and Path(toplevel).resolve() == root.resolve()
    commit = _git(root, "rev-parse", "HEAD") if own else None
    changed = bool(_git(root, "status", "--porcelain", "--untracked-files=no"))
    return {
        "commit": commit,
        "short": commit[:7] if commit else None,
        "url": f"{repo_url.rstrip('/')}/commit/{commit}"
        if commit and repo_url
        else None,
        "changed": bool(commit) and changed,
        "version": cnnscratch.__version__,
        "numpy": numpy.__version__,
        "date": build_date().isoformat(),
    }


_stamp: dict[str, Any] = {}
#: ``mkdocs serve --dirty``: the stamp of the previous build.
_dirty = False
_previous: dict[str, Any] | None = None


def on_startup(command: str, dirty: bool) -> None:
    global _dirty
    _dirty = dirty


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    global _stamp
    root = Path(config.config_file_path).resolve().parent
    _stamp = stamp(root, config.repo_url)
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Under a dirty rebuild, a new stamp (a commit, a first uncommitted
    change) rebuilds every page, so none keeps the previous one."""
    global _previous
    if _dirty and _previous is not None and _previous != _stamp:
        for file in files:
            file.is_modified = lambda: True  # type: ignore[method-assign]
    _previous = _stamp
    return files


def has_output(page: Page) -> bool:
    return page.content is not None and any(m in page.content for m in OUTPUT_MARKERS)


def on_page_context(
    context: dict[str, Any], page: Page, config: MkDocsConfig, nav: Navigation
) -> dict[str, Any]:
    context["provenance"] = _stamp if has_output(page) else None
    return context
