"""The measurement harness: tiny LM, QAT, PTQ (RTN, GPTQ), sweeps and the run store."""

from __future__ import annotations

import csv
import io
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from conftest import ROOT
from lawkit.harness.data import load_corpus, split
from lawkit.harness.ptq import gptq, gptq_weight, rtn
from lawkit.harness.store import RunStore, StoreError
from lawkit.harness.sweep import bits_of, export_rows, load_spec, qat_config, run_sweep
from lawkit.harness.tinylm import ModelConfig, TinyLM
from lawkit.harness.train import TrainConfig, evaluate, train
from lawkit.quant import quantize

SMOKE = ROOT / "examples" / "sweeps" / "smoke.toml"


@pytest.fixture(scope="module")
def data():
    return split(load_corpus())


@pytest.mark.parametrize("width, depth, heads", [(32, 1, 4), (64, 3, 4), (48, 2, 6)])
def test_parameter_count_formula(width, depth, heads):
    cfg = ModelConfig(width=width, depth=depth, heads=heads)
    model = TinyLM(cfg)
    emb = model.embed.weight.numel() + model.head.weight.numel()
    assert cfg.n_params == sum(p.numel() for p in model.parameters()) - emb


def test_same_seed_same_loss(data):
    cfg, tc = ModelConfig(width=32, depth=1), TrainConfig(tokens=20_000, seed=3)
    a = train(cfg, tc, data)[1]
    b = train(cfg, tc, data)[1]
    assert a["val_loss"] == b["val_loss"] and a["train_curve"] == b["train_curve"]
    c = train(cfg, TrainConfig(tokens=20_000, seed=4), data)[1]
    assert c["val_loss"] != a["val_loss"]


def test_qat_16_bit_matches_full_precision_and_low_bits_hurt(data):
    cfg, tc = ModelConfig(width=48, depth=2), TrainConfig(tokens=60_000)
    full = train(cfg, tc, data)[1]["val_loss"]
    q16 = train(cfg, tc, data, qat_config({"weight": "int16", "activation": "int16", "kv": "int16"}))[1]
    assert q16["val_loss"] == pytest.approx(full, abs=0.01)
    low = [train(cfg, TrainConfig(tokens=60_000, seed=s), data,
                 qat_config({"weight": "int2", "activation": "int3", "kv": "int3"}))[1]["val_loss"]
           for s in (0, 1)]
    assert np.mean(low) > full + 0.02


def test_gptq_identity_hessian_is_rtn_and_beats_rtn_on_correlated_inputs():
    torch.manual_seed(0)
    W = torch.randn(32, 64)
    same = gptq_weight(W, torch.eye(64), "int4", damp=0.0)
    assert torch.allclose(same, quantize(W, "int4", axis=0), rtol=0, atol=1e-6)  # float64 vs 32
    Z = torch.randn(4000, 8)
    X = Z @ torch.randn(8, 64) + 0.05 * torch.randn(4000, 64)
    H = 2 * X.T @ X / len(X)
    err = {name: float(((X @ (W - q).T) ** 2).mean()) for name, q in [
        ("rtn", quantize(W, "int4", axis=0)), ("gptq", gptq_weight(W, H, "int4")),
        ("gptq_act_order", gptq_weight(W, H, "int4", act_order=True, block=16))]}
    assert err["gptq"] < err["rtn"] and err["gptq_act_order"] < err["rtn"]


def test_ptq_of_a_trained_model(data):
    cfg, tc = ModelConfig(width=48, depth=2), TrainConfig(tokens=60_000)
    model, rec = train(cfg, tc, data)
    val = data.val_batches(16, cfg.seq, 8)
    calib = [data.batch(np.random.default_rng(9), 16, cfg.seq)[:, :-1] for _ in range(2)]
    import copy
    losses = {}
    for name, fn in [("rtn3", lambda m: rtn(m, "int3")), ("gptq3", lambda m: gptq(m, calib, "int3")),
                     ("rtn8", lambda m: rtn(m, "int8"))]:
        m = copy.deepcopy(model)
        fn(m)
        losses[name] = evaluate(m, val)
    assert losses["rtn8"] == pytest.approx(rec["val_loss"], abs=0.01)
    assert losses["rtn3"] > rec["val_loss"] and losses["gptq3"] < losses["rtn3"]
    assert torch.equal(model.head.weight, copy.deepcopy(model).head.weight)  # head left alone


def test_corpus_sources(tmp_path):
    text = tmp_path / "a.txt"
    text.write_bytes(b"hello world " * 2000)
    assert load_corpus(str(text))[:5].tolist() == list(b"hello")
    np.save(tmp_path / "t.npy", np.arange(5000) % 300)
    assert load_corpus(str(tmp_path / "t.npy")).max() == 299
    assert bits_of("int4") == 4 and bits_of("e2m1") == 4 and bits_of("none") == 16


def test_changed_spec_is_not_mixed_silently(tmp_path):
    store = RunStore(tmp_path / "r.db")
    store.register_spec("aaa", "one", "")
    with pytest.raises(StoreError, match="another spec"):
        store.register_spec("bbb", "two", "")
    store.register_spec("bbb", "two", "", append=True)


def _count(db):
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT COUNT(*), COUNT(DISTINCT id) FROM runs").fetchone()
    finally:
        con.close()


def test_sweep_survives_kill_9_and_resumes(tmp_path):
    """A real subprocess is killed with SIGKILL mid-sweep; re-running loses nothing and
    duplicates nothing."""
    db = tmp_path / "runs.db"
    cmd = [sys.executable, "-m", "lawkit", "sweep", str(SMOKE), "--store", str(db), "--no-progress"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline:
        if db.exists():
            try:
                if _count(db)[0] >= 2:
                    break
            except sqlite3.OperationalError:
                pass
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = _count(db)[0]
    assert 2 <= before < 8, "the kill should land mid-sweep"
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert f"{8 - before} run(s) done, {before} already stored" in out.stdout
    assert _count(db) == (8, 8)
    store = RunStore(db)
    rows = export_rows(store)
    assert len(rows) == 8 * (1 + 2 * 2)  # each run, plus 2 methods × 2 formats
    assert all(r["ptq_method"] == "none" or r["P_post"] in (3.0, 4.0) for r in rows)
    store.close()


def test_runs_csv_export_is_fittable(tmp_path):
    from lawkit.cli import main

    db = tmp_path / "r.db"
    spec = load_spec(SMOKE)
    store = RunStore(db)
    small = type(spec)(spec.name, spec.text, spec.data, spec.runs[:2], spec.ptq)
    run_sweep(small, store, progress=False)
    store.close()
    buf = io.StringIO()
    stdout, sys.stdout = sys.stdout, buf
    try:
        assert main(["runs", str(db), "--csv"]) == 0
    finally:
        sys.stdout = stdout
    rows = list(csv.DictReader(io.StringIO(buf.getvalue())))
    assert len(rows) == 2 * 5 and {"N", "D", "P_w", "P_post", "val_loss", "delta_ptq"} <= set(rows[0])


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_ray_executor(tmp_path):
    """Runs as tasks on a local Ray instance; the driver alone writes the store."""
    ray = pytest.importorskip("ray", reason="Ray is an optional extra (pip install ray)")
    spec = load_spec(SMOKE)
    small = type(spec)(spec.name, spec.text, spec.data, spec.runs[:2], spec.ptq)
    store = RunStore(tmp_path / "ray.db")
    try:
        assert run_sweep(small, store, executor="ray", progress=False)["ran"] == 2
        assert _count(tmp_path / "ray.db") == (2, 2)
    finally:
        store.close()
        ray.shutdown()
