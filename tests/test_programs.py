"""Compiled programs on disk (lawkit.backends.programs): the same results as jax.jit, a hit
in a new process, stale, corrupt or foreign files never used, nothing written unless
switched on."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import lawkit
from lawkit.backends import programs
from lawkit.fitting import fit

from conftest import ROOT
from helpers import EPOCH_LAW as LAW


def forget():
    """Drop this process's compiled programs (as a new process would start)."""
    from lawkit.fitting import objective

    programs._MEMO.clear()
    objective._CACHE.clear()


@pytest.fixture
def store(tmp_path):
    before = programs._STATE["dir"]
    programs.use_directory(tmp_path / "programs")
    forget()
    yield tmp_path / "programs"
    programs.use_directory(before)
    forget()


def frame():
    import pandas as pd

    rng = np.random.default_rng(3)
    N = 10 ** rng.uniform(7, 10, 60)
    D = 10 ** rng.uniform(9, 12, 60)
    y = 1.7 + 400 / N ** 0.34 + 1800 / D ** 0.28
    return pd.DataFrame({"N": N, "D": D, "loss": y * np.exp(rng.normal(0, 0.01, 60))})


def test_a_fit_through_stored_programs_equals_the_jitted_fit(store):
    law = lawkit.parse(LAW)["epoch"]
    df = frame()
    programs.use_directory(None)
    plain = fit(law, df, bootstrap=20)
    programs.use_directory(store)
    before = dict(programs.STATS)
    stored = fit(law, df, bootstrap=20)
    assert programs.STATS["stored"] > before["stored"]
    assert sorted(p.suffix for p in store.iterdir()) == [".xla"] * len(list(store.iterdir()))
    assert stored.to_dict() == plain.to_dict() | {"seconds": stored.to_dict()["seconds"]}


def refit_after(store, tamper):
    """Fit, let ``tamper(files)`` change the stored programs, fit again as a new process
    would: (files, first fit, second fit, the STATS counts of the second fit)."""
    law = lawkit.parse(LAW)["epoch"]
    df = frame()
    first = fit(law, df)
    files = sorted(store.iterdir())
    tamper(files)
    forget()
    before = dict(programs.STATS)
    again = fit(law, df)
    return files, first, again, {k: programs.STATS[k] - before[k] for k in before}


def test_a_corrupt_program_is_rejected_and_replaced(store):
    def corrupt(files):
        for f in files:
            f.write_bytes(b"not a program")

    files, _, again, counts = refit_after(store, corrupt)
    assert counts["rejected"] == len(files)
    assert all(f.read_bytes() != b"not a program" for f in files)
    assert np.isfinite(again.objective)


def test_a_stored_program_that_fails_to_run_is_replaced(store):
    """A file that loads but cannot run (here: another program's executable, called with
    arguments it was not compiled for) is deleted, compiled again and stored; the fit is
    the same."""
    planted = {}

    def plant_the_biggest(files):
        by_size = sorted(files, key=lambda f: f.stat().st_size)
        planted["blob"], planted["others"] = by_size[-1].read_bytes(), by_size[:-1]
        for f in planted["others"]:
            f.write_bytes(planted["blob"])

    files, first, again, counts = refit_after(store, plant_the_biggest)
    assert counts["rejected"] == len(files) - 1
    assert counts["stored"] == len(files) - 1
    assert all(f.read_bytes() != planted["blob"] for f in planted["others"])
    assert again.to_dict() == first.to_dict() | {"seconds": again.to_dict()["seconds"]}


def test_the_key_names_the_law_content_and_a_registered_function_stays_off_disk(store):
    import sympy as sp

    df = frame()
    fit(lawkit.parse(LAW)["epoch"], df)
    n = len(list(store.iterdir()))
    fit(lawkit.parse(LAW.replace("beta", "b"))["epoch"], df)
    assert len(list(store.iterdir())) > n  # another law, other programs

    class softplus_k(sp.Function):
        pass

    import jax.numpy as jnp

    lawkit.register_function("softplus_k", lambda a, b: softplus_k(a, b), min_args=2,
                             max_args=2, numpy=np.logaddexp, jax=jnp.logaddexp)
    n = len(list(store.iterdir()))
    law = lawkit.parse(LAW.replace("B/D^beta", "B/D^beta + 0*softplus_k(N, D)"))["epoch"]
    fit(law, df)
    assert len(list(store.iterdir())) == n


