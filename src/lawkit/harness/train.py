"""One training run: a seeded TinyLM trained on D tokens, with optional QAT, evaluated on
the validation split; returns the model and a record of the run."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from .data import Splits
from .tinylm import ModelConfig, QATConfig, TinyLM


@dataclass(frozen=True)
class TrainConfig:
    tokens: int = 200_000        # D
    batch: int = 16
    lr: float = 3e-3
    warmup: float = 0.1          # fraction of steps
    weight_decay: float = 0.1
    seed: int = 0
    eval_batches: int = 8
    log_every: int = 10


@torch.no_grad()
def evaluate(model: TinyLM, batches: list[torch.Tensor]) -> float:
    model.eval()
    loss = float(np.mean([model.loss(b).item() for b in batches]))
    model.train()
    return loss


def train(model_cfg: ModelConfig, train_cfg: TrainConfig, data: Splits,
          qat: QATConfig | None = None, device: str = "cpu") -> tuple[TinyLM, dict]:
    """Train; returns (model, record) with the loss curves, N, D, FLOPs = 6·N·D, wall time."""
    torch.manual_seed(train_cfg.seed)
    rng = np.random.default_rng(train_cfg.seed)
    model = TinyLM(model_cfg, qat).to(device)
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
    val = [b.to(device) for b in data.val_batches(train_cfg.batch, model_cfg.seq, train_cfg.eval_batches)]
    curve, t0 = [], time.perf_counter()
    for step in range(steps):
        batch = data.batch(rng, train_cfg.batch, model_cfg.seq).to(device)
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
    record = {"N": n, "D": d, "FLOPs": 6.0 * n * d, "steps": steps,
              "train_curve": curve, "val_loss": evaluate(model, val), "wall_s": wall}
    return model, record
