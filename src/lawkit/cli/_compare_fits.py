"""``lawkit compare-fits FIT_A FIT_B [--at C=...]``: effective compute multiplier k(C)."""

from __future__ import annotations

import json
import math

from ..errors import LawkitError
from ._common import key_values


def add_arguments(p) -> None:
    p.add_argument("fit_a", metavar="FIT_A", help="saved fit of ladder A ('lawkit fit --save')")
    p.add_argument("fit_b", metavar="FIT_B", help="saved fit of ladder B")
    p.add_argument("--at", action="append", metavar="C=V,...",
                   help="budget value (and other inputs) of one point; repeat for more "
                        "(default: 3 budgets spanning A's data)")
    p.add_argument("--budget", metavar='"C = 6*N*D"', help="budget constraint (default: A's law's)")
    p.add_argument("--over", metavar="V1,V2", help="inputs optimised over (default: the budget's)")
    p.add_argument("--minimize", metavar="OUT", help="the output (default) or a term")
    p.add_argument("--level", type=float, default=0.95, help="interval level (default 0.95)")
    p.add_argument("--json", action="store_true", help="print the comparison as JSON")


def default_points(fit, path, budget: str | None) -> list[dict]:
    """Three budgets, log-spaced over the range of A's own budget across A's data rows."""
    from ..fitting.saved import saved_info

    law = fit.law
    ranges = ((saved_info(path).get("data") or {}).get("budget_ranges")) or {}
    if budget is not None or not ranges:
        raise LawkitError(f"give the budget's value: --at C=... ({path} records no budget "
                          f"range of its data)" if budget is None else
                          "with --budget, give its value: --at C=...")
    name = next((n for n in law.budgets if n in ranges), None)
    if name is None:
        raise LawkitError(f"give the budget's value: --at C=... ({path} records no range of "
                          f"law {law.name!r}'s budgets {', '.join(law.budgets) or '(none)'})")
    if not (ranges[name][0] > 0):
        raise LawkitError(f"give the budget's value: --at {name}=... ({path} records a range of "
                          f"{name} that is not positive: {ranges[name]})")
    lo, hi = (math.log(x) for x in ranges[name])
    return [{name: float(f"{math.exp(x):.3g}")} for x in (lo, (lo + hi) / 2, hi)]


def run(args) -> int:
    from ..analysis.ladder import compare_fits
    from ..fitting.saved import load_fit

    if not 0 < args.level < 1:
        raise LawkitError(f"--level must be in (0, 1), not {args.level}")
    a, b = load_fit(args.fit_a), load_fit(args.fit_b)
    points = ([key_values([item], "--at") for item in args.at] if args.at
              else default_points(a, args.fit_a, args.budget))
    over = [v.strip() for v in args.over.split(",") if v.strip()] if args.over else None
    if over is not None and len(set(over)) != len(over):
        raise LawkitError(f"--over {args.over!r} names an input twice")
    result = compare_fits(a, b, points, budget=args.budget, over=over, minimize=args.minimize,
                          level=args.level)
    if args.json:
        print(json.dumps({"fit_a": args.fit_a, "fit_b": args.fit_b, **result.to_dict()},
                         indent=2))
    else:
        print(result.report(name_a=args.fit_a, name_b=args.fit_b))
    return 0
