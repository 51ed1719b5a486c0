"""``lawkit runs runs.db [--csv]``: list or export the runs of a store."""

from __future__ import annotations

import csv
import sys


def add_arguments(p) -> None:
    p.add_argument("store", metavar="runs.db")
    p.add_argument("--csv", action="store_true",
                   help="one row per (run, PTQ setting), ready for 'lawkit fit'")


def run(args) -> int:
    from pathlib import Path

    from ..errors import LawkitError
    from ..harness.store import RunStore
    from ..harness.sweep import export_rows

    if not Path(args.store).exists():
        raise LawkitError(f"no such run store: {args.store}")
    store = RunStore(args.store)
    rows = export_rows(store)
    store.close()
    if args.csv:
        if rows:
            writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        return 0
    for r in rows:
        if r["ptq_method"] == "none":
            print(f"{r['run_id']}  N={r['N']:<8} D={r['D']:<9} train={r['train_format']:<6} "
                  f"seed={r['seed']}  val_loss={r['val_loss']:.4f}  ({r['wall_s']:.1f} s)")
    return 0
