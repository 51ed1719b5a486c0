"""Benchmark (issue 17, target 1): ``lawkit fit`` of the Epoch/Chinchilla problem in a new
process, against two baselines measured in the same run:

* JAX's own start-up: ``python -c "import jax; jax.jit(lambda x: x + 1)(1.0)"``
  (target: lawkit's cold fit ≤ 2× this, i.e. lawkit's own overhead ≤ JAX's start-up);
* scipy's L-BFGS-B per start with analytic gradients, one BLAS thread, over the same
  4,500-start grid (``fit_speed.scipy_fit``; target: cold fit ≥ 10× faster).

Cold runs alternate with the JAX baseline (so both see the same machine load) and use a
cache directory primed by one earlier call, as a user's second ``lawkit fit`` does; the
first, empty-cache call is reported too.  Warm = the same fit again in one process.
``PYTHONDONTWRITEBYTECODE`` is cleared for the child processes: pip installs JAX, SymPy and
pandas with their bytecode compiled, and an editable lawkit would otherwise recompile its
own sources in every process, which no installed lawkit does.

    OPENBLAS_NUM_THREADS=1 python benchmarks/cold_cli.py [--repeat 5] [--quick]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

sys.path.insert(0, str(Path(__file__).parent))
import fit_speed  # noqa: E402

JAX_BASELINE = "import jax; jax.jit(lambda x: x + 1)(1.0).block_until_ready()"


def timed(cmd: list[str], env: dict) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, timeout=600)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--quick", action="store_true",
                    help="scipy on 1 in 10 starts, time scaled by 10 (an estimate)")
    opts = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lawkit-cold-"))
    df = fit_speed.load()
    df[["N", "D", "loss"]].to_csv(work / "epoch.csv", index=False)
    (work / "epoch.law").write_text(fit_speed.LAW, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["LAWKIT_CACHE_DIR"] = str(work / "cache")
    fit = [sys.executable, "-m", "lawkit", "fit", str(work / "epoch.law"), str(work / "epoch.csv")]

    first = timed(fit, env)  # empty cache: traces, compiles and stores
    cold, base = [], []
    for _ in range(opts.repeat):
        base.append(timed([sys.executable, "-c", JAX_BASELINE], env))
        cold.append(timed(fit, env))
    jax_s, cold_s = statistics.median(base), statistics.median(cold)

    import lawkit
    from lawkit.fitting import fit as fit_api

    law = lawkit.parse(fit_speed.LAW)["epoch"]
    fit_api(law, df)
    warm = []
    for _ in range(3):
        t = time.perf_counter()
        result = fit_api(law, df)
        warm.append(time.perf_counter() - t)
    warm_s = min(warm)

    starts = fit_speed.grid()[::10] if opts.quick else fit_speed.grid()
    t = time.perf_counter()
    ref_obj, _ = fit_speed.scipy_fit(df, starts)
    scipy_s = (time.perf_counter() - t) * (10 if opts.quick else 1)

    print(f"points={len(df)}, repeats={opts.repeat} (medians), "
          f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}")
    print(f"python -c 'import jax; jit':      {jax_s:6.2f} s")
    print(f"lawkit fit, new process, cached:  {cold_s:6.2f} s   "
          f"{cold_s / jax_s:4.2f}x JAX start-up (target <= 2)")
    print(f"lawkit fit, new process, empty cache: {first:.2f} s")
    print(f"lawkit fit, warm (same process):  {warm_s:6.3f} s   objective {result.objective:.10g}")
    print(f"scipy L-BFGS-B{' (est.)' if opts.quick else ''}:            {scipy_s:6.2f} s   "
          f"objective {ref_obj:.10g}")
    print(f"ratio scipy / cold: {scipy_s / cold_s:6.1f}x (target >= 10)")
    print(f"ratio scipy / warm: {scipy_s / warm_s:6.1f}x (target >= 100)")


if __name__ == "__main__":
    main()
