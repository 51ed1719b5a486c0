"""``lawkit sweep SPEC.toml --store runs.db``: train and quantize a grid of tiny LMs."""

from __future__ import annotations

import sys


def add_arguments(p) -> None:
    p.add_argument("spec", metavar="SPEC.toml", help="a sweep spec file, or example:smoke")
    p.add_argument("--store", required=True, metavar="runs.db", help="SQLite run store")
    p.add_argument("--append", action="store_true",
                   help="allow runs of a different spec in the same store")
    p.add_argument("--executor", choices=["local", "serial", "ray"], default="local",
                   help="local: a process pool of --workers (default); serial: this process; "
                        "ray: Ray tasks (RAY_ADDRESS or a local instance)")
    p.add_argument("--workers", type=int, metavar="K",
                   help="parallel runs (default: one per core; 1 runs in this process)")
    p.add_argument("--threads", type=int, metavar="T",
                   help="torch threads per run (default: cores // workers)")
    p.add_argument("--device", choices=["cpu", "cuda", "auto"],
                   help="overrides the spec's [data] device (default cpu)")
    p.add_argument("--no-progress", action="store_true")


def run(args) -> int:
    from ..errors import LawkitError
    from ..harness.executors import make_executor
    from ..harness.spec import load_spec
    from ..harness.store import RunStore
    from ..harness.sweep import run_sweep

    for name in ("workers", "threads"):
        value = getattr(args, name)
        if value is not None and not 1 <= value <= 4096:
            raise LawkitError(f"--{name} must be between 1 and 4096, not {value}")
    from ..examples import resolve

    spec = load_spec(resolve(args.spec, "sweep"))  # validated whole before anything runs
    executor = make_executor(args.executor, workers=args.workers, threads=args.threads)
    store = RunStore(args.store)
    try:
        counts = run_sweep(spec, store, executor=executor, device=args.device,
                           append=args.append,
                           progress=not args.no_progress and sys.stderr.isatty())
    finally:
        store.close()
    extra = f", {counts.elsewhere} left to other sweep processes" if counts.elsewhere else ""
    dup = f" ({counts.duplicates} repeated grid entries run once)" if counts.duplicates else ""
    print(f"sweep {spec.name}: {counts.ran} run(s) done, {counts.skipped} already stored, "
          f"{counts.total} in the spec{dup}{extra}")
    return 0
