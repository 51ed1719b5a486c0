"""Reports (Markdown or HTML) and figures for a :class:`~lawkit.validation.result.Validation`."""

from __future__ import annotations

import html
import math

import numpy as np


def _f(x, spec=".4g"):
    return "—" if x is None or (isinstance(x, float) and not math.isfinite(x)) else format(x, spec)


def render(v, fmt: str = "md") -> str:
    unit = "relative to its full-precision value" if v.relative else "absolute (loss units)"
    t = v.test
    lines = [f"# Validation of term `{v.term}` of law `{v.law}`", "",
             f"- reference rows: `{v.reference}` ({v.n_reference} rows); other rows: {v.n_rows}",
             f"- grouped by: {', '.join(v.by)}; the term is reported {unit}",
             f"- fits: least squares on log loss; intervals: {100 * v.level:g}% "
             f"(percentile, {v.bootstrap} bootstrap draws of the reference fit with rows "
             f"resampled within groups)",
             "", f"**Verdict: {v.verdict}** — {t.name}: F = {_f(t.statistic)}, "
             f"dof = {t.dof}, p = {_f(t.p_value)}"]
    if v.relative:
        lo, hi = v.n_trend["ci"]
        lines.append(f"; slope of log({v.term}/ref) on log N within groups: "
                     f"{_f(v.n_trend['slope'])} [{_f(lo)}, {_f(hi)}] (0 if multiplicative in N)")
    lines += ["", "## Parameters of the term", "",
              "| parameter | fit (rest held at reference) | CI | joint fit | CI |",
              "|---|---|---|---|---|"]
    for n, p in v.params.items():
        j = v.params_joint.get(n, {"value": None, "ci": (None, None)})
        lines.append(f"| {n} | {_f(p['value'])} | [{_f(p['ci'][0])}, {_f(p['ci'][1])}] | "
                     f"{_f(j['value'])} | [{_f(j['ci'][0])}, {_f(j['ci'][1])}] |")
    lines += ["", "## Measured against predicted", "",
              "| group | n | measured | CI | predicted | residual |", "|---|---|---|---|---|---|"]
    for g in v.groups:
        key = ", ".join(f"{k}={val}" for k, val in g.key.items())
        lines.append(f"| {key} | {g.n} | {_f(g.measured)} | [{_f(g.measured_ci[0])}, "
                     f"{_f(g.measured_ci[1])}] | {_f(g.predicted)} | {_f(g.residual, '+.3g')} |")
    if v.unreachable:
        lines += ["", f"{len(v.unreachable)} row(s) have a loss no value of the term can reach "
                      f"(rows {', '.join(map(str, v.unreachable[:20]))}); they are excluded "
                      f"from the group means."]
    if v.alternatives:
        lines += ["", "## Alternative forms", "", "| law | k | SSR | AIC | F | p |",
                  "|---|---|---|---|---|---|"]
        for a in v.alternatives:
            lines.append(f"| {a['law']} | {a['k']} | {_f(a['ssr'])} | {_f(a['aic'])} | "
                         f"{_f(a['test']['statistic'])} | {_f(a['test']['p_value'])} |")
    text = "\n".join(lines) + "\n"
    if fmt == "md":
        return text
    return _html(text)


def _html(md: str) -> str:
    """A small Markdown → HTML for the report's own constructs (headings, lists, tables)."""
    out, table = [], False
    for line in md.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if set("".join(cells)) <= {"-"}:
                continue
            tag = "th" if not table else "td"
            if not table:
                out.append("<table>")
                table = True
            out.append("<tr>" + "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in cells) + "</tr>")
            continue
        if table:
            out.append("</table>")
            table = False
        if line.startswith("# "):
            out.append(f"<h1>{html.escape(line[2:])}</h1>")
        elif line.startswith("## "):
            out.append(f"<h2>{html.escape(line[3:])}</h2>")
        elif line.startswith("- "):
            out.append(f"<li>{html.escape(line[2:])}</li>")
        elif line:
            out.append(f"<p>{html.escape(line).replace('**', '')}</p>")
    if table:
        out.append("</table>")
    return "<div class='lawkit-validation'>" + "\n".join(out) + "</div>"


def figures(v) -> dict:
    """``{"term": Figure}``: measured (points: rows; markers with bars: group means) and
    predicted against the first grouping column, one colour per model size N."""
    from matplotlib.figure import Figure

    df = v.data
    x = v.by[0]
    fig = Figure(figsize=(6.4, 4.4))
    ax = fig.subplots()
    sizes = sorted(df["N"].unique()) if "N" in df.columns else [None]
    for i, n in enumerate(sizes):
        sub = df if n is None else df[df["N"] == n]
        ax.plot(sub[x], sub["_measured"], ".", color=f"C{i % 10}", alpha=0.6,
                label=None if n is None else f"N = {n:.3g}")
        order = np.argsort(sub[x].to_numpy())
        ax.plot(sub[x].to_numpy()[order], sub["_predicted"].to_numpy()[order], "-",
                color=f"C{i % 10}", lw=1)
    xs = [g.key[x] for g in v.groups]
    lo = [g.measured - g.measured_ci[0] for g in v.groups]
    hi = [g.measured_ci[1] - g.measured for g in v.groups]
    err = np.nan_to_num(np.abs(np.array([lo, hi], dtype=float)))
    ax.errorbar(xs, [g.measured for g in v.groups], yerr=err, fmt="ks", ms=5, capsize=3,
                label="measured (group)")
    ax.plot(xs, [g.predicted for g in v.groups], "k--", lw=1, label="predicted (form)")
    ax.set_xlabel(x)
    ax.set_ylabel(f"{v.term} / reference" if v.relative else v.term)
    ax.set_title(f"{v.law}: term {v.term} ({v.verdict})")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return {"term": fig}
