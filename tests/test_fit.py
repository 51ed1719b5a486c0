"""Fitting: the Epoch/Chinchilla reference optimum, parameter recovery, options, errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import lawkit
from conftest import ROOT

DESIGN = ROOT / "examples" / "design.law"
from helpers import EPOCH_LAW, law_of
from lawkit.cli import main
from lawkit.examples import path as example_path
from lawkit.fitting import Status, fit

# Epoch's grid (Besiroglu et al. 2024, notebook cell 18), in natural units: A = e^a etc.
EPOCH_GRID = {"E": np.exp(np.arange(-1, 1.01, 0.5)), "A": np.exp(np.arange(0, 26, 5.0)),
              "B": np.exp(np.arange(0, 26, 5.0)), "alpha": np.arange(0, 2.01, 0.5),
              "beta": np.arange(0, 2.01, 0.5)}


@pytest.fixture(scope="module")
def epoch_frame():
    from conftest import SHARED_DATA

    csv = SHARED_DATA / "epoch-chinchilla" / "svg_extracted_data.csv"
    if not csv.exists():
        pytest.skip("../shared/data is not available")
    df = pd.read_csv(csv)
    df = df[df["loss"] < sorted(df["loss"])[-5]].copy()  # Epoch's rule: drop the 5 highest
    df["N"] = df["Model Size"]
    df["D"] = df["Training FLOP"] / (6 * df["N"])
    return df


@pytest.fixture(scope="module")
def epoch_fit(epoch_frame):
    return fit(lawkit.parse(EPOCH_LAW)["epoch"], epoch_frame, starts=EPOCH_GRID)


def test_epoch_reference_optimum(epoch_fit):
    r = epoch_fit
    assert len(r.starts["objective"]) == 4500 and r.n == 240
    assert r.objective == pytest.approx(1.018274e-3, rel=2e-6)
    p = r.params
    assert p["E"] == pytest.approx(1.8172, abs=2e-4)
    assert p["alpha"] == pytest.approx(0.3473, abs=2e-4)
    assert p["beta"] == pytest.approx(0.3672, abs=2e-4)
    assert p["A"] == pytest.approx(477.8, rel=2e-3)
    assert p["B"] == pytest.approx(2143, rel=2e-3)
    assert r.status is Status.converged and r.at_bound == ()
    assert all(np.isfinite(v) and v > 0 for v in r.stderr.values())


def test_mean_reduction_trap_does_not_apply(epoch_frame):
    """From the init where scipy's L-BFGS-B with a *mean* objective stops after 2 iterations
    (A = 22027, B = 1), the Newton solver still reaches the optimum (scale-free steps)."""
    law = lawkit.parse(EPOCH_LAW)["epoch"]
    start = np.array([[np.exp(0.5), np.exp(10.0), np.exp(0.0), 1.0, 0.5]])
    r = fit(law, epoch_frame, starts=start)
    assert r.objective == pytest.approx(1.018274e-3, rel=1e-5)


def test_l1_fit_gives_epochs_headline_estimate(epoch_frame):
    r = fit(lawkit.parse(EPOCH_LAW)["epoch"], epoch_frame, loss="l1", starts=EPOCH_GRID)
    assert r.params["alpha"] == pytest.approx(0.3478, abs=3e-4)
    assert r.params["beta"] == pytest.approx(0.3659, abs=3e-4)
    assert r.objective == pytest.approx(1.129495, rel=1e-5)


def test_bootstrap_intervals_and_derived(epoch_frame):
    law = lawkit.parse(EPOCH_LAW)["epoch"]
    r = fit(law, epoch_frame, starts=EPOCH_GRID, bootstrap=400, seed=1,
            derived={"a": lambda p: p["beta"] / (p["alpha"] + p["beta"])})
    lo, hi = r.ci["E"]
    assert 1.75 < lo < 1.79 and 1.85 < hi < 1.89        # Epoch: (1.769, 1.871)
    assert r.ci["alpha"][0] < 0.3473 < r.ci["alpha"][1]
    assert 0.45 < r.ci["a"][0] < 0.513 < r.ci["a"][1] < 0.58
    assert len(r.bootstrap["a"]) == 400


def synthetic_precision(rng, n=400):
    truth = dict(E=1.9, A=350.0, B=900.0, alpha=0.33, beta=0.31, gamma_w=2.7, gamma_a=2.2,
                 gamma_kv=1.0)
    law = lawkit.load(DESIGN)["precision_train"]
    frame = pd.DataFrame({"N": 10 ** rng.uniform(7, 9.5, n), "D": 10 ** rng.uniform(9, 11.5, n),
                          "P_w": rng.integers(3, 13, n), "P_a": rng.integers(3, 13, n),
                          "P_kv": rng.integers(3, 13, n)}).astype(float)
    frame["L"] = law.evaluate(truth, **{c: frame[c].to_numpy() for c in frame.columns})
    frame["L"] *= np.exp(rng.normal(0, 0.002, n))
    return law, frame, truth


def test_recovers_multi_input_precision_law():
    law, frame, truth = synthetic_precision(np.random.default_rng(0))
    r = fit(law, frame, loss="mse", starts=64, seed=0)
    for k in ("E", "alpha", "beta", "gamma_w", "gamma_a", "gamma_kv"):
        assert r.params[k] == pytest.approx(truth[k], rel=0.05), k


def test_fixed_and_tied_parameters():
    law = law_of("""
        inputs N
        output y
        params a > 0, b = 0.5, c = a
        y = a*N^b + c
    """)
    N = np.linspace(1, 100, 50)
    frame = pd.DataFrame({"N": N, "y": 3.0 * N**0.5 + 3.0})
    r = fit(law, frame, loss="mse")
    assert r.k == 1 and r.params["a"] == pytest.approx(3.0, rel=1e-8)
    assert r.params["c"] == pytest.approx(3.0, rel=1e-8) and r.params["b"] == 0.5
    with pytest.raises(lawkit.FitError, match="nothing to fit"):
        fit(law, frame, loss="mse", fix={"a": 2.0})


def test_parameter_at_bound_is_reported():
    law = law_of("""
        inputs N
        output y
        params a > 0, b in (0, 1)
        y = a*N^b
    """)
    N = np.linspace(1, 100, 40)
    r = fit(law, pd.DataFrame({"N": N, "y": 2.0 * N**1.5}), loss="mse")
    assert "b" in r.at_bound and r.status is Status.at_bound
    assert np.isnan(r.stderr["b"]) and "AT BOUND" in r.report()


def test_per_group_parameters():
    law = law_of("""
        inputs N
        output y
        params E > 0, a > 0, b > 0
        y = E + a*N^(-b)
    """)
    N = np.tile(np.logspace(6, 9, 20), 2)
    g = np.repeat(["x", "y"], 20)
    E = np.where(g == "x", 1.5, 2.5)
    frame = pd.DataFrame({"N": N, "y": E + 400 * N**-0.3, "set": g})
    r = fit(law, frame, loss="mse", group="set", per_group=("E",))
    assert r.params["E[x]"] == pytest.approx(1.5, rel=1e-6)
    assert r.params["E[y]"] == pytest.approx(2.5, rel=1e-6)


# ---- bad data: errors that name the column and rows
@pytest.mark.parametrize("frame, message", [
    (pd.DataFrame({"N": [1.0, 2, 3], "L": [1.0, 2, 3]}), "data has no column 'D' for input 'D'"),
    (pd.DataFrame({"N": [1.0, np.nan, 3, 4, 5, 6, 7], "D": [1.0] * 7, "L": [1.0] * 7}),
     "column 'N' (input 'N') has non-numeric, NaN or infinite values in 1 row(s): 1"),
    (pd.DataFrame({"N": [1.0] * 7, "D": [1.0] * 7, "L": [1.0, 2, -3, 4, 0, 6, 7]}),
     "output column 'L' has non-positive values in 2 row(s) (2, 4)"),
    (pd.DataFrame({"N": [1.0] * 4, "D": [1.0] * 4, "L": [1.0] * 4}), "too few rows: 4 row(s)"),
])
def test_data_errors(frame, message):
    with pytest.raises(lawkit.DataError) as info:
        fit(lawkit.load("chinchilla")["chinchilla"], frame)
    assert message in str(info.value)


def test_non_finite_everywhere_is_an_error():
    law = law_of("""
        inputs N
        output y
        params a
        y = a - N
    """)
    with pytest.raises(lawkit.FitError, match="not finite at any"):
        fit(law, pd.DataFrame({"N": np.arange(10.0, 20), "y": np.ones(10)}), starts={"a": [0.0]})


def test_cli_fit_json_contract(tmp_path, capsys):
    out = tmp_path / "fit.json"
    assert main(["fit", "chinchilla", str(example_path()), "--json", "--out", str(out),
                 "--fix", "E=1.7"]) == 0
    data = json.loads(capsys.readouterr().out)
    for key in ("law", "params", "objective", "n", "converged", "at_bound", "stderr", "ci",
                "seconds"):
        assert key in data
    assert data["params"]["E"] == 1.7 and data["n"] == 104 and data["law"] == "chinchilla"
    assert json.loads(out.read_text()) == data


def test_cli_fit_bad_column_exit_2(capsys):
    assert main(["fit", "chinchilla", str(example_path()), "--map", "L=los"]) == 2
    assert "no column 'los'" in capsys.readouterr().err


def _reference_sets(root):
    df = pd.read_csv(root / "misfitting" / "scaling_results_last_ckpt_only.csv")
    yield "misfitting", df[["N", "D", "loss"]]
    df = pd.read_csv(root / "datablations" / "c4_val_losses_parametric_fit_nb.csv")
    df = df[(df.D_tokens == df.U_unique_tokens) & (df.val_loss < 6)]
    yield "datablations", pd.DataFrame({"N": df.N_params, "D": df.D_tokens, "loss": df.val_loss})
    df = pd.read_csv(root / "porian-resolving-discrepancies" / "isoflop_points.csv")
    df = df[(df.dataset == "rw") & (df.hparams == "tuned") & (df.val == "val")
            & (df.param_count == "standard")]
    yield "porian", pd.DataFrame({"N": df.N, "D": df.D_tokens, "loss": df.loss})


def test_no_worse_than_scipy_multistart_on_other_datasets(shared_data):
    """Default settings (library law, default grid) reach the objective of a scipy L-BFGS-B
    multi-start (1,500 of Epoch's starts, analytic gradients) on three more real datasets."""
    import sys

    from conftest import ROOT

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import fit_speed

    law = lawkit.load("chinchilla")["chinchilla"]
    for name, frame in _reference_sets(shared_data):
        ref, _ = fit_speed.scipy_fit(frame, fit_speed.grid()[::3])
        got = fit(law, frame, mapping={"L": "loss"})
        assert got.objective <= ref * (1 + 1e-8), name


def test_parquet_input(tmp_path):
    frame = pd.read_csv(example_path())
    frame.to_parquet(tmp_path / "d.parquet")
    a = fit(lawkit.load("chinchilla")["chinchilla"], tmp_path / "d.parquet")
    b = fit(lawkit.load("chinchilla")["chinchilla"], frame)
    assert a.objective == b.objective
