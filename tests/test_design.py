"""Experiment design: following the design shrinks the target's CI faster than a uniform
grid of the same cost; the greedy update is the exact posterior; grids sit on the frontier."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import lawkit
from lawkit.analysis import optimum
from lawkit.analysis.design import (_gradient, _prior, design, isoflop_grid, noise_sd,
                                    row_jacobian, target_interval)
from lawkit.cli import main
from lawkit.examples import synthetic
from lawkit.library import load

START = np.array([[1.7, 400.0, 400.0, 0.34, 0.28]])
TARGET = "N_opt at C=1e24"
NOISE = 0.01  # absolute, on L


@pytest.fixture(scope="module")
def law():
    return load("chinchilla")["chinchilla"]


@pytest.fixture(scope="module")
def ladder():
    return synthetic.ladder(sizes=np.logspace(7, 8.5, 5), tokens_per_param=np.logspace(0, 2, 5),
                            noise=NOISE, seed=0)


@pytest.fixture(scope="module")
def fit0(law, ladder):
    # least squares: its covariance is the classical one, stable from seed to seed
    return lawkit.fit(law, ladder, starts=START, loss="mse")


@pytest.fixture(scope="module")
def pool(fit0):
    return isoflop_grid(fit0, [1e17, 1e18, 1e19, 1e20], points=9, width=1.0)


def test_design_beats_uniform_grid_of_same_cost(law, ladder, fit0, pool):
    k = 4
    d = design(fit0, target=TARGET, candidates=pool, n=k)
    cost = d.steps[-1].total_cost
    # the uniform alternative: k runs evenly spaced in log N around the frontier N*(C), at
    # one budget, spending exactly the same compute
    uniform = isoflop_grid(fit0, [cost / k], points=k, width=0.5)
    assert float(np.sum(6 * uniform.N * uniform.D)) == pytest.approx(cost, rel=1e-12)
    predicted_uniform = design(fit0, target=TARGET, candidates=uniform, n=k).steps[-1].ci_width
    assert d.steps[-1].ci_width < 0.8 * predicted_uniform
    widths = {"design": [], "uniform": []}
    for seed in range(6):  # simulate the runs from the true law with noise, refit, measure
        rng = np.random.default_rng(100 + seed)
        for name, rows in (("design", d.runs()), ("uniform", uniform)):
            new = pd.DataFrame({"N": rows.N.to_numpy(), "D": rows.D.to_numpy()})
            new["L"] = synthetic.loss(new.N, new.D) + rng.normal(0, NOISE, len(new))
            refit = lawkit.fit(law, pd.concat([ladder, new], ignore_index=True), starts=START,
                               loss="mse")
            widths[name].append(target_interval(refit, TARGET)["ci_width"])
    design_w, uniform_w = np.mean(widths["design"]), np.mean(widths["uniform"])
    assert design_w < 0.85 * uniform_w, widths
    assert design_w < 0.85 * d.ci_width  # and the CI did shrink
    # the prediction is what the refits deliver, to within the linearisation
    assert d.steps[-1].ci_width == pytest.approx(design_w, rel=0.3)


def test_greedy_steps_are_the_exact_posterior(fit0, pool):
    d = design(fit0, target=TARGET, candidates=pool, n=3)
    P0 = _prior(fit0, "covariance")
    from lawkit.analysis.design import _budget_for, parse_target

    tgt = parse_target(fit0.law, TARGET)
    _, g, scale = _gradient(fit0, tgt, _budget_for(fit0.law, tgt, "6*N*D")[1], P0)
    assert scale == "log"
    J = row_jacobian(fit0, {"N": pool.N.to_numpy(), "D": pool.D.to_numpy()})
    s2 = noise_sd(fit0) ** 2
    cost = 6 * pool.N.to_numpy() * pool.D.to_numpy()
    info = np.linalg.inv(P0)
    chosen = []
    for step in d.steps:
        # the pick maximises the variance reduction per unit cost among the rows left
        def var_with(rows):
            Jr = J[rows]
            return float(g @ np.linalg.inv(info + Jr.T @ Jr / s2) @ g)
        before = var_with(chosen)
        gains = [(before - var_with(chosen + [m])) / cost[m] if m not in chosen else -np.inf
                 for m in range(len(pool))]
        assert step.row == int(np.argmax(gains))
        chosen.append(step.row)
        assert step.sd == pytest.approx(np.sqrt(var_with(chosen)), rel=1e-6)
    assert [s.ci_width for s in d.steps] == sorted(s.ci_width for s in d.steps)[::-1]
    assert d.steps[-1].total_cost == pytest.approx(sum(cost[chosen]), rel=1e-12)


def test_current_interval_and_value_target(fit0):
    opt = optimum(fit0.law, over=["N", "D"], at={"C": 1e24}, values=fit0)
    now = target_interval(fit0, TARGET)
    assert now["estimate"] == pytest.approx(opt.at["N"], rel=1e-12)
    lo, hi = now["ci"]
    assert lo < now["estimate"] < hi and hi / now["estimate"] == pytest.approx(
        now["estimate"] / lo, rel=1e-9)                   # symmetric in log
    # a value target: the delta method through JAX equals the one by central differences
    v = target_interval(fit0, "L at N=1e10,D=2e11")
    p = fit0.values()
    assert v["estimate"] == pytest.approx(float(synthetic.loss(1e10, 2e11, p)), rel=1e-12)
    theta = np.array([p[k] for k in fit0.labels])
    grad = []
    for i in range(len(theta)):
        h = 1e-6 * abs(theta[i])
        up, dn = dict(p), dict(p)
        up[fit0.labels[i]] += h
        dn[fit0.labels[i]] -= h
        grad.append((np.log(synthetic.loss(1e10, 2e11, up))
                     - np.log(synthetic.loss(1e10, 2e11, dn))) / (2 * h))
    grad = np.array(grad)
    assert v["sd"] == pytest.approx(np.sqrt(grad @ fit0.covariance @ grad), rel=1e-5)


def test_isoflop_grid_is_centred_on_the_frontier(fit0):
    grid = isoflop_grid(fit0, [1e18, 1e20], points=5, width=0.5)
    assert list(grid.columns) == ["N", "D", "C"] and len(grid) == 10
    assert np.allclose(6 * grid.N * grid.D, grid.C, rtol=1e-12)
    for c, rows in grid.groupby("C"):
        star = optimum(fit0.law, over=["N", "D"], at={"C": c}, values=fit0).at["N"]
        n = rows.N.to_numpy()
        assert n[2] == pytest.approx(star, rel=1e-9)
        assert np.allclose(np.diff(np.log10(n)), 0.25)


def test_cli_design(fit0, ladder, tmp_path, capsys):
    from lawkit.fitting.saved import save_fit

    path = save_fit(fit0, tmp_path / "fit.lawfit", data=ladder)
    grid = tmp_path / "grid.csv"
    assert main(["design", str(path), "--target", TARGET, "--isoflop-grid", "1e17:1e20:4",
                 "--grid-points", "9", "--grid-width", "1", "--grid-out", str(grid),
                 "--n", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    expect = design(fit0, target=TARGET, candidates=grid, n=3).to_dict()
    assert out == json.loads(json.dumps(expect))
    assert [r["rank"] for r in out["runs"]] == [1, 2, 3]
    assert set(out["runs"][0]) >= {"inputs", "cost", "total_cost", "ci", "ci_width"}
    assert main(["design", str(path), "--target", "L at N=1e10,D=2e11", "--candidates",
                 str(grid), "--n", "2", "--cost", "6·N·D"]) == 0
    assert "[[Runs]]" in capsys.readouterr().out
    for argv, message in [
            (["--target", "N_opt at Q=1", "--candidates", str(grid), "--cost", "run"],
             "no budget 'Q'"),
            (["--target", "N_best C=1", "--candidates", str(grid)], "--target"),
            (["--target", TARGET, "--isoflop-grid", "abc"], "--isoflop-grid"),
            (["--target", TARGET, "--candidates", str(grid), "--cost", "6*N*X"], "X")]:
        assert main(["design", str(path), *argv, "--n", "2"]) == 2
        assert message in capsys.readouterr().err
    assert main(["design", str(grid), "--target", TARGET, "--candidates", str(grid),
                 "--n", "2"]) == 2
    assert "not a saved fit" in capsys.readouterr().err
