"""Approach 1 (Hoffmann et al. 2022): the lower envelope of loss against compute.

Input: runs of several model sizes, each with several training lengths or intermediate
checkpoints (columns N, D, L; compute from a column or ``C = k·N·D``).  Each run's loss
curve is the piecewise-linear interpolation of log L over log C through its points (losses
at the same C averaged), defined only between its first and last point; a size's loss at C
is the lowest of its runs' (by default all rows of a size form one run).  On a log grid of
C (``points_per_decade``), the envelope is the minimum over the sizes that reach C;
N*(C) is the vertex of the parabola in log10 N through the best size and its two
neighbouring sizes, L*(C) its value there, and D*(C) = C/(k·N*).  A grid point whose best
size is the smallest or largest size covering it is not bracketed and is left out of the
power laws (as are points covered by fewer than 3 sizes).

Intervals: each bootstrap draw resamples every run's points with replacement and rebuilds
the curves, so it carries the measurement noise of the checkpoints; the exponents' intervals
are formed as for Approach 2 (:mod:`lawkit.analysis.powerlaw`).  The grid points are not
independent (neighbours share the same runs), so only the bootstrap part is meaningful here;
the regression part is narrower and rarely matters.
Caveat (Hoffmann et al.): intermediate checkpoints of a run whose learning-rate schedule is
set for a longer horizon are not compute-optimal for their own C; prefer separate runs.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import AnalysisError, DataError
from ._budgets import read_runs
from .isoflop import BudgetProfile, Profile, _ci, _report, power_laws
from .powerlaw import LossLaw, PowerLaw, _num


@dataclass(frozen=True, kw_only=True)
class Curve:
    """One run's loss curve: log10 C and log L at its (deduplicated) points."""

    N: float
    size: str
    logC: np.ndarray = field(repr=False)
    logL: np.ndarray = field(repr=False)


@dataclass(frozen=True, kw_only=True)
class EnvelopeResult:
    """Approach 1: envelope optima on a compute grid and the power laws through them."""

    budgets: tuple[BudgetProfile, ...]
    N_law: PowerLaw
    D_law: PowerLaw
    L_law: LossLaw | None
    curves: tuple[Curve, ...]
    settings: Mapping[str, object]

    @property
    def used(self) -> tuple[BudgetProfile, ...]:
        return tuple(b for b in self.budgets if b.bracketed)

    def to_dict(self) -> dict:
        return {"approach": "envelope",
                "budgets": [b.to_dict() for b in self.budgets],
                "N_exponent": self.N_law.to_dict(), "N_coef": _num(self.N_law.coef),
                "N_coef_ci": [_num(v) for v in self.N_law.coef_ci],
                "D_exponent": self.D_law.to_dict(), "D_coef": _num(self.D_law.coef),
                "D_coef_ci": [_num(v) for v in self.D_law.coef_ci],
                "L_law": self.L_law.to_dict() if self.L_law else None,
                "settings": dict(self.settings)}

    def report(self) -> str:
        return _report(self, "Lower envelope (Approach 1)")

    def _repr_html_(self) -> str:
        return "<pre>" + html.escape(self.report()) + "</pre>"


def _curves(logn, logc, logl, size_keys, run_keys) -> list:
    """One :class:`Curve` per run (2+ distinct C), sorted by size."""
    out = []
    pairs = np.array([f"{a}\x1f{b}" for a, b in zip(size_keys, run_keys)])
    for key in np.unique(pairs):
        rows = pairs == key
        cs, inv = np.unique(np.round(logc[rows], 12), return_inverse=True)
        if len(cs) < 2:
            continue
        ls = np.bincount(inv, weights=logl[rows]) / np.bincount(inv)
        out.append(Curve(N=float(10 ** np.median(logn[rows])), size=str(size_keys[rows][0]),
                         logC=cs, logL=ls))
    return sorted(out, key=lambda c: c.N)


