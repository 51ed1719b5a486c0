"""``FitResult``: the frozen outcome of a fit, its text report and its JSON form."""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np


class Status(enum.Enum):
    """Why the fit stopped; each member's value is its message."""

    converged = "converged: the best start met the convergence test"
    max_iterations = ("the best start reached the iteration limit before converging; "
                      "the answer may be inaccurate (raise max_iter or check the law)")
    at_bound = ("converged, but parameter(s) sit at a bound; the true optimum may lie outside "
                "the bounds and their standard errors are not meaningful")


@dataclass(frozen=True, kw_only=True)
class Goodness:
    """How well the fitted law describes the rows it was fitted on.

    ``r2`` = 1 − SSR/SST and ``rmse`` = √(SSR/n) in the fitted space (log or linear);
    relative errors |ŷ − y|/y in the data's own units.
    """

    r2: float
    rmse: float
    mean_abs_rel_error: float
    max_abs_rel_error: float

    @classmethod
    def of(cls, y: np.ndarray, residuals: np.ndarray, space: str) -> "Goodness":
        fitted = np.log(y) if space == "log" else y
        pred = y * np.exp(-residuals) if space == "log" else y - residuals
        sst = float(np.sum((fitted - fitted.mean()) ** 2))
        ssr = float(np.sum(residuals ** 2))
        rel = np.abs(pred - y) / np.abs(y)
        return cls(r2=1 - ssr / sst if sst > 0 else float("nan"),
                   rmse=float(np.sqrt(ssr / len(y))), mean_abs_rel_error=float(np.mean(rel)),
                   max_abs_rel_error=float(np.max(rel)))

    def to_dict(self) -> dict:
        return {k: _num(getattr(self, k)) for k in ("r2", "rmse", "mean_abs_rel_error",
                                                    "max_abs_rel_error")}


def _num(x):
    return None if x is None or not math.isfinite(x) else float(x)


