"""Example data and sweep specs shipped with lawkit (see ATTRIBUTION.md for sources and
licences), addressable by name anywhere a data file or spec is expected:
``example:gadre_overtraining`` (a CSV here) or ``example:smoke`` (a sweep spec).

>>> path("gadre_overtraining").name
'gadre_overtraining.csv'
"""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent

DESCRIPTIONS = {
    "gadre_overtraining": "104 models of Gadre et al. 2024 (N, D, L per dataset); real data",
    "isoflop_synthetic": "synthetic IsoFLOP profiles from Chinchilla's law (N, D, L, C)",
    "ladder_synthetic": "synthetic N × D ladder from Chinchilla's law (N, D, L)",
    "smoke": "sweep spec: 8 tiny byte-level LMs (2 sizes × 2 lengths × 2 train formats)",
}


def sweeps_dir() -> Path:
    """The shipped sweep specs: ``lawkit/examples/sweeps`` in a wheel, the repository's
    ``examples/sweeps`` in a checkout."""
    for candidate in (_HERE / "sweeps", _HERE.parents[2] / "examples" / "sweeps"):
        if candidate.is_dir():
            return candidate
    return _HERE / "sweeps"


def datasets() -> dict[str, Path]:
    """``{name: path}`` of the bundled CSVs."""
    return {p.stem: p for p in sorted(_HERE.glob("*.csv"))}


def sweeps() -> dict[str, Path]:
    """``{name: path}`` of the shipped sweep specs."""
    return {p.stem: p for p in sorted(sweeps_dir().glob("*.toml"))}


def path(name: str = "gadre_overtraining") -> Path:
    """Path of a bundled CSV, e.g. ``path("gadre_overtraining")``."""
    p = _HERE / f"{name}.csv"
    if not p.exists():
        names = ", ".join(datasets())
        raise FileNotFoundError(f"no example {name!r}; available: {names}")
    return p


def resolve(text: str, kind: str = "data") -> Path:
    """``"example:NAME"`` → the bundled file (``kind``: ``"data"`` or ``"sweep"``); any
    other text is a path, returned as it is."""
    from ..errors import DataError, did_you_mean

    if not str(text).startswith("example:"):
        return Path(text)
    name = str(text)[len("example:"):]
    found = datasets() if kind == "data" else sweeps()
    if name in found:
        return found[name]
    starts = [n for n in found if n.startswith(name)] if name else []
    hint = (f"did you mean {'example:' + starts[0]!r}?" if len(starts) == 1
            else did_you_mean(name, found))
    raise DataError(f"no bundled {'data set' if kind == 'data' else 'sweep spec'} "
                    f"{text!r}" + (f"; {hint}" if hint else "")
                    + f" (available: {', '.join('example:' + n for n in found)}; "
                      f"'lawkit examples' lists them)")


def catalog() -> list[dict]:
    """Every bundled example: name, kind, path, description (and rows, columns of data)."""
    import csv

    out = []
    for name, p in datasets().items():
        with p.open(encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            rows = sum(1 for _ in reader)
        out.append({"name": f"example:{name}", "kind": "data", "path": str(p),
                    "description": DESCRIPTIONS.get(name, ""), "rows": rows, "columns": header})
    for name, p in sweeps().items():
        out.append({"name": f"example:{name}", "kind": "sweep", "path": str(p),
                    "description": DESCRIPTIONS.get(name, "")})
    return out
