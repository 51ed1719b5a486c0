"""Optima from published constants: the papers' own derived numbers, analytic = numeric."""

from __future__ import annotations

import json

import numpy as np
import pytest
import sympy as sp

import lawkit
from helpers import law_of
from lawkit.analysis import frontier, optimum
from lawkit.cli import main

LIB = {name: lawkit.load(name) for name in ("chinchilla", "precision", "fp_quant")}


def both(law, **kw):
    """Optimum by both methods; they must agree to 1e-6 relative on every coordinate."""
    a = optimum(law, method="analytic", **kw)
    n = optimum(law, method="numeric", **kw)
    assert a.method == "analytic" and n.method == "numeric"
    for k in a.at:
        assert n.at[k] == pytest.approx(a.at[k], rel=1e-6), k
    return a


def test_chinchilla_allocation_hoffmann_rounded():
    """Factsheet check 1: N* = 3.249e10, D* = 3.016e12 at C = 5.88e23; exponent a = 0.45161."""
    law = LIB["chinchilla"]["chinchilla"]
    o = both(law, over=["N", "D"], budget="C = 6*N*D", at={"C": 5.88e23}, values="hoffmann2022")
    assert o.at["N"] == pytest.approx(3.249e10, rel=1e-3)
    assert o.at["D"] == pytest.approx(3.016e12, rel=1e-3)
    C = law.symbol("C")  # closed forms are in the law's own symbols
    exponent = sp.log(o.solution["N"].subs(C, sp.E)) - sp.log(o.solution["N"].subs(C, 1))
    assert float(exponent) == pytest.approx(0.45161, abs=1e-5)
    # the closed form is Chinchilla's G·(C/6)^(β/(α+β)) with G = (αA/(βB))^(1/(α+β))
    A, B, a, b = (law.symbol(n) for n in ("A", "B", "alpha", "beta"))
    G = (a * A / (b * B)) ** (1 / (a + b))
    expected = G * (C / 6) ** (b / (a + b))
    vals = {law.symbol(k): v for k, v in law.value_set("hoffmann2022").items()}
    for c in (1e20, 5.88e23):
        assert float(o.closed_form["N"].subs(vals).subs(C, c)) == pytest.approx(
            float(expected.subs(vals).subs(C, c)), rel=1e-12)


def test_chinchilla_epoch_tokens_per_parameter():
    """Factsheet check 2 / issue: Epoch's constants give D/N = 18.38 at C = 5.88e23."""
    o = both(LIB["chinchilla"]["chinchilla"], over=["N", "D"], at={"C": 5.88e23},
             values="besiroglu2024")
    assert o.at["D"] / o.at["N"] == pytest.approx(18.38, abs=0.01)


@pytest.mark.parametrize("alpha, beta, C", [(0.4965, 0.4965, 1e20), (0.3, 0.5, 1e23), (0.6, 0.2, 1e18)])
def test_compute_optimal_precision_is_1_9038_gamma(alpha, beta, C):
    """Kumar et al. Eq. 5 with N_eff = N(1 − e^(−P/γ))^3, C = (6/16)NDP: P* = 1.90381·γ for any
    α, β, C (the clean first-order condition 3u·e^(−u) = 1 − e^(−u))."""
    law = law_of("""
        inputs N, D, P
        params A > 0, B > 0, E > 0, α > 0, β > 0, γ > 0
        N_eff = N·(1 − e^(−P/γ))^3
        L = A/N_eff^α + B/D^β + E
        budget C = 6/16·N·D·P
    """)
    gamma = 2.3
    o = optimum(law, over=["N", "D", "P"], at={"C": C},
                values={"A": 4299, "B": 18060, "E": 2.7648, "alpha": alpha, "beta": beta, "gamma": gamma})
    u = sp.nsolve(3 * sp.Symbol("u") * sp.exp(-sp.Symbol("u")) - 1 + sp.exp(-sp.Symbol("u")), 1.9)
    assert o.at["P"] / gamma == pytest.approx(float(u), rel=1e-6)
    assert float(u) == pytest.approx(1.90381, abs=1e-5)


def test_precision_paper_p_star_with_and_without_offsets():
    """Factsheet check 4: 7.00 bits with offsets read as 1 − e^(n − P/γ); 3.47 without."""
    law = LIB["precision"]["kumar_compute"]
    with_offsets = optimum(law, over=["N", "D", "P"], at={"C": 1e21}, values="kumar2024")
    without = optimum(law, over=["N", "D", "P"], at={"C": 1e21}, values="kumar2024_no_offsets")
    assert with_offsets.at["P"] == pytest.approx(7.00, abs=0.05)
    assert without.at["P"] == pytest.approx(3.47, abs=0.05)


def test_precision_paper_ptq_and_critical_data_size():
    """Factsheet check 3: δ_PTQ(3e7, 2.6e10, 4) = 0.0349; D_crit (Eq. 13) = 8.86e10 tokens;
    L_BF16(3e7, 1.5e9) = 4.1005."""
    law = LIB["precision"]["kumar_ptq"]
    v = law.value_set("kumar2024")
    delta = law.term("delta_PTQ").subs({law.symbol(k): x for k, x in {**v, "N": 3e7, "D": 2.6e10,
                                                                        "P_post": 4}.items()})
    assert float(delta) == pytest.approx(0.0349, abs=5e-5)
    base = LIB["precision"]["kumar_base"]
    assert float(base.evaluate("kumar2024", N=3e7, D=1.5e9)) == pytest.approx(4.1005, abs=1e-4)
    o = both(law, over=["D"], at={"N": 3e7, "P_post": 4}, values="kumar2024")
    assert o.at["D"] == pytest.approx(8.86e10, rel=2e-3)
    # Eq. 13 in closed form, from the paper
    b, B, gN, gD, CT, gp = (v[k] for k in ("beta", "B", "gamma_N", "gamma_D", "C_T", "gamma_post"))
    eq13 = (b * B * 3e7**gN * np.exp(4 / gp) / (gD * CT)) ** (1 / (gD + b))
    assert o.at["D"] == pytest.approx(eq13, rel=1e-9)


