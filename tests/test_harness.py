"""The measurement harness: tiny LM, training, QAT, PTQ (RTN, GPTQ), precisions.
(The store: test_store.py; specs: test_sweep_spec.py; executors: test_executors.py.)"""

from __future__ import annotations


import numpy as np
import pytest
import torch

from conftest import ROOT
from lawkit.harness.data import load_corpus, split
from lawkit.harness.ptq import gptq, gptq_weight, rtn
from lawkit.errors import DataError, LawkitError
from lawkit.harness.precision import bits_of, qat_config
from lawkit.harness.tinylm import ModelConfig, TinyLM
from lawkit.harness.train import TrainConfig, evaluate, resolve_device, train
from lawkit.quant import quantize

SMOKE = ROOT / "examples" / "sweeps" / "smoke.toml"
EVAL = 4096  # a small held-out set keeps these tests fast


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
    cfg, tc = ModelConfig(width=32, depth=1), TrainConfig(tokens=20_000, seed=3, eval_tokens=EVAL)
    a = train(cfg, tc, data)[1]
    b = train(cfg, tc, data)[1]
    assert a["val_loss"] == b["val_loss"] and a["train_curve"] == b["train_curve"]
    c = train(cfg, TrainConfig(tokens=20_000, seed=4, eval_tokens=EVAL), data)[1]
    assert c["val_loss"] != a["val_loss"]


