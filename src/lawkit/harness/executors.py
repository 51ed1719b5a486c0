"""Executors: how a sweep's pending runs are computed.  An executor is a callable

    executor(jobs: Iterable[Job], task: Callable[[Job], RunResult]) -> Iterator[(Job, RunResult)]

that pulls jobs lazily (the sweep claims a run in the store only when an executor asks for
the next one, so several sweep processes share one store) and yields results as they
finish, in any order.  Only the driver (the caller) writes the store.

* :class:`Serial`: one run after another in this process.
* :class:`ProcessPool`: K worker processes on this machine (spawned, each with its own torch
  thread count, default cores // K), K runs in flight.
* :class:`~lawkit.harness.ray_executor.RayExecutor`: Ray tasks on a cluster.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass

from ..errors import LawkitError
from .run import Job, RunResult

Task = Callable[[Job], RunResult]


def cores() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class Serial:
    """Runs jobs one after another here; ``threads``: torch intra-op threads while running
    (None: leave the process's setting alone); restored afterwards."""

    threads: int | None = None

    def __call__(self, jobs: Iterable[Job], task: Task) -> Iterator[tuple[Job, RunResult]]:
        import torch

        before = torch.get_num_threads()
        try:
            for job in jobs:
                if self.threads:
                    torch.set_num_threads(self.threads)
                result = task(job)
                torch.set_num_threads(before)
                yield job, result
        finally:
            torch.set_num_threads(before)


def _init_worker(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


@dataclass(frozen=True)
class ProcessPool:
    """``workers`` spawned processes, ``threads`` torch threads each (default cores // workers,
    at least 1); keeps ``workers`` jobs in flight."""

    workers: int
    threads: int | None = None

    def __post_init__(self):
        if self.workers < 1:
            raise LawkitError(f"workers must be at least 1, not {self.workers}")

    def __call__(self, jobs: Iterable[Job], task: Task) -> Iterator[tuple[Job, RunResult]]:
        import multiprocessing

        threads = self.threads or max(1, cores() // self.workers)
        it = iter(jobs)
        pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_init_worker, initargs=(threads,))
        inflight: dict = {}

        def submit() -> bool:
            job = next(it, None)
            if job is None:
                return False
            inflight[pool.submit(task, job)] = job
            return True

        try:
            while len(inflight) < self.workers and submit():
                pass
            while inflight:
                finished, _ = wait(inflight, return_when=FIRST_COMPLETED)
                for fut in finished:
                    job = inflight.pop(fut)
                    result = fut.result()  # a failed run raises here, in the driver
                    submit()
                    yield job, result
        finally:
            if inflight:  # stopped early (an error, an interrupt): do not finish the others
                for proc in list(getattr(pool, "_processes", {}).values()):
                    proc.terminate()
            pool.shutdown(wait=True, cancel_futures=True)


def make_executor(name: str = "local", *, workers: int | None = None,
                  threads: int | None = None):
    """"serial" | "local" (a process pool; one worker runs in this process) | "ray"."""
    if name == "ray":
        from .ray_executor import RayExecutor

        return RayExecutor(max_in_flight=workers, threads=threads)
    if name == "serial":
        return Serial(threads)
    if name != "local":
        raise LawkitError(f"unknown executor {name!r} (serial, local, ray)")
    workers = cores() if workers is None else workers
    if workers < 1:
        raise LawkitError(f"workers must be at least 1, not {workers}")
    if workers == 1:
        return Serial(threads or cores())
    return ProcessPool(workers, threads)
