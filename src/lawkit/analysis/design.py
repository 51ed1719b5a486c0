"""Experiment design: which next runs most reduce the uncertainty of a target, per unit cost.

The fit's parameter covariance P₀ (over its fitted coordinates, natural units) is the
current state of knowledge.  A new run at inputs x, observed with fit-space noise σ, adds the
Gauss–Newton information jⱼjⱼᵀ/σ² with j = ∂ log f(x; θ)/∂θ (∂f/∂θ for a linear-space fit),
so after a set S of runs

    P_S = (P₀⁻¹ + Σ_{c∈S} j_c j_cᵀ / σ²)⁻¹,     Var(t̂) ≈ gᵀ P_S g    (delta method)

with g = ∂t/∂θ the gradient of the target (log t for a positive target).  Runs are chosen
greedily: each step takes the candidate with the largest variance reduction per unit cost,
(gᵀPj)² / (σ² + jᵀPj) / cost  (a rank-one Sherman–Morrison update of P), without
replacement.  See ``docs/design.md``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..backends.jax import in_double_precision
from ..errors import AnalysisError
from .design_target import Target, _budget_for, _over, _parse_budget, _plain, parse_target


def _layout(fit):
    from ..fitting.params import Layout

    if fit.settings.get("per_group"):
        raise AnalysisError("design for per-group fits is not supported; fit without per_group")
    return Layout(fit.law, fix=dict(fit.settings.get("fixed") or {}))


def _theta(fit) -> np.ndarray:
    return np.array([fit.params[lab] for lab in fit.labels], dtype=float)


def _target_value(fit, target: Target, budget: str | None, params: Mapping[str, float]) -> float:
    from .optimum import optimum

    law = fit.law
    if target.kind == "value":
        from ..backends.numpy import evaluate

        expr = law.expr if target.name == law.output.name else law.term(target.name)
        env = {**law.complete_values(params), **target.at}
        return float(evaluate(expr, {s.name: np.asarray(env[s.name], dtype=float)
                                     for s in expr.free_symbols}))
    over = _over(law, budget, target.at)
    best = optimum(law, over=over, budget=budget, at=dict(target.at), values=dict(params))
    if target.name not in best.at:
        raise AnalysisError(f"--target: the optimum has no coordinate {target.name!r} "
                            f"(it has {', '.join(best.at)})")
    return float(best.at[target.name])


def _gradient(fit, target: Target, budget, prior: np.ndarray) -> tuple[float, np.ndarray, str]:
    """The target at the fit, ∂(log t)/∂θ (or ∂t/∂θ if t ≤ 0) over ``fit.labels``, scale."""
    import jax
    import jax.numpy as jnp

    law, theta = fit.law, _theta(fit)
    base = dict(fit.values())
    t0 = _target_value(fit, target, budget, base)
    if not math.isfinite(t0):
        raise AnalysisError(f"the target {target.text!r} is not finite at the fitted values")
    scale = "log" if t0 > 0 else "linear"
    if target.kind == "value":  # exact: JAX through the law's compiled expression
        from ..backends.jax import compile_expression

        layout = _layout(fit)
        expr = law.expr if target.name == law.output.name else law.term(target.name)
        fn = compile_expression(expr)
        at = {k: jnp.asarray(v) for k, v in target.at.items()}

        def t(th):
            v = fn({**at, **layout.natural(th, transformed=False)})
            return jnp.log(v) if scale == "log" else v
        return t0, np.asarray(jax.grad(t)(jnp.asarray(theta))), scale
    # an optimum: central differences of the (analytic or numeric) optimum, steps 1% of each
    # coordinate's standard error, the scale the delta method linearises over
    sd = np.sqrt(np.clip(np.diag(prior), 0, None))
    g = np.zeros(len(theta))
    for i, lab in enumerate(fit.labels):
        h = 0.01 * sd[i] if sd[i] > 0 else 1e-6 * max(abs(theta[i]), 1e-12)
        vals = []
        for sign in (1, -1):
            p = {**base, lab: float(theta[i] + sign * h)}
            v = _target_value(fit, target, budget, p)
            vals.append(math.log(v) if scale == "log" else v)
        g[i] = (vals[0] - vals[1]) / (2 * h)
    return t0, g, scale


# ---- candidate rows
def _inputs(fit, frame: pd.DataFrame) -> dict[str, np.ndarray]:
    from ..fitting.data import column

    law, mapping = fit.law, dict(fit.mapping)
    used = {s.name for s in law.expr.free_symbols}
    out = {}
    for n in law.inputs:
        if n not in used:
            continue
        col = mapping.get(n, n)
        col = col if col in frame.columns or n not in frame.columns else n
        out[n] = column(frame, n, col, "input")
    return out


def row_jacobian(fit, inputs: Mapping[str, np.ndarray]) -> np.ndarray:
    """(M, k): ∂ log f(xₘ; θ)/∂θ (∂f/∂θ in linear space) at the fit, over ``fit.labels``."""
    import jax
    import jax.numpy as jnp

    from ..backends.jax import compile_law, double_precision

    layout = _layout(fit)
    f = compile_law(fit.law)
    log = fit.settings.get("space", "log") == "log"
    with double_precision():
        X = {k: jnp.asarray(v, dtype=jnp.float64) for k, v in inputs.items()}

        def pred(th):
            y = f(layout.natural(th, transformed=False), X)
            return jnp.log(y) if log else y
        J = jax.jacfwd(pred)(jnp.asarray(_theta(fit)))
    return np.asarray(J).reshape(-1, len(fit.labels))


def run_cost(fit, frame: pd.DataFrame, cost: str | None) -> np.ndarray:
    """Cost of each candidate row: an expression in the law's inputs (``"6*N*D"``), a
    column of ``frame``, or 1 per run when ``cost`` is None."""
    from ..backends.numpy import evaluate

    if cost is None:
        return np.ones(len(frame))
    if cost in frame.columns and cost not in fit.law.inputs:
        c = pd.to_numeric(frame[cost], errors="coerce").to_numpy(dtype=float)
    else:
        cols = ", ".join(map(str, frame.columns))
        _, expr = _parse_budget(fit.law, f"_cost = {_plain(cost)}", f"--cost {cost!r}",
                                f"the candidates' columns: {cols}; give --cost EXPR, a column, "
                                f"or run")
        env = {**fit.law.complete_values(fit.values()), **_inputs(fit, frame)}
        missing = sorted({s.name for s in expr.free_symbols} - set(env))
        if missing:
            raise AnalysisError(f"--cost {cost!r} needs {', '.join(missing)}, which the "
                                f"candidates do not give")
        c = np.broadcast_to(np.asarray(evaluate(expr, {s.name: np.asarray(env[s.name], float)
                                                       for s in expr.free_symbols}), float),
                            (len(frame),)).copy()
    if not (np.isfinite(c).all() and (c > 0).all()):
        raise AnalysisError(f"--cost {cost!r} is not finite and positive for every candidate")
    return c


def noise_sd(fit) -> float:
    """Fit-space residual sd of one run: RMSE·√(n/(n−k)) (the fitted rows' residuals)."""
    n, k = fit.n, fit.k
    return float(fit.goodness.rmse * math.sqrt(n / max(n - k, 1)))


def _prior(fit, prior: str) -> np.ndarray:
    if prior == "covariance":
        P = np.asarray(fit.covariance, dtype=float)
    elif prior == "bootstrap":
        if not fit.bootstrap:
            raise AnalysisError("prior='bootstrap' needs a fit run with bootstrap=K")
        draws = np.column_stack([fit.bootstrap[lab] for lab in fit.labels])
        draws = draws[np.isfinite(draws).all(axis=1)]
        if len(draws) <= len(fit.labels):
            raise AnalysisError("too few finite bootstrap draws for a covariance")
        P = np.cov(draws, rowvar=False)
    else:
        raise AnalysisError(f"prior must be 'covariance' or 'bootstrap', not {prior!r}")
    P = 0.5 * (P + P.T)
    if not np.isfinite(P).all() or np.linalg.eigvalsh(P).min() < -1e-12 * np.abs(P).max():
        raise AnalysisError("the fit's parameter covariance is not finite and positive "
                            "semi-definite (a parameter at a bound?); refit, or use "
                            "prior='bootstrap'")
    return P


# ---- the record
@dataclass(frozen=True, kw_only=True)
class DesignStep:
    """The ``rank``-th chosen run: candidate ``row``, its ``inputs`` and ``cost``, the total
    cost so far, and the target's predicted sd and CI once this run and those before it are
    added."""

    rank: int
    row: int
    inputs: Mapping[str, float]
    cost: float
    total_cost: float
    sd: float
    ci: tuple[float, float]
    ci_width: float

    def to_dict(self) -> dict:
        return {"rank": self.rank, "row": self.row, "inputs": dict(self.inputs),
                "cost": self.cost, "total_cost": self.total_cost, "sd": self.sd,
                "ci": list(self.ci), "ci_width": self.ci_width}


@dataclass(frozen=True, kw_only=True)
class Design:
    """Greedy design for ``target``: the current estimate and CI, then the chosen runs in
    order (``steps``).  ``sd`` is on the target's ``scale`` (log t when t > 0)."""

    target: str
    estimate: float
    scale: str
    level: float
    noise: float
    prior: str
    criterion: str
    sd: float
    ci: tuple[float, float]
    ci_width: float
    n_candidates: int
    steps: tuple[DesignStep, ...]

    def runs(self) -> pd.DataFrame:
        """The chosen runs as a table (inputs, cost), best first."""
        return pd.DataFrame([{**s.inputs, "cost": s.cost} for s in self.steps])

    def to_dict(self) -> dict:
        return {"target": self.target, "estimate": self.estimate, "scale": self.scale,
                "level": self.level, "noise": self.noise, "prior": self.prior,
                "criterion": self.criterion, "n_candidates": self.n_candidates,
                "current": {"sd": self.sd, "ci": list(self.ci), "ci_width": self.ci_width},
                "runs": [s.to_dict() for s in self.steps]}

    def report(self) -> str:
        pct = f"{100 * self.level:g}%"
        lines = [f"[[Design]] target {self.target} = {self.estimate:.6g}",
                 f"    now         {pct} CI [{self.ci[0]:.6g}, {self.ci[1]:.6g}] "
                 f"(width {self.ci_width:.4g})",
                 f"    method      {self.criterion}; prior = the fit's {self.prior}, "
                 f"run noise sd {self.noise:.3g} ({'log' if self.scale == 'log' else 'fit'} space)",
                 f"    candidates  {self.n_candidates}, chose {len(self.steps)}"]
        if self.steps:
            names = list(self.steps[0].inputs)
            head = "    " + f"{'#':>3} {'row':>5} " + " ".join(f"{n:>11}" for n in names) \
                + f" {'cost':>11} {'total':>11} {pct + ' CI after':>29} {'width':>10}"
            lines += ["[[Runs]]", head]
            for s in self.steps:
                lines.append(f"    {s.rank:>3} {s.row:>5} "
                             + " ".join(f"{s.inputs[n]:>11.4g}" for n in names)
                             + f" {s.cost:>11.4g} {s.total_cost:>11.4g} "
                             f"{f'[{s.ci[0]:.5g}, {s.ci[1]:.5g}]':>29} {s.ci_width:>10.4g}")
            lines.append(f"    width shrinks {self.ci_width / self.steps[-1].ci_width:.3g}x "
                         f"for a total cost of {self.steps[-1].total_cost:.4g}")
        return "\n".join(lines)


def _interval(t0: float, sd: float, scale: str, z: float) -> tuple[tuple[float, float], float]:
    if scale == "log":
        lo, hi = t0 * math.exp(-z * sd), t0 * math.exp(z * sd)
    else:
        lo, hi = t0 - z * sd, t0 + z * sd
    return (lo, hi), hi - lo


def _z(level: float) -> float:
    from scipy.stats import norm

    if not 0 < level < 1:
        raise AnalysisError(f"level must lie in (0, 1), got {level}")
    return float(norm.ppf(0.5 + level / 2))


@in_double_precision
def target_interval(fit, target: str, *, cost: str | None = "6*N*D", level: float | None = None,
                    prior: str = "covariance") -> dict:
    """The target's estimate, sd (on its scale) and delta-method CI from the fit's covariance
    alone: ``{"estimate", "sd", "scale", "ci", "ci_width"}``."""
    tgt = parse_target(fit.law, target)
    budget = _budget_for(fit.law, tgt, cost)[1] if tgt.kind == "optimum" else None
    P = _prior(fit, prior)
    t0, g, scale = _gradient(fit, tgt, budget, P)
    sd = math.sqrt(max(float(g @ P @ g), 0.0))
    ci, width = _interval(t0, sd, scale, _z(level or fit.ci_level))
    return {"estimate": t0, "sd": sd, "scale": scale, "ci": ci, "ci_width": width}


@in_double_precision
def design(fit, *, target: str, candidates, n: int, cost: str | None = "6*N*D",
           level: float | None = None, noise: float | None = None,
           prior: str = "covariance", per: str = "cost") -> Design:
    """The ``n`` runs among ``candidates`` (a DataFrame or CSV path with the law's inputs)
    that most reduce the variance of ``target`` per unit ``cost``, chosen greedily.

    Args:
      target: ``"N_opt at C=1e24"`` or ``"L at N=1e10,D=2e11"``.
      cost: run cost, an expression in the inputs (``"6*N*D"``, also the budget of an
        optimum target when the law declares none), a candidates column, or None (1 per run).
      noise: fit-space sd of a new run's observation (default: from the fit's residuals).
      prior: the current covariance: the fit's ``"covariance"`` or its ``"bootstrap"`` draws'.
      per: ``"cost"`` (variance reduction per unit cost) or ``"run"`` (per run).
    """
    from ..fitting.data import read_table

    if per not in ("cost", "run"):
        raise AnalysisError(f"per must be 'cost' or 'run', not {per!r}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise AnalysisError(f"--n must be a non-negative integer, got {n!r}")
    law = fit.law
    tgt = parse_target(law, target)
    budget = _budget_for(law, tgt, cost)[1] if tgt.kind == "optimum" else None
    frame = read_table(candidates).reset_index(drop=True)
    if not len(frame) and n:
        raise AnalysisError("no candidate runs given")
    P = _prior(fit, prior)
    t0, g, scale = _gradient(fit, tgt, budget, P)
    sigma = noise_sd(fit) if noise is None else float(noise)
    if not (math.isfinite(sigma) and sigma > 0):
        raise AnalysisError(f"the run noise sd must be positive, got {sigma}")
    inputs = _inputs(fit, frame) if len(frame) else {}
    J = row_jacobian(fit, inputs) if len(frame) else np.zeros((0, len(g)))
    costs = run_cost(fit, frame, cost) if len(frame) else np.zeros(0)
    if not np.isfinite(J).all():
        bad = np.flatnonzero(~np.isfinite(J).all(axis=1))
        raise AnalysisError(f"the law's gradient is not finite at candidate row(s) "
                            f"{', '.join(map(str, bad[:5]))}")
    z = _z(level or fit.ci_level)
    var0 = max(float(g @ P @ g), 0.0)
    ci, width = _interval(t0, math.sqrt(var0), scale, z)
    weight = costs if per == "cost" else np.ones(len(frame))
    left = np.ones(len(frame), dtype=bool)
    steps, total, var = [], 0.0, var0
    for rank in range(1, min(n, len(frame)) + 1):
        Pj = J @ P                                    # (M, k)
        gain = (Pj @ g) ** 2 / (sigma**2 + np.einsum("mk,mk->m", Pj, J))
        score = np.where(left, gain / weight, -np.inf)
        m = int(np.argmax(score))
        v = Pj[m]
        P = P - np.outer(v, v) / (sigma**2 + float(v @ J[m]))
        P = 0.5 * (P + P.T)
        left[m] = False
        var = max(float(g @ P @ g), 0.0)
        total += float(costs[m])
        ci_m, width_m = _interval(t0, math.sqrt(var), scale, z)
        steps.append(DesignStep(rank=rank, row=m,
                                inputs={k: float(frame.loc[m, c]) for k, c in
                                        _columns(fit, frame).items()},
                                cost=float(costs[m]), total_cost=total, sd=math.sqrt(var),
                                ci=ci_m, ci_width=width_m))
    criterion = ("greedy, largest delta-method variance reduction per unit cost" if per == "cost"
                 else "greedy, largest delta-method variance reduction per run")
    return Design(target=tgt.text, estimate=t0, scale=scale, level=level or fit.ci_level,
                  noise=sigma, prior=prior, criterion=criterion, sd=math.sqrt(var0), ci=ci,
                  ci_width=width, n_candidates=len(frame), steps=tuple(steps))


def _columns(fit, frame) -> dict[str, str]:
    """Law input → the candidates' column holding it, for every input the frame has."""
    mapping = dict(fit.mapping)
    out = {}
    for n in fit.law.inputs:
        col = mapping.get(n, n)
        col = col if col in frame.columns or n not in frame.columns else n
        if col in frame.columns:
            out[n] = col
    return out


# ---- candidate grids
MAX_GRID_BUDGETS = 1000  # budgets of one generated IsoFLOP grid
MAX_GRID_POINTS = 1000  # sizes per budget
MAX_GRID_ROWS = 100_000  # candidates of one grid
@in_double_precision
def isoflop_grid(fit, budgets: Sequence[float], *, points: int = 7, width: float = 0.5,
                 budget: str | None = None, size: str | None = None) -> pd.DataFrame:
    """IsoFLOP candidates around the fit's frontier: for each budget value, ``points`` sizes
    log-spaced over ±``width`` decades around N*(C), the other input solved from the budget.
    Columns: the budget's inputs and the budget variable."""
    import sympy as sp

    from ..backends.numpy import evaluate
    from ._solve import solve_for
    from .optimum import frontier

    law = fit.law
    if budget is None:
        if not law.budgets:
            raise AnalysisError(f"law {law.name!r} declares no budget: give budget='C = 6*N*D'")
        name = next(iter(law.budgets))
        budget = f"{name} = {law.budget(name)}"
    name, expr = _parse_budget(law, _plain(budget), f"budget {budget!r}",
                               "give --cost with the budget in the law's inputs")
    over = [v for v in law.inputs if law.symbol(v) in expr.free_symbols]
    if len(over) != 2:
        raise AnalysisError(f"an IsoFLOP grid needs a budget in two inputs; {budget!r} has "
                            f"{', '.join(over) or 'none'}")
    size = size or over[0]
    if size not in over:
        raise AnalysisError(f"size {size!r} is not an input of the budget ({', '.join(over)})")
    other = next(v for v in over if v != size)
    if isinstance(points, bool) or not isinstance(points, (int, np.integer)) or points < 1:
        raise AnalysisError(f"points must be a positive integer, got {points!r}")
    if points > MAX_GRID_POINTS:
        raise AnalysisError(f"points = {points}: at most {MAX_GRID_POINTS} sizes per budget")
    if not (math.isfinite(width) and width >= 0):
        raise AnalysisError(f"width must be a non-negative number of decades, got {width!r}")
    budgets = np.asarray(budgets, dtype=float)
    if budgets.ndim != 1 or not len(budgets) or not np.isfinite(budgets).all() or (
            budgets <= 0).any():
        raise AnalysisError("budgets must be a non-empty list of finite, positive values")
    if len(budgets) > MAX_GRID_BUDGETS:
        raise AnalysisError(f"{len(budgets)} budgets: at most {MAX_GRID_BUDGETS} in one grid")
    if len(budgets) * points > MAX_GRID_ROWS:
        raise AnalysisError(f"{len(budgets)} budgets × {points} sizes = {len(budgets) * points} "
                            f"candidates: at most {MAX_GRID_ROWS} in one grid")
    front = frontier(law, budgets, over=over, budget=budget, values=fit)
    c_sym = sp.Symbol("_budget_value", positive=True)
    solved = solve_for(expr - c_sym, law.symbol(other))
    if solved is None:
        raise AnalysisError(f"cannot solve the budget {budget!r} for {other}")
    values = law.complete_values(fit.values())
    rows = []
    for c, centre in zip(budgets, front[size].to_numpy(dtype=float)):
        with np.errstate(over="ignore", under="ignore"):
            sizes = centre * np.logspace(-width, width, points)
        for x in sizes:
            env = {**values, size: x, "_budget_value": c}
            y = float(evaluate(solved, {s.name: np.asarray(env[s.name], float)
                                        for s in solved.free_symbols}))
            if not (math.isfinite(x) and math.isfinite(y) and x > 0 and y > 0):
                raise AnalysisError(f"the IsoFLOP grid at {name}={c:g} leaves float64's range "
                                    f"({size}={x:g}, {other}={y:g}): use a smaller width "
                                    f"(now {width:g} decades) or other budgets")
            rows.append({size: float(x), other: y, name: float(c)})
    return pd.DataFrame(rows, columns=[size, other, name])
