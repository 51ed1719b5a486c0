"""Rollout cross-validation in compare: fit on the sizes up to each one, score the next."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import lawkit
from lawkit.cli import main
from lawkit.compare import are, compare
from lawkit.errors import LawkitError

LAWS = """law sat:
    inputs N
    output L
    params E > 0, A > 0, α ∈ (0, 2)
    L = E + A/N^α

law pure:
    inputs N
    output L
    params A > 0, α ∈ (0, 2)
    L = A/N^α
"""


@pytest.fixture(scope="module")
def laws():
    return lawkit.parse(LAWS)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    n = np.repeat(np.logspace(6, 9, 4), 2)  # 4 sizes, 2 runs each
    return pd.DataFrame({"N": n, "L": (1.7 + 400 / n**0.34) * np.exp(rng.normal(0, 0.005, 8))})


@pytest.fixture(scope="module")
def result(laws, data):
    return compare([laws["pure"], laws["sat"]], data, cv="rollout:N")


def test_steps_walk_up_the_sizes(result, data):
    sizes = np.unique(data.N)
    for score in result.scores:
        steps = score.rollout
        # the first step needs more rows than the 3 parameters of 'sat': sizes 1-2 (4 rows)
        assert [s.train_max for s in steps] == sizes[1:-1].tolist()
        assert [s.test_value for s in steps] == sizes[2:].tolist()
        assert [(s.n_train, s.n_test) for s in steps] == [(4, 2), (6, 2)]
        assert score.cv_are == pytest.approx(np.mean([s.are for s in steps]), rel=1e-15)


def test_each_step_is_a_fit_on_the_smaller_sizes(result, laws, data):
    sat = next(s for s in result.scores if s.name == "sat")
    step = sat.rollout[0]
    train = data[data.N <= step.train_max].reset_index(drop=True)
    part = lawkit.fit(laws["sat"], train)
    assert step.are == pytest.approx(are(part, data[data.N == step.test_value]), rel=1e-12)


def test_the_right_form_extrapolates_better(result):
    # data with an irreducible loss: a pure power law bends the wrong way past its sizes
    assert result.best == "sat" and result.ranked_by == "rollout ARE"
    sat, pure = result.scores
    assert sat.rollout[-1].are < 0.02 < pure.rollout[-1].are  # with 3 sizes to fit on
    assert pure.cv_are > 2 * sat.cv_are, (sat.rollout, pure.rollout)
    d = result.to_dict()["laws"][0]["rollout"]
    assert d["column"] == "N" and d["mean_are"] == sat.cv_are
    assert set(d["steps"][0]) == {"train_max", "test_value", "n_train", "n_test", "are"}
    assert "[[Rollout]]" in result.report()


def test_cli_rollout_and_bad_values(laws, data, tmp_path, capsys):
    law_file = tmp_path / "two.law"
    law_file.write_text(LAWS, encoding="utf-8")
    csv = tmp_path / "d.csv"
    data.rename(columns={"N": "params"}).to_csv(csv, index=False)
    # the rollout column may be named by the law's name of a mapped column
    assert main(["compare", str(law_file), str(csv), "--map", "N=params", "--cv", "rollout:N",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["best"] == "sat"
    assert [len(law["rollout"]["steps"]) for law in out["laws"]] == [2, 2]
    for cv, message in [("abc", "--cv"), ("rollout:", "rollout:COLUMN"),
                        ("rollout:Q", "no column 'Q'"), ("2.5", "--cv")]:
        assert main(["compare", str(law_file), str(csv), "--map", "N=params",
                     "--cv", cv]) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err
    with pytest.raises(LawkitError, match="--cv"):
        compare([laws["sat"]], data, cv="abc")
