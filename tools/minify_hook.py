"""MkDocs hook: the site's own scripts and stylesheets are served minified.

``docs/assets/*.js`` and ``*.css`` are written to be read: their comments
say why each rule and each step is there. Every page loads some of them
(``site.css``, ``scroll-regions.js``, ``keep-place.js`` on all pages), and
the comments would count in every reader's first load (a budget of 1 MB
that Part 1 comes close to). Once the build has written the site, their
copies in it are minified with esbuild (``tools/minify.mjs``, the npm
package pinned in ``package.json``); the sources keep their comments.
The theme's and KaTeX's assets come minified already.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError

WORKER = Path(__file__).with_name("minify.mjs")
log = logging.getLogger("mkdocs.hooks.minify")


def own_assets(config: MkDocsConfig) -> list[Path]:
    """The built copies of ``docs/assets/*.js`` and ``*.css`` that are as
    their sources are: a rebuild under ``mkdocs serve --dirty`` copies only
    the sources that changed, and the others are minified already (esbuild
    renames a script's names again on a second pass)."""
    sources = Path(config.docs_dir, "assets")
    site = Path(config.site_dir, "assets")
    return [
        site / source.name
        for source in sorted([*sources.glob("*.js"), *sources.glob("*.css")])
        if (site / source.name).is_file()
        and (site / source.name).read_bytes() == source.read_bytes()
    ]


def on_post_build(config: MkDocsConfig) -> None:
    node = shutil.which("node")
    if node is None:
        raise PluginError("minify: `node` is not on PATH (Node 20+ is required)")
    files = own_assets(config)
    if not files:
        return
    result = subprocess.run(
        [node, str(WORKER), *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise PluginError(f"minify: {result.stderr.strip()}")
    log.debug("minified (path, bytes before, after):\n%s", result.stdout.strip())
