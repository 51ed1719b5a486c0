"""NumPy evaluation of SymPy expressions: the reference evaluator."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import scipy.special
import sympy as sp

from ._walk import compile_expr, table_for

TABLE = table_for(np, scipy.special)


def evaluate(expr: sp.Expr, env: Mapping[str, np.ndarray]) -> np.ndarray:
    """Value of ``expr`` with symbols taken from ``env`` by name (arrays broadcast)."""
    with np.errstate(all="ignore"):
        return np.asarray(compile_expr(expr, TABLE, np)(env), dtype=float)
