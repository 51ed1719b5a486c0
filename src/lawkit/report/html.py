"""Self-contained HTML reports: one page template for fits, comparisons, validations and
IsoFLOP analyses.

The page needs nothing from the network: laws are typeset as MathML (SymPy's presentation
printer; browsers render it natively), figures are inlined as base64 PNG, styles are inline,
and a Content-Security-Policy (``default-src 'none'; img-src data:; style-src
'unsafe-inline'``) forbids any other load.  All user text (law names, citations, column
names, values) is escaped with :func:`html.escape`.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 62em; padding: 0 1em; color: #1b1b1b; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { font-size: 1.2em; margin-top: 1.6em;
     border-bottom: 1px solid #ddd; } h3 { font-size: 1.05em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #f3f3f3; } td.name, th.name { text-align: left; }
tr.best td { background: #eef7ee; } td.strong { background: #fde9e7; }
.law { background: #fafafa; border: 1px solid #e3e3e3; padding: 0.6em 1em; margin: 0.6em 0; }
.law math { font-size: 1.15em; } .cite { color: #555; font-style: italic; }
figure { margin: 1em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #444; font-size: 0.9em; } .warn { color: #8a4b00; }
pre { background: #f6f6f6; padding: 0.6em; overflow-x: auto; font-size: 0.85em; }
code { font-size: 0.92em; } details { margin: 0.4em 0; }
"""


def esc(x) -> str:
    return html.escape(str(x), quote=True)


def num(x, spec: str = ".4g") -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—"
    return format(x, spec)


def pct(x) -> str:
    return "—" if x is None or not math.isfinite(x) else f"{100 * x:.3g}%"


# ---- building blocks
def table(header: Sequence[str], rows: Sequence[Sequence], *, name_cols: int = 1,
          row_class: Sequence[str] | None = None) -> str:
    """A ``<table>``; cells are escaped; the first ``name_cols`` columns are left-aligned."""
    def cell(tag, i, v):
        cls = ' class="name"' if i < name_cols else ""
        return f"<{tag}{cls}>{esc(v)}</{tag}>"

    out = ["<table>", "<thead><tr>" + "".join(cell("th", i, h) for i, h in enumerate(header))
           + "</tr></thead>", "<tbody>"]
    for r, row in enumerate(rows):
        cls = f' class="{esc(row_class[r])}"' if row_class and row_class[r] else ""
        out.append(f"<tr{cls}>" + "".join(cell("td", i, v) for i, v in enumerate(row)) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def mathml(lhs, rhs) -> str:
    """``lhs = rhs`` (SymPy objects) as block MathML."""
    import sympy as sp

    body = sp.printing.mathml(sp.Eq(lhs, rhs, evaluate=False), printer="presentation")
    return f'<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">{body}</math>'


def law_block(law) -> str:
    """The law typeset (terms first, then the output), its citation, inputs, parameter
    bounds, and its LaTeX source."""
    import sympy as sp

    parts = [f'<div class="law"><h3>law <code>{esc(law.name)}</code>'
             + (f' <span class="cite">{esc(law.citation)}</span>' if law.citation else "")
             + (f" (extends <code>{esc(law.parent)}</code>)" if law.parent else "") + "</h3>"]
    for name, e in law.terms.items():
        parts.append(mathml(sp.Symbol(name), e))
    parts.append(mathml(law.output.symbol, law.equation))
    ins = ", ".join(f"{n}" + (f" ({v.description})" if v.description else "")
                    for n, v in law.inputs.items())
    parts.append(f"<p>inputs: {esc(ins)}; output: {esc(law.output.name)}"
                 + (f"; parameters: {esc(', '.join(f'{n} {p.bounds_text()}'.strip() for n, p in law.params.items()))}"
                    if law.params else "") + "</p>")
    parts.append(f"<details><summary>LaTeX</summary><pre>{esc(law.latex())}</pre></details>")
    parts.append("</div>")
    return "\n".join(parts)


def png_data(fig, dpi: int = 110) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def figure(fig, caption: str, alt: str | None = None) -> str:
    return (f'<figure><img alt="{esc(alt or caption)}" src="data:image/png;base64,'
            f'{png_data(fig)}"/><figcaption>{esc(caption)}</figcaption></figure>')


def caption_for(name: str) -> str:
    """A caption from a figure's key (``fit_chinchilla``, ``residuals_x``, ``term``, …)."""
    kind, _, law = name.partition("_")
    return {"fit": f"Data and fitted law {law} against its first input: one curve per "
                   f"held-fixed value (or fixed ratio) of the other inputs; marker shape per "
                   f"group; held-out rows circled.",
            "residuals": f"Residuals of {law} (fitted space) against the fitted value and "
                         f"against each input.",
            "pairs": "Bootstrap samples of the fitted parameters, pairwise.",
            "term": "Measured effect of the term per group (markers with intervals) and the "
                    "form's prediction (lines).",
            "isoflop": "IsoFLOP profiles (points, windowed fit, minimum) and the optima "
                       "N*(C), D*(C) with their power laws.",
            }.get(kind, name.replace("_", " "))


def figures_section(figures: Mapping[str, object]) -> str:
    if not figures:
        return ""
    out = ["<h2>Figures</h2>"]
    for name, fig in figures.items():
        fig, caption = fig if isinstance(fig, tuple) else (fig, caption_for(name))
        out.append(figure(fig, caption, alt=name))
    return "\n".join(out)


def page(title: str, sections: Sequence[str], subtitle: str = "") -> str:
    """The whole document."""
    from .. import __version__

    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
        f"<p class='cite'>{esc(subtitle)}</p>" if subtitle else "",
        *[s for s in sections if s],
        f"<hr><p class='cite'>lawkit {esc(__version__)}</p>", "</body></html>", ""])


