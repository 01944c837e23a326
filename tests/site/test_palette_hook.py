"""tools/palette_hook.py on the installed theme's stylesheet and on small ones."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import material
import pytest
from mkdocs.exceptions import PluginError

from tools import palette_hook as hook

THEME = Path(material.__file__).parent / "templates"


def test_the_installed_theme_holds_the_rule_once_and_loses_only_it() -> None:
    config = SimpleNamespace(theme=SimpleNamespace(dirs=[str(THEME)]))
    css = hook.theme_palette(config).read_text(encoding="utf-8")  # type: ignore[arg-type]
    stripped = hook.without_switching_rule(css)
    assert "data-md-color-switching" in css
    assert "data-md-color-switching" not in stripped
    assert 0 < len(css) - len(stripped) < 200  # one rule, not a block of them
    assert stripped.count("{") == css.count("{") - 1


def test_the_rule_is_cut_out_whole() -> None:
    css = (
        "a{color:red}[data-md-color-switching] *,[data-md-color-switching] "
        ":after{transition-duration:0s!important}b{color:blue}"
    )
    assert hook.without_switching_rule(css) == "a{color:red}b{color:blue}"


@pytest.mark.parametrize(
    "css",
    [
        "a{color:red}",  # a theme without the rule
        "[data-md-color-switching] *{x:0}[data-md-color-switching] a{y:0}",  # two
    ],
)
def test_a_theme_that_changed_the_rule_fails_the_build(css: str) -> None:
    with pytest.raises(PluginError, match="data-md-color-switching"):
        hook.without_switching_rule(css)
