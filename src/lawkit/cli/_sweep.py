"""``lawkit sweep SPEC.toml --store runs.db``: train and quantize a grid of tiny LMs."""

from __future__ import annotations

import sys


def add_arguments(p) -> None:
    p.add_argument("spec", metavar="SPEC.toml")
    p.add_argument("--store", required=True, metavar="runs.db", help="SQLite run store")
    p.add_argument("--append", action="store_true",
                   help="allow runs of a different spec in the same store")
    p.add_argument("--executor", choices=["serial", "ray"], default="serial")
    p.add_argument("--no-progress", action="store_true")


def run(args) -> int:
    from ..harness.store import RunStore
    from ..harness.sweep import load_spec, run_sweep

    spec = load_spec(args.spec)
    store = RunStore(args.store)
    try:
        counts = run_sweep(spec, store, append=args.append, executor=args.executor,
                           progress=not args.no_progress and sys.stderr.isatty())
    finally:
        store.close()
    print(f"sweep {spec.name}: {counts['ran']} run(s) done, {counts['skipped']} already stored, "
          f"{counts['total']} in the spec")
    return 0
