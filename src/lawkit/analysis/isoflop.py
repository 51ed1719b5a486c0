"""Approach 2 (Hoffmann et al. 2022): IsoFLOP profiles.

Runs are grouped by compute budget C.  Along each budget the loss is a function of
x = log10 N; a polynomial profile (``parabola``: degree 2, ``cubic``: degree 3) is fitted by
least squares **only within a window** of half-width ``window`` decades of N around the
minimum, and its minimiser gives N*(C); D*(C) follows from the budget and L*(C) is the
profile's value there.  The window starts at the sampled minimum and is re-centred on the
fitted minimum until it stops changing (at most 4 times); when it holds fewer than 3 (4 for
the cubic) distinct sizes, the nearest sizes are added.  A parabola over a whole wide,
asymmetric curve is biased, and the bias changes with the grid's offset from the optimum,
so it tilts the exponent.

A budget is *bracketed* when its lowest sampled loss is not at the smallest or largest N of
the budget, the profile has a minimum, and that minimum lies inside the window's points;
other budgets are reported with ``bracketed=False`` and a ``reason`` and left out of the
power laws N* = G·C^a, D* = H·C^b.  Budgets with fewer
than 3 (4) distinct sizes are flagged the same way, not an error.

Intervals: the rows of each budget are resampled with replacement ``bootstrap`` times and
the whole procedure (window search included) is repeated; per-budget percentile intervals,
and for the exponents the hull of the refits to the draws and the regression t-interval
(see :mod:`lawkit.analysis.powerlaw`).
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ..errors import AnalysisError
from ._budgets import budget_value, cluster, read_runs
from .powerlaw import LossLaw, PowerLaw, _num, fit_loss_law, fit_power_law

PROFILES = {"parabola": 2, "cubic": 3}
DEFAULT_WINDOW = 0.5  # decades of N either side of the minimum


@dataclass(frozen=True, kw_only=True)
class Profile:
    """A polynomial in u = log10 N − center; ``x_opt`` = log10 N* (NaN: no minimum)."""

    coef: tuple[float, ...]  # lowest degree first
    center: float
    x_opt: float
    window: np.ndarray = field(repr=False)  # rows used

    def __call__(self, n) -> np.ndarray:
        u = np.log10(np.asarray(n, dtype=float)) - self.center
        return sum(c * u**i for i, c in enumerate(self.coef))


def _minimiser(coef: np.ndarray) -> float:
    """u at the local minimum of the polynomial (lowest degree first), NaN if none."""
    c1, c2 = coef[1], coef[2]
    c3 = coef[3] if len(coef) > 3 else 0.0
    if abs(c3) < 1e-12 * max(abs(c2), 1e-300):
        return -c1 / (2 * c2) if c2 > 0 else math.nan
    disc = c2 * c2 - 3 * c3 * c1
    if disc < 0:
        return math.nan
    u = (-c2 + math.sqrt(disc)) / (3 * c3)  # the root where 2c2 + 6c3·u = 2·sqrt(disc) > 0
    return u


def _window(x: np.ndarray, center: float, half: float, need: int) -> np.ndarray:
    dist = np.abs(x - center)
    distinct = np.unique(np.round(x, 12))
    if len(distinct) <= need:
        return np.ones(len(x), dtype=bool)
    # the smallest radius holding `need` distinct sizes
    order = np.argsort(np.abs(distinct - center))
    r = float(np.abs(distinct[order[need - 1]] - center))
    return dist <= max(half, r) + 1e-12


def fit_profile(x: np.ndarray, y: np.ndarray, degree: int, half: float) -> Profile:
    """The windowed polynomial profile of one budget (see the module docstring)."""
    center = float(x[np.argmin(y)])
    mask, prev = _window(x, center, half, degree + 1), None
    coef, x_opt = np.full(degree + 1, np.nan), math.nan
    for _ in range(4):
        xc = float(np.mean(x[mask]))
        v = np.vander(x[mask] - xc, degree + 1, increasing=True)
        coef = np.linalg.lstsq(v, y[mask], rcond=None)[0]
        u = _minimiser(coef)
        x_opt = xc + u if math.isfinite(u) else math.nan
        center = xc
        prev = mask
        lo, hi = x[mask].min(), x[mask].max()
        if not (math.isfinite(x_opt) and lo <= x_opt <= hi):
            break
        mask = _window(x, x_opt, half, degree + 1)
        if np.array_equal(mask, prev):
            break
    return Profile(coef=tuple(float(c) for c in coef), center=center, x_opt=x_opt, window=prev)


def _check(x: np.ndarray, y: np.ndarray, prof: Profile) -> str:
    """Why a budget's minimum is not bracketed ("" when it is)."""
    lo, hi = x.min(), x.max()
    xmin = x[np.argmin(y)]
    if xmin <= lo:
        return "lowest loss at the smallest N sampled"
    if xmin >= hi:
        return "lowest loss at the largest N sampled"
    if not math.isfinite(prof.x_opt):
        return "the profile has no minimum"
    w = x[prof.window]
    if not (w.min() < prof.x_opt < w.max()):
        return "fitted minimum outside the window's points"
    return ""


