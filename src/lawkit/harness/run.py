"""One run of a sweep, pure (no store access): train one config, then evaluate every PTQ
setting on a copy of the trained model (see :mod:`lawkit.harness.ptq` for the semantics
on QAT-trained models).  Executors call :func:`execute_job` in whatever process runs it."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass

import numpy as np

from ..errors import LawkitError
from .precision import qat_config


@dataclass(frozen=True)
class Job:
    """A pending run: its id and its config (the dict a spec expands to)."""

    id: str
    config: dict


@dataclass(frozen=True)
class RunResult:
    """``record``: N, D, FLOPs, steps, device, train_curve, val_loss, wall_s (training),
    ptq_s; ``ptq``: (method, format, val_loss) for every PTQ setting."""

    record: dict
    ptq: tuple[tuple[str, str, float], ...]


def execute(cfg: dict, ptq: dict, device: str = "cpu") -> RunResult:
    """Train the run ``cfg`` on ``device`` and evaluate every (method, format) of ``ptq``."""
    from .data import load_corpus, split
    from .ptq import gptq, rtn
    from .tinylm import ModelConfig
    from .train import EVAL_TOKENS, TrainConfig, evaluate, train

    data = split(load_corpus(cfg["corpus"]))
    model_cfg = ModelConfig(**cfg["model"])
    tcfg = TrainConfig(tokens=cfg["tokens"], batch=cfg["batch"], lr=cfg["lr"],
                       warmup=cfg.get("warmup", 0.1), weight_decay=cfg.get("weight_decay", 0.1),
                       seed=cfg["seed"], eval_tokens=cfg.get("eval_tokens", EVAL_TOKENS),
                       device=device)
    model, record = train(model_cfg, tcfg, data, qat_config(cfg["train"]))
    t0 = time.perf_counter()
    val = data.eval_windows(tcfg.eval_tokens, model_cfg.seq)
    rng = np.random.default_rng(10_000 + cfg["seed"])  # calibration windows, fixed per seed
    calib = [data.batch(rng, tcfg.batch, model_cfg.seq)[:, :-1]
             for _ in range(ptq["calibration_batches"])]
    results = []
    for method in ptq["methods"]:
        for fmt in ptq["formats"]:
            m = copy.deepcopy(model)
            if method == "rtn":
                rtn(m, fmt)
            elif method == "gptq":
                gptq(m, calib, fmt, device=record["device"])
            else:
                raise LawkitError(f"unknown PTQ method {method!r} (rtn, gptq)")
            results.append((method, fmt, evaluate(m, val)))
    record = {**record, "ptq_s": time.perf_counter() - t0}
    return RunResult(record=record, ptq=tuple(results))


def execute_job(job: Job, ptq: dict, device: str = "cpu") -> RunResult:
    """:func:`execute` for one :class:`Job` (the task executors map over)."""
    return execute(job.config, ptq, device)
