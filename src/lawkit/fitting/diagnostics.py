"""Residual diagnostics of a fit: trends against each input, heteroscedasticity, worst rows.

On the rows with positive weight, with residuals rᵢ in the fitted space (log y − log ŷ by
default) and fitted values ŷᵢ in that space:

- trend against input x: Spearman's rank correlation ρ(r, x) and its two-sided p-value
  (``scipy.stats.spearmanr``); a law missing a term in x leaves residuals monotone in x;
- heteroscedasticity: Spearman's ρ(|r|, ŷ) — does the residual spread grow or shrink
  with the fitted value (a rank version of the Breusch–Pagan idea, robust to the outliers
  a Huber fit tolerates);
- the worst-fitted rows by |ŷ − y| / y in the data's own units.

A test is flagged ``significant`` when p < α/m (Bonferroni over the m tests, α = 0.05).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

ALPHA = 0.05
WORST = 5


def _num(x):
    return None if x is None or not math.isfinite(x) else float(x)


@dataclass(frozen=True, kw_only=True)
class RankTest:
    """Spearman's ρ between the residuals (or their size) and ``against``, with p-value."""

    against: str
    spearman: float
    p_value: float
    significant: bool


@dataclass(frozen=True, kw_only=True)
class WorstRow:
    """Row ``index`` (0-based position in the data) with its inputs, observed and predicted
    output and signed relative error (ŷ − y)/y."""

    index: int
    inputs: Mapping[str, float]
    observed: float
    predicted: float
    rel_error: float

    def to_dict(self) -> dict:
        return {"index": self.index, "inputs": {k: _num(v) for k, v in self.inputs.items()},
                "observed": _num(self.observed), "predicted": _num(self.predicted),
                "rel_error": _num(self.rel_error)}


@dataclass(frozen=True, kw_only=True)
class Diagnostics:
    """Residual trends per input, heteroscedasticity and the worst rows of one fit."""

    trends: tuple[RankTest, ...]
    heteroscedasticity: RankTest | None
    worst_rows: tuple[WorstRow, ...]
    alpha: float = ALPHA
    n_rows: int = 0

    def to_dict(self) -> dict:
        h = self.heteroscedasticity
        return {"trends": [{"input": t.against, "spearman": _num(t.spearman),
                            "p_value": _num(t.p_value), "significant": t.significant}
                           for t in self.trends],
                "heteroscedasticity": None if h is None else {
                    "method": "spearman(|residual|, fitted)", "spearman": _num(h.spearman),
                    "p_value": _num(h.p_value), "significant": h.significant},
                "worst_rows": [w.to_dict() for w in self.worst_rows],
                "alpha": self.alpha, "n_rows": self.n_rows}

    def notes(self) -> list[str]:
        """One sentence per significant test."""
        out = [f"residuals trend with {t.against} (Spearman ρ = {t.spearman:+.2f}, "
               f"p = {t.p_value:.2g}): the law may miss a term in {t.against}"
               for t in self.trends if t.significant]
        h = self.heteroscedasticity
        if h is not None and h.significant:
            out.append(f"residual spread {'grows' if h.spearman > 0 else 'shrinks'} with the "
                       f"fitted value (Spearman ρ(|r|, ŷ) = {h.spearman:+.2f}, p = "
                       f"{h.p_value:.2g}): consider weights or the other space")
        return out

    def report_lines(self, width: int = 12) -> list[str]:
        lines = [f"[[Diagnostics]]  (Spearman rank tests on {self.n_rows} rows; * = p < "
                 f"{self.alpha:g}/{self._m()})"]
        for t in self.trends:
            lines.append(f"    {'trend vs ' + t.against:<{width + 9}} ρ = {t.spearman:+.3f}  "
                         f"p = {t.p_value:.3g}{'  *' if t.significant else ''}")
        h = self.heteroscedasticity
        if h is not None:
            lines.append(f"    {'|r| vs fitted':<{width + 9}} ρ = {h.spearman:+.3f}  "
                         f"p = {h.p_value:.3g}{'  *' if h.significant else ''}")
        if self.worst_rows:
            lines.append("    worst rows (relative error ŷ/y − 1):")
            for w in self.worst_rows:
                where = ", ".join(f"{k}={v:.4g}" for k, v in w.inputs.items())
                lines.append(f"      row {w.index:<5} {where}: y = {w.observed:.6g}, "
                             f"ŷ = {w.predicted:.6g} ({100 * w.rel_error:+.3g}%)")
        return lines

    def _m(self) -> int:
        return len(self.trends) + (self.heteroscedasticity is not None)


