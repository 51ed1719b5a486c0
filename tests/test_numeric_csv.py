"""The pandas-free CSV reader of a fit (issue 17: a cold ``lawkit fit`` does not import
pandas for a small numeric file).  Whatever it accepts, it must read exactly as
``pandas.read_csv`` does — names, integer/float kinds, every bit — and anything it is not
sure of it must leave to pandas (``None``)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lawkit
from lawkit.fitting.data import NumericTable, fit_table, prepare, read_numeric_csv

from helpers import CHIN_LAW

CHIN = lawkit.parse(CHIN_LAW)["chin"]


def _same_as_pandas(path) -> bool:
    """Asserts the reader agrees with pandas where it answers; returns whether it did."""
    table = read_numeric_csv(path)
    if table is None:
        return False
    frame = pd.read_csv(path)
    assert table.columns == list(frame.columns)
    assert len(table) == len(frame)
    for name in table.columns:
        ours, theirs = table[name], frame[name].to_numpy()
        assert ours.dtype.kind == theirs.dtype.kind, (name, ours.dtype, theirs.dtype)
        np.testing.assert_array_equal(ours, theirs)
        assert ours.tobytes() == theirs.astype(ours.dtype).tobytes()
    return True


def _write(tmp_path, text: str, name: str = "t.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


@pytest.mark.parametrize("text", [
    "N,D,loss\n1e9,2e10,2.5\n3.5e9,7e10,2.25\n",
    "a,b\n1,2\n3,4\n",                       # integers: int64, as pandas infers
    "a,b\n1,2.0\n-3,+4\n",                   # signs; one float makes the column float
    "a,b\r\n1,2\r\n3,4\r\n",                 # Windows line ends
    "\ufeffa,b\n1,2\n3,4\n",                 # a byte-order mark
    "model size,tokens\n1,2\n\n3,4\n\n",     # a space in a name; blank lines skipped
    "a\n.5\n5.\n-.25e-3\n1E+300\n",
    "a,b\n007,0.1\n-0,0.30000000000000004\n",
])
def test_accepted_files_read_as_pandas_reads_them(tmp_path, text):
    assert _same_as_pandas(_write(tmp_path, text))


@pytest.mark.parametrize("text", [
    "a,b\n1,x\n",            # text
    "a,b\n1,\n",             # a missing value
    "a,b\n1,NA\n",
    "a,b\n1,nan\n",          # NaN / infinity: pandas' own handling and errors
    "a,b\n1,inf\n",
    "a,b\n1,1e999\n",
    "a,b\n1,True\n",         # booleans (pandas infers bool)
    'a,b\n1,"2"\n',          # quoting
    "a,b\n1, 2\n",           # spaces around a number
    "a,b\n1_000,2\n",        # Python's float() reads underscores, pandas does not
    "a,b\n١,2\n",            # non-ASCII digits (float() reads them)
    "a,b\n1,2,3\n",          # ragged rows (pandas would make an index column)
    "a,a\n1,2\n",            # duplicate names (pandas renames)
    "a,\n1,2\n",             # an empty name
    "a,b\n",                 # no rows
    "a,b\n99999999999999999999,1\n",  # beyond int64
    "a,b\n1,2\x0c3\n",      # a control character
    # found in review: str.splitlines breaks lines where pandas does not
    "a,b\n1,2\x0c3,4\n", "a\n1\x852\n", "x\x851\n2\n", "a\n1\n\x0b\n2\n", "a,b\x1e1,2\n",
    "a\n1\n2\x1d\n", "a\n1\u20292\n",
    " \n1\n2\n", "\t\n1\n2\n",                       # a line of blanks (pandas skips it)
    "a\n" + "0" * 4400 + "1\n", "a\n" + "1" * 5000 + "\n",   # past int()'s digit limit
    "a\n0." + "0" * 140000 + "1\n",               # past csv's field size limit
])
def test_anything_else_is_left_to_pandas(tmp_path, text):
    assert read_numeric_csv(_write(tmp_path, text)) is None


def test_signed_zero_group_levels_as_pandas_gives_them(tmp_path):
    """Found in review: np.unique and pandas' factorize keep different zeros of ±0."""
    path = _write(tmp_path, "N,D,L,g\n1,2,2,1\n2,3,3,1\n3,4,4,-0.0\n4,5,5,0.0\n")
    fast = prepare(CHIN, path, group="g")
    slow = prepare(CHIN, pd.read_csv(path), group="g")
    assert isinstance(fast.frame, NumericTable)
    assert [str(v) for v in fast.group_levels] == [str(v) for v in slow.group_levels]
    np.testing.assert_array_equal(fast.groups, slow.groups)


def test_large_files_are_left_to_pandas(tmp_path, monkeypatch):
    path = _write(tmp_path, "a,b\n" + "1.5,2\n" * 1000)
    assert read_numeric_csv(path) is not None
    monkeypatch.setattr("lawkit.fitting.data.NUMERIC_CSV_BYTES", 100)
    assert read_numeric_csv(path) is None
    assert isinstance(fit_table(path), pd.DataFrame)


_cell = st.one_of(
    st.integers(-10**12, 10**12).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(lambda x: f"{x:.6g}"),
    st.sampled_from(["0", "-0", "+1", "1e5", "1E-5", ".5", "5.", "-0.0", "007"]),
    st.sampled_from(["", "x", "nan", "inf", "NA", " 1", "1_0", "True", '"1"']),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(_cell, min_size=3, max_size=3), min_size=1, max_size=12))
def test_property_agrees_with_pandas_or_declines(tmp_path, rows):
    text = "x,y,z\n" + "".join(",".join(r) + "\n" for r in rows)
    path = _write(tmp_path, text, "prop.csv")
    _same_as_pandas(path)



def test_fit_reads_the_same_data_either_way(tmp_path):
    rng = np.random.default_rng(1)
    N, D = 10 ** rng.uniform(7, 10, 60), 10 ** rng.uniform(9, 12, 60)
    frame = pd.DataFrame({"N": N, "D": D, "L": 1.7 + 400 / N**0.34 + 410 / D**0.28,
                          "seed": rng.integers(0, 3, 60)})
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    fast = prepare(CHIN, path, group="seed")
    slow = prepare(CHIN, pd.read_csv(path), group="seed")
    assert isinstance(fast.frame, NumericTable) and isinstance(slow.frame, pd.DataFrame)
    for name in ("N", "D"):
        assert fast.inputs[name].tobytes() == slow.inputs[name].tobytes()
    assert fast.y.tobytes() == slow.y.tobytes()
    np.testing.assert_array_equal(fast.groups, slow.groups)
    assert fast.group_levels == slow.group_levels == (0, 1, 2)
    assert all(type(v) is int for v in fast.group_levels)  # labels E[0], not E[0.0]


def test_cli_fit_of_a_numeric_csv_does_not_import_pandas(tmp_path):
    rng = np.random.default_rng(2)
    N, D = 10 ** rng.uniform(7, 10, 40), 10 ** rng.uniform(9, 12, 40)
    pd.DataFrame({"N": N, "D": D, "L": 1.7 + 400 / N**0.34 + 410 / D**0.28}).to_csv(
        tmp_path / "d.csv", index=False)
    code = ("import sys; from lawkit.cli import main; rc = main(['fit', 'chinchilla', "
            f"{str(tmp_path / 'd.csv')!r}, '--json']); "
            "print('PANDAS' if 'pandas' in sys.modules else 'NO-PANDAS'); sys.exit(rc)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False,
                         timeout=300, env={**os.environ, "LAWKIT_CACHE_DIR": "off"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("NO-PANDAS")
