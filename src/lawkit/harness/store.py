"""A resumable run store in SQLite, shared safely by many sweep processes.

* Each finished run is written once, atomically (one transaction: the run, its PTQ results,
  and the release of its claim), so a crash or ``kill -9`` loses at most the runs in flight;
  re-running skips what is stored.  A run already stored (by another process) is not
  written twice.
* **Claims**: a process takes a run with :meth:`RunStore.claim` inside ``BEGIN IMMEDIATE``
  (one writer at a time, so two processes never take the same run).  A claim names its
  owner (host, pid, a random token) and holds a *lease*: the owner's heartbeat thread
  renews it every ``lease_s/4``.  A claim is stale — and the run is taken again — when its
  lease has expired (the owner is gone or hung, on any host sharing the file), or at once
  when the owner is on this host and its pid is dead (``kill -9``; the next resume re-runs
  it without waiting for the lease).
* One connection per store object, usable from any thread (``check_same_thread=False``,
  every statement under one lock).  ``readonly=True`` opens with ``mode=ro`` and writes
  nothing: no pragma, no schema.
* A file that is not a lawkit store (another SQLite database, any other file) is refused
  and left untouched; it is recognised before anything is written (WAL mode is switched on
  only for lawkit stores).  Every ``sqlite3`` error becomes a :class:`StoreError` naming the
  path and the problem; a failed write (disk full, read-only file system) is rolled back and
  the store stays usable.
* The journal is WAL (readers never block the writer); WAL needs a local file system (or
  one with working shared memory).  Use :meth:`backup` for a consistent copy of a live store.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import sqlite3
import threading
import time
from pathlib import Path

from ..errors import LawkitError

FORMAT, VERSION = "lawkit-run-store", "2"
TABLES = {"meta", "specs", "runs", "ptq", "claims", "run_env"}
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS specs (hash TEXT PRIMARY KEY, name TEXT, text TEXT, created REAL);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, spec_hash TEXT NOT NULL, config TEXT NOT NULL,
    N INTEGER, D INTEGER, flops REAL, val_loss REAL, train_curve TEXT, wall_s REAL, finished REAL);
CREATE TABLE IF NOT EXISTS ptq (
    run_id TEXT NOT NULL REFERENCES runs(id), method TEXT NOT NULL, fmt TEXT NOT NULL,
    val_loss REAL, PRIMARY KEY (run_id, method, fmt));
CREATE TABLE IF NOT EXISTS run_env (run_id TEXT PRIMARY KEY, device TEXT, host TEXT, ptq_s REAL);
CREATE TABLE IF NOT EXISTS claims (
    run_id TEXT PRIMARY KEY, owner TEXT NOT NULL, host TEXT, pid INTEGER, claimed REAL,
    expires REAL);
"""


class StoreError(LawkitError):
    """A run store that cannot be used as asked."""


def _explain(err: sqlite3.Error) -> str:
    text = str(err).lower()
    for needle, why in [
            ("disk is full", "the disk is full (the write was rolled back; free space and resume)"),
            ("readonly", "it is read-only (file system or permissions)"),
            ("read-only", "it is read-only (file system or permissions)"),
            ("malformed", "the file is corrupt or truncated"),
            ("not a database", "it is not an SQLite database (or it is corrupt/encrypted)"),
            ("unable to open", "it cannot be opened (missing folder, permissions, or a directory)"),
            ("locked", "another process held it locked for too long"),
            ("busy", "another process held it locked for too long"),
            ("disk i/o", "a disk I/O error occurred")]:
        if needle in text:
            return f"{why} [{err}]"
    return str(err)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


