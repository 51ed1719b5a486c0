"""``lawkit predict FIT (DATA | --at N=...,D=...)``: a saved fit's predictions with intervals."""

from __future__ import annotations

import json

from ..errors import LawkitError
from ._common import key_values


def add_arguments(p) -> None:
    p.add_argument("fit", metavar="FIT", help="a fit saved by 'lawkit fit ... --save FIT'")
    p.add_argument("data", metavar="DATA", nargs="?", help="CSV or Parquet file of inputs")
    p.add_argument("--at", action="append", metavar="N=V,D=V",
                   help="input values of one point (repeat for more points)")
    p.add_argument("--level", type=float, default=0.95, help="interval level (default 0.95)")
    p.add_argument("--method", choices=["auto", "bootstrap", "delta"], default="auto",
                   help="interval: stored bootstrap draws (auto when present) or delta method")
    p.add_argument("--json", action="store_true", help="print the predictions as JSON")


def points(items: list[str]) -> dict[str, list[float]]:
    """``["N=1,D=2", "N=3,D=4"]`` → ``{"N": [1, 3], "D": [2, 4]}`` (same names each time)."""
    rows = [key_values([item], "--at") for item in items]
    names = list(rows[0])
    for item, row in zip(items, rows):
        if list(row) != names:
            raise LawkitError(f"--at {item!r} names {', '.join(row) or 'nothing'}; every --at "
                              f"must give the same inputs ({', '.join(names)})")
    return {n: [row[n] for row in rows] for n in names}


def run(args) -> int:
    from ..fitting.predict import predict_interval
    from ..fitting.saved import load_fit

    if (args.data is None) == (not args.at):
        raise LawkitError("give DATA or --at N=...,D=... (one of them)")
    fit = load_fit(args.fit)
    pred = predict_interval(fit, args.data, at=points(args.at) if args.at else None,
                            level=args.level, method=args.method)
    if args.json:
        print(json.dumps({"fit": args.fit, "law": fit.law.name, **pred.to_dict()}, indent=2))
        return 0
    pct = f"{100 * pred.level:.10g}%"
    print(f"{pred.output} predicted by {fit.law.name} (fit {args.fit}); {pct} intervals: "
          f"{pred.interval}")
    names = list(pred.inputs)
    head = [*names, pred.output, f"{pct} low", f"{pct} high"]
    if pred.observed is not None:
        head.append("observed")
    lines = [head]
    for i in range(len(pred.estimate)):
        row = [_fmt(pred.inputs[n][i]) for n in names]
        row += [_fmt(pred.estimate[i]), _fmt(pred.lower[i]), _fmt(pred.upper[i])]
        if pred.observed is not None:
            row.append(_fmt(pred.observed[i]))
        lines.append(row)
    widths = [max(len(r[j]) for r in lines) for j in range(len(head))]
    for r in lines:
        print("  ".join(c.rjust(w) for c, w in zip(r, widths)))
    return 0


def _fmt(x) -> str:
    import numbers

    return f"{x:.6g}" if isinstance(x, numbers.Real) and not isinstance(x, bool) else str(x)
