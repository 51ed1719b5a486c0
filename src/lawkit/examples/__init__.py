"""Example data shipped with lawkit (see ATTRIBUTION.md for sources and licences)."""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def path(name: str = "gadre_overtraining") -> Path:
    """Path of a bundled CSV, e.g. ``path("gadre_overtraining")``."""
    p = _HERE / f"{name}.csv"
    if not p.exists():
        names = ", ".join(q.stem for q in _HERE.glob("*.csv"))
        raise FileNotFoundError(f"no example {name!r}; available: {names}")
    return p
