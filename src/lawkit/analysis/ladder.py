"""Comparing two ladders: the effective compute multiplier of fit A over fit B.

With L*_X(C) = min { L_X(x) : budget(x) = C } the compute-optimal frontier of fit X,

    k(C) solves  L*_B(k·C) = L*_A(C),

the factor of compute B needs to reach the loss A reaches with C (k > 1: A is better);
``loss_gap`` = L*_B(C) − L*_A(C) is the loss difference at matched compute.  k is found
in t = log k by bracketing (steps doubling from |t| = 1) and Illinois regula falsi, all
bootstrap draws at once; where L*_B(C) equals L*_A(C) bit for bit (a fit against itself)
t = 0 and k = 1 exactly.  Intervals: percentiles over paired draws (draw i of A with
draw i of B, the first min(K_A, K_B) of each; independent fits make any pairing valid).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..backends.jax import in_double_precision
from ..errors import AnalysisError, did_you_mean

__all__ = ["LadderPoint", "FitComparison", "compare_fits"]


@dataclass(frozen=True, kw_only=True)
class LadderPoint:
    """k(C) and the loss gap at one budget value (``at`` holds it and the other inputs);
    ``None`` intervals where a fit has no draws; k is ``inf`` (``0``) where B never
    reaches (always beats) A's loss within a factor e^±128."""

    at: Mapping[str, float]
    k: float
    k_ci: tuple[float, float] | None
    loss_a: float
    loss_b: float
    loss_gap: float
    loss_gap_ci: tuple[float, float] | None
    n_draws: int


@dataclass(frozen=True, kw_only=True)
class FitComparison:
    """k(C) of fit A over fit B at each point, under ``budget``, optimising ``over``."""

    budget: str
    over: tuple[str, ...]
    minimize: str
    level: float
    points: tuple[LadderPoint, ...]
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        def num(x):
            return float(x) if x is not None and math.isfinite(x) else None

        def ci(c):
            return None if c is None else [num(c[0]), num(c[1])]

        return {"budget": self.budget, "over": list(self.over), "minimize": self.minimize,
                "level": self.level, "notes": list(self.notes),
                "points": [{"at": dict(p.at), "k": num(p.k), "k_ci": ci(p.k_ci),
                            "loss_a": num(p.loss_a), "loss_b": num(p.loss_b),
                            "loss_gap": num(p.loss_gap), "loss_gap_ci": ci(p.loss_gap_ci),
                            "n_draws": p.n_draws} for p in self.points]}

    def report(self, name_a: str = "A", name_b: str = "B") -> str:
        pct = f"{100 * self.level:g}%"
        bname = self.budget.split("=")[0].strip()
        lines = [f"effective compute multiplier k: {name_b} needs k·{bname} to match the "
                 f"compute-optimal {self.minimize} {name_a} reaches with {bname} "
                 f"(budget {self.budget}, over {', '.join(self.over)})"]
        for p in self.points:
            where = ", ".join(f"{k}={v:.4g}" for k, v in p.at.items())
            kci = f" {pct} CI [{p.k_ci[0]:.4g}, {p.k_ci[1]:.4g}]" if p.k_ci else ""
            gci = (f" {pct} CI [{p.loss_gap_ci[0]:+.4g}, {p.loss_gap_ci[1]:+.4g}]"
                   if p.loss_gap_ci else "")
            lines.append(f"  {where}: k = {p.k:.6g}{kci}; {self.minimize}*_A = {p.loss_a:.6g}, "
                         f"{self.minimize}*_B = {p.loss_b:.6g}, gap B−A = {p.loss_gap:+.4g}{gci}")
        if self.points and self.points[0].n_draws:
            lines.append(f"  (intervals: percentiles over {self.points[0].n_draws} paired "
                         f"bootstrap draws)")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


