"""Predictions of a fitted law with intervals for the mean prediction f(x; θ̂).

Two ways to get the interval at level 1 − a:

- ``bootstrap`` (when the fit kept bootstrap draws θ*₁…θ*_K): f(x; θ*ᵢ) for every draw,
  and the percentile interval [q_{a/2}, q_{1−a/2}] of those values, row by row;
- ``delta`` (otherwise): the gradient g = ∂f/∂θ at θ̂ over the fitted coordinates (tied
  parameters followed by the chain rule), Var f ≈ gᵀ Σ g with Σ the fit's sandwich
  covariance; the interval is symmetric in the fitted space: f·exp(∓z·√Var/f) for a
  log-space fit (always positive), f ∓ z·√Var for a linear one, z = Φ⁻¹(1 − a/2).

Both describe the uncertainty of the fitted curve, not the scatter of a new measurement
around it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from ..errors import DataError, FitError, did_you_mean

__all__ = ["Prediction", "predict_interval"]


@dataclass(frozen=True, kw_only=True)
class Prediction:
    """Per-row ``estimate`` (= ``fit.predict``) and interval ``lower``/``upper`` at
    ``level``; ``method`` is "bootstrap" (``n_draws`` usable draws) or "delta"."""

    output: str
    inputs: Mapping[str, np.ndarray]
    estimate: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    level: float
    method: str
    n_draws: int = 0
    observed: np.ndarray | None = None

    @property
    def interval(self) -> str:
        """How the interval was computed, in words."""
        if self.method == "bootstrap":
            return f"bootstrap percentile over {self.n_draws} stored parameter draws"
        return "delta method from the fit's covariance (normal in the fitted space)"

    def to_dict(self) -> dict:
        def num(x):
            x = float(x)
            return x if math.isfinite(x) else None

        rows = []
        for i in range(len(self.estimate)):
            row = {k: (num(v[i]) if np.issubdtype(np.asarray(v).dtype, np.number) else v[i])
                   for k, v in self.inputs.items()}
            row.update({"prediction": num(self.estimate[i]),
                        "ci": [num(self.lower[i]), num(self.upper[i])]})
            if self.observed is not None:
                row["observed"] = num(self.observed[i])
            rows.append(row)
        return {"output": self.output, "level": self.level, "method": self.method,
                "interval": self.interval, "n_draws": self.n_draws, "rows": rows}


def _frame(fit, data, at):
    """The rows to predict on, as a DataFrame with the fit's column names."""
    import pandas as pd

    from .data import read_table

    if (data is None) == (at is None):
        raise DataError("give either data (a table) or at (input values), not both or neither")
    if data is not None:
        return read_table(data)
    mapping = dict(fit.mapping)
    used = {s.name for s in fit.law.expr.free_symbols}
    known = [*fit.law.inputs, *([fit.settings["group"]] if fit.settings.get("group") else [])]
    unknown = [k for k in at if k not in known]
    if unknown:
        hint = did_you_mean(unknown[0], known)
        raise DataError(f"at names {', '.join(map(repr, unknown))}, not an input of law "
                        f"{fit.law.name!r} (inputs: {', '.join(fit.law.inputs)})"
                        + (f"; {hint}" if hint else ""))
    missing = [n for n in fit.law.inputs if n in used and n not in at]
    if missing:
        raise DataError(f"at lacks value(s) for input(s) {', '.join(missing)} of law "
                        f"{fit.law.name!r}")
    cols = {}
    for k, v in dict(at).items():
        name = mapping.get(k, k)
        cols[name] = np.atleast_1d(np.asarray(v))
    try:
        n = np.broadcast_shapes(*(c.shape for c in cols.values())) if cols else (1,)
    except ValueError:
        raise DataError("the values in at have different lengths") from None
    return pd.DataFrame({k: np.broadcast_to(c, n) for k, c in cols.items()})


def _group_codes(fit, frame) -> np.ndarray | None:
    per_group = fit.settings.get("per_group") or []
    if not per_group:
        return None
    group = fit.settings["group"]
    if group not in frame.columns:
        raise DataError(f"the fit has per-group parameters ({', '.join(per_group)}): the rows "
                        f"need its group column {group!r}")
    index = {lv: i for i, lv in enumerate(fit.group_levels)}
    return np.array([index.get(v, -1) for v in frame[group].tolist()])