def _ranks(a: np.ndarray) -> np.ndarray:
    """Ranks 1..n, ties given their average rank (as scipy.stats.rankdata)."""
    order = np.argsort(a, kind="mergesort")
    sorted_a = a[order]
    first = np.concatenate([[True], sorted_a[1:] != sorted_a[:-1]])
    group = np.cumsum(first) - 1
    starts = np.flatnonzero(first)
    ends = np.concatenate([starts[1:], [len(a)]])
    avg = (starts + ends + 1) / 2.0  # mean of the 1-based ranks start+1 .. end
    out = np.empty(len(a))
    out[order] = avg[group]
    return out


def _betainc(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta I_x(a, b) by Lentz's continued fraction."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    if x > (a + 1) / (a + b + 2):
        return 1.0 - _betainc(b, a, 1.0 - x)
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                     + a * math.log(x) + b * math.log1p(-x)) / a
    tiny, f, c, d = 1e-300, 1.0, 1.0, 0.0
    for i in range(400):
        m = i // 2
        if i == 0:
            num = 1.0
        elif i % 2:
            num = -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1))
        else:
            num = (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m))
        d = 1.0 + num * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + num / c
        c = c if abs(c) > tiny else tiny
        f *= c * d
        if abs(1.0 - c * d) < 1e-15:
            break
    return front * (f - 1.0)


def _spearman(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Spearman's ρ and its two-sided p-value from t = ρ√((n−2)/(1−ρ²)) ~ t(n−2), as
    scipy.stats.spearmanr computes them (written here: scipy.stats costs ~1.4 s to import
    on every command-line fit)."""
    n = len(a)
    if n < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan"), float("nan")
    ra, rb = _ranks(np.asarray(a, float)), _ranks(np.asarray(b, float))
    ra, rb = ra - ra.mean(), rb - rb.mean()
    rho = float(np.sum(ra * rb) / math.sqrt(float(np.sum(ra * ra) * np.sum(rb * rb))))
    rho = max(-1.0, min(1.0, rho))
    dof = n - 2
    if abs(rho) == 1.0:
        return rho, 0.0
    t2 = rho * rho * dof / (1.0 - rho * rho)
    return rho, float(_betainc(dof / 2.0, 0.5, dof / (dof + t2)))


def law_inputs(data, law, mapping: Mapping[str, str] | None = None) -> dict[str, np.ndarray]:
    """Every declared input of ``law`` that ``data`` (a FitData) holds as a numeric column,
    in the law's order — also inputs the expression does not use, so that a term left out
    of the law shows as a trend."""
    from .data import NumericTable

    mapping = dict(mapping or {})
    out = {}
    for name in law.inputs:
        if name in data.inputs:
            out[name] = np.asarray(data.inputs[name], dtype=float)
            continue
        col = mapping.get(name, name)
        if col in data.frame.columns:
            if isinstance(data.frame, NumericTable):
                values = data.frame[col].astype(float)
            else:
                import pandas as pd

                values = pd.to_numeric(data.frame[col], errors="coerce").to_numpy(dtype=float)
            if np.isfinite(values).all():
                out[name] = values
    return out


def diagnose(inputs: Mapping[str, np.ndarray], y: np.ndarray, residuals: np.ndarray,
             weights: np.ndarray, space: str, *, worst: int = WORST,
             alpha: float = ALPHA) -> Diagnostics:
    """Diagnostics from a fit's inputs (name → values per row), observed outputs, residuals
    and weights (rows with zero weight are left out)."""
    keep = np.asarray(weights) > 0
    r = np.asarray(residuals, dtype=float)[keep]
    y = np.asarray(y, dtype=float)[keep]
    rows = np.flatnonzero(keep)
    X = {k: np.asarray(v, dtype=float)[keep] for k, v in inputs.items()}
    fitted = (np.log(y) - r) if space == "log" else (y - r)
    pred = np.exp(fitted) if space == "log" else fitted
    raw = [(k, *_spearman(r, x)) for k, x in X.items()]
    h_rho, h_p = _spearman(np.abs(r), fitted)
    m = len(raw) + 1
    cut = alpha / m

    def test(name, rho, p):
        return RankTest(against=name, spearman=rho, p_value=p,
                        significant=bool(math.isfinite(p) and p < cut))

    rel = (pred - y) / np.abs(y)
    order = np.argsort(-np.abs(rel), kind="stable")[:worst]
    worst_rows = tuple(WorstRow(index=int(rows[i]), inputs={k: float(x[i]) for k, x in X.items()},
                                observed=float(y[i]), predicted=float(pred[i]),
                                rel_error=float(rel[i])) for i in order)
    return Diagnostics(trends=tuple(test(*t) for t in raw),
                       heteroscedasticity=test("fitted", h_rho, h_p), worst_rows=worst_rows,
                       alpha=float(alpha), n_rows=int(len(r)))
