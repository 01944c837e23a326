"""MkDocs hook: execute the notebook pages in parallel before they render.

mkdocs-jupyter is configured with ``execute: false``: it renders the
notebooks this hook executed (``tools/notebook_exec.py``), so it keeps doing
what it does well (the cells' HTML, the table of contents, the download
button of ``include_source``) and no longer executes anything itself.

* ``on_files`` starts every notebook page at once, one per process, up to
  ``os.cpu_count()`` processes; the Markdown pages render meanwhile.
* mkdocs-jupyter reads a notebook with ``jupytext.read(path)``; the hook
  hands it, in place of that module, a reader that returns the executed
  notebook (waiting for it if need be) for a page it executed, and reads any
  other path as jupytext does.
* A cell that raises fails the build with the cell and its traceback, as
  ``allow_errors: false`` did.
* With ``NOTEBOOK_CACHE=1`` (``make serve`` and ``make build`` set it), an
  executed notebook is stored in ``.cache/notebooks/`` (or
  ``NOTEBOOK_CACHE_DIR``) under the key of ``notebook_exec.inputs_key`` and
  re-used while every input is unchanged. Under ``CI=true`` nothing is read
  from the cache, whatever ``NOTEBOOK_CACHE`` says. ``NOTEBOOK_CACHE=refresh``
  executes every notebook and stores the results without reading any (the
  site tests build so, and the serve test starts from what they stored).
  Anything else (``0``, unset) neither reads nor writes.
* ``mkdocs serve --dirty`` (``make serve``) rebuilds only the pages whose
  source changed; after a change anywhere outside ``docs/`` (``src/``,
  ``tools/``, ``mkdocs.yml``...) this hook makes it rebuild every page, so
  no page keeps an output of code that has changed.
"""

from __future__ import annotations

import concurrent.futures
import logging
import multiprocessing
import os
import sys
import time
from pathlib import Path
from typing import Any

import jupytext
import mkdocs_jupyter.nbconvert2
import nbformat
import notebook_exec
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page
from nbformat import NotebookNode

log = logging.getLogger("mkdocs.hooks.notebook_exec")

CACHE_DIR = Path(".cache") / "notebooks"


def cache_mode() -> tuple[bool, bool]:
    """(read the cache, write it), from ``NOTEBOOK_CACHE`` and ``CI``."""
    mode = os.environ.get("NOTEBOOK_CACHE", "")
    ci = os.environ.get("CI", "").lower() == "true"
    if mode == "refresh":
        return False, True
    if mode == "1" and not ci:
        return True, True
    return False, False


class _Run:
    """The notebooks of one build: a future (or a result) per source path."""

    def __init__(self) -> None:
        self.pool: concurrent.futures.ProcessPoolExecutor | None = None
        self.pending: dict[str, concurrent.futures.Future[tuple[bool, str]]] = {}
        self.done: dict[str, tuple[bool, str]] = {}
        self.src_uri: dict[str, str] = {}
        self.keys: dict[str, str] = {}
        self.started = time.perf_counter()

    def result(self, path: str) -> NotebookNode:
        if path in self.pending:
            self.done[path] = self.pending.pop(path).result()
            ok, text = self.done[path]
            if ok and path in self.keys:
                _cache().put(self.src_uri[path], self.keys[path], text)
        ok, text = self.done[path]
        if not ok:
            raise PluginError(
                f"Notebook '{self.src_uri[path]}' failed to execute:\n{text}"
            )
        return nbformat.reads(text, as_version=4)

    def close(self, wait: bool = True) -> None:
        """Stop the workers: after the build, or at once (``wait=False``)
        when it failed, dropping the notebooks not yet started."""
        if self.pool is not None:
            self.pool.shutdown(wait=wait, cancel_futures=True)
            self.pool = None


_run = _Run()


def _cache() -> notebook_exec.Cache:
    directory = os.environ.get("NOTEBOOK_CACHE_DIR")
    return notebook_exec.Cache(Path(directory) if directory else _root / CACHE_DIR)


_root = Path.cwd()


