"""Numerically stable rewrites, applied to every expression before a backend compiles it.

Each rule replaces a sub-expression that cancels or overflows in floating point by an
equal one that does not (``x`` small, ``k`` any factor, ``cᵢ > 0`` numbers):

=================================  ====================================  ==============
written                            compiled                              why
=================================  ====================================  ==============
``c + k·e^u`` with ``c = −k``      ``k·expm1(u)``                        1 − e^(−x)
``log(c + x)``, number ``c > 0``   ``log(c) + log1p(x/c)``               log(1 + x)
``log(Σ cᵢ·e^(uᵢ))``               ``logsumexp(uᵢ + log cᵢ)``            log(1 + e^x)
=================================  ====================================  ==============

The rules are in :data:`REWRITES` (name → function of one node, returning the rewritten
node or ``None``); :func:`stabilize` applies them bottom-up.  The rewritten expression is
mathematically identical, so SymPy work (derivatives, closed forms) uses the law as written.
"""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p


class logsumexp(sp.Function):
    """log(Σᵢ e^(xᵢ)), evaluated without overflow (``logaddexp`` reductions)."""

    nargs = None

    def fdiff(self, argindex=1):
        return sp.exp(self.args[argindex - 1] - self)

    def _eval_rewrite_as_exp(self, *args, **kwargs):
        return sp.log(sp.Add(*[sp.exp(a) for a in args]))


def _exp_term(term: sp.Expr) -> tuple[sp.Expr, sp.Expr] | None:
    """``k·e^u`` → (k, u), for a term with exactly one exponential factor."""
    if isinstance(term, sp.exp):
        return sp.Integer(1), term.args[0]
    if isinstance(term, sp.Mul):
        exps = [f for f in term.args if isinstance(f, sp.exp)]
        if len(exps) == 1:
            return sp.Mul(*[f for f in term.args if f is not exps[0]]), exps[0].args[0]
    return None


def _expm1(node: sp.Expr) -> sp.Expr | None:
    """``c + k·e^u + rest`` with ``c = −k`` → ``k·expm1(u) + rest``."""
    if not isinstance(node, sp.Add):
        return None
    terms = list(node.args)
    changed = False
    for i, t in enumerate(terms):
        if t is None:
            continue
        found = _exp_term(t)
        if found is None:
            continue
        k, u = found
        for j, other in enumerate(terms):
            if j != i and other is not None and other == -k:
                terms[i], terms[j] = k * expm1(u), None
                changed = True
                break
    if not changed:
        return None
    return sp.Add(*[t for t in terms if t is not None])


def _logsumexp(node: sp.Expr) -> sp.Expr | None:
    """``log(Σ cᵢ·e^(uᵢ))`` (numbers cᵢ > 0, at least one exponential) → ``logsumexp``."""
    if not (isinstance(node, sp.log) and isinstance(node.args[0], sp.Add)):
        return None
    args, n_exp = [], 0
    for t in node.args[0].args:
        if t.is_Number and t.is_positive:
            args.append(sp.log(t))
            continue
        found = _exp_term(t)
        if found is None or not (found[0].is_Number and found[0].is_positive):
            return None
        k, u = found
        args.append(u if k == 1 else u + sp.log(k))
        n_exp += 1
    return logsumexp(*args) if n_exp else None


def _log1p(node: sp.Expr) -> sp.Expr | None:
    """``log(c + x)`` with a number ``c > 0`` → ``log(c) + log1p(x/c)``."""
    if not (isinstance(node, sp.log) and isinstance(node.args[0], sp.Add)):
        return None
    c, rest = node.args[0].as_coeff_Add()
    if not (c.is_Number and c.is_positive) or rest == 0:
        return None
    return log1p(rest) if c == 1 else sp.log(c) + log1p(rest / c)


#: Rules in the order they are tried on each node; the first that applies wins.
REWRITES: dict[str, Callable[[sp.Expr], sp.Expr | None]] = {
    "expm1": _expm1,
    "logsumexp": _logsumexp,
    "log1p": _log1p,
}


def stabilize(expr: sp.Expr) -> sp.Expr:
    """``expr`` with every rule of :data:`REWRITES` applied, innermost nodes first."""
    memo: dict[sp.Basic, sp.Basic] = {}

    def walk(e: sp.Basic) -> sp.Basic:
        if e in memo:
            return memo[e]
        out = e
        if e.args and not e.is_Atom:
            new = tuple(walk(a) for a in e.args)
            out = e.func(*new) if new != e.args else e
            for rule in REWRITES.values():
                rewritten = rule(out)
                if rewritten is not None:
                    out = rewritten
                    break
        memo[e] = out
        return out

    return walk(expr)
