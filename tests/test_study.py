"""The committed CPU precision study: REPORT.md is rendered from results.json, and
results.json is recomputed from the committed runs (study/runs.csv)."""

from __future__ import annotations

import json
import math
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


def _close(a, b, path="") -> list[str]:
    """Where a and b differ: structure and text exactly, numbers to 1e-3 relative (a fit
    on another CPU ends a few ulps of its tolerance away; results.json keeps 6 digits)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return [f"{path}: keys {sorted(set(a) ^ set(b))}"]
        return [d for k in a for d in _close(a[k], b[k], f"{path}/{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} != {len(b)} items"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in _close(x, y, f"{path}[{i}]")]
    if (isinstance(a, (int, float)) and isinstance(b, (int, float))
            and not isinstance(a, bool) and not isinstance(b, bool)):
        return [] if math.isclose(a, b, rel_tol=1e-3, abs_tol=1e-9) else [f"{path}: {a} != {b}"]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def test_close_finds_real_differences():
    assert _close({"a": [1.0, "x"]}, {"a": [1.0000001, "x"]}) == []
    assert _close({"a": [1.0, "x"]}, {"a": [1.01, "x"]}) == ["/a[0]: 1.0 != 1.01"]
    assert _close({"a": 1}, {"b": 1}) and _close([1], [1, 2]) and _close("x", "y")


@pytest.mark.slow  # ~75 s of fits and bootstraps; .ci/run runs it
def test_results_recompute_from_committed_runs(study):
    res = json.loads((STUDY / "results.json").read_text(encoding="utf-8"))
    again, _ = study.analyze(pd.read_csv(study.RUNS))
    assert _close(json.loads(json.dumps(again)), res) == []
