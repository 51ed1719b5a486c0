"""Synthetic runs from a known Chinchilla surface L = E + A/N^α + B/D^β (Hoffmann et al.
2022, rounded: E=1.69, A=406.4, B=410.7, α=0.34, β=0.28), for examples and tests.

The compute-optimal frontier under C = 6·N·D is N* = G·(C/6)^a with a = β/(α+β),
G = (αA/(βB))^(1/(α+β)).  ``python -m lawkit.examples.synthetic`` rewrites the bundled
``isoflop_synthetic.csv`` and ``ladder_synthetic.csv``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

CHINCHILLA = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}


def loss(n, d, p=CHINCHILLA):
    return p["E"] + p["A"] / np.asarray(n) ** p["alpha"] + p["B"] / np.asarray(d) ** p["beta"]


def n_opt(c, p=CHINCHILLA):
    """The true N*(C) of the surface under C = 6·N·D."""
    a = p["beta"] / (p["alpha"] + p["beta"])
    g = (p["alpha"] * p["A"] / (p["beta"] * p["B"])) ** (1 / (p["alpha"] + p["beta"]))
    return g * (np.asarray(c, dtype=float) / 6) ** a


def isoflop_grid(budgets=(1e18, 1e19, 1e20, 1e21, 1e22), *, half_width=1.0, points=9,
                 tilt=0.15, noise=0.005, seed=0, p=CHINCHILLA) -> pd.DataFrame:
    """IsoFLOP runs: per budget, ``points`` sizes log-spaced over ±``half_width`` decades
    around N*(C)·(C/1e20)^tilt (a grid centred on a wrong guess of the exponent, as real
    grids are), loss plus Gaussian noise of sd ``noise``.  Columns N, D, L, C."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in budgets:
        centre = n_opt(c, p) * (c / 1e20) ** tilt
        for n in centre * np.logspace(-half_width, half_width, points):
            d = c / (6 * n)
            rows.append((n, d, float(loss(n, d, p)) + rng.normal(0, noise), c))
    return pd.DataFrame(rows, columns=["N", "D", "L", "C"])


def ladder(sizes=np.logspace(7.5, 10, 11), *, tokens_per_param=np.logspace(-0.2, 2.8, 16),
           noise=0.003, seed=0, p=CHINCHILLA) -> pd.DataFrame:
    """A model ladder with checkpoints: every size evaluated at D = r·N for each ratio r
    (the final-loss surface, i.e. an idealised run per length).  Columns N, D, L."""
    rng = np.random.default_rng(seed)
    rows = [(n, r * n, float(loss(n, r * n, p)) + rng.normal(0, noise))
            for n in sizes for r in tokens_per_param]
    return pd.DataFrame(rows, columns=["N", "D", "L"])


def main() -> None:
    here = Path(__file__).resolve().parent
    isoflop_grid(seed=1).round(6).to_csv(here / "isoflop_synthetic.csv", index=False)
    ladder(seed=1).round(6).to_csv(here / "ladder_synthetic.csv", index=False)


if __name__ == "__main__":
    main()
