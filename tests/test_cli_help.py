"""The CLI helps: did-you-mean for subcommands and flags, a subcommand's own usage on a bad
flag, --version, bundled examples by name, law files in `lawkit laws`, per-law --map, and
plain (not rich) output when piped."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

import lawkit
from lawkit.cli import main
from lawkit.errors import LawkitError
from lawkit.examples import catalog, resolve
from lawkit.mapping import parse_map_options, rule_in_data_names


def run_cli(*argv, timeout=120):
    return subprocess.run([sys.executable, "-m", "lawkit", *argv], capture_output=True,
                          text=True, timeout=timeout)


def test_did_you_mean_subcommand_and_flag(capsys):
    with pytest.raises(SystemExit) as e:
        main(["fitt"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "did you mean 'fit'?" in err and "Traceback" not in err
    with pytest.raises(SystemExit) as e:
        main(["fit", "chinchilla", "x.csv", "--bootstrapp", "3"])
    err = capsys.readouterr().err
    assert e.value.code == 2
    assert err.startswith("usage: lawkit fit ")                # the subcommand's own usage
    assert "--bootstrapp: did you mean '--bootstrap'?" in err


def test_version_and_no_traceback_on_bad_input():
    out = run_cli("--version")
    assert out.returncode == 0 and out.stdout.strip() == lawkit.__version__
    out = run_cli("fit", "chinchilla", "example:gadre")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "did you mean 'example:gadre_overtraining'?" in out.stderr


def test_examples_listed_and_resolved(capsys):
    names = {e["name"] for e in catalog()}
    assert {"example:gadre_overtraining", "example:isoflop_synthetic", "example:smoke"} <= names
    assert resolve("example:smoke", "sweep").name == "smoke.toml"
    assert main(["examples"]) == 0
    out = capsys.readouterr().out
    assert "example:gadre_overtraining" in out and "104 rows" in out
    assert main(["examples", "--path", "gadre_overtraining"]) == 0
    assert capsys.readouterr().out.strip().endswith("gadre_overtraining.csv")
    from lawkit.fitting.data import read_table

    assert len(read_table("example:gadre_overtraining")) == 104


def test_laws_show_file_and_loading(capsys):
    assert main(["laws", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    chin = next(r for r in rows if r["name"] == "chinchilla")
    assert chin["path"].endswith("chinchilla.law")
    assert main(["laws"]) == 0
    out = capsys.readouterr().out
    assert "lawkit.load('chinchilla')['chinchilla']" in out and "chinchilla.law" in out


def test_piped_output_is_plain_text():
    out = run_cli("laws")
    assert out.returncode == 0 and "\x1b[" not in out.stdout and "┏" not in out.stdout


def test_map_options_per_law():
    common, per = parse_map_options(["L=loss", "mine:N=params,D=tokens", "other:N=n"])
    assert common == {"L": "loss"}
    assert per == {"mine": {"N": "params", "D": "tokens"}, "other": {"N": "n"}}
    with pytest.raises(LawkitError):
        parse_map_options([":N=params"])
    frame = pd.DataFrame({"params": [1.0], "D": [2.0]})
    maps = {"a": {"M": "params"}, "b": {"N": "params"}}
    assert rule_in_data_names("M >= 1e9", frame, maps) == "params >= 1e9"
    assert rule_in_data_names("params >= 1e9", frame, maps) == "params >= 1e9"
    assert rule_in_data_names("largest", frame, maps) == "largest"
    with pytest.raises(LawkitError, match="different columns"):
        rule_in_data_names("N > 1", frame, {"a": {"N": "x"}, "b": {"N": "y"}})


def test_compare_laws_with_different_names(tmp_path, capsys):
    """Two laws naming the parameter count differently, on data that calls it 'params'; the
    hold-out rule in the law's name and in the data's name select the same rows."""
    data = pd.read_csv(resolve("example:gadre_overtraining")).rename(columns={"N": "params"})
    data = data[data.dataset == "rpj"]
    path = tmp_path / "runs.csv"
    data.to_csv(path, index=False)
    law = tmp_path / "mine.law"
    law.write_text("law mine:\n    inputs M, D\n    output L\n"
                   "    params E > 0, A > 0, B > 0, a ∈ (0, 2), b ∈ (0, 2)\n"
                   "    L = E + A/M^a + B/D^b\n", encoding="utf-8")
    results = []
    for rule in ("N >= 1e9", "params >= 1e9"):
        assert main(["compare", "chinchilla", str(law), str(path), "--holdout", rule,
                     "--map", "mine:M=params", "--map", "chinchilla:N=params", "--json"]) == 0
        results.append(json.loads(capsys.readouterr().out))
    assert results[0]["n_holdout"] == results[1]["n_holdout"] == int((data.params >= 1e9).sum())
    assert {r["name"] for r in results[0]["laws"]} == {"chinchilla", "mine"}
    a, b = ({r["name"]: r["holdout_are"] for r in res["laws"]} for res in results)
    assert a == pytest.approx(b)
    assert main(["compare", "chinchilla", str(path), "--map", "chinchila:N=params"]) == 2
    assert "did you mean 'chinchilla'?" in capsys.readouterr().err