def test_fp_paper_optimal_layouts():
    """Sun et al. Fig. 4: the integer-optimal E/M split for 1..16 bits."""
    law = LIB["fp_quant"]["fp_quant"]
    table = ["E0M0", "E1M0", "E1M1", "E2M1", "E2M2", "E3M2", "E3M3", "E4M3", "E4M4", "E5M4",
             "E5M5", "E6M5", "E6M6", "E7M6", "E7M7", "E8M7"]
    got = []
    for P in range(1, 17):
        o = optimum(law, over=["E", "M"], integer=True, at={"P": P, "N": 1e9, "D": 1e12, "B": 128},
                    values="sun2025")
        got.append(f"E{o.at['E']:.0f}M{o.at['M']:.0f}")
    assert got == table
    cont = both(law, over=["E", "M"], at={"P": 8, "N": 1e9, "D": 1e12, "B": 128}, values="sun2025")
    assert cont.at["M"] == pytest.approx(2.9543 * 8 / (3.1926 + 2.9543) - 0.5, rel=1e-9)  # Eq. 19


@pytest.mark.parametrize("E, M, tokens", [(8, 7, 1.73e15), (4, 3, 2.73e13), (2, 1, 3.93e11)])
def test_fp_paper_critical_data_size(E, M, tokens):
    """Sun et al. §4.3: 1B model, B = 128: 1730T (BF16), 27T (E4M3), 0.4T (E2M1)."""
    o = both(LIB["fp_quant"]["fp_quant"], over=["D"], at={"N": 1e9, "E": E, "M": M, "B": 128},
             values="sun2025")
    assert o.at["D"] == pytest.approx(tokens, rel=2e-3)


def test_frontier_matches_closed_form():
    law = LIB["chinchilla"]["chinchilla"]
    table = frontier(law, [1e20, 1e22, 1e24], over=["N", "D"], values="hoffmann2022")
    a = 0.28 / 0.62
    ratio = table["N"].to_numpy()[1:] / table["N"].to_numpy()[:-1]
    assert np.allclose(ratio, 100**a, rtol=1e-9)


@pytest.mark.parametrize("kwargs, message", [
    (dict(over=["X"], at={"C": 1}), "over: 'X' is not an input"),
    (dict(over=["N", "D"], budget="C = 6*N*D"), "give the budget's value: at={'C': ...}"),
    (dict(over=["N"], budget="C = 6*D", at={"C": 1e20}), "does not mention any"),
    (dict(over=["N"]), "missing values for input(s) D"),
    (dict(over=["N"], at={"D": 1e10}), "no stationary point"),
])
def test_optimum_errors(kwargs, message):
    with pytest.raises(lawkit.AnalysisError) as info:
        optimum(LIB["chinchilla"]["chinchilla"], values="hoffmann2022", **kwargs)
    assert message in str(info.value)


def test_cli_optimum_json_contract(tmp_path, capsys):
    assert main(["optimum", "chinchilla", "--values", "hoffmann2022", "--minimize", "L",
                 "--over", "N,D", "--budget", "C = 6*N*D", "--at", "C=5.88e23", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["method"] == "analytic"
    assert data["at"]["N"] == pytest.approx(3.249e10, rel=1e-3) and data["at"]["C"] == 5.88e23
    assert "L" in data["at"] and set(data["solution"]) == {"N", "D"}
    assert "C**" in data["solution"]["N"]
    # --values from a fit result
    fit_json = tmp_path / "fit.json"
    fit_json.write_text(json.dumps({"params": {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34,
                                               "beta": 0.28}}))
    assert main(["optimum", "chinchilla", "--values", str(fit_json), "--over", "N,D",
                 "--at", "C=5.88e23", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["at"]["D"] == pytest.approx(3.016e12, rel=1e-3)


def test_optimum_distribution_from_bootstrap():
    from lawkit.analysis import optimum_distribution
    from lawkit.examples import path

    law = LIB["chinchilla"]["chinchilla"]
    fit = lawkit.fit(law, path(), bootstrap=60, seed=3)
    dist = optimum_distribution(law, fit, over=["N", "D"], at={"C": 1e22})
    lo, hi = dist.ci["N"]
    assert lo < dist.estimate["N"] < hi
    assert len(dist.samples["N"]) == 60
    # each sample obeys the budget: 6·N·D = C
    ok = np.isfinite(dist.samples["N"])
    assert ok.sum() >= 55
    assert np.allclose(6 * dist.samples["N"][ok] * dist.samples["D"][ok], 1e22, rtol=1e-9)


def test_iso_loss_curve_stays_on_the_level_set():
    from lawkit.analysis import iso_curve, solve_input

    law = LIB["chinchilla"]["chinchilla"]
    curve = iso_curve(law, "D", 2.0, along="N", points=[3e10, 1e11, 1e12], values="hoffmann2022")
    losses = law.evaluate("hoffmann2022", N=curve["N"].to_numpy(), D=curve["D"].to_numpy())
    assert np.allclose(losses, 2.0, rtol=1e-12)
    assert (np.diff(curve["D"]) < 0).all()  # bigger models need fewer tokens for the same loss
    with pytest.raises(lawkit.AnalysisError, match="no D"):
        solve_input(law, "D", 1.0, at={"N": 1e9}, values="hoffmann2022")  # below E = 1.69
