"""lawkit.validate: synthetic laws with a known answer, the JSON contract, errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import lawkit
from lawkit.cli import main
from lawkit.validation import ValidationError, validate

QAT = lawkit.parse("""
law qat extends chinchilla "weight-only QAT":
    inputs P_w "weight bits"
    params γ_w > 0
    N_eff = N·(1 − e^(−P_w/γ_w))
    L = E + A/N_eff^α + B/D^β
""")["qat"]
GAMMA = 2.67


def synth(kind: str, seed: int = 0, noise: float = 0.003) -> pd.DataFrame:
    """Four sizes × four token counts × six precisions × two seeds, from a known law."""
    rng = np.random.default_rng(seed)
    rows = []
    for N in (2e4, 5e4, 1e5, 2e5):
        for D in (1e5, 4e5, 1.6e6, 6.4e6):
            for P in (2, 3, 4, 6, 8, 16):
                for s in range(2):
                    if kind == "neff":
                        L = 1.2 + 30 / (N * (1 - np.exp(-P / GAMMA))) ** 0.3 + 40 / D ** 0.28
                    else:  # the same loss scale as an additive penalty, no N dependence
                        L = 1.2 + 30 / N ** 0.3 + 40 / D ** 0.28 + 0.3 * np.exp(-P / 1.5) * (P < 16)
                    rows.append({"N": N, "D": D, "P_w": P, "seed": s,
                                 "L": L * np.exp(rng.normal(0, noise))})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def consistent():
    return validate(QAT, synth("neff"), term="N_eff", bootstrap=40)


def test_true_form_is_consistent_and_recovers_gamma(consistent):
    v = consistent
    assert v.verdict == "consistent"
    lo, hi = v.params["gamma_w"]["ci"]
    assert lo < GAMMA < hi
    assert v.test.p_value >= 0.05
    assert v.n_trend["ci"][0] <= 0 <= v.n_trend["ci"][1]
    for g in v.groups:  # measured N_eff/N matches 1 − e^(−P/γ)
        assert g.measured == pytest.approx(1 - np.exp(-g.key["P_w"] / GAMMA), abs=0.02)
        assert g.measured_ci[0] <= g.measured <= g.measured_ci[1]


def test_additive_penalty_deviates():
    v = validate(QAT, synth("additive"), term="N_eff", bootstrap=30)
    assert v.verdict == "deviates"
    assert v.n_trend["ci"][1] < 0  # the measured N_eff/N falls with N: not multiplicative


def test_json_contract_exact_keys(consistent):
    d = consistent.to_dict()
    assert list(d) == ["law", "term", "reference", "by", "params", "groups", "verdict", "test",
                       "n_trend"]
    assert d["reference"] == "P_w >= 16" and d["by"] == ["P_w"]
    assert set(d["params"]["gamma_w"]) == {"value", "ci"}
    assert set(d["groups"][0]) == {"key", "n", "measured", "measured_ci", "predicted", "residual"}
    assert set(d["test"]) == {"name", "statistic", "dof", "p_value"}
    assert set(d["n_trend"]) == {"slope", "ci"}
    json.dumps(d)
    assert "Verdict: consistent" in consistent.report()
    assert "<table>" in consistent._repr_html_()


@pytest.mark.parametrize("kwargs, message", [
    (dict(term="N_x"), "has no term 'N_x'"),
    (dict(term="N_eff", reference="P_w >= 99"), "matched 0 of"),
    (dict(term="N_eff", reference="bits >= 16"), "no column 'bits'"),
    (dict(term="N_eff", by=["nope"]), "no column 'nope'"),
])
def test_errors_name_the_problem(kwargs, message):
    with pytest.raises(ValidationError if "column" not in message else lawkit.LawkitError,
                       match=message):
        validate(QAT, synth("neff"), bootstrap=0, **kwargs)


def test_a_term_the_output_does_not_use():
    law = lawkit.parse("""
law t:
    inputs N, P
    output L
    params a > 0, g > 0
    unused = N·(1 − e^(−P/g))
    L = a/N
