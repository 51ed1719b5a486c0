"""compare-fits: the effective compute multiplier k(C) with L*_B(k·C) = L*_A(C)."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import math

import numpy as np
import pytest

import lawkit
from helpers import law_of
from lawkit.analysis import optimum
from lawkit.analysis.ladder import compare_fits
from lawkit.cli import main
from lawkit.examples import path as example
from lawkit.fitting.saved import save_fit

LAW = lawkit.load("chinchilla")["chinchilla"]
POINTS = [{"C": 1e20}, {"C": 1e22}, {"C": 1e24}]


@pytest.fixture(scope="module")
def fit_a():
    return lawkit.fit(LAW, example("gadre_overtraining"), starts=8, bootstrap=12, seed=1)


def scaled(fit, factor=2.0):
    """The same law with compute scaled by ``factor``: L_B(N, D) = L_A(N/√f, D/√f), so
    L*_B(f·C) = L*_A(C) under C = 6·N·D (A → A·f^(α/2), B → B·f^(β/2))."""
    def move(p, alpha, beta):
        return {**p, "A": p["A"] * factor ** (alpha / 2), "B": p["B"] * factor ** (beta / 2)}

    d = fit.bootstrap
    boot = {**d, **move(d, d["alpha"], d["beta"])} if d else {}
    return dataclasses.replace(fit, params=move(dict(fit.params), fit.params["alpha"],
                                                fit.params["beta"]), bootstrap=boot)


def test_self_comparison_is_exactly_one(fit_a):
    r = compare_fits(fit_a, fit_a, POINTS)
    for p in r.points:
        assert p.k == 1.0 and p.k_ci == (1.0, 1.0)
        assert p.loss_gap == 0.0 and p.loss_gap_ci == (0.0, 0.0) and p.n_draws >= 10


def test_compute_scaled_by_two_gives_two(fit_a):
    b = scaled(fit_a, 2.0)
    r = compare_fits(fit_a, b, POINTS)
    for p in r.points:
        assert abs(p.k - 2) < 1e-9
        assert abs(p.k_ci[0] - 2) < 1e-9 and abs(p.k_ci[1] - 2) < 1e-9
        assert p.loss_gap > 0  # B needs more compute: its loss at matched compute is higher
    back = compare_fits(b, fit_a, POINTS)
    assert all(abs(p.k - 0.5) < 1e-9 for p in back.points)


def test_k_solves_the_matching_equation(fit_a):
    params = dict(fit_a.params, E=fit_a.params["E"] + 0.03)
    b = dataclasses.replace(fit_a, params=params, bootstrap={})
    r = compare_fits(fit_a, b, POINTS)
    assert r.points[0].k_ci is None and "no bootstrap draws" in r.notes[0]
    for p in r.points:
        la = optimum(LAW, over=["N", "D"], at=p.at, values=fit_a).at["L"]
        lb = optimum(LAW, over=["N", "D"], at={"C": p.k * p.at["C"]}, values=params).at["L"]
        lb0 = optimum(LAW, over=["N", "D"], at=p.at, values=params).at["L"]
        assert p.k > 1 and lb == pytest.approx(la, rel=1e-12)
        assert p.loss_a == pytest.approx(la, rel=1e-14)
        assert p.loss_gap == pytest.approx(lb0 - la, abs=1e-12)
    # k grows with C here (B's higher floor costs ever more compute)
    ks = [p.k for p in r.points]
    assert ks == sorted(ks)


def test_unreachable_loss_is_infinite_k(fit_a):
    top = optimum(LAW, over=["N", "D"], at={"C": 1e24}, values=fit_a).at["L"]
    b = dataclasses.replace(fit_a, params=dict(fit_a.params, E=top + 0.1), bootstrap={})
    p, = compare_fits(fit_a, b, {"C": 1e24}).points
    assert math.isinf(p.k)


def test_numeric_frontier(fit_a):
    law = law_of("""
        inputs N, D
        output L
        params E > 0, A > 0, B > 0, α > 0, β > 0, G > 0
        L = E + A/N^α + B/D^β + G/(N^α·D^β)^0.5
        budget C = 6·N·D
    """, name="numeric")
    values = {**{k: fit_a.params[k] for k in ("E", "A", "B", "alpha", "beta")}, "G": 50.0}
    base = dataclasses.replace(fit_a, law=law, params=values, bootstrap={})
    assert optimum(law, over=["N", "D"], at={"C": 1e22}, values=values).method == "numeric"
    f = 2.0
    a, b = values["alpha"], values["beta"]
    moved = {**values, "A": values["A"] * f ** (a / 2), "B": values["B"] * f ** (b / 2),
             "G": values["G"] * f ** ((a + b) / 4)}
    other = dataclasses.replace(base, params=moved)
    assert all(p.k == 1.0 for p in compare_fits(base, base, POINTS[1:2]).points)
    assert all(abs(p.k - 2) < 1e-8 for p in compare_fits(base, other, POINTS[1:2]).points)


def run_cli(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(argv)
    return rc, out.getvalue(), err.getvalue()


def test_cli(fit_a, tmp_path):
    fa, fb = tmp_path / "a.fit", tmp_path / "b.fit"
    save_fit(fit_a, fa, data=example("gadre_overtraining"))
    save_fit(scaled(fit_a), fb)
    rc, out, _ = run_cli(["compare-fits", str(fa), str(fa), "--json"])
    assert rc == 0
    got = json.loads(out)
    assert len(got["points"]) == 3 and all(p["k"] == 1.0 for p in got["points"])
    assert got["budget"].startswith("C =") and got["over"] == ["N", "D"]
    rc, out, _ = run_cli(["compare-fits", str(fa), str(fb), "--at", "C=1e21", "--at", "C=1e23",
                          "--budget", "C = 6*N*D", "--json"])
    assert rc == 0
    got = json.loads(out)
    assert [p["at"]["C"] for p in got["points"]] == [1e21, 1e23]
    assert all(abs(p["k"] - 2) < 1e-9 and p["loss_gap"] > 0 for p in got["points"])
    rc, out, _ = run_cli(["compare-fits", str(fa), str(fb), "--at", "C=1e21"])
    assert rc == 0 and "k = 2" in out and "95% CI" in out
    rc, _, err = run_cli(["compare-fits", str(fb), str(fa)])  # fb was saved without data
    assert rc == 2 and "--at" in err
    grouped = dataclasses.replace(fit_a, settings={**fit_a.settings, "group": "dataset",
                                                   "per_group": ["E"]})
    fg = tmp_path / "g.fit"
    save_fit(grouped, fg)
    rc, _, err = run_cli(["compare-fits", str(fa), str(fg), "--at", "C=1e21"])
    assert rc == 2 and "per-group" in err
    assert np.isfinite(fit_a.params["E"])
