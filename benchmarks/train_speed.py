"""Benchmark: training throughput of the harness, three ratios measured in the same run.

1. **Harness overhead**: ``lawkit.harness.train.train`` (data windows drawn per step, gradient
   clipping, LR schedule, loss logging) against a bare torch loop over the same model
   (pre-built batches, forward/backward/AdamW).  Target: overhead ≤ 10%.
2. **QAT cost**: tokens/s with W/A/KV fake quantization (int4 weights per channel, int8
   activations and K/V per tensor) on vs off, eager and under ``torch.compile``.
3. **Sweep throughput**: a small sweep spec (training tokens/s, wall clock) with
   ``--workers 1`` (one process, all cores' threads) against ``--workers K`` (K processes,
   cores // K threads each).

    python benchmarks/train_speed.py [--width 64 --depth 2 --steps 60 --threads 1]
        [--workers 2 --tokens 120000] [--skip overhead,qat,sweep]

The machine's other load changes absolute numbers; the ratios are what counts.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from lawkit.harness.data import load_corpus, split
from lawkit.harness.precision import qat_config
from lawkit.harness.tinylm import ModelConfig, TinyLM
from lawkit.harness.train import TrainConfig, train


def arg(name, default):
    return type(default)(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


def bare_loop(cfg: ModelConfig, batches, seed: int = 0) -> float:
    """Seconds for a plain forward/backward/AdamW loop over ``batches``."""
    torch.manual_seed(seed)
    model = TinyLM(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, betas=(0.9, 0.95), weight_decay=0.1)
    t = time.perf_counter()
    for b in batches:
        loss = model.loss(b)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return time.perf_counter() - t


def overhead(cfg: ModelConfig, data, steps: int, repeats: int = 5) -> None:
    batch = 16
    rng = np.random.default_rng(0)
    batches = [data.batch(rng, batch, cfg.seq) for _ in range(steps)]
    tc = TrainConfig(tokens=steps * batch * cfg.seq, batch=batch, eval_tokens=cfg.seq)
    bare, harness = [], []
    for _ in range(repeats):  # interleaved, best of each: robust to the machine's other load
        bare.append(bare_loop(cfg, batches))
        harness.append(train(cfg, tc, data)[1]["wall_s"])
    tokens = steps * batch * cfg.seq
    b, h = min(bare), min(harness)
    print(f"harness vs bare loop ({steps} steps of {batch}×{cfg.seq}): bare {tokens / b:8.0f} "
          f"tok/s, harness {tokens / h:8.0f} tok/s, overhead {100 * (h / b - 1):+.1f}% "
          f"(target ≤ 10%)")


def step_time(model, batches, compiled: bool, steps: int = 8) -> float:
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    loss_fn = torch.compile(model.loss) if compiled else model.loss

    def step(b):
        loss = loss_fn(b)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for b in batches[:2]:  # warm-up (and compilation)
        step(b)
    t = time.perf_counter()
    for b in batches[2:2 + steps]:
        step(b)
    return (time.perf_counter() - t) / steps


def qat_cost(cfg: ModelConfig, data) -> None:
    rng = np.random.default_rng(0)
    batches = [data.batch(rng, 16, cfg.seq) for _ in range(12)]
    tokens = 16 * cfg.seq
    qat = qat_config({"weight": "int4", "activation": "int8", "kv": "int8"})
    for compiled in (False, True):
        torch.manual_seed(0)
        t_full = step_time(TinyLM(cfg), batches, compiled)
        torch.manual_seed(0)
        t_q = step_time(TinyLM(cfg, qat), batches, compiled)
        label = "compiled" if compiled else "eager"
        print(f"QAT {label:>8}: full {tokens / t_full:9.0f} tok/s, quantized "
              f"{tokens / t_q:9.0f} tok/s, ratio {t_q / t_full:.2f}x")


SWEEP = """name = "bench"
[data]
seq = 64
batch = 16
eval_tokens = 4096
[grid]
models = [{{ width = 32, depth = 2 }}]
tokens = [{tokens}]
seeds = [0, 1, 2, 3]
"""


def sweep_throughput(workers: int, tokens: int) -> None:
    from lawkit.harness.executors import cores

    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "bench.toml"
        spec.write_text(SWEEP.format(tokens=tokens))
        res = {}
        for k in (1, workers):
            db = Path(tmp) / f"w{k}.db"
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "lawkit", "sweep", str(spec), "--store",
                            str(db), "--workers", str(k), "--no-progress"], check=True,
                           capture_output=True, timeout=1800)
            res[k] = time.perf_counter() - t
        d = 4 * (tokens // (16 * 64)) * 16 * 64
        print(f"sweep of 4 runs × {d // 4:,} tokens on {cores()} cores: --workers 1 "
              f"{d / res[1]:7.0f} tok/s ({res[1]:.1f} s), --workers {workers} "
              f"{d / res[workers]:7.0f} tok/s ({res[workers]:.1f} s), "
              f"speed-up {res[1] / res[workers]:.2f}x (process start-up included)")


def main() -> None:
    skip = set(arg("--skip", "").split(","))
    torch.set_num_threads(arg("--threads", 1))  # tiny models: one thread is fastest
    cfg = ModelConfig(width=arg("--width", 64), depth=arg("--depth", 2), seq=64)
    data = split(load_corpus())
    print(f"TinyLM width={cfg.width} depth={cfg.depth} N={cfg.n_params:,}, "
          f"torch threads={torch.get_num_threads()}")
    if "overhead" not in skip:
        overhead(cfg, data, arg("--steps", 60))
    if "qat" not in skip:
        qat_cost(cfg, data)
    if "sweep" not in skip:
        sweep_throughput(arg("--workers", 2), arg("--tokens", 120_000))


if __name__ == "__main__":
    main()