def test_qat_16_bit_matches_full_precision_and_low_bits_hurt(data):
    cfg, tc = ModelConfig(width=48, depth=2), TrainConfig(tokens=60_000, eval_tokens=EVAL)
    full = train(cfg, tc, data)[1]["val_loss"]
    q16 = train(cfg, tc, data, qat_config({"weight": "int16", "activation": "int16", "kv": "int16"}))[1]
    assert q16["val_loss"] == pytest.approx(full, abs=0.01)
    low = [train(cfg, TrainConfig(tokens=60_000, seed=s, eval_tokens=EVAL), data,
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
    import copy

    cfg, tc = ModelConfig(width=48, depth=2), TrainConfig(tokens=60_000, eval_tokens=EVAL)
    model, rec = train(cfg, tc, data)
    val = data.val_batches(16, cfg.seq, 8)
    base = evaluate(model, val)
    calib = [data.batch(np.random.default_rng(9), 16, cfg.seq)[:, :-1] for _ in range(2)]
    losses, models = {}, {}
    for name, fn in [("rtn3", lambda m: rtn(m, "int3")), ("gptq3", lambda m: gptq(m, calib, "int3")),
                     ("rtn8", lambda m: rtn(m, "int8"))]:
        models[name] = fn(copy.deepcopy(model))
        losses[name] = evaluate(models[name], val)
    assert losses["rtn8"] == pytest.approx(base, abs=0.01)
    assert losses["rtn3"] > base and losses["gptq3"] < losses["rtn3"]
    for m in models.values():  # the head is left alone, every other linear layer is quantized
        assert torch.equal(m.head.weight, model.head.weight)
        assert not torch.equal(m.blocks[0].q.weight, model.blocks[0].q.weight)
    w = models["rtn3"].blocks[1].down.weight
    assert torch.equal(w, quantize(model.blocks[1].down.weight, "int3", axis=0))
    assert all(len(torch.unique(row)) <= 7 for row in w)  # 3-bit symmetric: 7 levels per row


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
    cfg, tc = ModelConfig(width=32, depth=1), TrainConfig(tokens=40_000, eval_tokens=EVAL)
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
    cfg, tc = ModelConfig(width=32, depth=1), TrainConfig(tokens=20_000, eval_tokens=EVAL)
    model = train(cfg, tc, data, qat_config({"weight": "int2", "activation": "none", "kv": "none"}))[0]
    for method in ("rtn", "gptq"):
        base, losses = _ptq_losses(model, data, ["int2", "int3", "int4"], method)
        assert losses["int3"] != base and losses["int4"] != base, method
    assert _ptq_losses(model, data, ["int2"])[1]["int2"] == base


def test_float_training_formats(data):
    """e2m1 / e3m2 / e4m3 weights train (per-channel absmax scales) and count their bits."""
    cfg, tc = ModelConfig(width=32, depth=1), TrainConfig(tokens=20_000, eval_tokens=EVAL)
    full = train(cfg, tc, data)[1]["val_loss"]
    for fmt, bits in [("e2m1", 4), ("e3m2", 6), ("float8_e4m3fn", 8)]:
        model, rec = train(cfg, tc, data, qat_config({"weight": fmt, "activation": "none",
                                                      "kv": "none"}))
        assert bits_of(fmt) == bits
        assert np.isfinite(rec["val_loss"]) and abs(rec["val_loss"] - full) < 0.3
        base, losses = _ptq_losses(model, data, [fmt])
        assert losses[fmt] == base


def test_eval_windows_are_fixed_disjoint_and_sized(data):
    wins = data.eval_windows(10_000, 64, batch=32)
    stacked = torch.cat(wins)
    assert stacked.shape == (157, 65) and [len(w) for w in wins][-1] == 157 - 4 * 32
    assert torch.equal(stacked, torch.cat(data.eval_windows(10_000, 64, batch=32)))
    step = (len(data.val) - 65) // 156
    assert torch.equal(stacked[1], torch.from_numpy(data.val[step:step + 65]))
    assert step >= 65  # disjoint windows
    with pytest.raises(DataError, match="eval_tokens"):
        data.eval_windows(len(data.val), 64)


def test_evaluate_is_the_token_mean(data):
    model = TinyLM(ModelConfig(width=16, depth=1))
    wins = data.eval_windows(2048, 64, batch=7)
    with torch.no_grad():
        total = sum(float(model.loss(b)) * len(b) for b in wins) / sum(len(b) for b in wins)
    assert evaluate(model, wins) == pytest.approx(total, rel=1e-6)


def test_corpus_sources(tmp_path):
    text = tmp_path / "a.txt"
    text.write_bytes(b"hello world " * 2000)
    assert load_corpus(str(text))[:5].tolist() == list(b"hello")
    np.save(tmp_path / "t.npy", np.arange(5000) % 300)
    assert load_corpus(str(tmp_path / "t.npy")).max() == 299
    assert bits_of("int4") == 4 and bits_of("e2m1") == 4 and bits_of("none") == 16


def test_bits_of_formats():
    assert [bits_of(f) for f in ["none", "int16", "int4", "uint3", "e2m1", "e3m2",
                                 "float8_e4m3fn", "mxfp4_e2m1", "mxint8"]] == \
        [16, 16, 4, 3, 4, 6, 8, 4, 8]
    with pytest.raises(LawkitError, match="unknown format"):
        bits_of("int4x")


def test_device_passes_through(data):
    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(LawkitError, match="no CUDA"):
            resolve_device("cuda")
        with pytest.raises(LawkitError, match="no CUDA"):
            train(ModelConfig(width=16, depth=1), TrainConfig(tokens=2048, device="cuda"), data)
    model, rec = train(ModelConfig(width=16, depth=1),
                       TrainConfig(tokens=2048, eval_tokens=EVAL, device="auto"), data)
    assert rec["device"] == resolve_device("auto")
    assert next(model.parameters()).device.type == rec["device"].split(":")[0]


@pytest.mark.parametrize("kind", ["weight", "activation", "kv"])
def test_single_kind_qat_quantizes_only_that_kind(data, kind):
    """Weight-only / activation-only / KV-only QAT: only that tensor kind is quantized."""
    from lawkit.harness.train import TrainConfig as TC

    formats = {"weight": "none", "activation": "none", "kv": "none", kind: "int2"}
    model = TinyLM(ModelConfig(width=16, depth=1), qat_config(formats))
    q = model.blocks[0].q
    assert (q.weight_spec.fmt, q.activation_spec.fmt, model.blocks[0].kv.fmt) == \
        tuple(formats[k] if formats[k] != "none" else None for k in ("weight", "activation", "kv"))
    cfg, tc = ModelConfig(width=16, depth=1), TC(tokens=8192, eval_tokens=EVAL)
    assert train(cfg, tc, data, qat_config(formats))[1]["val_loss"] != \
        train(cfg, tc, data)[1]["val_loss"]
