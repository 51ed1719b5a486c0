"""Sweep specs: a TOML file → a validated :class:`Sweep` (its grid of runs), checked in full
before anything trains.

    name = "smoke"
    [data]   corpus = "stdlib", seq = 64, batch = 16, lr = 3e-3, eval_tokens = 131072,
             device = "cpu"                      # or "cuda", "auto"
    [grid]   models = [{width = 32, depth = 2}, …], tokens = [100000, …],
             train = ["none", "int4", "e2m1", {weight = "int4", activation = "int8", kv = "int8"}],
             seeds = [0, 1]
    [ptq]    methods = ["rtn", "gptq"], formats = ["int3", "int4"], calibration_batches = 4

A training precision given as one name applies to weights, activations and K/V alike; a
table sets each kind (missing kinds stay full precision: ``{weight = "int4"}`` is weight-only
QAT); "none" is full precision.  Every problem is reported at once, each with the TOML key
and its line (``spec.toml:12: grid.models[1]: unknown key 'widht'; did you mean 'width'?``).
The rules live in :mod:`lawkit.harness.schema`.  A run's id hashes its full config and the
PTQ settings (not the device); identical grid entries are one run.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..errors import LawkitError
from .schema import DEFAULTS, check_spec, locate


class SpecError(LawkitError):
    """A sweep spec that cannot be run as written."""


def _hash(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Sweep:
    """A validated spec: ``runs`` are the distinct run configs (grid order), ``duplicates``
    the number of grid entries that repeated one of them."""

    name: str
    text: str
    data: dict
    runs: tuple[dict, ...]
    ptq: dict
    device: str = "cpu"
    duplicates: int = 0

    @property
    def hash(self) -> str:
        return _hash({"data": {k: v for k, v in self.data.items() if k != "device"},
                      "runs": self.runs, "ptq": self.ptq})


def run_id(cfg: dict, ptq: dict) -> str:
    """Content hash of a run's config and its PTQ settings (16 hex digits)."""
    return _hash({"run": cfg, "ptq": ptq})[:16]


def train_formats(entry) -> dict:
    if isinstance(entry, str):
        return {"weight": entry, "activation": entry, "kv": entry}
    return {k: entry.get(k, "none") for k in ("weight", "activation", "kv")}


def parse_spec(text: str, path: str = "<spec>") -> Sweep:
    """Validate TOML ``text`` (all errors at once, with lines) and expand its grid."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise SpecError(f"{path}: {err}") from None
    problems = check_spec(raw)
    if problems:
        lines = [f"{path}:{locate(text, where) or '?'}: {_dotted(where)}: {msg}"
                 for where, msg in problems]
        raise SpecError("\n".join(lines))
    data = {**DEFAULTS["data"], **raw.get("data", {})}
    grid = raw["grid"]
    ptq_raw = raw.get("ptq", {})
    ptq = {"methods": list(dict.fromkeys(ptq_raw.get("methods", []))),   # repeats run once
           "formats": list(dict.fromkeys(ptq_raw.get("formats", []))),
           "calibration_batches": int(ptq_raw.get("calibration_batches",
                                                  DEFAULTS["ptq"]["calibration_batches"]))}
    runs, seen, dups = [], set(), 0
    for model, tokens, train, seed in itertools.product(
            grid["models"], grid["tokens"], grid.get("train", ["none"]), grid.get("seeds", [0])):
        cfg = {"model": {"width": int(model["width"]), "depth": int(model["depth"]),
                         "heads": int(model.get("heads", DEFAULTS["model"]["heads"])),
                         "seq": int(data["seq"])},
               "tokens": int(tokens), "train": train_formats(train), "seed": int(seed),
               "batch": int(data["batch"]), "lr": float(data["lr"]),
               "warmup": float(data["warmup"]), "weight_decay": float(data["weight_decay"]),
               "eval_tokens": int(data["eval_tokens"]), "corpus": str(data["corpus"])}
        key = run_id(cfg, ptq)
        if key in seen:
            dups += 1
            continue
        seen.add(key)
        runs.append(cfg)
    return Sweep(str(raw.get("name", Path(path).stem)), text, data, tuple(runs), ptq,
                 device=str(data["device"]), duplicates=dups)


def load_spec(path: str | Path) -> Sweep:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"sweep spec not found: {path}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise SpecError(f"cannot read sweep spec {path}: {err}") from None
    return parse_spec(text, str(path))


def _dotted(where: tuple) -> str:
    out = ""
    for part in where:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"
