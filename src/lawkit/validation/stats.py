"""The statistics of a validation: group means, the saturated alternative, the F-test and
the within-group trend.

F-test of a form with ``k`` fitted parameters against the saturated model with one free
value per group (G groups), both on the same n rows and the same least-squares objective:

    F = ((SSR_form − SSR_sat)/(G − k)) / (SSR_sat/(n − G)),   F ~ F(G − k, n − G)
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, stats

from .result import TermTest


def group_means(values: np.ndarray, index: np.ndarray, n_groups: int, relative: bool):
    """Per-group geometric mean (relative terms) or mean (absolute), ignoring NaN rows."""
    out = np.full(n_groups, np.nan)
    for g in range(n_groups):
        v = values[index == g]
        v = v[np.isfinite(v) & ((v > 0) if relative else True)]
        if len(v):
            out[g] = float(np.exp(np.mean(np.log(v)))) if relative else float(np.mean(v))
    return out


def saturated_ssr(view, env, y, refv, index, n_groups, params) -> float:
    """SSR (log space) with the term replaced by one free factor (relative) or value
    (absolute) per group, the rest of the law at ``params``."""
    from ..backends.numpy import compile_expression

    g_f = compile_expression(view.outer)
    e = {**env, **params}
    total = 0.0
    for g in range(n_groups):
        rows = index == g
        sub = {k: (v[rows] if np.ndim(v) else v) for k, v in e.items()}
        ly = np.log(y[rows])

        def ssr(s):
            t = np.exp(s) * refv[rows] if view.relative else s
            with np.errstate(all="ignore"):
                r = ly - np.log(g_f({**sub, view.name: t}))
            v = float(np.sum(r * r))
            return v if math.isfinite(v) else 1e300
        if view.relative:
            grid = np.linspace(-20, 2, 89)
        else:
            grid = np.concatenate([-np.logspace(1, -8, 40), [0.0], np.logspace(-8, 1, 40)])
        vals = [ssr(s) for s in grid]
        i = int(np.argmin(vals))
        lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
        best = optimize.minimize_scalar(ssr, bounds=(lo, hi), method="bounded",
                                        options={"xatol": 1e-12})
        total += min(float(best.fun), vals[i])
    return total


def f_test(ssr_form: float, ssr_sat: float, *, n: int, groups: int, k: int) -> TermTest:
    from .term import ValidationError

    d1, d2 = groups - k, n - groups
    if d1 < 1 or d2 < 1:
        raise ValidationError(f"the F-test needs more groups than the term has parameters and "
                              f"more rows than groups (groups {groups}, parameters {k}, rows {n})")
    ssr_form = max(ssr_form, ssr_sat)  # the saturated model nests the form
    F = ((ssr_form - ssr_sat) / d1) / (ssr_sat / d2) if ssr_sat > 0 else math.inf
    return TermTest(name="F-test vs saturated (one free value per group)", statistic=float(F),
                    dof=(int(d1), int(d2)), p_value=float(stats.f.sf(F, d1, d2)))


def slope_within_groups(values, x, index, relative: bool, level: float) -> dict:
    """OLS slope of log(value) on log(x) with one intercept per group, and its interval."""
    if x is None:
        return {"slope": None, "ci": [None, None]}
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v) & (v > 0 if relative else np.isfinite(v)) & np.isfinite(x) & (x > 0)
    if not relative:
        ok &= v > 0
    lv, lx, g = np.log(v[ok]), np.log(np.asarray(x, float)[ok]), index[ok]
    if len(lv) < 3:
        return {"slope": None, "ci": [None, None]}
    # demean within groups, then a through-origin regression
    for level_ in np.unique(g):
        m = g == level_
        lv[m] -= lv[m].mean()
        lx[m] -= lx[m].mean()
    sxx = float(np.sum(lx * lx))
    if sxx <= 0:
        return {"slope": None, "ci": [None, None]}
    b = float(np.sum(lx * lv) / sxx)
    dof = len(lv) - len(np.unique(g)) - 1
    if dof < 1:
        return {"slope": b, "ci": [None, None]}
    s2 = float(np.sum((lv - b * lx) ** 2)) / dof
    half = float(stats.t.ppf(0.5 + level / 2, dof)) * math.sqrt(s2 / sxx)
    return {"slope": b, "ci": [b - half, b + half]}
