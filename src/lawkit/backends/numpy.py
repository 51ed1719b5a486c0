"""NumPy evaluation of SymPy expressions: the reference evaluator."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import scipy.special
import sympy as sp

from ._walk import compile_expr, table_for

TABLE = table_for(np, scipy.special, "numpy")


def compile_expression(expr: sp.Expr):
    """``expr`` → ``f(env)`` over NumPy arrays (float64, no warnings on overflow)."""
    node = compile_expr(expr, TABLE, np, "numpy")

    def f(env):
        with np.errstate(all="ignore"):
            return np.asarray(node(env), dtype=float)
    return f


def evaluate(expr: sp.Expr, env: Mapping[str, np.ndarray]) -> np.ndarray:
    """Value of ``expr`` with symbols taken from ``env`` by name (arrays broadcast)."""
    return compile_expression(expr)(env)
