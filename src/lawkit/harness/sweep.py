"""Sweeps: every run of a validated spec (:mod:`lawkit.harness.spec`) that is not yet in
the store is claimed, computed by an executor (:mod:`lawkit.harness.executors`), and
written by this process, the driver; several sweep processes may share one store.

``run_sweep(spec, store, executor=Serial())`` returns :class:`SweepCounts`;
:func:`~lawkit.harness.export.export_rows` turns a store into one row per (run, PTQ setting), ready for fitting.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from .precision import bits_of, qat_config  # noqa: F401  (qat_config re-exported)
from .run import Job, execute_job
from .spec import Sweep, load_spec, parse_spec, run_id  # noqa: F401  (load_spec, parse_spec re-exported)
from .export import export_rows  # noqa: F401  (re-exported)
from .store import RunStore

__all__ = ["SweepCounts", "bits_of", "check_data", "export_rows", "load_spec", "parse_spec",
           "qat_config", "run_id", "run_sweep"]


@dataclass(frozen=True)
class SweepCounts:
    """``total`` distinct runs in the spec; ``skipped`` already stored when the sweep began;
    ``ran`` computed and stored here; ``elsewhere`` left to other live sweep processes;
    ``duplicates`` repeated grid entries (run once)."""

    total: int
    skipped: int
    ran: int
    elsewhere: int = 0
    duplicates: int = 0


def check_data(spec: Sweep) -> None:
    """Load each corpus and cut each run's held-out set once, before anything trains."""
    from ..errors import DataError
    from .data import load_corpus, split
    from .tinylm import ModelConfig

    vocab = ModelConfig().vocab
    for corpus in sorted({c["corpus"] for c in spec.runs}):
        tokens = load_corpus(corpus)
        if len(tokens) and (tokens.min() < 0 or tokens.max() >= vocab):
            raise DataError(f"corpus {corpus}: token ids must lie in 0..{vocab - 1} (the "
                            f"byte-level model's vocabulary), found {tokens.min()}..{tokens.max()}")
        data = split(tokens)
        for seq, tokens in sorted({(c["model"]["seq"], c["eval_tokens"]) for c in spec.runs
                                   if c["corpus"] == corpus}):
            data.eval_windows(tokens, seq)


def run_sweep(spec: Sweep, store: RunStore, *, executor=None, device: str | None = None,
              append: bool = False, progress: bool = True) -> SweepCounts:
    """Run every run of ``spec`` not yet in ``store``.  ``device`` overrides the spec's
    ``[data] device``; ``executor`` defaults to serial in this process."""
    from .executors import Serial
    from .train import resolve_device

    executor = executor or Serial()
    dev = resolve_device(device or spec.device)
    check_data(spec)
    store.register_spec(spec.hash, spec.name, spec.text, append=append)
    ids = [run_id(c, spec.ptq) for c in spec.runs]
    by_id = dict(zip(ids, spec.runs))
    done = store.done()
    skipped = sum(i in done for i in ids)
    taken: set[str] = set()

    def jobs():
        while True:
            rid = store.claim([i for i in ids if i not in taken])
            if rid is None:
                return
            taken.add(rid)
            yield Job(rid, by_id[rid])

    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=len(ids), initial=skipped, desc=f"sweep {spec.name}", unit="run")
    ran = 0
    store.start_heartbeat()
    try:
        for job, result in executor(jobs(), partial(execute_job, ptq=spec.ptq, device=dev)):
            ran += store.write(job.id, spec.hash, job.config, result.record, result.ptq)
            if bar is not None:
                bar.update(1)
    finally:
        store.stop_heartbeat()
        store.release()
        if bar is not None:
            bar.close()
    left = set(ids) - store.done()
    return SweepCounts(total=len(ids), skipped=skipped, ran=ran, elsewhere=len(left),
                       duplicates=spec.duplicates)
