"""``lawkit fit LAW DATA``: fit a law to tabular data and print the report or JSON."""

from __future__ import annotations

import json
import sys

from ..errors import LawkitError
from ._common import add_objective_options, key_values, pick_law


def add_arguments(p) -> None:
    p.add_argument("law", metavar="LAW", help="law file or library name (e.g. chinchilla)")
    p.add_argument("data", metavar="DATA", help="CSV or Parquet file")
    p.add_argument("--law", dest="law_name", metavar="NAME", help="which law of the file")
    add_objective_options(p)
    p.add_argument("--starts", default="grid", help="'grid' (default) or a number of random starts")
    p.add_argument("--bootstrap", type=int, default=0, metavar="K", help="bootstrap resamples")
    p.add_argument("--seed", type=int, default=0, metavar="S")
    p.add_argument("--fix", action="append", metavar="NAME=VALUE", help="hold a parameter fixed")
    p.add_argument("--weights", metavar="COLUMN", help="per-row weights column")
    p.add_argument("--group", metavar="COLUMN", help="group column for --per-group parameters")
    p.add_argument("--per-group", metavar="P1,P2", default="",
                   help="parameters fitted once per group (needs --group)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--out", metavar="FILE", help="also write the JSON result to FILE")
    p.add_argument("--save", metavar="FIT",
                   help="save the fit (law text, data hash, every number) for lawkit "
                        "optimum/predict/compare-fits and lawkit.load_fit")
    p.add_argument("--report", metavar="FILE.html|FILE.md",
                   help="write a report: law, data, goodness of fit, parameters, figures")
    p.add_argument("--isoflop", action="store_true",
                   help="also cross-check the frontier exponent against IsoFLOP profiles "
                        "(Approach 2) of the same data")


def parse_starts(text: str):
    from ..fitting import MAX_STARTS  # the API's own limit, named here by its flag

    if text == "grid":
        return "grid"
    try:
        n = int(text)
    except ValueError:
        raise LawkitError(f"--starts must be 'grid' or an integer, not {text!r}") from None
    if n > MAX_STARTS:
        raise LawkitError(f"--starts {n}: at most {MAX_STARTS} random starts")
    return n


def check_outputs(args) -> None:
    """The files a fit will write, checked before the fit runs (no fit lost to a typo)."""
    from pathlib import Path

    from ..fitting import MAX_BOOTSTRAP  # the API's own limit, named here by its flag

    if not 0 <= args.bootstrap <= MAX_BOOTSTRAP:
        raise LawkitError(f"--bootstrap must be between 0 and {MAX_BOOTSTRAP}, not "
                          f"{args.bootstrap}")
    for option, path in (("--out", args.out), ("--save", args.save)):
        if path is None:
            continue
        p = Path(path)
        if p.is_dir():
            raise LawkitError(f"{option} {path}: is a directory, not a file")
        if not p.parent.is_dir():
            raise LawkitError(f"{option} {path}: no directory {p.parent}")
    if args.report:
        from ..report import check_report_path

        check_report_path(args.report)


def run(args) -> int:
    from ..fitting import fit

    check_outputs(args)

    law = pick_law(args.law, args.law_name)
    result = fit(law, args.data, mapping=key_values(args.map, "--map", numeric=False),
                 loss=args.loss, delta=args.delta, space=args.space,
                 starts=parse_starts(args.starts), fix=key_values(args.fix, "--fix"),
                 weights=args.weights, group=args.group,
                 per_group=tuple(p for p in args.per_group.split(",") if p),
                 bootstrap=args.bootstrap, seed=args.seed,
                 progress=args.bootstrap > 0 and sys.stderr.isatty())
    if args.save:
        from ..fitting.saved import save_fit

        save_fit(result, args.save, data=args.data, weights=args.weights)
    payload = result.to_dict()
    if args.out:
        try:
            with open(args.out, "w", encoding="utf-8") as fh:
                json.dump(payload, fh, indent=2)
        except OSError as err:
            raise LawkitError(f"--out {args.out}: cannot write it: {err.strerror or err}") from None
    if args.isoflop:
        from ..analysis.crosscheck import crosscheck

        check = crosscheck(result, data=args.data, level=result.ci_level, bootstrap=200,
                           seed=args.seed)
        if args.json:
            payload = {**payload, "crosscheck": check.to_dict()}
    if args.report:
        from ._report import write_fit_report

        write_fit_report(args.report, result, args)
    from ._rich import print_fit, wanted

    if not args.json and wanted():
        print_fit(result)
    else:
        print(json.dumps(payload, indent=2) if args.json else result.report())
    if args.isoflop and not args.json:
        print(check.report())
    return 0
