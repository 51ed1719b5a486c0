"""Fit diagnostics: residual rank trends per input, heteroscedasticity, worst rows — in the
report, in the JSON, and through a saved fit unchanged."""

from __future__ import annotations

import json

import numpy as np
import pytest

import lawkit
from lawkit.examples import synthetic
from lawkit.fitting.diagnostics import diagnose
from lawkit.library import load

START = np.array([[1.7, 400.0, 400.0, 0.34, 0.28]])


@pytest.fixture(scope="module")
def ladder():
    return synthetic.ladder(sizes=np.logspace(7, 8.5, 5), tokens_per_param=np.logspace(0, 2, 5),
                            noise=0.01, seed=0)


@pytest.fixture(scope="module")
def right(ladder):
    return lawkit.fit(load("chinchilla")["chinchilla"], ladder, starts=START)


@pytest.fixture(scope="module")
def missing_d(ladder):
    law = lawkit.parse("law no_data_term:\n    inputs N, D\n    output L\n"
                       "    params E > 0, A > 0, α ∈ (0, 2)\n    L = E + A/N^α\n")
    return lawkit.fit(law["no_data_term"], ladder)


def trend(result, name):
    (t,) = [t for t in result.to_dict()["diagnostics"]["trends"] if t["input"] == name]
    return t


def test_correct_law_shows_no_trend(right):
    d = right.to_dict()["diagnostics"]
    assert [t["input"] for t in d["trends"]] == ["N", "D"]
    for t in d["trends"]:
        assert t["p_value"] > 0.05 and not t["significant"]
    assert not d["heteroscedasticity"]["significant"]
    assert "[[Diagnostics]]" in right.report() and "trend vs D" in right.report()


def test_missing_term_shows_a_significant_trend_in_its_input(missing_d):
    # the law declares D but never uses it: the residuals fall with D (more data, lower loss)
    t = trend(missing_d, "D")
    assert t["spearman"] < -0.6 and t["p_value"] < 1e-4 and t["significant"]
    assert not trend(missing_d, "N")["significant"]  # N's own term absorbs the N effect
    assert any("trend with D" in w for w in missing_d.report().split("[[Warnings]]")[1:])


def test_worst_rows_are_by_relative_error(right, ladder):
    d = right.to_dict()["diagnostics"]
    rows = d["worst_rows"]
    assert len(rows) == 5
    pred = right.predict(ladder)
    rel = (pred - ladder["L"].to_numpy()) / ladder["L"].to_numpy()
    expect = np.argsort(-np.abs(rel), kind="stable")[:5]
    assert [r["index"] for r in rows] == expect.tolist()
    for r in rows:
        i = r["index"]
        assert r["inputs"] == {"N": ladder["N"][i], "D": ladder["D"][i]}
        assert r["observed"] == ladder["L"][i]
        assert r["predicted"] == pytest.approx(pred[i], rel=1e-12)
        assert r["rel_error"] == pytest.approx(rel[i], rel=1e-9)
    assert abs(rows[0]["rel_error"]) == pytest.approx(right.goodness.max_abs_rel_error, rel=1e-9)


def test_heteroscedasticity_and_outlier_on_known_residuals():
    rng = np.random.default_rng(3)
    n = 200
    x = np.logspace(7, 10, n)
    fitted = np.log(2 + 400 / x**0.3)              # log ŷ
    spread = 0.002 * np.exp(3 * (fitted - fitted.min()))  # noise grows with ŷ
    r = rng.normal(0, 1, n) * spread
    y = np.exp(fitted + r)
    d = diagnose({"N": x}, y, r, np.ones(n), "log")
    h = d.to_dict()["heteroscedasticity"]
    assert h["spearman"] > 0.3 and h["significant"]
    assert not d.trends[0].significant               # spread, not a trend in the mean
    # one gross outlier is the worst row; zero-weight rows are left out
    r2 = rng.normal(0, 0.002, n)
    r2[17] = 0.2
    w = np.ones(n)
    w[40] = 0.0
    r2[40] = 5.0
    y2 = np.exp(fitted + r2)
    d2 = diagnose({"N": x}, y2, r2, w, "log")
    assert d2.n_rows == n - 1
    worst = d2.worst_rows[0]
    assert worst.index == 17
    assert worst.rel_error == pytest.approx(np.exp(-0.2) - 1, rel=1e-12)
    assert worst.inputs == {"N": x[17]}


def test_json_and_saved_fit_round_trip(right, ladder, tmp_path):
    from lawkit.fitting.saved import load_fit, save_fit

    payload = json.loads(json.dumps(right.to_dict()))
    assert set(payload["diagnostics"]) >= {"trends", "heteroscedasticity", "worst_rows"}
    assert set(payload["diagnostics"]["trends"][0]) >= {"input", "spearman", "p_value"}
    path = save_fit(right, tmp_path / "fit.lawfit", data=ladder)
    again = load_fit(path)
    assert again.to_dict() == right.to_dict()
    assert again.report() == right.report()


def test_cli_fit_json_has_diagnostics(tmp_path, capsys):
    from lawkit.cli import main

    data = tmp_path / "ladder.csv"
    synthetic.ladder(sizes=np.logspace(7, 8.5, 4), tokens_per_param=np.logspace(0, 2, 4),
                     noise=0.01, seed=1).to_csv(data, index=False)
    assert main(["fit", "chinchilla", str(data), "--json", "--starts", "8"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["diagnostics"]["trends"]) == 2
    assert len(out["diagnostics"]["worst_rows"]) == 5


def test_spearman_matches_scipy_reference():
    """The numpy Spearman (kept off scipy.stats for start-up time) equals scipy's ρ and p."""
    from scipy.stats import spearmanr

    from lawkit.fitting.diagnostics import _spearman

    rng = np.random.default_rng(1)
    for n in (3, 5, 10, 104, 1000):
        for k in range(10):
            a = rng.normal(size=n)
            b = a * rng.uniform(-1, 1) + rng.normal(size=n)
            if k % 2:
                a = np.round(a, 1)  # ties
            ref = spearmanr(a, b)
            rho, p = _spearman(a, b)
            assert rho == pytest.approx(ref.statistic, abs=1e-12)
            assert p == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-20)
