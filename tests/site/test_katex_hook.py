"""The KaTeX build step, on small fixture sites built with the real hooks."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import ROOT, make_site, mkdocs_build

pytestmark = pytest.mark.site


def test_math_becomes_katex_html_and_mathml(tmp_path: Path) -> None:
    config = make_site(
        tmp_path,
        {"index.md": "Inline $x^2 < 1$ and\n\n$$\n\\frac{a}{b}\n$$\n"},
    )
    result = mkdocs_build(config, tmp_path / "site")
    assert result.returncode == 0, result.stderr
    html = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert html.count('class="katex"') == 2
    assert html.count('class="katex-display"') == 1
    assert html.count("<math") == 2  # MathML for screen readers
    assert 'annotation encoding="application/x-tex">x^2 &lt; 1<' in html
    assert "\\(" not in html.replace("application/x-tex", "")


def test_katex_css_and_fonts_are_copied_from_the_pinned_package(
    tmp_path: Path,
) -> None:
    config = make_site(tmp_path, {"index.md": "$x$\n"})
    assert mkdocs_build(config, tmp_path / "site").returncode == 0
    site = tmp_path / "site"
    dist = ROOT / "node_modules" / "katex" / "dist"
    css = (site / "assets/katex/katex.min.css").read_bytes()
    assert css == (dist / "katex.min.css").read_bytes()
    fonts = re.findall(rb"url\(fonts/([\w-]+\.woff2)\)", css)
    assert fonts, "the CSS references its fonts"
    assert all((site / "assets/katex/fonts" / f.decode()).is_file() for f in fonts)
    html = (site / "index.html").read_text(encoding="utf-8")
    assert 'href="assets/katex/katex.min.css"' in html


def test_installed_katex_is_the_version_pinned_in_package_json() -> None:
    pinned = json.loads((ROOT / "package.json").read_text())["dependencies"]["katex"]
    installed = json.loads(
        (ROOT / "node_modules" / "katex" / "package.json").read_text()
    )["version"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned), "pin an exact version"
    assert installed == pinned


def test_a_latex_error_fails_the_build_naming_page_and_source(tmp_path: Path) -> None:
    config = make_site(
        tmp_path, {"good.md": "$x$\n", "part/bad.md": "Fine $y$, broken $\\frac{a$\n"}
    )
    result = mkdocs_build(config, tmp_path / "site")
    assert result.returncode != 0
    assert "part/bad.md" in result.stderr
    assert "\\frac{a" in result.stderr


def test_unknown_macro_is_an_error_not_red_text(tmp_path: Path) -> None:
    config = make_site(tmp_path, {"index.md": "$\\notamacro{x}$\n"})
    result = mkdocs_build(config, tmp_path / "site")
    assert result.returncode != 0
    assert "notamacro" in result.stderr


def test_display_math_glued_to_a_paragraph_fails_the_build(tmp_path: Path) -> None:
    # Without a blank line before it, arithmatex does not see the block and
    # the raw $$...$$ would ship as text.
    config = make_site(tmp_path, {"index.md": "Some text\n$$\na = b\n$$\n"})
    result = mkdocs_build(config, tmp_path / "site")
    assert result.returncode != 0
    assert "Unrendered TeX in 'index.md'" in result.stderr


def test_notebook_math_is_rendered_and_mathjax_dropped(tmp_path: Path) -> None:
    notebook = """\
        # %% [markdown]
        # # A notebook
        # Inline $a_1 < b_2$ and a display:
        #
        # $$
        # \\frac{\\partial L}{\\partial W} = \\delta x^\\top
        # $$
        #
        # and `$not math$` in code.

        # %%
        print("$not math$")
        """
    config = make_site(tmp_path, {"nb.py": notebook}, notebooks=True)
    result = mkdocs_build(config, tmp_path / "site")
    assert result.returncode == 0, result.stderr
    html = (tmp_path / "site" / "nb" / "index.html").read_text(encoding="utf-8")
    assert html.count('class="katex"') == 2
    assert html.count('class="katex-display"') == 1
    assert "<code>$not math$</code>" in html
    assert "mathjax" not in html.lower()
    assert "https://cdn" not in html


def test_inline_styles_become_one_rule_each_in_the_head(tmp_path: Path) -> None:
    config = make_site(
        tmp_path,
        {"index.md": "Powers $x^2$, $y^2$ and $z_i^2$.\n", "none.md": "No math.\n"},
    )
    result = mkdocs_build(config, tmp_path / "site")
    assert result.returncode == 0, result.stderr
    html = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    formulas = re.findall(
        r'<span class="katex">.*?</math>.*?(?=<span class="katex">|</p>)', html, re.S
    )
    assert len(formulas) == 3
    assert not any(" style=" in f for f in formulas)
    head = html[: html.index("</head>")]
    rules = dict(re.findall(r"\.(s-[0-9a-f]+)\{([^}]*)\}", head))
    used = set(re.findall(r'class="[^"]*\b(s-[0-9a-f]+)"', html))
    assert used == set(rules)
    # x^2 and y^2 have the same struts: their styles are shared, not repeated.
    assert len(set(rules.values())) == len(rules)
    assert all(
        d.endswith("!important") for body in rules.values() for d in body.split(";")
    )
    assert head.count('<style id="katex-styles">') == 1
    assert "katex-styles" not in (tmp_path / "site" / "none" / "index.html").read_text()


def test_slim_drops_only_bytes_that_change_nothing() -> None:
    from tools.katex_hook import slim

    katex = (
        '<math xmlns="http://www.w3.org/1998/Math/MathML"><mn>10.5</mn></math>'
        '<span style="height:0.8333em;vertical-align:-0.15em;margin:10.05em;">'
    )
    assert slim(katex) == (
        "<math><mn>10.5</mn></math>"
        '<span style="height:.8333em;vertical-align:-.15em;margin:10.05em">'
    )