@dataclass(frozen=True, kw_only=True)
class BudgetProfile:
    """One IsoFLOP budget: its optimum with ``ci`` intervals, and the profile that gave it."""

    C: float
    n_points: int
    N_opt: float
    N_opt_ci: tuple[float, float]
    D_opt: float
    D_opt_ci: tuple[float, float]
    L_opt: float
    L_opt_ci: tuple[float, float]
    bracketed: bool
    reason: str
    N: np.ndarray = field(repr=False)
    L: np.ndarray = field(repr=False)
    profile: Profile | None = field(repr=False)
    draws: np.ndarray = field(repr=False)  # K × 3: N*, D*, L* per bootstrap draw (NaN: failed)

    def to_dict(self) -> dict:
        ci = lambda p: [_num(v) for v in p]  # noqa: E731
        return {"C": self.C, "n_points": self.n_points, "N_opt": _num(self.N_opt),
                "N_opt_ci": ci(self.N_opt_ci), "D_opt": _num(self.D_opt),
                "D_opt_ci": ci(self.D_opt_ci), "L_opt": _num(self.L_opt),
                "L_opt_ci": ci(self.L_opt_ci), "bracketed": self.bracketed,
                "reason": self.reason,
                "n_window": int(self.profile.window.sum()) if self.profile else 0}


@dataclass(frozen=True, kw_only=True)
class IsoFlopResult:
    """Approach 2: per-budget optima and the power laws N* = G·C^a, D* = H·C^b."""

    budgets: tuple[BudgetProfile, ...]
    N_law: PowerLaw
    D_law: PowerLaw
    L_law: LossLaw | None
    settings: Mapping[str, object]

    @property
    def used(self) -> tuple[BudgetProfile, ...]:
        return tuple(b for b in self.budgets if b.bracketed)

    def to_dict(self) -> dict:
        return {"approach": "isoflop",
                "budgets": [b.to_dict() for b in self.budgets],
                "N_exponent": self.N_law.to_dict(), "N_coef": _num(self.N_law.coef),
                "N_coef_ci": [_num(v) for v in self.N_law.coef_ci],
                "D_exponent": self.D_law.to_dict(), "D_coef": _num(self.D_law.coef),
                "D_coef_ci": [_num(v) for v in self.D_law.coef_ci],
                "L_law": self.L_law.to_dict() if self.L_law else None,
                "settings": dict(self.settings)}

    def report(self) -> str:
        return _report(self, "IsoFLOP profiles (Approach 2)")

    def _repr_html_(self) -> str:
        return "<pre>" + html.escape(self.report()) + "</pre>"


