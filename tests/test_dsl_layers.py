"""The language does not know the library: no import of ``lawkit.library`` from ``lawkit.dsl``."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

import lawkit
from conftest import ROOT
from lawkit import dsl

DSL = ROOT / "src" / "lawkit" / "dsl"


def _imports(path) -> list[str]:
    """Every module a file imports, written absolutely (``..library`` → ``lawkit.library``)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = "lawkit.dsl" if node.level == 1 else "lawkit" if node.level == 2 else ""
            mod = ".".join(p for p in (base, node.module or "") if p)
            out += [mod, *(f"{mod}.{a.name}" for a in node.names)]
    return out


def test_no_dsl_module_imports_the_library():
    files = sorted(DSL.glob("*.py"))
    assert len(files) >= 8
    for f in files:
        bad = [m for m in _imports(f) if m.startswith("lawkit.library")]
        assert not bad, f"{f.name} imports {bad}"


def test_importing_and_using_the_dsl_leaves_the_library_unloaded():
    # a bare 'lawkit' package object, so lawkit/__init__ (which wires the library) is not run
    code = f"""
import sys, types
pkg = types.ModuleType("lawkit"); pkg.__path__ = [{str(ROOT / "src" / "lawkit")!r}]
sys.modules["lawkit"] = pkg
import lawkit.dsl as dsl
laws = dsl.parse("law a:\\n    inputs N\\n    params k\\n    L = k*N\\nlaw b extends a:\\n    params k = 2\\n")
assert laws["b"].params["k"].fixed == 2
try:
    dsl.parse("law c extends chinchilla:\\n    params E = 1\\n")
except dsl.LawNameError if hasattr(dsl, "LawNameError") else Exception as err:
    assert "unknown law 'chinchilla'" in str(err), err
else:
    raise AssertionError("the bare language must not find library laws")
assert "lawkit.library" not in sys.modules, sorted(m for m in sys.modules if m.startswith("lawkit"))
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_the_parents_are_an_argument():
    base = dsl.parse("law base:\n    inputs N\n    params k > 0\n    L = k*N\n", target="ast")
    index = {law.name.id: law for law in base.laws}
    text = "law child extends base:\n    params k = 3\n"
    assert dsl.parse(text, lookup=index)["child"].params["k"].fixed == 3
    assert dsl.parse(text, lookup=index.get)["child"].parent == "base"
    with pytest.raises(lawkit.LawNameError, match="unknown law 'base'"):
        dsl.parse(text)


def test_lawkit_parse_uses_the_library_by_default():
    law = lawkit.parse("law mine extends chinchilla:\n    params E = 1.5\n")["mine"]
    assert law.parent == "chinchilla" and set(law.inputs) == {"N", "D"}
    with pytest.raises(lawkit.LawNameError, match="unknown law 'chinchilla'"):
        lawkit.parse("law mine extends chinchilla:\n    params E = 1.5\n", lookup={})


def test_a_library_parent_resolves_its_own_parents_in_the_library():
    # a user law named like a library law's parent must not capture that parent
    text = ("law kumar_base:\n    inputs X\n    params q\n    L = q*X\n"
            "law mine extends kumar_train:\n    params E = 1.5\n")
    laws = lawkit.parse(text)
    assert set(laws["mine"].inputs) >= {"N", "D", "P_w"} and "X" not in laws["mine"].inputs


def test_the_grammar_is_strict():
    """No two terminals can match the same text (checked here; skipped at run time)."""
    from lawkit.dsl._grammar import parser
    from lawkit.dsl._to_ast import _POSTLEX

    strict = parser(_POSTLEX, strict=True)
    text = "law t:\n    inputs N\n    params a > 0\n    L = a*N^-0.5\n"
    assert strict.parse(text) == parser(_POSTLEX).parse(text)


def test_the_shipped_parse_table_is_current_and_parses_like_the_grammar():
    """_parse_table.py (loaded in ms instead of a second of LALR analysis) was generated
    from this grammar and gives the same trees and the same syntax errors."""
    import hashlib
    from pathlib import Path

    import lark

    from lawkit.dsl import _grammar
    from lawkit.dsl._to_ast import _POSTLEX, normalize

    from lawkit.dsl import _parse_table

    assert _parse_table.GRAMMAR_SHA256 == hashlib.sha256(
        _grammar.grammar_text().encode()).hexdigest(), "run lawkit.dsl._grammar.write_table()"
    shipped = _grammar._from_table(_POSTLEX)
    assert shipped is not None and _grammar.parser(_POSTLEX) is not None
    built = lark.Lark(_grammar.grammar_text(), **_grammar._options(_POSTLEX, False))
    root = Path(__file__).resolve().parents[1]
    files = sorted(root.glob("laws/*.law")) + sorted(root.glob("examples/**/*.law"))
    assert len(files) >= 5
    for f in files:
        text = normalize(f.read_text(encoding="utf-8"), str(f))
        assert shipped.parse(text) == built.parse(text), f
    for bad in ("law t:\n    inputs N\n    L = a*/N\n", "law t:\n    params a >\n",
                "law :\n", "law t:\n    L = (a\n"):
        errors = []
        for p in (shipped, built):
            try:
                p.parse(normalize(bad, "<t>"))
            except lark.exceptions.UnexpectedInput as err:
                errors.append((type(err), err.line, err.column,
                               sorted(getattr(err, "expected", None) or ())))
        assert len(errors) == 2 and errors[0] == errors[1], bad
