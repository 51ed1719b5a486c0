"""A resumable run store in SQLite: each finished run is written once, atomically (one
transaction: the run and its PTQ results), so a crash or ``kill -9`` loses at most the run
in flight; re-running skips what is stored.  A store remembers the spec(s) its runs came
from and refuses to mix a changed spec in silently."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from ..errors import LawkitError

SCHEMA = """
CREATE TABLE IF NOT EXISTS specs (hash TEXT PRIMARY KEY, name TEXT, text TEXT, created REAL);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, spec_hash TEXT NOT NULL, config TEXT NOT NULL,
    N INTEGER, D INTEGER, flops REAL, val_loss REAL, train_curve TEXT, wall_s REAL, finished REAL);
CREATE TABLE IF NOT EXISTS ptq (
    run_id TEXT NOT NULL REFERENCES runs(id), method TEXT NOT NULL, fmt TEXT NOT NULL,
    val_loss REAL, PRIMARY KEY (run_id, method, fmt));
"""


class StoreError(LawkitError):
    """A run store that cannot be used as asked."""


class RunStore:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def register_spec(self, spec_hash: str, name: str, text: str, *, append: bool = False) -> None:
        others = [r for r in self.db.execute("SELECT hash, name FROM specs") if r[0] != spec_hash]
        if others and not append:
            listed = ", ".join(f"{n!r} ({h[:10]})" for h, n in others)
            raise StoreError(f"{self.path} holds runs of another spec: {listed}. A changed spec "
                             f"is not mixed in silently: use a new --store, or --append to keep "
                             f"both (runs are tagged with their spec)")
        self.db.execute("INSERT OR IGNORE INTO specs VALUES (?, ?, ?, ?)",
                        (spec_hash, name, text, time.time()))

    def done(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT id FROM runs")}

    def write(self, run_id: str, spec_hash: str, config: dict, record: dict,
              ptq: list[tuple[str, str, float]]) -> None:
        """Store one finished run and its PTQ results in a single transaction."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (run_id, spec_hash, json.dumps(config, sort_keys=True), record["N"], record["D"],
                 record["FLOPs"], record["val_loss"], json.dumps(record["train_curve"]),
                 record["wall_s"], time.time()))
            self.db.executemany("INSERT INTO ptq VALUES (?, ?, ?, ?)",
                                [(run_id, m, f, v) for m, f, v in ptq])
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def rows(self):
        """One dict per run, with its PTQ results."""
        ptq: dict[str, list] = {}
        for run_id, method, fmt, loss in self.db.execute("SELECT * FROM ptq ORDER BY run_id, method, fmt"):
            ptq.setdefault(run_id, []).append((method, fmt, loss))
        out = []
        for r in self.db.execute("SELECT id, spec_hash, config, N, D, flops, val_loss, wall_s "
                                 "FROM runs ORDER BY finished"):
            out.append({"id": r[0], "spec": r[1], "config": json.loads(r[2]), "N": r[3], "D": r[4],
                        "FLOPs": r[5], "val_loss": r[6], "wall_s": r[7], "ptq": ptq.get(r[0], [])})
        return out
