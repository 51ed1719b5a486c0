"""The tree walk shared by the backends (after sympy2jax): a table maps each SymPy head to
an array function; the walk builds a closure per node, memoised so shared subexpressions
are built once.  No source code is generated and nothing is ``exec``'d."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import reduce
from types import ModuleType

import sympy as sp

Env = Mapping[str, object]
Node = Callable[[Env], object]


def table_for(xp: ModuleType, special: ModuleType) -> dict[type, Callable]:
    """Head → function over already-evaluated arguments, for array module ``xp``."""
    return {
        sp.Add: lambda *a: reduce(xp.add, a),
        sp.Mul: lambda *a: reduce(xp.multiply, a),
        sp.Pow: xp.power,
        sp.exp: xp.exp,
        sp.log: xp.log,
        sp.Abs: xp.abs,
        sp.Min: lambda *a: reduce(xp.minimum, a),
        sp.Max: lambda *a: reduce(xp.maximum, a),
        sp.tanh: xp.tanh,
        sp.sqrt: xp.sqrt,
        sp.erf: special.erf,
    }


def compile_expr(expr: sp.Expr, table: Mapping[type, Callable], xp: ModuleType) -> Node:
    """``expr`` → ``f(env)`` where ``env`` maps symbol names to arrays."""
    memo: dict[sp.Basic, Node] = {}

    def walk(e: sp.Basic) -> Node:
        if e in memo:
            return memo[e]
        if isinstance(e, sp.Symbol):
            name = e.name
            node = lambda env: env[name]  # noqa: E731
        elif e.is_Number or isinstance(e, sp.NumberSymbol):
            value = float(e)
            node = lambda env: value  # noqa: E731
        elif isinstance(e, sp.Pow) and e.exp == sp.Rational(1, 2):
            base = walk(e.base)
            node = lambda env: xp.sqrt(base(env))  # noqa: E731
        elif isinstance(e, sp.Pow) and e.exp == -1:
            base = walk(e.base)
            node = lambda env: 1.0 / base(env)  # noqa: E731
        else:
            fn = next((f for head, f in table.items() if type(e) is head), None)
            if fn is None:
                raise NotImplementedError(f"no numeric translation for SymPy {type(e).__name__}")
            args = [walk(a) for a in e.args]
            node = lambda env: fn(*(a(env) for a in args))  # noqa: E731
        memo[e] = node
        return node

    return walk(expr)
