"""MkDocs hook: draw every figure at build time and add it to the site.

Each ``figures_*.py`` module beside this file has a ``FIGURES`` dict mapping a
site path (``figures/part1/perceptron.svg``) to a function returning the
file's bytes.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

MODULES = sorted(p.stem for p in Path(__file__).parent.glob("figures_*.py"))
FIGURES: dict[str, Callable[[], bytes]] = {}
for _name in MODULES:
    FIGURES.update(importlib.import_module(_name).FIGURES)


def on_files(files: Files, config: MkDocsConfig) -> Files:
    for uri, draw in FIGURES.items():
        files.append(File.generated(config, uri, content=draw()))
    return files
