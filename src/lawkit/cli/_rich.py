"""Terminal tables (rich) for ``fit``, ``compare`` and ``laws`` when stdout is a terminal;
piped output stays the plain text of the reports, byte for byte."""

from __future__ import annotations

import math
import os
import sys


def wanted() -> bool:
    """Rich output: stdout is a terminal and neither NO_COLOR nor LAWKIT_PLAIN is set."""
    return (sys.stdout.isatty() and not os.environ.get("NO_COLOR")
            and not os.environ.get("LAWKIT_PLAIN"))


def _console():
    from rich.console import Console

    return Console()


def _n(x, spec=".6g") -> str:
    return "—" if x is None or not math.isfinite(x) else format(x, spec)


def print_fit(result) -> None:
    from rich.table import Table

    g, s = result.goodness, result.settings
    con = _console()
    head = Table(title=f"fit of law {result.law.name}", show_header=False, title_justify="left")
    head.add_column(style="bold")
    head.add_column()
    for k, v in [("data points", str(result.n)), ("parameters", f"{result.k} fitted"),
                 ("loss", f"{s['loss']} on {s['space']}-space residuals"),
                 ("R², RMSE", f"{_n(g.r2, '.6f')}, {_n(g.rmse, '.4g')} ({s['space']} space)"),
                 ("rel. error", f"mean {100 * g.mean_abs_rel_error:.3g}%, "
                                f"max {100 * g.max_abs_rel_error:.3g}%"),
                 ("AIC, BIC", f"{result.aic:.4f}, {result.bic:.4f}"),
                 ("status", result.status.value), ("time", f"{result.seconds:.2f} s")]:
        head.add_row(k, v)
    con.print(head)
    level = f"{100 * result.ci_level:g}% CI"
    t = Table(title="parameters", title_justify="left")
    for col, j in (("name", "left"), ("value", "right"), ("std. error", "right"),
                   (level, "right"), ("", "left")):
        t.add_column(col, justify=j)
    for name, value in result.params.items():
        se = result.stderr.get(name)
        ci = result.ci.get(name)
        base = name.split("[")[0]
        note = ("[red]AT BOUND[/red]" if name in result.at_bound
                else "(fixed/tied)" if base not in result.transforms else "")
        t.add_row(name, _n(value, ".8g"), _n(se, ".4g"),
                  f"[{_n(ci[0])}, {_n(ci[1])}]" if ci else "", note)
    con.print(t)
    corr = result.correlation
    pairs = [(result.labels[i], result.labels[j], corr[i, j])
             for i in range(len(result.labels)) for j in range(i + 1, len(result.labels))
             if math.isfinite(corr[i, j]) and abs(corr[i, j]) >= 0.5]
    if pairs:
        c = Table(title="correlations (|C| ≥ 0.5)", title_justify="left")
        c.add_column("pair")
        c.add_column("C", justify="right")
        for a, b, v in sorted(pairs, key=lambda p: -abs(p[2])):
            c.add_row(f"{a}, {b}", f"[{'red' if abs(v) > 0.95 else 'default'}]{v:+.4f}")
        con.print(c)
    for w in ([f"at a bound: {', '.join(result.at_bound)}"] if result.at_bound else []) + list(
            result.warnings):
        con.print(f"[yellow]warning:[/yellow] {w}", highlight=False)


def print_comparison(comparison) -> None:
    from rich.table import Table

    t = Table(title=f"ranked by {comparison.ranked_by}; best: {comparison.best}",
              title_justify="left")
    for col in ("law", "k", "AIC", "BIC", "CV ARE", "hold-out ARE"):
        t.add_column(col, justify="left" if col == "law" else "right")

    def pct(x):
        return "—" if x is None or not math.isfinite(x) else f"{100 * x:.3f}%"

    for i, s in enumerate(comparison.scores):
        t.add_row(s.name, str(s.k), f"{s.aic:.3f}", f"{s.bic:.3f}", pct(s.cv_are),
                  pct(s.holdout_are), style="bold green" if i == 0 else None)
    _console().print(t)


def print_laws(laws, files: dict) -> None:
    from rich.table import Table

    t = Table(title="law library", title_justify="left", show_lines=True)
    for col in ("law", "form", "value sets", "file / load"):
        t.add_column(col)
    for law in laws:
        t.add_row(f"[bold]{law.name}[/bold]\n{law.citation}",
                  f"{law.output.name}({', '.join(law.inputs)})",
                  ", ".join(law.values) or "(form only)",
                  f"{files[law.name]}\nlawkit.load({law.name!r})[{law.name!r}]")
    _console().print(t)
