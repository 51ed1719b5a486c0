"""Figures for Approaches 1 and 2, drawn on :class:`matplotlib.figure.Figure` objects (no
pyplot, no backend switch).

* :func:`plot_isoflop_profiles`: each budget's points, its fitted profile over the window,
  and the minimum (filled: bracketed, hollow: left out), loss against N on a log axis.
* :func:`plot_optima`: N*(C) and D*(C) with their intervals and the fitted power laws.
* :func:`plot_envelope`: every size's loss curve against C, the envelope, and its minima.
* :func:`save_figures`: the figures of a result as PNG files in a folder.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .plots import _subplots


def _log_axes(ax, x: bool = True, y: bool = False) -> None:
    from matplotlib.ticker import LogLocator

    if x:
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(base=10, numticks=12))
    if y:
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(base=10, numticks=12))
    ax.grid(True, which="major", alpha=0.3)


def plot_isoflop_profiles(result, title: str | None = None):
    """Loss against N per budget: points, windowed profile, minimum."""
    fig, ax = _subplots(figsize=(7, 4.6))
    for i, b in enumerate(result.budgets):
        color = f"C{i % 10}"
        ax.scatter(b.N, b.L, s=12, color=color, alpha=0.6, label=f"C = {b.C:.2g}")
        if b.profile is None:
            continue
        w = b.N[b.profile.window]
        grid = np.geomspace(w.min(), w.max(), 60)
        ax.plot(grid, b.profile(grid), color=color, lw=1.4)
        if np.isfinite(b.N_opt):
            ax.plot([b.N_opt], [b.L_opt], marker="o", ms=7, color=color,
                    mfc=color if b.bracketed else "none", ls="none")
    _log_axes(ax)
    ax.set_xlabel("N (parameters)")
    ax.set_ylabel("loss")
    ax.set_title(title or "IsoFLOP profiles (filled: minimum used, hollow: not bracketed)",
                 fontsize=9)
    ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    return fig


def plot_optima(result, title: str | None = None):
    """N*(C) and D*(C) with intervals, and the power laws through the bracketed minima."""
    fig, ax = _subplots(figsize=(6.4, 4.4))
    used = result.used
    c = np.array([b.C for b in used])
    cs = np.geomspace(c.min(), c.max(), 50)
    for i, (sym, law) in enumerate((("N", result.N_law), ("D", result.D_law))):
        color = f"C{i}"
        est = np.array([getattr(b, f"{sym}_opt") for b in used])
        ci = np.array([getattr(b, f"{sym}_opt_ci") for b in used], dtype=float)
        err = np.abs(np.vstack([est - ci[:, 0], ci[:, 1] - est]))
        err[~np.isfinite(err)] = 0
        ax.errorbar(c, est, yerr=err, fmt="o", ms=4, color=color, capsize=2,
                    label=f"{sym}* per budget")
        lo, hi = law.ci
        ax.plot(cs, law.at(cs), color=color, lw=1.2,
                label=f"{sym}* = {law.coef:.3g}·C^{law.exponent:.3f} [{lo:.3f}, {hi:.3f}]")
        out = [b for b in result.budgets
               if not b.bracketed and np.isfinite(getattr(b, f"{sym}_opt"))]
        if out:
            ax.plot([b.C for b in out], [getattr(b, f"{sym}_opt") for b in out], "x",
                    color=color, ms=6, label=f"{sym}* not bracketed (left out)")
    _log_axes(ax, y=True)
    ax.set_xlabel("C (FLOPs)")
    ax.set_ylabel("N*, D*")
    ax.set_title(title or "compute-optimal N*, D* and power laws", fontsize=9)
    ax.legend(fontsize=6)
    fig.tight_layout()
    return fig


def plot_envelope(result, title: str | None = None):
    """Loss against C for every run (coloured by size), the envelope, and its minima."""
    from matplotlib import colormaps

    fig, ax = _subplots(figsize=(7, 4.6))
    cmap = colormaps["viridis"]
    logn = np.log10([cv.N for cv in result.curves])
    span = max(float(logn.max() - logn.min()), 1e-9)
    first, last = int(np.argmin(logn)), int(np.argmax(logn))
    for i, cv in enumerate(result.curves):
        ax.plot(10**cv.logC, np.exp(cv.logL), color=cmap((logn[i] - logn.min()) / span), lw=0.9,
                alpha=0.8, label=f"N = {cv.N:.3g}" if i in (first, last) else None)
    cs = np.array([b.C for b in result.budgets])
    ls = np.array([b.L_opt for b in result.budgets])
    ok = np.isfinite(ls)
    ax.plot(cs[ok], ls[ok], color="k", lw=1.8, label="envelope")
    br = np.array([b.bracketed for b in result.budgets])
    ax.plot(cs[br], ls[br], "o", ms=3, color="C3", label="minima used")
    _log_axes(ax)
    ax.set_xlabel("C (FLOPs)")
    ax.set_ylabel("loss")
    ax.set_title(title or "lower envelope of loss vs compute (Approach 1)", fontsize=9)
    ax.legend(fontsize=6)
    fig.tight_layout()
    return fig


def approach_figures(result) -> dict:
    """``{name: Figure}``: profiles or envelope, and the optima with their power laws."""
    if hasattr(result, "curves"):
        return {"envelope": plot_envelope(result), "envelope_optima": plot_optima(result)}
    return {"isoflop_profiles": plot_isoflop_profiles(result),
            "isoflop_optima": plot_optima(result)}


def save_figures(result, folder: str | Path) -> list[Path]:
    """PNG files of ``result``'s figures in ``folder`` (created): profiles or envelope, and
    the optima with their power laws."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    figs = approach_figures(result)
    paths = []
    for name, fig in figs.items():
        path = folder / f"{name}.png"
        fig.savefig(path, dpi=110)
        paths.append(path)
    return paths