@dataclass(frozen=True, kw_only=True, eq=False)
class FitResult:
    """Outcome of :func:`lawkit.fit`.

    ``params`` holds every parameter's natural value (fixed and tied ones included;
    per-group parameters as ``name[level]``).  ``covariance`` (over ``labels``, the fitted
    coordinates, natural units) is the sandwich H⁻¹·J·H⁻¹ of the objective (robust to the
    loss) and ``stderr`` its diagonal's root; ``ci`` holds bootstrap percentile intervals
    for parameters and derived quantities when a bootstrap was run.
    """

    law: object
    params: Mapping[str, float]
    objective: float
    n: int
    k: int
    residuals: np.ndarray = field(repr=False)
    status: Status
    at_bound: tuple[str, ...]
    labels: tuple[str, ...]
    stderr: Mapping[str, float]
    covariance: np.ndarray = field(repr=False)
    ci: Mapping[str, tuple[float, float]]
    transforms: Mapping[str, str]
    starts: Mapping[str, np.ndarray] = field(repr=False)  # per-start table
    settings: Mapping[str, object]
    seconds: float
    goodness: Goodness
    bootstrap: Mapping[str, np.ndarray] = field(default_factory=dict, repr=False)
    ci_level: float = 0.95
    mapping: Mapping[str, str] = field(default_factory=dict)
    group_levels: tuple = ()
    warnings: tuple[str, ...] = ()
    diagnostics: object = None  # fitting.diagnostics.Diagnostics (residual trends, worst rows)

    @property
    def correlation(self) -> np.ndarray:
        """Parameter correlation matrix over ``labels`` (from ``covariance``)."""
        with np.errstate(all="ignore"):  # a degenerate fit's negative variance gives NaN
            d = np.sqrt(np.diag(self.covariance))
            return self.covariance / np.outer(d, d)

    def predict(self, data) -> np.ndarray:
        """The fitted law's output for the rows of ``data`` (per-group values by the
        group column, as fitted)."""
        from .data import predict

        return predict(self, data)

    @property
    def converged(self) -> bool:
        return self.status is not Status.max_iterations

    @property
    def ssr(self) -> float:
        return float(np.sum(self.residuals**2))

    @property
    def aic(self) -> float:
        """n·ln(SSR/n) + 2k, on the residuals of the fitted space (Gaussian approximation)."""
        return self.n * math.log(max(self.ssr, 1e-300) / self.n) + 2 * self.k

    @property
    def bic(self) -> float:
        """n·ln(SSR/n) + k·ln(n)."""
        return self.n * math.log(max(self.ssr, 1e-300) / self.n) + self.k * math.log(self.n)

    @property
    def n_best_basin(self) -> int:
        """How many starts ended within 0.1% (relative) of the best objective."""
        f = self.starts["objective"]
        return int(np.sum(np.isfinite(f) & (f <= self.objective + 1e-3 * abs(self.objective))))

    def values(self) -> dict[str, float]:
        """Parameter values for the law's own names (scalar parameters only)."""
        return {k: v for k, v in self.params.items() if "[" not in k}

    def to_dict(self) -> dict:
        num = _num
        corr = self.correlation
        return {
            "law": self.law.name,
            "params": {k: num(v) for k, v in self.params.items()},
            "objective": num(self.objective),
            "n": self.n,
            "k": self.k,
            "aic": num(self.aic),
            "bic": num(self.bic),
            "converged": self.converged,
            "status": self.status.name,
            "message": self.status.value,
            "at_bound": list(self.at_bound),
            "stderr": {k: num(v) for k, v in self.stderr.items()},
            "ci": {k: [num(a), num(b)] for k, (a, b) in self.ci.items()},
            "ci_level": self.ci_level,
            "goodness": self.goodness.to_dict(),
            "warnings": list(self.warnings),
            "correlation": {a: {b: num(corr[i, j]) for j, b in enumerate(self.labels)}
                            for i, a in enumerate(self.labels)},
            "transforms": dict(self.transforms),
            "starts": {"total": int(len(self.starts["objective"])),
                       "in_best_basin": self.n_best_basin},
            "settings": dict(self.settings),
            "seconds": self.seconds,
            "diagnostics": None if self.diagnostics is None else self.diagnostics.to_dict(),
        }

    def report(self) -> str:
        """An lmfit-style text report."""
        s = self.settings
        lines = [f"[[Fit]] law {self.law.name}",
                 f"    loss        {s['loss']}"
                 + (f" (delta={s['delta']:g})" if s["loss"] == "huber" else "")
                 + f", summed, on {s['space']}-space residuals",
                 f"    data points {self.n}",
                 f"    parameters  {self.k} fitted",
                 f"    objective   {self.objective:.10g}",
                 f"    AIC, BIC    {self.aic:.4f}, {self.bic:.4f}",
                 f"    R², RMSE    {self.goodness.r2:.6f}, {self.goodness.rmse:.4g} "
                 f"({s['space']} space)",
                 f"    rel. error  mean {100 * self.goodness.mean_abs_rel_error:.3g}%, "
                 f"max {100 * self.goodness.max_abs_rel_error:.3g}%",
                 f"    starts      {len(self.starts['objective'])} "
                 f"({self.n_best_basin} ended in the best basin)",
                 f"    status      {self.status.value}",
                 f"    time        {self.seconds:.2f} s",
                 "[[Parameters]]"]
        pct = f"{100 * self.ci_level:g}% CI"
        width = max([12, *(len(n) for n in self.params)])
        for name, value in self.params.items():
            se = self.stderr.get(name)
            tag = []
            if se is not None and math.isfinite(se):
                tag.append(f"+/- {se:.4g}")
            if name in self.ci:
                lo, hi = self.ci[name]
                tag.append(f"{pct} [{lo:.6g}, {hi:.6g}]")
            base = name.split("[")[0]
            if name in self.at_bound:
                tag.append("AT BOUND")
            elif base not in self.transforms:
                tag.append("(fixed/tied)")
            elif se is None or not math.isfinite(se):
                tag.append("(no standard error)")
            lines.append(f"    {name:<{width}} = {value:<14.8g} " + "  ".join(tag))
        derived = [k for k in self.ci if k not in self.params]
        if derived:
            lines.append("[[Derived]]")
            for k in derived:
                lo, hi = self.ci[k]
                vals = self.bootstrap.get(k)
                est = (f"= {float(np.nanmedian(vals)):<14.8g} (bootstrap median) "
                       if vals is not None and np.isfinite(vals).any() else "")
                lines.append(f"    {k:<{width}} {est}{pct} [{lo:.6g}, {hi:.6g}]")
        if self.settings.get("bootstrap"):
            lines.append(f"    (intervals: percentile, from {self.settings['bootstrap']} "
                         f"bootstrap resamples of the rows)")
        corr = self.correlation
        pairs = sorted(((abs(corr[i, j]), self.labels[i], self.labels[j], corr[i, j])
                        for i in range(len(self.labels)) for j in range(i + 1, len(self.labels))
                        if np.isfinite(corr[i, j]) and abs(corr[i, j]) >= 0.5), reverse=True)
        if pairs:
            lines.append("[[Correlations]]  (|C| >= 0.5)")
            lines += [f"    C({a}, {b}) = {c:+.4f}" for _, a, b, c in pairs]
        if self.diagnostics is not None:
            lines += self.diagnostics.report_lines(width)
        if self.transforms:
            lines.append("[[Transforms]]  (bounds enforced by reparametrisation)")
            lines.append("    " + ", ".join(f"{k}: {v}" for k, v in self.transforms.items()))
        notes = ([f"at a bound: {', '.join(self.at_bound)}"] if self.at_bound else []) + list(
            self.warnings) + (self.diagnostics.notes() if self.diagnostics is not None else [])
        if notes:
            lines.append("[[Warnings]]")
            lines += [f"    {n}" for n in notes]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """Jupyter: the report's tables and the residual figure (inline PNG)."""
        from ..report.html import fit_fragment
        from ..report.plots import plot_residuals

        return fit_fragment(self, {"residuals": plot_residuals(self)})
