"""Tabular data → the arrays a fit needs, with errors that name the column and rows.

Accepts a CSV or Parquet path or a pandas DataFrame.  Columns named like the law's inputs
and output are used directly; ``mapping`` renames (law name → column).

A fit reads a small, all-numeric CSV file without pandas (:func:`read_numeric_csv`:
importing pandas costs a new process about 0.3 s, as long as the fit itself); anything
else — text columns, missing values, quoting, large files — goes through
``pandas.read_csv`` as before.
"""

from __future__ import annotations

import csv
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import DataError, did_you_mean

if TYPE_CHECKING:
    import pandas as pd

NUMERIC_CSV_BYTES = 2 << 20  # files up to this size may be read without pandas


class NumericTable:
    """Columns of finite numbers read from a CSV file: ``table[name]`` (int64 where every
    cell is an integer, as pandas infers, else float64), ``columns``, ``index`` (0…n−1)."""

    def __init__(self, columns: dict[str, np.ndarray]):
        self._data = columns
        self.columns = list(columns)
        self.index = np.arange(len(next(iter(columns.values()))))

    def __getitem__(self, name: str) -> np.ndarray:
        return self._data[name]

    def __len__(self) -> int:
        return len(self.index)


def _numeric_column(cells: list[str]) -> np.ndarray | None:
    if all(c.isdigit() or (c[:1] in "+-" and c[1:].isdigit()) for c in cells):
        try:
            return np.array([int(c) for c in cells], dtype=np.int64)
        except (OverflowError, ValueError):  # beyond int64, or past int()'s digit limit
            return None
    try:
        values = np.array([float(c) for c in cells], dtype=np.float64)
    except ValueError:
        return None
    return values if np.isfinite(values).all() else None


def read_numeric_csv(path: Path) -> NumericTable | None:
    """The table of a CSV file whose every cell is a plain finite number (ASCII, no
    quotes, spaces or underscores, a unique name per column, the same number of fields in
    every row, at most :data:`NUMERIC_CSV_BYTES`), parsed as ``pandas.read_csv`` parses it
    (correctly rounded floats); ``None`` for any other file (pandas reads those)."""
    try:
        if path.stat().st_size > NUMERIC_CSV_BYTES:
            return None
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None
    # pandas breaks lines at \r\n, \r and \n only (not at str.splitlines' \x0c, \x85, …),
    # and skips empty lines; a line of spaces it skips or reads: left to it
    lines = [line for line in re.split(r"\r\n|\r|\n", text) if line]
    if len(lines) < 2 or '"' in text or not all(line.isprintable() and line.strip()
                                                for line in lines):
        return None
    cells = "".join(lines[1:])  # the numbers: nothing but ASCII digits, signs, . e E ,
    if not cells.isascii() or any(ch in cells for ch in "_ '"):
        return None
    try:
        header, *body = csv.reader(lines)
    except csv.Error:  # e.g. a field beyond csv's size limit
        return None
    if len(set(header)) != len(header) or not all(header) or any(
            len(r) != len(header) for r in body):
        return None
    columns = {}
    for j, name in enumerate(header):
        values = _numeric_column([r[j] for r in body])
        if values is None:
            return None
        columns[name] = values
    return NumericTable(columns)


def _is_dataframe(data) -> bool:
    pd = sys.modules.get("pandas")  # not imported: nothing can be a DataFrame
    return pd is not None and isinstance(data, pd.DataFrame)


def _data_path(data) -> Path:
    path = Path(data)
    if not path.exists() and str(data).startswith("example:"):
        from ..examples import resolve

        path = resolve(str(data))
    if not path.exists():
        raise DataError(f"data file not found: {path}")
    return path


def fit_table(data):
    """What a fit reads: a small all-numeric CSV file as a :class:`NumericTable`,
    anything else as :func:`read_table` reads it."""
    if not _is_dataframe(data) and not isinstance(data, Mapping):
        path = _data_path(data)
        if path.suffix.lower() not in (".parquet", ".pq"):
            table = read_numeric_csv(path)
            if table is not None:
                return table
    return read_table(data)


@dataclass(frozen=True)
class FitData:
    """Validated float arrays for one fit: ``inputs[name]``, ``y``, ``weights``, ``groups``."""

    inputs: Mapping[str, np.ndarray]
    y: np.ndarray
    weights: np.ndarray
    groups: np.ndarray | None  # integer group index per row, or None
    group_levels: tuple
    frame: pd.DataFrame | NumericTable  # the rows used, in order
    warnings: tuple[str, ...] = ()  # data the fit can use but should not trust silently

    @property
    def n(self) -> int:
        return len(self.y)


