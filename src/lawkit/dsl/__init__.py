"""The law language: text → parse tree → AST → :class:`~lawkit.law.Law`.

Each stage can be called on its own: ``parse(text, target="tree" | "ast" | "law")``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..errors import LawDefinitionError, LawNameError, Source, did_you_mean
from . import ast
from ._build import build_law
from ._to_ast import parse_ast, parse_tree
from ._to_sympy import FUNCTIONS, register_function

__all__ = ["parse", "parse_file", "parse_ast", "parse_tree", "register_function", "FUNCTIONS"]

# Finds a law by name outside the file being parsed: (LawDecl, resolver for its own file).
Lookup = Callable[[str], "tuple[ast.LawDecl, Callable] | None"]


def _resolver(file: ast.LawFile, outside: Lookup | None):
    local = {law.name.id: law for law in file.laws}

    def resolve(name: ast.Name, source: Source):
        if name.id in local:
            return local[name.id], resolve
        found = outside(name.id) if outside else None
        if found is None:
            from ..library import library_law_names

            raise LawNameError(f"unknown law {name.raw!r} in 'extends'", name.span,
                               source, did_you_mean(name.id, [*local, *library_law_names()])
                               or "define it earlier in this file or use a library law")
        return found

    return resolve


def parse(text: str, path: str = "<string>", *, target: str = "law",
          lookup: Lookup | None = None) -> dict:
    """Parse law text; returns ``{name: Law}`` in file order.

    ``target="ast"`` stops at the AST (:class:`ast.LawFile`), ``"tree"`` at Lark's parse tree.
    A parent named in ``extends`` is looked up in the same text, then in ``lookup`` (by
    default the law library).
    """
    if target == "tree":
        return parse_tree(text, path)
    file = parse_ast(text, path)
    if target == "ast":
        return file
    if target != "law":
        raise ValueError(f"target must be 'law', 'ast' or 'tree', not {target!r}")
    if lookup is None:
        from ..library import library_lookup as lookup
    resolve = _resolver(file, lookup)
    laws = {}
    for decl in file.laws:
        if decl.name.id in laws:
            raise LawNameError(f"law {decl.name.raw!r} is defined twice in this file",
                               decl.name.span, file.source)
        try:
            laws[decl.name.id] = build_law(decl, resolve)
        except RecursionError:
            raise LawDefinitionError(f"law {decl.name.raw!r} is nested too deeply", decl.name.span,
                                     file.source) from None
    return laws


def parse_file(path: str | Path, *, lookup: Lookup | None = None) -> dict:
    """Parse a ``.law`` file; returns ``{name: Law}``."""
    p = Path(path)
    return parse(p.read_text(encoding="utf-8"), str(path), lookup=lookup)
