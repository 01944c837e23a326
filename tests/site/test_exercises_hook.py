"""The starter downloads of the Exercises page are the command's starter files."""

from __future__ import annotations

from pathlib import Path

import pytest

from cnnscratch.exercises import EXERCISES, starter
from conftest import ROOT, mkdocs_build

pytestmark = pytest.mark.site


def test_every_exercise_gets_its_starter_as_a_download(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    links = [f"[{name}](exercises/{name}.py)" for name in EXERCISES]
    (docs / "index.md").write_text("# Home\n\n" + "\n".join(links) + "\n")
    config = tmp_path / "mkdocs.yml"
    config.write_text(
        f"site_name: fixture\nhooks:\n  - {ROOT / 'tools' / 'exercises_hook.py'}\n",
        encoding="utf-8",
    )
    result = mkdocs_build(config, tmp_path / "site")
    assert result.returncode == 0, result.stderr  # --strict: every link resolves
    for name in EXERCISES:
        download = tmp_path / "site" / "exercises" / f"{name}.py"
        assert download.read_text(encoding="utf-8") == starter(name)
