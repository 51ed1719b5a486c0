"""``law B extends A``: inheritance of inputs, params, terms, budgets and value sets."""

from __future__ import annotations

import sympy as sp

import lawkit
from conftest import ROOT

DESIGN = ROOT / "examples" / "design.law"

BASE = """
law base "Base 2020":
    inputs N "params", D "tokens"
    output L
    params E > 0, A > 0, B > 0, α ∈ (0, 2), β ∈ (0, 2)
    L = E + A/N^α + B/D^β
    budget C = 6·N·D
    values v1: E = 1.69, A = 406.4, B = 410.7, α = 0.34, β = 0.28
"""


def test_child_inherits_and_overrides():
    laws = lawkit.parse(BASE + """
law child extends base "Child 2024":
    inputs P "bits"
    params γ > 0, β = α
    N_eff = N·(1 − e^(−P/γ))
    L = E + A/N_eff^α + B/D^β
    values v1: γ = 2.5
""")
    child = laws["child"]
    assert child.parent == "base" and child.citation == "Child 2024"
    assert list(child.inputs) == ["N", "D", "P"]
    assert child.params["beta"].fixed == child.symbol("alpha")  # overridden: tied
    assert child.budgets["C"] == 6 * child.symbol("N") * child.symbol("D")
    assert child.values["v1"].values["gamma"] == 2.5 and child.values["v1"].values["E"] == 1.69
    assert "N_eff" in child.terms
    # the parent is unchanged
    assert laws["base"].params["beta"].is_free and "P" not in laws["base"].inputs


def test_child_from_library_and_chains():
    laws = lawkit.parse("""
law mid extends chinchilla:
    params E = 1.5
law leaf extends mid:
    inputs P
    params g > 0
    L = E + A/(N*P^g)^α + B/D^β
""")
    leaf = laws["leaf"]
    assert leaf.params["E"].fixed == sp.Rational(3, 2)
    assert "P" in leaf.inputs and leaf.parent == "mid"
    assert leaf.complete_values({"A": 1, "B": 1, "alpha": .3, "beta": .3, "g": 1})["E"] == 1.5


def test_precision_example_from_design_md():
    law = lawkit.load(DESIGN)["precision_train"]
    assert set(law.inputs) == {"N", "D", "P_w", "P_a", "P_kv"}
    assert {"gamma_w", "gamma_a", "gamma_kv"} <= set(law.params)
    f = law.term("N_eff") / law.symbol("N")
    values = {"P_w": 4, "P_a": 8, "P_kv": 16, "gamma_w": 2, "gamma_a": 2, "gamma_kv": 2}
    got = float(f.subs({law.symbol(k): v for k, v in values.items()}))
    expected = (1 - sp.exp(-2)) * (1 - sp.exp(-4)) * (1 - sp.exp(-8))
    assert abs(got - float(expected)) < 1e-12
