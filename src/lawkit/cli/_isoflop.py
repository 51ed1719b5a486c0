"""``lawkit isoflop DATA``: Approach 2 (IsoFLOP profiles), optionally cross-checked against
a law fitted to the same data (``--law``)."""

from __future__ import annotations

import json
import math

from ..errors import LawkitError
from ._common import key_values


def add_source_options(p) -> None:
    """DATA, --compute/--budget, --map, --bootstrap, --seed, --json, --plot (shared with
    ``lawkit envelope``)."""
    p.add_argument("data", metavar="DATA", help="CSV or Parquet file of runs (columns N, D, L)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--compute", metavar="COL", help="column holding each run's compute budget")
    src.add_argument("--budget", metavar='"C = 6·N·D"',
                     help="budget equation C = k·N·D giving each run's compute (default 6·N·D)")
    p.add_argument("--map", action="append", metavar="NAME=COLUMN",
                   help="data column for N, D or L (repeatable), e.g. N=params")
    p.add_argument("--bootstrap", type=int, default=200, metavar="K",
                   help="bootstrap resamples (default 200; 0: regression intervals only)")
    p.add_argument("--seed", type=int, default=0, metavar="S")
    p.add_argument("--level", type=float, default=0.95, help="interval level (default 0.95)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--plot", metavar="DIR", help="write PNG figures into DIR")
    p.add_argument("--report", metavar="FILE.html|FILE.md",
                   help="write a report (tables and figures)")


def add_arguments(p) -> None:
    add_source_options(p)
    p.add_argument("--profile", choices=["parabola", "cubic"], default="parabola",
                   help="profile of loss against log10 N (default parabola)")
    p.add_argument("--window", default="0.5", metavar="W",
                   help="half-width of the fitted window in decades of N around the minimum "
                        "(default 0.5; 'all': the whole curve)")
    p.add_argument("--tolerance", type=float, default=0.1,
                   help="relative compute difference within which runs share a budget (0.1)")
    p.add_argument("--law", metavar="LAW", help="also fit LAW (file or library name) to the "
                   "data and cross-check its frontier exponent")
    p.add_argument("--law-name", metavar="NAME", help="which law of the --law file")
    p.add_argument("--fit-bootstrap", type=int, default=0, metavar="K",
                   help="bootstrap resamples for the --law fit (default 0: delta method)")


def parse_window(text: str):
    if text.strip().lower() in ("all", "none", "inf"):
        return None
    try:
        value = float(text)
    except ValueError:
        raise LawkitError(f"--window must be a number of decades or 'all', not {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise LawkitError(f"--window must be positive, not {text!r}")
    return value


def emit(result, args, extra: dict | None = None, extra_text: str = "") -> None:
    """Print the report or JSON, and write the figures."""
    paths = []
    if getattr(args, "report", None):
        from ..report import write_report
        from ..report.approach_plots import approach_figures

        write_report(args.report, result, approach_figures(result),
                     context={"data": args.data, "budget": args.budget,
                              "compute column": args.compute},
                     **({"title": "Lower envelope (Approach 1)"} if hasattr(result, "curves")
                        else {}))
    if args.plot:
        from ..report.approach_plots import save_figures

        paths = save_figures(result, args.plot)
    if args.json:
        payload = result.to_dict()
        payload.update(extra or {})
        print(json.dumps(payload, indent=2))
        return
    print(result.report())
    if extra_text:
        print(extra_text)
    for path in paths:
        print(f"wrote {path}")


def run(args) -> int:
    if args.report:
        from ..report import check_report_path

        check_report_path(args.report)
    from ..analysis.isoflop import isoflop

    mapping = key_values(args.map, "--map", numeric=False)
    result = isoflop(args.data, compute=args.compute, budget=args.budget, profile=args.profile,
                     window=parse_window(args.window), bootstrap=args.bootstrap, seed=args.seed,
                     mapping=mapping, ci_level=args.level, tolerance=args.tolerance)
    extra, text = {}, ""
    if args.law:
        from .. import fit
        from ..analysis.crosscheck import crosscheck
        from ._common import pick_law

        law = pick_law(args.law, args.law_name)
        law_map = {k: v for k, v in mapping.items() if k in law.inputs}
        if "L" in mapping:
            law_map[law.output.name] = mapping["L"]
        fitted = fit(law, args.data, mapping=law_map, bootstrap=args.fit_bootstrap,
                     seed=args.seed)
        check = crosscheck(fitted, isoflop=result, budget=args.budget, level=args.level)
        extra, text = {"crosscheck": check.to_dict()}, check.report()
    emit(result, args, extra, text)
    return 0
