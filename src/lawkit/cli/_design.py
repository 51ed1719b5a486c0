"""``lawkit design FIT --target ... (--candidates GRID.csv | --isoflop-grid C1,C2,...) --n K``:
the next runs that most reduce the target's uncertainty per unit compute."""

from __future__ import annotations

import json
import math

import numpy as np

from ..errors import LawkitError


def add_arguments(p) -> None:
    p.add_argument("fit", metavar="FIT", help="a fit saved with 'lawkit fit ... --save FIT'")
    p.add_argument("--target", required=True, metavar="TEXT",
                   help="'N_opt at C=1e24' (a coordinate of the compute optimum) or "
                        "'L at N=1e10,D=2e11' (the output or a term at given inputs)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--candidates", metavar="GRID.csv", help="candidate runs (CSV/Parquet "
                                                                "with the law's inputs)")
    src.add_argument("--isoflop-grid", metavar="C1,C2,...|LO:HI:COUNT",
                     help="generate IsoFLOP candidates at these budgets around the fit's "
                          "frontier N*(C) (LO:HI:COUNT: COUNT budgets log-spaced)")
    p.add_argument("--grid-points", type=int, default=7, metavar="P",
                   help="sizes per budget of --isoflop-grid (default 7)")
    p.add_argument("--grid-width", type=float, default=0.5, metavar="DECADES",
                   help="sizes span N*(C)·10^±DECADES (default 0.5)")
    p.add_argument("--grid-out", metavar="FILE", help="also write the generated grid as CSV")
    p.add_argument("--n", type=int, required=True, metavar="K", help="how many runs to choose")
    p.add_argument("--cost", default="6*N*D", metavar="EXPR|COLUMN",
                   help="cost of a run: an expression in the inputs (default 6*N*D) or a "
                        "candidates column; 'run' counts runs")
    p.add_argument("--per", choices=["cost", "run"], default="cost",
                   help="rank by variance reduction per unit cost (default) or per run")
    p.add_argument("--prior", choices=["covariance", "bootstrap"], default="covariance",
                   help="current uncertainty: the fit's covariance (default) or its draws'")
    p.add_argument("--noise", type=float, metavar="SD",
                   help="fit-space sd of a new run (default: from the fit's residuals)")
    p.add_argument("--level", type=float, metavar="P", help="CI level (default: the fit's)")
    p.add_argument("--json", action="store_true", help="print the design as JSON")


def budgets(text: str) -> list[float]:
    """``"1e19,1e20"`` or ``"1e19:1e21:5"`` (5 log-spaced values) → budget values."""
    from ..analysis.design import MAX_GRID_BUDGETS

    try:
        if ":" in text:
            lo, hi, count = text.split(":")
            lo, hi, count = float(lo), float(hi), int(count)
            if not (lo > 0 and hi >= lo and count >= 1):
                raise ValueError
            if count > MAX_GRID_BUDGETS:
                raise LawkitError(f"--isoflop-grid {text!r}: {count} budgets; at most "
                                  f"{MAX_GRID_BUDGETS}")
            values = np.logspace(math.log10(lo), math.log10(hi), count).tolist()
        else:
            values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise LawkitError(f"--isoflop-grid: cannot read {text!r}; give budgets as "
                          f"'1e19,1e20,1e21' or 'LO:HI:COUNT' (e.g. 1e19:1e21:5)") from None
    if not values or not all(math.isfinite(v) and v > 0 for v in values):
        raise LawkitError(f"--isoflop-grid: budgets must be finite and positive, got {text!r}")
    return values


def run(args) -> int:
    from ..analysis.design import design, isoflop_grid
    from ..fitting.saved import is_saved_fit, load_fit

    if not is_saved_fit(args.fit):
        raise LawkitError(f"{args.fit} is not a saved fit: write one with "
                          f"'lawkit fit LAW DATA --save FIT'")
    fit = load_fit(args.fit)
    cost = None if args.cost == "run" else args.cost
    if args.isoflop_grid is not None:
        budget = None
        if not fit.law.budgets:
            if cost is None:
                raise LawkitError("--isoflop-grid: the law declares no budget; give --cost "
                                  "with the budget expression (e.g. '6*N*D')")
            budget = f"C = {cost}"
        candidates = isoflop_grid(fit, budgets(args.isoflop_grid), points=args.grid_points,
                                  width=args.grid_width, budget=budget)
        if args.grid_out:
            try:
                candidates.to_csv(args.grid_out, index=False)
            except OSError as err:
                raise LawkitError(f"--grid-out: cannot write {args.grid_out}: "
                                  f"{err.strerror or err}") from None
    else:
        candidates = args.candidates
    result = design(fit, target=args.target, candidates=candidates, n=args.n, cost=cost,
                    level=args.level, noise=args.noise, prior=args.prior, per=args.per)
    print(json.dumps(result.to_dict(), indent=2) if args.json else result.report())
    return 0
