"""LAPACK for JAX on CPU without scipy.linalg's import (lawkit.backends.lapack): JAX's
linear algebra works, scipy.linalg is not imported, and importing it afterwards gives a
working scipy.linalg with the same Cython modules."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import ROOT

CHECK = """
import sys
import jax, jax.numpy as jnp, numpy as np
from lawkit.backends.lapack import initialize_lapack
import importlib.util, os
from lawkit.backends import lapack
base = os.path.join(os.path.dirname(importlib.util.find_spec("scipy").origin), "linalg")
lapack._load("scipy.linalg.cython_lapack", base)
mine = id(sys.modules["scipy.linalg.cython_lapack"])
assert initialize_lapack(light=True) and initialize_lapack(light=True)
assert "scipy.linalg" not in sys.modules
assert not any(m.startswith("scipy.linalg") for m in sys.modules), "left in sys.modules"
with jax.enable_x64(True):
    a = np.array([[4.0, 1.0], [1.0, 3.0]])
    w = jax.jit(jnp.linalg.eigh)(a)[0]
    x = jax.jit(jnp.linalg.solve)(a, np.ones(2))
assert np.allclose(w, np.linalg.eigvalsh(a), rtol=1e-14)
assert np.allclose(x, np.linalg.solve(a, np.ones(2)), rtol=1e-14)
assert "scipy.linalg" not in sys.modules
import scipy.linalg, scipy.optimize
from scipy.linalg import cython_blas, cython_lapack
assert scipy.linalg.cython_lapack is cython_lapack and id(cython_lapack) == mine  # one instance
assert np.allclose(scipy.linalg.eigh(a)[0], w, rtol=1e-14)
r = scipy.optimize.minimize(lambda v: ((v - 2) ** 2).sum(), np.zeros(3), method="L-BFGS-B")
assert np.allclose(r.x, 2, atol=1e-6)
print("ok")
"""


def test_jax_linear_algebra_without_importing_scipy_linalg():
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True,
                         timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["ok"]


def test_the_command_line_does_not_import_scipy_linalg(tmp_path):
    """A cached `lawkit fit` never imports scipy.linalg (0.2 s of its start-up)."""
    from helpers import EPOCH_LAW

    (tmp_path / "e.law").write_text(EPOCH_LAW, encoding="utf-8")
    (tmp_path / "d.csv").write_text(
        "N,D,loss\n" + "\n".join(f"{n:.6g},{d:.6g},{1.7 + 400 / n**0.34 + 1800 / d**0.28:.6g}"
                                  for n in (1e7, 3e7, 1e8, 3e8, 1e9)
                                  for d in (1e9, 1e10, 1e11)), encoding="utf-8")
    code = ("import sys, runpy; sys.argv = ['lawkit', 'fit', sys.argv[1], sys.argv[2], "
            "'--verbose']\n"
            "try:\n    runpy.run_module('lawkit', run_name='__main__')\n"
            "except SystemExit as e:\n    assert not e.code, e.code\n"
            "print('scipy.linalg' in sys.modules, file=sys.stderr)")
    env = {**os.environ, "LAWKIT_CACHE_DIR": str(tmp_path / "cache")}
    for _ in range(2):  # the first traces and stores, the second loads
        out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "e.law"),
                              str(tmp_path / "d.csv")], capture_output=True, text=True,
                             timeout=300, cwd=ROOT, env=env)
        assert out.returncode == 0, out.stderr
    assert out.stderr.split()[-1] == "False"
    assert "programs 3 loaded, 0 compiled" in out.stderr
