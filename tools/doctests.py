"""The doctest machinery: Sybil runs every example a reader can see.

* every ```` ```pycon ```` block in ``docs/**/*.md`` (an interactive session,
  checked with :mod:`doctest` semantics, ``...`` continuation prompts included);
* every ``>>>`` example in a docstring under ``src/``.

Both run under the one print policy of :mod:`cnnscratch.printing`, so a page
and a docstring print exactly what a reader who calls ``set_print_policy()``
sees. The root ``conftest.py`` hands :func:`site_sybil` to pytest, so
``pytest docs/part1-matrix-calculus.md`` runs that page's examples.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from sybil import Document, Region, Sybil
from sybil.evaluators.doctest import DocTestEvaluator
from sybil.parsers.abstract import DocTestStringParser
from sybil.parsers.markdown import CodeBlockParser
from sybil.parsers.rest import DocTestParser

from cnnscratch.printing import PRINT_OPTIONS


class PyconParser:
    """Sybil parser for Markdown ```` ```pycon ```` fences.

    Sybil's own ``PythonCodeBlockParser`` only reads ```` ```python ````
    fences; this one lexes ``pycon`` fences and hands their text to the
    doctest string parser, adjusting line numbers so a failure points at the
    right line of the page.
    """

    def __init__(self, optionflags: int = 0) -> None:
        self.code_blocks = CodeBlockParser(language="pycon")
        self.doctests = DocTestStringParser(DocTestEvaluator(optionflags))

    def __call__(self, document: Document) -> Iterable[Region]:
        for block in self.code_blocks(document):
            source = block.parsed
            for region in self.doctests(source, document.path):
                region.adjust(block, source)
                yield region


def _setup(namespace: dict[str, Any]) -> None:
    namespace["_saved_print_options"] = np.get_printoptions()
    np.set_printoptions(**PRINT_OPTIONS)


def _teardown(namespace: dict[str, Any]) -> None:
    np.set_printoptions(**namespace["_saved_print_options"])


def page_sybil(folder: Path | str) -> Sybil:
    """Sybil over every Markdown page under ``folder`` (pycon blocks only)."""
    return Sybil(
        parsers=[PyconParser()],
        patterns=["*.md"],
        path=str(Path(folder).absolute()),
        setup=_setup,
        teardown=_teardown,
    )


def site_sybil(root: Path | str) -> Any:
    """Pages under ``root/docs`` plus docstrings under ``root/src``."""
    root = Path(root).absolute()
    docstrings = Sybil(
        parsers=[DocTestParser()],
        patterns=["*.py"],
        path=str(root / "src"),
        setup=_setup,
        teardown=_teardown,
    )
    return page_sybil(root / "docs") + docstrings
