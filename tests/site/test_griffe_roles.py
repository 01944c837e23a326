"""How the API pages show the docstrings' Sphinx roles (``tools/griffe_roles.py``):
on a small package written here, then on the built site."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import griffe
import pytest

from tools import site_audit
from tools.griffe_roles import RoleError, SphinxRoles

pytestmark = pytest.mark.site

SHOWN_ROLE = re.compile(r":(?:func|class|meth|mod|data|attr|exc|obj):(?:<code>|`)")


def load(tmp_path: Path, files: dict[str, str]) -> griffe.Module:
    """The package ``tools_pkg`` of ``files``, loaded as mkdocstrings loads
    the site's (with the extension)."""
    package = tmp_path / "tools_pkg"
    package.mkdir()
    for name, source in files.items():
        (package / name).write_text(textwrap.dedent(source), encoding="utf-8")
    module = griffe.load(
        "tools_pkg",
        search_paths=[tmp_path],
        extensions=griffe.load_extensions(SphinxRoles),
    )
    assert isinstance(module, griffe.Module)
    return module


PACKAGE = {
    "__init__.py": '''
        """Tools: :mod:`.shed` holds :func:`tools_pkg.shed.hammer` and
        :class:`~tools_pkg.shed.Box`."""

        from tools_pkg._parts import Blade
    ''',
    "_parts.py": '''
        """Parts: a :class:`Blade` is :data:`LENGTH` long."""

        LENGTH = 3

        class Blade:
            """Sharp."""
    ''',
    "shed.py": '''
        """Where the tools are."""

        from pathlib import Path

        def hammer():
            """Hits. Not :func:`saw`'s job; :func:`_sharpen` is private.
            Raises :class:`ValueError`; takes a :class:`~pathlib.Path` (or
            a :class:`Path`) and a :class:`numpy.random.Generator`."""

        def saw():
            """Cuts."""

        def _sharpen():
            """Files the teeth."""

        class Box:
            """Holds tools: :meth:`open` opens it, :meth:`~Box.close` shuts it."""

            def open(self):
                """Lifts the lid; :func:`nail` is in another module."""

            def close(self):
                """Drops the lid."""
    ''',
    "yard.py": '''
        def nail():
            """What :func:`hammer` drives (the one hammer of the package)."""
    ''',
}


def test_a_role_becomes_a_cross_reference_resolved_where_the_docstring_is(
    tmp_path: Path,
) -> None:
    pkg = load(tmp_path, PACKAGE)
    shed, box = pkg["shed"], pkg["shed.Box"]
    assert pkg.docstring is not None
    assert pkg.docstring.value == (
        "Tools: [`shed`][tools_pkg.shed] holds "
        "[`tools_pkg.shed.hammer`][tools_pkg.shed.hammer] and\n"
        "[`Box`][tools_pkg.shed.Box]."
    )
    assert box.docstring.value == (
        "Holds tools: [`open`][tools_pkg.shed.Box.open] opens it, "
        "[`close`][tools_pkg.shed.Box.close] shuts it."
    )
    # Not in scope: the one object of the package with that name.
    assert "[`nail`][tools_pkg.yard.nail]" in box["open"].docstring.value
    assert pkg["yard.nail"].docstring.value == (
        "What [`hammer`][tools_pkg.shed.hammer] drives (the one hammer of the package)."
    )
    assert "[`saw`][tools_pkg.shed.saw]" in shed["hammer"].docstring.value


def test_a_private_module_s_object_links_to_its_public_name(tmp_path: Path) -> None:
    parts = load(tmp_path, PACKAGE)["_parts"]
    # LENGTH has no docstring, so no entry on the API pages to link to.
    assert parts.docstring.value == (
        "Parts: a [`Blade`][tools_pkg.Blade] is `LENGTH` long."
    )


def test_private_and_outside_names_stay_code(tmp_path: Path) -> None:
    text = load(tmp_path, PACKAGE)["shed.hammer"].docstring.value
    assert text == (
        "Hits. Not [`saw`][tools_pkg.shed.saw]'s job; `_sharpen` is private.\n"
        "Raises `ValueError`; takes a `Path` (or\n"
        "a `Path`) and a `numpy.random.Generator`."
    )


@pytest.mark.parametrize(
    ("role", "reason"),
    [
        (":func:`hamer`", "'hamer' names nothing"),
        (":meth:`Box.lid`", "'Box.lid' names nothing"),
        (":func:`tools_pkg.shed.axe`", "names nothing"),
        (":meth:`close`", r"'close' may be \['tools_pkg.shed.Box.close', "),
    ],
)
def test_a_role_that_names_nothing_or_two_things_fails(
    tmp_path: Path, role: str, reason: str
) -> None:
    files = dict(PACKAGE)
    files["yard.py"] += '''
        def close():
            """Shuts the gate."""
    '''
    files["gate.py"] = f'''
        from tools_pkg.shed import Box

        def swing():
            """{role}"""
    '''
    with pytest.raises(RoleError, match=reason):
        load(tmp_path, files)


def test_no_page_shows_a_role_and_the_api_pages_link_them(built_site: Path) -> None:
    shown = {
        page.relative_to(built_site).as_posix(): SHOWN_ROLE.findall(
            page.read_text("utf-8")
        )
        for page in built_site.rglob("*.html")
    }
    assert len(shown) == len(site_audit.pages(built_site))
    assert {path: roles for path, roles in shown.items() if roles} == {}
    # cnnscratch.network's opening: ":class:`Sequential` chains layers (:mod:
    # `cnnscratch.layers` holds them all)".
    html = (built_site / "api" / "training" / "index.html").read_text("utf-8")
    assert re.search(
        r'<a class="autorefs autorefs-internal"[^>]* href="#cnnscratch\.network\.'
        r'Sequential"><code>Sequential</code></a> chains layers \(<a [^>]*'
        r'href="\.\./layers/#cnnscratch\.layers"><code>cnnscratch\.layers</code></a>',
        html,
    )