def test_programs_are_shared_by_laws_of_one_structure(store):
    """The disk key is the law's structure: another name, citation, description, value
    set or spelling of a term loads the stored programs; another bound or
    another expression does not."""
    df = frame()
    fit(lawkit.parse(LAW)["epoch"], df)
    files = sorted(store.iterdir())
    same = """
law renamed "Someone 2026, a citation":
    inputs N "parameters", D "tokens"
    output loss "nats"
    params E > 0, A > 0, B > 0, alpha, beta
    data = B/D^beta
    loss = E + A/N^alpha + data
    values mine "a value set": E = 1.7, A = 400, B = 1800, alpha = 0.34, beta = 0.28
"""
    forget()
    before = dict(programs.STATS)
    fit(lawkit.parse(same)["renamed"], df)
    assert sorted(store.iterdir()) == files
    assert programs.STATS["stored"] == before["stored"]
    assert programs.STATS["loaded"] > before["loaded"]
    fit(lawkit.parse(LAW.replace("alpha, beta", "alpha > 0, beta"))["epoch"], df)
    assert len(list(store.iterdir())) > len(files)  # a bound changes the transform


def test_the_source_digest_changes_with_lawkits_code(tmp_path):
    import shutil

    from pathlib import Path

    src = Path(programs.__file__).resolve().parents[1]
    assert len(programs.source_digest()) == 64  # (cached: the source this process loaded)
    copy = tmp_path / "lawkit"
    shutil.copytree(src, copy, ignore=shutil.ignore_patterns("__pycache__"))
    same = programs.tree_digest(copy)
    assert same == programs.tree_digest(src)
    f = copy / "fitting" / "solve.py"
    f.write_text(f.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    assert programs.tree_digest(copy) != same


def test_nothing_is_written_unless_switched_on(tmp_path):
    code = ("import os; from lawkit.backends import programs as p; import lawkit; "
            "from lawkit.fitting import fit; import pandas as pd; "
            "fit(lawkit.load('chinchilla')['chinchilla'], 'example:gadre_overtraining'); "
            "print(p._STATE['dir'], p.STATS['stored'])")
    env = {**os.environ, "HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=300, env=env, cwd=ROOT).stdout.split()
    assert out == ["None", "0"] and not any(tmp_path.rglob("*.xla"))


def test_old_programs_are_pruned_least_recently_used_first(tmp_path):
    for i in range(6):
        f = tmp_path / f"{i}.xla"
        f.write_bytes(b"x")
        os.utime(f, (1000 + i, 1000 + i))
    (tmp_path / "old.jaxexport").write_bytes(b"x")  # an earlier lawkit's format
    programs._prune(tmp_path, keep=3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["3.xla", "4.xla", "5.xla"]


def test_a_new_process_loads_the_programs_and_gets_the_same_fit(tmp_path):
    """`lawkit fit --json --verbose` processes: the second traces nothing, compiles
    nothing, and prints the same fit to the last digit.  With the programs deleted and
    JAX's cache kept, the next process compiles afresh (a re-serialized executable that
    JAX's cache had loaded fails to run in the process after), and a library process that
    turns the cache on runs the stored programs (LAPACK set up first: without it an
    executable calling LAPACK crashes)."""
    import json
    import shutil

    frame().to_csv(tmp_path / "d.csv", index=False)
    (tmp_path / "e.law").write_text(LAW, encoding="utf-8")
    env = {**os.environ, "LAWKIT_CACHE_DIR": str(tmp_path / "cache")}
    cmd = [sys.executable, "-m", "lawkit", "fit", str(tmp_path / "e.law"),
           str(tmp_path / "d.csv"), "--verbose", "--json"]

    def run():
        return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)

    first, second = run(), run()
    assert first.returncode == second.returncode == 0, first.stderr
    assert "programs 0 loaded, 3 compiled and stored" in first.stderr
    assert "programs 3 loaded, 0 compiled and stored" in second.stderr
    assert ", 0 compiled" in second.stderr and str(tmp_path / "cache") in second.stderr
    shutil.rmtree(tmp_path / "cache" / "programs")
    third, fourth = run(), run()
    assert third.returncode == fourth.returncode == 0, fourth.stderr
    assert "programs 3 loaded" in fourth.stderr
    assert not list((tmp_path / "cache").glob("jit_lawkit_*"))  # no dead entries in JAX's
    fits = [json.loads(r.stdout) for r in (first, second, third, fourth)]
    for f in fits:
        assert f.pop("seconds") > 0
    assert all(f == fits[0] for f in fits)
    code = ("import sys, lawkit; from lawkit.backends import programs; "
            "from lawkit.backends.jax import enable_compilation_cache; "
            f"enable_compilation_cache({str(tmp_path / 'cache')!r}); "
            f"law = lawkit.load({str(tmp_path / 'e.law')!r})['epoch']; "
            f"print(repr(lawkit.fit(law, {str(tmp_path / 'd.csv')!r}).objective), "
            "programs.STATS['loaded'])")
    lib = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300, cwd=ROOT)
    assert lib.returncode == 0, lib.stderr
    assert lib.stdout.split() == [repr(fits[0]["objective"]), "3"]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="giving a file to another user needs root")
def test_a_program_another_user_owns_is_never_loaded(store):
    def give_away(files):
        for f in files:
            os.chown(f, 4242, 4242)

    files, _, _, counts = refit_after(store, give_away)
    assert counts["loaded"] == 0
    assert counts["rejected"] == len(files)
