"""The notebook execution cache cannot go stale, and the engine is deterministic.

Each build here is of a small project in a temporary folder: a copy of this
project's ``src/``, ``tools/`` and pinned files, with one notebook page that
prints what a package function returns. The real tree is never touched.
"""

from __future__ import annotations

import re
import shutil
import textwrap
from pathlib import Path

import pytest

from tests.site.conftest import ROOT, build_env, mkdocs_build
from tools import notebook_exec

pytestmark = pytest.mark.site

RELU_RETURN = "    return np.maximum(z, 0)\n"
PROBE = """\
# %% [markdown]
# # Probe

# %%
import numpy as np

from cnnscratch.activations import relu

print("relu:", relu(np.array([-1.0, 2.0])))
"""
#: The hook's summary line: how many notebooks ran and how many were re-used.
SUMMARY = re.compile(
    r"Notebooks: (\d+) executing in \d+ processes, (\d+) from the cache"
)


def copy_project(tmp_path: Path) -> Path:
    """A project with this one's inputs and a single notebook page."""
    project = tmp_path / "project"
    for name in ("src", "tools", "benchmarks/results"):
        shutil.copytree(
            ROOT / name,
            project / name,
            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
        )
    for name in ("pyproject.toml", "constraints.txt", "package.json"):
        shutil.copy2(ROOT / name, project / name)
    shutil.copy2(ROOT / "package-lock.json", project / "package-lock.json")
    (project / "docs" / "notebooks").mkdir(parents=True)
    (project / "docs" / "index.md").write_text("# Home\n", encoding="utf-8")
    (project / "docs" / "notebooks" / "probe.py").write_text(PROBE, encoding="utf-8")
    (project / "mkdocs.yml").write_text(
        textwrap.dedent("""\
            site_name: probe
            theme:
              name: material
              font: false
            hooks:
              - tools/notebook_exec_hook.py
              - tools/notebook_pages_hook.py
            plugins:
              - mkdocs-jupyter:
                  include: ["notebooks/*.py"]
                  execute: false
                  allow_errors: false
                  cache: false
            """),
        encoding="utf-8",
    )
    return project


def build(project: Path, **env: str) -> tuple[tuple[int, int], str]:
    """Build; return (executed, from the cache) and the probe page's HTML."""
    environment = build_env(**env)
    environment.pop("CI", None)
    environment.update(env)
    result = mkdocs_build(project / "mkdocs.yml", project / "site", environment)
    assert result.returncode == 0, result.stdout + result.stderr
    counts = SUMMARY.search(result.stderr)
    assert counts, result.stderr
    page = project / "site" / "notebooks" / "probe" / "index.html"
    return (int(counts[1]), int(counts[2])), page.read_text(encoding="utf-8")


def test_a_change_to_a_function_in_src_reaches_the_next_cached_build(
    tmp_path: Path,
) -> None:
    project = copy_project(tmp_path)
    counts, page = build(project, NOTEBOOK_CACHE="1")
    assert counts == (1, 0)
    assert "relu: [0. 2.]" in page

    counts, again = build(project, NOTEBOOK_CACHE="1")
    assert counts == (0, 1)  # nothing changed: the stored run
    assert again == page
    # Under CI the cache is never read, whatever NOTEBOOK_CACHE says.
    assert build(project, NOTEBOOK_CACHE="1", CI="true")[0] == (1, 0)

    activations = project / "src" / "cnnscratch" / "activations.py"
    source = activations.read_text(encoding="utf-8")
    assert source.count(RELU_RETURN) == 1
    activations.write_text(
        source.replace(RELU_RETURN, "    return np.maximum(z, 0) + 1\n"),
        encoding="utf-8",
    )
    counts, changed = build(project, NOTEBOOK_CACHE="1")
    assert counts == (1, 0)
    assert "relu: [1. 3.]" in changed
    assert "relu: [0. 2.]" not in changed


def test_a_failing_cell_fails_the_build_with_its_traceback(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    probe = project / "docs" / "notebooks" / "probe.py"
    probe.write_text(PROBE + "\n# %%\nrelu(np.ones((2, 2)), 3)\n", encoding="utf-8")
    env = build_env()
    env.pop("CI", None)
    result = mkdocs_build(project / "mkdocs.yml", project / "site", env)
    assert result.returncode != 0
    assert "Notebook 'notebooks/probe.py' failed to execute" in result.stderr
    assert "TypeError" in result.stderr
    assert "relu(np.ones((2, 2)), 3)" in result.stderr


def test_every_input_changes_the_key(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    notebook = project / "docs" / "notebooks" / "probe.py"
    environment = notebook_exec.environment_key()

    def key() -> str:
        return notebook_exec.inputs_key(project, notebook, environment)

    first = key()
    assert key() == first
    edits = [
        notebook,
        project / "src" / "cnnscratch" / "layers.py",
        project / "constraints.txt",
        project / "pyproject.toml",
        project / "package-lock.json",
        project / "benchmarks" / "results" / "performance.json",
        project / "tools" / "notebook_exec.py",
    ]
    seen = {first}
    for path in edits:
        original = path.read_bytes()
        path.write_bytes(original + b"\n")
        seen.add(key())
        path.write_bytes(original)
        assert key() == first
    new_module = project / "src" / "cnnscratch" / "new_module.py"
    new_module.write_text("X = 1\n", encoding="utf-8")
    seen.add(key())
    new_module.unlink()
    assert len(seen) == len(edits) + 2
    # Bytecode is not an input (it is compiled from the sources hashed).
    (project / "src" / "cnnscratch" / "__pycache__").mkdir(exist_ok=True)
    (project / "src" / "cnnscratch" / "__pycache__" / "x.pyc").write_bytes(b"0")
    assert key() == first
    assert notebook_exec.inputs_key(project, notebook, "another python") != first


def test_cell_ids_depend_only_on_the_path_and_the_index(tmp_path: Path) -> None:
    notebook = copy_project(tmp_path) / "docs" / "notebooks" / "probe.py"
    first = notebook_exec.read_notebook(notebook, "notebooks/probe.py")
    second = notebook_exec.read_notebook(notebook, "notebooks/probe.py")
    other = notebook_exec.read_notebook(notebook, "notebooks/other.py")
    ids = [cell.id for cell in first.cells]
    assert ids == [cell.id for cell in second.cells]
    assert len(set(ids)) == len(ids) == 2
    assert set(ids).isdisjoint(cell.id for cell in other.cells)


def test_printed_text_is_one_output_however_the_kernel_chunked_it() -> None:
    """Stream chunks depend on timing; merged, two runs give the same page."""
    import nbformat

    def output(name: str, text: str) -> nbformat.NotebookNode:
        return nbformat.v4.new_output("stream", name=name, text=text)

    cell = nbformat.v4.new_code_cell("print(...)")
    cell.outputs = [
        output("stdout", "a\n"),
        output("stdout", "b\n"),
        output("stderr", "warn\n"),
        output("stdout", "c\n"),
        output("stdout", "d\n"),
    ]
    notebook = nbformat.v4.new_notebook(cells=[cell, nbformat.v4.new_markdown_cell()])
    notebook_exec.coalesce_streams(notebook)
    assert [(o.name, o.text) for o in cell.outputs] == [
        ("stdout", "a\nb\n"),
        ("stderr", "warn\n"),
        ("stdout", "c\nd\n"),
    ]
