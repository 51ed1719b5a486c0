"""Saved fits: exact round trips (bootstrap draws, group fits, fixed parameters), the CLI's
--save / predict / optimum on a saved fit, and refusal of corrupt or foreign artifacts."""

from __future__ import annotations

import contextlib
import io
import json
import zipfile

import numpy as np
import pandas as pd
import pytest

import lawkit
from lawkit.analysis import optimum, optimum_distribution
from lawkit.cli import main
from lawkit.examples import path as example
from lawkit.fitting.predict import predict_interval
from lawkit.fitting.saved import SavedFitError, load_fit, save_fit, saved_info

DATA = example("gadre_overtraining")
LAW = lawkit.load("chinchilla")["chinchilla"]


@pytest.fixture(scope="module")
def plain():
    return lawkit.fit(LAW, DATA, starts=8, bootstrap=20, seed=1)


@pytest.fixture(scope="module")
def grouped():
    return lawkit.fit(LAW, DATA, group="dataset", per_group=("E",), fix={"alpha": 0.3},
                      starts=4, bootstrap=6, seed=2)


def same_arrays(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def assert_identical(loaded, original):
    assert loaded.to_dict() == original.to_dict()
    assert json.dumps(loaded.to_dict(), indent=2) == json.dumps(original.to_dict(), indent=2)
    assert loaded.report() == original.report()
    assert list(loaded.params.items()) == list(original.params.items())
    assert same_arrays(loaded.residuals, original.residuals)
    assert same_arrays(loaded.covariance, original.covariance)
    assert list(loaded.bootstrap) == list(original.bootstrap)
    for k in original.bootstrap:
        assert same_arrays(loaded.bootstrap[k], original.bootstrap[k]), k
    for k in original.starts:
        assert same_arrays(loaded.starts[k], original.starts[k]), k
    assert loaded.status is original.status and loaded.goodness == original.goodness
    assert loaded.group_levels == original.group_levels and loaded.labels == original.labels
    assert loaded.law.fingerprint == original.law.fingerprint


def test_round_trip_with_bootstrap_draws(plain, tmp_path):
    out = save_fit(plain, tmp_path / "a.fit", data=DATA)
    loaded = load_fit(out)
    assert_identical(loaded, plain)
    assert len(loaded.bootstrap["E"]) == 20
    # the artifact: JSON manifest, .npy arrays, fit.json = the --json output
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
        assert names[0] == "manifest.json" and "fit.json" in names
        assert all(n.endswith(".npy") for n in names if n.startswith("arrays/"))
        assert z.read("fit.json").decode() == json.dumps(plain.to_dict(), indent=2)
    # same fit, same bytes
    again = save_fit(plain, tmp_path / "b.fit", data=DATA)
    assert out.read_bytes() == again.read_bytes()


def test_round_trip_group_fit_with_fixed_params(grouped, tmp_path):
    loaded = load_fit(save_fit(grouped, tmp_path / "g.fit", data=DATA))
    assert_identical(loaded, grouped)
    assert loaded.settings["fixed"] == {"alpha": 0.3} and loaded.params["alpha"] == 0.3
    assert loaded.group_levels == ("c4_original", "rpj", "rw_original")
    assert np.array_equal(loaded.predict(DATA), grouped.predict(DATA))
    for method in ("bootstrap", "delta"):
        a, b = (predict_interval(f, DATA, method=method) for f in (loaded, grouped))
        assert a.to_dict() == b.to_dict()


def test_data_provenance(plain, tmp_path):
    frame = pd.read_csv(DATA)
    save_fit(plain, tmp_path / "p.fit", data=DATA)
    save_fit(plain, tmp_path / "f.fit", data=frame)
    info = saved_info(tmp_path / "p.fit")
    assert info["data"]["rows"] == 104 and info["data"]["columns"] == ["N", "D", "L"]
    assert info["data"] == saved_info(tmp_path / "f.fit")["data"]  # path or frame: same hash
    assert len(info["data"]["sha256"]) == 64 and info["lawkit_version"] == lawkit.__version__
    lo, hi = info["data"]["budget_ranges"]["C"]
    c = 6 * frame.N.astype(float) * frame.D.astype(float)
    assert lo == pytest.approx(c.min()) and hi == pytest.approx(c.max())
    save_fit(plain, tmp_path / "s.fit", data=frame.iloc[::-1].reset_index(drop=True))
    assert saved_info(tmp_path / "s.fit")["data"]["sha256"] != info["data"]["sha256"]
    with pytest.raises(SavedFitError, match="104"):
        save_fit(plain, tmp_path / "x.fit", data=frame.head(50))


def test_predict_and_optimum_on_loaded_equal_original(plain, tmp_path):
    loaded = load_fit(save_fit(plain, tmp_path / "a.fit"))
    assert np.array_equal(loaded.predict(DATA), plain.predict(DATA))
    at = {"N": [1e9, 7e10], "D": [2e10, 1.4e12]}
    for method in ("bootstrap", "delta"):
        a, b = (predict_interval(f, at=at, method=method) for f in (loaded, plain))
        assert a.to_dict() == b.to_dict()
        assert np.all(a.lower <= a.estimate) or method == "bootstrap"
        assert np.all(a.lower < a.upper)
    kw = dict(over=["N", "D"], at={"C": 1e22})
    assert optimum(LAW, values=loaded, **kw).to_dict() == optimum(LAW, values=plain, **kw).to_dict()
    da, db = optimum_distribution(LAW, loaded, **kw), optimum_distribution(LAW, plain, **kw)
    assert da.ci == db.ci and da.estimate == db.estimate
    for k in db.samples:
        assert np.array_equal(da.samples[k], db.samples[k], equal_nan=True)


def test_delta_method_matches_finite_differences(plain):
    pred = predict_interval(plain, at={"N": 3e9, "D": 6e10}, method="delta", level=0.95)
    base = plain.values()
    grad = []
    for lab in plain.labels:
        h = 1e-6 * abs(base[lab])
        up, dn = dict(base, **{lab: base[lab] + h}), dict(base, **{lab: base[lab] - h})
        grad.append(float(LAW.evaluate(up, N=3e9, D=6e10) - LAW.evaluate(dn, N=3e9, D=6e10))
                    / (2 * h))
    g = np.array(grad)
    se = np.sqrt(g @ plain.covariance @ g) / pred.estimate[0]
    assert pred.upper[0] == pytest.approx(pred.estimate[0] * np.exp(1.959963984540054 * se),
                                          rel=1e-7)
    assert pred.method == "delta" and "delta method" in pred.interval


def run_cli(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(argv)
    return rc, out.getvalue(), err.getvalue()


def test_cli_save_then_json_equal_and_commands(tmp_path):
    fit_path = tmp_path / "cli.fit"
    rc, out, _ = run_cli(["fit", "chinchilla", str(DATA), "--starts", "8", "--bootstrap", "20", "--seed", "1",
                          "--save", str(fit_path), "--json"])
    assert rc == 0
    loaded = load_fit(fit_path)
    assert out == json.dumps(loaded.to_dict(), indent=2) + "\n"  # byte for byte
    rc, out, _ = run_cli(["predict", str(fit_path), "--at", "N=1e9,D=2e10", "--at",
                          "N=7e10,D=1.4e12", "--json"])
    assert rc == 0
    got = json.loads(out)
    ref = predict_interval(loaded, at={"N": [1e9, 7e10], "D": [2e10, 1.4e12]})
    assert got["method"] == "bootstrap" and got["n_draws"] == ref.n_draws
    assert [r["prediction"] for r in got["rows"]] == ref.estimate.tolist()
    assert [r["ci"] for r in got["rows"]] == np.column_stack([ref.lower, ref.upper]).tolist()
    rc, out, _ = run_cli(["predict", str(fit_path), str(DATA), "--method", "delta"])
    assert rc == 0 and "delta method" in out and "observed" in out
    rc, out, _ = run_cli(["optimum", str(fit_path), "--at", "C=1e22", "--json"])
    assert rc == 0
    got = json.loads(out)
    dist = optimum_distribution(LAW, loaded, over=["N", "D"], at={"C": 1e22})
    assert got["at"] == optimum(LAW, values=loaded, over=["N", "D"], at={"C": 1e22}).to_dict()["at"]
    assert got["ci"]["N"] == list(dist.ci["N"]) and got["ci_level"] == 0.95
    rc, out, _ = run_cli(["optimum", "chinchilla", "--values", str(fit_path), "--over", "N,D",
                          "--at", "C=1e22"])
    assert rc == 0 and "95% CI" in out


def corrupt(tmp, good, kind):
    bad = tmp / f"{kind}.fit"
    if kind == "text":
        bad.write_text("N,D,L\n1,2,3\n")
    elif kind == "truncated":
        bad.write_bytes(good.read_bytes()[:400])
    elif kind == "foreign":
        with zipfile.ZipFile(bad, "w") as z:
            z.writestr("hello.txt", "not a fit")
    elif kind == "flipped":  # one byte of an array's payload changed (zip CRC catches it)
        raw = bytearray(good.read_bytes())
        with zipfile.ZipFile(good) as z:
            info = z.getinfo("arrays/0.npy")
        start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 5
        raw[start] ^= 0xFF
        bad.write_bytes(bytes(raw))
    else:
        with zipfile.ZipFile(good) as z:
            members = {n: z.read(n) for n in z.namelist()}
        manifest = json.loads(members["manifest.json"])
        if kind == "newer_format":
            manifest["format_version"] = 99
        elif kind == "newer_lawkit":
            manifest["lawkit_version"] = "99.0"
        elif kind == "other_format":
            manifest["format"] = "somebody-else"
        elif kind == "law_changed":
            manifest["law"]["source"] = manifest["law"]["source"].replace("6·N·D", "8·N·D")
        elif kind == "missing_array":
            del members["arrays/1.npy"]
        members["manifest.json"] = json.dumps(manifest).encode()
        with zipfile.ZipFile(bad, "w") as z:
            for n, payload in members.items():
                z.writestr(n, payload)
    return bad


@pytest.mark.parametrize("kind, message", [
    ("text", "not a saved fit"), ("truncated", "not a saved fit"),
    ("foreign", "no manifest.json"), ("flipped", "corrupt"),
    ("newer_format", "format 99"), ("newer_lawkit", "newer than this lawkit"),
    ("other_format", "not a saved lawkit fit"), ("law_changed", "different law"),
    ("missing_array", "corrupt"),
])
def test_corrupt_foreign_newer_refused(plain, tmp_path, kind, message):
    good = save_fit(plain, tmp_path / "good.fit")
    bad = corrupt(tmp_path, good, kind)
    with pytest.raises(SavedFitError, match=message) as info:
        load_fit(bad)
    assert str(bad) in str(info.value)
    for argv in (["predict", str(bad), "--at", "N=1e9,D=2e10"],
                 ["compare-fits", str(bad), str(good), "--at", "C=1e21"]):
        rc, out, err = run_cli(argv)
        assert rc == 2 and str(bad) in err and "Traceback" not in err and out == ""
