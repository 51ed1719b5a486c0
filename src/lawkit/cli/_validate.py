"""``lawkit validate LAW DATA --term NAME``: check a law's term against measured effects."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import LawkitError
from ._common import key_values, pick_law


def add_arguments(p) -> None:
    p.add_argument("law", metavar="LAW", help="law file or library name")
    p.add_argument("data", metavar="DATA", help="CSV, Parquet or a run store (runs.db)")
    p.add_argument("--law", dest="law_name", metavar="NAME", help="which law of the file")
    p.add_argument("--term", required=True, metavar="NAME", help="the term to validate (e.g. N_eff)")
    p.add_argument("--reference", metavar='"P_w >= 16"',
                   help="rows where the term is at full precision (default: its own inputs >= 16)")
    p.add_argument("--by", metavar="COL1,COL2", help="group columns (default: the term's own inputs)")
    p.add_argument("--where", metavar='"ptq_method == rtn"', help="use only the rows this selects")
    p.add_argument("--baseline", metavar="COL",
                   help="each row's own full-precision loss (e.g. val_loss_train): an additive "
                        "term is measured as L − COL, paired per model")
    p.add_argument("--against", action="append", metavar="LAW", default=[],
                   help="an alternative form to score the same way (repeatable; FILE:NAME allowed)")
    p.add_argument("--map", action="append", metavar="NAME=COLUMN", help="data column for a law name")
    p.add_argument("--bootstrap", type=int, default=200, metavar="K",
                   help="bootstrap draws of the reference fit (default 200)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--report", metavar="FILE.md|FILE.html", help="write a report")
    p.add_argument("--plot", metavar="DIR", help="write figures (PNG) to DIR")


def _law(token: str):
    if ":" in token and not Path(token).exists():
        source, name = token.rsplit(":", 1)
        return pick_law(source, name)
    return pick_law(token, None)


def run(args) -> int:
    if args.report:
        from ..report import check_report_path

        check_report_path(args.report)
    from ..validation import validate
    from ..validation.report import figures

    if args.bootstrap < 0:
        raise LawkitError(f"--bootstrap must be >= 0, not {args.bootstrap}")
    law = pick_law(args.law, args.law_name)
    result = validate(law, args.data, term=args.term, reference=args.reference,
                      by=[c.strip() for c in args.by.split(",") if c.strip()] if args.by else None,
                      mapping=key_values(args.map, "--map", numeric=False), where=args.where,
                      against=[_law(t) for t in args.against], bootstrap=args.bootstrap,
                      seed=args.seed, baseline=args.baseline)
    figs = figures(result) if (args.plot or args.report) else {}
    if args.plot:
        Path(args.plot).mkdir(parents=True, exist_ok=True)
        for name, fig in figs.items():
            fig.savefig(Path(args.plot) / f"{name}.png", dpi=110)
    if args.report:
        from ..report import write_report

        write_report(args.report, result, figs, law=law,
                     context={"data": args.data, "term": args.term, "reference": args.reference,
                              "where": args.where, "bootstrap draws": args.bootstrap})
    print(json.dumps(result.to_dict(), indent=2) if args.json else result.report("md"))
    return 0
