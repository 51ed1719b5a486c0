"""Symbolic helpers for optima: eliminate a budget, solve stationarity conditions.

Only forms that SymPy solves in bounded time are tried, so no time limit (and no signal)
is needed; anything else returns ``None`` and the caller takes the numeric path:

* the "log trick": ``∂T/∂x = 0`` of a power law balances two monomials, ``a(x) = b(x)``;
  taking logs makes it linear in ``log x``;
* a polynomial in ``x`` of degree ≤ 2 (≤ 4 with numeric coefficients), by its roots.
"""

from __future__ import annotations

import sympy as sp


def _positive_real(sol: sp.Expr) -> bool:
    """False only when the solution is provably not a positive real."""
    return sol.is_positive is not False and sol.is_real is not False


def solve_for(eq: sp.Expr, x: sp.Symbol) -> sp.Expr | None:
    """The unique positive solution of ``eq = 0`` for ``x``, or None."""
    sol = _log_trick(eq, x)
    if sol is not None:
        return sol
    return _polynomial(eq, x)


def _polynomial(eq: sp.Expr, x: sp.Symbol) -> sp.Expr | None:
    num = sp.numer(sp.together(eq))
    try:
        poly = sp.Poly(num, x)
    except (sp.PolynomialError, sp.GeneratorsNeeded):
        return None
    numeric = all(c.is_number for c in poly.coeffs())
    if not 1 <= poly.degree() <= (4 if numeric else 2):
        return None
    sols = [r for r in sp.roots(poly, x) if _positive_real(r) and not r.has(sp.I)]
    return sols[0] if len(sols) == 1 else None


def _log_trick(eq: sp.Expr, x: sp.Symbol) -> sp.Expr | None:
    """Solve ``t₁ + t₂ = 0`` where each term is a product of powers, via logs."""
    eq = sp.together(sp.expand(eq))
    num = sp.numer(eq)
    # drop factors that cannot vanish for x > 0: constants and powers of x
    factors = [f for f in sp.Mul.make_args(sp.factor_terms(num))
               if f.has(x) and not (f == x or (isinstance(f, sp.Pow) and f.base == x))]
    num = sp.expand(sp.Mul(*factors)) if len(factors) == 1 else sp.expand(num)
    terms = sp.Add.make_args(num)
    if len(terms) != 2:
        return None
    t1, t2 = terms
    a, b = (-t1, t2) if t1.could_extract_minus_sign() else (t1, -t2)  # t1 + t2 = 0 ⇔ a = b
    if b.could_extract_minus_sign():
        return None
    s = sp.Symbol("_logx", real=True)
    lhs = sp.expand_log(sp.log(a), force=True) - sp.expand_log(sp.log(b), force=True)
    lhs = sp.expand(lhs.subs(sp.log(x), s))
    if lhs.has(x) or not lhs.has(s):
        return None
    coeff = lhs.coeff(s)
    rest = sp.expand(lhs - coeff * s)
    if coeff == 0 or rest.has(s):
        return None
    return _as_product(-rest / coeff)


def _as_product(e: sp.Expr) -> sp.Expr:
    """``exp(Σ cᵢ·log fᵢ + k)`` as ``Π fᵢ^cᵢ · e^k`` (no ``simplify``: it may fold a
    coefficient into a power, log(c·log 2) → log(log(2^c)), which overflows)."""
    factors, rest = [], []
    for t in sp.Add.make_args(sp.expand(e)):
        logs = [f for f in sp.Mul.make_args(t) if isinstance(f, sp.log)]
        if len(logs) == 1:
            c = sp.Mul(*[f for f in sp.Mul.make_args(t) if f is not logs[0]])
            factors.append(sp.Pow(logs[0].args[0], c))
        else:
            rest.append(t)
    return sp.Mul(*factors) * sp.exp(sp.Add(*rest))