def _report(result, title: str) -> str:
    s = result.settings
    pct = f"{100 * s['ci_level']:g}%"
    lines = [f"[[{title}]]",
             "    " + ", ".join(f"{k} {v}" for k, v in s.items() if k != "ci_level"),
             f"    {'C':>10} {'n':>4} {'N*':>10} {pct + ' CI of N*':>23} {'D*':>10} {'L*':>8}  "
             "bracketed"]
    for b in result.budgets:
        ci = (f"[{b.N_opt_ci[0]:.3g}, {b.N_opt_ci[1]:.3g}]"
              if all(map(math.isfinite, b.N_opt_ci)) else "-")
        lines.append(f"    {b.C:>10.3g} {b.n_points:>4} {b.N_opt:>10.4g} {ci:>23} "
                     f"{b.D_opt:>10.4g} {b.L_opt:>8.4f}  "
                     + ("yes" if b.bracketed else f"no: {b.reason}"))
    for sym, name, law in (("N", "a", result.N_law), ("D", "b", result.D_law)):
        lo, hi = law.ci
        lines.append(f"    {sym}* = {law.coef:.4g}·C^{name},  {name} = {law.exponent:.4f}  "
                     f"{pct} CI [{lo:.4f}, {hi:.4f}] ({law.method}, {law.n} budgets)")
    if result.L_law is not None:
        ll = result.L_law
        lines.append(f"    L* = {ll.E:.4g} + {ll.A:.4g}·C^-{ll.gamma:.4f}")
    return "\n".join(lines)


def _ci(values: np.ndarray, level: float) -> tuple[float, float]:
    ok = values[np.isfinite(values)]
    if len(ok) < 2:
        return (math.nan, math.nan)
    q = (1 - level) / 2
    return tuple(float(v) for v in np.quantile(ok, [q, 1 - q]))


def _optimum(x, y, logd_plus_logn, c, k, degree, half):
    """(N*, D*, L*, profile) of one budget's points; NaNs when the profile has no minimum."""
    prof = fit_profile(x, y, degree, half)
    if not (math.isfinite(prof.x_opt) and abs(prof.x_opt) < 300):
        return math.nan, math.nan, math.nan, prof
    n_opt = 10.0**prof.x_opt
    if logd_plus_logn is None:
        d_opt = c / (k * n_opt)
    else:  # D·N is constant along a budget: its geometric mean over the window, / N*
        d_opt = math.exp(float(np.mean(logd_plus_logn[prof.window]))) / n_opt
    return n_opt, d_opt, float(prof(n_opt)), prof


