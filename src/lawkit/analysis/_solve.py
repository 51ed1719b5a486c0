"""Symbolic helpers for optima: eliminate a budget, solve stationarity conditions.

Stationarity ``∂T/∂x = 0`` of a power law usually balances two monomials, ``a(x) = b(x)``;
taking logs makes it linear in ``log x`` (the "log trick"), which SymPy solves at once.
Harder systems go to ``sympy.solve`` under a time limit; on failure the caller falls back
to the numeric path.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

import sympy as sp


class _Timeout(Exception):
    pass


@contextmanager
def time_limit(seconds: float):
    """Raise :class:`_Timeout` after ``seconds`` (main thread on Unix only; else no limit)."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def handler(signum, frame):
        raise _Timeout()

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _positive_real(sol: sp.Expr) -> bool:
    """False only when the solution is provably not a positive real."""
    return sol.is_positive is not False and sol.is_real is not False


def solve_for(eq: sp.Expr, x: sp.Symbol, seconds: float = 5.0) -> sp.Expr | None:
    """The unique positive solution of ``eq = 0`` for ``x``, or None."""
    sol = _log_trick(eq, x)
    if sol is not None:
        return sol
    try:
        with time_limit(seconds):
            sols = sp.solve(eq, x, dict=False)
    except (_Timeout, NotImplementedError, ValueError, TypeError):
        return None
    sols = [s for s in sols if _positive_real(s) and not s.has(sp.I)]
    return sols[0] if len(sols) == 1 else None


def _log_trick(eq: sp.Expr, x: sp.Symbol) -> sp.Expr | None:
    """Solve ``t₁ + t₂ = 0`` where each term is a product of powers, via logs."""
    eq = sp.together(sp.expand(eq))
    num = sp.expand(sp.numer(eq))
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
    return sp.exp(sp.simplify(-rest / coeff))
