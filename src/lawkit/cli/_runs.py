"""``lawkit runs runs.db [--csv | --backup COPY.db]``: list, export or copy the runs of a
store.  The store is opened read-only: nothing is written to it."""

from __future__ import annotations

import csv
import sys


def add_arguments(p) -> None:
    p.add_argument("store", metavar="runs.db")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--csv", action="store_true",
                   help="one row per (run, PTQ setting), ready for 'lawkit fit'")
    g.add_argument("--backup", metavar="COPY.db",
                   help="write a consistent copy (safe while a sweep writes the store)")


def run(args) -> int:
    from ..harness.store import RunStore

    store = RunStore(args.store, readonly=True)  # a bad store fails here, before heavy imports
    try:
        if args.backup:
            store.backup(args.backup)
            print(f"copied {args.store} to {args.backup}")
            return 0
        from ..harness.export import export_rows

        rows = export_rows(store)
    finally:
        store.close()
    if args.csv:
        if rows:
            writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        return 0
    for r in rows:
        if r["ptq_method"] == "none":
            print(f"{r['run_id']}  N={r['N']:<8} D={r['D']:<9} train={r['train_format']:<6} "
                  f"seed={r['seed']}  val_loss={r['val_loss']:.4f}  ({r['wall_s']:.1f} s)")
    return 0
