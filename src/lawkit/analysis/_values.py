"""Parameter values for analysis: a value-set name, a mapping, or a fit result — checked
against the law's declared bounds."""

from __future__ import annotations

import math
from collections.abc import Mapping

from ..errors import AnalysisError


def param_values(law, values) -> dict[str, float]:
    """``{param: value}`` (fixed and tied ones filled in) from ``values``."""
    from ..fitting.result import FitResult

    if values is None:
        if len(law.values) == 1:
            return law.value_set(next(iter(law.values)))
        raise AnalysisError(f"law {law.name!r} needs values: a value set name "
                            f"({', '.join(law.values) or 'none defined'}), a dict, or a fit result")
    if isinstance(values, str):
        return law.value_set(values)
    if isinstance(values, FitResult):
        if values.settings.get("per_group"):
            raise AnalysisError("a per-group fit has no single set of values; pass one group's "
                                "values as a dict")
        values = values.values()
    if not isinstance(values, Mapping):
        raise AnalysisError(f"values must be a value-set name, a mapping or a FitResult, not "
                            f"{type(values).__name__}")
    out = law.complete_values(values)
    for name, v in out.items():
        p = law.params.get(name)
        if p is None:
            continue
        if not math.isfinite(v):
            raise AnalysisError(f"parameter {name} = {v}: values must be finite")
        lo_ok = v > p.lower if p.lower_open else v >= p.lower
        hi_ok = v < p.upper if p.upper_open else v <= p.upper
        if p.fixed is None and not (lo_ok and hi_ok):
            raise AnalysisError(f"parameter {name} = {v:g} is outside its declared bounds "
                                f"({p.bounds_text()}) in law {law.name!r}")
    return out
