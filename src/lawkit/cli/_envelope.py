"""``lawkit envelope DATA``: Approach 1 (lower envelope of loss against compute over model
sizes, from runs of several lengths or intermediate checkpoints)."""

from __future__ import annotations

from ._common import key_values
from ._isoflop import add_source_options, emit


def add_arguments(p) -> None:
    add_source_options(p)
    p.add_argument("--size", metavar="COL",
                   help="column naming each run's model (default: equal N = one size)")
    p.add_argument("--run", metavar="COL[,COL]",
                   help="column(s) identifying a training run within a size (its checkpoints "
                        "form one curve); default: one run per size")
    p.add_argument("--points-per-decade", type=int, default=10, metavar="K",
                   help="density of the compute grid (default 10 per decade)")


def run(args) -> int:
    from ..analysis.envelope import envelope

    run = [c.strip() for c in args.run.split(",") if c.strip()] if args.run else None
    result = envelope(args.data, compute=args.compute, budget=args.budget, size=args.size, run=run,
                      points_per_decade=args.points_per_decade, bootstrap=args.bootstrap,
                      seed=args.seed, mapping=key_values(args.map, "--map", numeric=False),
                      ci_level=args.level)
    emit(result, args)
    return 0
