"""Benchmark: training-step throughput (tokens/s) of a TinyLM with W/A/KV fake quantization
(int4 weights per channel, int8 activations and K/V per tensor) on vs off, in the same run,
eager and with the model under ``torch.compile``.

    python benchmarks/train_speed.py [--width 256 --depth 4]

Target: quantized/full-precision step-time ratio ≤ 1.5 with compiled kernels.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import torch

from lawkit.harness.data import load_corpus, split
from lawkit.harness.sweep import qat_config
from lawkit.harness.tinylm import ModelConfig, TinyLM


def arg(name, default):
    return int(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


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


def main() -> None:
    cfg = ModelConfig(width=arg("--width", 256), depth=arg("--depth", 4), seq=128)
    data = split(load_corpus())
    rng = np.random.default_rng(0)
    batches = [data.batch(rng, 16, cfg.seq) for _ in range(12)]
    tokens = 16 * cfg.seq
    qat = qat_config({"weight": "int4", "activation": "int8", "kv": "int8"})
    print(f"TinyLM width={cfg.width} depth={cfg.depth} N={cfg.n_params:,} batch=16×{cfg.seq}, "
          f"threads={torch.get_num_threads()}")
    for compiled in (False, True):
        torch.manual_seed(0)
        t_full = step_time(TinyLM(cfg), batches, compiled)
        torch.manual_seed(0)
        t_q = step_time(TinyLM(cfg, qat), batches, compiled)
        label = "compiled" if compiled else "eager"
        print(f"{label:>8}: full {tokens / t_full:9.0f} tok/s, quantized {tokens / t_q:9.0f} tok/s, "
              f"overhead {t_q / t_full:.2f}x")


if __name__ == "__main__":
    main()
