"""Executors map a task over lazily pulled jobs: serial, a local process pool, Ray.  The
run itself (harness.run) is pure; the Ray executor knows nothing of sweeps."""

from __future__ import annotations

import ast
import csv
import io
import os
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import ROOT
from lawkit.cli import main
from lawkit.errors import LawkitError
from lawkit.harness.executors import ProcessPool, Serial, make_executor
from lawkit.harness.run import Job, RunResult, execute
from lawkit.harness.spec import load_spec, parse_spec
from lawkit.harness.store import RunStore
from lawkit.harness.sweep import export_rows, run_sweep

SMOKE = ROOT / "examples" / "sweeps" / "smoke.toml"
HARNESS = ROOT / "src" / "lawkit" / "harness"
TINY = parse_spec("""
[data]
seq = 32
batch = 8
eval_tokens = 2048
[grid]
models = [{ width = 16, depth = 1 }]
tokens = [2560]
seeds = [0, 1, 2]
[ptq]
methods = ["rtn", "gptq"]
formats = ["int4"]
calibration_batches = 1
""")


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def square(job: Job) -> RunResult:  # a picklable stand-in task
    return RunResult(record={"x": job.config["x"] ** 2}, ptq=())


def _imports(module: Path) -> set[str]:
    tree = ast.parse(module.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            out.add("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def test_layers_do_not_import_upwards():
    assert not {".sweep", ".store"} & _imports(HARNESS / "ray_executor.py")
    assert not {".sweep", ".store"} & _imports(HARNESS / "executors.py")
    assert not {".sweep", ".store", ".spec"} & _imports(HARNESS / "run.py")


@pytest.mark.parametrize("executor", [Serial(threads=1), ProcessPool(2, threads=1)],
                         ids=["serial", "pool"])
def test_executors_pull_lazily_and_return_every_result(executor):
    pulled = []

    def jobs():
        for i in range(5):
            pulled.append(i)
            yield Job(str(i), {"x": i})

    out = executor(jobs(), square)
    first = next(out)
    assert len(pulled) <= 3          # jobs are pulled as capacity frees, not all at once
    rest = list(out)
    assert sorted(int(j.id) for j, _ in [first, *rest]) == list(range(5))
    assert all(r.record["x"] == int(j.id) ** 2 for j, r in [first, *rest])


def test_make_executor():
    assert make_executor("local", workers=1, threads=1) == Serial(1)
    assert make_executor("local", workers=3, threads=2) == ProcessPool(3, 2)
    with pytest.raises(LawkitError, match="workers"):
        make_executor("local", workers=0)
    with pytest.raises(LawkitError, match="unknown executor"):
        make_executor("threads")


def test_the_run_is_pure_and_deterministic():
    a = execute(TINY.runs[0], TINY.ptq)
    b = execute(TINY.runs[0], TINY.ptq)
    assert a.record["val_loss"] == b.record["val_loss"] and a.ptq == b.ptq
    assert [m for m, _f, _v in a.ptq] == ["rtn", "gptq"]


def test_process_pool_sweep_matches_serial(tmp_path):
    serial, pool = RunStore(tmp_path / "s.db"), RunStore(tmp_path / "p.db")
    try:
        run_sweep(TINY, serial, executor=Serial(threads=1), progress=False)
        c = run_sweep(TINY, pool, executor=ProcessPool(2, threads=1), progress=False)
        assert (c.ran, c.total) == (3, 3)
        key = lambda r: (r["run_id"], r["ptq_method"])  # noqa: E731
        a = sorted(export_rows(serial), key=key)
        b = sorted(export_rows(pool), key=key)
        assert [r["val_loss"] for r in a] == [r["val_loss"] for r in b]  # same numbers
    finally:
        serial.close()
        pool.close()


def test_runs_csv_export_is_fittable(tmp_path, capsys):
    db = tmp_path / "r.db"
    spec = load_spec(SMOKE)
    with RunStore(db) as store:
        run_sweep(replace(spec, runs=spec.runs[:2]), store, executor=Serial(1), progress=False)
    assert main(["runs", str(db), "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 2 * 5
    assert {"N", "D", "P_w", "P_a", "P_kv", "seed", "ptq_method", "ptq_format", "P_post",
            "val_loss", "delta_ptq"} <= set(rows[0])


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_ray_executor(tmp_path):
    """Runs as tasks on a local Ray instance; the driver alone writes the store."""
    if os.environ.get("LAWKIT_REQUIRE_RAY"):  # CI: Ray installed and a cluster started
        import ray
    else:
        ray = pytest.importorskip("ray", reason="Ray is an optional extra (pip install ray)")
    from lawkit.harness.ray_executor import RayExecutor

    store = RunStore(tmp_path / "ray.db")
    try:
        c = run_sweep(TINY, store, executor=RayExecutor(max_in_flight=2), progress=False)
        assert (c.ran, c.total) == (3, 3)
        con = sqlite3.connect(tmp_path / "ray.db")
        assert con.execute("SELECT COUNT(*), COUNT(DISTINCT id) FROM runs").fetchone() == (3, 3)
        con.close()
    finally:
        store.close()
        ray.shutdown()


def test_cli_sweep_with_workers(tmp_path, capsys):
    spec = tmp_path / "t.toml"
    spec.write_text(TINY.text)
    db = tmp_path / "r.db"
    assert main(["sweep", str(spec), "--store", str(db), "--workers", "2", "--threads", "1",
                 "--no-progress"]) == 0
    assert "3 run(s) done, 0 already stored, 3 in the spec" in capsys.readouterr().out
    assert main(["sweep", str(spec), "--store", str(db), "--workers", "0"]) == 2
    assert "--workers must be" in capsys.readouterr().err
    assert main(["sweep", str(spec), "--store", str(db), "--device", "cpu",
                 "--executor", "serial", "--no-progress"]) == 0
    assert "0 run(s) done, 3 already stored" in capsys.readouterr().out


def test_bad_corpus_is_refused_before_training(tmp_path):
    import numpy as np

    np.save(tmp_path / "big.npy", np.arange(50_000) % 300)
    spec = parse_spec(TINY.text.replace("[data]", f'[data]\ncorpus = "{tmp_path / "big.npy"}"'))
    with RunStore(tmp_path / "r.db") as store:
        with pytest.raises(LawkitError, match="token ids must lie in 0..255"):
            run_sweep(spec, store, progress=False)
        assert store.done() == set()
    spec = parse_spec(TINY.text.replace("[data]", '[data]\ncorpus = "/nonexistent/corpus"'))
    with RunStore(tmp_path / "r2.db") as store:
        with pytest.raises(LawkitError, match="corpus not found"):
            run_sweep(spec, store, progress=False)
