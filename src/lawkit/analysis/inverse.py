"""Iso-output: the value of one input at which a law reaches a given output.

    solve x:  f(x; other inputs, params) = target

Closed form when SymPy finds one (power laws: the log trick), else a bracketed root
search (scipy ``brentq`` over log x); the result says which.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..errors import AnalysisError
from ._solve import solve_for
from ._values import param_values


@dataclass(frozen=True, kw_only=True)
class InputSolution:
    """``variable = value`` makes the law reach the target; ``method`` is "analytic" (with the
    closed form in ``solution``) or "numeric" (a bracketed root search)."""

    method: str
    variable: str
    value: float
    solution: sp.Expr | None = None


_TARGET = sp.Symbol("_target", real=True)
_CLOSED: dict = {}


def _closed_form(law, var: str, output: str | None, expr: sp.Expr):
    """``var`` as a function of ``_target``, the other inputs and the parameters (cached)."""
    key = (law.fingerprint, var, output)
    if key not in _CLOSED:
        _CLOSED[key] = solve_for(expr - _TARGET, law.symbol(var))
    return _CLOSED[key]


def _prepare(law, var, at, values, output):
    if var not in law.inputs:
        raise AnalysisError(f"{var!r} is not an input of law {law.name!r} "
                            f"(inputs: {', '.join(law.inputs)})")
    expr = law.expr if output in (None, law.output.name) else law.term(output)
    missing = sorted(s.name for s in expr.free_symbols
                     if s.name in law.inputs and s.name != var and s.name not in at)
    if missing:
        raise AnalysisError(f"missing values for input(s) {', '.join(missing)}")
    return expr, param_values(law, values)


def solve_input(law, var: str, target: float, *, at: Mapping[str, float] | None = None,
                values=None, output: str | None = None,
                bracket=(1e-30, 1e30)) -> InputSolution:
    """The value of input ``var`` at which the law (or term ``output``) equals ``target``."""
    at = {k: float(v) for k, v in (at or {}).items()}
    expr, params = _prepare(law, var, at, values, output)
    closed = _closed_form(law, var, output, expr)
    if closed is not None:
        from ..backends.numpy import evaluate

        value = float(evaluate(closed, {**params, **at, "_target": target}))
        if math.isfinite(value) and value > 0:
            subs = {law.symbol(k): sp.Float(v, 17) for k, v in {**params, **at}.items()}
            return InputSolution(method="analytic", variable=var, value=value,
                                 solution=closed.xreplace(subs).xreplace(
                                     {_TARGET: sp.Float(target, 17)}))
    return _bracketed(law, var, target, expr, {**params, **at}, bracket)


def _bracketed(law, var, target, expr, env, bracket) -> InputSolution:
    """Root of f(e^t) − target on a log grid over ``bracket``, refined by ``brentq``."""
    from scipy.optimize import brentq

    from ..backends.numpy import compile_expression

    f = compile_expression(expr)
    lo, hi = math.log(bracket[0]), math.log(bracket[1])
    grid = np.linspace(lo, hi, 400)
    vals = f({**env, var: np.exp(grid)}) * np.ones_like(grid) - target

    def h(t: float) -> float:
        return float(f({**env, var: math.exp(t)})) - target

    sign = np.flatnonzero(np.isfinite(vals[:-1]) & np.isfinite(vals[1:])
                          & (np.sign(vals[:-1]) != np.sign(vals[1:])))
    if len(sign) == 0:
        raise AnalysisError(f"no {var} in [{bracket[0]:g}, {bracket[1]:g}] gives {target:g}")
    i = sign[0]
    t = brentq(h, grid[i], grid[i + 1], xtol=1e-14, rtol=1e-14)
    return InputSolution(method="numeric", variable=var, value=math.exp(t))


def iso_curve(law, var: str, target: float, *, along: str, points, at=None, values=None,
              output: str | None = None):
    """Iso-output curve: for each value of input ``along``, the ``var`` that gives ``target``
    (e.g. the (N, D) pairs with loss 2.0).  Returns a DataFrame with columns along, var.
    The closed form, when there is one, is solved once and evaluated on all points."""
    import pandas as pd

    from ..backends.numpy import evaluate

    points = np.asarray(points, dtype=float)
    at = {k: float(v) for k, v in (at or {}).items()}
    expr, params = _prepare(law, var, {**at, along: 1.0}, values, output)
    closed = _closed_form(law, var, output, expr)
    vals = np.full(len(points), np.nan)
    if closed is not None:
        vals = evaluate(closed, {**params, **at, along: points, "_target": target}) * np.ones(
            len(points))
    for i in np.flatnonzero(~(np.isfinite(vals) & (vals > 0))):
        vals[i] = _bracketed(law, var, target, expr, {**params, **at, along: points[i]},
                             (1e-30, 1e30)).value
    return pd.DataFrame({along: points, var: vals})
