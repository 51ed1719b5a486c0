"""Uncertainty of optima: the optimum recomputed under every bootstrap parameter draw,
all draws at once (closed form on arrays, or one batched numeric solve)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..backends.jax import in_double_precision
from ..errors import AnalysisError


@dataclass(frozen=True, kw_only=True)
class OptimumDistribution:
    """Each coordinate of an optimum (and the target) under the fit's bootstrap draws:
    ``estimate`` at the best fit, percentile ``ci`` at ``level``, and the ``samples``
    (NaN where a draw's fit or optimum failed)."""

    minimize: str
    estimate: Mapping[str, float]
    ci: Mapping[str, tuple[float, float]]
    samples: Mapping[str, np.ndarray]
    level: float

    def to_dict(self) -> dict:
        return {"minimize": self.minimize, "level": self.level,
                "estimate": dict(self.estimate), "ci": {k: list(v) for k, v in self.ci.items()},
                "n_samples": len(next(iter(self.samples.values()))) if self.samples else 0}


@in_double_precision
def optimum_distribution(law, fit, *, over: Sequence[str], budget: str | None = None,
                         at: Mapping[str, float] | None = None, minimize: str | None = None,
                         level: float = 0.95, method: str = "auto") -> OptimumDistribution:
    """The optimum of ``minimize`` (output or term) under every bootstrap draw of ``fit``
    (a fit run with ``bootstrap=K``)."""
    from ._reduce import environment
    from .batch import optima_batch
    from .optimum import optimum, setup

    if not fit.bootstrap:
        raise AnalysisError("the fit has no bootstrap samples: fit with bootstrap=K first")
    if fit.settings.get("per_group"):
        raise AnalysisError("optima of per-group fits are not supported; fit without per_group")
    best = optimum(law, minimize=minimize, over=over, budget=budget, at=at, values=fit,
                   method=method)
    problem, at = setup(law, minimize, over, budget, at)
    free = [k for k in fit.bootstrap if k in law.params]
    k = len(next(iter(fit.bootstrap.values())))
    base = fit.values()
    envs, valid = [], np.ones(k, dtype=bool)
    for i in range(k):
        sample = {**base, **{n: float(fit.bootstrap[n][i]) for n in free}}
        if not np.isfinite(list(sample.values())).all():
            valid[i] = False
            sample = base
        try:
            envs.append(environment(problem, law.complete_values(sample), at))
        except (AnalysisError, ValueError, OverflowError):
            valid[i] = False
            envs.append(environment(problem, base, at))
    start = {v: best.at[v] for v in problem.free}
    rows, _ = optima_batch(problem, envs, method="numeric" if best.method == "numeric"
                           else method, start=start, strict=False)
    q = 100 * (1 - level) / 2
    samples, ci = {}, {}
    for name in best.at:
        vals = np.array([r.get(name, np.nan) for r in rows], dtype=float)
        vals[~valid] = np.nan
        samples[name] = vals
        ok = vals[np.isfinite(vals)]
        ci[name] = ((float(np.percentile(ok, q)), float(np.percentile(ok, 100 - q)))
                    if len(ok) else (np.nan, np.nan))
    return OptimumDistribution(minimize=best.minimize, estimate=dict(best.at), ci=ci,
                               samples=samples, level=level)