def isoflop(data, *, compute: str | None = None, budget: str | None = None,
            profile: str = "parabola", window: float | None = DEFAULT_WINDOW,
            bootstrap: int = 200, seed: int = 0, mapping: Mapping[str, str] | None = None,
            ci_level: float = 0.95, tolerance: float = 0.1) -> IsoFlopResult:
    """Approach 2 on runs with columns N, D (optional with ``compute``), L.

    Args:
      compute: a column holding each row's compute budget; otherwise ``budget`` (default
        ``"C = 6·N·D"``) gives each row's C. Rows within a factor ``1 + tolerance`` of a
        neighbour (sorted by C) share a budget.
      profile: ``"parabola"`` or ``"cubic"`` in log10 N.
      window: half-width in decades of N around the minimum (None or inf: the whole curve).
      bootstrap: resamples of each budget's rows (0: regression t-intervals only).
      mapping: law name → column, e.g. ``{"N": "params", "L": "loss"}``.
    """
    if profile not in PROFILES:
        raise AnalysisError(f"profile must be 'parabola' or 'cubic', not {profile!r}")
    half = math.inf if window is None else float(window)
    if not (half > 0):
        raise AnalysisError(f"window must be a positive number of decades (or None), "
                            f"not {window!r}")
    if not (isinstance(bootstrap, int) and bootstrap >= 0):
        raise AnalysisError(f"bootstrap must be a non-negative integer, not {bootstrap!r}")
    if not (0 < ci_level < 1):
        raise AnalysisError(f"ci_level must be in (0, 1), not {ci_level!r}")
    degree = PROFILES[profile]
    runs = read_runs(data, compute=compute, budget=budget, mapping=mapping)
    labels = cluster(runs.C, tolerance)
    x_all, y_all = np.log10(runs.N), runs.L
    dn_all = None if runs.D is None else np.log(runs.D) + np.log(runs.N)
    k = runs.equation.k
    budgets = []
    for j in range(int(labels.max()) + 1):
        rows = np.flatnonzero(labels == j)
        x, y = x_all[rows], y_all[rows]
        dn = None if dn_all is None else dn_all[rows]
        c = budget_value(runs.C[rows], compute is not None)
        nan2 = (math.nan, math.nan)
        n_sizes = len(np.unique(np.round(x, 12)))
        if n_sizes < degree + 1:
            budgets.append(BudgetProfile(
                C=c, n_points=len(rows), N_opt=math.nan, N_opt_ci=nan2, D_opt=math.nan,
                D_opt_ci=nan2, L_opt=math.nan, L_opt_ci=nan2, bracketed=False,
                reason=f"too few sizes ({n_sizes} < {degree + 1}) for a {profile}",
                N=10.0**x, L=y, profile=None, draws=np.full((bootstrap, 3), np.nan)))
            continue
        n_opt, d_opt, l_opt, prof = _optimum(x, y, dn, c, k, degree, half)
        reason = _check(x, y, prof)
        draws = np.full((bootstrap, 3), np.nan)
        rng = np.random.default_rng([seed, j])
        for i in range(bootstrap):
            pick = rng.integers(0, len(rows), len(rows))
            xs, ys = x[pick], y[pick]
            if len(np.unique(np.round(xs, 12))) < degree + 1:
                continue
            got = _optimum(xs, ys, None if dn is None else dn[pick], c, k, degree, half)
            w = xs[got[3].window]
            if math.isfinite(got[0]) and w.min() <= math.log10(got[0]) <= w.max():
                draws[i] = got[:3]
        budgets.append(BudgetProfile(
            C=c, n_points=len(rows), N_opt=n_opt, N_opt_ci=_ci(draws[:, 0], ci_level),
            D_opt=d_opt, D_opt_ci=_ci(draws[:, 1], ci_level), L_opt=l_opt,
            L_opt_ci=_ci(draws[:, 2], ci_level), bracketed=not reason, reason=reason,
            N=10.0**x, L=y, profile=prof, draws=draws))
    settings = {"profile": profile, "window": None if math.isinf(half) else half,
                "bootstrap": bootstrap, "seed": seed, "ci_level": ci_level,
                "compute": compute, "budget": runs.equation.text, "tolerance": tolerance}
    n_law, d_law, l_law = power_laws(budgets, ci_level)
    return IsoFlopResult(budgets=tuple(budgets), N_law=n_law, D_law=d_law, L_law=l_law,
                         settings=settings)


def power_laws(budgets, level: float) -> tuple[PowerLaw, PowerLaw, LossLaw | None]:
    """N*, D* power laws (and the L* law) over the bracketed budgets."""
    used = [b for b in budgets if b.bracketed]
    if len(used) < 2:
        flagged = "; ".join(f"C={b.C:.3g}: {b.reason}" for b in budgets if not b.bracketed)
        raise AnalysisError(f"only {len(used)} of {len(budgets)} budget(s) bracket their minimum; "
                            f"a power law needs at least 2 (flagged: {flagged or 'none'})")
    c = np.array([b.C for b in used])
    if len(np.unique(c)) < 2:
        raise AnalysisError("the bracketed budgets all have the same compute")
    draws = np.stack([b.draws for b in used]) if used[0].draws.shape[0] else None
    n_law = fit_power_law(c, [b.N_opt for b in used],
                          None if draws is None else draws[:, :, 0], level=level)
    d_law = fit_power_law(c, [b.D_opt for b in used],
                          None if draws is None else draws[:, :, 1], level=level)
    l_law = fit_loss_law(c, [b.L_opt for b in used])
    return n_law, d_law, l_law
