"""Hostile data (issue 15, "Data"): every mistake is a lawkit error naming the column and
rows, or a result that says what is wrong with it; many rows fit in bounded memory."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import lawkit
from lawkit.cli import main
from lawkit.errors import DataError
from lawkit.fitting import Status, fit

from helpers import CHIN_LAW

CHIN = lawkit.parse(CHIN_LAW)["chin"]


def frame(n=60, seed=0, E=1.69, noise=0.01):
    rng = np.random.default_rng(seed)
    N, D = 10 ** rng.uniform(7, 10, n), 10 ** rng.uniform(9, 12, n)
    L = (E + 406.4 / N**0.34 + 410.7 / D**0.28) * np.exp(rng.normal(0, noise, n))
    return pd.DataFrame({"N": N, "D": D, "L": L})


@pytest.mark.parametrize("col,value,row,what", [("N", 0.0, 3, "zero or negative"),
                                                ("D", -5e10, 5, "zero or negative")])
def test_inputs_outside_the_laws_domain_name_column_and_rows(col, value, row, what):
    df = frame()
    df.loc[row, col] = value
    with pytest.raises(DataError, match=rf"column '{col}' \(input '{col}'\) is {what} in 1 "
                                        rf"row\(s\) \({row}\).*must be positive"):
        fit(CHIN, df)


def test_division_by_an_input_needs_it_non_zero_only():
    law = lawkit.parse("law h:\n    inputs N\n    output L\n    params E > 0, A\n"
                       "    L = E + A/N\n")["h"]
    rng = np.random.default_rng(1)
    N = rng.uniform(-5, 5, 40)
    N[np.abs(N) < 0.5] = 1.0
    df = pd.DataFrame({"N": N, "L": 2.0 + 0.5 / N})
    df = df[df["L"] > 0]
    r = fit(law, df, space="linear")  # negative N is fine for 1/N
    assert r.params["A"] == pytest.approx(0.5, rel=1e-6)
    df.loc[df.index[2], "N"] = 0.0
    with pytest.raises(DataError, match=r"column 'N' \(input 'N'\) is zero in 1 row.*non-zero"):
        fit(law, df, space="linear")


def test_linear_inputs_may_be_zero_or_negative():
    law = lawkit.parse("law lin:\n    inputs x\n    output y\n    params a, b\n"
                       "    y = a + b*x\n")["lin"]
    x = np.linspace(-2, 2, 30)
    r = fit(law, pd.DataFrame({"x": x, "y": 1.0 + 3.0 * x}), space="linear", loss="mse")
    assert r.params["b"] == pytest.approx(3.0, rel=1e-9)


def test_extreme_magnitudes_are_refused_not_fitted_into_a_worse_basin():
    df = frame()
    df["N"] *= 1e290
    with pytest.raises(DataError, match=r"column 'N' \(input 'N'\) has values as extreme as "
                                        r"9\.\d+e\+299 in 60 row.*rescale"):
        fit(CHIN, df)
    df = frame()
    df["D"] *= 1e-120
    with pytest.raises(DataError, match=r"column 'D'.*rescale"):
        fit(CHIN, df)


def test_constant_input_is_flagged():
    df = frame()
    df["N"] = 1e9
    r = fit(CHIN, df, throw=False)
    assert any("input column 'N'" in w and "constant" in w for w in r.warnings)
    assert "constant" in r.report()


def test_true_E_of_zero_is_at_its_bound_not_unconverged():
    r = fit(CHIN, frame(E=0.0))
    assert r.status is Status.at_bound and r.at_bound == ("E",)
    assert r.params["E"] < 1e-7
    assert r.params["alpha"] == pytest.approx(0.34, rel=0.05)


def test_cli_names_the_column_and_exits_2(tmp_path, capsys):
    df = frame().rename(columns={"L": "loss"})
    df.loc[7, "N"] = 0.0
    csv = tmp_path / "d.csv"
    df.to_csv(csv, index=False)
    assert main(["fit", "chinchilla", str(csv), "--map", "L=loss"]) == 2
    err = capsys.readouterr().err
    assert "column 'N'" in err and "(7)" in err and "Traceback" not in err


# -- many rows: chunked evaluation gives the same objective; the large path is exercised at
# -- a small scale here (and at 300k rows, with a memory bound, in the slow test)

def test_chunked_objective_equals_the_whole_sum():
    import jax
    import jax.numpy as jnp

    from lawkit.fitting import large
    from lawkit.fitting.objective import objective_for

    df = frame(n=1000)
    with jax.enable_x64(True):
        obj = objective_for(CHIN, "huber", "log", (), (), ())
        args = (jnp.ones(1000), {k: jnp.asarray(df[k].to_numpy()) for k in ("N", "D")},
                jnp.asarray(df["L"].to_numpy()), None, jnp.asarray(1e-3))
        u = jnp.asarray(obj.layout.from_slot_values(np.array([1.7, 400, 400, 0.3, 0.3])))
        whole = obj.value(u, *args)
        fun = large.chunked(obj.value)
        cargs = large.chunk_args(args, chunk=128)  # 1000 rows: 8 chunks, the last padded
        assert float(fun(u, *cargs)) == pytest.approx(float(whole), rel=1e-12)
        g1 = jax.grad(obj.value)(u, *args)
        g2 = jax.grad(fun)(u, *cargs)
        assert np.allclose(g1, g2, rtol=1e-10)


def test_large_row_path_finds_the_same_optimum(monkeypatch):
    from lawkit.fitting import large

    df = frame(n=3000, seed=2)
    small = fit(CHIN, df)
    monkeypatch.setattr(large, "LARGE_ROWS", 1000)
    monkeypatch.setattr(large, "SCREEN_ROWS", 400)
    monkeypatch.setattr(large, "CHUNK", 512)
    big = fit(CHIN, df)
    assert big.settings["screened_on_rows"] == 400
    assert big.objective == pytest.approx(small.objective, rel=1e-9)
    for k, v in small.params.items():
        assert big.params[k] == pytest.approx(v, rel=1e-5)
    assert np.allclose(big.covariance, small.covariance, rtol=1e-5)


@pytest.mark.slow
def test_300k_rows_default_starts_in_bounded_memory():
    code = (
        "import resource, numpy as np, pandas as pd, lawkit, sys; sys.path.insert(0, %r);"
        "import test_data_hostile as t; r = lawkit.fit(t.CHIN, t.frame(n=300_000, seed=3));"
        "print(r.params['alpha'], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
        % str(__import__("pathlib").Path(__file__).parent))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=900, check=True)
    alpha, peak_mib = map(float, out.stdout.split()[-2:])
    assert alpha == pytest.approx(0.34, rel=0.01)
    assert peak_mib < 2048
    json.dumps({"peak_mib": peak_mib})


@pytest.mark.parametrize("kwargs, message", [
    ({"bootstrap": -5}, "bootstrap must be"), ({"bootstrap": 2.5}, "bootstrap must be"),
    ({"bootstrap": 10**9}, "bootstrap must be"), ({"starts": 10**8}, "starts must be"),
    ({"starts": 0}, "starts must be")])
def test_api_refuses_bad_resample_and_start_counts(kwargs, message):
    law = lawkit.load("chinchilla")["chinchilla"]
    from lawkit.examples import path

    with pytest.raises(lawkit.LawkitError, match=message):
        lawkit.fit(law, path("gadre_overtraining"), **kwargs)
