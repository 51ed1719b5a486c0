"""``lawkit examples``: the bundled data sets and sweep specs, usable as ``example:NAME``."""

from __future__ import annotations

import json


def add_arguments(p) -> None:
    p.add_argument("--json", action="store_true", help="print the list as JSON")
    p.add_argument("--path", metavar="NAME", help="print the file path of one example")


def run(args) -> int:
    from ..examples import catalog, resolve

    if args.path:
        name = args.path if args.path.startswith("example:") else f"example:{args.path}"
        kind = "sweep" if any(e["name"] == name and e["kind"] == "sweep" for e in catalog()) \
            else "data"
        print(resolve(name, kind))
        return 0
    items = catalog()
    if args.json:
        print(json.dumps(items, indent=2))
        return 0
    width = max(len(e["name"]) for e in items)
    for e in items:
        extra = (f"  ({e['rows']} rows: {', '.join(e['columns'])})" if e["kind"] == "data"
                 else "")
        print(f"{e['name']:<{width}}  {e['kind']:<5}  {e['description']}{extra}")
    print("\nuse a name wherever a data file (or, for sweeps, a spec) is expected, e.g.\n"
          "  lawkit fit chinchilla example:gadre_overtraining\n"
          "  lawkit sweep example:smoke --store runs.db")
    return 0
