"""MkDocs hook: the theme's palette starts without restyling the whole page.

When its bundle starts, the theme's palette component sets
``data-md-color-switching`` on ``<body>``, reads the header's colours, and
removes the attribute a frame later. Its stylesheet holds one rule on that
attribute, ``[data-md-color-switching] * {transition-duration: 0s}`` (no
colour fades while the scheme changes), and a rule on an attribute of
``<body>`` with a descendant selector makes the browser restyle every element
of the page each time the attribute comes or goes. On a long page that was
two full restyles in the bundle's first task, before the reader can do
anything: some 100 ms of Lighthouse's total blocking time on Parts 1 and 5.

So the built site's copy of the palette stylesheet leaves that one rule
out (it is written from the theme's file on every build, so a rebuild under
``mkdocs serve`` finds it again), and ``docs/assets/site.css`` keeps what the
rule was for with an attribute of its own that only a change of scheme sets
(``overrides/partials/palette-switch.html``). The build fails if the theme's
stylesheet no longer holds the rule exactly once: a theme upgrade that
changed it needs a look.
"""

from __future__ import annotations

import re
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError

PALETTE = "assets/stylesheets/palette.*.min.css"
SWITCHING_RULE = re.compile(r"\[data-md-color-switching\][^{}]*\{[^{}]*\}")


def without_switching_rule(css: str) -> str:
    """The stylesheet without its rule on ``[data-md-color-switching]``."""
    stripped, count = SWITCHING_RULE.subn("", css)
    if count != 1 or "data-md-color-switching" in stripped:
        raise PluginError(
            f"palette_hook: expected one rule on [data-md-color-switching] in the "
            f"theme's palette stylesheet, found {count}"
        )
    return stripped


def theme_palette(config: MkDocsConfig) -> Path:
    """The theme's palette stylesheet, found as the build finds theme files."""
    for directory in config.theme.dirs:
        found = sorted(Path(directory).glob(PALETTE))
        if found:
            return found[0]
    raise PluginError(f"palette_hook: no {PALETTE} in the theme")


def on_post_build(config: MkDocsConfig) -> None:
    source = theme_palette(config)
    target = Path(config.site_dir) / PALETTE.rsplit("/", 1)[0] / source.name
    css = without_switching_rule(source.read_text(encoding="utf-8"))
    target.write_text(css, encoding="utf-8")
