"""Griffe extension: the package's Sphinx roles become links on the API pages.

The docstrings of ``src/`` name other objects as Sphinx does
(``:func:`conv2d_backward```, ``:meth:`~Sequential.parameters```,
``:mod:`cnnscratch.pooling```): that reads well in ``help()`` and in the
source, and mkdocstrings would print it as it is (":func:" before the code).
Once the whole package is loaded, this extension rewrites each role in the
docstrings that mkdocstrings renders into a cross-reference that
mkdocs-autorefs resolves (```[`conv2d_backward`][cnnscratch.conv.conv2d_backward]```):

* the name is resolved as Python would from where the docstring is (the
  object, its class, its module, the names they import); failing that, it
  is the one object of the package with that name (two are an error); a
  leading ``.`` names a module of the package, ``cnnscratch.…`` is
  absolute;
* ``~`` shows the last part of the name only, as in Sphinx;
* a name of the package that is private (``_forward_all``) or has no
  docstring (the constants, whose ``#:`` comments mkdocstrings does not
  read) stays plain code: it has no entry on the API pages. A name that
  resolves to nothing is a typo, and fails the build (:class:`RoleError`);
* a name outside the package (``ValueError``, ``numpy.random.Generator``,
  ``pathlib.Path``) stays plain code: the site links no other
  documentation.

A public name that resolves but has no entry on any page fails the strict
build too (autorefs: "Could not find cross-reference target").

Sources are not changed: ``help()`` and the doctests see the roles as written.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Iterator
from typing import Any

import griffe

ROLE = re.compile(r":(?:func|class|meth|mod|data|attr|exc|obj):`(?P<target>[^`]+)`")


class RoleError(ValueError):
    """A role names something that does not exist."""


def objects(obj: griffe.Object) -> Iterator[griffe.Object]:
    """``obj`` and every object defined in it (not the names it imports)."""
    yield obj
    for member in obj.members.values():
        if not member.is_alias:
            yield from objects(member)  # type: ignore[arg-type]


def public_paths(package: griffe.Module) -> dict[str, str]:
    """Each object's public path by its canonical one: where the API pages
    show it. That is its own path where no part of it is private, else the
    first public name it is imported as (``cnnscratch.exercises.Case`` for
    ``cnnscratch.exercises._core.Case``)."""
    found: dict[str, str] = {}

    def visit(obj: griffe.Object) -> None:
        for name, member in obj.members.items():
            if name.startswith("_"):
                continue
            if member.is_alias:
                target = member.target_path  # type: ignore[union-attr]
                if target.startswith(f"{package.name}."):
                    found.setdefault(target, member.path)
            else:
                found[member.path] = member.path
                visit(member)  # type: ignore[arg-type]

    visit(package)
    return found


def in_scope(where: griffe.Object, name: str) -> griffe.Object | None:
    """What ``name`` is where a docstring is: a member of the object, of
    its class, of its module (the names it imports included)."""
    scope: griffe.Object | None = where
    while scope is not None:
        if name in scope.members:
            return scope.members[name]  # type: ignore[return-value]
        parent = scope.parent
        if parent is not None and not parent.is_module and parent.name == name:
            return parent
        scope = parent
    return None


def resolve(where: griffe.Object, name: str) -> griffe.Object | None:
    """The object ``name`` names, as seen from ``where`` (an alias where it
    is imported: its public path); ``None`` when it is outside the package.
    Raises :class:`RoleError` when ``name`` would be in the package but is
    nowhere, or could be two objects."""
    package = where.package
    if name.startswith("."):
        name = f"{package.name}{name}"
    head, *rest = name.split(".")
    obj = package if head == package.name else in_scope(where, head)
    if obj is None:
        matches = [o for o in objects(package) if o.name == head]
        if len(matches) > 1:
            paths = [o.path for o in matches]
            raise RoleError(f"{where.path}: {name!r} may be {paths}")
        if not matches:
            if hasattr(builtins, head) or rest:
                return None  # a built-in, or a dotted name of another package
            raise RoleError(f"{where.path}: {name!r} names nothing")
        obj = matches[0]
    if obj.is_alias and not obj.target_path.startswith(f"{package.name}."):
        return None  # imported from another package
    for part in rest:
        if part not in obj.members:
            raise RoleError(f"{where.path}: {name!r} names nothing")
        obj = obj.members[part]  # type: ignore[assignment]
    return obj


def link(where: griffe.Object, target: str, public: dict[str, str]) -> str:
    """The Markdown for one role's target, seen from ``where``; ``public``
    is :func:`public_paths` of its package."""
    short = target.startswith("~")
    name = target.removeprefix("~")
    shown = name.rsplit(".", 1)[-1] if short else name.lstrip(".")
    obj = resolve(where, name)
    path = obj and public.get(obj.canonical_path)
    if obj is None or obj.docstring is None or path is None:
        return f"`{shown}`"
    return f"[`{shown}`][{path}]"


def rewrite(where: griffe.Object, text: str, public: dict[str, str]) -> str:
    """``text`` with every role replaced by its link (or code)."""
    return ROLE.sub(lambda match: link(where, match["target"], public), text)


class SphinxRoles(griffe.Extension):
    """Rewrites the roles of every docstring of a loaded package."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        public = public_paths(pkg)
        for obj in objects(pkg):
            if obj.docstring is not None:
                obj.docstring.value = rewrite(obj, obj.docstring.value, public)
