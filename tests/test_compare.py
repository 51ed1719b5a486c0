"""Comparing laws on real data from ../shared/data: two forms on each dataset, held-out ARE
checked by hand for one case; the CLI's JSON contract; figures and reports."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

import lawkit
from lawkit.cli import main
from lawkit.compare import compare, holdout_mask

FORMS = lawkit.parse("""
law additive "Chinchilla form":
    inputs N, D
    output L
    params E > 0, A > 0, B > 0, α ∈ (0, 2), β ∈ (0, 2)
    L = E + A/N^α + B/D^β

law multiplicative "one coupled power law":
    inputs N, D
    output L
    params E > 0, A > 0, α ∈ (0, 2), β ∈ (0, 2)
    L = E + A/(N^α·D^β)
""")
LAWS = [FORMS["additive"], FORMS["multiplicative"]]


def _check(result, n_laws=2):
    d = result.to_dict()
    assert len(d["laws"]) == n_laws and d["best"] == d["laws"][0]["name"]
    for s in d["laws"]:
        assert set(s) >= {"name", "k", "aic", "bic", "cv_are", "holdout_are", "params"}
        assert s["holdout_are"] is not None and 0 <= s["holdout_are"] < 1
    are = [s["holdout_are"] for s in d["laws"]]
    assert are == sorted(are)
    return d


def test_misfitting_with_hand_computed_holdout_are(shared_data):
    df = pd.read_csv(shared_data / "misfitting" / "scaling_results_last_ckpt_only.csv")
    df = df.rename(columns={"loss": "L"})[["N", "D", "L"]]
    result = compare(LAWS, df, holdout="N >= 5e8", loss="huber")
    _check(result)
    # by hand: fit the additive law on the small models, error on the large ones
    train, test = df[df.N < 5e8], df[df.N >= 5e8]
    p = lawkit.fit(FORMS["additive"], train).params
    pred = p["E"] + p["A"] / test.N**p["alpha"] + p["B"] / test.D**p["beta"]
    by_hand = float(np.mean(np.abs(pred - test.L) / test.L))
    got = next(s for s in result.scores if s.name == "additive").holdout_are
    assert got == pytest.approx(by_hand, rel=1e-9)


def test_gadre_with_cv_by_dataset(shared_data):
    df = pd.read_csv(shared_data / "gadre-overtraining" / "summary_losses_derived.csv")
    df = df[df.val_data.str.contains("openlm")].rename(columns={"params": "N", "tokens": "D",
                                                                  "loss": "L"})
    result = compare(LAWS, df, holdout="largest", cv="by=dataset")
    d = _check(result)
    assert all(s["cv_are"] is not None for s in d["laws"])
    assert d["ranked_by"] == "hold-out ARE"


def test_porian_isoflop_points(shared_data):
    df = pd.read_csv(shared_data / "porian-resolving-discrepancies" / "isoflop_points.csv")
    df = df[(df.dataset == "rw") & (df.hparams == "tuned") & (df.val == "val")
            & (df.param_count == "standard")]
    df = df.rename(columns={"D_tokens": "D", "loss": "L"})
    _check(compare(LAWS, df, holdout="N >= 1e8"))


def test_datablations_unique_data_runs(shared_data):
    df = pd.read_csv(shared_data / "datablations" / "c4_val_losses_parametric_fit_nb.csv")
    df = df[(df.D_tokens == df.U_unique_tokens) & (df.val_loss < 6)]
    _check(compare(LAWS, df, mapping={"N": "N_params", "D": "D_tokens", "L": "val_loss"},
                   holdout="N_params >= 2e9"))


def test_scaling_with_vocab_linear_space(shared_data):
    df = pd.read_csv(shared_data / "scaling-with-vocab" / "exp_data.csv")
    df = df[df.FLOPs >= 2.18e17].copy()
    lnV = np.log(np.minimum(df.vocab_size, 200_000))
    f = 0.00639222 * lnV**2 - 0.15811069 * lnV + 1.20470122
    df["N_nv"], df["V"], df["d"] = df.Non_vocab_parameters / 1e6, df.vocab_size, df.embed_dim
    df["D"], df["L_u"] = df.num_characters * f / 1e9, df.Lossu
    vocab = lawkit.load("vocab")["vocab"]
    no_vocab = lawkit.parse("""
law no_vocab_term extends vocab:
    L_u = -E + A_1/N_nv^α_1 + B/D^β
""")["no_vocab_term"]
    result = compare([vocab, no_vocab], df, holdout="N_nv >= 1000", space="linear", loss="mse")
    d = result.to_dict()
    assert {s["name"] for s in d["laws"]} == {"vocab", "no_vocab_term"}
    assert all(math.isfinite(s["holdout_are"]) for s in d["laws"])


def test_holdout_rules_and_errors():
    df = pd.DataFrame({"N": [1, 2, 3, 3.0], "x": [0, 1, 2, 3]})
    assert holdout_mask(df, "N >= 2", "N").tolist() == [False, True, True, True]
    assert holdout_mask(df, "largest", "N").tolist() == [False, False, True, True]
    with pytest.raises(lawkit.LawkitError, match="cannot read hold-out rule"):
        holdout_mask(df, "N >>= 2", "N")
    with pytest.raises(lawkit.DataError, match="column 'Q'"):
        holdout_mask(df, "Q > 1", "N")


def test_cli_compare_json_plots_and_report(tmp_path, capsys):
    from lawkit.examples import path

    law_file = tmp_path / "forms.law"
    law_file.write_text(FORMS["additive"].source.text, encoding="utf-8")
    plots, report = tmp_path / "plots", tmp_path / "report.html"
    assert main(["compare", str(law_file), str(path()), "--holdout", "N >= 1e9", "--json",
                 "--plot", str(plots), "--report", str(report)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {s["name"] for s in data["laws"]} == {"additive", "multiplicative"}
    assert data["best"] in ("additive", "multiplicative")
    assert sorted(p.name for p in plots.glob("*.png")) == sorted(
        [f"fit_{n}.png" for n in ("additive", "multiplicative")]
        + [f"residuals_{n}.png" for n in ("additive", "multiplicative")])
    text = report.read_text(encoding="utf-8")
    assert text.count("data:image/png;base64,") == 4 and "hold-out ARE" in text
