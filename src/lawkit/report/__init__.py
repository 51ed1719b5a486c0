"""Reports: figures for fits and comparisons, written as Markdown (with PNG files beside it)
or as one self-contained HTML file (figures embedded)."""

from __future__ import annotations

import io

import pandas as pd
from collections.abc import Mapping
from pathlib import Path

from .plots import (log_axis as log_axis, plot_bootstrap_pairs as plot_bootstrap_pairs, plot_fit as plot_fit,
                    plot_frontier as plot_frontier, plot_isoflop as plot_isoflop,
                    plot_residuals as plot_residuals)


def fit_figures(result, data, *, holdout=None) -> dict:
    """The data-and-fit figure and the residual figure of a fit on ``data``
    (``example:NAME``, a path or a DataFrame); with a bootstrap, the pairs figure too."""
    from ..fitting.data import read_table

    frame = read_table(data).reset_index(drop=True)
    name = result.law.name
    group = _group_column(result, frame)
    figures = {f"fit_{name}": plot_fit(result.law, result, frame, holdout=holdout, group=group),
               f"residuals_{name}": plot_residuals(result, frame, group=group)}
    if result.bootstrap and any(k in result.transforms for k in result.bootstrap):
        figures["pairs"] = plot_bootstrap_pairs(result)
    return figures


def _group_column(result, frame):
    """The fit's group column, else a text column with 2–8 levels (e.g. ``dataset``) to
    tell groups apart by marker shape."""
    if result.settings.get("group"):
        return result.settings["group"]
    used = set(result.mapping.values()) | set(result.law.inputs) | {result.law.output.name}
    for col in frame.columns:
        if (col not in used and not pd.api.types.is_numeric_dtype(frame[col])
                and 2 <= frame[col].nunique() <= 8):
            return col
    return None


def comparison_figures(comparison, mapping: Mapping[str, str] | None = None) -> dict:
    """One data-and-fit figure and one residual figure per law of a comparison."""
    figures = {}
    train = (comparison.frame if comparison.holdout is None
             else comparison.frame[~comparison.holdout].reset_index(drop=True))
    for s in comparison.scores:
        law = s.fit.law
        figures[f"fit_{s.name}"] = plot_fit(law, s.fit, comparison.frame,
                                            holdout=comparison.holdout,
                                            group=_group_column(s.fit, comparison.frame),
                                            mapping=s.fit.mapping if mapping is None else mapping,
                                            title=f"{s.name} (k={s.k})")
        figures[f"residuals_{s.name}"] = plot_residuals(
            s.fit, train, group=_group_column(s.fit, train),
            title=f"{s.name}: residuals (training rows)")
    return figures


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return buf.getvalue()


def _text(obj) -> str:
    if isinstance(obj, str):
        return obj
    try:
        return obj.report("md")
    except TypeError:
        return obj.report()


REPORT_SUFFIXES = (".html", ".htm", ".md", ".markdown")


def check_report_path(path: str | Path) -> Path:
    """``path`` as a report file: a ``.html``/``.md`` name that is not a directory and whose
    parent is (or can be made) a directory; else a :class:`~lawkit.errors.LawkitError`
    naming ``--report`` (checked before any work, so that no fit is lost to a typo)."""
    from ..errors import LawkitError

    path = Path(path)
    if path.suffix.lower() not in REPORT_SUFFIXES:
        raise LawkitError(f"--report {path}: a report is .html (one self-contained page) or "
                          f".md (Markdown with PNGs beside it), not {path.suffix or 'no suffix'!r}")
    if path.is_dir():
        raise LawkitError(f"--report {path}: is a directory; give a file name such as "
                          f"{path / ('report' + path.suffix)}")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise LawkitError(f"--report {path}: {parent} is not a directory")
    return path


def write_report(path: str | Path, result, figures: Mapping[str, object], **html_options) -> Path:
    """Write a report of ``result`` (a fit, comparison, validation or IsoFLOP result, or
    plain text) with ``figures``: ``.html`` is one self-contained page (see
    :mod:`lawkit.report.html`), ``.md`` links PNGs written beside it."""
    from ..errors import LawkitError

    path = check_report_path(path)
    try:
        return _write_report(path, result, figures, **html_options)
    except OSError as err:
        raise LawkitError(f"--report {path}: cannot write it: {err.strerror or err}"
                          + (f" ({err.filename})" if err.filename else "")) from None


def _write_report(path: Path, result, figures, **html_options) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in (".html", ".htm"):
        from .html import write_html

        return write_html(path, result, figures, **html_options)
    text = _text(result)
    lines = ["# lawkit report", "", "```", text, "```", ""]
    for name, fig in figures.items():
        fig = fig[0] if isinstance(fig, tuple) else fig
        png = path.with_name(f"{path.stem}_{name}.png")
        png.write_bytes(_png(fig))
        lines += [f"## {name}", "", f"![{name}]({png.name})", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
