"""Benchmark: the Epoch/Chinchilla fit (240 points, 4,500-start grid, Huber δ=1e-3 summed on
log residuals), lawkit vs a scipy L-BFGS-B loop with analytic gradients, in the same run.

    OPENBLAS_NUM_THREADS=1 python benchmarks/fit_speed.py [--quick]

Prints objective and time of each, and the ratios: warm (lawkit already compiled, same
process) and cold (a fresh Python process: import + compile + fit).  Also times a
1,000-resample bootstrap.  ``--quick`` runs the scipy baseline on a 1-in-10 subset of the
starts and scales its time by 10 (for a fast check; the ratio is then an estimate).
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy.optimize import minimize  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CSV = ROOT.parent / "shared" / "data" / "epoch-chinchilla" / "svg_extracted_data.csv"
LAW = """
law epoch:
    inputs N, D
    output loss
    params E > 0, A > 0, B > 0, alpha, beta
    loss = E + A/N^alpha + B/D^beta
"""


def load():
    df = pd.read_csv(CSV)
    df = df[df["loss"] < sorted(df["loss"])[-5]].copy()
    df["N"] = df["Model Size"]
    df["D"] = df["Training FLOP"] / (6 * df["N"])
    return df


def grid():
    """Epoch's grid in the LSE parametrisation (a, b, e, α, β)."""
    return np.array(list(itertools.product(np.arange(0, 26, 5.0), np.arange(0, 26, 5.0),
                                           np.arange(-1, 1.01, 0.5), np.arange(0, 2.01, 0.5),
                                           np.arange(0, 2.01, 0.5))))


def scipy_fit(df, starts):
    """Reference: scipy L-BFGS-B per start, analytic gradient of Σ Huber(log y − LSE(...))."""
    lN, lD, ly = np.log(df["N"].to_numpy()), np.log(df["D"].to_numpy()), np.log(df["loss"].to_numpy())
    delta = 1e-3

    def fg(x):
        a, b, e, al, be = x
        t = np.stack([a - al * lN, b - be * lD, np.full_like(lN, e)])
        m = t.max(0)
        ex = np.exp(t - m)
        s = ex.sum(0)
        pred = m + np.log(s)
        r = ly - pred
        ar = np.abs(r)
        f = np.where(ar <= delta, 0.5 * r * r, delta * (ar - 0.5 * delta)).sum()
        dr = np.where(ar <= delta, r, delta * np.sign(r))  # dρ/dr
        p = ex / s  # softmax weights: d pred / d t
        dpred = np.stack([p[0], p[1], p[2], -p[0] * lN, -p[1] * lD])
        return f, -(dpred * dr).sum(1)

    best = (np.inf, None)
    for x0 in starts:
        res = minimize(fg, x0, jac=True, method="L-BFGS-B")
        if res.fun < best[0]:
            best = (res.fun, res.x)
    return best


def lawkit_fit(df):
    import lawkit
    from lawkit.fitting import fit

    g = grid()
    starts = np.column_stack([np.exp(g[:, 2]), np.exp(g[:, 0]), np.exp(g[:, 1]), g[:, 3], g[:, 4]])
    return fit(lawkit.parse(LAW)["epoch"], df, starts=starts)


def main() -> None:
    quick = "--quick" in sys.argv
    df = load()
    print(f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}, points={len(df)}, "
          f"starts={len(grid())}")

    # cold: a fresh process imports lawkit + JAX, compiles and fits
    code = ("import time; t=time.perf_counter(); import sys; sys.path.insert(0, %r); "
            "import fit_speed as b; r=b.lawkit_fit(b.load()); "
            "print(time.perf_counter()-t, r.objective)" % str(Path(__file__).parent))
    import tempfile

    with tempfile.TemporaryDirectory() as cache:  # empty compilation cache: compiles everything
        env = {**os.environ, "LAWKIT_CACHE_DIR": cache}
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True, env=env)
        cold, cold_obj = map(float, out.stdout.split())
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True, env=env)  # a second process reuses the disk cache
        cached, _ = map(float, out.stdout.split())

    r = lawkit_fit(df)  # compile in this process
    t = time.perf_counter()
    r = lawkit_fit(df)
    warm = time.perf_counter() - t

    starts = grid()[::10] if quick else grid()
    t = time.perf_counter()
    ref_obj, _ = scipy_fit(df, starts)
    ref = (time.perf_counter() - t) * (10 if quick else 1)

    import lawkit
    from lawkit.fitting import fit

    law = lawkit.parse(LAW)["epoch"]
    best = np.array([[r.params[k] for k in ("E", "A", "B", "alpha", "beta")]])
    fit(law, df, starts=best, bootstrap=10)
    t = time.perf_counter()
    fit(law, df, starts=best, bootstrap=1000)
    boot = time.perf_counter() - t

    print(f"scipy L-BFGS-B{' (est. from 1/10 of starts)' if quick else ''}: "
          f"{ref:8.2f} s  objective {ref_obj:.10g}")
    print(f"lawkit warm:    {warm:8.2f} s  objective {r.objective:.10g}  ratio {ref / warm:6.1f}x")
    print(f"lawkit cold:    {cold:8.2f} s  objective {cold_obj:.10g}  ratio {ref / cold:6.1f}x"
          "  (new process, import + compile + fit)")
    print(f"lawkit cold, compilation cache on disk: {cached:.2f} s  ratio {ref / cached:6.1f}x")
    print(f"bootstrap 1000 resamples: {boot:.2f} s")
    print(f"objective no worse than scipy: {r.objective <= ref_obj * (1 + 1e-9)}")


if __name__ == "__main__":
    main()
