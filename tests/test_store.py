"""The run store: claims shared by several sweep processes, crash safety, read-only opening,
refusing files that are not lawkit stores, and every sqlite3 failure as a StoreError."""

from __future__ import annotations

import csv
import io
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from lawkit.cli import main
from lawkit.harness.executors import Serial
from lawkit.harness.spec import parse_spec, run_id
from lawkit.harness.store import RunStore, StoreError
from lawkit.harness.sweep import export_rows, run_sweep

TINY = """name = "tiny"
[data]
seq = 32
batch = 8
eval_tokens = 2048
[grid]
models = [{{ width = 16, depth = 1 }}]
tokens = {tokens}
seeds = {seeds}
[ptq]
methods = ["rtn"]
formats = ["int4"]
"""
RECORD = {"N": 10, "D": 20, "FLOPs": 1200.0, "val_loss": 3.0, "train_curve": [[0, 5.0]],
          "wall_s": 0.1, "device": "cpu"}


def tiny_spec(tmp_path, tokens="[2560, 5120]", seeds="[0, 1, 2, 3, 4, 5]", name="tiny.toml"):
    path = tmp_path / name
    path.write_text(TINY.format(tokens=tokens, seeds=seeds))
    return path


def counts(db):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute("SELECT COUNT(*), COUNT(DISTINCT id) FROM runs").fetchone()
    finally:
        con.close()


def sweep_cmd(spec, db, *extra):
    return [sys.executable, "-m", "lawkit", "sweep", str(spec), "--store", str(db),
            "--workers", "1", "--threads", "1", "--no-progress", *extra]


def test_changed_spec_is_not_mixed_silently(tmp_path):
    with RunStore(tmp_path / "r.db") as store:
        store.register_spec("aaa", "one", "")
        with pytest.raises(StoreError, match="another spec"):
            store.register_spec("bbb", "two", "")
        store.register_spec("bbb", "two", "", append=True)


def test_claims_are_exclusive_and_expire(tmp_path):
    db = tmp_path / "r.db"
    a, b = RunStore(db), RunStore(db, lease_s=60)
    try:
        assert a.claim(["r1", "r2"]) == "r1"
        assert b.claim(["r1", "r2"]) == "r2"
        assert b.claim(["r1", "r2"]) is None             # both held by live owners
        assert a.claimed_by_others() == {"r2"}
        assert a.write("r1", "h", {}, RECORD, [("rtn", "int4", 3.1)]) is True
        assert b.write("r1", "h", {}, RECORD, []) is False   # stored once, never twice
        b.release()
        assert a.claim(["r2"]) == "r2"
        a.lease_s = 0.0                                  # a's lease lapses at once
        a.renew()
        time.sleep(0.01)
        assert b.claim(["r2"]) == "r2"                   # an expired claim is taken again
    finally:
        a.close()
        b.close()


def test_a_dead_local_owner_releases_at_once(tmp_path):
    db = tmp_path / "r.db"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with RunStore(db) as store:
        store.db.execute("INSERT INTO claims VALUES ('r1', 'x', ?, ?, 0, ?)",
                         (store.host, dead.pid, time.time() + 3600))
        store.db.execute("INSERT INTO claims VALUES ('r2', 'y', 'elsewhere', 1, 0, ?)",
                         (time.time() + 3600,))
        assert store.claim(["r2", "r1"]) == "r1"        # r2's owner may still be alive


def test_store_is_usable_from_another_thread(tmp_path):
    store = RunStore(tmp_path / "r.db")
    errors = []

    def work(i):
        try:
            rid = store.claim([f"r{i}"])
            store.write(rid, "h", {}, RECORD, [])
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and store.done() == {"r0", "r1", "r2", "r3"}
    store.close()


def test_foreign_sqlite_and_other_files_are_refused_untouched(tmp_path):
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE notes (x TEXT)")
    con.commit()
    con.close()
    before = other.read_bytes()
    for readonly in (False, True):
        with pytest.raises(StoreError, match="not a lawkit run store"):
            RunStore(other, readonly=readonly)
    assert other.read_bytes() == before and not (tmp_path / "other.db-wal").exists()
    text = tmp_path / "notes.db"
    text.write_text("hello, not a database\n" * 10)
    with pytest.raises(StoreError, match="not an SQLite file"):
        RunStore(text)
    assert text.read_text() == "hello, not a database\n" * 10
    with pytest.raises(StoreError, match="is a directory"):
        RunStore(tmp_path)
    with pytest.raises(StoreError, match="does not exist"):
        RunStore(tmp_path / "missing" / "r.db")
    with pytest.raises(StoreError, match="no such run store"):
        RunStore(tmp_path / "nothing.db", readonly=True)


def test_truncated_store_is_a_store_error(tmp_path):
    db = tmp_path / "r.db"
    with RunStore(db) as store:
        for i in range(40):
            store.write(f"r{i}", "h", {"pad": "x" * 2000}, RECORD, [("rtn", "int4", 3.0)])
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 3])
    with pytest.raises(StoreError, match=r"r\.db.*(corrupt|truncated)"):
        RunStore(db, readonly=True).rows()
    assert main(["runs", str(db)]) == 2


def test_full_disk_rolls_back_and_the_next_write_works(tmp_path):
    db = tmp_path / "r.db"
    with RunStore(db) as store:
        store.write("small", "h", {}, RECORD, [])
        pages = store.db.execute("PRAGMA page_count").fetchone()[0]
        store.db.execute(f"PRAGMA max_page_count = {pages}")     # the disk is now "full"
        with pytest.raises(StoreError, match="disk is full"):
            store.write("big", "h", {"pad": "x" * 100_000}, RECORD, [("rtn", "int4", 3.0)])
        assert not store.db.in_transaction and store.done() == {"small"}
        store.db.execute("PRAGMA max_page_count = 1073741823")   # space freed
        assert store.write("big", "h", {"pad": "x" * 100_000}, RECORD, []) is True
        assert store.done() == {"small", "big"}


