"""``lawkit laws``: list the law library (name, citation, inputs, value sets)."""

from __future__ import annotations

import json


def add_arguments(p) -> None:
    p.add_argument("--json", action="store_true",
                   help="print the list as JSON (with each law's file and full path)")
    p.add_argument("--markdown", action="store_true", help="print docs/laws.md")


def run(args) -> int:
    from ..library import library_laws, library_markdown

    if args.markdown:
        print(library_markdown(), end="")
        return 0
    laws = library_laws()
    files = {law.name: _where(law) for law in laws}
    if args.json:
        print(json.dumps([{"name": law.name, "citation": law.citation, "inputs": list(law.inputs),
                           "output": law.output.name, "values": list(law.values),
                           "file": files[law.name], "path": law.source.path}
                          for law in laws], indent=2, ensure_ascii=False))
        return 0
    from ._rich import print_laws, wanted

    if wanted():
        print_laws(laws, files)
        return 0
    width = max(len(law.name) for law in laws)
    for law in laws:
        sets = ", ".join(law.values) or "(form only)"
        print(f"{law.name:<{width}}  {law.output.name} ({', '.join(law.inputs)})  values: {sets}")
        print(f"{'':<{width}}  {law.citation}")
        print(f"{'':<{width}}  {files[law.name]}; lawkit.load({law.name!r})[{law.name!r}], "
              f"or {law.name} on the command line")
    return 0


def _where(law) -> str:
    """The law's file: relative to the working directory when inside it, else absolute."""
    from pathlib import Path

    path = Path(law.source.path).resolve()
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