def _at(curves, sizes, x_grid):
    """Loss matrix (sizes × grid): per size the lowest of its runs' curves, NaN where none
    of them reaches."""
    out = np.full((len(sizes), len(x_grid)), np.nan)
    index = {s: i for i, s in enumerate(sizes)}
    for cv in curves:
        inside = (x_grid >= cv.logC[0] - 1e-12) & (x_grid <= cv.logC[-1] + 1e-12)
        row = out[index[cv.size]]
        vals = np.exp(np.interp(x_grid[inside], cv.logC, cv.logL))
        row[inside] = np.fmin(row[inside], vals)
    return out


def _vertex(xs, ys):
    """Vertex (x, y) of the parabola through three points with the middle one lowest."""
    (x0, x1, x2), (y0, y1, y2) = xs, ys
    d01, d12 = (y1 - y0) / (x1 - x0), (y2 - y1) / (x2 - x1)
    c2 = (d12 - d01) / (x2 - x0)
    if not c2 > 0:
        return x1, y1, (0.0, 0.0, 0.0)
    c1 = d01 - c2 * (x0 + x1)
    xv = -c1 / (2 * c2)
    c0 = y0 - c1 * x0 - c2 * x0 * x0
    return xv, c0 + c1 * xv + c2 * xv * xv, (c0, c1, c2)


def _optima(logn, loss):
    """Per grid column: (log10 N*, L*, position of the best size among the covering ones,
    reason, parabola coefficients, covering mask)."""
    out = []
    for j in range(loss.shape[1]):
        cover = np.isfinite(loss[:, j])
        idx = np.flatnonzero(cover)
        if len(idx) < 3:
            out.append((math.nan, math.nan, -1, f"covered by {len(idx)} size(s) (< 3)", None,
                        cover))
            continue
        i = int(np.argmin(loss[idx, j]))
        if i == 0 or i == len(idx) - 1:
            where = "smallest" if i == 0 else "largest"
            out.append((logn[idx[i]], loss[idx[i], j], i,
                        f"lowest loss at the {where} size covering C", None, cover))
            continue
        tri = idx[i - 1:i + 2]
        xv, yv, coef = _vertex(logn[tri], loss[tri, j])
        out.append((xv, yv, i, "", coef, cover))
    return out


