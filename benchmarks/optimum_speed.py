"""Speed of optima (issue 17, target 4): a numeric optimum warm ≤ 20 ms per call, a
frontier over 100 budgets ≤ 0.5 s, optima under 1,000 bootstrap draws ≤ 1 s.

Baseline, measured in the same run: scipy's L-BFGS-B on the same target (NumPy-compiled,
log coordinates) started from the best point of the same start grid — one call per
budget, as a careful user would write it.  Prints seconds and ratios.

    python benchmarks/optimum_speed.py
"""

from __future__ import annotations

import math
import time

import numpy as np
from scipy.optimize import minimize

import lawkit
from lawkit.analysis import frontier, optimum, optimum_distribution


def timed(fn, repeat=3):
    best = math.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


_COMPILED = {}


def _compiled(law):
    from lawkit.backends.numpy import compile_expression

    if law.name not in _COMPILED:
        _COMPILED[law.name] = compile_expression(law.expr)
    return _COMPILED[law.name]


def scipy_optimum(law, C, values):
    p = law.value_set(values)
    g = _compiled(law)

    def f(t):
        n = np.exp(np.asarray(t, dtype=float))
        return g({**p, "N": n, "D": C / (6 * n)})
    grid = np.linspace(-8, 50, 900)
    t0 = grid[int(np.argmin(f(grid)))]
    return minimize(lambda t: float(f(t)[0]), [t0], method="L-BFGS-B").x


def main():
    law = lawkit.load("chinchilla")["chinchilla"]
    budgets = np.logspace(18, 25, 100)
    kw = dict(over=["N", "D"], values="hoffmann2022", method="numeric")
    optimum(law, at={"C": 1e22}, **kw)
    one = timed(lambda: [optimum(law, at={"C": c}, **kw) for c in budgets[:20]]) / 20
    base = timed(lambda: [scipy_optimum(law, c, "hoffmann2022") for c in budgets[:20]], 1) / 20
    print(f"numeric optimum, warm:   {1e3 * one:8.2f} ms/call   scipy L-BFGS-B {1e3 * base:8.2f} "
          f"ms/call   ratio {base / one:6.1f}x   (target <= 20 ms)")
    frontier(law, budgets, **kw)
    fr = timed(lambda: frontier(law, budgets, **kw))
    print(f"frontier, 100 budgets:   {fr:8.3f} s          scipy loop {100 * base:8.3f} s        "
          f"ratio {100 * base / fr:6.1f}x   (target <= 0.5 s)")
    from lawkit.examples import path

    fit = lawkit.fit(law, path(), bootstrap=1000, seed=0)
    optimum_distribution(law, fit, over=["N", "D"], at={"C": 1e22})
    dist = timed(lambda: optimum_distribution(law, fit, over=["N", "D"], at={"C": 1e22}))
    print(f"optima of 1,000 draws:   {dist:8.3f} s          scipy loop {1000 * base:8.3f} s        "
          f"ratio {1000 * base / dist:6.1f}x   (target <= 1 s)")


if __name__ == "__main__":
    main()
