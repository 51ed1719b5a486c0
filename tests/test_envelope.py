"""Approach 1 (lower envelope): recovery on a synthetic ladder with checkpoints, bracketing,
runs within a size, errors, JSON, CLI and plots."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from lawkit.analysis import envelope, isoflop
from lawkit.cli import main
from lawkit.errors import AnalysisError, DataError
from lawkit.examples.synthetic import CHINCHILLA, ladder, n_opt

A_TRUE = CHINCHILLA["beta"] / (CHINCHILLA["alpha"] + CHINCHILLA["beta"])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_synthetic_ladder_recovers_the_exponent(seed):
    r = envelope(ladder(seed=seed), bootstrap=100)
    assert r.N_law.covers(A_TRUE) and abs(r.N_law.exponent - A_TRUE) < 0.02
    assert r.D_law.covers(1 - A_TRUE)
    assert len(r.used) >= 40
    for b in r.used:
        assert abs(math.log10(b.N_opt / n_opt(b.C))) < 0.1
        assert b.D_opt == pytest.approx(b.C / (6 * b.N_opt), rel=1e-6)


def test_noise_free_ladder_is_nearly_exact():
    r = envelope(ladder(noise=0.0), bootstrap=0)
    assert abs(r.N_law.exponent - A_TRUE) < 2e-3
    assert r.N_law.method == "regression"


def test_grid_points_at_the_ends_of_the_ladder_are_not_bracketed():
    r = envelope(ladder(seed=0), bootstrap=0)
    flags = [b.bracketed for b in r.budgets]
    first, last = flags.index(True), len(flags) - 1 - flags[::-1].index(True)
    assert first > 0 and last < len(flags) - 1  # both ends flagged
    lowest = r.budgets[0]
    assert not lowest.bracketed and ("smallest size" in lowest.reason
                                     or "covered by" in lowest.reason)
    assert r.N_law.n == len(r.used)


def test_runs_within_a_size_take_the_lower_curve():
    good = ladder(seed=0).assign(run="good")
    bad = good.assign(L=good.L + 0.05, run="bad")  # a worse learning rate, same checkpoints
    both = pd.concat([good, bad], ignore_index=True)
    alone = envelope(good, bootstrap=0)
    per_run = envelope(both, run="run", bootstrap=0)
    assert per_run.N_law.exponent == pytest.approx(alone.N_law.exponent, abs=1e-12)
    assert per_run.settings["n_runs"] == 2 * alone.settings["n_runs"]
    merged = envelope(both, bootstrap=0)  # one curve through both runs' points: averaged
    assert [b.L_opt for b in merged.used] != [b.L_opt for b in alone.used]


def test_size_column_equals_grouping_by_n():
    data = ladder(seed=0)
    data["model"] = [f"m{round(math.log10(n) * 4)}" for n in data.N]
    a = envelope(data, size="model", bootstrap=0).N_law.exponent
    b = envelope(data, bootstrap=0).N_law.exponent
    assert a == pytest.approx(b, abs=1e-9)


def test_isoflop_data_gives_a_consistent_envelope():
    """IsoFLOP runs on a shared set of sizes, read both ways, agree within their intervals."""
    rng = np.random.default_rng(0)
    rows = [(n, c / (6 * n), c) for c in np.logspace(17, 22, 11) for n in np.logspace(7, 10.5, 15)
            if abs(math.log10(n / n_opt(c))) <= 1.2]
    data = pd.DataFrame(rows, columns=["N", "D", "C"])
    data["L"] = 1.69 + 406.4 / data.N**0.34 + 410.7 / data.D**0.28 + rng.normal(0, 0.003, len(data))
    e = envelope(data, bootstrap=50)
    i = isoflop(data, bootstrap=50)
    assert e.N_law.covers(A_TRUE) and i.N_law.covers(A_TRUE)
    assert max(e.N_law.ci[0], i.N_law.ci[0]) <= min(e.N_law.ci[1], i.N_law.ci[1])


def test_errors():
    data = ladder(seed=0)
    two_sizes = data[data.N <= np.sort(data.N.unique())[1]]
    with pytest.raises(AnalysisError, match="at least 3 model sizes.*has 2"):
        envelope(two_sizes)
    with pytest.raises(DataError, match="no size column 'model'"):
        envelope(data, size="model")
    with pytest.raises(DataError, match="no run column 'seed'"):
        envelope(data, run="seed")
    with pytest.raises(DataError, match="no column 'D'"):
        envelope(data.drop(columns="D"))
    with pytest.raises(AnalysisError, match="points_per_decade"):
        envelope(data, points_per_decade=0)
    bad = data.copy()
    bad.loc[4, "D"] = 0
    with pytest.raises(DataError, match=r"column 'D'.*: 4"):
        envelope(bad)


def test_json_shape_is_the_isoflop_shape():
    r = envelope(ladder(seed=0), bootstrap=20)
    d = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    assert d["approach"] == "envelope"
    assert {"budgets", "N_exponent", "N_coef", "D_exponent", "D_coef"} <= set(d)
    for b in d["budgets"]:
        assert {"C", "n_points", "N_opt", "N_opt_ci", "D_opt", "D_opt_ci", "L_opt",
                "bracketed"} <= set(b)
    assert d["N_exponent"]["value"] == r.N_law.exponent
    assert "Lower envelope" in r.report()


def test_cli_and_plots(tmp_path, capsys):
    csv = tmp_path / "ladder.csv"
    ladder(seed=0).rename(columns={"L": "loss"}).to_csv(csv, index=False)
    assert main(["envelope", str(csv), "--map", "L=loss", "--bootstrap", "20", "--json",
                 "--plot", str(tmp_path)]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["N_exponent"]["value"] == pytest.approx(A_TRUE, abs=0.02)
    for name in ("envelope.png", "envelope_optima.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["envelope", str(csv)]) == 2
    assert "no column 'L'" in capsys.readouterr().err
    assert main(["envelope", str(csv), "--map", "L=loss", "--run", "seed,lr"]) == 2
    assert "no run column 'seed'" in capsys.readouterr().err
    from lawkit.report.approach_plots import plot_envelope

    r = envelope(ladder(seed=0), bootstrap=0)
    ax = plot_envelope(r).axes[0]
    env = next(ln for ln in ax.lines if ln.get_label() == "envelope")
    ok = np.isfinite([b.L_opt for b in r.budgets])
    assert len(env.get_xdata()) == int(ok.sum())
    assert len(ax.lines) == len(r.curves) + 2  # curves, envelope, minima
