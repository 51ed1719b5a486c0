"""Reports: figures for fits and comparisons, written as Markdown (with PNG files beside it)
or as one self-contained HTML file (figures embedded)."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping
from pathlib import Path

from .plots import (plot_bootstrap_pairs as plot_bootstrap_pairs, plot_fit as plot_fit,
                    plot_frontier as plot_frontier, plot_isoflop as plot_isoflop,
                    plot_residuals as plot_residuals)


def comparison_figures(comparison, mapping: Mapping[str, str] | None = None) -> dict:
    """One data-and-fit figure and one residual figure per law of a comparison."""
    figures = {}
    for s in comparison.scores:
        law = s.fit.law
        figures[f"fit_{s.name}"] = plot_fit(law, s.params, comparison.frame,
                                            holdout=comparison.holdout,
                                            mapping=s.fit.mapping if mapping is None else mapping,
                                            title=f"{s.name} (k={s.k})")
        figures[f"residuals_{s.name}"] = plot_residuals(s.fit, title=f"{s.name}: residuals")
    return figures


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return buf.getvalue()


def write_report(path: str | Path, text: str, figures: Mapping[str, object]) -> Path:
    """Write ``text`` and ``figures``: ``.html`` embeds them, ``.md`` links PNGs beside it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in (".html", ".htm"):
        parts = ["<html><head><meta charset='utf-8'><title>lawkit report</title></head><body>",
                 f"<pre>{html.escape(text)}</pre>"]
        for name, fig in figures.items():
            data = base64.b64encode(_png(fig)).decode()
            parts.append(f"<h3>{html.escape(name)}</h3><img alt='{html.escape(name)}' "
                         f"src='data:image/png;base64,{data}'/>")
        path.write_text("\n".join(parts + ["</body></html>"]), encoding="utf-8")
        return path
    lines = ["# lawkit report", "", "```", text, "```", ""]
    for name, fig in figures.items():
        png = path.with_name(f"{path.stem}_{name}.png")
        png.write_bytes(_png(fig))
        lines += [f"## {name}", "", f"![{name}]({png.name})", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
