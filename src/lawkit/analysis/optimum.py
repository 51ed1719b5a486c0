"""Optima of a law: minimise an output or term over inputs, under a budget, at given values.

Analytic path: solve the budget for one ``over`` variable and substitute it (a Lagrange
multiplier for an equality constraint amounts to the same), then solve the stationarity
conditions ∂T/∂x = 0 of the reduced target T symbolically.  The closed form keeps the
parameters symbolic (``closed_form``) and is also given with the values substituted
(``solution``).  Numeric path: minimise T over log-variables with the multi-start Newton
solver in JAX.  Either way the result is checked: gradient ≈ 0 and a positive-definite
Hessian (a minimum, never a saddle), finite and positive coordinates.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from ..errors import AnalysisError, did_you_mean
from ._solve import solve_for


@dataclass(frozen=True)
class Optimum:
    """The minimiser of ``minimize`` over ``over``: values in ``at`` (over variables, given
    values, and the target), and closed forms in ``solution`` (analytic method only)."""

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


def _param_values(law, values) -> dict[str, float]:
    if values is None:
        if len(law.values) == 1:
            return law.value_set(next(iter(law.values)))
        raise AnalysisError(f"law {law.name!r} needs values: a value set name "
                            f"({', '.join(law.values) or 'none defined'}), a dict, or a fit result")
    if isinstance(values, str):
        return law.value_set(values)
    if hasattr(values, "values") and callable(values.values) and not isinstance(values, Mapping):
        values = values.values()  # a FitResult
    return law.complete_values(values)


def parse_budget(law, text: str) -> tuple[str, sp.Expr]:
    """``"C = 6*N*D"`` → ("C", expression in the law's symbols), parsed by the law grammar."""
    from ..dsl import parse

    decl = ", ".join(law.inputs)
    params = ", ".join(law.params)
    src = (f"law _budget:\n    inputs {decl}\n" + (f"    params {params}\n" if params else "")
           + f"    _y = 0\n    budget {text}\n")
    tmp = parse(src, "<budget>", lookup=lambda name: None)["_budget"]
    (name, expr), = tmp.budgets.items()
    by_name = {s.name: law.symbol(s.name) for s in expr.free_symbols}
    return name, expr.xreplace({s: by_name[s.name] for s in expr.free_symbols})


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
    at = {k: float(v) for k, v in (at or {}).items()}
    over = tuple(over)
    target_name = minimize or law.output.name
    if target_name == law.output.name:
        target = law.expr
    elif target_name in law.terms:
        target = law.term(target_name)
    else:
        raise AnalysisError(f"--minimize {target_name!r} is neither the output "
                            f"({law.output.name}) nor a term ({', '.join(law.terms) or 'none'})")
    if not over:
        raise AnalysisError("give at least one variable to optimise over (--over)")
    for name in over:
        if name not in law.inputs:
            raise AnalysisError(f"--over {name!r} is not an input of law {law.name!r}"
                                + (f"; {h}" if (h := did_you_mean(name, law.inputs)) else "")
                                + f" (inputs: {', '.join(law.inputs)})")
    budget_name, budget_expr = None, None
    if budget is not None:
        budget_name, budget_expr = parse_budget(law, budget)
    else:
        given = [b for b in law.budgets if b in at]
        if given:
            budget_name, budget_expr = given[0], law.budget(given[0])
    if budget_expr is not None:
        if budget_name not in at:
            raise AnalysisError(f"give the budget's value with --at {budget_name}=…")
        if not {law.symbol(v) for v in over} & budget_expr.free_symbols:
            raise AnalysisError(f"the budget {budget_name} = {budget_expr} does not mention any "
                                f"of the --over variables ({', '.join(over)})")
    unknown_at = [k for k in at if k not in law.inputs and k != budget_name]
    if unknown_at:
        raise AnalysisError(f"--at names {', '.join(unknown_at)}, which is neither an input nor "
                            f"the budget variable")
    params = _param_values(law, values)
    needed = {s.name for s in target.free_symbols | (budget_expr.free_symbols if budget_expr is not None else set())}
    missing = sorted(n for n in needed if n in law.inputs and n not in over and n not in at)
    if missing:
        raise AnalysisError(f"missing values for input(s) {', '.join(missing)}: give them with "
                            f"--at {missing[0]}=…")
    problem = _Problem(law, target, over, budget_name, budget_expr, at, params)
    if method not in ("auto", "analytic", "numeric"):
        raise AnalysisError(f"method must be 'auto', 'analytic' or 'numeric', not {method!r}")
    result = None
    if method in ("auto", "analytic"):
        result = problem.analytic()
        if result is None and method == "analytic":
            raise AnalysisError("SymPy found no closed form for this optimum; use method='numeric'")
    result = result or problem.numeric()
    return problem.integer(result) if integer else result


class _Problem:
    """A minimisation with the budget eliminated: T(free over-variables)."""

    def __init__(self, law, target, over, budget_name, budget_expr, at, params):
        self.law, self.over, self.at, self.params = law, over, at, params
        self.target_name = law.output.name
        self.psubs = {law.symbol(k): sp.Float(v, 17) for k, v in params.items()}
        self.budget_symbol = sp.Symbol(budget_name, positive=True) if budget_name else None
        self.eliminated, self.elim_expr = None, None
        if budget_expr is not None:
            for v in reversed(over):
                x = law.symbol(v)
                if x in budget_expr.free_symbols:
                    sol = solve_for(budget_expr - self.budget_symbol, x)
                    if sol is not None:
                        self.eliminated, self.elim_expr = v, sol
                        break
            if self.eliminated is None:
                raise AnalysisError(f"cannot solve the budget {budget_name} = {budget_expr} for any "
                                    f"of {', '.join(over)}")
            target = target.xreplace({law.symbol(self.eliminated): self.elim_expr})
        self.target = target
        self.free = [v for v in over if v != self.eliminated]
        # numeric values of everything but the free variables
        self.vsubs = {law.symbol(k): v for k, v in at.items() if k in law.inputs}
        if self.budget_symbol is not None:
            self.vsubs[self.budget_symbol] = at[budget_name]

    # ---- evaluation helpers
    def _numeric_target(self) -> sp.Expr:
        return self.target.xreplace(self.psubs).xreplace(self.vsubs)

    def _complete(self, point: dict[str, float], method: str, solution=None, closed=None) -> Optimum:
        env = {self.law.symbol(k): v for k, v in point.items()}
        out = dict(point)
        if self.eliminated is not None:
            out[self.eliminated] = float(self.elim_expr.xreplace(self.psubs).xreplace(self.vsubs)
                                         .xreplace(env))
        out.update(self.at)
        T = self._numeric_target()
        value = float(T.xreplace(env))
        self._check_minimum(T, point)
        out[self.target_name] = value
        for k, v in out.items():
            if not math.isfinite(v):
                raise AnalysisError(f"the optimum has a non-finite {k}")
        return Optimum(method, self.target_name, self.over, out, solution or {}, closed or {})

    def _check_minimum(self, T: sp.Expr, point: dict[str, float]) -> None:
        """Second-order check in log coordinates: gradient ≈ 0, Hessian positive definite."""
        if not self.free:
            return
        xs = [self.law.symbol(v) for v in self.free]
        ts = [sp.Symbol(f"_t{i}", real=True) for i in range(len(xs))]
        Tl = T.xreplace({x: sp.exp(t) for x, t in zip(xs, ts)})
        env = {t: math.log(point[v]) for t, v in zip(ts, self.free)}
        grad = np.array([float(sp.diff(Tl, t).xreplace(env)) for t in ts])
        hess = np.array([[float(sp.diff(Tl, a, b).xreplace(env)) for b in ts] for a in ts])
        scale = max(abs(float(Tl.xreplace(env))), 1e-300)
        if np.max(np.abs(grad)) > 1e-6 * scale:
            raise AnalysisError(f"no stationary point: at the best point found the gradient is "
                                f"{grad.tolist()} (the target may decrease without bound)")
        if np.min(np.linalg.eigvalsh(hess)) <= -1e-9 * scale:
            raise AnalysisError("the stationary point is not a minimum (a saddle or maximum)")

    # ---- the two methods
    def analytic(self) -> Optimum | None:
        closed = {}
        T = self.target
        if len(self.free) != 1:
            return None  # systems: left to the numeric path
        v = self.free[0]
        sol = solve_for(sp.diff(T, self.law.symbol(v)), self.law.symbol(v))
        if sol is None:
            return None
        closed[v] = sol
        if self.eliminated is not None:
            closed[self.eliminated] = sp.simplify(self.elim_expr.xreplace({self.law.symbol(v): sol}))
        given = {self.law.symbol(k): sp.Float(x, 17) for k, x in self.at.items()
                 if k in self.law.inputs and k not in self.over}
        solution = {k: e.xreplace(self.psubs).xreplace(given) for k, e in closed.items()}
        try:
            value = float(sol.xreplace(self.psubs).xreplace(self.vsubs))
        except TypeError:
            return None
        if not (math.isfinite(value) and value > 0):
            return None
        return self._complete({v: value}, "analytic", solution, closed)

    def integer(self, continuous: Optimum) -> Optimum:
        """Best integer point near the continuous optimum that meets the budget exactly."""
        import itertools

        T = self._numeric_target()
        axes = [range(max(0, math.floor(continuous.at[v]) - 2), math.ceil(continuous.at[v]) + 3)
                for v in self.free]
        best = None
        for combo in itertools.product(*axes):
            env = {self.law.symbol(v): sp.Integer(c) for v, c in zip(self.free, combo)}
            point = {v: float(c) for v, c in zip(self.free, combo)}
            if self.eliminated is not None:
                x = float(self.elim_expr.xreplace(self.psubs).xreplace(self.vsubs).xreplace(env))
                if not (x >= 0 and abs(x - round(x)) < 1e-9):
                    continue
                point[self.eliminated] = float(round(x))
            value = float(T.xreplace(env))
            if math.isfinite(value) and (best is None or value < best[0]):
                best = (value, point)
        if best is None:
            raise AnalysisError("no integer point near the optimum satisfies the budget")
        value, point = best
        return Optimum("integer", self.target_name, self.over,
                       {**point, **self.at, self.target_name: value})

    def numeric(self) -> Optimum:
        from ..backends.jax import compile_expression
        from ..fitting.solve import minimize

        import jax.numpy as jnp

        T = self._numeric_target()
        xs = [self.law.symbol(v) for v in self.free]
        if not xs:
            return self._complete({}, "numeric")
        node = compile_expression(T)
        names = [x.name for x in xs]

        def fun(u):
            return node({n: jnp.exp(u[i]) for i, n in enumerate(names)})

        axis = np.linspace(-8.0, 50.0, 30)
        U0 = np.array(np.meshgrid(*[axis] * len(xs), indexing="ij")).reshape(len(xs), -1).T
        sol = minimize(lambda u: fun(u), U0, (), keep=32, explore=8)
        f = np.where(np.isfinite(sol.f) & sol.converged, sol.f, np.inf)
        best = int(np.argmin(f))
        if not np.isfinite(f[best]):
            raise AnalysisError("the numeric search found no minimum (non-finite target everywhere)")
        u = sol.u[best]
        if np.any(np.abs(u) > 200):
            raise AnalysisError(f"no stationary point in range: the optimum runs off to "
                                f"{', '.join(n for n, x in zip(self.free, u) if abs(x) > 200)} → 0 or ∞")
        return self._complete({v: float(np.exp(x)) for v, x in zip(self.free, u)}, "numeric")


def frontier(law, budgets: Sequence[float], *, over: Sequence[str], budget: str | None = None,
             budget_name: str | None = None, at: Mapping[str, float] | None = None, values=None,
             method: str = "auto"):
    """Optima over a range of budget values: a DataFrame with one row per budget value."""
    import pandas as pd

    name = budget_name or (parse_budget(law, budget)[0] if budget else next(iter(law.budgets)))
    rows = []
    for c in budgets:
        opt = optimum(law, over=over, budget=budget, at={**(at or {}), name: c}, values=values,
                      method=method)
        rows.append({**opt.at, "method": opt.method})
    return pd.DataFrame(rows)