""")["t"]
    with pytest.raises(ValidationError, match="does not depend on term 'unused'"):
        validate(law, synth("neff").rename(columns={"P_w": "P"}), term="unused")


def test_small_groups_are_refused():
    df = synth("neff")
    three = df.index[df["P_w"] == 3]
    df = df.drop(three[1:])  # one row left at P_w = 3
    with pytest.raises(ValidationError, match="fewer than 2 rows"):
        validate(QAT, df, term="N_eff", bootstrap=0)


def test_cli(tmp_path, capsys):
    csv = tmp_path / "runs.csv"
    synth("neff").to_csv(csv, index=False)
    law = tmp_path / "qat.law"
    law.write_text("""law qat extends chinchilla:
    inputs P_w
    params γ_w > 0
    N_eff = N·(1 − e^(−P_w/γ_w))
    L = E + A/N_eff^α + B/D^β
""")
    assert main(["validate", str(law), str(csv), "--term", "N_eff", "--bootstrap", "0",
                 "--json", "--plot", str(tmp_path / "figs")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["verdict"] in ("consistent", "deviates") and len(out["groups"]) == 5
    assert (tmp_path / "figs" / "term.png").stat().st_size > 1000
    assert main(["validate", str(law), str(csv), "--term", "nope"]) == 2
    assert "has no term 'nope'" in capsys.readouterr().err


PTQ = lawkit.parse("""
law ptq extends chinchilla "post-training quantization":
    inputs P_post "post-training weight bits"
    params C_T > 0, γ_D > 0, γ_N > 0, γ_post > 0
    δ_PTQ = C_T·(D^γ_D/N^γ_N)·e^(−P_post/γ_post)
    L = E + A/N^α + B/D^β + δ_PTQ
""")["ptq"]


def ptq_runs(grows_with_d: bool, seed: int = 0) -> pd.DataFrame:
    """Trained models (seed scatter 0.02 nats in their own loss) quantized to 2/3/4 bits;
    δ measured against each model's own loss with 0.004 nats of scatter.  Two seeds at four
    cells."""
    rng = np.random.default_rng(seed)
    rows = []
    for N in (2e4, 5e4, 1e5, 2e5):
        for D in (1e5, 3e5, 1e6, 3e6):
            for s in range(2 if (N in (2e4, 2e5) and D in (3e5, 1e6)) else 1):
                L0 = 1.2 + 30 / N ** 0.3 + 40 / D ** 0.28 + rng.normal(0, 0.02)
                rows.append({"N": N, "D": D, "P_post": 16, "seed": s, "L": L0, "L0": L0})
                for P in (2, 3, 4):
                    d = 0.05 * (D / 1e5) ** (0.5 if grows_with_d else 0.0) / (N / 2e4) ** 0.25
                    d = d * np.exp(-(P - 2) / 0.8) + rng.normal(0, 0.004)
                    rows.append({"N": N, "D": D, "P_post": P, "seed": s, "L": L0 + d, "L0": L0})
    return pd.DataFrame(rows)


def test_paired_baseline_measures_ptq_against_each_model():
    data = ptq_runs(True)
    v = validate(PTQ, data, term="delta_PTQ", baseline="L0", bootstrap=0)
    assert v.baseline == "L0" and v.verdict == "consistent"
    for name, true in (("gamma_D", 0.5), ("gamma_N", 0.25), ("gamma_post", 0.8)):
        lo, hi = v.params[name]["ci"]
        assert lo < true < hi, (name, lo, hi)
    # the measured degradation is exactly L − L0 of the group's rows
    test = data[data["P_post"] < 16]
    for g in v.groups:
        k = g.key
        rows = test[(test.N == k["N"]) & (test.D == k["D"]) & (test.P_post == k["P_post"])]
        assert g.measured == pytest.approx(float((rows.L - rows.L0).mean()), rel=1e-12)
        assert g.n == len(rows)
        assert g.measured_ci[0] < g.measured < g.measured_ci[1]
    flat = validate(PTQ, ptq_runs(False), term="delta_PTQ", baseline="L0", bootstrap=0)
    lo, hi = flat.params["gamma_D"]["ci"]
    assert hi < 0.2  # no growth with D is seen as none


def test_paired_baseline_refuses_a_relative_term_and_a_missing_column():
    with pytest.raises(ValidationError, match="relative"):
        validate(QAT, synth("neff"), term="N_eff", baseline="L", bootstrap=0)
    with pytest.raises(ValidationError, match="no column 'L9'"):
        validate(PTQ, ptq_runs(True), term="delta_PTQ", baseline="L9", bootstrap=0)
