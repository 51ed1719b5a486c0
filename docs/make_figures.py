"""Regenerate the example figures in docs/img/ (run from the repository root)."""

from pathlib import Path

import pandas as pd

import lawkit
from lawkit.analysis import optimum  # noqa: F401  (lawkit.analysis for the plots)
from lawkit.examples import path
from lawkit.report import (plot_bootstrap_pairs, plot_fit, plot_frontier, plot_isoflop,
                           plot_residuals)

out = Path(__file__).parent / "img"
out.mkdir(exist_ok=True)
law = lawkit.load("chinchilla")["chinchilla"]
frame = pd.read_csv(path())
fit = lawkit.fit(law, frame, bootstrap=200, seed=0)
figures = {
    "fit": plot_fit(law, fit.values(), frame, group="dataset", holdout=(frame.N >= 1e9).to_numpy()),
    "residuals": plot_residuals(fit),
    "isoflop": plot_isoflop(law, "besiroglu2024", [1e19, 1e21, 1e23]),
    "frontier": plot_frontier(law, [1e19, 1e20, 1e21, 1e22, 1e23], fit=fit),
    "bootstrap_pairs": plot_bootstrap_pairs(fit),
}
for name, fig in figures.items():
    fig.savefig(out / f"{name}.png", dpi=90)
