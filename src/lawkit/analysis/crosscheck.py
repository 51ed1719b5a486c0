"""Cross-check: the parametric frontier's exponent beside Approaches 1 and 2.

For a fitted law L(N, D) and the budget C = k·N·D, the frontier exponent is the log-slope
of N*(C) between two budgets C₁ < C₂ (the range of the data's budgets):

    a = [log N*(C₂) − log N*(C₁)] / [log C₂ − log C₁]

For ``E + A/N^α + B/D^β`` this is exactly β/(α+β) at every C (closed form); for other laws
it is the average exponent over the data's range.  Its interval comes from the fit's
bootstrap draws when present (the optimum recomputed per draw, percentile), else from the
parameters' covariance by the delta method (central differences, normal quantile).

Two estimates *agree* when their difference is within the combined half-widths of their
intervals, |a₁ − a₂| ≤ √(h₁² + h₂²); ``overlap`` (a weaker test) is reported beside it.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

import numpy as np

from ..errors import AnalysisError
from .powerlaw import _num


@dataclass(frozen=True, kw_only=True)
class Estimate:
    """One estimate of the N* exponent ``a`` with its interval and how it was obtained."""

    source: str
    value: float
    ci: tuple[float, float]
    method: str

    def to_dict(self) -> dict:
        return {"source": self.source, "value": _num(self.value),
                "ci": [_num(v) for v in self.ci], "method": self.method}


@dataclass(frozen=True, kw_only=True)
class Agreement:
    first: str
    second: str
    difference: float
    combined: float  # √(h₁² + h₂²)
    overlap: bool
    agree: bool

    def to_dict(self) -> dict:
        return {"first": self.first, "second": self.second, "difference": _num(self.difference),
                "combined_half_width": _num(self.combined), "overlap": self.overlap,
                "agree": self.agree}


@dataclass(frozen=True, kw_only=True)
class CrossCheck:
    """Estimates of the N* exponent and their pairwise agreement."""

    estimates: tuple[Estimate, ...]
    comparisons: tuple[Agreement, ...]
    level: float
    c_range: tuple[float, float]

    @property
    def agree(self) -> bool:
        return all(c.agree for c in self.comparisons)

    def to_dict(self) -> dict:
        return {"estimates": [e.to_dict() for e in self.estimates],
                "comparisons": [c.to_dict() for c in self.comparisons],
                "agree": self.agree, "level": self.level, "C_range": list(self.c_range)}

    def report(self) -> str:
        pct = f"{100 * self.level:g}%"
        lines = [f"[[Cross-check of the N* exponent a]]  (C from {self.c_range[0]:.3g} to "
                 f"{self.c_range[1]:.3g})"]
        width = max(len(e.source) for e in self.estimates)
        for e in self.estimates:
            lo, hi = e.ci
            lines.append(f"    {e.source:<{width}}  a = {e.value:.4f}  {pct} CI "
                         f"[{lo:.4f}, {hi:.4f}]  ({e.method})")
        for c in self.comparisons:
            verdict = "agree" if c.agree else "DISAGREE"
            lines.append(f"    {c.first} vs {c.second}: difference {c.difference:+.4f}, "
                         f"combined half-width {c.combined:.4f} → {verdict}"
                         + ("" if c.overlap else " (intervals do not overlap)"))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return "<pre>" + html.escape(self.report()) + "</pre>"


def _budget(law, budget: str | None) -> tuple[str, str | None]:
    for name in ("N", "D"):
        if name not in law.inputs:
            raise AnalysisError(f"the cross-check needs a law of N and D; law {law.name!r} has "
                                f"inputs {', '.join(law.inputs)}")
    if budget is not None:
        from .optimum import parse_budget

        return parse_budget(law, budget)[0], budget
    if law.budgets:
        return next(iter(law.budgets)), None
    return "C", "C = 6*N*D"


def parametric_exponent(fit, c_range: tuple[float, float], *, budget: str | None = None,
                        level: float = 0.95) -> Estimate:
    """The frontier exponent of a fitted law over ``c_range`` (see the module docstring)."""
    from ..fitting.result import FitResult
    from .optimum import optimum
    from .uncertainty import optimum_distribution

    if not isinstance(fit, FitResult):
        raise AnalysisError(f"fit must be a FitResult (from lawkit.fit), not {type(fit).__name__}")
    if fit.settings.get("per_group"):
        raise AnalysisError("the cross-check needs one frontier; fit without per-group parameters")
    law = fit.law
    name, text = _budget(law, budget)
    c1, c2 = (float(v) for v in c_range)
    if not (0 < c1 < c2 and math.isfinite(c2)):
        raise AnalysisError(f"the compute range must be two increasing positive numbers, "
                            f"not {c_range}")
    span = math.log(c2 / c1)

    def slope(values) -> float:
        n1 = optimum(law, over=["N", "D"], budget=text, at={name: c1}, values=values).at["N"]
        n2 = optimum(law, over=["N", "D"], budget=text, at={name: c2}, values=values).at["N"]
        return math.log(n2 / n1) / span

    base = fit.values()
    value = slope(base)
    q = (1 - level) / 2
    if fit.bootstrap:
        ends = [optimum_distribution(law, fit, over=["N", "D"], budget=text, at={name: c},
                                     level=level).samples["N"] for c in (c1, c2)]
        draws = np.log(ends[1] / ends[0]) / span
        ok = draws[np.isfinite(draws)]
        if len(ok) >= 10:
            ci = tuple(float(v) for v in np.quantile(ok, [q, 1 - q]))
            return Estimate(source=f"parametric ({law.name})", value=value, ci=ci,
                            method=f"frontier slope, {len(ok)} bootstrap draws")
    from scipy import stats

    labels = [lb for lb in fit.labels if lb in base]
    cov = np.asarray(fit.covariance, dtype=float)
    grad = np.zeros(len(fit.labels))
    for i, lb in enumerate(fit.labels):
        if lb not in base:
            continue
        h = 1e-5 * max(abs(base[lb]), 1e-3)
        up, down = dict(base), dict(base)
        up[lb] += h
        down[lb] -= h
        grad[i] = (slope(up) - slope(down)) / (2 * h)
    var = float(grad @ cov @ grad) if labels and cov.shape == (len(grad),) * 2 else math.nan
    half = float(stats.norm.ppf(1 - q)) * math.sqrt(var) if var >= 0 else math.nan
    return Estimate(source=f"parametric ({law.name})", value=value,
                    ci=(value - half, value + half), method="frontier slope, delta method")


def _from_result(result, source: str) -> Estimate:
    law = result.N_law
    return Estimate(source=source, value=law.exponent, ci=tuple(law.ci),
                    method=f"{law.method}, {law.n} budgets")


def _compare(a: Estimate, b: Estimate) -> Agreement:
    ha, hb = (a.ci[1] - a.ci[0]) / 2, (b.ci[1] - b.ci[0]) / 2
    combined = math.sqrt(ha * ha + hb * hb)
    diff = a.value - b.value
    overlap = bool(a.ci[0] <= b.ci[1] and b.ci[0] <= a.ci[1])
    return Agreement(first=a.source, second=b.source, difference=diff, combined=combined,
                     overlap=overlap, agree=bool(abs(diff) <= combined))


def crosscheck(fit=None, *, isoflop=None, envelope=None, data=None, budget: str | None = None,
               level: float = 0.95, c_range: tuple[float, float] | None = None,
               **isoflop_options) -> CrossCheck:
    """Compare the N* exponent of a fitted law (``fit``, a FitResult) with Approach 2
    (``isoflop``, an IsoFlopResult) and Approach 1 (``envelope``, an EnvelopeResult).

    With ``data`` and no ``isoflop`` result, Approach 2 is run on ``data`` with the fit's
    column mapping, ``budget`` and ``isoflop_options`` (e.g. ``compute="flops"``,
    ``window=0.5``, ``bootstrap=200``).  ``budget`` (default: the law's own, else
    ``C = 6·N·D``) is also the constraint of the parametric frontier.
    ``c_range`` (default: the range of Approach 2's, else Approach 1's, bracketed budgets)
    is where the parametric frontier's slope is measured.  At least two estimates are needed.
    """
    if not (0 < level < 1):
        raise AnalysisError(f"level must be in (0, 1), not {level!r}")
    if isoflop is None and data is not None:
        from .isoflop import isoflop as run_isoflop

        mapping = dict(getattr(fit, "mapping", {}) or {})
        out = fit.law.output.name if fit is not None else "L"
        cols = {"N": mapping.get("N", "N"), "D": mapping.get("D", "D"), "L": mapping.get(out, out)}
        isoflop = run_isoflop(data, mapping=cols, budget=budget, ci_level=level,
                              **isoflop_options)
    estimates = []
    ranges = [tuple(f(b.C for b in r.used) for f in (min, max))
              for r in (isoflop, envelope) if r is not None]
    if c_range is None:
        c_range = ranges[0] if ranges else None
    if fit is not None:
        if c_range is None:
            raise AnalysisError("give c_range (or an Approach 1/2 result) to measure the "
                                "parametric frontier's exponent over")
        estimates.append(parametric_exponent(fit, c_range, budget=budget, level=level))
    if isoflop is not None:
        estimates.append(_from_result(isoflop, "Approach 2 (IsoFLOP)"))
    if envelope is not None:
        estimates.append(_from_result(envelope, "Approach 1 (envelope)"))
    if len(estimates) < 2:
        raise AnalysisError("a cross-check needs at least two of: a fit, an IsoFLOP result "
                            "(or data), an envelope result")
    pairs = tuple(_compare(a, b) for i, a in enumerate(estimates) for b in estimates[i + 1:])
    return CrossCheck(estimates=tuple(estimates), comparisons=pairs, level=level,
                      c_range=tuple(float(v) for v in c_range))
