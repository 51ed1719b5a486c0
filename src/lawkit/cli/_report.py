"""The ``--report FILE`` of ``lawkit fit``: the fit, its data summary and its figures."""

from __future__ import annotations


def write_fit_report(path: str, result, args) -> None:
    from ..fitting.data import read_table
    from ..report import fit_figures, write_report

    frame = read_table(args.data)
    context = {"data": args.data, "rows": len(frame), "rows fitted": result.n,
               "columns": ", ".join(map(str, frame.columns)),
               "mapping": ", ".join(f"{k} → {v}" for k, v in result.mapping.items()) or None,
               "weights": args.weights, "group": args.group,
               "per-group parameters": args.per_group or None,
               "bootstrap resamples": args.bootstrap or None}
    write_report(path, result, fit_figures(result, frame), context=context)
