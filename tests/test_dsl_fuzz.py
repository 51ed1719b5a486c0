"""Property tests: any text gives laws or a lawkit error — never another exception."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lawkit
from conftest import ROOT

DESIGN = ROOT / "examples" / "design.law"
from lawkit.library import library_files

VALID = library_files()["chinchilla"].read_text(encoding="utf-8")
ALPHABET = list("law inputs params output values budget extends consts =+-*/^()[],:<>~#\"\n .0123456789eNDLαβγ_·−∈")


def _parse_or_lawkit_error(text: str) -> None:
    try:
        laws = lawkit.parse(text, "fuzz.law")
    except lawkit.LawkitError as err:
        assert "fuzz.law" in str(err)
        return
    for law in laws.values():  # whatever parses must also serialise
        json.dumps(law.to_dict())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=ALPHABET, max_size=120))
def test_arbitrary_text(text):
    _parse_or_lawkit_error(text)


@st.composite
def mutated(draw):
    text = VALID
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(text) - 1))
        op = draw(st.sampled_from(["delete", "insert", "replace", "duplicate_line"]))
        ch = draw(st.sampled_from(ALPHABET))
        if op == "delete":
            text = text[:i] + text[i + 1:]
        elif op == "insert":
            text = text[:i] + ch + text[i:]
        elif op == "replace":
            text = text[:i] + ch + text[i + 1:]
        else:
            lines = text.splitlines(keepends=True)
            j = i % len(lines)
            text = "".join(lines[:j + 1] + [lines[j]] + lines[j + 1:])
    return text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_law_text(text):
    _parse_or_lawkit_error(text)


@settings(max_examples=50, deadline=None)
@given(st.sampled_from(["__import__('os').system('echo pwned')", "exec('1')", "eval('2')",
                        "N.__class__", "lambda: 0", "open('x')"]))
def test_code_is_never_executed(payload):
    text = f"law t:\n    inputs N\n    L = {payload}\n"
    try:
        lawkit.parse(text)
    except lawkit.LawkitError:
        return
    raise AssertionError("code-like text must be rejected")


def test_expression_round_trip_through_sympy_str():
    """str(expr) of a parsed law is itself valid law text for the same expression."""
    law = lawkit.load(DESIGN)["precision_train"]
    decl = ", ".join(law.inputs)
    params = ", ".join(f"{n} > 0" for n in law.params)
    again = lawkit.parse(f"law r:\n    inputs {decl}\n    params {params}\n    L = {law.expr}\n")["r"]
    assert again.expr == law.expr
