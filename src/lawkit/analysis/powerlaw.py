"""Power laws through compute-optimal points, with intervals.

``Y = G·C^a`` is fitted by ordinary least squares of log Y on log C.  The interval for ``a``
(and ``G``) is the hull of two intervals, each covering one source of error:

* ``bootstrap``: the line refitted to the ``k``-th within-budget bootstrap draw of every
  budget, for each ``k`` (percentile interval): the noise of each optimum;
* ``regression``: the OLS t-interval ``a ± t_{n−2}·SE(a)`` from the optima's scatter about
  the line (lack of fit, e.g. digitised points or a drifting exponent); needs 3+ budgets.

``method`` says which were available ("bootstrap+regression" normally).  On synthetic
Chinchilla IsoFLOP sets the hull covers the true exponent in 30 of 30 replicates at 95%
(width ≈ 1.7× ±1.96 SD of the estimates): conservative rather than optimistic.  A cluster
bootstrap that also resamples budgets was tried and rejected: with 5–10 budgets it is about
twice as wide as the estimates' actual spread.

The loss at the optimum is fitted as ``L*(C) = E + A·C^(−γ)``: for each E on a grid below
min L*, log(L* − E) is linear in log C; the E with the least squared log-residual wins.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def _num(x):
    x = float(x)
    return x if math.isfinite(x) else None


@dataclass(frozen=True, kw_only=True)
class PowerLaw:
    """``Y = coef·C^exponent``; ``ci`` / ``coef_ci`` at ``level`` by ``method``; ``se`` is the
    OLS standard error of the exponent; ``n`` budgets were used."""

    exponent: float
    ci: tuple[float, float]
    coef: float
    coef_ci: tuple[float, float]
    se: float
    n: int
    method: str
    level: float

    def to_dict(self) -> dict:
        return {"value": _num(self.exponent), "ci": [_num(v) for v in self.ci],
                "se": _num(self.se), "method": self.method, "n_budgets": self.n}

    def at(self, c) -> np.ndarray:
        return self.coef * np.asarray(c, dtype=float) ** self.exponent

    def covers(self, value: float) -> bool:
        lo, hi = self.ci
        return bool(lo <= value <= hi)


def _ols(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Slope, intercept and the slope's standard error of y on x."""
    xm, ym = x.mean(), y.mean()
    sxx = float(np.sum((x - xm) ** 2))
    slope = float(np.sum((x - xm) * (y - ym)) / sxx)
    intercept = float(ym - slope * xm)
    dof = len(x) - 2
    if dof > 0:
        resid = y - intercept - slope * x
        se = math.sqrt(float(np.sum(resid**2)) / dof / sxx)
    else:
        se = math.nan
    return slope, intercept, se


def fit_power_law(c, y, draws: np.ndarray | None = None, *, level: float = 0.95) -> PowerLaw:
    """Fit ``y = G·c^a`` over budgets ``c`` (at least two distinct values).

    ``draws`` (shape budgets × K, NaN where a draw failed) are the within-budget bootstrap
    values of y (see the module docstring for how the interval is formed).
    """
    from scipy import stats

    c, y = np.asarray(c, dtype=float), np.asarray(y, dtype=float)
    x, ly = np.log(c), np.log(y)
    slope, intercept, se = _ols(x, ly)
    q = (1 - level) / 2
    parts, methods = [], []
    if len(c) > 2 and math.isfinite(se):
        t = float(stats.t.ppf(1 - q, len(c) - 2))
        se_i = se * math.sqrt(float(np.sum(x**2)) / len(x))  # SE of the intercept
        parts.append(((slope - t * se, slope + t * se),
                      (intercept - t * se_i, intercept + t * se_i)))
        methods.append("regression")
    if draws is not None and draws.size:
        with np.errstate(divide="ignore", invalid="ignore"):
            logd = np.log(np.where(draws > 0, draws, np.nan))
        fits = []
        for col in logd.T:
            ok = np.isfinite(col)
            if len(np.unique(x[ok])) >= 2:
                fits.append(_ols(x[ok], col[ok])[:2])
        if len(fits) >= max(10, logd.shape[1] // 2):
            fits = np.array(fits)
            parts.append((tuple(np.quantile(fits[:, 0], [q, 1 - q])),
                          tuple(np.quantile(fits[:, 1], [q, 1 - q]))))
            methods.append("bootstrap")
    if not parts:
        nan2 = (math.nan, math.nan)
        return PowerLaw(exponent=slope, ci=nan2, coef=math.exp(intercept), coef_ci=nan2, se=se,
                        n=len(c), method="none", level=level)
    ci = (float(min(p[0][0] for p in parts)), float(max(p[0][1] for p in parts)))
    ici = (min(p[1][0] for p in parts), max(p[1][1] for p in parts))
    return PowerLaw(exponent=slope, ci=ci, coef=math.exp(intercept),
                    coef_ci=(math.exp(ici[0]), math.exp(ici[1])), se=se, n=len(c),
                    method="+".join(methods), level=level)


@dataclass(frozen=True, kw_only=True)
class LossLaw:
    """``L*(C) = E + A·C^(−gamma)`` through the optimal losses."""

    E: float
    A: float
    gamma: float
    rmse: float

    def at(self, c) -> np.ndarray:
        return self.E + self.A * np.asarray(c, dtype=float) ** (-self.gamma)

    def to_dict(self) -> dict:
        return {"E": _num(self.E), "A": _num(self.A), "gamma": _num(self.gamma),
                "rmse_log": _num(self.rmse)}


def fit_loss_law(c, loss) -> LossLaw | None:
    """Profile fit over E (None with fewer than 4 budgets or no decreasing trend)."""
    c, loss = np.asarray(c, dtype=float), np.asarray(loss, dtype=float)
    if len(c) < 4:
        return None
    x, best = np.log(c), None
    lo = float(loss.min())
    for e in lo * (1 - np.geomspace(1, 1e-4, 400)):  # E from 0 up to just below min L*
        slope, inter, _ = _ols(x, np.log(loss - e))
        if slope >= 0:
            continue
        pred = e + np.exp(inter + slope * x)
        sse = float(np.sum((np.log(loss) - np.log(pred)) ** 2))
        if best is None or sse < best[0]:
            best = (sse, e, math.exp(inter), -slope)
    if best is None:
        return None
    sse, e, a, g = best
    return LossLaw(E=e, A=a, gamma=g, rmse=math.sqrt(sse / len(c)))