def test_read_only_file_system_is_a_store_error(tmp_path):
    db = tmp_path / "r.db"
    RunStore(db).close()
    store = RunStore(db)
    store.db.close()  # as if the file system had turned read-only under us
    store.db = sqlite3.connect(db.resolve().as_uri() + "?mode=ro", uri=True,
                               isolation_level=None, check_same_thread=False)
    with pytest.raises(StoreError, match="read-only"):
        store.write("r1", "h", {}, RECORD, [])
    with pytest.raises(StoreError, match="read-only"):
        RunStore(db, readonly=True).write("r1", "h", {}, RECORD, [])
    store.close()


def test_runs_reads_without_writing(tmp_path, capsys):
    db = tmp_path / "r.db"
    with RunStore(db) as store:
        store.write("r1", "h", {"model": {"width": 16, "depth": 1}, "seed": 0,
                                "train": {"weight": "int4", "activation": "none", "kv": "none"}},
                    RECORD, [("rtn", "int3", 3.2)])
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=DELETE")  # no -wal/-shm files left to hide a write
    con.close()
    before, mtime = db.read_bytes(), db.stat().st_mtime_ns
    assert main(["runs", str(db), "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["P_w"], r["P_post"], r["delta_ptq"]) for r in rows] == \
        [("4.0", "16.0", "0.0"), ("4.0", "3.0", f"{3.2 - 3.0}")]
    assert db.read_bytes() == before and db.stat().st_mtime_ns == mtime
    assert sorted(os.listdir(tmp_path)) == ["r.db"]
    assert main(["runs", str(db), "--backup", str(tmp_path / "copy.db")]) == 0
    with RunStore(tmp_path / "copy.db", readonly=True) as copy:
        assert copy.done() == {"r1"}


def test_version_1_stores_still_open(tmp_path):
    db = tmp_path / "v1.db"
    con = sqlite3.connect(db)
    con.executescript("""
        CREATE TABLE specs (hash TEXT PRIMARY KEY, name TEXT, text TEXT, created REAL);
        CREATE TABLE runs (id TEXT PRIMARY KEY, spec_hash TEXT NOT NULL, config TEXT NOT NULL,
            N INTEGER, D INTEGER, flops REAL, val_loss REAL, train_curve TEXT, wall_s REAL,
            finished REAL);
        CREATE TABLE ptq (run_id TEXT NOT NULL, method TEXT NOT NULL, fmt TEXT NOT NULL,
            val_loss REAL, PRIMARY KEY (run_id, method, fmt));""")
    con.close()
    with RunStore(db, readonly=True) as store:
        assert store.rows() == []
    with RunStore(db) as store:  # writable: gains the new tables, keeps the old ones as they are
        assert store.write("r1", "h", {}, RECORD, []) is True


def test_repeated_grid_entries_are_one_run(tmp_path):
    spec = parse_spec(TINY.format(tokens="[2560, 2560, 5120]", seeds="[0, 0]")
                      .replace('["rtn"]', '["rtn", "rtn"]').replace('["int4"]', '["int4", "int4"]'))
    assert len(spec.runs) == 2 and spec.duplicates == 4
    assert spec.ptq["methods"] == ["rtn"] and spec.ptq["formats"] == ["int4"]
    assert len({run_id(c, spec.ptq) for c in spec.runs}) == 2
    with RunStore(tmp_path / "r.db") as store:
        counts_ = run_sweep(spec, store, executor=Serial(threads=1), progress=False)
        assert (counts_.total, counts_.ran, counts_.duplicates) == (2, 2, 4)
        assert len(export_rows(store)) == 2 * 2


def test_three_sweep_processes_share_one_store(tmp_path):
    """3 `lawkit sweep` processes on one store: every run stored exactly once."""
    spec, db = tiny_spec(tmp_path), tmp_path / "runs.db"
    procs = [subprocess.Popen(sweep_cmd(spec, db), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [o[1][-2000:] for o in outs]
    assert counts(db) == (12, 12)
    ran = [int(o[0].split(": ")[1].split(" run(s)")[0]) for o in outs]
    assert sum(ran) == 12, outs
    with RunStore(db, readonly=True) as store:
        assert store.db.execute("SELECT COUNT(*) FROM claims").fetchone()[0] == 0
        assert store.db.execute("SELECT COUNT(*) FROM ptq").fetchone()[0] == 12


def test_kill_9_mid_run_then_resume(tmp_path):
    """A sweep killed with SIGKILL while it holds a claim: the resume re-runs that run at
    once (its owner is dead), loses nothing and duplicates nothing."""
    spec, db = tiny_spec(tmp_path, tokens="[40960]", seeds="[0, 1, 2, 3]"), tmp_path / "runs.db"
    proc = subprocess.Popen(sweep_cmd(spec, db), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    held = 0
    while time.time() < deadline:
        try:
            n, _ = counts(db)
            con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
            held = con.execute("SELECT COUNT(*) FROM claims").fetchone()[0]
            con.close()
            if n >= 1 and held == 1:
                break
        except sqlite3.Error:
            pass
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    before = counts(db)[0]
    assert 1 <= before < 4 and held == 1, "the kill should land mid-run"
    out = subprocess.run(sweep_cmd(spec, db), capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert f"{4 - before} run(s) done, {before} already stored" in out.stdout
    assert counts(db) == (4, 4)
