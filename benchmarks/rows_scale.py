"""Benchmark (issue 17, target 2): fit time and peak memory against the number of rows.

Each size runs in its own process (peak RSS from ``resource.getrusage``), fitting the
Chinchilla form E + A/N^α + B/D^β with the default start grid to synthetic rows (known
truth, 2% log-normal noise).  Targets: 2 million rows complete, peak memory ≤ 2 GB, and
time(2M)/time(200k) ≤ 12 in the same run.

    python benchmarks/rows_scale.py [--rows 200000 2000000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

LAW = """
law chin:
    inputs N, D
    output L
    params E > 0, A > 0, B > 0, alpha > 0, beta > 0
    L = E + A/N^alpha + B/D^beta
"""
TRUTH = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}

CHILD = r"""
import json, resource, sys, time
import numpy as np, pandas as pd
t0 = time.perf_counter()
import lawkit
n = int(sys.argv[1])
rng = np.random.default_rng(0)
N = 10 ** rng.uniform(7, 10, n); D = 10 ** rng.uniform(9, 12, n)
T = %(truth)r
L = (T["E"] + T["A"] / N ** T["alpha"] + T["B"] / D ** T["beta"]) * np.exp(rng.normal(0, 0.02, n))
frame = pd.DataFrame({"N": N, "D": D, "L": L})
law = lawkit.parse(%(law)r)["chin"]
t1 = time.perf_counter()
r = lawkit.fit(law, frame)
t2 = time.perf_counter()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MiB (Linux: KiB)
print(json.dumps({"rows": n, "fit_s": t2 - t1, "total_s": t2 - t0, "peak_mib": peak,
                  "starts": int(len(r.starts["objective"])), "status": r.status.name,
                  "params": r.params, "objective": r.objective}))
"""


def run(n: int) -> dict:
    code = CHILD % {"truth": TRUTH, "law": LAW}
    out = subprocess.run([sys.executable, "-c", code, str(n)], capture_output=True, text=True,
                         timeout=3600)
    if out.returncode:
        return {"rows": n, "error": out.stderr.strip().splitlines()[-1:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, nargs="+", default=[200_000, 2_000_000])
    sizes = ap.parse_args().rows
    results = [run(n) for n in sizes]
    for r in results:
        if "error" in r:
            print(f"{r['rows']:>9} rows: FAILED {r['error']}")
            continue
        p = ", ".join(f"{k}={v:.4g}" for k, v in r["params"].items())
        print(f"{r['rows']:>9} rows: fit {r['fit_s']:7.1f} s, peak RSS {r['peak_mib']:6.0f} MiB, "
              f"{r['starts']} starts, {r['status']}; {p}")
    ok = [r for r in results if "error" not in r]
    if len(ok) >= 2:
        a, b = ok[0], ok[-1]
        print(f"time({b['rows']})/time({a['rows']}) = {b['fit_s'] / a['fit_s']:.2f} "
              f"(rows x{b['rows'] / a['rows']:g}; target <= 12)   peak memory "
              f"{max(r['peak_mib'] for r in ok):.0f} MiB (target <= 2048)")


if __name__ == "__main__":
    main()
