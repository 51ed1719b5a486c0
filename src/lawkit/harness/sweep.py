"""Sweeps: a TOML spec → a grid of runs (model size × tokens × training precision × seed),
each trained once, post-training quantized for every PTQ setting, and stored.

    name = "smoke"
    [data]   corpus = "stdlib", seq = 64, batch = 16, lr = 3e-3
    [grid]   models = [{width = 32, depth = 2}, …], tokens = [100000, …],
             train = ["none", "int4", {weight = "int4", activation = "int8", kv = "int8"}],
             seeds = [0]
    [ptq]    methods = ["rtn", "gptq"], formats = ["int3", "int4"], calibration_batches = 4

A training precision given as one name applies to weights (per channel), activations and
K/V (per tensor) alike; "none" is full precision.  Run ids hash the run's full config.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..errors import LawkitError
from ..quant import QuantSpec
from .precision import bits_of, qat_config  # noqa: F401  (re-exported)
from .store import RunStore
from .tinylm import ModelConfig


def _hash(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()


def _train_formats(entry) -> dict:
    if isinstance(entry, str):
        return {"weight": entry, "activation": entry, "kv": entry}
    if isinstance(entry, dict) and set(entry) <= {"weight", "activation", "kv"}:
        return {k: entry.get(k, "none") for k in ("weight", "activation", "kv")}
    raise LawkitError(f"a [grid] train entry must be a format name or a table with weight/"
                      f"activation/kv, not {entry!r}")


@dataclass(frozen=True)
class Sweep:
    name: str
    text: str
    data: dict
    runs: tuple[dict, ...]
    ptq: dict

    @property
    def hash(self) -> str:
        return _hash({"data": self.data, "runs": self.runs, "ptq": self.ptq})


def load_spec(path: str | Path) -> Sweep:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        spec = tomllib.loads(text)
    except FileNotFoundError:
        raise LawkitError(f"sweep spec not found: {path}") from None
    except tomllib.TOMLDecodeError as err:
        raise LawkitError(f"{path}: {err}") from None
    data = {"corpus": "stdlib", "seq": 64, "batch": 16, "lr": 3e-3, **spec.get("data", {})}
    grid = spec.get("grid", {})
    missing = [k for k in ("models", "tokens") if k not in grid]
    if missing:
        raise LawkitError(f"{path}: [grid] needs {', '.join(missing)}")
    runs = []
    for model, tokens, train, seed in itertools.product(
            grid["models"], grid["tokens"], grid.get("train", ["none"]), grid.get("seeds", [0])):
        cfg = {"model": {"width": int(model["width"]), "depth": int(model["depth"]),
                         "heads": int(model.get("heads", 4)), "seq": int(data["seq"])},
               "tokens": int(tokens), "train": _train_formats(train), "seed": int(seed),
               "batch": int(data["batch"]), "lr": float(data["lr"]), "corpus": data["corpus"]}
        ModelConfig(**cfg["model"])
        for f in cfg["train"].values():
            if f != "none":
                QuantSpec(f)
        runs.append(cfg)
    ptq = {"methods": list(spec.get("ptq", {}).get("methods", [])),
           "formats": list(spec.get("ptq", {}).get("formats", [])),
           "calibration_batches": int(spec.get("ptq", {}).get("calibration_batches", 4))}
    return Sweep(spec.get("name", path.stem), text, data, tuple(runs), ptq)


def run_id(cfg: dict, ptq: dict) -> str:
    return _hash({"run": cfg, "ptq": ptq})[:16]


def execute(cfg: dict, ptq: dict) -> tuple[dict, list]:
    """Train one run and evaluate every PTQ setting; pure (no store access)."""
    import copy

    import numpy as np

    from .data import load_corpus, split
    from .ptq import gptq, rtn
    from .train import TrainConfig, evaluate, train

    data = split(load_corpus(cfg["corpus"]))
    model_cfg = ModelConfig(**cfg["model"])
    tcfg = TrainConfig(tokens=cfg["tokens"], batch=cfg["batch"], lr=cfg["lr"], seed=cfg["seed"])
    model, record = train(model_cfg, tcfg, data, qat_config(cfg["train"]))
    val = data.val_batches(tcfg.batch, model_cfg.seq, tcfg.eval_batches)
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
                gptq(m, calib, fmt)
            else:
                raise LawkitError(f"unknown PTQ method {method!r} (rtn, gptq)")
            results.append((method, fmt, evaluate(m, val)))
    return record, results


def run_sweep(spec: Sweep, store: RunStore, *, append: bool = False, progress: bool = True,
              executor: str = "serial") -> dict:
    """Run every run of ``spec`` not yet in ``store``; returns counts."""
    store.register_spec(spec.hash, spec.name, spec.text, append=append)
    done = store.done()
    pending = [(run_id(c, spec.ptq), c) for c in spec.runs]
    pending = [(i, c) for i, c in pending if i not in done]
    skipped = len(spec.runs) - len(pending)
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=len(spec.runs), initial=skipped, desc=f"sweep {spec.name}", unit="run")
    if executor == "ray":
        from .ray_executor import run_with_ray
        results = run_with_ray(pending, spec.ptq)
    else:
        results = ((i, c, *execute(c, spec.ptq)) for i, c in pending)
    ran = 0
    for i, c, record, ptq in results:
        store.write(i, spec.hash, c, record, ptq)
        ran += 1
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    return {"total": len(spec.runs), "skipped": skipped, "ran": ran}


def export_rows(store: RunStore) -> list[dict]:
    """One row per (run, PTQ setting), plus the run itself without PTQ — ready for fitting."""
    rows = []
    for r in store.rows():
        cfg = r["config"]
        base = {"run_id": r["id"], "spec": r["spec"][:10], "N": r["N"], "D": r["D"],
                "FLOPs": r["FLOPs"], "width": cfg["model"]["width"], "depth": cfg["model"]["depth"],
                "seed": cfg["seed"], "P_w": bits_of(cfg["train"]["weight"]),
                "P_a": bits_of(cfg["train"]["activation"]), "P_kv": bits_of(cfg["train"]["kv"]),
                "train_format": cfg["train"]["weight"], "val_loss_train": r["val_loss"],
                "wall_s": r["wall_s"]}
        rows.append({**base, "ptq_method": "none", "ptq_format": "none", "P_post": 16.0,
                     "val_loss": r["val_loss"], "delta_ptq": 0.0})
        for method, fmt, loss in r["ptq"]:
            rows.append({**base, "ptq_method": method, "ptq_format": fmt, "P_post": bits_of(fmt),
                         "val_loss": loss, "delta_ptq": loss - r["val_loss"]})
    return rows
