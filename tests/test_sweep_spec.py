"""Sweep specs are validated in full before anything trains: every bad key, type and range
gives a SpecError naming the TOML key and its line; nothing hangs or allocates."""

from __future__ import annotations

import time

import pytest

from lawkit.cli import main
from lawkit.harness.spec import SpecError, load_spec, parse_spec

BASE = """name = "t"
[data]
seq = 64
batch = 16
[grid]
models = [{ width = 32, depth = 2 }]
tokens = [100000]
[ptq]
methods = ["rtn", "gptq"]
formats = ["int3"]
"""


def edit(old: str, new: str) -> str:
    assert old in BASE
    return BASE.replace(old, new)


CASES = [  # (id, spec text, the line it must report, a regex for the message)
    ("misspelled model key", edit("width = 32", "widht = 32"), 6,
     r"grid\.models\[0\]\.widht: unknown key; did you mean 'width'\?"),
    ("misspelled data key", edit("batch = 16", "batch = 16\ntrian = 3"), 5,
     r"data\.trian: unknown key"),
    ("misspelled table", edit("[ptq]", "[gird]\nx = 1\n[ptq]"), 8,
     r"gird: unknown key; did you mean 'grid'\?"),
    ("misspelled grid key", edit("tokens = [100000]", "tokens = [100000]\nseed = [0]"), 8,
     r"grid\.seed: unknown key; did you mean 'seeds'\?"),
    ("negative tokens", edit("[100000]", "[-5]"), 7, r"grid\.tokens\[0\]: must be between 1"),
    ("absurd tokens", edit("[100000]", "[100000, 1e30]"), 7,
     r"grid\.tokens\[1\]: must be between 1 and 1e\+10, not 1e\+30"),
    ("fewer tokens than a step", edit("[100000]", "[500]"), 7,
     r"less than one training step \(batch × seq = 1024\)"),
    ("tokens not a number", edit("[100000]", '["many"]'), 7, r"must be an integer"),
    ("depth 0", edit("depth = 2", "depth = 0"), 6, r"grid\.models\[0\]\.depth: must be between 1"),
    ("batch 0", edit("batch = 16", "batch = 0"), 4, r"data\.batch: must be between 1"),
    ("heads 0", edit("depth = 2", "depth = 2, heads = 0"), 6, r"heads: must be between 1"),
    ("width not a multiple of heads", edit("width = 32", "width = 10"), 6,
     r"grid\.models\[0\]: width 10 is not a multiple of heads 4"),
    ("odd head size", edit("width = 32", "width = 12"), 6, r"head size .* = 3 must be even"),
    ("huge width", edit("width = 32", "width = 1000000000"), 6, r"width: must be between 8"),
    ("model too big for memory", edit("width = 32, depth = 2", "width = 8192, depth = 8"), 6,
     r"needs about .* GB to train"),
    ("bool as an integer", edit("depth = 2", "depth = true"), 6, r"must be an integer"),
    ("bad PTQ method", edit('"rtn", "gptq"', '"rtn", "awq"'), 9,
     r"ptq\.methods\[1\]: must be one of 'rtn', 'gptq', not 'awq'"),
    ("bad format", edit('["int3"]', '["int3", "int33"]'), 10, r"ptq\.formats\[1\]: .*2 to 24 bits"),
    ("unknown format", edit('["int3"]', '["fp3"]'), 10, r"ptq\.formats\[0\]: .*unknown format"),
    ("GPTQ with an MX format", edit('["int3"]', '["mxfp4_e2m1"]'), 10,
     r"GPTQ supports .* not 'mxfp4_e2m1'"),
    ("GPTQ with uint", edit('["int3"]', '["uint4"]'), 10, r"GPTQ supports .* not 'uint4'"),
    ("GPTQ without calibration", edit('["int3"]', '["int3"]\ncalibration_batches = -1'), 11,
     r"calibration_batches: must be between 0"),
    ("GPTQ with 0 calibration batches", edit('["int3"]', '["int3"]\ncalibration_batches = 0'),
     11, r"GPTQ needs at least 1 batch"),
    ("bad training format", edit("tokens = [100000]", 'tokens = [100000]\ntrain = ["int4", "q4"]'),
     8, r"grid\.train\[1\]: .*unknown format"),
    ("bad training kind", edit("tokens = [100000]", 'tokens = [100000]\ntrain = [{ wieght = "int4" }]'),
     8, r"grid\.train\[0\]\.wieght: unknown key; did you mean 'weight'\?"),
    ("bad device", edit("batch = 16", 'batch = 16\ndevice = "gpu"'), 5,
     r"data\.device: must be one of 'cpu', 'cuda', 'auto'"),
    ("negative lr", edit("batch = 16", "batch = 16\nlr = -1"), 5, r"data\.lr: must be >"),
    ("no models", edit("models = [{ width = 32, depth = 2 }]", "models = []"), 6,
     r"grid\.models: needs at least 1 entry"),
    ("no grid", BASE.replace("[grid]", "[gird]"), 5, r"gird: unknown key; did you mean 'grid'"),
    ("methods without formats", edit('formats = ["int3"]', "formats = []"), 8,
     r"ptq: give both methods and formats"),
    ("eval set smaller than a window", edit("batch = 16", "batch = 16\neval_tokens = 10"), 5,
     r"data\.eval_tokens: must be at least one window"),
]


