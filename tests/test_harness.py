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
from lawkit.harness.precision import bits_of, qat_config
from lawkit.harness.sweep import export_rows, load_spec, run_sweep
from lawkit.harness.tinylm import ModelConfig, TinyLM
from lawkit.harness.train import TrainConfig, evaluate, train
from lawkit.quant import quantize

SMOKE = ROOT / "examples" / "sweeps" / "smoke.toml"


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models train ~10× faster on one intra-op thread on a shared machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


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


def _ptq_losses(model, data, fmts, method="rtn"):
    import copy

    val = data.val_batches(16, model.cfg.seq, 4)
    calib = [data.batch(np.random.default_rng(9), 16, model.cfg.seq)[:, :-1] for _ in range(2)]
    out = {}
    for fmt in fmts:
        m = copy.deepcopy(model)
        rtn(m, fmt) if method == "rtn" else gptq(m, calib, fmt)
        out[fmt] = evaluate(m, val)
    return evaluate(model, val), out


@pytest.fixture(scope="module")
def int4_weight_model(data):
    cfg, tc = ModelConfig(width=32, depth=1), TrainConfig(tokens=40_000)
    return train(cfg, tc, data, qat_config({"weight": "int4", "activation": "int8", "kv": "none"}))[0]


def test_ptq_of_a_qat_model_replaces_the_training_quantizer(int4_weight_model, data):
    """Kumar et al.'s semantics: the latent weights are quantized to P_post and the training
    weight quantizer is replaced, so PTQ at the training format is exactly a no-op."""
    base, losses = _ptq_losses(int4_weight_model, data, ["int4", "int3", "int2", "int8"])
    assert losses["int4"] == base                       # exactly: same grid, same scales
    assert base < losses["int3"] < losses["int2"]       # below the training format it degrades
    assert losses["int8"] != base                       # not stacked onto the int4 grid
    import copy
    m = rtn(copy.deepcopy(int4_weight_model), "int3")
    assert m.blocks[0].q.weight_spec.fmt is None               # replaced, not stacked
    assert m.blocks[0].q.activation_spec.fmt == "int8"         # activations stay as trained
    assert int4_weight_model.blocks[0].q.weight_spec.fmt == "int4"
    m = gptq(copy.deepcopy(int4_weight_model), [data.val_batches(4, 64, 1)[0][:, :-1]], "int3")
    assert m.blocks[0].down.weight_spec.fmt is None


def test_two_bit_trained_model_is_not_zero_degraded_everywhere(data):
    cfg, tc = ModelConfig(width=32, depth=1), TrainConfig(tokens=20_000)
    model = train(cfg, tc, data, qat_config({"weight": "int2", "activation": "none", "kv": "none"}))[0]
    for method in ("rtn", "gptq"):
        base, losses = _ptq_losses(model, data, ["int2", "int3", "int4"], method)
        assert losses["int3"] != base and losses["int4"] != base, method
    assert _ptq_losses(model, data, ["int2"])[1]["int2"] == base


def test_float_training_formats(data):
    """e2m1 / e3m2 / e4m3 weights train (per-channel absmax scales) and count their bits."""
    cfg, tc = ModelConfig(width=32, depth=1), TrainConfig(tokens=20_000)
    full = train(cfg, tc, data)[1]["val_loss"]
    for fmt, bits in [("e2m1", 4), ("e3m2", 6), ("float8_e4m3fn", 8)]:
        model, rec = train(cfg, tc, data, qat_config({"weight": fmt, "activation": "none",
                                                      "kv": "none"}))
        assert bits_of(fmt) == bits
        assert np.isfinite(rec["val_loss"]) and abs(rec["val_loss"] - full) < 0.3
        base, losses = _ptq_losses(model, data, [fmt])
        assert losses[fmt] == base


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
