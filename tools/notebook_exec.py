"""Execute the notebook pages: in parallel, deterministically, and cached only
on everything their outputs depend on.

mkdocs-jupyter can execute notebooks itself, one after another, with random
cell ids and execution times in the metadata, and a cache keyed on the
notebook's text alone (an edit to ``src/`` would leave a stale page). This
module replaces that engine (``tools/notebook_exec_hook.py`` wires it into the
build); mkdocs-jupyter then renders the executed notebooks with
``execute: false``.

* :func:`execute` runs one notebook with nbclient in a fresh kernel, errors
  fatal (``allow_errors=False``), no timing metadata, the kernel's working
  directory the notebook's own folder (as mkdocs-jupyter does). The hook runs
  one per process, all at once up to the number of CPUs.
* :func:`read_notebook` gives every cell an id derived from the notebook's
  path and the cell's index, so two builds write the same page.
* :func:`inputs_key` is the cache key: a SHA-256 of the notebook's source,
  every file under ``src/`` (path and bytes), the pinned dependency files,
  the files listed in :data:`INPUTS`, the Python version, the installed
  distributions and their versions, and the environment variables in
  :data:`ENVIRONMENT`. Any change to any of them is a different key, so a
  cached output is never served for inputs it was not computed from.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import platform
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import jupytext
import nbformat
from nbformat import NotebookNode

#: Files and folders (relative to the project root) whose bytes the notebooks'
#: outputs may depend on, besides the notebook itself and ``src/``. A notebook
#: that reads another file must add it here.
INPUTS = (
    "src",
    "constraints.txt",
    "pyproject.toml",
    "package.json",
    "package-lock.json",
    # The Performance page renders the committed benchmark result.
    "benchmarks/results",
    # How the notebooks are executed is part of what they output.
    "tools/notebook_exec.py",
)
#: Environment variables that change what a kernel computes or prints.
ENVIRONMENT = (
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "PYTHONHASHSEED",
)
#: Build artefacts under the input folders that are not inputs (bytecode is
#: compiled from the sources hashed beside it; egg-info from pyproject.toml).
SKIPPED_PARTS = ("__pycache__", ".egg-info")
#: Bump when the form of a cache entry changes.
CACHE_FORMAT = "1"


def cell_id(src_uri: str, index: int) -> str:
    """A cell id that depends only on the notebook's path and the cell's index."""
    return hashlib.sha256(f"{src_uri}#{index}".encode()).hexdigest()[:16]


def read_notebook(path: Path, src_uri: str) -> NotebookNode:
    """The notebook at ``path`` with stable cell ids (jupytext draws random ones)."""
    notebook = jupytext.read(path)
    for index, cell in enumerate(notebook.cells):
        cell.id = cell_id(src_uri, index)
    return notebook


def use_project_source(src: str) -> None:
    """Kernels started from this process import the package from ``src``
    (this project's ``src/``, the one the cache key hashes), ahead of any
    installed copy: a worker process's initializer."""
    previous = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = src + (os.pathsep + previous if previous else "")


def execute(path: str, src_uri: str) -> tuple[bool, str]:
    """Run one notebook; ``(True, notebook JSON)`` or ``(False, the error)``.

    Runs in a worker process, so it returns the error as text (nbclient's
    exceptions do not survive pickling): the cell's source and traceback.
    """
    import nbclient
    from nbclient.exceptions import CellExecutionError
    from traitlets.config import Config

    notebook = read_notebook(Path(path), src_uri)
    # The kernel talks to this process over Unix sockets in a private
    # directory, not over TCP on localhost (which ipykernel warns about on
    # every start: unencrypted traffic that other local users could reach).
    # Configured, not passed in: nbclient shuts down only a kernel it owns.
    with tempfile.TemporaryDirectory(prefix="kernel-") as sockets:
        client = nbclient.NotebookClient(
            notebook,
            kernel_name="python3",
            allow_errors=False,
            record_timing=False,
            timeout=None,
            resources={"metadata": {"path": str(Path(path).parent)}},
            config=Config(
                KernelManager={
                    "transport": "ipc",
                    "ip": os.path.join(sockets, "kernel"),
                }
            ),
        )
        try:
            client.execute()
        except CellExecutionError as error:
            return False, str(error)
        except Exception as error:  # the kernel died, or would not start
            return False, f"{type(error).__name__}: {error}"
    coalesce_streams(notebook)
    return True, nbformat.writes(notebook)


def coalesce_streams(notebook: NotebookNode) -> None:
    """Merge each cell's consecutive stdout (or stderr) outputs into one.

    The kernel sends printed text in chunks whose boundaries depend on
    timing, and each chunk becomes its own output; merged (by nbconvert's
    own preprocessor), the same prints give the same page on every run.
    """
    from nbconvert.preprocessors import CoalesceStreamsPreprocessor

    CoalesceStreamsPreprocessor().preprocess(notebook, {})


def _files(root: Path, relative: str) -> Iterator[Path]:
    path = root / relative
    if path.is_file():
        yield path
    elif path.is_dir():
        for child in sorted(path.rglob("*")):
            parts = child.relative_to(root).parts
            if child.is_file() and not any(
                part == skip or part.endswith(skip)
                for part in parts
                for skip in SKIPPED_PARTS
            ):
                yield child


def environment_key() -> str:
    """What every notebook's key shares: the interpreter, the installed
    distributions with their versions, and :data:`ENVIRONMENT`."""
    digest = hashlib.sha256()
    digest.update(f"format {CACHE_FORMAT}\n".encode())
    digest.update(f"python {sys.version} {platform.machine()}\n".encode())
    installed = sorted(
        f"{dist.metadata['Name']}=={dist.version}"
        for dist in importlib.metadata.distributions()
    )
    digest.update(("\n".join(installed) + "\n").encode())
    for name in ENVIRONMENT:
        digest.update(f"env {name}={os.environ.get(name)!r}\n".encode())
    return digest.hexdigest()


def inputs_key(root: Path, notebook: Path, environment: str | None = None) -> str:
    """The cache key of one notebook: a hash of everything its output reads."""
    digest = hashlib.sha256()
    digest.update((environment or environment_key()).encode())
    paths = [notebook, *(p for rel in INPUTS for p in _files(root, rel))]
    for path in paths:
        relative = path.relative_to(root).as_posix()
        data = path.read_bytes()
        digest.update(f"\nfile {relative} {len(data)}\n".encode())
        digest.update(data)
    return digest.hexdigest()


#: Not inputs of the site: version control, installs, caches, outputs.
NOT_SITE_INPUTS = (
    ".git",
    ".venv",
    "node_modules",
    ".cache",
    "site",
    "test-artifacts",
    ".hypothesis",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
)


def outside_docs_fingerprint(root: Path, docs_dir: Path) -> str:
    """A hash of the names, sizes and times of every file of the project
    outside ``docs_dir``: it changes when anything a page may be built from
    (``src/``, ``tools/``, ``overrides/``, ``mkdocs.yml``...) changes."""
    digest = hashlib.sha256()
    docs = docs_dir.resolve()
    for directory, folders, names in os.walk(root):
        here = Path(directory)
        folders[:] = sorted(
            f
            for f in folders
            if f not in NOT_SITE_INPUTS
            and f != "__pycache__"
            and not f.endswith(".egg-info")
            and (here / f).resolve() != docs
        )
        for name in sorted(names):
            path = here / name
            try:
                info = path.stat()
            except OSError:
                continue
            relative = path.relative_to(root).as_posix()
            digest.update(f"{relative} {info.st_size} {info.st_mtime_ns}\n".encode())
    return digest.hexdigest()


class Cache:
    """Executed notebooks, one file per notebook, named by its key."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _name(self, src_uri: str) -> str:
        return src_uri.replace("/", "--")

    def _path(self, src_uri: str, key: str) -> Path:
        return self.directory / f"{self._name(src_uri)}.{key}.ipynb"

    def get(self, src_uri: str, key: str) -> str | None:
        path = self._path(src_uri, key)
        return path.read_text(encoding="utf-8") if path.is_file() else None

    def put(self, src_uri: str, key: str, text: str) -> None:
        """Store an entry and drop this notebook's entries for other keys."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self._path(src_uri, key)
        for old in self.directory.glob(f"{self._name(src_uri)}.*.ipynb"):
            if old != path:
                old.unlink(missing_ok=True)
        partial = path.with_suffix(".partial")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
