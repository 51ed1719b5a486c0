"""Figures render, with the expected axes and series; reports embed them."""

from __future__ import annotations

import numpy as np
import pytest

import lawkit
from lawkit.examples import path
from lawkit.report import (plot_bootstrap_pairs, plot_fit, plot_frontier, plot_isoflop,
                           plot_residuals, write_report)

CHIN = lawkit.load("chinchilla")["chinchilla"]


@pytest.fixture(scope="module")
def boot_fit():
    return lawkit.fit(CHIN, path(), bootstrap=30, seed=0)


def test_fit_and_residual_figures(boot_fit):
    import pandas as pd
    from matplotlib.ticker import LogFormatterMathtext

    frame = pd.read_csv(path())
    hold = (frame.N >= 1e9).to_numpy()
    fig = plot_fit(CHIN, boot_fit.values(), frame, group="dataset", holdout=hold)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "N" and ax.get_ylabel() == "L" and ax.get_xscale() == "log"
    # one fitted curve per fixed tokens-per-parameter ratio D/N (8 in these runs), each a
    # smooth curve (not one marker per row), shared by the datasets (no per-group params)
    assert len(ax.lines) == 8 and all(len(line.get_xdata()) == 80 for line in ax.lines)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "held out" in labels and "rpj" in labels and "D/N = 20" in labels
    assert isinstance(ax.xaxis.get_major_formatter(), LogFormatterMathtext)
    # the curve at D/N = 20 is the law itself along D = 20·N
    line = ax.lines[labels.index("D/N = 20")]
    n = line.get_xdata()
    assert line.get_ydata() == pytest.approx(CHIN.evaluate(boot_fit.values(), N=n, D=20 * n))
    # a published value set draws too; the figure shows inline in Jupyter as a PNG
    fig = plot_fit(CHIN, CHIN.values["hoffmann2022"], frame)
    assert fig._repr_png_()[:8] == b"\x89PNG\r\n\x1a\n"
    fig = plot_residuals(boot_fit)               # without data: row order and histogram
    assert len(fig.axes) == 2 and len(fig.axes[0].lines[0].get_ydata()) == 104
    fig = plot_residuals(boot_fit, frame, group="dataset")  # vs fitted, vs N, vs D
    assert [a.get_xlabel() for a in fig.axes] == ["fitted L", "N", "D"]
    assert sum(len(c.get_offsets()) for c in fig.axes[0].collections) == 104


def test_per_group_fit_draws_a_curve_per_group():
    import pandas as pd

    frame = pd.read_csv(path())
    fit = lawkit.fit(CHIN, frame, group="dataset", per_group=("E",), starts=4)
    fig = plot_fit(CHIN, fit, frame)             # group and values come from the fit
    assert len(fig.axes[0].lines) == 8 * 3


def test_isoflop_and_frontier(boot_fit):
    fig = plot_isoflop(CHIN, "hoffmann2022", [1e19, 1e21, 1e23])
    ax = fig.axes[0]
    assert len(ax.lines) == 6                      # a curve and an optimum marker per budget
    opt_n = ax.lines[1].get_xdata()[0]
    assert opt_n == pytest.approx(lawkit.analysis.optimum(CHIN, over=["N", "D"], at={"C": 1e19},
                                                          values="hoffmann2022").at["N"])
    fig = plot_frontier(CHIN, [1e20, 1e22], fit=boot_fit)
    ax = fig.axes[0]
    assert len(ax.lines) == 2 and len(ax.collections) == 2  # N*, D* and their bands
    assert ax.get_yscale() == "log"


def test_bootstrap_pairs_and_report(boot_fit, tmp_path):
    fig = plot_bootstrap_pairs(boot_fit)
    assert len([a for a in fig.axes if a.axison]) == 15  # lower triangle of 5 × 5
    md = write_report(tmp_path / "fit.md", boot_fit.report(), {"pairs": fig})
    assert (tmp_path / "fit_pairs.png").stat().st_size > 1000
    assert "![pairs](fit_pairs.png)" in md.read_text()
    png = (tmp_path / "fit_pairs.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert np.isfinite(boot_fit.objective)
