"""The tree walk shared by the backends (after sympy2jax): a table maps each SymPy head to
an array function; the walk builds a closure per node, memoised so shared subexpressions
are built once.  No source code is generated and nothing is ``exec``'d.

Every expression is first passed through :func:`~lawkit.backends.stable.stabilize`, so each
backend computes ``1 − e^(−x)``, ``log(1 + x)`` and ``log(Σ e^u)`` without cancellation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import reduce
from types import ModuleType

import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from . import registry
from .stable import logsumexp, stabilize

Env = Mapping[str, object]
Node = Callable[[Env], object]


def table_for(xp: ModuleType, special: ModuleType, backend: str) -> dict[type, Callable]:
    """Head → function over already-evaluated arguments, for array module ``xp``.

    Heads registered through :func:`lawkit.register_function` are looked up at compile
    time (see :func:`lookup`), so a registration after import still reaches the backend.
    """
    return {
        sp.Add: lambda *a: reduce(xp.add, a),
        sp.Mul: lambda *a: reduce(xp.multiply, a),
        sp.Pow: xp.power,
        sp.exp: xp.exp,
        sp.log: xp.log,
        expm1: xp.expm1,
        log1p: xp.log1p,
        logsumexp: lambda *a: reduce(xp.logaddexp, a),
        sp.Abs: xp.abs,
        sp.Min: lambda *a: reduce(xp.minimum, a),
        sp.Max: lambda *a: reduce(xp.maximum, a),
        sp.tanh: xp.tanh,
        sp.sqrt: xp.sqrt,
        sp.erf: special.erf,
    }


def lookup(e: sp.Basic, table: Mapping[type, Callable], backend: str) -> Callable | None:
    head = type(e)
    if head in table:
        return table[head]
    return registry.for_backend(backend).get(head)


def compile_expr(expr: sp.Expr, table: Mapping[type, Callable], xp: ModuleType,
                 backend: str, positive: frozenset[str] = frozenset()) -> Node:
    """``expr`` → ``f(env)`` where ``env`` maps symbol names to arrays.

    ``positive`` names symbols the caller guarantees > 0 (a fit's checked data columns):
    ``x^p`` with such a base and a non-numeric exponent is computed as ``e^(p·log x)``,
    so ``log x`` of the data is shared by every evaluation and derivative instead of
    recomputed inside ``pow`` (half the time of a Chinchilla fit).
    """
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
        elif (isinstance(e, sp.Pow) and isinstance(e.base, sp.Symbol)
              and e.base.name in positive and not e.exp.is_Number):
            log_base, power = walk(sp.log(e.base, evaluate=False)), walk(e.exp)
            node = lambda env: xp.exp(power(env) * log_base(env))  # noqa: E731
        elif isinstance(e, sp.Pow) and e.exp == -1:
            base = walk(e.base)
            node = lambda env: 1.0 / base(env)  # noqa: E731
        else:
            fn = lookup(e, table, backend)
            if fn is None:
                from ..errors import LawkitError

                raise LawkitError(f"no {backend} implementation of {type(e).__name__} "
                                  f"(in {e}); register one with lawkit.register_function("
                                  f"..., numpy=..., jax=...)")
            args = [walk(a) for a in e.args]
            node = lambda env: fn(*(a(env) for a in args))  # noqa: E731
        memo[e] = node
        return node

    return walk(stabilize(expr))


def heads(expr: sp.Basic) -> set[type]:
    """Every function head in ``expr`` that a backend must translate."""
    out = set()
    for e in sp.preorder_traversal(expr):
        if e.args and not isinstance(e, (sp.Symbol, sp.Number)):
            out.add(type(e))
    return out
