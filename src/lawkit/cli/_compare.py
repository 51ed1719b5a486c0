"""``lawkit compare LAW... DATA``: fit candidate laws the same way and rank them."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import LawkitError
from ._common import add_objective_options, pick_law


def add_arguments(p) -> None:
    p.add_argument("items", nargs="+", metavar="LAW... DATA",
                   help="laws (library names, .law files, or FILE.law:NAME), then the data file")
    p.add_argument("--holdout", metavar="EXPR", help="held-out rows: 'N >= 1e9' or 'largest'")
    p.add_argument("--cv", metavar="K|by=COL|rollout:COL",
                   help="k-fold, leave-one-group-out, or rollout CV (fit on sizes up to each "
                        "value of COL, predict the next)")
    add_objective_options(p, per_law=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--plot", metavar="DIR", help="write figures (PNG) into DIR")
    p.add_argument("--report", metavar="FILE", help="write a Markdown (.md) or HTML (.html) report")
    p.add_argument("--json", action="store_true", help="print the comparison as JSON")


def resolve_laws(tokens: list[str]) -> list:
    from ..library import load

    laws = []
    for token in tokens:
        if ":" in token and not Path(token).exists():
            source, name = token.rsplit(":", 1)
            laws.append(pick_law(source, name))
            continue
        found = load(token)
        laws.extend(found.values() if Path(token).suffix == ".law" else [pick_law(token, None)])
    return laws


def run(args) -> int:
    if args.report:
        from ..report import check_report_path

        check_report_path(args.report)
    from ..compare import compare

    if len(args.items) < 2:
        raise LawkitError("give at least one law and a data file: lawkit compare LAW... DATA")
    *law_tokens, data = args.items
    laws = resolve_laws(law_tokens)
    from ..mapping import check_law_names, parse_map_options

    mapping, mappings = parse_map_options(args.map)
    check_law_names(mappings, [law.name for law in laws])
    from ..compare import check_cv

    cv = check_cv(args.cv)
    result = compare(laws, data, holdout=args.holdout, cv=cv,
                     mapping=mapping, mappings=mappings, seed=args.seed,
                     loss=args.loss, delta=args.delta, space=args.space)
    if args.plot or args.report:
        from ..report import comparison_figures, write_report

        figures = comparison_figures(result)
        if args.plot:
            Path(args.plot).mkdir(parents=True, exist_ok=True)
            for name, fig in figures.items():
                fig.savefig(Path(args.plot) / f"{name}.png", dpi=110)
        if args.report:
            write_report(args.report, result, figures,
                         context={"data": data, "hold-out rule": args.holdout,
                                  "cross-validation": args.cv, "mapping": args.map and
                                  " ".join(args.map)})
    from ._rich import print_comparison, wanted

    if not args.json and wanted():
        print_comparison(result)
    else:
        print(json.dumps(result.to_dict(), indent=2) if args.json else result.report())
    return 0