class _Frontier:
    """L*(budget value) of one fit, for many parameter draws and budget values at once."""

    def __init__(self, fit, *, minimize, over, budget, at0, k):
        from .optimum import setup

        if fit.settings.get("per_group"):
            raise AnalysisError("frontiers of per-group fits are not supported; fit without "
                                "per_group")
        law = fit.law
        self.problem, _ = setup(law, minimize, over, budget, at0)
        self.name = self.problem.target_name
        from ._values import param_values

        best = param_values(law, fit)
        self.params, self.valid = [best], [True]
        free = [n for n in fit.labels if n in law.params]
        for i in range(k):
            sample = {**fit.values(), **{n: float(fit.bootstrap[n][i]) for n in free}}
            try:
                if not all(math.isfinite(v) for v in sample.values()):
                    raise ValueError("failed draw")
                self.params.append(law.complete_values(
                    {n: v for n, v in sample.items() if law.params[n].is_free
                     or n in (fit.settings.get("fixed") or {})}))
                self.valid.append(True)
            except (ValueError, AnalysisError, OverflowError, ArithmeticError):
                self.params.append(best)
                self.valid.append(False)
        self.valid = np.array(self.valid)

    def __call__(self, which: np.ndarray, ats: list[dict]) -> np.ndarray:
        """L* for parameter sets ``which`` (indices) at the matching ``ats``."""
        from ._reduce import environment
        from .batch import optima_batch

        if not len(which):
            return np.zeros(0)
        envs = [environment(self.problem, self.params[j], a) for j, a in zip(which, ats)]
        rows, _ = optima_batch(self.problem, envs, strict=False)
        out = np.array([r[self.name] for r in rows], dtype=float)
        out[~self.valid[which]] = np.nan
        return out


def _percentile(vals: np.ndarray, level: float) -> tuple[float, float] | None:
    vals = vals[~np.isnan(vals)]
    if len(vals) < 2:
        return None
    q = [100 * (1 - level) / 2, 100 * (1 + level) / 2]
    method = "linear" if np.isfinite(vals).all() else "nearest"
    lo, hi = np.percentile(vals, q, method=method)
    return float(lo), float(hi)


def _solve_log_k(g, g0: np.ndarray, target: np.ndarray) -> np.ndarray:
    """t with g(idx, t) = 0 for every instance (g decreasing in t); g0 = g(·, 0)."""
    n = len(g0)
    t = np.full(n, np.nan)
    t[g0 == 0] = 0.0
    active = np.flatnonzero(np.isfinite(g0) & (g0 != 0))
    s = np.sign(g0)
    a, fa = np.zeros(n), g0.copy()
    b, fb = np.full(n, np.nan), np.full(n, np.nan)
    step, pending = 1.0, active
    while len(pending) and step <= 128:
        f = g(pending, s[pending] * step)
        flip = np.isfinite(f) & (np.sign(f) != s[pending])
        hit = pending[flip]
        b[hit], fb[hit] = s[hit] * step, f[flip]
        t[pending[f == 0]] = (s[pending] * step)[f == 0]
        keep = ~flip & np.isfinite(f)
        a[pending[keep]], fa[pending[keep]] = s[pending[keep]] * step, f[keep]
        pending = pending[keep]
        step *= 2
    t[pending] = s[pending] * np.inf  # never crossed: k = ∞ (or 0)
    live = np.flatnonzero(np.isfinite(b) & np.isnan(t))
    tol = 4 * np.finfo(float).eps
    for _ in range(200):
        if not len(live):
            break
        c = b[live] - fb[live] * (b[live] - a[live]) / (fb[live] - fa[live])
        fc = g(live, c)
        bad = ~np.isfinite(fc)
        same = np.sign(fc) == np.sign(fb[live])
        # Illinois: keep the bracket; halve the stale end's value when the new point
        # lands on the same side twice
        swap = ~same & ~bad
        a[live[swap]], fa[live[swap]] = b[live[swap]], fb[live[swap]]
        fa[live[same & ~bad]] /= 2
        b[live[~bad]], fb[live[~bad]] = c[~bad], fc[~bad]
        done = bad | (fc == 0) | (np.abs(fc) <= tol * np.abs(target[live])) | (
            np.abs(b[live] - a[live]) <= tol * np.maximum(1.0, np.abs(b[live])))
        t[live[done]] = np.where(bad[done], np.nan, c[done])
        live = live[~done]
    t[live] = b[live]
    return t