def read_table(data) -> pd.DataFrame:
    """A DataFrame from a DataFrame, a CSV path or a Parquet path."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, Mapping):
        return pd.DataFrame(dict(data))
    path = _data_path(data)
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(path)
        return pd.read_csv(path)
    except (ValueError, OSError, ImportError, pd.errors.ParserError) as err:
        raise DataError(f"cannot read {path}: {err}") from None


def _rows(mask: np.ndarray, frame: pd.DataFrame, limit: int = 5) -> str:
    idx = [str(i) for i in frame.index[mask][:limit]]
    more = int(mask.sum()) - len(idx)
    return ", ".join(idx) + (f" and {more} more" if more > 0 else "")


def column(frame: pd.DataFrame, name: str, column_name: str, role: str) -> np.ndarray:
    if column_name not in frame.columns:
        hint = did_you_mean(column_name, [str(c) for c in frame.columns])
        raise DataError(f"data has no column {column_name!r} for {role} {name!r}"
                        + (f"; {hint}" if hint else "")
                        + f" (columns: {', '.join(map(str, frame.columns))}; map one with "
                          f"mapping={{{name!r}: COLUMN}})")
    if isinstance(frame, NumericTable):  # finite numbers by construction
        return frame[column_name].astype(float)
    import pandas as pd

    raw = frame[column_name]
    if pd.api.types.is_bool_dtype(raw.dtype) or (raw.dtype == object and len(raw) and all(
            isinstance(v, (bool, np.bool_)) for v in raw.head(1000))):
        raise DataError(f"column {column_name!r} ({role} {name!r}) holds true/false values, "
                        f"not numbers")
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        kind = "non-numeric, NaN or infinite"
        raise DataError(f"column {column_name!r} ({role} {name!r}) has {kind} values in "
                        f"{int(bad.sum())} row(s): {_rows(bad, frame)}")
    return values


_HUGE, _TINY = 1e100, 1e-100  # magnitudes whose powers leave float64's range


def _domain(law) -> dict[str, str]:
    """Inputs the law needs positive (raised to a non-integer power, or under a log) or
    non-zero (raised to a negative integer power): ``{name: "positive" | "non-zero"}``."""
    import sympy as sp

    need: dict[str, str] = {}
    inputs = set(law.inputs)
    for node in sp.preorder_traversal(law.expr):
        if isinstance(node, sp.Pow):
            base, ex = node.args
        elif isinstance(node, sp.log):
            base, ex = node.args[0], None
        else:
            continue
        names = {str(x) for x in base.free_symbols} & inputs
        if len(names) != 1:
            continue
        (name,) = names
        coeff, rest = base.as_coeff_Mul()
        if str(rest) != name or coeff <= 0:  # only N and c·N (c > 0) are checked
            continue
        if ex is None or ex.is_integer is not True:
            need[name] = "positive"
        elif ex.is_negative and need.get(name) != "positive":
            need[name] = "non-zero"
    return need


def positive_inputs(law) -> frozenset[str]:
    """Inputs that :func:`check_inputs` guarantees > 0 in every row of a fit."""
    return frozenset(n for n, kind in _domain(law).items() if kind == "positive")


def check_inputs(law, inputs: Mapping[str, np.ndarray], frame: pd.DataFrame,
                 mapping: Mapping[str, str], weights: np.ndarray) -> tuple[str, ...]:
    """Errors for inputs outside the law's domain (naming the column and rows) or beyond
    1e±100 (whose powers leave float64's range); warnings for constant columns."""
    warnings = []
    live = weights > 0
    for name, kind in _domain(law).items():
        if name not in inputs:
            continue
        x = inputs[name]
        bad = (x <= 0) if kind == "positive" else (x == 0)
        if bad.any():
            col = mapping.get(name, name)
            what = "zero or negative" if kind == "positive" else "zero"
            why = ("the law raises it to a non-integer power or takes its log"
                   if kind == "positive" else "the law divides by a power of it")
            raise DataError(f"column {col!r} (input {name!r}) is {what} in {int(bad.sum())} "
                            f"row(s) ({_rows(bad, frame)}), but {why}: it must be "
                            f"{kind}")
    for name, x in inputs.items():
        col = mapping.get(name, name)
        xs = x[live]
        if len(xs) > 1 and np.all(xs == xs[0]):
            warnings.append(f"input column {col!r} ({name!r}) is constant ({xs[0]:g} in every "
                            f"row): the law's dependence on {name} cannot be fitted, and "
                            f"parameters acting through it are not identified")
        mag = np.abs(xs[xs != 0])
        if len(mag) and (mag.max() > _HUGE or mag.min() < _TINY):
            far = (mag > _HUGE) | (mag < _TINY)
            raise DataError(f"column {col!r} (input {name!r}) has values as extreme as "
                            f"{(mag.max() if mag.max() > _HUGE else mag.min()):.3g} in "
                            f"{int(far.sum())} row(s): powers of such values over- or "
                            f"underflow float64 and the fit would land in a wrong basin; "
                            f"rescale the column (e.g. to billions) so that |values| lie "
                            f"within 1e-100..1e100")
    return tuple(warnings)


def columns(law, frame: pd.DataFrame, mapping: Mapping[str, str]) -> tuple[dict, np.ndarray]:
    """The validated input arrays the law's expression uses, and the output array."""
    used = {s.name for s in law.expr.free_symbols}
    inputs = {n: column(frame, n, mapping.get(n, n), "input") for n in law.inputs if n in used}
    out = law.output.name
    return inputs, column(frame, out, mapping.get(out, out), "output")


def prepare(law, data, *, mapping: Mapping[str, str] | None = None, space: str = "log",
            weights: str | np.ndarray | None = None, group: str | None = None,
            n_params: int = 0) -> FitData:
    """Validate ``data`` for fitting ``law``; returns :class:`FitData`."""
    frame = fit_table(data)
    mapping = dict(mapping or {})
    unknown = set(mapping) - set(law.inputs) - {law.output.name}
    if unknown:
        raise DataError(f"the mapping names {', '.join(sorted(unknown))}, not inputs or the output of "
                        f"law {law.name!r} (inputs: {', '.join(law.inputs)}; output: {law.output.name})")
    inputs, y = columns(law, frame, mapping)
    if space == "log" and (y <= 0).any():
        bad = y <= 0
        raise DataError(f"output column {mapping.get(law.output.name, law.output.name)!r} has "
                        f"non-positive values in {int(bad.sum())} row(s) ({_rows(bad, frame)}); "
                        f"log-space fitting needs positive values: fit in linear space")
    if weights is None:
        w = np.ones(len(frame))
    elif isinstance(weights, str):
        w = column(frame, "weights", weights, "weights")
    else:
        w = np.asarray(weights, dtype=float)
        if w.shape != (len(frame),):
            raise DataError(f"weights have shape {w.shape}, expected ({len(frame)},)")
    if (w < 0).any() or not np.isfinite(w).all():
        raise DataError("weights must be finite and non-negative")
    groups, levels = None, ()
    if group is not None:
        if group not in frame.columns:
            raise DataError(f"data has no group column {group!r}"
                            + (f"; {h}" if (h := did_you_mean(group, map(str, frame.columns))) else ""))
        import pandas as pd  # its factorize for every table: the same levels (even ±0)

        codes, uniques = pd.factorize(np.asarray(frame[group]) if isinstance(
            frame, NumericTable) else frame[group], sort=True)
        if (codes < 0).any():
            raise DataError(f"group column {group!r} has missing values in rows "
                            f"{_rows(codes < 0, frame)}")
        groups, levels = codes.astype(np.int32), tuple(uniques.tolist())
    n_eff = int((w > 0).sum())
    if n_eff <= n_params:
        raise DataError(f"too few rows: {n_eff} row(s) with positive weight for {n_params} "
                        f"fitted parameter(s); need more rows than parameters")
    notes = check_inputs(law, inputs, frame, mapping, w)
    y_live = y[w > 0]
    if len(y_live) > 1 and np.all(y_live == y_live[0]):
        notes += (f"output column {mapping.get(law.output.name, law.output.name)!r} is "
                  f"constant ({y_live[0]:g} in every row): nothing varies to fit",)
    return FitData(inputs, y, w, groups, levels, frame, warnings=notes)


def predict(result, data) -> np.ndarray:
    """``result.law``'s output on the rows of ``data`` with the fitted values; per-group
    parameters are taken by each row's value of the fit's group column."""
    law, mapping = result.law, dict(result.mapping)
    frame = fit_table(data)
    used = {s.name for s in law.expr.free_symbols}
    inputs = {n: column(frame, n, mapping.get(n, n), "input") for n in law.inputs if n in used}
    params = dict(result.values())
    per_group = result.settings.get("per_group") or []
    if per_group:
        group = result.settings["group"]
        if group not in frame.columns:
            raise DataError(f"data has no group column {group!r}, which the fit's per-group "
                            f"parameters ({', '.join(per_group)}) need")
        index = {level: i for i, level in enumerate(result.group_levels)}
        codes = np.array([index.get(v, -1) for v in frame[group].tolist()])
        if (codes < 0).any():
            raise DataError(f"group column {group!r} has level(s) the fit never saw in rows "
                            f"{_rows(codes < 0, frame)}")
        for name in per_group:
            values = np.array([result.params[f"{name}[{lv}]"] for lv in result.group_levels])
            params[name] = values[codes]
    from ..backends.numpy import evaluate

    env = {**params, **inputs}
    return evaluate(law.expr, {s.name: np.asarray(env[s.name], dtype=float)
                               for s in law.expr.free_symbols})
