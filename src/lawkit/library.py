"""The law library (``laws/*.law``) and :func:`load`: a file path or a library name → laws."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from ._resources import resource_dir
from .errors import LawkitError, did_you_mean


def library_dir() -> Path:
    return resource_dir("laws")


def library_files() -> dict[str, Path]:
    """``{stem: path}`` of the library's law files."""
    return {p.stem: p for p in sorted(library_dir().glob("*.law"))}


@cache
def _library_asts() -> dict:
    from .dsl import parse_ast

    out = {}
    for path in library_files().values():
        file = parse_ast(path.read_text(encoding="utf-8"), str(path))
        for law in file.laws:
            out[law.name.id] = (law, file)
    return out


def library_law_names() -> list[str]:
    return list(_library_asts())


def library_lookup(name: str):
    """Find library law ``name``: its AST and a resolver for its own file's ``extends``."""
    from .dsl import _resolver

    found = _library_asts().get(name)
    if found is None:
        return None
    law, file = found
    return law, _resolver(file, library_lookup)


def load(path_or_name: str | Path) -> dict:
    """Laws ``{name: Law}`` from a ``.law`` file, or from the library by file stem or law name.

    >>> load("chinchilla")["chinchilla"].inputs.keys()   # doctest: +SKIP
    """
    from .dsl import parse_file

    p = Path(path_or_name)
    if p.suffix == ".law" or p.exists():
        if not p.exists():
            raise LawkitError(f"no such law file: {p}")
        return parse_file(p)
    files = library_files()
    name = str(path_or_name)
    if name in files:
        return parse_file(files[name])
    if name in _library_asts():
        return {name: parse_file(_library_asts()[name][1].source.path)[name]}
    raise LawkitError(f"{name!r} is neither a law file nor a library law"
                      + (f"; {hint}" if (hint := did_you_mean(name, [*files, *_library_asts()]))
                         else f" (library: {', '.join(files)})"))


def library_laws() -> list:
    """Every law of the library, in file order."""
    out = []
    for path in library_files().values():
        out.extend(load(path).values())
    return out


def library_markdown() -> str:
    """The text of ``docs/laws.md``: one section per library file, generated from the files."""
    from .dsl import parse_file

    lines = ["# The law library", "",
             "Generated from `laws/*.law` by `lawkit laws --markdown`; do not edit by hand.", ""]
    for stem, path in library_files().items():
        header = []
        for ln in path.read_text(encoding="utf-8").splitlines():  # the leading comment block
            if not ln.startswith("#"):
                break
            header.append(ln[1:].strip())
        lines += [f"## `{stem}`", "", *[h for h in header if h], ""]
        lines += ["| law | citation | inputs | output | value sets |", "|---|---|---|---|---|"]
        for law in parse_file(path).values():
            sets = ", ".join(f"`{v}`" for v in law.values) or "— (form only)"
            lines.append(f"| `{law.name}` | {law.citation} | {', '.join(law.inputs)} | "
                         f"{law.output.name} | {sets} |")
        lines.append("")
        for law in parse_file(path).values():
            lines += [f"### `{law.name}`", "", "$$", law.latex().replace(r" \\ ", r" \\\\ "), "$$", ""]
    return "\n".join(lines)
