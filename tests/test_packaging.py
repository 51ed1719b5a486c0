"""The grammar and law library are found from an editable install and from a built wheel."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from conftest import ROOT
from lawkit._resources import resource_dir


def test_resources_found_in_this_install():
    assert (resource_dir("grammar") / "law.lark").is_file()
    assert (resource_dir("laws") / "chinchilla.law").is_file()


def test_grammar_is_conflict_free_in_strict_mode():
    import lark

    text = (resource_dir("grammar") / "law.lark").read_text(encoding="utf-8")
    lark.Lark(text, parser="lalr", strict=True)


@pytest.mark.slow
def test_wheel_ships_grammar_and_laws(tmp_path):
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                          "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    wheel = next(tmp_path.glob("lawkit-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "lawkit/grammar/law.lark" in names
    assert "lawkit/laws/chinchilla.law" in names
    assert "lawkit/examples/sweeps/smoke.toml" in names      # example:smoke outside a checkout
    assert "lawkit/examples/gadre_overtraining.csv" in names
    # installed from the wheel (not the source tree), the package finds them too
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    code = ("import lawkit, lawkit._resources as r; "
            "assert str(r.resource_dir('grammar')).startswith(%r); "
            "print(len(lawkit.load('chinchilla')))" % str(target))
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"PYTHONPATH": str(target), "PATH": ""}, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "1"  # laws/chinchilla.law holds one law