class _Reader:
    """Stands in for the ``jupytext`` module inside mkdocs-jupyter."""

    def read(self, path: Any, *args: Any, **kwargs: Any) -> NotebookNode:
        key = os.path.abspath(path)
        if key in _run.src_uri:
            return _run.result(key)
        return jupytext.read(path, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(jupytext, name)


#: ``mkdocs serve --dirty``: what was outside docs/ at the previous build.
_dirty = False
_fingerprint: str | None = None


class _DirtyServeIsIntended(logging.Filter):
    """``make serve`` asks for dirty rebuilds, and this hook makes them
    rebuild every page whenever code changed; MkDocs' warning that a dirty
    build may leave links stale would abort ``--strict``: keep it as info."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.WARNING and "'dirty' build" in record.msg:
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


def on_startup(command: str, dirty: bool) -> None:
    global _dirty
    _dirty = dirty
    if dirty and command == "serve":
        logging.getLogger("mkdocs.commands.build").addFilter(_DirtyServeIsIntended())


def _rebuild_all_on_outside_change(files: Files, config: MkDocsConfig) -> None:
    """Under a dirty rebuild, every page is modified when something outside
    docs/ changed since the previous build (the first build is a full one)."""
    global _fingerprint
    if not _dirty:
        return
    fingerprint = notebook_exec.outside_docs_fingerprint(_root, Path(config.docs_dir))
    if fingerprint != _fingerprint and _fingerprint is not None:
        log.info("A file outside docs/ changed: rebuilding every page")
        for file in files:
            file.is_modified = lambda: True  # type: ignore[method-assign]
    _fingerprint = fingerprint


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    global _root
    _root = Path(config.config_file_path).resolve().parent
    # MkDocs puts a hook's folder on sys.path only while it loads the hook;
    # the worker processes unpickle notebook_exec.execute from it.
    tools = str(Path(__file__).resolve().parent)
    if tools not in sys.path:
        sys.path.append(tools)
    mkdocs_jupyter.nbconvert2.jupytext = _Reader()  # type: ignore[attr-defined]
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    global _run
    _run.close()
    _run = _Run()
    _rebuild_all_on_outside_change(files, config)
    plugin = config.plugins.get("mkdocs-jupyter")
    if plugin is None:
        return files
    notebooks = [f for f in files if plugin.should_include(f)]  # type: ignore[attr-defined]
    # Longest first (the source's size stands in for its running time), so
    # the last process to finish is not the one that started the biggest.
    notebooks.sort(key=lambda f: -Path(f.abs_src_path).stat().st_size)
    read, write = cache_mode()
    environment = notebook_exec.environment_key() if read or write else ""
    to_run = []
    for file in notebooks:
        path = os.path.abspath(file.abs_src_path)
        _run.src_uri[path] = file.src_uri
        if read or write:
            key = notebook_exec.inputs_key(_root, Path(path), environment)
            cached = _cache().get(file.src_uri, key) if read else None
            if cached is not None:
                _run.done[path] = (True, cached)
                continue
            if write:
                _run.keys[path] = key
        to_run.append((path, file.src_uri))
        # A run's output may differ from the page's: a dirty rebuild must
        # render it again even though its source did not change.
        file.is_modified = lambda: True
    if to_run:
        workers = min(len(to_run), os.cpu_count() or 1)
        _run.pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=notebook_exec.use_project_source,
            initargs=(str(_root / "src"),),
        )
        for path, src_uri in to_run:
            _run.pending[path] = _run.pool.submit(notebook_exec.execute, path, src_uri)
    log.info(
        "Notebooks: %d executing in %d processes, %d from the cache (%s)",
        len(to_run),
        min(len(to_run), os.cpu_count() or 1),
        len(notebooks) - len(to_run),
        {(True, True): "cache on", (False, True): "cache refreshed"}.get(
            (read, write), "cache off"
        ),
    )
    return files


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """A notebook page must have been rendered from its executed notebook."""
    path = os.path.abspath(page.file.abs_src_path or "")
    if path in _run.src_uri and path not in _run.done:
        raise PluginError(
            f"Notebook '{page.file.src_uri}' was rendered without reading the "
            "executed notebook: mkdocs-jupyter no longer reads notebooks with "
            "jupytext.read, and tools/notebook_exec_hook.py needs updating."
        )
    return html


def on_post_build(config: MkDocsConfig) -> None:
    for path in list(_run.pending):  # runs no page read: still stored
        _run.result(path)
    log.debug("Notebooks done after %.1f s", time.perf_counter() - _run.started)
    _run.close()


def on_build_error(error: Exception) -> None:
    _run.close(wait=False)


def on_shutdown() -> None:
    _run.close()
