"""Run a sweep's jobs as Ray tasks (optional extra: ``pip install ray``).

Connects to the cluster named by ``RAY_ADDRESS`` if set, else starts a local instance;
keeps ``max_in_flight`` tasks running (default: the cluster's CPUs) and yields results as
tasks finish.  Only the driver writes the store.  Knows nothing of sweeps: it maps a task
over jobs (see :mod:`lawkit.harness.executors`)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ..errors import LawkitError


def _call(task, job, threads):
    if threads:
        import torch

        torch.set_num_threads(threads)
    return task(job)


@dataclass(frozen=True)
class RayExecutor:
    max_in_flight: int | None = None
    threads: int | None = 1

    def __call__(self, jobs: Iterable, task) -> Iterator[tuple]:
        try:
            import ray
        except ImportError:
            raise LawkitError("the ray executor needs Ray: pip install 'ray[default]'") from None
        if not ray.is_initialized():
            ray.init(address=os.environ.get("RAY_ADDRESS"), ignore_reinit_error=True,
                     log_to_driver=False)
        limit = self.max_in_flight or max(1, int(ray.cluster_resources().get("CPU", 1)))
        remote = ray.remote(_call)
        it = iter(jobs)
        futures: dict = {}

        def submit() -> bool:
            job = next(it, None)
            if job is None:
                return False
            futures[remote.remote(task, job, self.threads)] = job
            return True

        try:
            while len(futures) < limit and submit():
                pass
            while futures:
                ready, _ = ray.wait(list(futures), num_returns=1)
                for ref in ready:
                    job = futures.pop(ref)
                    result = ray.get(ref)
                    submit()
                    yield job, result
        finally:
            for ref in futures:
                with contextlib.suppress(Exception):
                    ray.cancel(ref, force=True)
