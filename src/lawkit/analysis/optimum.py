"""Optima of a law: minimise an output or term over inputs, under a budget, at given values.

Analytic path: the budget is solved for one ``over`` variable and substituted, then the
stationarity condition ∂T/∂x = 0 of the reduced target is solved symbolically; the closed
form keeps the parameters symbolic, in the law's own symbols (``closed_form``), and is also
given with the values substituted (``solution``).  Numeric path: minimise T over
log-variables with the multi-start Newton solver in JAX, compiled once per problem shape
(see ``_reduce.py``).  Either way the result is checked: gradient ≈ 0 and a
positive-definite Hessian in log coordinates (a minimum, never a saddle), and finite,
positive coordinates that satisfy the budget.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from ..backends.jax import in_double_precision
from ..errors import AnalysisError, did_you_mean
from ._reduce import Reduced, environment, reduce_problem
from ._values import param_values


@dataclass(frozen=True, kw_only=True)
class Optimum:
    """The minimiser of ``minimize`` (the output or a term) over ``over``: values in ``at``
    (over variables, given values, and the target's value under its own name), and closed
    forms in ``solution`` / ``closed_form`` (analytic method only)."""

    method: str
    minimize: str
    over: tuple[str, ...]
    at: Mapping[str, float]
    solution: Mapping[str, sp.Expr] = field(default_factory=dict)
    closed_form: Mapping[str, sp.Expr] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"method": self.method, "minimize": self.minimize, "over": list(self.over),
                "at": {k: float(v) for k, v in self.at.items()},
                "solution": {k: str(v) for k, v in self.solution.items()},
                "closed_form": {k: str(v) for k, v in self.closed_form.items()}}

    def latex(self) -> str:
        return r" \\ ".join(f"{sp.latex(sp.Symbol(k))}^* = {sp.latex(v)}"
                            for k, v in (self.closed_form or self.solution).items())


_FORBIDDEN = set("\n\r\x0b\x0c\x85\u2028\u2029:;#")


def parse_budget(law, text: str) -> tuple[str, sp.Expr]:
    """``"C = 6*N*D"`` → ("C", expression in the law's symbols), parsed by the law grammar."""
    from ..dsl import parse

    bad = sorted({c for c in text if c in _FORBIDDEN or (ord(c) < 32 and c != " ")})
    if bad:
        raise AnalysisError(f"a budget is one equation 'NAME = EXPRESSION' on one line; "
                            f"{text!r} contains {', '.join(map(repr, bad))}")
    decl = ", ".join(law.inputs)
    params = ", ".join(law.params)
    src = (f"law _budget:\n    inputs {decl}\n" + (f"    params {params}\n" if params else "")
           + f"    _y = 0\n    budget {text}\n")
    tmp = parse(src, "<budget>", lookup=lambda name: None)["_budget"]
    (name, expr), = tmp.budgets.items()
    by_name = {s.name: law.symbol(s.name) for s in expr.free_symbols}
    return name, expr.xreplace({s: by_name[s.name] for s in expr.free_symbols})


def _target(law, minimize: str | None) -> tuple[str, sp.Expr]:
    name = minimize or law.output.name
    if name == law.output.name:
        return name, law.expr
    if name in law.terms:
        return name, law.term(name)
    raise AnalysisError(f"minimize={name!r} is neither the output ({law.output.name}) nor a "
                        f"term ({', '.join(law.terms) or 'none'})"
                        + (f"; {h}" if (h := did_you_mean(name, [law.output.name, *law.terms]))
                           else ""))


def setup(law, minimize, over, budget, at) -> tuple[Reduced, dict[str, float]]:
    """Validate a problem's arguments; returns the cached reduced problem and ``at``."""
    at = {k: float(v) for k, v in (at or {}).items()}
    over = tuple(over)
    target_name, target = _target(law, minimize)
    if not over:
        raise AnalysisError("give at least one input to optimise over (over=...)")
    for name in over:
        if name not in law.inputs:
            raise AnalysisError(f"over: {name!r} is not an input of law {law.name!r}"
                                + (f"; {h}" if (h := did_you_mean(name, law.inputs)) else "")
                                + f" (inputs: {', '.join(law.inputs)})")
    both = [k for k in over if k in at]
    if both:
        raise AnalysisError(f"{', '.join(both)} is optimised over, so it cannot also be given a "
                            f"value (drop it from over or from at)")
    budget_name, budget_expr = None, None
    if budget is not None:
        budget_name, budget_expr = parse_budget(law, budget)
    else:
        given = [b for b in law.budgets if b in at]
        if given:
            budget_name, budget_expr = given[0], law.budget(given[0])
    if budget_expr is not None:
        if budget_name not in at:
            raise AnalysisError(f"give the budget's value: at={{{budget_name!r}: ...}}")
        if not {law.symbol(v) for v in over} & budget_expr.free_symbols:
            raise AnalysisError(f"the budget {budget_name} = {budget_expr} does not mention any "
                                f"of the variables optimised over ({', '.join(over)})")
    unknown = [k for k in at if k not in law.inputs and k != budget_name]
    if unknown:
        raise AnalysisError(f"at names {', '.join(unknown)}, which is neither an input nor the "
                            f"budget variable")
    for k, v in at.items():
        if not (math.isfinite(v) and v > 0):
            raise AnalysisError(f"at: {k} = {v:g}; inputs and budgets must be finite and positive")
    needed = {s.name for s in target.free_symbols
              | (budget_expr.free_symbols if budget_expr is not None else set())}
    missing = sorted(n for n in needed if n in law.inputs and n not in over and n not in at)
    if missing:
        raise AnalysisError(f"missing values for input(s) {', '.join(missing)}: give them in at")
    return reduce_problem(law, target_name, target, over, budget_name, budget_expr), at


@in_double_precision
def optimum(law, minimize: str | None = None, over: Sequence[str] = (), budget: str | None = None,
            at: Mapping[str, float] | None = None, values=None, method: str = "auto",
            integer: bool = False) -> Optimum:
    """Minimise ``minimize`` (the output by default, or a term) over the inputs ``over``.

    Args:
      budget: a constraint such as ``"C = 6*N*D"``; if omitted and ``at`` gives one of the
        law's budget variables, that budget is used.
      at: values of the budget variable and of every other input the target needs.
      values: a value-set name, a dict of parameter values, or a fit result.
      method: "auto" (analytic, else numeric), "analytic" or "numeric".
      integer: restrict the ``over`` variables to non-negative integers (e.g. exponent and
        mantissa bits): the integer points around the continuous optimum that satisfy the
        budget exactly are compared, and the best is returned (method "integer").
    """
    if method not in ("auto", "analytic", "numeric"):
        raise AnalysisError(f"method must be 'auto', 'analytic' or 'numeric', not {method!r}")
    problem, at = setup(law, minimize, over, budget, at)
    params = param_values(law, values)
    env = environment(problem, params, at)
    result = None
    if method in ("auto", "analytic"):
        result = _analytic(problem, params, at, env)
        if result is None and method == "analytic":
            raise AnalysisError("SymPy found no closed form for this optimum; use method='numeric'")
    result = result or _numeric(problem, at, env)
    if integer:
        return _integer(problem, at, env, result)
    negative = [k for k in problem.over if result.at[k] <= 0]
    if negative:
        raise AnalysisError(f"the budget cannot be met with positive {', '.join(problem.over)}: "
                            f"{negative[0]} = {result.at[negative[0]]:g} at the optimum")
    return result


# ---- the two methods
def _analytic(problem: Reduced, params, at, env) -> Optimum | None:
    closed = problem.closed_form
    if closed is None or any(e.has(sp.I) for e in closed.values()):
        return None  # no real closed form (e.g. a budget no positive inputs meet): numeric
    v = problem.free[0]
    from ..backends.numpy import evaluate

    value = float(evaluate(closed[v], {**env, **at}))
    if not (math.isfinite(value) and value > 0):
        return None
    law = problem.law
    subs = {law.symbol(k): sp.Float(x, 17) for k, x in params.items()}
    subs.update({law.symbol(k): sp.Float(x, 17) for k, x in at.items()
                 if k in law.inputs and k not in problem.over})
    solution = {k: e.xreplace(subs) for k, e in closed.items()}
    return complete(problem, at, env, {v: value}, "analytic", solution, dict(closed))


def _numeric(problem: Reduced, at, env) -> Optimum:
    import jax.numpy as jnp

    from ..fitting.solve import minimize

    if not problem.free:
        return complete(problem, at, env, {}, "numeric")
    value = problem.jax_functions[0]
    k = len(problem.free)
    axis = np.linspace(-8.0, 50.0, 30 if k <= 2 else 12)
    U0 = np.array(np.meshgrid(*[axis] * k, indexing="ij")).reshape(k, -1).T
    jenv = {n: jnp.asarray(x) for n, x in env.items()}
    sol = minimize(value, U0, (jenv,), keep=32, explore=8)
    f = np.where(np.isfinite(sol.f) & sol.converged, sol.f, np.inf)
    best = int(np.argmin(f))
    if not np.isfinite(f[best]):
        budget = (f"; check that positive {', '.join(problem.over)} can meet the budget "
                  f"{problem.budget_name} = {problem.budget_expr}" if problem.budget_expr
                  is not None else "")
        raise AnalysisError("the numeric search found no minimum (non-finite target "
                            f"everywhere{budget})")
    u = sol.u[best]
    if np.any(np.abs(u) > 200):
        raise AnalysisError(f"no stationary point in range: the optimum runs off to "
                            f"{', '.join(n for n, x in zip(problem.free, u) if abs(x) > 200)} "
                            f"→ 0 or ∞")
    return complete(problem, at, env, {v: float(np.exp(x)) for v, x in zip(problem.free, u)},
                    "numeric")


def complete(problem: Reduced, at, env, point: dict[str, float], method: str, solution=None,
             closed=None) -> Optimum:
    """The full optimum from the free variables' values: eliminated variable, target value,
    and the second-order check."""
    target, elim = problem.numpy_functions
    full_env = {**env, **point}
    out = dict(point)
    if problem.eliminated is not None:
        out[problem.eliminated] = float(elim(full_env))
    out.update(at)
    check_minimum(problem, env, point)
    out[problem.target_name] = float(target(full_env))
    for k, v in out.items():
        if not math.isfinite(v):
            raise AnalysisError(f"the optimum has a non-finite {k}")
    return Optimum(method=method, minimize=problem.target_name, over=problem.over, at=out,
                   solution=solution or {}, closed_form=closed or {})


def check_minimum(problem: Reduced, env, point: dict[str, float]) -> None:
    """Second-order check in log coordinates: gradient ≈ 0, Hessian positive definite."""
    if not problem.free:
        return
    import jax.numpy as jnp

    value, grad, hess = problem.jax_functions[4], problem.jax_functions[1], problem.jax_functions[2]
    t = jnp.asarray([math.log(point[v]) for v in problem.free])
    jenv = {n: jnp.asarray(x) for n, x in env.items()}
    g, h = np.asarray(grad(t, jenv)), np.asarray(hess(t, jenv))
    scale = max(abs(float(value(t, jenv))), 1e-300)
    if not np.isfinite(g).all() or np.max(np.abs(g)) > 1e-6 * scale:
        raise AnalysisError(f"no stationary point: at the best point found the gradient is "
                            f"{g.tolist()} (the target may decrease without bound)")
    if not np.isfinite(h).all() or np.min(np.linalg.eigvalsh(h)) <= -1e-9 * scale:
        raise AnalysisError("the stationary point is not a minimum (a saddle or maximum)")


def _integer(problem: Reduced, at, env, continuous: Optimum) -> Optimum:
    """Best integer point near the continuous optimum that meets the budget exactly."""
    import itertools

    target, elim = problem.numpy_functions
    axes = [range(max(0, math.floor(continuous.at[v]) - 2), math.ceil(continuous.at[v]) + 3)
            for v in problem.free]
    best = None
    for combo in itertools.product(*axes):
        point = {v: float(c) for v, c in zip(problem.free, combo)}
        if problem.eliminated is not None:
            x = float(elim({**env, **point}))
            if not (x >= 0 and abs(x - round(x)) < 1e-9):
                continue
            point[problem.eliminated] = float(round(x))
        value = float(target({**env, **point}))
        if math.isfinite(value) and (best is None or value < best[0]):
            best = (value, point)
    if best is None:
        raise AnalysisError("no integer point near the optimum satisfies the budget")
    value, point = best
    return Optimum(method="integer", minimize=problem.target_name, over=problem.over,
                   at={**point, **at, problem.target_name: value})


@in_double_precision
def frontier(law, budgets: Sequence[float], *, over: Sequence[str], budget: str | None = None,
             budget_name: str | None = None, at: Mapping[str, float] | None = None, values=None,
             method: str = "auto", minimize: str | None = None):
    """Optima over a range of budget values: a DataFrame with one row per budget value.

    The problem is reduced and compiled once; closed forms are evaluated on all budgets at
    once, numeric optima are solved for all budgets in one batched solve."""
    import pandas as pd

    from .batch import optima_batch

    name = budget_name or (parse_budget(law, budget)[0] if budget else
                           (next(iter(law.budgets)) if law.budgets else None))
    if name is None:
        raise AnalysisError(f"law {law.name!r} declares no budget: give budget='C = ...'")
    budgets = np.asarray(budgets, dtype=float)
    if budgets.ndim != 1 or not len(budgets):
        raise AnalysisError("budgets must be a non-empty list of numbers")
    problem, at0 = setup(law, minimize, over, budget, {**(at or {}), name: float(budgets[0])})
    for c in budgets:
        if not (math.isfinite(c) and c > 0):
            raise AnalysisError(f"budget {name} = {c:g}; budgets must be finite and positive")
    params = param_values(law, values)
    envs = [environment(problem, params, {**at0, name: float(c)}) for c in budgets]
    points, used = optima_batch(problem, envs, method=method)
    rows = [{**p, "method": used} for p in points]
    return pd.DataFrame(rows)
