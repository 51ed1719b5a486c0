"""Uncertainty of optima: the optimum recomputed under every bootstrap parameter sample."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..errors import AnalysisError
from .optimum import optimum


def optimum_distribution(law, fit, *, over: Sequence[str], budget: str | None = None,
                         at: Mapping[str, float] | None = None, minimize: str | None = None,
                         level: float = 0.95, method: str = "auto") -> dict:
    """``{name: {"samples": array, "ci": (lo, hi), "estimate": value}}`` for each coordinate
    of the optimum, from a fit run with ``bootstrap=K``.

    Where the optimum has a closed form, it is evaluated on every sample (fast); otherwise
    each sample is solved numerically.
    """
    if not fit.bootstrap:
        raise AnalysisError("the fit has no bootstrap samples: fit with bootstrap=K first")
    free = [k for k in fit.bootstrap if k in law.params or "[" in k]
    if any("[" in k for k in free):
        raise AnalysisError("optima of per-group fits are not supported; fit without per_group")
    best = optimum(law, minimize=minimize, over=over, budget=budget, at=at, values=fit.values(),
                   method=method)
    k = len(next(iter(fit.bootstrap.values())))
    fixed = {n: v for n, v in fit.values().items() if n not in free}
    rows = []
    for i in range(k):
        sample = {**fixed, **{n: float(fit.bootstrap[n][i]) for n in free}}
        if not all(np.isfinite(list(sample.values()))):
            rows.append(None)
            continue
        try:
            if best.closed_form:
                rows.append(_from_closed_form(law, best, sample))
            else:
                rows.append(optimum(law, minimize=minimize, over=over, budget=budget, at=at,
                                    values=sample, method="numeric").at)
        except AnalysisError:
            rows.append(None)
    q = 100 * (1 - level) / 2
    out = {}
    for name in best.at:
        vals = np.array([r[name] if r is not None else np.nan for r in rows], dtype=float)
        ok = vals[np.isfinite(vals)]
        ci = (float(np.percentile(ok, q)), float(np.percentile(ok, 100 - q))) if len(ok) else (np.nan, np.nan)
        out[name] = {"samples": vals, "ci": ci, "estimate": best.at[name]}
    return out


def _from_closed_form(law, best, params: dict) -> dict:
    """Evaluate the closed-form optimum and the target under other parameter values."""
    from ..backends.numpy import evaluate

    env = {**params, **{k: v for k, v in best.at.items() if k not in best.closed_form
                        and k != best.minimize}}
    point = {k: float(evaluate(e, env)) for k, e in best.closed_form.items()}
    target = law.expr if best.minimize == law.output.name else law.term(best.minimize)
    value = float(evaluate(target, {**env, **point}))
    return {**point, **{k: v for k, v in best.at.items() if k not in point}, best.minimize: value}
