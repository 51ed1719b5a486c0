"""HTML reports of fit, compare, validate and isoflop, opened in a real headless Chromium:
the page loads with no console errors, asks for nothing but itself and its inline images,
carries the CSP, and its screenshot shows the figures."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from browser import CHROMIUM, ink, look
from lawkit.cli import main
from lawkit.report.html import CSP

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (.ci/run installs Debian's chromium)")

QAT_LAW = """
law qat extends chinchilla "weight-only QAT <&> test":
    inputs P_w "weight bits"
    params γ_w > 0
    N_eff = N·(1 − e^(−P_w/γ_w))
    L = E + A/N_eff^α + B/D^β
"""


def qat_runs() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = [{"N": N, "D": D, "P_w": P,
             "L": (1.2 + 30 / (N * (1 - np.exp(-P / 2.67))) ** 0.3 + 40 / D ** 0.28)
             * np.exp(rng.normal(0, 0.003))}
            for N in (2e4, 5e4, 1e5, 2e5) for D in (1e5, 4e5, 1.6e6, 6.4e6)
            for P in (2, 3, 4, 6, 8, 16) for _ in (0, 1)]
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """The four reports, written by the CLI."""
    d = tmp_path_factory.mktemp("reports")
    law = d / "qat.law"
    law.write_text(QAT_LAW, encoding="utf-8")
    runs = d / "runs.csv"
    qat_runs().to_csv(runs, index=False)
    commands = {
        "fit": ["fit", "chinchilla", "example:gadre_overtraining", "--starts", "4"],
        "compare": ["compare", "chinchilla", "laws/kaplan.law:kaplan_nd",
                    "example:gadre_overtraining", "--holdout", "N >= 1e9"],
        "validate": ["validate", str(law), str(runs), "--term", "N_eff", "--bootstrap", "10"],
        "isoflop": ["isoflop", "example:isoflop_synthetic", "--bootstrap", "20"],
    }
    out = {}
    for name, argv in commands.items():
        page = d / f"{name}.html"
        assert main([*argv, "--report", str(page)]) == 0, name
        out[name] = page
    return out


@pytest.fixture(scope="module")
def seen(reports):
    return {name: look(page) for name, page in reports.items()}


@pytest.mark.parametrize("name", ["fit", "compare", "validate", "isoflop"])
def test_page_loads_clean_and_shows_figures(name, reports, seen):
    text = reports[name].read_text(encoding="utf-8")
    page = seen[name]
    # the policy is in the page, and nothing outside the page is referenced or loaded
    assert f'content="{CSP}"' in text
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", text, re.I)
    external = [u for u in page.requests if not u.startswith(("data:", "file://"))]
    assert external == [], external
    assert [u for u in page.requests if u.startswith("file://")] == [reports[name].as_uri()]
    errors = [(lvl, t) for lvl, t in page.console if lvl in ("error", "warning", "assert")]
    assert errors == [] and page.exceptions == [] and page.csp_violations == []
    # a title, real tables, figures with captions
    assert page.title and "<table>" in page.dom and "<figcaption>" in page.dom
    n_img = page.dom.count('<img alt="')
    assert n_img == {"fit": 2, "compare": 4, "validate": 1, "isoflop": 2}[name]
    # figures are drawn: every image decoded (naturalWidth > 0 shows as a non-blank shot)
    dark, colour, total = ink(page.screenshot)
    assert page.height > 900 and dark > 0.02 * total   # text, tables and plots
    assert colour > 1000 * n_img                         # coloured curves and points


def test_fit_report_content(reports, seen):
    dom = seen["fit"].dom
    assert "<math" in dom and "mfrac" in dom              # the law typeset as MathML
    for needle in ("Goodness of fit", "R²", "mean |relative error|", "Parameter correlations",
                   "example:gadre_overtraining", "residuals cluster by column"):
        assert needle in dom, needle


def test_compare_report_content(seen):
    dom = seen["compare"].dom
    assert "Ranking (by hold-out ARE)" in dom
    assert "held-out rows" in dom and "N &gt;= 1e9" in dom
    assert dom.count("<math") >= 2                          # both laws typeset
    assert '<tr class="best">' in dom


def test_user_text_is_escaped(seen):
    dom = seen["validate"].dom
    assert "weight-only QAT &lt;&amp;&gt; test" in dom      # the citation, escaped
    assert "<&>" not in dom
