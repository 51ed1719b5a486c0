"""``lawkit check FILE... [--json]``: parse, validate and print laws."""

from __future__ import annotations

import json
import sys

from ..errors import LawkitError
from ..law import Law


def add_arguments(p) -> None:
    p.add_argument("files", nargs="+", metavar="FILE",
                   help="law files (.law) or library names (e.g. chinchilla)")
    p.add_argument("--json", action="store_true", help="print the laws as JSON")


def describe(law: Law) -> str:
    """A plain-text summary of a law: declarations, equations, value sets."""
    lines = [f"law {law.name}" + (f' "{law.citation}"' if law.citation else "")
             + (f"  (extends {law.parent})" if law.parent else "")]

    def named(n, d):
        return f"{n} ({d})" if d else n

    lines.append("  inputs   " + ", ".join(named(n, v.description) for n, v in law.inputs.items()))
    lines.append("  output   " + named(law.output.name, law.output.description))
    if law.params:
        lines.append("  params   " + ", ".join(f"{n} {p.bounds_text()}" for n, p in law.params.items()))
    for n, e in law.consts.items():
        lines.append(f"  const    {n} = {e}")
    for n, e in law.terms.items():
        lines.append(f"  term     {n} = {e}")
    lines.append(f"  {law.output.name} = {law.equation}")
    if law.terms:
        lines.append(f"  expanded {law.output.name} = {law.expr}")
    for n, e in law.budgets.items():
        lines.append(f"  budget   {n} = {e}")
    for v in law.values.values():
        vals = ", ".join(f"{k} = {x:.6g}" for k, x in v.values.items())
        lines.append(f"  values   {v.name}" + (f' "{v.citation}"' if v.citation else "") + f": {vals}")
    return "\n".join(lines)


def run(args) -> int:
    from ..library import load

    laws, failed = [], False
    for f in args.files:
        try:
            found = load(f)
        except LawkitError as err:
            print(str(err), file=sys.stderr)
            failed = True
            continue
        if not found:  # parse() gives {} for a file of comments; checking it is a mistake
            print(f"no laws in {f} (the file holds only comments and blank lines)", file=sys.stderr)
            failed = True
        laws.extend(found.values())
    if args.json:
        print(json.dumps({"laws": [law.to_dict() for law in laws]}, indent=2, ensure_ascii=False))
    elif laws:
        print("\n\n".join(describe(law) for law in laws))
    return 2 if failed else 0