@in_double_precision
def compare_fits(fit_a, fit_b, at, *, budget: str | None = None,
                 over: Sequence[str] | None = None, minimize: str | None = None,
                 level: float = 0.95) -> FitComparison:
    """k(C) of ``fit_a`` over ``fit_b`` (see the module docstring) at each point of ``at``
    (a mapping of the budget variable and other inputs, or a list of them).

    ``budget`` ("C = 6*N*D") defaults to fit A's law's own budget; ``over`` to the inputs
    the budget mentions.
    """
    from .optimum import parse_budget

    points = [dict(at)] if isinstance(at, Mapping) else [dict(p) for p in at]
    if not points:
        raise AnalysisError("give at least one point (at={'C': ...})")
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < level < 1:
        raise AnalysisError(f"level must be in (0, 1), not {level!r}")
    law_a = fit_a.law
    known = {*law_a.inputs, *law_a.budgets, *fit_b.law.inputs, *fit_b.law.budgets}
    if budget is not None:
        known.add(budget.partition("=")[0].strip())
    for p in points:
        for key in p:
            if key not in known:
                hint = did_you_mean(key, known)
                raise AnalysisError(f"at: {key!r} is neither an input nor a budget of law "
                                    f"{law_a.name!r}" + (f"; {hint}" if hint else ""))
    if budget is None:
        names = [b for b in law_a.budgets if b in points[0]] or list(law_a.budgets)
        if not names:
            raise AnalysisError(f"law {law_a.name!r} declares no budget: give budget='C = ...'")
        budget = f"{names[0]} = {law_a.budgets[names[0]]}"
    name, expr = parse_budget(law_a, budget)
    if over is None:
        used = {s.name for s in expr.free_symbols}
        over = [v for v in law_a.inputs if v in used and v not in points[0]]
    over = tuple(over)
    for p in points:
        if name not in p:
            raise AnalysisError(f"each point needs the budget's value {name}=...")
    k = 0
    notes = []
    if fit_a.bootstrap and fit_b.bootstrap:
        k = min(len(next(iter(fit_a.bootstrap.values()))),
                len(next(iter(fit_b.bootstrap.values()))))
    else:
        missing = [x for x, f in (("A", fit_a), ("B", fit_b)) if not f.bootstrap]
        notes.append(f"no intervals: fit {' and '.join(missing)} "
                     f"{'have' if len(missing) > 1 else 'has'} no bootstrap draws "
                     f"(fit with --bootstrap K)")
    fa = _Frontier(fit_a, minimize=minimize, over=over, budget=budget, at0=points[0], k=k)
    fb = _Frontier(fit_b, minimize=minimize, over=over, budget=budget, at0=points[0], k=k)
    m = k + 1  # instance j of point p: index p*m + j; j = 0 is the best fit
    which = np.tile(np.arange(m), len(points))
    base = [p for p in points for _ in range(m)]
    target = fa(which, base)
    loss_b = fb(which, base)
    for pi, p in enumerate(points):
        for label, v in (("A", target[pi * m]), ("B", loss_b[pi * m])):
            if not math.isfinite(v):
                where = ", ".join(f"{k}={x:g}" for k, x in p.items())
                raise AnalysisError(f"at {where}: the compute-optimal {fa.name} of fit {label} is "
                                    f"not finite ({v}); the budget value is outside the range "
                                    f"where the frontier can be computed")
    g0 = loss_b - target

    def g(idx, t):
        ats = [{**base[i], name: base[i][name] * math.exp(ti)} for i, ti in zip(idx, t)]
        return fb(which[idx], ats) - target[idx]

    t = _solve_log_k(g, g0, target)
    kk = np.exp(t)
    out = []
    for pi, p in enumerate(points):
        sl = slice(pi * m, (pi + 1) * m)
        kv, gap = kk[sl], g0[sl]
        out.append(LadderPoint(at=p, k=float(kv[0]), loss_a=float(target[sl][0]),
                               loss_b=float(loss_b[sl][0]), loss_gap=float(gap[0]),
                               k_ci=_percentile(kv[1:], level) if k else None,
                               loss_gap_ci=_percentile(gap[1:], level) if k else None,
                               n_draws=int(np.sum(~np.isnan(kv[1:]))) if k else 0))
        if math.isinf(kv[0]) or kv[0] == 0:
            notes.append(f"at {name}={p[name]:g} B's frontier "
                         + ("never reaches" if kv[0] > 1 else "stays below")
                         + f" A's loss {target[sl][0]:.6g} within a factor e^128 of compute")
    return FitComparison(budget=budget, over=over, minimize=fa.name, level=level,
                         points=tuple(out), notes=tuple(notes))
