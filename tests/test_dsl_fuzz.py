"""Property tests: any text gives laws or a located law error — never another exception, never slow.

Inputs: arbitrary Unicode, the language's own alphabet, numbers of any magnitude (1e-400 …
1e400, thousand-digit integers, huge exponents) in every place a number can go, and random
character and token mutations of every library file.  Each example must finish within the
hypothesis deadline.  The default run has a fixed budget (a few seconds per test); the
``slow`` tests run the same properties ten times longer.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lawkit
from conftest import ROOT
from lawkit.errors import LawError
from lawkit.library import library_files

DESIGN = ROOT / "examples" / "design.law"
LIBRARY = [p.read_text(encoding="utf-8") for p in library_files().values()]
ALPHABET = list("law inputs params output values budget extends consts =+-*/^()[],:<>~#\"\n .0123456789"
                "eNDLαβγ_·−∈≥≤∞") + ["\t", "\r", "\x0b", "\x0c", "\x85", "\u2028", "\ufeff", "а", "٣", "１"]
TOKENS = ["law", "extends", "inputs", "output", "params", "consts", "values", "budget", ":", ",",
          "=", "(", ")", "[", "]", "^", "*", "/", "+", "-", "−", "<", ">", "~", "∈", "inf", "∞",
          "\n", "    ", "#", '"', "exp(", "log(", "sqrt(", "min(", "N", "a", "α", "e", "pi",
          "0", "1", "1e308", "1e-400", "9" * 400, "10^10^10", "1e999999", "chinchilla"]
FAST = settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=5000, deadline=2000, suppress_health_check=[HealthCheck.too_slow])


def _parse_or_law_error(text: str) -> None:
    """The property: laws that serialise, or a LawError whose rendering names the spot."""
    try:
        laws = lawkit.parse(text, "fuzz.law")
    except LawError as err:
        rendered = str(err)
        assert rendered.startswith("fuzz.law"), rendered
        if err.span is not None:  # a line the grammar counted: \r\n, \r and \n end lines
            lines = text.replace("\r\n", "\n").replace("\r", "\n").count("\n") + 1
            assert 1 <= err.span.line <= lines + 1, (err.span, rendered)
            assert rendered.startswith(f"fuzz.law:{err.span.line}:{err.span.column}: ")
        return
    for law in laws.values():  # whatever parses must also serialise, in its own symbols
        json.dumps(law.to_dict())
        allowed = {law.symbol(n) for n in (*law.inputs, *law.params)}
        assert law.expr.free_symbols <= allowed, law


# ---- numbers of any magnitude, wherever a number can go
def _literal(mantissa: str, exponent: int | None) -> str:
    return mantissa if exponent is None else f"{mantissa}e{exponent}"


numbers = st.one_of(
    st.builds(_literal, st.sampled_from(["1", "9.99", "0.5", "123456789", ".1", "7."]),
              st.one_of(st.none(), st.integers(-400, 400), st.integers(-10**12, 10**12))),
    st.integers(0, 10**1200).map(str),
    st.floats(allow_nan=False, allow_infinity=False, min_value=0).map(repr),
    st.sampled_from(["10^10^10", "2^1000", "2^1001", "10^308", "10^309", "(1e-300)^2",
                     "exp(709)", "exp(710)", "exp(exp(exp(1000)))", "1/0", "0^-1", "sqrt(-1)",
                     "log(0)", "log(2, 1)", "(-8)^(1/3)", "1e-400^(1/3)", "3^(10^5/7)"]),
)

PLACES = [
    "law t:\n    inputs N\n    params a\n    L = a*N + {x}\n",
    "law t:\n    inputs N\n    params a\n    L = a*N^{x}\n",
    "law t:\n    inputs N\n    params a\n    L = a*({x})^N\n",
    "law t:\n    inputs N\n    params a\n    L = a*exp({x})*N\n",
    "law t:\n    inputs N\n    params a\n    consts k = {x}\n    L = a*N*k\n",
    "law t:\n    inputs N\n    params a\n    L = a*N\n    values v: a = {x}\n",
    "law t:\n    inputs N\n    params a ∈ (0, {x})\n    L = a*N\n",
    "law t:\n    inputs N\n    params a > -{x} ~ {x}\n    L = a*N\n",
    "law t:\n    inputs N\n    params a, b = a*{x}\n    L = a*N + b\n",
    "law t:\n    inputs N, D\n    params a\n    L = a*N\n    budget C = {x}*N*D\n",
]


@FAST
@given(st.sampled_from(PLACES), numbers)
def test_numbers_of_any_magnitude(place, x):
    _parse_or_law_error(place.format(x=x))


@pytest.mark.slow
@SLOW
@given(st.sampled_from(PLACES), numbers)
def test_numbers_of_any_magnitude_long(place, x):
    _parse_or_law_error(place.format(x=x))


# ---- arbitrary text
@FAST
@given(st.text(alphabet=ALPHABET, max_size=160))
def test_language_alphabet_text(text):
    _parse_or_law_error(text)


@FAST
@given(st.text(max_size=200))
def test_arbitrary_unicode_text(text):
    _parse_or_law_error(text)


@FAST
@given(st.text(max_size=80))
def test_arbitrary_unicode_inside_a_law(junk):
    _parse_or_law_error(f"law t:\n    inputs N\n    params a\n    L = a*N {junk}\n")


@pytest.mark.slow
@SLOW
@given(st.one_of(st.text(alphabet=ALPHABET, max_size=400), st.text(max_size=400)))
def test_arbitrary_text_long(text):
    _parse_or_law_error(text)


# ---- mutations of the library's own files
@st.composite
def mutated(draw, steps: int = 4):
    text = draw(st.sampled_from(LIBRARY))
    for _ in range(draw(st.integers(1, steps))):
        i = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["delete", "insert", "replace", "token", "cut", "duplicate_line",
                                   "swap_lines"]))
        if op == "delete":
            text = text[:i] + text[i + 1:]
        elif op == "insert":
            text = text[:i] + draw(st.sampled_from(ALPHABET)) + text[i:]
        elif op == "replace":
            text = text[:i] + draw(st.characters()) + text[i + 1:]
        elif op == "token":
            text = text[:i] + draw(st.sampled_from(TOKENS)) + text[i:]
        elif op == "cut":
            text = text[:i] + text[i + draw(st.integers(1, 40)):]
        else:
            lines = text.split("\n")
            j, k = i % len(lines), draw(st.integers(0, len(lines) - 1))
            if op == "duplicate_line":
                lines.insert(j, lines[j])
            else:
                lines[j], lines[k] = lines[k], lines[j]
            text = "\n".join(lines)
    return text


@FAST
@given(mutated())
def test_mutated_library_files(text):
    _parse_or_law_error(text)


@pytest.mark.slow
@SLOW
@given(mutated(steps=12))
def test_mutated_library_files_long(text):
    _parse_or_law_error(text)


@FAST
@given(st.binary(max_size=300))
def test_arbitrary_bytes_as_a_file(tmp_path_factory, data):
    f = tmp_path_factory.mktemp("fuzz") / "fuzz.law"
    f.write_bytes(data)
    try:
        lawkit.load(f)
    except LawError as err:
        assert str(err).startswith(str(f)), str(err)


# ---- safety and round trips
@settings(max_examples=50, deadline=None)
@given(st.sampled_from(["__import__('os').system('echo pwned')", "exec('1')", "eval('2')",
                        "N.__class__", "lambda: 0", "open('x')"]))
def test_code_is_never_executed(payload):
    text = f"law t:\n    inputs N\n    L = {payload}\n"
    with pytest.raises(LawError):
        lawkit.parse(text)


def test_expression_round_trip_through_sympy_str():
    """str(expr) of a parsed law is itself valid law text for the same expression."""
    law = lawkit.load(DESIGN)["precision_train"]
    decl = ", ".join(law.inputs)
    params = ", ".join(f"{n} > 0" for n in law.params)
    again = lawkit.parse(f"law r:\n    inputs {decl}\n    params {params}\n    L = {law.expr}\n")["r"]
    assert again.expr == law.expr
