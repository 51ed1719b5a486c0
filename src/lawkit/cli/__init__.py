"""``lawkit`` command line: a thin argparse layer over the Python API.

Heavy libraries (JAX, torch) are imported only by the subcommands that need them, so
``lawkit check`` starts fast.  Every :class:`~lawkit.errors.LawkitError` becomes a message
on stderr and exit status 2; no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# subcommand → module in lawkit.cli that defines add_arguments(parser) and run(args)
COMMANDS = {
    "check": "Parse and validate law files, print each law",
    "fit": "Fit a law to data (robust, multi-start, bootstrap)",
    "optimum": "Minimise a law over inputs under a budget (analytic or numeric)",
    "compare": "Fit candidate laws the same way and rank them (hold-out ARE, CV, AIC/BIC)",
    "laws": "List the law library (each law's file and how to load it)",
    "examples": "List the bundled data sets and sweep specs (use them as example:NAME)",
    "sweep": "Train and quantize a grid of tiny LMs into a resumable run store",
    "runs": "List or export (--csv) the runs of a store",
    "validate": "Check a law's term (e.g. N_eff, δ_PTQ) against measured effects",
    "isoflop": "Approach 2: IsoFLOP profiles → N*(C), D*(C) power laws with intervals",
    "envelope": "Approach 1: lower envelope of loss vs compute → N*(C) power law",
    "predict": "Predictions of a saved fit with intervals (bootstrap draws or delta method)",
    "compare-fits": "Effective compute multiplier k(C) of one saved fit over another",
    "design": "Next runs that most shrink a target's CI per unit compute (from a saved fit)",
}


# subcommands that compile JAX code (they keep compiled programs in an on-disk cache)
JAX_COMMANDS = {"fit", "optimum", "compare", "validate", "isoflop", "envelope", "predict",
                "design", "compare-fits"}


def build_parser() -> argparse.ArgumentParser:
    from ._parser import HelpfulParser

    parser = HelpfulParser(prog="lawkit", description="Scaling-law toolkit.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        module = importlib.import_module(f"lawkit.cli._{name.replace('-', '_')}")
        p = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(p)
        p.add_argument("--verbose", action="store_true",
                       help="print the time taken and the compile caches' hits on stderr")
        p.set_defaults(_run=module.run)
    return parser


def entry() -> int:
    """The ``lawkit`` program: :func:`main` in a process of its own.  Its start-up runs
    without the cyclic garbage collector (importing JAX makes objects, not garbage: 0.06 s
    of collections), and what start-up made is then frozen out of later collections."""
    import gc

    gc.disable()
    try:
        return main(own_process=True)
    finally:
        gc.enable()


def main(argv: list[str] | None = None, *, own_process: bool = False) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    from ..errors import LawkitError

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from .. import __version__

        print(__version__)
        return 0
    if args.command is None:
        parser.print_help()
        return 2
    report = _Verbose(args.command) if args.verbose else None
    try:
        if args.command in JAX_COMMANDS:  # the CLI, not the library, opts in to the disk cache
            from ..backends.jax import enable_compilation_cache
            from ..backends.lapack import initialize_lapack

            where = enable_compilation_cache()
            initialize_lapack(light=True)  # without importing scipy.linalg: 0.2 s
            if report is not None:
                report.watch_caches(where)
        if own_process:
            import gc

            gc.freeze()  # what start-up made lives to the end: later collections skip it
            gc.enable()
        return args._run(args) or 0
    except LawkitError as err:
        print(str(err), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into head & co.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    finally:
        if report is not None:
            print(report.close(), file=sys.stderr)


class _Verbose:
    """What ``--verbose`` prints on stderr: the command's time and, for commands that
    compile, lawkit's programs loaded/stored and JAX's executables loaded/compiled."""

    _EVENTS = ("/jax/compilation_cache/cache_hits", "/jax/compilation_cache/cache_misses")

    def __init__(self, command: str):
        import time

        self.command, self.t0, self.where = command, time.perf_counter(), None
        self.counts, self.listener, self.stats0 = dict.fromkeys(self._EVENTS, 0), None, None

    def watch_caches(self, where: str | None) -> None:
        import jax.monitoring

        from ..backends import programs

        def listen(event: str, **_):
            if event in self.counts:
                self.counts[event] += 1

        self.where, self.listener, self.stats0 = where, listen, dict(programs.STATS)
        jax.monitoring.register_event_listener(listen)

    def close(self) -> str:
        import time

        line = f"lawkit {self.command}: {time.perf_counter() - self.t0:.2f} s"
        if self.listener is None:
            return line
        import jax.monitoring

        from ..backends import programs

        jax.monitoring.unregister_event_listener(self.listener)
        s = {k: v - self.stats0[k] for k, v in programs.STATS.items()}
        hits, misses = self.counts.values()
        bad = f", {s['rejected']} unreadable (replaced)" if s["rejected"] else ""
        return (f"{line}; cache {self.where or 'off'}: programs {s['loaded']} loaded, "
                f"{s['stored']} compiled and stored{bad}; other XLA executables {hits} "
                f"loaded from JAX's cache, {misses} compiled")