class RunStore:
    def __init__(self, path: str | Path, *, readonly: bool = False, lease_s: float = 120.0,
                 timeout: float = 30.0):
        self.path = Path(path)
        self.readonly, self.lease_s = readonly, float(lease_s)
        self.host, self.pid = socket.gethostname(), os.getpid()
        self.owner = f"{self.host}:{self.pid}:{secrets.token_hex(4)}"
        self._lock = threading.RLock()
        self._beat: tuple[threading.Thread, threading.Event] | None = None
        self._check_file()
        try:
            if readonly:
                uri = self.path.resolve().as_uri() + "?mode=ro"
                self.db = sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None,
                                          check_same_thread=False)
            else:
                self.db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None,
                                          check_same_thread=False)
        except sqlite3.Error as err:
            raise StoreError(f"{self.path}: cannot open the run store: {_explain(err)}") from None
        try:
            self._open()
        except BaseException:
            self.db.close()
            raise

    # -- opening ---------------------------------------------------------------------------
    def _check_file(self) -> None:
        p = self.path
        if p.is_dir():
            raise StoreError(f"{p}: is a directory, not a run store file")
        if not p.exists():
            if self.readonly:
                raise StoreError(f"no such run store: {p}")
            if not p.parent.is_dir():
                raise StoreError(f"{p}: the folder {p.parent} does not exist")
            return
        try:
            with open(p, "rb") as fh:
                head = fh.read(16)
        except OSError as err:
            raise StoreError(f"{p}: cannot read the run store: {err.strerror}") from None
        if head and head != b"SQLite format 3\x00":
            raise StoreError(f"{p}: not a lawkit run store (not an SQLite file); left untouched")

    def _open(self) -> None:
        with self._guard("cannot read the run store"):
            tables = {r[0] for r in self.db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            if tables:
                self._recognise(tables)
            elif self.readonly:
                raise StoreError(f"{self.path}: an empty database, not a lawkit run store")
            check = self.db.execute("PRAGMA quick_check").fetchall()
            if check and check[0][0] != "ok":
                raise StoreError(f"{self.path}: the file is corrupt ({check[0][0]})")
        if self.readonly:
            return
        with self._guard("cannot initialise the run store"):
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
        with self._write("initialise the run store") as db:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute("INSERT OR IGNORE INTO meta VALUES ('format', ?), ('version', ?)",
                       (FORMAT, VERSION))

    def _recognise(self, tables: set[str]) -> None:
        if "meta" in tables:
            row = self.db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
            if row and row[0] == FORMAT:
                return
        elif "runs" in tables and tables <= TABLES:  # a version-1 store (no meta table)
            cols = {r[1] for r in self.db.execute("PRAGMA table_info(runs)")}
            if {"id", "spec_hash", "config", "val_loss"} <= cols:
                return
        raise StoreError(f"{self.path}: an SQLite database that is not a lawkit run store "
                         f"(tables: {', '.join(sorted(tables))}); left untouched")

    @contextlib.contextmanager
    def _guard(self, what: str):
        with self._lock:
            try:
                yield
            except sqlite3.Error as err:
                if not self.readonly:
                    with contextlib.suppress(sqlite3.Error):
                        if self.db.in_transaction:
                            self.db.execute("ROLLBACK")
                raise StoreError(f"{self.path}: {what}: {_explain(err)}") from None

    @contextlib.contextmanager
    def _write(self, what: str):
        """One IMMEDIATE transaction; rolled back on any error (the store stays usable)."""
        if self.readonly:
            raise StoreError(f"{self.path}: opened read-only; cannot {what}")
        with self._guard(f"cannot {what}"):
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                if self.db.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def close(self) -> None:
        self.stop_heartbeat()
        with self._lock:
            self.db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- specs and runs ---------------------------------------------------------------------
    def register_spec(self, spec_hash: str, name: str, text: str, *, append: bool = False) -> None:
        with self._write("register the spec") as db:
            others = [r for r in db.execute("SELECT hash, name FROM specs") if r[0] != spec_hash]
            if others and not append:
                listed = ", ".join(f"{n!r} ({h[:10]})" for h, n in others)
                raise StoreError(f"{self.path} holds runs of another spec: {listed}. A changed "
                                 f"spec is not mixed in silently: use a new store, or append "
                                 f"to keep both (runs are tagged with their spec)")
            db.execute("INSERT OR IGNORE INTO specs VALUES (?, ?, ?, ?)",
                       (spec_hash, name, text, time.time()))

    def done(self) -> set[str]:
        with self._guard("cannot read the runs"):
            return {r[0] for r in self.db.execute("SELECT id FROM runs")}

    def write(self, run_id: str, spec_hash: str, config: dict, record: dict,
              ptq) -> bool:
        """Store one finished run and its PTQ results, and drop its claim, in one
        transaction.  False (and nothing written) if the run was already stored."""
        with self._write(f"store run {run_id}") as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (run_id, spec_hash, json.dumps(config, sort_keys=True), record["N"], record["D"],
                 record["FLOPs"], record["val_loss"], json.dumps(record["train_curve"]),
                 record["wall_s"], time.time()))
            stored = cur.rowcount == 1
            if stored:
                db.executemany("INSERT OR IGNORE INTO ptq VALUES (?, ?, ?, ?)",
                               [(run_id, m, f, v) for m, f, v in ptq])
                db.execute("INSERT OR REPLACE INTO run_env VALUES (?, ?, ?, ?)",
                           (run_id, record.get("device"), self.host, record.get("ptq_s")))
            db.execute("DELETE FROM claims WHERE run_id = ?", (run_id,))
        return stored

    # -- claims -----------------------------------------------------------------------------
    def _stale(self, host, pid, expires, now) -> bool:
        return expires < now or (host == self.host and pid != self.pid and not _pid_alive(pid))

    def claim(self, candidates) -> str | None:
        """Atomically take the first of ``candidates`` (run ids) that is neither stored nor
        claimed (by this store object, or by a live owner); None when there is none."""
        with self._write("claim a run") as db:
            now = time.time()
            done = {r[0] for r in db.execute("SELECT id FROM runs")}
            claims = {r[0]: r[1:] for r in db.execute(
                "SELECT run_id, owner, host, pid, expires FROM claims")}
            for rid in candidates:
                if rid in done:
                    continue
                c = claims.get(rid)
                if c is not None and (c[0] == self.owner or not self._stale(*c[1:], now)):
                    continue  # held (by us, or by a live owner)
                db.execute("INSERT OR REPLACE INTO claims VALUES (?, ?, ?, ?, ?, ?)",
                           (rid, self.owner, self.host, self.pid, now, now + self.lease_s))
                return rid
        return None

    def claimed_by_others(self) -> set[str]:
        """Run ids held by live claims of other owners."""
        with self._guard("cannot read the claims"):
            now = time.time()
            return {r[0] for r in self.db.execute(
                "SELECT run_id, host, pid, expires FROM claims WHERE owner != ?", (self.owner,))
                if not self._stale(r[1], r[2], r[3], now)}

    def release(self, run_id: str | None = None) -> None:
        """Drop this process's claim on ``run_id`` (all its claims when None)."""
        with self._write("release claims") as db:
            if run_id is None:
                db.execute("DELETE FROM claims WHERE owner = ?", (self.owner,))
            else:
                db.execute("DELETE FROM claims WHERE owner = ? AND run_id = ?",
                           (self.owner, run_id))

    def renew(self) -> None:
        with self._write("renew claims") as db:
            db.execute("UPDATE claims SET expires = ? WHERE owner = ?",
                       (time.time() + self.lease_s, self.owner))

    def start_heartbeat(self) -> None:
        """Renew this process's leases every lease_s/4 from a daemon thread."""
        if self._beat is not None:
            return
        stop = threading.Event()

        def beat():
            while not stop.wait(self.lease_s / 4):
                with contextlib.suppress(StoreError):
                    self.renew()

        thread = threading.Thread(target=beat, name="lawkit-store-heartbeat", daemon=True)
        thread.start()
        self._beat = (thread, stop)

    def stop_heartbeat(self) -> None:
        if self._beat is not None:
            thread, stop = self._beat
            stop.set()
            thread.join()
            self._beat = None

    # -- reading ----------------------------------------------------------------------------
    def rows(self) -> list[dict]:
        """One dict per run, with its PTQ results."""
        with self._guard("cannot read the runs"):
            ptq: dict[str, list] = {}
            for run_id, method, fmt, loss in self.db.execute(
                    "SELECT run_id, method, fmt, val_loss FROM ptq ORDER BY run_id, method, fmt"):
                ptq.setdefault(run_id, []).append((method, fmt, loss))
            out = []
            for r in self.db.execute("SELECT id, spec_hash, config, N, D, flops, val_loss, "
                                     "wall_s FROM runs ORDER BY finished, id"):
                out.append({"id": r[0], "spec": r[1], "config": json.loads(r[2]), "N": r[3],
                            "D": r[4], "FLOPs": r[5], "val_loss": r[6], "wall_s": r[7],
                            "ptq": ptq.get(r[0], [])})
            return out

    def backup(self, dest: str | Path) -> None:
        """A consistent copy of the store (safe while a sweep writes), journal mode DELETE,
        ready to commit or ship."""
        dest = Path(dest)
        if dest.exists():
            raise StoreError(f"{dest}: exists; refusing to overwrite it")
        try:
            target = sqlite3.connect(dest)
        except sqlite3.Error as err:
            raise StoreError(f"{dest}: cannot create the copy: {_explain(err)}") from None
        try:
            with self._guard("cannot copy the store"):
                self.db.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")
        except sqlite3.Error as err:
            raise StoreError(f"{dest}: cannot write the copy: {_explain(err)}") from None
        finally:
            target.close()
