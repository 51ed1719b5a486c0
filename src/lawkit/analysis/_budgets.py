"""Compute budgets of runs: the budget equation ``C = k·N·D``, read without ``eval``, and rows
grouped into IsoFLOP budgets by single-linkage clustering of log C.

Shared by :mod:`lawkit.analysis.isoflop` (Approach 2) and :mod:`lawkit.analysis.envelope`
(Approach 1).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import AnalysisError, DataError
from ..fitting.data import _rows, column, read_table

DEFAULT_BUDGET = "C = 6·N·D"

_TOKEN = re.compile(r"\s*(?:(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|(?P<name>[^\W\d]\w*)"
                    r"|(?P<op>[*·×⋅=]))")


@dataclass(frozen=True, kw_only=True)
class BudgetEquation:
    """``name = k·N·D``: the compute of a run from its size and tokens."""

    name: str
    k: float
    text: str

    def __call__(self, n: np.ndarray, d: np.ndarray) -> np.ndarray:
        return self.k * n * d


def parse_budget(text: str | None) -> BudgetEquation:
    """``"C = 6·N·D"`` (or ``6*N*D``, ``C = N D``, ``C=6e0×D×N``) → :class:`BudgetEquation`.

    The right side must be a product of positive numbers and the names ``N`` and ``D``, each
    exactly once; the left side (optional) is one name.  Anything else is an
    :class:`AnalysisError` naming the problem and its column in the text; nothing is evaluated.
    """
    text = DEFAULT_BUDGET if text is None else str(text)
    expect = "expected 'C = k·N·D' (a positive number times N times D)"
    tokens, pos = [], 0
    stripped = text.rstrip()
    while pos < len(stripped):
        m = _TOKEN.match(stripped, pos)
        if m is None or m.end() == pos:
            col = pos + len(stripped[pos:]) - len(stripped[pos:].lstrip()) + 1
            raise AnalysisError(f"budget {text!r}: unexpected {stripped[col - 1]!r} at column "
                                f"{col}; {expect}")
        kind = m.lastgroup
        tokens.append((kind, m.group(kind), m.start(kind) + 1))
        pos = m.end()
    if not tokens:
        raise AnalysisError(f"budget {text!r} is empty; {expect}")
    name = "C"
    if sum(t[1] == "=" for t in tokens) > 1:
        raise AnalysisError(f"budget {text!r} has more than one '='; {expect}")
    if any(t[1] == "=" for t in tokens):
        if len(tokens) < 2 or tokens[0][0] != "name" or tokens[1][1] != "=":
            raise AnalysisError(f"budget {text!r}: the left side of '=' must be one name; {expect}")
        name, tokens = tokens[0][1], tokens[2:]
    k, seen, want_factor = 1.0, [], True
    for kind, value, col in tokens:
        if kind == "op":
            if want_factor:
                raise AnalysisError(f"budget {text!r}: {value!r} at column {col} has no factor "
                                    f"before it; {expect}")
            want_factor = True
            continue
        want_factor = False  # factors may also be juxtaposed: "6 N D"
        if kind == "num":
            factor = float(value)
            if not (math.isfinite(factor) and factor > 0):
                raise AnalysisError(f"budget {text!r}: the factor {value} at column {col} must be "
                                    f"finite and positive")
            k *= factor
        elif value in ("N", "D"):
            if value in seen:
                raise AnalysisError(f"budget {text!r}: {value} appears twice (column {col}); "
                                    f"{expect}")
            seen.append(value)
        else:
            raise AnalysisError(f"budget {text!r}: unknown name {value!r} at column {col}; the "
                                f"budget may use only N and D (map data columns with --map); "
                                f"{expect}")
    if want_factor:
        raise AnalysisError(f"budget {text!r} ends without a factor; {expect}")
    if sorted(seen) != ["D", "N"]:
        missing = " and ".join(v for v in ("N", "D") if v not in seen)
        raise AnalysisError(f"budget {text!r} does not use {missing}; {expect}")
    if not (math.isfinite(k) and k > 0):
        raise AnalysisError(f"budget {text!r}: the constant factor is {k:g}; it must be finite "
                            f"and positive")
    return BudgetEquation(name=name, k=k, text=text)


def positive(frame: pd.DataFrame, name: str, col: str, role: str) -> np.ndarray:
    """A numeric column whose values must all be positive (errors name the rows)."""
    values = column(frame, name, col, role)
    bad = values <= 0
    if bad.any():
        raise DataError(f"column {col!r} ({role} {name!r}) has non-positive values in "
                        f"{int(bad.sum())} row(s): {_rows(bad, frame)}; sizes, tokens, compute "
                        f"and losses must be positive")
    return values


@dataclass(frozen=True, kw_only=True)
class Runs:
    """Validated runs: ``N``, ``L``, optional ``D``, the compute ``C`` of each row, and the
    budget equation (its ``k`` turns N* into D* = C/(k·N*) when there is no D column)."""

    N: np.ndarray
    D: np.ndarray | None
    L: np.ndarray
    C: np.ndarray
    equation: BudgetEquation
    compute_column: str | None
    frame: pd.DataFrame


def read_runs(data, *, compute: str | None, budget: str | None,
              mapping: Mapping[str, str] | None) -> Runs:
    """Read N, D, L (renamed by ``mapping``) and each row's compute: the ``compute`` column,
    or the budget equation (default ``C = 6·N·D``) applied to N and D."""
    frame = read_table(data)
    mapping = dict(mapping or {})
    unknown = sorted(set(mapping) - {"N", "D", "L"})
    if unknown:
        raise DataError(f"the mapping names {', '.join(unknown)}; only N, D and L can be mapped "
                        f"(e.g. N=params)")
    if len(frame) == 0:
        raise DataError("the data has no rows")
    equation = parse_budget(budget)
    n = positive(frame, "N", mapping.get("N", "N"), "input")
    loss = positive(frame, "L", mapping.get("L", "L"), "output")
    d_col = mapping.get("D", "D")
    need_d = compute is None or "D" in mapping
    d = positive(frame, "D", d_col, "input") if (need_d or d_col in frame.columns) else None
    if compute is not None:
        c = positive(frame, "compute", compute, "compute")
    else:
        c = equation(n, d)
    return Runs(N=n, D=d, L=loss, C=c, equation=equation, compute_column=compute, frame=frame)


def cluster(c: np.ndarray, tolerance: float) -> np.ndarray:
    """Budget index of each row: sorted log C is cut wherever two neighbours differ by more
    than a factor ``1 + tolerance`` (single linkage); indices follow increasing C."""
    if not (math.isfinite(tolerance) and tolerance >= 0):
        raise AnalysisError(f"tolerance must be a non-negative number, not {tolerance!r}")
    logc = np.log(c)
    order = np.argsort(logc, kind="stable")
    cuts = np.diff(logc[order]) > math.log1p(tolerance) + 1e-12
    labels = np.empty(len(c), dtype=int)
    labels[order] = np.concatenate([[0], np.cumsum(cuts)])
    return labels


def budget_value(c: np.ndarray, from_column: bool) -> float:
    """One budget's C: the median of a compute column's values, else the geometric mean of
    the rows' k·N·D."""
    value = float(np.median(c)) if from_column else float(np.exp(np.mean(np.log(c))))
    return float(f"{value:.12g}")  # 1e18, not 9.999999999999986e17
