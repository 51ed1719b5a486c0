"""Row filters for validation (``--reference "P_w >= 16"``, ``--where "ptq_method == rtn"``)
and the run store as a data source.

A filter is clauses joined by ``and``: ``COLUMN OP VALUE`` with OP one of
``>= <= == != > <`` and VALUE a number or a word (compared as text).  Nothing is evaluated.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..compare import _OPS  # one table of comparison operators for hold-out rules and filters
from ..errors import DataError, did_you_mean

_CLAUSE = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*(>=|<=|==|!=|>|<)\s*(\S+?)\s*$")


def row_filter(frame: pd.DataFrame, text: str, what: str) -> np.ndarray:
    """Boolean mask of the rows ``text`` selects."""
    mask = np.ones(len(frame), dtype=bool)
    for clause in re.split(r"\s+and\s+", text.strip()):
        m = _CLAUSE.match(clause)
        if not m:
            raise DataError(f"{what}: cannot read {clause!r}; write COLUMN OP VALUE, e.g. "
                            f"'P_w >= 16' (clauses joined by 'and')")
        col, op, raw = m.groups()
        if col not in frame.columns:
            raise DataError(f"{what}: the data has no column {col!r}"
                            + (f"; {h}" if (h := did_you_mean(col, map(str, frame.columns)))
                               else f" (columns: {', '.join(map(str, frame.columns))})"))
        raw = raw.strip("'\"")
        try:
            value = float(raw)
            values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
        except ValueError:
            value, values = raw, frame[col].astype(str).to_numpy()
            if op not in ("==", "!="):
                raise DataError(f"{what}: {op} needs a number, not {raw!r}") from None
        mask &= _OPS[op](values, value)
    return mask


def read_data(data) -> tuple[pd.DataFrame, bool]:
    """(frame, from_store): a DataFrame, a CSV/Parquet path, or a run store (``runs.db``)."""
    from ..fitting.data import read_table

    if isinstance(data, (str, Path)) and Path(data).suffix in (".db", ".sqlite", ".sqlite3"):
        from ..harness.store import RunStore
        from ..harness.sweep import export_rows

        if not Path(data).exists():
            raise DataError(f"run store not found: {data}")
        store = RunStore(data, readonly=True)
        try:
            return pd.DataFrame(export_rows(store)), True
        finally:
            store.close()
    return read_table(data).reset_index(drop=True), False
