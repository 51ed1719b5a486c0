"""The stable-rewrite table, each rule on its own, in both backends, against mpmath."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from lawkit.backends import numpy as npb
from lawkit.backends.jax import compile_expression, double_precision
from lawkit.backends.stable import REWRITES, logsumexp, stabilize

x, k, u = sp.symbols("x k u", positive=True)

# (rule, written, rewritten, point where the written form loses precision)
CASES = [
    ("expm1", 1 - sp.exp(-x), -expm1(-x), {"x": 1e-12}),
    ("expm1", sp.exp(x) - 1, expm1(x), {"x": 3e-14}),
    ("expm1", k - k * sp.exp(-x), -k * expm1(-x), {"x": 1.234e-15, "k": 1e16}),
    ("log1p", sp.log(1 + x), log1p(x), {"x": 1e-15}),
    ("log1p", sp.log(2 + x), sp.log(2) + log1p(x / 2), {"x": 1e-15}),  # (accurate either way)
    ("logsumexp", sp.log(1 + sp.exp(x)), logsumexp(0, x), {"x": 800.0}),
    ("logsumexp", sp.log(sp.exp(x) + sp.exp(u)), logsumexp(x, u), {"x": 900.0, "u": 901.0}),
]


def exact(expr: sp.Expr, env: dict) -> float:
    mpmath.mp.dps = 60
    value = sp.N(expr.subs({sp.Symbol(n, positive=True): sp.Float(v, 60) for n, v in env.items()}),
                 50)
    return float(value)


@pytest.mark.parametrize("rule, written, rewritten, point", CASES,
                         ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_rule_rewrites_and_is_accurate(rule, written, rewritten, point):
    assert rule in REWRITES
    got = REWRITES[rule](written)
    assert got.func == rewritten.func and sorted(map(str, got.args)) == sorted(
        map(str, rewritten.args))
    assert stabilize(written) == got
    truth = exact(written, point)
    got_np = float(npb.evaluate(written, point))
    with double_precision():
        got_jax = float(compile_expression(written)(point))
    assert got_np == pytest.approx(truth, rel=1e-13)
    assert got_jax == pytest.approx(truth, rel=1e-13)
    if rule == "log1p" and written.args[0].as_coeff_Add()[0] != 1:
        return
    # the form as written really does lose precision there (else the case proves nothing)
    naive = sp.lambdify(list(written.free_symbols), written, "math")
    with np.errstate(all="ignore"):
        try:
            raw = naive(*[point[s.name] for s in written.free_symbols])
        except OverflowError:
            raw = math.inf
    assert not abs(raw - truth) <= 1e-8 * abs(truth)


def test_rules_leave_other_expressions_alone():
    for e in (x**2 + 1, sp.exp(x) + x, sp.log(x * u), 3 - 2 * sp.exp(x)):
        assert stabilize(e) == e


def test_nested_law_terms_are_rewritten():
    """The data-constrained law's effective data, inside a power, inside a sum."""
    U, R, Rs, B = sp.symbols("U_D R_D R_star B", positive=True)
    D_eff = U + U * Rs * (1 - sp.exp(-R / Rs))
    L = 1 + B / D_eff**sp.Rational(1, 3)
    env = {"U_D": 1e9, "R_D": 3.0, "R_star": 4e16, "B": 1500.0}
    assert stabilize(L).has(expm1)
    assert float(npb.evaluate(L, env)) == pytest.approx(exact(L, env), rel=1e-13)


def test_logsumexp_derivative():
    d = sp.diff(logsumexp(x, u), x)
    at = {x: sp.Float("0.3"), u: sp.Float("-1.2")}
    assert float(d.subs(at).rewrite(sp.exp)) == pytest.approx(
        float((sp.exp(x) / (sp.exp(x) + sp.exp(u))).subs(at)), rel=1e-14)
