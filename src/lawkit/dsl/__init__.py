"""The law language: text → parse tree → AST → :class:`~lawkit.law.Law`.

Each stage can be called on its own: ``parse(text, target="tree" | "ast" | "law")``.
The language knows no law library: a parent named in ``extends`` is looked up in the same
text, then in ``lookup`` (``{name: LawDecl}``, or a function ``name → LawDecl | None``).
:func:`lawkit.parse` and :func:`lawkit.load` pass the library's index (:mod:`lawkit.library`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from ..errors import LawDefinitionError, LawNameError, Source, did_you_mean
from . import ast
from ._build import build_law
from ._text import read_law_file
from ._to_ast import parse_ast, parse_tree
from ._to_sympy import FUNCTIONS, register_function

__all__ = ["parse", "parse_file", "parse_ast", "parse_tree", "read_law_file", "resolver",
           "register_function", "FUNCTIONS", "Lookup"]

# Laws outside the text being parsed that ``extends`` may name.
Lookup = Mapping[str, ast.LawDecl] | Callable[[str], "ast.LawDecl | None"]


def resolver(file: ast.LawFile, outside: Lookup | None = None):
    """``resolve(name, source) → (LawDecl, resolver for that law's own parents)``.

    A name is looked up in ``file`` first, then in ``outside``; a parent found outside
    resolves its own parents outside only (its file's laws are in the same index).
    """
    local = {law.name.id: law for law in file.laws}
    if outside is None:
        find, known = (lambda name: None), ()
    elif isinstance(outside, Mapping):
        find, known = outside.get, outside
    else:
        find, known = outside, ()

    def resolve(name: ast.Name, source: Source):
        if name.id in local:
            return local[name.id], resolve
        found = find(name.id)
        if found is None:
            raise LawNameError(f"unknown law {name.raw!r} in 'extends'", name.span, source,
                               did_you_mean(name.id, [*local, *known])
                               or "define it earlier in this file or use a library law")
        return found, outside_resolve

    def outside_resolve(name: ast.Name, source: Source):
        found = find(name.id)
        if found is None:
            raise LawNameError(f"unknown law {name.raw!r} in 'extends'", name.span, source,
                               did_you_mean(name.id, known))
        return found, outside_resolve

    return resolve


def parse(text: str, path: str = "<string>", *, target: str = "law",
          lookup: Lookup | None = None) -> dict:
    """Parse law text; returns ``{name: Law}`` in file order (``{}`` for a file without laws).

    ``target="ast"`` stops at the AST (:class:`ast.LawFile`), ``"tree"`` at Lark's parse tree.
    A parent named in ``extends`` is looked up in the same text, then in ``lookup``.
    """
    if target == "tree":
        return parse_tree(text, path)
    file = parse_ast(text, path)
    if target == "ast":
        return file
    if target != "law":
        raise ValueError(f"target must be 'law', 'ast' or 'tree', not {target!r}")
    resolve = resolver(file, lookup)
    laws: dict = {}
    merged: dict = {}  # one merge per declaration, shared by the laws that extend it
    for decl in file.laws:
        if decl.name.id in laws:
            raise LawNameError(f"law {decl.name.raw!r} is defined twice in this file",
                               decl.name.span, file.source)
        try:
            laws[decl.name.id] = build_law(decl, resolve, cache=merged)
        except RecursionError:
            raise LawDefinitionError(f"law {decl.name.raw!r} is nested too deeply", decl.name.span,
                                     file.source) from None
    return laws


def parse_file(path: str | Path, *, lookup: Lookup | None = None) -> dict:
    """Parse a ``.law`` file (UTF-8, size-limited: see :func:`read_law_file`); ``{name: Law}``."""
    return parse(read_law_file(path), str(path), lookup=lookup)
