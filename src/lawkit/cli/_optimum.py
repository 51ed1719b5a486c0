"""``lawkit optimum LAW``: minimise a law's output over inputs, under a budget."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import LawkitError
from ._common import key_values, pick_law


def add_arguments(p) -> None:
    p.add_argument("law", metavar="LAW", help="law file or library name")
    p.add_argument("--law", dest="law_name", metavar="NAME", help="which law of the file")
    p.add_argument("--values", metavar="NAME|FIT.json",
                   help="a value set of the law, or the JSON written by 'lawkit fit --json'")
    p.add_argument("--minimize", metavar="OUT", help="the output (default) or a term")
    p.add_argument("--over", required=True, metavar="V1,V2", help="inputs to optimise over")
    p.add_argument("--budget", metavar='"C = 6*N*D"', help="budget constraint (default: the law's)")
    p.add_argument("--at", action="append", metavar="K=V,...", help="values of the budget and other inputs")
    p.add_argument("--method", choices=["auto", "analytic", "numeric"], default="auto")
    p.add_argument("--integer", action="store_true",
                   help="restrict the --over variables to integers (e.g. exponent/mantissa bits)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def load_values(text: str | None):
    """A value-set name, or the parameters of a ``lawkit fit --json`` file."""
    if text is None:
        return None
    path = Path(text)
    if path.suffix == ".json" or path.exists():
        if not path.exists():
            raise LawkitError(f"no such fit file: {path}")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return {k: float(v) for k, v in data["params"].items() if "[" not in k}
        except (ValueError, KeyError, TypeError) as err:
            raise LawkitError(f"{path} is not a 'lawkit fit --json' result ({err})") from None
    return text


def run(args) -> int:
    from ..analysis import optimum

    law = pick_law(args.law, args.law_name)
    result = optimum(law, minimize=args.minimize,
                     over=[v.strip() for v in args.over.split(",") if v.strip()],
                     budget=args.budget, at=key_values(args.at, "--at"),
                     values=load_values(args.values), method=args.method, integer=args.integer)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
        return 0
    print(f"optimum of {result.minimize} over {', '.join(result.over)} ({result.method})")
    for k, v in result.at.items():
        print(f"  {k:<10} = {v:.6g}")
    for k, e in result.solution.items():
        print(f"  {k}* = {e}")
    return 0
