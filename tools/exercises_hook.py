"""MkDocs hook: the exercises' starter files, generated from the package.

Each exercise of :data:`cnnscratch.exercises.EXERCISES` gets a download at
``exercises/<name>.py`` with the text that ``python -m cnnscratch exercise
<name>`` writes, so the page's downloads and the command never disagree.
"""

from __future__ import annotations

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

from cnnscratch.exercises import EXERCISES, starter


def on_files(files: Files, config: MkDocsConfig) -> Files:
    for name in EXERCISES:
        files.append(
            File.generated(config, f"exercises/{name}.py", content=starter(name))
        )
    return files