def _inputs(fit, frame) -> dict[str, np.ndarray]:
    from .data import column

    law, mapping = fit.law, dict(fit.mapping)
    used = {s.name for s in law.expr.free_symbols}
    return {n: column(frame, n, mapping.get(n, n), "input") for n in law.inputs if n in used}


def _where(rows: np.ndarray, at: bool) -> str:
    shown = ", ".join(str(i + 1 if at else i) for i in rows[:5])
    more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
    return (f"point(s) {shown}{more} of at (1-based)" if at
            else f"row(s) {shown}{more} of the data")


def _check_domain(fit, inputs, source: str) -> None:
    """Inputs the law needs positive (non-integer powers, logs) or non-zero (negative
    integer powers): an error naming the input and the rows, as for the fit's data."""
    from .data import _domain

    mapping = dict(fit.mapping)
    for name, kind in _domain(fit.law).items():
        if name not in inputs:
            continue
        x = np.asarray(inputs[name], dtype=float)
        bad = np.flatnonzero((x <= 0) if kind == "positive" else (x == 0))
        if len(bad):
            col = mapping.get(name, name)
            what = "zero or negative" if kind == "positive" else "zero"
            label = f"input {name!r}" if source == "at" else f"column {col!r} (input {name!r})"
            raise DataError(f"{label} is {what} at {_where(bad, source == 'at')}, but law "
                            f"{fit.law.name!r} needs it {kind}")


def _bootstrap_values(fit, inputs, codes) -> tuple[np.ndarray, int]:
    """f(x; θ*ᵢ) for every usable draw: shape (K, rows)."""
    from ..backends.numpy import evaluate

    law = fit.law
    labels = [lab for lab in fit.labels if lab in fit.bootstrap]
    draws = np.column_stack([np.asarray(fit.bootstrap[lab], dtype=float) for lab in labels])
    ok = np.isfinite(draws).all(axis=1)
    draws = draws[ok]
    per_group = fit.settings.get("per_group") or []
    base = fit.values()
    fixed = set(fit.settings.get("fixed") or {})
    columns = {name: [] for name in law.params}
    for row in draws:
        sample = dict(zip(labels, row))
        scalars = {**base, **{k: v for k, v in sample.items() if "[" not in k}}
        if not per_group:  # tied parameters follow the draw
            free = {n: scalars[n] for n in law.params if law.params[n].is_free or n in fixed}
            scalars = law.complete_values(free)
        for name in law.params:
            if name in per_group:
                levels = np.array([sample[f"{name}[{lv}]"] for lv in fit.group_levels])
                columns[name].append(levels[codes])
            else:
                columns[name].append(np.full(1, scalars[name]))
    env = {n: np.array(v) for n, v in columns.items()}  # (K, rows) or (K, 1)
    env.update({n: v[None, :] for n, v in inputs.items()})
    rows = len(next(iter(inputs.values()))) if inputs else 1
    values = evaluate(law.expr, {s.name: env[s.name] for s in law.expr.free_symbols})
    return np.broadcast_to(values, (len(draws), rows)), len(draws)


def _untied(law):
    """``law.expr`` with tied parameters replaced by their expressions (to a fixed point)."""
    expr = law.expr
    tied = {p.symbol: p.fixed for p in law.params.values() if p.fixed is not None}
    for _ in range(len(tied) + 1):
        if not (expr.free_symbols & set(tied)):
            break
        expr = expr.xreplace(tied)
    return expr


