"""Run a sweep's independent runs as Ray tasks (optional extra: ``pip install ray``).

Only the driver writes to the store, so its one-transaction-per-run semantics hold;
results are yielded as tasks finish.  Connects to a running cluster if ``RAY_ADDRESS`` is
set, else starts a local instance."""

from __future__ import annotations

from ..errors import LawkitError


def run_with_ray(pending, ptq):
    try:
        import ray
    except ImportError:
        raise LawkitError("--executor ray needs Ray: pip install 'ray[default]'") from None
    from .sweep import execute

    if not ray.is_initialized():
        ray.init(ignore_reinit_error=True, log_to_driver=False)
    remote = ray.remote(execute)
    futures = {remote.remote(cfg, ptq): (i, cfg) for i, cfg in pending}
    while futures:
        ready, _ = ray.wait(list(futures), num_returns=1)
        for ref in ready:
            i, cfg = futures.pop(ref)
            record, results = ray.get(ref)
            yield i, cfg, record, results