def _context(context: Mapping[str, object] | None) -> str:
    if not context:
        return ""
    rows = "".join(f"<tr><th class='name'>{esc(k)}</th><td class='name'>{esc(v)}</td></tr>"
                   for k, v in context.items() if v is not None)
    return f"<h2>Data</h2>\n<table><tbody>{rows}</tbody></table>"


# ---- fits
def fit_sections(result, *, title_level: str = "h2") -> list[str]:
    """Goodness of fit, parameters with intervals, derived quantities, correlations and
    warnings of a :class:`~lawkit.fitting.result.FitResult`."""
    g, s = result.goodness, result.settings
    level = f"{100 * result.ci_level:g}%"
    boot = s.get("bootstrap") or 0
    out = [f"<{title_level}>Goodness of fit</{title_level}>", table(
        ["measure", "value"],
        [("rows fitted", result.n), ("parameters fitted", result.k),
         (f"R² ({s['space']} space)", num(g.r2, ".6f")), (f"RMSE ({s['space']} space)", num(g.rmse)),
         ("mean |relative error|", pct(g.mean_abs_rel_error)),
         ("max |relative error|", pct(g.max_abs_rel_error)),
         ("AIC, BIC", f"{num(result.aic, '.4f')}, {num(result.bic, '.4f')}"),
         ("loss", f"{s['loss']}" + (f" (delta={s['delta']:g})" if s.get("delta") else "")
          + f", {s['space']}-space residuals"),
         ("status", result.status.value)])]
    how = (f"{level} percentile interval from {boot} bootstrap resamples of the rows" if boot
           else f"{level} interval: estimate ± z·SE (sandwich standard error, normal approximation)")
    z = _z(result.ci_level)
    rows = []
    for name, value in result.params.items():
        se = result.stderr.get(name)
        if name in result.ci:
            lo, hi = result.ci[name]
        elif se is not None and math.isfinite(se):
            lo, hi = value - z * se, value + z * se
        else:
            lo = hi = None
        base = name.split("[")[0]
        note = ("at bound" if name in result.at_bound else
                "fixed/tied" if base not in result.transforms else "")
        rows.append((name, num(value, ".6g"), num(se), num(lo, ".6g"), num(hi, ".6g"), note))
    out += [f"<{title_level}>Parameters</{title_level}>", f"<p>{esc(how)}.</p>",
            table(["parameter", "estimate", "std. error", f"{level} low", f"{level} high", ""],
                  rows)]
    derived = [k for k in result.ci if k not in result.params]
    if derived:
        import numpy as np

        drows = []
        for k in derived:
            vals = result.bootstrap.get(k)
            est = float(np.nanmedian(vals)) if vals is not None and np.isfinite(vals).any() else None
            drows.append((k, num(est, ".6g"), num(result.ci[k][0], ".6g"),
                          num(result.ci[k][1], ".6g")))
        out += [f"<{title_level}>Derived quantities</{title_level}>",
                table(["quantity", "estimate (bootstrap median)", f"{level} low", f"{level} high"],
                      drows)]
    corr = result.correlation
    if len(result.labels) > 1:
        crow = [[a] + [num(corr[i, j], "+.3f") for j in range(len(result.labels))]
                for i, a in enumerate(result.labels)]
        out += [f"<{title_level}>Parameter correlations</{title_level}>",
                "<p>From the sandwich covariance; |C| near 1 marks a ridge the data cannot "
                "resolve.</p>", table(["", *result.labels], crow)]
    notes = ([f"at a bound: {', '.join(result.at_bound)}"] if result.at_bound else []) + list(
        result.warnings)
    if notes:
        out += [f"<{title_level}>Warnings</{title_level}>",
                "<ul>" + "".join(f"<li class='warn'>{esc(n)}</li>" for n in notes) + "</ul>"]
    return out


def _z(level: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + level / 2))


def fit_page(result, figures: Mapping[str, object] = {}, *, context=None,
             title: str | None = None) -> str:
    return page(title or f"Fit of law {result.law.name}",
                [law_block(result.law), _context(context), *fit_sections(result),
                 figures_section(figures)],
                subtitle=f"{result.n} rows; {result.k} parameters; {result.seconds:.2f} s")


