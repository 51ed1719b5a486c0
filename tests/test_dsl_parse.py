"""Law text → SymPy: ASCII and Unicode spellings, precedence, functions, declarations."""

from __future__ import annotations

import math

import pytest
import sympy as sp

import lawkit
from helpers import law_of

N, D, P = (sp.Symbol(n, positive=True) for n in "NDP")
A, B, E, alpha, beta, gamma = (sp.Symbol(n, positive=True) for n in
                               ("A", "B", "E", "alpha", "beta", "gamma"))
x = sp.Symbol("x", real=True)

# (right-hand side as written, expected SymPy); params A, B, E, α, β, γ > 0 and x real
TEXT_TO_SYMPY = [
    ("E + A/N^α + B/D^β", E + A * N**-alpha + B * D**-beta),
    ("E + A/N**alpha + B/D**beta", E + A * N**-alpha + B * D**-beta),
    ("A·N^(−α) + B×D^(−β) + E", E + A * N**-alpha + B * D**-beta),
    ("A*N^-alpha", A * N**-alpha),
    ("1 − e^(−P/γ)", 1 - sp.exp(-P / gamma)),
    ("1 - exp(-P/gamma)", 1 - sp.exp(-P / gamma)),
    ("1 - e^-P", 1 - sp.exp(-P)),
    ("-x^2", -(x**2)),
    ("2^3^x", 2 ** (3**x)),
    ("x - 1 - 2", x - 3),
    ("12/4/3", sp.Integer(1)),
    ("6/16·N·D·P", sp.Rational(3, 8) * N * D * P),
    ("1e-3*x + 2.5E2", sp.Rational(1, 1000) * x + 250),
    ("log2(N)", sp.log(N) / sp.log(2)),
    ("log(N, 10) - log10(N)", sp.Integer(0)),
    ("ln(N) - log(N)", sp.Integer(0)),
    ("sqrt(N)", sp.sqrt(N)),
    ("abs(x)", sp.Abs(x)),
    ("min(N, D)", sp.Min(N, D)),
    ("max(N, D, P)", sp.Max(N, D, P)),
    ("log1p(x)", sp.log(1 + x)),
    ("expm1(x)", sp.exp(x) - 1),
    ("sigmoid(x)", 1 / (1 + sp.exp(-x))),
    ("softplus(x)", sp.log(1 + sp.exp(x))),
    ("pi*x", sp.pi * x),
    ("(A\n  + B)", A + B),
    ("A +\n  B", A + B),
]


@pytest.mark.parametrize("rhs, expected", TEXT_TO_SYMPY)
def test_text_to_sympy(rhs, expected):
    law = law_of(f"""
        inputs N, D, P
        params A > 0, B > 0, E > 0, α > 0, β > 0, γ > 0, x
        L = {rhs}
    """)
    assert sp.simplify(law.expr - expected) == 0


def test_special_sympy_names_are_plain_symbols():
    law = law_of("""
        inputs N, S, I, E
        params beta > 0, gamma > 0, Q
        L = N + S + I + E + beta + gamma + Q
    """)
    assert all(isinstance(s, sp.Symbol) for s in law.expr.free_symbols)
    assert {s.name for s in law.expr.free_symbols} == {"N", "S", "I", "E", "beta", "gamma", "Q"}


def test_e_is_a_name_when_declared():
    law = law_of("""
        inputs N
        params e, a
        L = exp(e) + a*N
    """)
    assert sp.Symbol("e", real=True) in law.expr.free_symbols


def test_greek_names_canonical_ascii_and_latex_keeps_greek():
    law = law_of("""
        inputs P_w
        params γ_w > 0, ε > 0, δ > 0, ν > 0
        L = 1 - e^(-P_w/γ_w) + ε + δ + ν
    """)
    assert set(law.params) == {"gamma_w", "epsilon", "delta", "nu"}
    assert r"\gamma_{w}" in law.latex() and r"\epsilon" in law.latex()


def test_ascii_and_unicode_spellings_are_the_same_law():
    uni = lawkit.parse("""
law u:
    inputs N, P
    params α ∈ (0, 2), γ ≥ 1
    N_eff = N·(1 − e^(−P/γ))
    L = N_eff^(−α)
""")["u"]
    asc = lawkit.parse("""
law u:
    inputs N, P
    params alpha in (0, 2), gamma >= 1
    N_eff = N*(1 - exp(-P/gamma))
    L = N_eff**(-alpha)
""")["u"]
    assert uni.to_dict() == asc.to_dict()


def test_param_declarations():
    law = law_of("""
        inputs N
        params a > 0, b >= 1, c < 3, d <= 4, f in [0, 1], g ∈ (0, 1], 0 < h < 1
        params k = 2.5, m = a, n ~ 7, q > 0 ≈ 3, r in (-inf, 0), s > -∞
        L = a + b + c + d + f + g + h + k + m + n + q + r + s + N
    """)
    p = law.params
    assert (p["a"].lower, p["a"].lower_open, p["a"].upper) == (0, True, math.inf)
    assert (p["b"].lower, p["b"].lower_open) == (1, False)
    assert (p["c"].upper, p["c"].upper_open, p["d"].upper_open) == (3, True, False)
    assert (p["f"].lower, p["f"].upper, p["f"].lower_open, p["f"].upper_open) == (0, 1, False, False)
    assert (p["g"].lower_open, p["g"].upper_open) == (True, False)
    assert (p["h"].lower, p["h"].upper) == (0, 1)
    assert p["k"].fixed == sp.Rational(5, 2) and not p["k"].is_free
    assert p["m"].fixed == p["a"].symbol
    assert p["n"].init == 7 and p["q"].init == 3
    assert (p["r"].lower, p["r"].upper) == (-math.inf, 0)
    assert p["s"].lower == -math.inf
    assert "k" not in law.free_params and "m" not in law.free_params
    inside = {"b": 1.0, "r": -0.5}  # every other free parameter admits 0.5
    assert law.complete_values({n: inside.get(n, 0.5) for n in law.free_params})["m"] == 0.5


def test_terms_consts_budgets_values():
    law = law_of("""
        inputs N, D, P
        output L "loss"
        params A > 0, α > 0, γ > 0
        consts k = 6/16
        f = 1 - e^(-P/γ)
        N_eff = N*f^3
        L = A/N_eff^α
        budget C = k·N·D·P
        values paper "Table 2": A = exp(1), α = 0.5,
               γ = 2
    """)
    assert set(law.terms) == {"f", "N_eff"}
    assert law.term("N_eff") == N * (1 - sp.exp(-P / gamma)) ** 3
    assert law.budget("C") == sp.Float(0.375) * N * D * P
    assert law.values["paper"].citation == "Table 2"
    assert law.values["paper"].values == {"A": pytest.approx(math.e), "alpha": 0.5, "gamma": 2.0}
    assert law.output.description == "loss"


def test_output_inferred_when_not_declared():
    law = law_of("""
        inputs N
        params a
        T = a*N
        Y = T + 1
    """)
    assert law.output.name == "Y" and set(law.terms) == {"T"}


def test_evaluate_and_derivatives():
    law = lawkit.load("chinchilla")["chinchilla"]
    assert float(law.evaluate("hoffmann2022", N=70e9, D=1.4e12)) == pytest.approx(1.93665, abs=1e-5)
    dL = law.diff("N")
    assert sp.simplify(dL + law.symbol("A") * law.symbol("alpha") * N ** (-law.symbol("alpha") - 1)) == 0
    assert sp.simplify(law.elasticity("N") * law.expr + law.symbol("alpha") * law.symbol("A")
                       * N ** -law.symbol("alpha")) == 0
