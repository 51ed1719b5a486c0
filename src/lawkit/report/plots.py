"""Figures; each function returns a :class:`matplotlib.figure.Figure`, drawn without pyplot
(no backend switch, no global figure state), so it displays inline in Jupyter and saves
anywhere with ``fig.savefig(path)``.

* :func:`plot_fit`: data and fitted curves against one input, one colour per group, held-out
  points marked.
* :func:`plot_residuals`: residuals against the fitted value.
* :func:`plot_isoflop`: loss along iso-compute curves with the optimum of each marked.
* :func:`plot_frontier`: N*(C), D*(C) with a bootstrap band.
* :func:`plot_bootstrap_pairs`: pairwise scatter of bootstrap parameter samples.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd


def _subplots(*grid, figsize, **kw):
    """A new ``Figure`` (not registered with pyplot) and its axes."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    return fig, fig.subplots(*grid, **kw)


def plot_fit(law, params: Mapping[str, float], frame: pd.DataFrame, *, x: str | None = None,
             group: str | None = None, holdout: np.ndarray | None = None,
             mapping: Mapping[str, str] | None = None, title: str | None = None):
    """Observed vs predicted output against input ``x`` (log-log)."""
    mapping = dict(mapping or {})
    x = x or next(iter(law.inputs))
    from ..fitting.data import columns

    inputs, y = columns(law, frame, mapping)
    pred = law.evaluate(dict(params), **inputs)
    xs = frame[mapping.get(x, x)].to_numpy(dtype=float)
    fig, ax = _subplots(figsize=(6, 4.2))
    groups = [None] if group is None else list(pd.unique(frame[group]))
    hold = np.zeros(len(frame), bool) if holdout is None else np.asarray(holdout, bool)
    for i, g in enumerate(groups):
        sel = np.ones(len(frame), bool) if g is None else (frame[group] == g).to_numpy()
        color = f"C{i % 10}"
        order = np.argsort(xs[sel])
        ax.scatter(xs[sel & ~hold], y[sel & ~hold], s=14, color=color, alpha=0.7,
                   label="data" if g is None else str(g))
        if g is None:  # points at other inputs differ: show predictions as markers
            ax.scatter(xs[sel], pred[sel], s=18, marker="x", color="C3", lw=0.8, label="fit")
        else:
            ax.plot(xs[sel][order], pred[sel][order], color=color, lw=1, alpha=0.8)
    if hold.any():
        ax.scatter(xs[hold], y[hold], s=40, facecolors="none", edgecolors="k", label="held out")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(x)
    ax.set_ylabel(law.output.name)
    ax.set_title(title or f"{law.name}: data and fit")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_residuals(result, title: str | None = None):
    """Residuals (in the fitted space) in data order and as a histogram."""
    r = np.asarray(result.residuals)
    fig, (a, b) = _subplots(1, 2, figsize=(8, 3.2))
    a.plot(r, ".", ms=4)
    a.axhline(0, color="k", lw=0.8)
    a.set_xlabel("row")
    a.set_ylabel(f"residual ({result.settings['space']})")
    b.hist(r, bins=30)
    b.set_xlabel("residual")
    fig.suptitle(title or f"{result.law.name}: residuals")
    fig.tight_layout()
    return fig


def plot_isoflop(law, values, budgets: Sequence[float], *, over=("N", "D"),
                 at: Mapping[str, float] | None = None, budget_name: str | None = None):
    """Loss along each iso-compute curve (x: first ``over`` variable) with its optimum."""
    import sympy as sp

    from ..analysis import optimum
    from ..analysis._solve import solve_for
    from ..analysis._values import param_values
    from ..backends.numpy import evaluate

    name = budget_name or next(iter(law.budgets))
    xname, other = over[0], over[1]
    c_sym = sp.Symbol(name, positive=True)
    other_expr = solve_for(law.budget(name) - c_sym, law.symbol(other))  # e.g. D = C/(6N)
    if other_expr is None:
        raise ValueError(f"cannot solve budget {name} for {other}")
    target = law.expr.xreplace({law.symbol(other): other_expr})
    params = {**param_values(law, values), **(at or {})}
    fig, ax = _subplots(figsize=(6, 4.2))
    for i, c in enumerate(budgets):
        opt = optimum(law, over=list(over), at={**(at or {}), name: c}, values=values)
        xs = opt.at[xname] * np.logspace(-1.5, 1.5, 80)
        ys = evaluate(target, {**params, name: c, xname: xs})
        ax.plot(xs, ys, color=f"C{i % 10}", label=f"{name} = {c:.0e}")
        ax.plot([opt.at[xname]], [opt.at[law.output.name]], "o", color=f"C{i % 10}")
    ax.set_xscale("log")
    ax.set_xlabel(xname)
    ax.set_ylabel(law.output.name)
    ax.set_title(f"{law.name}: iso-{name} curves and optima")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_frontier(law, budgets: Sequence[float], *, values=None, fit=None, over=("N", "D"),
                  at: Mapping[str, float] | None = None, level: float = 0.9):
    """N*(C) and D*(C); with a bootstrap ``fit``, a ``level`` band from its resamples."""
    from ..analysis import frontier, optimum_distribution

    vals = fit.values() if fit is not None else values
    table = frontier(law, budgets, over=list(over), at=at, values=vals)
    name = next(iter(law.budgets))
    fig, ax = _subplots(figsize=(6, 4.2))
    for i, v in enumerate(over):
        ax.plot(table[name], table[v], color=f"C{i}", label=f"{v}*")
    if fit is not None and fit.bootstrap:
        bands = {v: ([], []) for v in over}
        for c in budgets:
            dist = optimum_distribution(law, fit, over=list(over), at={**(at or {}), name: c},
                                        level=level)
            for v in over:
                bands[v][0].append(dist.ci[v][0])
                bands[v][1].append(dist.ci[v][1])
        for i, v in enumerate(over):
            ax.fill_between(budgets, bands[v][0], bands[v][1], color=f"C{i}", alpha=0.2,
                            label=f"{v}* {100 * level:g}% band")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(name)
    ax.set_title(f"{law.name}: compute-optimal frontier")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_bootstrap_pairs(result, params: Sequence[str] | None = None):
    """Scatter matrix of bootstrap samples (lower triangle) with histograms on the diagonal."""
    if not result.bootstrap:
        raise ValueError("the fit has no bootstrap samples (fit with bootstrap=K)")
    names = list(params or [k for k in result.bootstrap if k in result.transforms])
    k = len(names)
    fig, axes = _subplots(k, k, figsize=(1.8 * k + 1, 1.8 * k + 1), squeeze=False)
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            ax = axes[i][j]
            if j > i:
                ax.axis("off")
                continue
            if i == j:
                ax.hist(result.bootstrap[a][np.isfinite(result.bootstrap[a])], bins=25)
            else:
                ax.plot(result.bootstrap[b], result.bootstrap[a], ".", ms=2, alpha=0.5)
            if i == k - 1:
                ax.set_xlabel(b, fontsize=8)
            if j == 0:
                ax.set_ylabel(a, fontsize=8)
            ax.tick_params(labelsize=6)
    fig.suptitle(f"{result.law.name}: bootstrap samples")
    fig.tight_layout()
    return fig