def envelope(data, *, compute: str | None = None, budget: str | None = None,
             size: str | None = None, run: Sequence[str] | str | None = None,
             points_per_decade: int = 10, bootstrap: int = 200,
             seed: int = 0, mapping: Mapping[str, str] | None = None,
             ci_level: float = 0.95) -> EnvelopeResult:
    """Approach 1 on runs with columns N, D (optional with ``compute``), L.

    Args:
      size: a column naming each row's model (default: rows with equal N are one size).
      run: column(s) that identify a training run within a size (its checkpoints form one
        curve; a size's loss at C is the lowest of its runs').  Default: one run per size.
      points_per_decade: density of the log C grid the envelope is evaluated on.
      bootstrap: resamples of each size's points (0: regression t-intervals only).
      Other arguments as :func:`lawkit.analysis.isoflop`.
    """
    if isinstance(run, str):
        run = (run,)
    if not (isinstance(points_per_decade, int) and points_per_decade >= 1):
        raise AnalysisError(f"points_per_decade must be a positive integer, "
                            f"not {points_per_decade!r}")
    if not (isinstance(bootstrap, int) and bootstrap >= 0):
        raise AnalysisError(f"bootstrap must be a non-negative integer, not {bootstrap!r}")
    if not (0 < ci_level < 1):
        raise AnalysisError(f"ci_level must be in (0, 1), not {ci_level!r}")
    runs = read_runs(data, compute=compute, budget=budget, mapping=mapping)
    frame = runs.frame
    for role, col in (("size", size), *(("run", c) for c in (run or ()))):
        if col is not None and col not in frame.columns:
            raise DataError(f"data has no {role} column {col!r} (columns: "
                            f"{', '.join(map(str, frame.columns))})")
    logn, logc, logl = np.log10(runs.N), np.log10(runs.C), np.log(runs.L)
    size_keys = (frame[size].astype(str).to_numpy() if size is not None
                 else np.array([f"{v:.9f}" for v in logn]))
    run_keys = (frame[list(run)].astype(str).agg("|".join, axis=1).to_numpy() if run
                else size_keys)
    curves = _curves(logn, logc, logl, size_keys, run_keys)
    sizes = list(dict.fromkeys(cv.size for cv in curves))  # ordered by N
    if len(sizes) < 3:
        raise AnalysisError(f"the envelope needs at least 3 model sizes with a run of 2 or more "
                            f"points; the data has {len(sizes)}")
    size_n = np.array([np.median([cv.N for cv in curves if cv.size == s]) for s in sizes])
    k_eff = (runs.equation.k if runs.D is None
             else float(np.exp(np.mean(np.log(runs.C / (runs.N * runs.D))))))
    lo, hi = min(c.logC[0] for c in curves), max(c.logC[-1] for c in curves)
    x_grid = np.arange(math.floor(lo * points_per_decade), math.ceil(hi * points_per_decade) + 1)
    x_grid = x_grid / points_per_decade
    x_grid = x_grid[(x_grid >= lo - 1e-12) & (x_grid <= hi + 1e-12)]
    size_logn = np.log10(size_n)
    loss = _at(curves, sizes, x_grid)
    best = _optima(size_logn, loss)
    rng = np.random.default_rng(seed)
    draws = np.full((len(x_grid), bootstrap, 3), np.nan)
    for b in range(bootstrap):
        resampled = []
        for cv in curves:
            pick = np.unique(rng.integers(0, len(cv.logC), len(cv.logC)))
            if len(pick) < 2:
                pick = np.array([0, len(cv.logC) - 1])
            resampled.append(Curve(N=cv.N, size=cv.size, logC=cv.logC[pick], logL=cv.logL[pick]))
        for j, (xv, yv, _, reason, _, _) in enumerate(_optima(size_logn,
                                                              _at(resampled, sizes, x_grid))):
            if not reason:
                n_opt = 10.0**xv
                draws[j, b] = (n_opt, 10.0 ** x_grid[j] / (k_eff * n_opt), yv)
    budgets = []
    for j, (xv, yv, pos, reason, coef, cover) in enumerate(best):
        c = float(10.0 ** x_grid[j])
        n_opt = 10.0**xv if math.isfinite(xv) else math.nan
        prof = None
        if coef is not None:
            window = np.zeros(int(cover.sum()), dtype=bool)
            window[pos - 1:pos + 2] = True  # the best covering size and its two neighbours
            prof = Profile(coef=tuple(float(v) for v in coef), center=0.0, x_opt=float(xv),
                           window=window)
        d = draws[j]
        budgets.append(BudgetProfile(
            C=c, n_points=int(cover.sum()), N_opt=n_opt, N_opt_ci=_ci(d[:, 0], ci_level),
            D_opt=c / (k_eff * n_opt), D_opt_ci=_ci(d[:, 1], ci_level), L_opt=float(yv),
            L_opt_ci=_ci(d[:, 2], ci_level), bracketed=not reason, reason=reason,
            N=size_n[cover], L=loss[cover, j],
            profile=prof, draws=d))
    settings = {"points_per_decade": points_per_decade, "bootstrap": bootstrap, "seed": seed,
                "ci_level": ci_level, "compute": compute, "budget": runs.equation.text,
                "size": size, "run": list(run) if run else None, "n_sizes": len(sizes),
                "n_runs": len(curves)}
    n_law, d_law, l_law = power_laws(budgets, ci_level)
    return EnvelopeResult(budgets=tuple(budgets), N_law=n_law, D_law=d_law, L_law=l_law,
                          curves=tuple(curves), settings=settings)