def _delta_se(fit, inputs, codes, estimate) -> np.ndarray:
    """√(gᵀ Σ g) per row, g = ∂f/∂(fitted coordinates)."""
    import sympy as sp

    from ..backends.numpy import evaluate

    law = fit.law
    expr = _untied(law)
    per_group = fit.settings.get("per_group") or []
    env = {n: np.full(1, float(v)) for n, v in fit.values().items()}
    for name in per_group:
        levels = np.array([fit.params[f"{name}[{lv}]"] for lv in fit.group_levels])
        env[name] = levels[codes]
    env.update(inputs)
    rows = len(estimate)
    J = np.zeros((rows, len(fit.labels)))
    derivs: dict = {}
    for j, lab in enumerate(fit.labels):
        base, _, level = lab.partition("[")
        if base not in derivs:
            d = sp.diff(expr, law.symbol(base))
            derivs[base] = np.broadcast_to(
                evaluate(d, {s.name: env[s.name] for s in d.free_symbols}), (rows,))
        col = derivs[base]
        if level:
            lv = [f"{base}[{g}]" for g in fit.group_levels].index(lab)
            col = np.where(codes == lv, col, 0.0)
        J[:, j] = col
    var = np.einsum("ij,jk,ik->i", J, np.asarray(fit.covariance), J)
    with np.errstate(invalid="ignore"):
        return np.sqrt(np.where(var >= 0, var, np.nan))


def predict_interval(fit, data=None, *, at: Mapping | None = None, level: float = 0.95,
                     method: str = "auto") -> Prediction:
    """``fit``'s law on the rows of ``data`` (or at input values ``at``, scalars or
    arrays) with intervals at ``level``; ``method`` "auto" (bootstrap when the fit kept
    draws, else delta), "bootstrap" or "delta"."""
    if not 0 < level < 1:
        raise FitError(f"level must be in (0, 1), not {level}")
    if method not in ("auto", "bootstrap", "delta"):
        raise FitError(f"method must be 'auto', 'bootstrap' or 'delta', not {method!r}")
    has_draws = bool(fit.bootstrap) and all(lab in fit.bootstrap for lab in fit.labels)
    if method == "bootstrap" and not has_draws:
        raise FitError("the fit has no bootstrap draws: fit with bootstrap=K, or use the "
                       "delta method")
    use = "bootstrap" if method == "bootstrap" or (method == "auto" and has_draws) else "delta"
    frame = _frame(fit, data, at)
    codes = _group_codes(fit, frame)
    if codes is not None and (codes < 0).any():
        raise DataError(f"group column {fit.settings['group']!r} has level(s) the fit never "
                        f"saw: {sorted(set(frame[fit.settings['group']][codes < 0].tolist()))}")
    inputs = _inputs(fit, frame)
    _check_domain(fit, inputs, "at" if data is None else "data")
    with np.errstate(all="ignore"):
        estimate = np.asarray(fit.predict(frame), dtype=float) * np.ones(len(frame))
    if not np.isfinite(estimate).all():
        bad = np.flatnonzero(~np.isfinite(estimate))
        raise DataError(f"{fit.law.name}'s {fit.law.output.name} is not finite at "
                        f"{_where(bad, data is None)} (inputs outside the law's domain?)")
    n_draws = 0
    if use == "bootstrap":
        values, n_draws = _bootstrap_values(fit, inputs, codes)
        if n_draws < 2:
            raise FitError(f"only {n_draws} usable bootstrap draw(s): too few for an interval")
        q = 100 * (1 - level) / 2
        with np.errstate(invalid="ignore"):
            lower, upper = np.nanpercentile(values, [q, 100 - q], axis=0)
    else:
        se = _delta_se(fit, inputs, codes, estimate)
        z = NormalDist().inv_cdf(0.5 + level / 2)
        with np.errstate(all="ignore"):
            if fit.settings.get("space") == "log":
                s = se / np.abs(estimate)
                lower, upper = estimate * np.exp(-z * s), estimate * np.exp(z * s)
            else:
                lower, upper = estimate - z * se, estimate + z * se
    out = fit.law.output.name
    col = dict(fit.mapping).get(out, out)
    observed = (np.asarray(frame[col], dtype=float) if data is not None and col in frame.columns
                else None)
    shown = dict(inputs)
    if codes is not None:
        shown[fit.settings["group"]] = np.asarray(frame[fit.settings["group"]].tolist(),
                                                  dtype=object)
    return Prediction(output=out, inputs=shown, estimate=estimate, lower=np.asarray(lower),
                      upper=np.asarray(upper), level=level, method=use, n_draws=n_draws,
                      observed=observed)
