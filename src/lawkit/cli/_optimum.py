"""``lawkit optimum LAW|FIT``: minimise a law's output over inputs, under a budget.

A saved fit (``lawkit fit ... --save FIT``) may stand for the law and its values (as LAW)
or for the values only (``--values FIT``); with its stored bootstrap draws the optimum
gets percentile intervals.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from ..errors import LawkitError, did_you_mean
from ._common import key_values, pick_law


def add_arguments(p) -> None:
    p.add_argument("law", metavar="LAW|FIT",
                   help="law file or library name, or a fit saved with 'lawkit fit --save'")
    p.add_argument("--law", dest="law_name", metavar="NAME", help="which law of the file")
    p.add_argument("--values", metavar="NAME|FIT",
                   help="a value set of the law, the JSON written by 'lawkit fit --json', "
                        "or a saved fit")
    p.add_argument("--minimize", metavar="OUT", help="the output (default) or a term")
    p.add_argument("--over", metavar="V1,V2",
                   help="inputs to optimise over (default: the inputs in the budget)")
    p.add_argument("--budget", metavar='"C = 6*N*D"', help="budget constraint (default: the law's)")
    p.add_argument("--at", action="append", metavar="K=V,...", help="values of the budget and other inputs")
    p.add_argument("--method", choices=["auto", "analytic", "numeric"], default="auto")
    p.add_argument("--integer", action="store_true",
                   help="restrict the --over variables to integers (e.g. exponent/mantissa bits)")
    p.add_argument("--level", type=float, default=None,
                   help="interval level with a saved fit's bootstrap draws (default: the fit's)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def load_values(text: str | None):
    """A value-set name, a saved fit, or the parameters of a ``lawkit fit --json`` file."""
    if text is None:
        return None
    path = Path(text)
    from ..fitting.saved import is_saved_fit, load_fit

    if is_saved_fit(path):
        return load_fit(path)
    if path.suffix == ".json" or path.exists():
        if not path.exists():
            raise LawkitError(f"no such fit file: {path}")
        if path.is_dir():
            raise LawkitError(f"--values {path}: a directory, not a fit file or value set")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return {k: float(v) for k, v in data["params"].items() if "[" not in k}
        except (ValueError, KeyError, TypeError, AttributeError, OSError) as err:
            raise LawkitError(f"{path} is not a 'lawkit fit --json' result ({err})") from None
    return text


def default_over(law, budget: str | None, at: dict) -> list[str]:
    """The law's inputs that the budget mentions (the budget given, or the law's own one
    whose variable ``at`` names)."""
    from ..analysis import parse_budget

    if budget is not None:
        expr = parse_budget(law, budget)[1]
    else:
        names = [b for b in law.budgets if b in at]
        if not names:
            raise LawkitError("give --over V1,V2 (or a budget, --budget or its value in --at, "
                              "whose inputs are optimised over)")
        expr = law.budget(names[0])
    names = {s.name for s in expr.free_symbols}
    return [v for v in law.inputs if v in names and v not in at]


def run(args) -> int:
    from ..analysis import optimum
    from ..fitting.saved import is_saved_fit, load_fit

    fit = None
    if is_saved_fit(args.law):
        if args.values is not None or args.law_name is not None:
            raise LawkitError(f"{args.law} is a saved fit: it brings its law and values "
                              f"(drop --values/--law)")
        fit = load_fit(args.law)
        law = fit.law
    else:
        law = pick_law(args.law, args.law_name)
    values = fit if fit is not None else load_values(args.values)
    if fit is None and not isinstance(values, (str, dict, type(None))):
        fit = values  # --values FIT
    if args.level is not None and not 0 < args.level < 1:
        raise LawkitError(f"--level must be in (0, 1), not {args.level}")
    at = key_values(args.at, "--at")
    budget_name = args.budget.partition("=")[0].strip() if args.budget else None
    known = [*law.inputs, *law.budgets, *([budget_name] if budget_name else [])]
    for name in at:
        if name not in known:
            hint = did_you_mean(name, known)
            raise LawkitError(f"--at {name}=...: {name!r} is neither an input nor a budget of "
                              f"law {law.name!r} (inputs: {', '.join(law.inputs)}; budgets: "
                              f"{', '.join(law.budgets) or 'none'})" + (f"; {hint}" if hint else ""))
    over = ([v.strip() for v in args.over.split(",") if v.strip()] if args.over
            else default_over(law, args.budget, at))
    if len(set(over)) != len(over):
        raise LawkitError(f"--over {args.over!r} names an input twice")
    result = optimum(law, minimize=args.minimize, over=over, budget=args.budget, at=at,
                     values=values, method=args.method, integer=args.integer)
    dist = None
    if fit is not None and fit.bootstrap and not args.integer:
        from ..analysis import optimum_distribution

        dist = optimum_distribution(law, fit, over=over, budget=args.budget, at=at,
                                    minimize=args.minimize,
                                    level=args.level if args.level is not None else fit.ci_level,
                                    method=args.method)
    if args.json:
        payload = result.to_dict()
        if dist is not None:
            payload.update({"ci": {k: [_num(a), _num(b)] for k, (a, b) in dist.ci.items()
                                   if k not in at},
                            "ci_level": dist.level, "n_draws": _usable(dist),
                            "interval": "bootstrap percentile over the fit's stored draws"})
        print(json.dumps(payload, indent=2))
        return 0
    print(f"optimum of {result.minimize} over {', '.join(result.over)} ({result.method})")
    pct = f"{100 * dist.level:g}% CI" if dist is not None else ""
    for k, v in result.at.items():
        ci = ""
        if dist is not None and k not in at and k in dist.ci:
            lo, hi = dist.ci[k]
            ci = f"   {pct} [{lo:.6g}, {hi:.6g}]"
        print(f"  {k:<10} = {v:.6g}{ci}")
    for k, e in result.solution.items():
        print(f"  {k}* = {e}")
    if dist is not None:
        print(f"  (intervals: percentile over {_usable(dist)} of the fit's stored bootstrap "
              f"draws)")
    return 0


def _num(x):
    return float(x) if math.isfinite(x) else None


def _usable(dist) -> int:
    import numpy as np

    key = dist.minimize if dist.minimize in dist.samples else next(iter(dist.samples))
    return int(np.isfinite(dist.samples[key]).sum())
