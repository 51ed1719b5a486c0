"""Iso-output: the value of one input at which a law reaches a given output.

    solve x:  f(x; other inputs, params) = target

Closed form when SymPy finds one (power laws: the log trick), else a bracketed root
search (scipy ``brentq`` over log x); the result says which.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import sympy as sp

from ..errors import AnalysisError
from ._solve import solve_for
from .optimum import _param_values


def solve_input(law, var: str, target: float, *, at: Mapping[str, float] | None = None,
                values=None, output: str | None = None, bracket=(1e-30, 1e30)) -> dict:
    """``{"method", var: value, "solution": closed form or None}`` with law(var) = target."""
    if var not in law.inputs:
        raise AnalysisError(f"{var!r} is not an input of law {law.name!r} (inputs: {', '.join(law.inputs)})")
    expr = law.expr if output in (None, law.output.name) else law.term(output)
    at = dict(at or {})
    missing = sorted(s.name for s in expr.free_symbols
                     if s.name in law.inputs and s.name != var and s.name not in at)
    if missing:
        raise AnalysisError(f"missing values for input(s) {', '.join(missing)}")
    params = _param_values(law, values)
    subs = {law.symbol(k): sp.Float(v, 17) for k, v in {**params, **at}.items()}
    x = law.symbol(var)
    closed = solve_for(expr - sp.Symbol("_target", real=True), x)
    if closed is not None:
        try:
            value = float(closed.xreplace(subs).subs(sp.Symbol("_target", real=True), target))
        except TypeError:  # complex: no real solution there; the bracketed search says so
            value = math.nan
        if math.isfinite(value) and value > 0:
            return {"method": "analytic", var: value,
                    "solution": closed.xreplace(subs).subs(sp.Symbol("_target", real=True), target)}
    from scipy.optimize import brentq

    from ..backends.numpy import evaluate

    env = {**params, **at}

    def h(t: float) -> float:
        return float(evaluate(expr, {**env, var: math.exp(t)})) - target

    lo, hi = math.log(bracket[0]), math.log(bracket[1])
    grid = np.linspace(lo, hi, 400)
    vals = np.array([h(t) for t in grid])
    sign = np.flatnonzero(np.isfinite(vals[:-1]) & np.isfinite(vals[1:]) & (np.sign(vals[:-1]) != np.sign(vals[1:])))
    if len(sign) == 0:
        raise AnalysisError(f"no {var} in [{bracket[0]:g}, {bracket[1]:g}] gives {target:g}")
    i = sign[0]
    t = brentq(h, grid[i], grid[i + 1], xtol=1e-14, rtol=1e-14)
    return {"method": "numeric", var: math.exp(t), "solution": None}


def iso_curve(law, var: str, target: float, *, along: str, points, at=None, values=None):
    """Iso-output curve: for each value of input ``along``, the ``var`` that gives ``target``
    (e.g. the (N, D) pairs with loss 2.0).  Returns a DataFrame with columns along, var."""
    import pandas as pd

    rows = []
    for p in points:
        sol = solve_input(law, var, target, at={**(at or {}), along: float(p)}, values=values)
        rows.append({along: float(p), var: sol[var]})
    return pd.DataFrame(rows)