@pytest.mark.parametrize("text, line, message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_specs_name_key_and_line(text, line, message):
    t = time.perf_counter()
    with pytest.raises(SpecError) as err:
        parse_spec(text, "t.toml")
    assert time.perf_counter() - t < 5
    lines = str(err.value).splitlines()
    hits = [x for x in lines if __import__("re").search(message, x)]
    assert hits, str(err.value)
    assert hits[0].startswith(f"t.toml:{line}: "), str(err.value)


def test_every_problem_is_reported_at_once():
    text = edit("width = 32", "widht = 32").replace("batch = 16", "batch = 16\ntrian = 1")
    lines = str(pytest.raises(SpecError, parse_spec, text, "t.toml").value).splitlines()
    assert len(lines) == 3  # widht, missing width, trian


def test_arrays_of_tables_are_located():
    text = """[grid]
tokens = [100000]

[[grid.models]]
width = 32
depth = 2

[[grid.models]]
width = 32
detph = 2
"""
    msg = str(pytest.raises(SpecError, parse_spec, text, "t.toml").value)
    assert "t.toml:10: grid.models[1].detph: unknown key; did you mean 'depth'" in msg


def test_good_spec_expands_its_grid():
    spec = parse_spec(edit("tokens = [100000]", 'tokens = [100000, 2e5]\ntrain = ["none", '
                           '{ weight = "e2m1" }, { kv = "int4" }, { activation = "int8" }]\n'
                           "seeds = [0, 1]"))
    assert len(spec.runs) == 2 * 4 * 2 and spec.runs[2]["tokens"] == 100000
    assert spec.runs[2]["train"] == {"weight": "e2m1", "activation": "none", "kv": "none"}
    assert spec.runs[6]["train"] == {"weight": "none", "activation": "int8", "kv": "none"}
    assert spec.device == "cpu" and spec.runs[0]["eval_tokens"] == 131_072


def test_the_cli_refuses_before_training(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(edit('"rtn", "gptq"', '"rtn", "gptqq"'))
    db = tmp_path / "r.db"
    assert main(["sweep", str(path), "--store", str(db)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:9: ptq.methods[1]" in err and "did you mean 'gptq'" in err
    assert not db.exists()  # nothing was created, let alone trained
    path.write_text("name = \n")
    assert main(["sweep", str(path), "--store", str(db)]) == 2
    assert str(path) in capsys.readouterr().err
    with pytest.raises(SpecError, match="not found"):
        load_spec(tmp_path / "missing.toml")
