"""The frozen result of :func:`lawkit.validate` and its JSON form."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field


def _num(x):
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


@dataclass(frozen=True, kw_only=True)
class TermTest:
    name: str
    statistic: float
    dof: tuple[int, int]
    p_value: float

    def to_dict(self) -> dict:
        return {"name": self.name, "statistic": _num(self.statistic), "dof": list(self.dof),
                "p_value": _num(self.p_value)}


@dataclass(frozen=True, kw_only=True)
class GroupRow:
    """One group: the measured term (relative to its reference value, or absolute) with
    its interval, the predicted value from the fitted form, and measured − predicted."""

    key: Mapping[str, object]
    n: int
    measured: float
    measured_ci: tuple[float, float]
    predicted: float
    residual: float

    def to_dict(self) -> dict:
        return {"key": dict(self.key), "n": self.n, "measured": _num(self.measured),
                "measured_ci": [_num(v) for v in self.measured_ci],
                "predicted": _num(self.predicted), "residual": _num(self.residual)}


@dataclass(frozen=True, kw_only=True, eq=False)
class Validation:
    """Outcome of :func:`lawkit.validate` (see :mod:`lawkit.validation.core`)."""

    law: str
    term: str
    reference: str
    by: tuple[str, ...]
    params: Mapping[str, Mapping[str, object]]
    params_joint: Mapping[str, Mapping[str, object]]
    groups: tuple[GroupRow, ...]
    verdict: str
    test: TermTest
    n_trend: Mapping[str, object]
    relative: bool
    n_reference: int
    n_rows: int
    unreachable: tuple[int, ...]
    level: float
    bootstrap: int
    alternatives: tuple = ()
    baseline: str | None = None
    reference_fit: object = field(default=None, repr=False)
    term_fit: object = field(default=None, repr=False)
    joint_fit: object = field(default=None, repr=False)
    data: object = field(default=None, repr=False)

    def to_dict(self) -> dict:
        """Exactly the documented JSON keys (``lawkit validate --json``)."""
        return {
            "law": self.law, "term": self.term, "reference": self.reference, "by": list(self.by),
            "params": {n: {"value": _num(p["value"]), "ci": [_num(v) for v in p["ci"]]}
                       for n, p in self.params.items()},
            "groups": [g.to_dict() for g in self.groups],
            "verdict": self.verdict,
            "test": self.test.to_dict(),
            "n_trend": {"slope": _num(self.n_trend["slope"]),
                        "ci": [_num(v) for v in self.n_trend["ci"]]},
        }

    def report(self, fmt: str = "md") -> str:
        from .report import render

        return render(self, fmt)

    def _repr_html_(self) -> str:
        return self.report("html")
