"""Hostile law text (issue 15): every case ends fast in a located lawkit error, or a right answer.

Each case names what it attacks; the limits it hits are those of ``lawkit.dsl._limits``.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest

import lawkit
from lawkit.cli import main
from lawkit.dsl import _limits
from lawkit.errors import LawError, LawFileError, LawLimitError

H = "law t:\n    inputs N\n    params a\n"
SECONDS = 3.0  # per case, on a loaded 2-core machine; each takes milliseconds normally

# (id, law text, error class, "LINE:COL", a fragment of the message)
CASES = [
    # ---- huge literals and exact powers (each hung before)
    ("power-of-huge-literal", H + "    L = N^1e1000000000\n", LawLimitError, "4:11",
     "number 1e1000000000 has an exponent beyond ±1000 (limit: MAX_DIGITS = 1000)"),
    ("huge-literal-in-sum", H + "    L = a*N + 1e100000000\n", LawLimitError, "4:15",
     "exponent beyond ±1000"),
    ("power-tower", H + "    L = N^(10^10^10)\n", LawLimitError, "4:12",
     "exact power 10^10000000000 would have about 2e+10 digits (limit: MAX_DIGITS = 1000)"),
    ("huge-exact-power", H + "    L = a*10^100000000\n", LawLimitError, "4:11",
     "exact power 10^100000000 would have"),
    ("huge-integer-literal", H + "    L = a*N + " + "9" * 5000 + "\n", LawLimitError, "4:15",
     "has 5000 digits (limit: MAX_DIGITS = 1000)"),
    ("exact-product-grows", H + "    L = a*N*" + "*".join(["1e300"] * 10) + "\n", LawLimitError,
     "4:31", "exact number with about 1201 digits"),
    ("power-of-expression", H + "    L = (2*N)^1000000000\n", LawLimitError, "4:15",
     "exponent 1000000000 is too large for a power of an expression (limit: MAX_EXPONENT = 1000)"),
    ("power-of-tiny-coefficient", H + "    L = a*(1e-999*N)^1000\n", LawLimitError, "4:12",
     "^1000 would have about 1e+06 digits (limit: MAX_DIGITS = 1000)"),
    ("power-of-root", H + "    L = a*N*sqrt(2)^1000000\n", LawLimitError, "4:21", "MAX_EXPONENT"),
    ("literal-beyond-double", H + "    L = a*N + 1e400\n", LawLimitError, "4:15",
     "number 1e400 ≈ 1.00E+400 is beyond double precision"),
    ("bound-beyond-double", "law t:\n    inputs N\n    params a < 1e400\n    L = a*N\n", LawLimitError,
     "3:16", "number 1e400 is too large for a bound or initial value"),
    ("init-beyond-double", "law t:\n    inputs N\n    params a ~ 1e999\n    L = a*N\n", LawLimitError,
     "3:16", "too large for a bound or initial value"),
    # ---- overflow, infinities, complex numbers: at their own span
    ("exp-exp-exp-const", "law t:\n    inputs N\n    params a\n    consts k = exp(exp(exp(1000)))\n"
     "    L = a*N*k\n", LawLimitError, "4:24", "'exp(1000)' ≈ 1.97E+434 is beyond double precision"),
    ("exp-exp-exp-value", H + "    L = a*N\n    values v: a = exp(exp(exp(1000)))\n", LawLimitError,
     "5:27", "beyond double precision"),
    ("exp-exp-exp-equation", H + "    L = a*N + exp(exp(exp(1000)))\n", LawLimitError, "4:23",
     "beyond double precision"),
    ("divide-by-zero", H + "    L = a*N/0\n", lawkit.LawDefinitionError, "4:13", "division by zero"),
    ("divide-by-zero-expression", H + "    L = a/(N - N)\n", lawkit.LawDefinitionError, "4:12",
     "division by zero"),
    ("log-base-1", H + "    L = a*log(N, 1)\n", lawkit.LawDefinitionError, "4:11",
     "is not a finite real number for any input (it is zoo*log(N))"),
    ("log-of-0", H + "    L = a*log(0*N)\n", lawkit.LawDefinitionError, "4:11", "is not finite"),
    ("zero-to-negative", H + "    L = a*N + 0^(-1)\n", lawkit.LawDefinitionError, "4:15",
     "0 raised to a negative power is infinite"),
    ("const-1/0", "law t:\n    inputs N\n    params a\n    consts k = 1/0\n    L = a*N*k\n",
     lawkit.LawDefinitionError, "4:18", "division by zero"),
    ("value-1/0", H + "    L = a*N\n    values v: a = 1/0\n", lawkit.LawDefinitionError, "5:21",
     "division by zero"),
    ("value-sqrt-minus-1", H + "    L = a*N\n    values v: a = sqrt(-1)\n",
     lawkit.LawDefinitionError, "5:19", "is not a real number (it is 1.0*I)"),
    ("tie-sqrt-minus-1", "law t:\n    inputs N\n    params a, b = sqrt(-1)\n    L = a*N*b\n",
     lawkit.LawDefinitionError, "3:19", "is not a real number"),
    ("cube-root-of-negative", H + "    L = a*N + (-8)^(1/3)\n", lawkit.LawDefinitionError, "4:16",
     "is not a real number"),
    ("root-of-negative-input", H + "    L = a*(-N)^0.5\n", lawkit.LawDefinitionError, "4:12",
     "is not a finite real number for any input (it is I*sqrt(N))"),
    # ---- the same, once terms and constants are substituted (what the fit computes)
    ("divide-by-zero-constant", "law t:\n    inputs N\n    params a\n    consts k = 0\n    L = a*N/k\n",
     lawkit.LawDefinitionError, "5:13", "division by zero"),
    ("divide-by-zero-term", H + "    T = N - N\n    L = a/T\n", lawkit.LawDefinitionError, "5:11",
     "division by zero"),
    ("tie-divides-by-zero-constant", "law t:\n    inputs N\n    params a, b = a/k\n    consts k = 0\n"
     "    L = a*N*b\n", lawkit.LawDefinitionError, "3:21", "division by zero"),
    ("constants-overflow-in-product", "law t:\n    inputs N\n    params a\n    consts k = 1e300\n"
     "    L = a*N*k*k\n", LawLimitError, "5:9", "a coefficient of 'a*N*k*k' ≈ 1.00E+600 is beyond"),
    ("powers-of-powers-of-terms", H + "    T1 = (3*N)^1000\n    T2 = T1^1000\n    L = a*T2^1000\n",
     LawLimitError, "4:11", "is beyond double precision"),
    ("fixed-value-outside-bounds", "law t:\n    inputs N\n    params a, b > 0 = -1\n    L = a*N*b\n",
     lawkit.LawDefinitionError, "3:23", "fixed value -1 of 'b' is outside its bounds (> 0)"),
    ("value-given-twice", H + "    L = a*N\n    values v: a = 1\n    values v: a = 3\n",
     lawkit.LawNameError, "6:15", "'a' is given twice in value set 'v'"),
    # ---- cycles
    ("tied-cycle", "law t:\n    inputs N\n    params a = b, b = a\n    L = a*N\n",
     lawkit.LawDefinitionError, "3:23", "cyclic tie: a → b → a"),
    ("tied-cycle-of-three", "law t:\n    inputs N\n    params a = c, b = a, c = 2*b\n    L = a*N\n",
     lawkit.LawDefinitionError, "3:23", "cyclic tie: a → c → b → a"),
    ("extends-itself", "law t extends t:\n    inputs N\n    L = N\n", lawkit.LawDefinitionError,
     "1:15", "law 't' extends itself"),
    # ---- look-alike names and digits
    ("cyrillic-a", "law t:\n    inputs N\n    params a, а\n    L = a*N + а\n", lawkit.LawNameError,
     "3:15", "'а' looks like 'a' (line 3, column 12) but is a different name; it has CYRILLIC "
     "SMALL LETTER A where the other has LATIN SMALL LETTER A"),
    ("greek-capital-alpha", "law t:\n    inputs N\n    params A, Α\n    L = A*N + Α\n",
     lawkit.LawNameError, "3:15", "looks like 'A'"),
    ("full-width-letter", "law t:\n    inputs N, Ｎ\n    L = N\n", lawkit.LawNameError, "2:15",
     "'Ｎ' looks like 'N'"),
    ("arabic-indic-digits", H + "    L = a*N + ٣\n", lawkit.LawSyntaxError, "4:15",
     "unexpected character '٣'"),
    ("full-width-digits", H + "    L = a*N + １２\n", lawkit.LawSyntaxError, "4:15",
     "unexpected character '１'"),
    ("digit-inside-name", H + "    L = a*N٣\n", lawkit.LawSyntaxError, "4:12",
     "unexpected character '٣'"),
    # ---- characters other tools count as line breaks: Lark does not, nor do we
    ("vertical-tab", H + "    L = a*N\x0b+ 1\n", lawkit.LawSyntaxError, "4:12",
     "unexpected character '\\x0b'"),
    ("next-line-u85", H + "    L = a*N\x85+ 1\n", lawkit.LawSyntaxError, "4:12",
     "unexpected character '\\x85'"),
    ("line-separator-u2028", H + "    L = a*N\u2028+ 1\n", lawkit.LawSyntaxError, "4:12",
     "unexpected character '\\u2028'"),
    ("separator-then-later-error", "law t:\x0c\n    inputs N\x0c\n    # \x0b \x85 \u2028\n    L = N $\n",
     lawkit.LawSyntaxError, "4:11", "unexpected character '$'"),
    # ---- nesting
    ("deep-calls", H + "    L = " + "exp(" * 150 + "N" + ")" * 150 + "\n", LawLimitError, "4:405",
     "expression nested too deeply (limit: MAX_NESTING = 50"),
    ("deep-signs", H + "    L = " + "-" * 3000 + "N\n", LawLimitError, "4:2958", "MAX_NESTING"),
    ("terms-nest-deeply", H + "    T0 = N\n" + "".join(f"    T{i} = exp(T{i - 1}) + 1\n" for i in range(1, 200))
     + "    L = a*T199\n", LawLimitError, "54:11",
     "the equation for 'T50' is too large once its terms are substituted: 101 levels deep "
     "(limit: MAX_DEPTH = 100)"),
    ("terms-double-in-size", H + "    T0 = exp(N)*N\n" + "".join(
        f"    T{i} = T{i - 1}*exp(T{i - 1}) + T{i - 1}\n" for i in range(1, 60)) + "    L = a*T59\n",
     LawLimitError, "12:10", "is too large once its terms are substituted: 3.28e+04 nodes "
     "(limit: MAX_NODES = 20,000)"),
]


def _location(err: LawError) -> str:
    return f"{err.span.line}:{err.span.column}" if err.span else ""


@pytest.mark.parametrize("text, cls, where, fragment", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_hostile_text_is_a_located_error(text, cls, where, fragment):
    start = time.perf_counter()
    with pytest.raises(cls) as info:
        lawkit.parse(text, "h.law")
    assert time.perf_counter() - start < SECONDS
    err = info.value
    assert str(err).startswith(f"h.law:{where}: "), str(err)
    assert fragment in err.message, err.message
    assert _location(err) == where
    lines = text.split("\n")  # the caret line shows the line Lark counted (split at \n only)
    if err.span and "\n    " in str(err) and len(lines[err.span.line - 1]) <= 160:
        assert str(err).split("\n")[1].strip() == lines[err.span.line - 1].strip().replace(
            "\x0b", "\ufffd").replace("\x85", "\ufffd").replace("\u2028", "\ufffd").replace(
            "\x0c", "\ufffd")
    elif err.span and "\n    " in str(err):  # a long line is shown as a window around the spot
        shown, caret = str(err).split("\n")[1:3]
        assert len(shown) < 200 and shown[len(caret) - 1] != " "


# ---- accepted, with the right answer
def test_bom_form_feed_and_crlf_are_accepted():
    law = lawkit.parse("\ufefflaw t:\r\n    inputs N\x0c\r\n    params a\r\n    L = a*N\r\n")["t"]
    assert str(law.expr) == "N*a"


def test_tiny_literals_and_long_chains_are_exact():
    law = lawkit.parse(H + "    L = a*N + 1e-400\n")["t"]
    assert law.expr.as_coeff_Add()[0] == lawkit.law.sp.Rational(1, 10**400)
    n = 2000
    law = lawkit.parse("law t:\n    inputs N\n    params " + ", ".join(f"a{i}" for i in range(n))
                       + "\n    L = " + " + ".join(f"a{i}*N" for i in range(n)) + "\n")["t"]
    assert len(law.expr.args) == n
    law = lawkit.parse(H + "    L = a" + "/N" * 3000 + "\n")["t"]
    assert law.expr == law.symbol("a") / law.symbol("N") ** 3000
    law = lawkit.parse(H + "    L = a*N^2^9 + 2^1000\n")["t"]  # 2^1000 has 302 digits: allowed
    assert law.expr.as_coeff_Add()[0] == 2**1000


def test_empty_file_parses_to_no_laws_and_check_says_so(tmp_path, capsys):
    assert lawkit.parse("") == {} and lawkit.parse("# only a comment\n\n") == {}
    empty = tmp_path / "empty.law"
    empty.write_text("# nothing here\n", encoding="utf-8")
    assert main(["check", str(empty)]) == 2
    err = capsys.readouterr().err
    assert err == f"no laws in {empty} (the file holds only comments and blank lines)\n"


# ---- files: size, encodings
def test_a_50_mb_file_is_refused_before_it_is_read(tmp_path):
    big = tmp_path / "big.law"
    with big.open("wb") as f:
        f.truncate(50_000_000)  # sparse: costs no disk
    start = time.perf_counter()
    with pytest.raises(LawLimitError) as info:
        lawkit.load(big)
    assert time.perf_counter() - start < 1
    assert str(info.value) == (f"{big}: law text is too large: 50,000,000 bytes (limit: "
                               f"MAX_FILE_BYTES = {_limits.MAX_FILE_BYTES:,} bytes)\n"
                               "split it into several files")


def test_text_over_the_size_limit_is_refused():
    with pytest.raises(LawLimitError, match="MAX_FILE_BYTES"):
        lawkit.parse("#" * (_limits.MAX_FILE_BYTES + 1))


@pytest.mark.parametrize("data, message", [
    ("law t:\n    inputs N\n    # café\n    L = N\n".encode("latin-1"),
     "3:10: byte 0xE9 at offset 29 is not UTF-8"),
    ("law t:\n    inputs N\n".encode("utf-16"), ": file is UTF-16 (byte-order mark at offset 0), not UTF-8"),
    ("law t:\n    inputs N\n".encode("utf-16-le"), "1:2: NUL byte at offset 1: not a text file"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "1:1: byte 0x89 at offset 0 is not UTF-8"),
    (b"law t:\n    inputs N\n    L = N\xff\n", "3:10: byte 0xFF at offset 29 is not UTF-8"),
])
def test_non_utf8_files_name_the_file_and_byte(tmp_path, data, message):
    f = tmp_path / "enc.law"
    f.write_bytes(data)
    with pytest.raises(LawFileError) as info:
        lawkit.load(f)
    assert str(info.value).startswith(f"{f}{'' if message.startswith(':') else ':'}{message}")
    assert "UTF-8" in info.value.hint


def test_utf8_bom_file_is_accepted(tmp_path):
    f = tmp_path / "bom.law"
    f.write_bytes(b"\xef\xbb\xbflaw t:\n    inputs N\n    params a\n    L = a*N\n")
    assert str(lawkit.load(f)["t"].expr) == "N*a"


# ---- extends chains
def test_a_3000_law_extends_chain_errors_fast_at_the_limit():
    text = "law c0:\n    inputs N\n    params a\n    L = a*N\n" + "".join(
        f"law c{i} extends c{i - 1}:\n    params a{i}\n" for i in range(1, 3000))
    start = time.perf_counter()
    with pytest.raises(LawLimitError) as info:
        lawkit.parse(text, "chain.law")
    assert time.perf_counter() - start < SECONDS
    d = _limits.MAX_EXTENDS_DEPTH
    assert info.value.message == (f"'extends' chain of law 'c{d}' is longer than {d} laws "
                                  f"(limit: MAX_EXTENDS_DEPTH = {d})")
    assert _location(info.value) == f"{2 * d + 3}:{len(f'law c{d} extends ') + 1}"


def test_a_chain_at_the_limit_builds():
    d = _limits.MAX_EXTENDS_DEPTH
    text = "law c1:\n    inputs N\n    params a\n    L = a*N\n" + "".join(
        f"law c{i} extends c{i - 1}:\n    params a{i}\n" for i in range(2, d + 1))
    laws = lawkit.parse(text)
    assert len(laws) == d and len(laws[f"c{d}"].params) == d


# ---- the class: no foreign exception escapes building, whatever a function does
def test_a_failing_registered_function_is_a_located_error():
    from lawkit.dsl._to_sympy import FUNCTIONS, Function

    FUNCTIONS["_boom"] = Function(lambda x: 1 // (x - x), doc="raises ZeroDivisionError")
    try:
        with pytest.raises(lawkit.LawDefinitionError) as info:
            lawkit.parse(H + "    L = a*_boom(N)\n", "h.law")
        assert str(info.value).startswith("h.law:4:11: cannot build the equation for 'L': ")
    finally:
        del FUNCTIONS["_boom"]


def test_cli_check_of_hostile_files_exits_2_without_traceback(tmp_path):
    cases = {"tower.law": (H + "    L = N^(10^10^10)\n").encode(),
             "latin1.law": "law t:\n    # é\n".encode("latin-1"),
             "vt.law": (H + "    L = a*N\x0b+ 1\n").encode(),
             "empty.law": b""}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
    out = subprocess.run([sys.executable, "-m", "lawkit", "check", *sorted(cases)], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    for name in cases:
        assert re.search(rf"^(no laws in )?{re.escape(name)}[: ]", out.stderr, re.M), (name, out.stderr)
