"""Every page's metadata: description, link previews, favicon; robots.txt; 404.

The tests walk the built site (every ``.html`` file), not a list of pages.
"""

from __future__ import annotations

import json
import re
import shutil
import struct
import textwrap
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest

from conftest import ROOT, mkdocs_build
from tools import site_audit

pytestmark = pytest.mark.site

SUBPATH = "/cnn-from-scratch/"


class Head(HTMLParser):
    """The ``<meta>`` and ``<link>`` tags of a page, and every asset it loads."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, list[str]] = {}
        self.links: list[dict[str, str]] = []
        self.assets: list[str] = []
        self.config: str = ""
        self._in_config = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "meta" and ("name" in a or "property" in a):
            key = a.get("property") or a["name"]
            self.meta.setdefault(key, []).append(a.get("content", ""))
        if tag == "link":
            self.links.append(a)
            if a.get("rel") in ("stylesheet", "icon"):
                self.assets.append(a["href"])
        if tag in ("script", "img") and a.get("src"):
            self.assets.append(a["src"])
        self._in_config = tag == "script" and a.get("id") == "__config"

    def handle_data(self, data: str) -> None:
        if self._in_config:
            self.config += data

    def handle_endtag(self, tag: str) -> None:
        self._in_config = False


def parse(html_file: Path) -> Head:
    head = Head()
    head.feed(html_file.read_text(encoding="utf-8"))
    return head


def page_file(site: Path, path: str) -> Path:
    relative = path.lstrip("/")
    return site / (relative + "index.html" if path.endswith("/") else relative)


@pytest.fixture(scope="module")
def heads(built_site: Path) -> dict[str, Head]:
    return {p: parse(page_file(built_site, p)) for p in site_audit.pages(built_site)}


def canonical_home(built_site: Path) -> str:
    links = parse(built_site / "index.html").links
    return next(link["href"] for link in links if link.get("rel") == "canonical")


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_walk_finds_the_pages(heads: dict[str, Head]) -> None:
    assert {"/", "/part1-matrix-calculus/", "/notebooks/mlp-digits/", "/404.html"} <= (
        set(heads)
    )


def test_every_page_has_one_description_of_its_own(heads: dict[str, Head]) -> None:
    descriptions = {p: h.meta.get("description", []) for p, h in heads.items()}
    assert {p: d for p, d in descriptions.items() if len(d) != 1 or not d[0]} == {}
    by_text: dict[str, list[str]] = {}
    for path, (text,) in descriptions.items():
        by_text.setdefault(text, []).append(path)
    assert {t: p for t, p in by_text.items() if len(p) > 1} == {}


def test_notebook_pages_take_the_description_from_the_notebook(
    heads: dict[str, Head],
) -> None:
    import jupytext

    for source in sorted((ROOT / "docs" / "notebooks").glob("*.py")):
        wanted = " ".join(jupytext.read(source).metadata["description"].split())
        assert heads[f"/notebooks/{source.stem}/"].meta["description"] == [wanted]


def test_open_graph_tags_with_absolute_urls(
    heads: dict[str, Head], built_site: Path
) -> None:
    home = canonical_home(built_site)
    assert urlparse(home).scheme in ("http", "https")
    for path, head in heads.items():
        meta = {k: v[0] for k, v in head.meta.items()}
        for key in ("og:title", "og:description", "og:image", "og:type"):
            assert meta.get(key), (path, key)
        assert meta["og:description"] == meta["description"], path
        assert meta["og:image"].startswith(home), (path, meta["og:image"])
        if path != "/404.html":  # a 404 has no canonical address
            assert meta["og:url"] == urljoin(home, path.lstrip("/")), path
        assert meta["twitter:card"] == "summary_large_image", path
    image = heads["/"].meta["og:image"][0].removeprefix(home)
    assert png_size((built_site / image).read_bytes()) == (1200, 630)


def test_favicon_is_the_sites_own_and_is_served(
    heads: dict[str, Head], built_site: Path, server: str
) -> None:
    for path, head in heads.items():
        icons = [link["href"] for link in head.links if link.get("rel") == "icon"]
        assert len(icons) == 1, path
        url = urljoin(f"{server}{path}", icons[0])
        assert urlparse(url).path.endswith("/assets/favicon.svg"), (path, url)
        with urllib.request.urlopen(url) as reply:
            body = reply.read()
        assert body.startswith(b"<svg"), (path, url)
    theme_default = (built_site / "assets" / "images" / "favicon.png").read_bytes()
    assert theme_default != (built_site / "assets" / "favicon.svg").read_bytes()


def test_robots_txt_allows_all_and_names_the_sitemap(built_site: Path) -> None:
    lines = (built_site / "robots.txt").read_text(encoding="utf-8").splitlines()
    assert "User-agent: *" in lines
    assert "Disallow: /" not in lines
    sitemaps = [
        line.split(":", 1)[1].strip() for line in lines if line.startswith("Sitemap:")
    ]
    assert sitemaps == [canonical_home(built_site) + "sitemap.xml"]
    assert (built_site / "sitemap.xml").is_file()


@pytest.fixture(scope="module")
def subpath_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site's theme, overrides, hooks and assets, built for a project
    site's address (``site_url`` with a path), with one page."""
    tmp = tmp_path_factory.mktemp("subpath")
    shutil.copytree(ROOT / "docs" / "assets", tmp / "docs" / "assets")
    (tmp / "docs" / "index.md").write_text(
        "---\ndescription: One page.\n---\n\n# Home\n\nSome math: $x^2$.\n",
        encoding="utf-8",
    )
    config = tmp / "mkdocs.yml"
    config.write_text(
        textwrap.dedent(f"""\
            INHERIT: {ROOT / "mkdocs.yml"}
            site_url: https://example.org{SUBPATH}
            nav: [index.md]
            theme:
              custom_dir: {ROOT / "overrides"}
            hooks:
              - {ROOT / "tools" / "katex_hook.py"}
              - {ROOT / "tools" / "figures_hook.py"}
              - {ROOT / "tools" / "metadata_hook.py"}
            plugins: [search]
            watch: []
            """),
        encoding="utf-8",
    )
    site = tmp / "site"
    result = mkdocs_build(config, site)
    assert result.returncode == 0, result.stdout + result.stderr
    return site


def test_404_page_works_under_the_pages_subpath(subpath_site: Path) -> None:
    with site_audit.serve(subpath_site, prefix=SUBPATH) as origin:
        missing = f"{origin}{SUBPATH}no/such/page/"
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(missing)
        assert error.value.code == 404
        head = Head()
        head.feed(error.value.read().decode("utf-8"))
        assert len(head.assets) > 3
        for asset in head.assets:
            url = urljoin(missing, asset)
            assert urlparse(url).path.startswith(SUBPATH), asset
            with urllib.request.urlopen(url) as reply:
                assert reply.status == 200, url
        base = json.loads(head.config)["base"]
        index = urljoin(missing, base.rstrip("/") + "/search/search_index.json")
        with urllib.request.urlopen(index) as reply:
            assert json.loads(reply.read())["docs"], index
        robots = (subpath_site / "robots.txt").read_text(encoding="utf-8")
        assert f"Sitemap: https://example.org{SUBPATH}sitemap.xml" in robots
    not_found = (subpath_site / "404.html").read_text(encoding="utf-8")
    assert re.search(f'href="{SUBPATH}assets/', not_found)
