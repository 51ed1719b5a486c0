"""Every code example in docs/ runs: python blocks execute, law blocks parse,
console blocks' lawkit commands exit 0."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest

import lawkit
from conftest import ROOT
from lawkit.cli import main

FENCE = re.compile(r"^```(\w+)[^\n]*\n(.*?)^```", re.S | re.M)
PAGES = sorted((ROOT / "docs").glob("*.md"))


def blocks(page: Path, kind: str) -> list[str]:
    return [body for k, body in FENCE.findall(page.read_text(encoding="utf-8")) if k == kind]


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_docs_examples(page, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    for text in blocks(page, "law"):
        lawkit.parse(text, str(page))
    namespace: dict = {}
    for code in blocks(page, "python"):
        exec(compile(code, str(page), "exec"), namespace)  # our own docs, not user input
    for block in blocks(page, "console"):
        for line in block.splitlines():
            if line.startswith("$ lawkit "):
                argv = shlex.split(line[len("$ lawkit "):])
                assert main(argv) == 0, f"{page.name}: {line}\n{capsys.readouterr().err}"


def test_readme_commands_are_the_ci_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = re.findall(r"^\s*(python -m pytest[^\n]*|pip install[^\n]*)", readme, re.M)
    assert commands, "README names its install and test commands"
    for cmd in commands:
        assert cmd.split(" && ")[0].replace("pip install", "python -m pip install") in ci \
            or cmd.split(" && ")[0] in ci, cmd
    assert os.access(ROOT / ".ci" / "run", os.X_OK)
