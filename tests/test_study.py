"""The committed CPU precision study: REPORT.md is rendered from results.json, and
results.json is recomputed from the committed runs (study/runs.csv)."""

from __future__ import annotations

import json
import sys

import pandas as pd
import pytest

from conftest import ROOT

STUDY = ROOT / "experiments" / "precision-cpu"


@pytest.fixture(scope="module")
def study():
    if not (STUDY / "results.json").exists():
        pytest.skip("the study has no results yet")
    sys.path.insert(0, str(STUDY))
    import analyze

    return analyze


def test_report_is_rendered_from_results(study):
    res = json.loads((STUDY / "results.json").read_text(encoding="utf-8"))
    assert (STUDY / "REPORT.md").read_text(encoding="utf-8") == study.render(res)


def test_results_recompute_from_committed_runs(study):
    res = json.loads((STUDY / "results.json").read_text(encoding="utf-8"))
    again, _ = study.analyze(pd.read_csv(study.RUNS))
    assert json.loads(json.dumps(again)) == res
