"""Hostile inputs to the workflow commands (saved fits, predict, optimum, compare-fits,
design, reports, --map, validate --baseline): each ends in a lawkit error — exit 2, no
traceback, a message naming the problem and where — and writes nothing it should not."""

from __future__ import annotations

import copy
import json
import shutil
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lawkit
from lawkit.cli import main
from lawkit.fitting.saved import SavedFitError, load_fit, save_fit

ROOT = Path(__file__).resolve().parents[1]
STUDY = ROOT / "experiments" / "precision-cpu"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Good fits (Chinchilla and Kaplan L(N) on the bundled ladder) and tampered copies."""
    d = tmp_path_factory.mktemp("hostile")
    law = lawkit.load("chinchilla")["chinchilla"]
    good = save_fit(lawkit.fit(law, "example:ladder_synthetic"), d / "lad.fit",
                    data="example:ladder_synthetic")
    kn_law = lawkit.load("kaplan_n")["kaplan_n"]
    save_fit(lawkit.fit(kn_law, "example:ladder_synthetic"), d / "kn.fit",
             data="example:ladder_synthetic")
    src = zipfile.ZipFile(good)
    manifest = json.loads(src.read("manifest.json"))

    def tampered(name, change):
        m = copy.deepcopy(manifest)
        change(m)
        with zipfile.ZipFile(d / name, "w") as z:
            z.writestr("manifest.json", json.dumps(m))
            for member in src.namelist():
                if member != "manifest.json":
                    z.writestr(member, src.read(member))

    tampered("paramsstr.fit", lambda m: m["fields"].__setitem__("params", "hello"))
    tampered("paramsnan.fit", lambda m: m["fields"]["params"].__setitem__("E", {"$float": "nan"}))
    tampered("paramsmissing.fit", lambda m: m["fields"]["params"].pop("beta"))
    tampered("covwrong.fit", lambda m: m["fields"].__setitem__("covariance", {"$array": 0}))
    tampered("nstr.fit", lambda m: m["fields"].__setitem__("n", "many"))
    tampered("datastr.fit", lambda m: m.__setitem__("data", "x"))
    tampered("brneg.fit", lambda m: m["data"].__setitem__("budget_ranges", {"C": [-1, 5]}))
    tampered("brstr.fit", lambda m: m["data"].__setitem__("budget_ranges", {"C": [1, "x"]}))
    tampered("brunknown.fit", lambda m: m["data"].__setitem__("budget_ranges", {"Q": [1, 5]}))
    (d / "dir.fit").mkdir()
    (d / "empty.law").write_text("")
    pd.DataFrame({"N": [1e8, 3e8, 1e9], "D": [2e9, 6e9, 2e10]}).to_csv(d / "cand.csv",
                                                                         index=False)
    if (STUDY / "study" / "runs.csv").exists():
        runs = pd.read_csv(STUDY / "study" / "runs.csv")
        runs.loc[5, "val_loss_train"] = np.nan
        runs.to_csv(d / "runs_nan.csv", index=False)
    return d


T = "L at N=7e10,D=1.4e12"
VALIDATE = ["validate", str(STUDY / "laws.law"), "{d}/runs_nan.csv", "--law", "ptq", "--term", "delta_PTQ",
            "--reference", "P_post >= 16", "--where", "P_w >= 16 and ptq_method != gptq",
            "--map", "L=val_loss", "--bootstrap", "0"]

CASES = [
    # saved fits that are corrupt in ways the ZIP layer does not see
    (["predict", "{d}/dir.fit", "--at", "N=1e9,D=2e10"], "is a directory"),
    (["predict", "{d}/paramsstr.fit", "--at", "N=1e9,D=2e10"], "field 'params'"),
    (["predict", "{d}/paramsnan.fit", "--at", "N=1e9,D=2e10"], "not a finite number"),
    (["predict", "{d}/paramsmissing.fit", "--at", "N=1e9,D=2e10"], "lacks parameter 'beta'"),
    (["predict", "{d}/covwrong.fit", "--at", "N=1e9,D=2e10"], "field 'covariance'"),
    (["predict", "{d}/nstr.fit", "--at", "N=1e9,D=2e10"], "field 'n'"),
    (["predict", "{d}/datastr.fit", "--at", "N=1e9,D=2e10"], "data provenance"),
    (["design", "{d}/paramsnan.fit", "--target", T, "--candidates", "{d}/cand.csv", "--n", "2"],
     "field 'params'"),
    # predict --at
    (["predict", "{d}/lad.fit", "--at", "N=-1e9,D=2e10"], "input 'N' is zero or negative"),
    (["predict", "{d}/lad.fit", "--at", "N=0,D=2e10"], "point(s) 1"),
    (["predict", "{d}/lad.fit", "--at", "N=1e9,D=2e10,Q=5"], "'Q', not an input"),
    (["predict", "{d}/kn.fit", "--at", "N=1e9,D=2e10"], "'D', not an input"),
    (["predict", "{d}/lad.fit", "--at", "N=1e9,D=2e10,N=3"], "'N' twice"),
    (["predict", "{d}/lad.fit", "--at", "N=\u0663,D=2e10"], "not a number"),
    (["predict", "{d}/lad.fit", "--at", "N=\uff11e9,D=2e10"], "not a number"),
    # optimum
    (["optimum", "{d}/lad.fit", "--at", "C=5e23,C=6e23"], "'C' twice"),
    (["optimum", "{d}/lad.fit", "--at", "C=5e23", "--over", "N,D,N"], "names an input twice"),
    (["optimum", "{d}/lad.fit", "--at", "C=5e23", "--level", "2"], "--level"),
    (["optimum", "{d}/lad.fit", "--at", "Q=5"], "'Q' is neither an input nor a budget"),
    (["optimum", "chinchilla", "--values", "{d}/dir.fit", "--at", "C=5e23"], "a directory"),
    (["optimum", "{d}/empty.law", "--at", "C=5e23"], "holds no law"),
    # compare-fits
    (["compare-fits", "{d}/datastr.fit", "{d}/lad.fit"], "data provenance"),
    (["compare-fits", "{d}/brneg.fit", "{d}/lad.fit"], "range of C that is not positive"),
    (["compare-fits", "{d}/brstr.fit", "{d}/lad.fit"], "budget_ranges"),
    (["compare-fits", "{d}/brunknown.fit", "{d}/lad.fit"], "--at C="),
    (["compare-fits", "{d}/lad.fit", "{d}/lad.fit", "--at", "C=1e21", "--level", "7"],
     "--level"),
    (["compare-fits", "{d}/lad.fit", "{d}/lad.fit", "--at", "C=1e-300"], "not finite"),
    (["compare-fits", "{d}/lad.fit", "{d}/lad.fit", "--at", "Q=1e21"],
     "'Q' is neither an input nor a budget"),
    (["compare-fits", "{d}/lad.fit", "{d}/lad.fit", "--at", "C=1e21,C=1e22"], "'C' twice"),
    (["compare-fits", "{d}/lad.fit", "{d}/lad.fit", "--at", "C=1e21", "--over", "N,N"],
     "names an input twice"),
    # design
    (["design", "{d}/lad.fit", "--target", "N_opt at Q=1e24", "--candidates", "{d}/cand.csv",
      "--n", "2"], "no budget 'Q'"),
    (["design", "{d}/lad.fit", "--target", "N_opt at C=1e24,C=1e25", "--candidates",
      "{d}/cand.csv", "--n", "2"], "'C' is given twice"),
    (["design", "{d}/lad.fit", "--target", "L at N=\u0663,D=2e10", "--candidates",
      "{d}/cand.csv", "--n", "2"], "not a number"),
    (["design", "{d}/lad.fit", "--target", "N_opt at C=1e24", "--isoflop-grid",
      "1e17:1e20:1000000000", "--n", "2"], "at most 1000"),
    (["design", "{d}/lad.fit", "--target", "N_opt at C=1e24", "--isoflop-grid", "1e20",
      "--grid-points", "100000000", "--n", "2"], "at most 1000 sizes"),
    (["design", "{d}/lad.fit", "--target", "N_opt at C=1e24", "--isoflop-grid", "1e20",
      "--grid-width", "1e6", "--n", "2"], "float64's range"),
    (["design", "{d}/lad.fit", "--target", "N_opt at C=1e24", "--isoflop-grid", "1e20",
      "--grid-out", "{d}/dir.fit", "--n", "2"], "--grid-out"),
    (["design", "{d}/kn.fit", "--target", "L at N=1e9", "--candidates", "{d}/cand.csv",
      "--n", "2"], "--cost '6*N*D': unknown name 'D'"),
    (["design", "{d}/kn.fit", "--target", "N_opt at C=1e24", "--isoflop-grid", "1e20",
      "--n", "2"], "unknown name 'D'"),
    (["design", "{d}/lad.fit", "--target", T, "--candidates", "{d}/cand.csv", "--cost",
      "__import__('os').system('echo x')", "--n", "2"], "--cost"),
    (["design", "{d}/lad.fit", "--target", T, "--candidates", "{d}/cand.csv", "--cost",
      "0*N", "--n", "2"], "--cost '0*N'"),
    # output files, checked before any fit runs
    (["fit", "chinchilla", "example:ladder_synthetic", "--report", "{d}/x.pdf"], ".pdf"),
    (["fit", "chinchilla", "example:ladder_synthetic", "--report", "{d}/dir.fit"], "--report"),
    (["fit", "chinchilla", "example:ladder_synthetic", "--out", "{d}/dir.fit"], "--out"),
    (["fit", "chinchilla", "example:ladder_synthetic", "--save", "{d}/dir.fit"], "--save"),
    (["fit", "chinchilla", "example:ladder_synthetic", "--out", "{d}/nope/x.json"], "--out"),
    (["fit", "chinchilla", "example:ladder_synthetic", "--bootstrap", "-5"], "--bootstrap"),
    (["fit", "chinchilla", "example:ladder_synthetic", "--starts", "100000000"], "--starts"),
    (["fit", "chinchilla", "example:ladder_synthetic", "--map", "N=D,N=L"], "'N' twice"),
    (["compare", "chinchilla", "kaplan_nd", "example:ladder_synthetic", "--map", "N=D,N=L"],
     "twice"),
    (["compare", "chinchilla", "kaplan_nd", "example:ladder_synthetic", "--report",
      "{d}/x.pdf"], ".pdf"),
    (["isoflop", "example:isoflop_synthetic", "--report", "{d}/x.txt"], ".txt"),
    # validate --baseline
    (VALIDATE + ["--baseline", "val_loss_train"], "row(s) of the data (5;"),
    (VALIDATE + ["--baseline", "val_loss"], "is the output column itself"),
    (VALIDATE + ["--baseline", "ptq_method"], "not a positive finite loss"),
    (VALIDATE + ["--report", "{d}/x.pdf", "--baseline", "val_loss_train"], ".pdf"),
]


@pytest.mark.parametrize("argv,needle", CASES, ids=lambda c: " ".join(c)[:70]
                         if isinstance(c, list) else None)
def test_hostile_cli(files, capsys, argv, needle):
    if "{d}/runs_nan.csv" in argv and not (files / "runs_nan.csv").exists():
        pytest.skip("the precision study's runs.csv is not in this checkout")
    argv = [a.replace("{d}", str(files)) for a in argv]
    before = sorted(p.name for p in files.iterdir())
    t0 = time.perf_counter()
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse
        rc = exc.code
    elapsed = time.perf_counter() - t0
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "Traceback" not in err
    assert needle in err, err
    assert elapsed < 10
    assert sorted(p.name for p in files.iterdir()) == before  # nothing written or lost


def test_load_fit_api_rejects_tampered_fields(files):
    for name in ("paramsstr", "paramsnan", "covwrong", "nstr", "datastr"):
        with pytest.raises(SavedFitError, match="corrupt saved fit"):
            load_fit(files / f"{name}.fit")
    good = load_fit(files / "lad.fit")
    assert set(good.params) == {"E", "A", "B", "alpha", "beta"}


def test_predict_api_domain_and_names(files):
    from lawkit.errors import DataError
    from lawkit.fitting.predict import predict_interval

    fit = load_fit(files / "lad.fit")
    with pytest.raises(DataError, match=r"input 'N' is zero or negative at point\(s\) 2"):
        predict_interval(fit, at={"N": [1e9, -1.0], "D": [2e10, 2e10]})
    with pytest.raises(DataError, match=r"column 'N' \(input 'N'\) is zero or negative at row"):
        predict_interval(fit, pd.DataFrame({"N": [0.0], "D": [1e9]}))
    with pytest.raises(DataError, match="'Nn', not an input.*did you mean 'N'"):
        predict_interval(fit, at={"Nn": 1e9, "D": 2e10})
    ok = predict_interval(fit, at={"N": 1e9, "D": 2e10})
    assert np.isfinite(ok.estimate).all() and ok.lower[0] < ok.estimate[0] < ok.upper[0]


def test_report_path_check_keeps_directory(tmp_path):
    from lawkit.errors import LawkitError
    from lawkit.report import check_report_path, write_report

    (tmp_path / "r.html").mkdir()
    with pytest.raises(LawkitError, match="is a directory"):
        write_report(tmp_path / "r.html", "text", {})
    assert (tmp_path / "r.html").is_dir()
    assert check_report_path(tmp_path / "new" / "r.md").suffix == ".md"
    shutil.rmtree(tmp_path / "r.html")


def test_optimum_with_a_budget_no_positive_inputs_meet(capsys):
    """C = −6·N·D has a complex closed form; the answer is an error naming the budget."""
    code = main(["optimum", "chinchilla", "--values", "hoffmann2022", "--budget",
                 "C = -6*N*D", "--at", "C=1e22", "--over", "N,D"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and "ImaginaryUnit" not in err
    assert "budget C = -6*D*N" in err
