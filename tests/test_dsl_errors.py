"""Golden error messages: PATH:LINE:COL, the source line, a caret, and what to do."""

from __future__ import annotations

import pytest

import lawkit
from lawkit.cli import main
from lawkit.errors import LawLimitError

HEAD = "law t:\n    inputs N, D\n    params A > 0, alpha in (0, 2)\n"

# (law text, exception class, the whole rendering: location, source line, caret, hint)
GOLDEN = [
    (HEAD + '    L = A/N^alph\n', lawkit.LawNameError,
     "t.law:4:13: unknown name 'alph' in the equation for 'L'\n"
     '        L = A/N^alph\n'
     '                ^^^^\n'
     "did you mean 'alpha'?"),
    (HEAD + '    L = A/N^alpha +\n', lawkit.LawSyntaxError,
     't.law:4:20: unexpected end of file\n'
     '        L = A/N^alpha +\n'
     '                       ^\n'
     "expected '(', '+' or '-', a name, a number"),
    (HEAD + '    L = A N\n', lawkit.LawSyntaxError,
     "t.law:4:11: unexpected 'N'\n"
     '        L = A N\n'
     '              ^\n'
     "expected '(', '*' or '/', '+' or '-', '^', end of line"),
    (HEAD + '    L = A/N^alpha $ 2\n', lawkit.LawSyntaxError,
     "t.law:4:19: unexpected character '$'\n"
     '        L = A/N^alpha $ 2\n'
     '                      ^\n'
     "expected '(', ')', '*' or '/', '+' or '-', ',', '<', '=', '>' or '<=', '^', 'in', '~', end of line"),
    (HEAD + '    L = A*epx(N)\n', lawkit.LawNameError,
     "t.law:4:11: unknown function 'epx'\n"
     '        L = A*epx(N)\n'
     '              ^^^\n'
     "did you mean 'exp'?"),
    (HEAD + '    L = A*exp(N, D)\n', lawkit.LawDefinitionError,
     't.law:4:11: exp() takes 1 argument, got 2\n'
     '        L = A*exp(N, D)\n'
     '              ^^^^^^^^^'),
    ('law t:\n    inputs N\n    params A > 0, b in (2, 1)\n    L = A*N^b\n', lawkit.LawDefinitionError,
     "t.law:3:19: parameter 'b' has empty bounds (2 > 1)\n"
     '        params A > 0, b in (2, 1)\n'
     '                      ^^^^^^^^^^\n'
     "write bounds as lower < upper, e.g. 'α ∈ (0, 2)'"),
    ('law t:\n    inputs N\n    params b in [1, 1)\n    L = N^b\n', lawkit.LawDefinitionError,
     "t.law:3:12: parameter 'b' has empty bounds (1 = 1)\n"
     '        params b in [1, 1)\n'
     '               ^^^^^^^^^^\n'
     "write bounds as lower < upper, e.g. 'α ∈ (0, 2)'"),
    ('law t:\n    inputs N, N\n    L = N\n', lawkit.LawNameError,
     "t.law:2:15: 'N' is defined twice in law 't'\n"
     '        inputs N, N\n'
     '                  ^\n'
     'first defined at line 2, column 12'),
    ('law t:\n    inputs N\n    params a\n    T = a*U\n    U = T + N\n    L = U\n', lawkit.LawDefinitionError,
     't.law:5:9: cyclic definition: T → U → T\n'
     '        U = T + N\n'
     '            ^\n'
     'a term cannot depend on itself'),
    ('law t:\n    inputs N\n    params a\n    L = a*N\n    values v: a = 1, b = 2\n', lawkit.LawNameError,
     "t.law:5:22: value set 'v' names 'b', which is not a parameter of law 't'\n"
     '        values v: a = 1, b = 2\n'
     '                         ^\n'
     'parameters: a'),
    ('law t extends chinchila:\n    inputs P\n', lawkit.LawNameError,
     "t.law:1:15: unknown law 'chinchila' in 'extends'\n"
     '    law t extends chinchila:\n'
     '                  ^^^^^^^^^\n'
     "did you mean 'chinchilla'?"),
    ('law t:\n    inputs N\n    params a > 0\n    L = a*N\n    values v: a = -1\n', lawkit.LawDefinitionError,
     "t.law:5:19: value -1 of 'a' is outside its bounds (> 0)\n"
     '        values v: a = -1\n'
     '                      ^^'),
    ('law t:\n    inputs N\n    params a\n    X = a\n    Y = N\n', lawkit.LawDefinitionError,
     "t.law:1:5: law 't' has several equations (X, Y) that could be its output\n"
     '    law t:\n'
     '        ^\n'
     "declare it with 'output NAME'"),
    ('law t:\n    inputs N\n    output L\n    params a\n    Y = a*N\n', lawkit.LawDefinitionError,
     "t.law:3:12: output 'L' has no equation\n"
     '        output L\n'
     '               ^\n'
     "add a line such as 'L = …'"),
    ('    inputs N\n', lawkit.LawSyntaxError,
     't.law:1:5: declaration outside a law\n'
     '        inputs N\n'
     '        ^\n'
     "start the file with a header such as 'law my_law:'"),
    ('law t:\n    inputs N\n    params a\n    L = a*N\nlaw t:\n    inputs N\n    L = N\n', lawkit.LawNameError,
     "t.law:5:5: law 't' is defined twice in this file\n"
     '    law t:\n'
     '        ^'),
    ('law t:\n    inputs N\n    params a > 0 > 1\n    L = a*N\n', lawkit.LawSyntaxError,
     "t.law:3:20: parameter 'a' has two lower bounds\n"
     '        params a > 0 > 1\n'
     '                       ^'),
    ('law t:\n    inputs N\n    params a in (0, x)\n    L = a*N\n', lawkit.LawSyntaxError,
     "t.law:3:21: expected a number or 'inf' as a bound, got 'x'\n"
     '        params a in (0, x)\n'
     '                        ^'),
    ('law t:\n    inputs N\n    params a\n    N = a\n    L = N\n', lawkit.LawNameError,
     "t.law:4:5: 'N' is an input; it cannot also be defined by an equation\n"
     '        N = a\n'
     '        ^'),
    ('law t:\n    inputs N\n    params a = b, b = a\n    L = a*N\n', lawkit.LawDefinitionError,
     't.law:3:23: cyclic tie: a → b → a\n'
     '        params a = b, b = a\n'
     '                          ^\n'
     'a tied parameter cannot depend on itself; fix or free one of them'),
    ('law t:\n    inputs N\n    params a, а\n    L = a*N + а\n', lawkit.LawNameError,
     "t.law:3:15: 'а' looks like 'a' (line 3, column 12) but is a different name; it has CYRILLIC SMALL LETTER A where the other has LATIN SMALL LETTER A\n"
     '        params a, а\n'
     '                  ^\n'
     'write both with the same letters'),
    (HEAD + '    L = A*N + ٣\n', lawkit.LawSyntaxError,
     "t.law:4:15: unexpected character '٣'\n"
     '        L = A*N + ٣\n'
     '                  ^\n'
     'numbers are written with ASCII digits 0-9; this is ARABIC-INDIC DIGIT THREE (U+0663)'),
    (HEAD + '    L = A*N\x0b+ 1\n', lawkit.LawSyntaxError,
     "t.law:4:12: unexpected character '\\x0b'\n"
     '        L = A*N�+ 1\n'
     '               ^\n'
     'separate with spaces, tabs or newlines; this is VERTICAL TAB (U+000B)'),
    (HEAD + '    L = A*N/0\n', lawkit.LawDefinitionError,
     't.law:4:13: division by zero\n'
     '        L = A*N/0\n'
     '                ^\n'
     'the divisor is 0'),
    (HEAD + '    L = A*log(N, 1)\n', lawkit.LawDefinitionError,
     "t.law:4:11: 'log(N, 1)' is not a finite real number for any input (it is zoo*log(N))\n"
     '        L = A*log(N, 1)\n'
     '              ^^^^^^^^^\n'
     'a division by zero, or the log of 0, makes it infinite'),
    (HEAD + '    L = A*N^(10^10^10)\n', LawLimitError,
     't.law:4:14: exact power 10^10000000000 would have about 2e+10 digits (limit: MAX_DIGITS = 1000)\n'
     '        L = A*N^(10^10^10)\n'
     '                 ^^^^^^^^'),
    (HEAD + '    L = A*N + exp(exp(exp(1000)))\n', LawLimitError,
     "t.law:4:23: 'exp(1000)' ≈ 1.97E+434 is beyond double precision (largest: 1.798e+308)\n"
     '        L = A*N + exp(exp(exp(1000)))\n'
     '                          ^^^^^^^^^\n'
     'the fit and the analysis compute in double precision'),
    (HEAD + '    L = A*N\n    values v: A = sqrt(-1)\n', lawkit.LawDefinitionError,
     "t.law:5:19: 'sqrt(-1)' is not a real number (it is 1.0*I)\n"
     '        values v: A = sqrt(-1)\n'
     '                      ^^^^^^^^\n'
     'square roots and logarithms need non-negative arguments'),
    ('law t:\n    inputs N\n    params a ~ 1e999\n    L = a*N\n', LawLimitError,
     't.law:3:16: number 1e999 is too large for a bound or initial value (largest: 1.798e+308)\n'
     '        params a ~ 1e999\n'
     '                   ^^^^^\n'
     "write 'inf' for no bound"),
]


@pytest.mark.parametrize("text, cls, golden", GOLDEN, ids=range(len(GOLDEN)))
def test_golden_error(text, cls, golden):
    with pytest.raises(cls) as info:
        lawkit.parse(text, "t.law")
    assert str(info.value) == golden


def test_cli_reports_path_line_col_and_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.law"
    bad.write_text(HEAD + "    L = A/N^alph\n", encoding="utf-8")
    assert main(["check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err == GOLDEN[0][2].replace("t.law", str(bad)) + "\n"


def test_cli_json_and_exit_0(capsys):
    import json

    assert main(["check", "chinchilla", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    law = data["laws"][0]
    assert law["name"] == "chinchilla" and law["inputs"] == ["N", "D"] and law["output"] == "L"
    assert law["expr"] == "A/N**alpha + B/D**beta + E"
    assert law["params"]["alpha"] == {"lower": 0.0, "upper": 2.0, "lower_open": True,
                                      "upper_open": True, "fixed": None, "init": None}
    assert law["budgets"] == {"C": "6*D*N"}
    assert law["values"]["hoffmann2022"]["E"] == 1.69
