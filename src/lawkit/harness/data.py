"""Training text: a default corpus that exists offline on every machine (the Python standard
library's own source, byte-level), or a user corpus (text files or a token ``.npy``).
The last ``val_fraction`` of the token stream is the held-out validation split."""

from __future__ import annotations

import sysconfig
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import torch

from ..errors import DataError


@cache
def stdlib_corpus(max_bytes: int = 8_000_000) -> np.ndarray:
    """Bytes of the standard library's ``.py`` files, in sorted path order (deterministic)."""
    root = Path(sysconfig.get_paths()["stdlib"])
    chunks, total = [], 0
    for path in sorted(root.rglob("*.py")):
        if "site-packages" in path.parts or "test" in path.parts:
            continue
        try:
            data = path.read_bytes()
        except OSError:
            continue
        chunks.append(data)
        total += len(data)
        if total >= max_bytes:
            break
    if not chunks:
        raise DataError(f"no Python sources found under {root} for the default corpus")
    return np.frombuffer(b"".join(chunks)[:max_bytes], dtype=np.uint8).astype(np.int64)


def load_corpus(source: str | None = None) -> np.ndarray:
    """Tokens: ``None``/"stdlib" → the default corpus; a ``.npy`` of token ids; a text file
    or a directory of text files (bytes as tokens)."""
    if source in (None, "stdlib"):
        return stdlib_corpus()
    path = Path(source)
    if not path.exists():
        raise DataError(f"corpus not found: {path}")
    if path.suffix == ".npy":
        tokens = np.load(path)
        if tokens.ndim != 1 or not np.issubdtype(tokens.dtype, np.integer):
            raise DataError(f"{path}: a token corpus must be a 1-D integer array")
        return tokens.astype(np.int64)
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    return np.frombuffer(b"".join(p.read_bytes() for p in files), dtype=np.uint8).astype(np.int64)


@dataclass(frozen=True)
class Splits:
    train: np.ndarray
    val: np.ndarray

    def batch(self, rng: np.random.Generator, batch: int, seq: int) -> torch.Tensor:
        """Random training windows of seq + 1 tokens (inputs and next-token targets)."""
        starts = rng.integers(0, len(self.train) - seq - 1, size=batch)
        return torch.from_numpy(np.stack([self.train[s:s + seq + 1] for s in starts]))

    def val_batches(self, batch: int, seq: int, n: int) -> list[torch.Tensor]:
        """``n`` batches of fixed, evenly spaced validation windows (the same for every run)."""
        step = max(1, (len(self.val) - seq - 1) // (batch * n))
        starts = np.arange(batch * n) * step
        windows = np.stack([self.val[s:s + seq + 1] for s in starts])
        return [torch.from_numpy(windows[i * batch:(i + 1) * batch]) for i in range(n)]

    def eval_windows(self, tokens: int, seq: int, batch: int = 64) -> list[torch.Tensor]:
        """The fixed held-out set: ⌈tokens/seq⌉ disjoint windows of seq + 1 tokens, evenly
        spaced over the validation split, in batches of ``batch`` windows."""
        n = -(-tokens // seq)
        if n * (seq + 1) > len(self.val):
            raise DataError(f"eval_tokens = {tokens} needs {n * (seq + 1)} validation tokens "
                            f"({n} windows of {seq} + 1); the validation split has "
                            f"{len(self.val)}")
        step = (len(self.val) - seq - 1) // max(1, n - 1) if n > 1 else 0
        starts = np.arange(n) * step
        windows = np.stack([self.val[s:s + seq + 1] for s in starts])
        return [torch.from_numpy(windows[i:i + batch]) for i in range(0, n, batch)]

def split(tokens: np.ndarray, val_fraction: float = 0.1) -> Splits:
    cut = int(len(tokens) * (1 - val_fraction))
    if cut < 1000 or len(tokens) - cut < 1000:
        raise DataError(f"corpus too small ({len(tokens)} tokens) for a train/validation split")
    return Splits(tokens[:cut], tokens[cut:])
