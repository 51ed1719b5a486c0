"""Figures; each function returns a :class:`matplotlib.figure.Figure`, drawn without pyplot
(no backend switch, no global figure state); it displays inline in Jupyter as a PNG
(``_repr_png_``) and saves anywhere with ``fig.savefig(path)``.

* :func:`plot_fit`: data and fitted curves against one input: one curve per held-fixed
  value of the other inputs (or per fixed ratio such as D/N, or per ``series`` column),
  marker shape per group, held-out points circled.
* :func:`plot_residuals`: residuals against the fitted value and against each input.
* :func:`plot_isoflop`: loss along iso-compute curves with the optimum of each marked.
* :func:`plot_frontier`: N*(C), D*(C) with a bootstrap band.
* :func:`plot_bootstrap_pairs`: pairwise scatter of bootstrap parameter samples.

Log axes carry decade labels as powers of ten (``10^9``); an axis spanning less than a
decade labels its in-between ticks as plain numbers (``3``, ``4``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache

import numpy as np
import pandas as pd

_MARKERS = "osD^vP*X<>"
_MAX_SERIES = 12


@cache
def _figure_class():
    from matplotlib.figure import Figure

    class LawkitFigure(Figure):
        """A matplotlib ``Figure`` that Jupyter shows as a PNG."""

        def _repr_png_(self) -> bytes:
            import io

            buf = io.BytesIO()
            self.savefig(buf, format="png", dpi=100)
            return buf.getvalue()

    return LawkitFigure


def _subplots(*grid, figsize, **kw):
    """A new ``Figure`` (not registered with pyplot) and its axes."""
    fig = _figure_class()(figsize=figsize)
    return fig, fig.subplots(*grid, **kw)


def log_axis(axis) -> None:
    """Readable ticks on a log ``axis`` (``ax.xaxis``): decades as 10^k; under one decade
    of span, the ticks in between labelled as plain numbers."""
    from matplotlib.ticker import FuncFormatter, LogFormatterMathtext, LogLocator, NullFormatter

    axis.set_major_locator(LogLocator(base=10, numticks=12))
    axis.set_major_formatter(LogFormatterMathtext(base=10))
    lo, hi = sorted(v for v in axis.get_view_interval())
    if lo > 0 and np.log10(hi / lo) < 1.2:
        axis.set_minor_locator(LogLocator(base=10, subs=np.arange(2, 10), numticks=12))
        axis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    else:
        axis.set_minor_formatter(NullFormatter())


def _params_of(law, params, mapping, group):
    """(values, mapping, group) from a value-set name, a ``ValueSet``, a mapping of values,
    or a ``FitResult`` (its values, mapping and group column)."""
    if hasattr(params, "params") and hasattr(params, "law"):  # a FitResult
        mapping = dict(params.mapping) if mapping is None else mapping
        if group is None and params.settings.get("per_group"):
            group = params.settings.get("group")
        return dict(params.params), dict(mapping or {}), group
    if isinstance(params, str):
        return law.value_set(params), dict(mapping or {}), group
    if hasattr(params, "values") and hasattr(params, "citation"):  # a ValueSet
        return dict(params.values), dict(mapping or {}), group
    return dict(params), dict(mapping or {}), group


def _sig(v: np.ndarray) -> np.ndarray:
    """Values rounded to 4 significant digits (so 20·N/N compares equal to 20)."""
    with np.errstate(all="ignore"):
        mag = np.where(v == 0, 0, np.floor(np.log10(np.abs(v))))
        return np.round(v / 10**mag, 3) * 10**mag


def _series(xs, x: str, others: dict, frame, series):
    """``(keys per row, label(key), other inputs along x for a key)`` for the curves."""
    n = len(xs)
    if series:
        cols = [series] if isinstance(series, str) else list(series)
        keys = [tuple(r) for r in frame[cols].itertuples(index=False)]
        return keys, lambda k: ", ".join(f"{c}={v}" for c, v in zip(cols, k)), "interp"
    if not others:
        return [()] * n, lambda k: "", "fixed"
    fixed = np.column_stack([_sig(v) for v in others.values()])
    if len({tuple(r) for r in fixed}) <= _MAX_SERIES:
        return ([tuple(r) for r in fixed],
                lambda k: ", ".join(f"{o} = {v:.3g}" for o, v in zip(others, k)), "fixed")
    ratio = np.column_stack([_sig(v / xs) for v in others.values()])
    if len({tuple(r) for r in ratio}) <= _MAX_SERIES:
        return ([tuple(r) for r in ratio],
                lambda k: ", ".join(f"{o}/{x} = {v:.3g}" for o, v in zip(others, k)), "ratio")
    return None, None, None


def plot_fit(law, params, frame: pd.DataFrame, *, x: str | None = None,
             group: str | None = None, holdout: np.ndarray | None = None,
             mapping: Mapping[str, str] | None = None, title: str | None = None,
             series: str | Sequence[str] | None = None):
    """Data and the fitted law against input ``x`` (log-log).

    ``params``: a value-set name or ``law.values[name]``, a mapping of values, or a fit
    result.  Curves: one per held-fixed value of the other inputs; failing that, one per
    fixed ratio other/x (e.g. tokens per parameter D/N); or one per value of the ``series``
    column(s), the other inputs interpolated along x.  ``group`` (e.g. ``"dataset"``) sets
    the marker shape, and per-group parameters (``E[rpj]``) their own curves.
    """
    values, mapping, group = _params_of(law, params, mapping, group)
    x = x or next(iter(law.inputs))
    from ..fitting.data import columns

    frame = frame.reset_index(drop=True)
    inputs, y = columns(law, frame, mapping)
    xs = frame[mapping.get(x, x)].to_numpy(dtype=float)
    others = {k: v for k, v in inputs.items() if k != x}
    keys, label, how = _series(xs, x, others, frame, series)
    if keys is None:  # no held-fixed structure: one series per group, inputs interpolated
        keys = [()] * len(xs)
        label, how = (lambda k: ""), "interp"
    glevels = [None] if group is None else list(pd.unique(frame[group]))
    gcol = None if group is None else frame[group].to_numpy()
    hold = np.zeros(len(frame), bool) if holdout is None else np.asarray(holdout, bool)
    fig, ax = _subplots(figsize=(6.4, 4.4))
    uniq = list(dict.fromkeys(keys))
    try:
        uniq.sort()
    except TypeError:  # mixed types in a series column: keep the data's order
        pass
    if len(uniq) > 10:
        from matplotlib import colormaps

        cmap = colormaps["viridis"]
        colors = {k: cmap(i / max(1, len(uniq) - 1)) for i, k in enumerate(uniq)}
    else:
        colors = {k: f"C{i}" for i, k in enumerate(uniq)}
    karr = np.empty(len(keys), dtype=object)
    karr[:] = keys
    base = {k: v for k, v in values.items() if "[" not in k}
    done: set = set()
    for gi, g in enumerate(glevels):
        gsel = np.ones(len(frame), bool) if g is None else gcol == g
        own = {k.split("[")[0]: v for k, v in values.items()
               if g is not None and k.endswith(f"[{g}]")}
        for key in uniq:
            sel = gsel & np.array([kk == key for kk in karr])
            if not sel.any():
                continue
            ax.scatter(xs[sel], y[sel], s=16, color=colors[key],
                       marker=_MARKERS[gi % len(_MARKERS)], alpha=0.75)
            curve = (key, g if own else None)  # groups share a curve unless they own params
            if curve in done:
                continue
            done.add(curve)
            rows = sel if own else np.array([kk == key for kk in karr])
            lo, hi = xs[rows].min(), xs[rows].max()
            grid = np.logspace(np.log10(lo), np.log10(hi), 80) if hi > lo else np.array([lo])
            env = {}
            for o, v in others.items():
                if how == "fixed":
                    env[o] = np.full_like(grid, float(np.median(v[rows])))
                elif how == "ratio":
                    env[o] = grid * float(np.median(v[rows] / xs[rows]))
                else:
                    order = np.argsort(xs[rows])
                    env[o] = np.exp(np.interp(np.log(grid), np.log(xs[rows][order]),
                                              np.log(np.abs(v[rows][order]) + 1e-300)))
            pred = law.evaluate({**base, **own}, **{x: grid}, **env)
            ax.plot(grid, np.broadcast_to(pred, grid.shape), color=colors[key], lw=1.2,
                    alpha=0.9, ls="-" if not own else ["-", "--", ":", "-."][gi % 4])
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=colors[k], lw=1.2, label=label(k) or "fitted law")
               for k in uniq]
    if group is not None:
        handles += [Line2D([], [], color="0.4", marker=_MARKERS[i % len(_MARKERS)], ls="",
                           label=str(g)) for i, g in enumerate(glevels)]
    if hold.any():
        ax.scatter(xs[hold], y[hold], s=46, facecolors="none", edgecolors="k")
        handles.append(Line2D([], [], marker="o", ls="", mfc="none", mec="k", label="held out"))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(x if mapping.get(x, x) == x else f"{x} ({mapping[x]})")
    ax.set_ylabel(law.output.name)
    ax.set_title(title or f"{law.name}: data and fitted law")
    ax.autoscale_view()
    log_axis(ax.xaxis)
    log_axis(ax.yaxis)
    ax.grid(True, which="major", alpha=0.25)
    ax.legend(handles=handles, fontsize=6, ncol=2 if len(handles) > 8 else 1)
    fig.tight_layout()
    return fig


def plot_residuals(result, data=None, *, group: str | None = None, title: str | None = None):
    """Residuals in the fitted space (log y − log ŷ or y − ŷ) against the fitted value and
    against each input of the law, for the rows of ``data`` (the fitted table), one colour
    per value of ``group`` (default: the fit's group column).  Without
    ``data``: the fit's own residuals in row order and as a histogram."""
    space = result.settings["space"]
    if data is None:
        r = np.asarray(result.residuals)
        fig, (a, b) = _subplots(1, 2, figsize=(8, 3.2))
        a.plot(r, ".", ms=4)
        a.axhline(0, color="k", lw=0.8)
        a.set_xlabel("row")
        a.set_ylabel(f"residual ({space})")
        b.hist(r, bins=30)
        b.set_xlabel(f"residual ({space})")
        b.set_ylabel("rows")
        fig.suptitle(title or f"{result.law.name}: residuals")
        fig.tight_layout()
        return fig
    from ..fitting.data import columns, read_table

    frame = read_table(data).reset_index(drop=True)
    law, mapping = result.law, dict(result.mapping)
    inputs, y = columns(law, frame, mapping)
    pred = np.asarray(result.predict(frame), dtype=float)
    with np.errstate(all="ignore"):
        r = np.log(y) - np.log(pred) if space == "log" else y - pred
    panels = [("fitted " + law.output.name, pred)] + [(k, v) for k, v in inputs.items()]
    fig, axes = _subplots(1, len(panels), figsize=(3.1 * len(panels) + 0.6, 3.2), squeeze=False)
    group = group or result.settings.get("group")
    levels = [None] if not group or group not in frame.columns else list(pd.unique(frame[group]))
    for ax, (name, xv) in zip(axes[0], panels):
        for i, g in enumerate(levels):
            sel = np.ones(len(frame), bool) if g is None else (frame[group] == g).to_numpy()
            ax.scatter(xv[sel], r[sel], s=10, color=f"C{i % 10}", marker=_MARKERS[i % 10],
                       alpha=0.7, label=None if g is None else str(g))
        ax.axhline(0, color="k", lw=0.8)
        ax.set_xlabel(name)
        if np.all(xv > 0) and xv.max() / xv.min() > 20:
            ax.set_xscale("log")
            log_axis(ax.xaxis)
        ax.grid(True, alpha=0.25)
    axes[0][0].set_ylabel(f"residual ({space})")
    if levels[0] is not None:
        axes[0][-1].legend(fontsize=6)
    fig.suptitle(title or f"{law.name}: residuals against the fitted value and each input")
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
