"""The law library (``laws/*.law``), its index, and the library-aware :func:`parse` / :func:`load`.

The language (:mod:`lawkit.dsl`) knows nothing of the library: it takes the laws a file
may extend as an argument.  This module builds that index (every library law by name) and
passes it, so ``lawkit.parse(text)`` can say ``law x extends chinchilla``.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType

from . import dsl
from ._resources import resource_dir
from .errors import LawFileError, LawkitError, LawNameError, Source, did_you_mean


def library_dir() -> Path:
    return resource_dir("laws")


def library_files() -> dict[str, Path]:
    """``{stem: path}`` of the library's law files."""
    return {p.stem: p for p in sorted(library_dir().glob("*.law"))}


@cache
def library_index():
    """``{law name: LawDecl}`` for every library law (read-only); names are unique."""
    out: dict = {}
    for path in library_files().values():
        for law in dsl.parse_ast(dsl.read_law_file(path), str(path)).laws:
            if law.name.id in out:
                first = out[law.name.id]
                raise LawNameError(f"library law {law.name.raw!r} is defined twice", law.name.span,
                                   law.source, f"first in {first.source.path}")
            out[law.name.id] = law
    return MappingProxyType(out)


class _Library(Mapping):
    """:func:`library_index`, parsed on first use: a file that extends nothing outside
    itself never parses the library."""

    def __getitem__(self, name):
        return library_index()[name]

    def __iter__(self):
        return iter(library_index())

    def __len__(self):
        return len(library_index())


LIBRARY = _Library()


def library_law_names() -> list[str]:
    return list(library_index())


def parse(text: str, path: str = "<string>", *, target: str = "law", lookup=None) -> dict:
    """:func:`lawkit.dsl.parse` with the library as the laws ``extends`` may name.

    >>> parse("law mine extends chinchilla:\\n    params E = 1.5\\n")["mine"].parent
    'chinchilla'
    """
    return dsl.parse(text, path, target=target, lookup=LIBRARY if lookup is None else lookup)


def parse_file(path: str | Path, *, lookup=None) -> dict:
    """:func:`lawkit.dsl.parse_file` with the library as the default ``lookup``."""
    return dsl.parse_file(path, lookup=LIBRARY if lookup is None else lookup)


def load(path_or_name: str | Path) -> dict:
    """Laws ``{name: Law}`` from a ``.law`` file, or from the library by file stem or law name.

    A file without laws (only comments) gives ``{}``.

    >>> load("chinchilla")["chinchilla"].inputs.keys()   # doctest: +SKIP
    """
    p = Path(path_or_name)
    if p.suffix == ".law" or p.exists():
        if not p.exists():
            raise LawFileError("no such law file", None, Source("", str(p)))
        return parse_file(p)
    files = library_files()
    name = str(path_or_name)
    if name in files:
        return parse_file(files[name])
    index = library_index()
    if name in index:
        return {name: parse_file(index[name].source.path)[name]}
    raise LawkitError(f"{name!r} is neither a law file nor a library law"
                      + (f"; {hint}" if (hint := did_you_mean(name, [*files, *index]))
                         else f" (library: {', '.join(files)})"))


def library_laws() -> list:
    """Every law of the library, in file order."""
    out = []
    for path in library_files().values():
        out.extend(load(path).values())
    return out


def library_markdown() -> str:
    """The text of ``docs/laws.md``: one section per library file, generated from the files."""
    lines = ["# The law library", "",
             "Generated from `laws/*.law` by `lawkit laws --markdown`; do not edit by hand.", ""]
    for stem, path in library_files().items():
        header = []
        for ln in dsl.read_law_file(path).split("\n"):  # the leading comment block
            if not ln.startswith("#"):
                break
            header.append(ln[1:].strip())
        lines += [f"## `{stem}`", "", *[h for h in header if h], ""]
        lines += ["| law | citation | inputs | output | value sets |", "|---|---|---|---|---|"]
        laws = parse_file(path)
        for law in laws.values():
            sets = ", ".join(f"`{v}`" for v in law.values) or "— (form only)"
            lines.append(f"| `{law.name}` | {law.citation} | {', '.join(law.inputs)} | "
                         f"{law.output.name} | {sets} |")
        lines.append("")
        for law in laws.values():
            lines += [f"### `{law.name}`", "", "$$", law.latex().replace(r" \\ ", r" \\\\ "), "$$", ""]
    return "\n".join(lines)
