"""One training run: a seeded TinyLM trained on D tokens, with optional QAT, evaluated on
the fixed held-out set; returns the model and a record of the run.

Schedule: AdamW (β = 0.9, 0.95), linear warm-up over ``warmup``·steps, cosine decay to 10%,
gradient clipping at 1; steps = ⌊tokens / (batch·seq)⌋, so D = steps·batch·seq.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from ..errors import LawkitError
from .data import Splits
from .tinylm import ModelConfig, QATConfig, TinyLM


# The fixed held-out set: 2048 windows of 64 tokens.  Measured on width-32/64 models: the
# paired standard error of a PTQ degradation (same windows, two models) is 0.0005–0.0007
# nats, against effects of 0.005–0.2 nats (see docs/harness.md).
EVAL_TOKENS = 131_072


@dataclass(frozen=True)
class TrainConfig:
    tokens: int = 200_000        # D
    batch: int = 16
    lr: float = 3e-3
    warmup: float = 0.1          # fraction of steps
    weight_decay: float = 0.1
    seed: int = 0
    eval_tokens: int = EVAL_TOKENS  # size of the fixed held-out set
    log_every: int = 10
    device: str = "cpu"          # "cpu", "cuda", "cuda:1", or "auto"


def resolve_device(device: str | None) -> str:
    """"auto" → "cuda" when torch sees a GPU, else "cpu"; a CUDA device that is not there
    is an error, not a silent fallback."""
    device = device or "cpu"
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise LawkitError(f"device {device!r} asked for, but torch sees no CUDA GPU "
                          f"(use 'cpu' or 'auto')")
    try:
        torch.device(device)
    except RuntimeError:
        raise LawkitError(f"unknown device {device!r} (cpu, cuda, cuda:N, auto)") from None
    return device


@torch.no_grad()
def evaluate(model: TinyLM, batches: list[torch.Tensor]) -> float:
    """Mean next-token cross-entropy over every target token of ``batches`` (nats)."""
    dev = next(model.parameters()).device
    was = model.training
    model.eval()
    total, count = 0.0, 0
    for b in batches:
        n = b.shape[0] * (b.shape[1] - 1)
        total += float(model.loss(b.to(dev))) * n
        count += n
    model.train(was)
    return total / count


def train(model_cfg: ModelConfig, train_cfg: TrainConfig, data: Splits,
          qat: QATConfig | None = None, device: str | None = None) -> tuple[TinyLM, dict]:
    """Train; returns (model, record) with the loss curve, N, D, FLOPs = 6·N·D, wall time.
    ``device`` overrides ``train_cfg.device``."""
    dev = resolve_device(device or train_cfg.device)
    torch.manual_seed(train_cfg.seed)
    rng = np.random.default_rng(train_cfg.seed)
    model = TinyLM(model_cfg, qat).to(dev)
    steps = max(1, train_cfg.tokens // (train_cfg.batch * model_cfg.seq))
    opt = torch.optim.AdamW(model.parameters(), lr=train_cfg.lr, betas=(0.9, 0.95),
                            weight_decay=train_cfg.weight_decay)
    warm = max(1, int(train_cfg.warmup * steps))

    def lr_at(step: int) -> float:  # linear warm-up, cosine decay to 10%
        if step < warm:
            return (step + 1) / warm
        p = (step - warm) / max(1, steps - warm)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    curve, t0 = [], time.perf_counter()
    for step in range(steps):
        batch = data.batch(rng, train_cfg.batch, model_cfg.seq).to(dev)
        loss = model.loss(batch)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % train_cfg.log_every == 0 or step == steps - 1:
            curve.append((step, float(loss.item())))
    wall = time.perf_counter() - t0
    n = model_cfg.n_params
    d = steps * train_cfg.batch * model_cfg.seq
    val = data.eval_windows(train_cfg.eval_tokens, model_cfg.seq)
    record = {"N": n, "D": d, "FLOPs": 6.0 * n * d, "steps": steps, "device": dev,
              "train_curve": curve, "val_loss": evaluate(model, val), "wall_s": wall}
    return model, record
