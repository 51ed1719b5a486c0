"""``lawkit laws``: list the law library (name, citation, inputs, value sets)."""

from __future__ import annotations

import json


def add_arguments(p) -> None:
    p.add_argument("--json", action="store_true", help="print the list as JSON")
    p.add_argument("--markdown", action="store_true", help="print docs/laws.md")


def run(args) -> int:
    from ..library import library_laws, library_markdown

    if args.markdown:
        print(library_markdown(), end="")
        return 0
    laws = library_laws()
    if args.json:
        print(json.dumps([{"name": law.name, "citation": law.citation, "inputs": list(law.inputs),
                           "output": law.output.name, "values": list(law.values)} for law in laws],
                         indent=2, ensure_ascii=False))
        return 0
    width = max(len(law.name) for law in laws)
    for law in laws:
        sets = ", ".join(law.values) or "(form only)"
        print(f"{law.name:<{width}}  {law.output.name} ({', '.join(law.inputs)})  values: {sets}")
        print(f"{'':<{width}}  {law.citation}")
    return 0