def fit_fragment(result, figures: Mapping[str, object] = {}) -> str:
    """A fit as an HTML fragment (Jupyter): tables and inline figures, no page."""
    return ("<div class='lawkit-fit'>" + f"<h3>Fit of law {esc(result.law.name)}</h3>"
            + "\n".join(fit_sections(result, title_level="h4")) + figures_section(figures)
            + "</div>")


# ---- comparisons
def comparison_page(comparison, figures: Mapping[str, object] = {}, *, context=None,
                    title: str | None = None) -> str:
    scores = comparison.scores
    ctx = dict(context or {})
    n = len(comparison.frame)
    held = 0 if comparison.holdout is None else int(comparison.holdout.sum())
    ctx.setdefault("rows", n)
    ctx["held-out rows"] = held if comparison.holdout is not None else "none"
    ctx["fitted on"] = f"{n - held} rows"
    rows = [(s.name, s.k, num(s.aic, ".3f"), num(s.bic, ".3f"), pct(s.cv_are),
             pct(s.holdout_are), pct(s.fit.goodness.mean_abs_rel_error),
             num(s.fit.goodness.r2, ".4f")) for s in scores]
    sections = [_context(ctx), f"<h2>Ranking (by {esc(comparison.ranked_by)})</h2>",
                table(["law", "k", "AIC", "BIC", "CV ARE", "hold-out ARE", "in-sample ARE",
                       "R²"], rows, row_class=["best"] + [""] * (len(rows) - 1)),
                "<p>ARE: mean |ŷ − y|/y. The best law (first row) is highlighted.</p>",
                "<h2>Laws</h2>", *[law_block(s.fit.law) for s in scores]]
    for s in scores:
        sections += [f"<h2>Law {esc(s.name)}: fit on the training rows</h2>",
                     *fit_sections(s.fit, title_level="h3")]
    sections.append(figures_section(figures))
    return page(title or "Comparison of laws: " + ", ".join(s.name for s in scores), sections,
                subtitle=f"best: {comparison.best} (ranked by {comparison.ranked_by})")


# ---- validations and IsoFLOP analyses
def validation_page(v, figures: Mapping[str, object] = {}, *, context=None,
                    title: str | None = None, law=None) -> str:
    from ..validation.report import render

    body = render(v, "html")
    return page(title or f"Validation of term {v.term} of law {v.law}",
                [law_block(law) if law is not None else "", _context(context), body,
                 figures_section(figures)], subtitle=f"verdict: {v.verdict}")


def isoflop_page(result, figures: Mapping[str, object] = {}, *, context=None,
                 title: str | None = None) -> str:
    lvl = f"{100 * result.settings.get('ci_level', 0.95):g}%"
    rows = [(num(b.C, ".3g"), b.n_points, num(b.N_opt, ".4g"),
             f"[{num(b.N_opt_ci[0], '.3g')}, {num(b.N_opt_ci[1], '.3g')}]", num(b.D_opt, ".4g"),
             num(b.L_opt, ".4f"), "yes" if b.bracketed else f"no: {b.reason}")
            for b in result.budgets]
    laws = [(f"{sym}* = G·C^{e}", num(pl.coef, ".4g"), num(pl.exponent, ".4f"),
             f"[{num(pl.ci[0], '.4f')}, {num(pl.ci[1], '.4f')}]", pl.method, pl.n)
            for sym, e, pl in (("N", "a", result.N_law), ("D", "b", result.D_law))]
    settings = ", ".join(f"{k} {v}" for k, v in result.settings.items())
    sections = [_context(context), f"<p>Settings: {esc(settings)}</p>",
                "<h2>Optima per budget</h2>",
                table(["C", "runs", "N*", f"{lvl} CI of N*", "D*", "L*", "bracketed"], rows,
                      name_cols=0),
                "<h2>Power laws</h2>",
                table(["law", "coefficient", "exponent", f"{lvl} CI", "method", "budgets"], laws)]
    if result.L_law is not None:
        ll = result.L_law
        sections.append(f"<p>L* = {esc(num(ll.E))} + {esc(num(ll.A))}·C^−{esc(num(ll.gamma))}</p>")
    sections.append(figures_section(figures))
    return page(title or "IsoFLOP profiles (Approach 2)", sections)


def render(obj, figures: Mapping[str, object] = {}, **kw) -> str:
    """The page for a fit, comparison, validation or IsoFLOP result; text as a ``<pre>``."""
    from ..analysis.isoflop import IsoFlopResult
    from ..compare import Comparison
    from ..fitting.result import FitResult
    from ..validation.result import Validation

    if isinstance(obj, FitResult):
        return fit_page(obj, figures, **kw)
    if isinstance(obj, Comparison):
        return comparison_page(obj, figures, **kw)
    if isinstance(obj, Validation):
        return validation_page(obj, figures, **kw)
    if isinstance(obj, IsoFlopResult):
        return isoflop_page(obj, figures, **kw)
    return page(kw.get("title") or "lawkit report",
                [_context(kw.get("context")), f"<pre>{esc(obj)}</pre>",
                 figures_section(figures)])


def write_html(path: str | Path, obj, figures: Mapping[str, object] = {}, **kw) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(obj, figures, **kw), encoding="utf-8")
    return path
