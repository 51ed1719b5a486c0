"""The language's limits: each bounds work that hostile text could otherwise make endless.

Every limit is far above what a real law needs (the library's largest file is 4 KB, its
deepest ``extends`` chain 3 laws, its largest exact number 10 digits); hitting one is a
:class:`~lawkit.errors.LawLimitError` that names the limit and its value.
"""

from __future__ import annotations

import math

import sympy as sp

#: bytes in a law file or characters in law text (256 KiB: a few thousand laws, parsed in
#: about a second; the library's largest file is 4 KB)
MAX_FILE_BYTES = 1 << 18
#: laws in one ``extends`` chain (a law, its parent, its parent's parent, …)
MAX_EXTENDS_DEPTH = 64
#: nesting of calls, powers and unary signs in one expression as written (chains such as
#: ``a + b + c`` count once; brackets alone do not count)
MAX_NESTING = 50
#: depth of a declaration's SymPy tree once terms and constants are substituted (SymPy's own
#: printing and differentiation recurse, and fail near 150)
MAX_DEPTH = 100
#: nodes of a declaration's SymPy tree once terms are substituted (terms that use a term
#: twice double it at each level)
MAX_NODES = 20_000
#: decimal digits of an exact number: a literal's digits and exponent, and the numerator
#: and denominator of any exact result (``2^3000`` has 904 digits; ``10^1000`` is refused)
MAX_DIGITS = 1000
#: ``|b|`` of a number ``b`` used as an exponent of a symbolic base (``N^b``)
MAX_EXPONENT = 1000

_LOG2_10 = math.log2(10)


def literal_problem(text: str) -> str | None:
    """Why the number literal ``text`` (ASCII digits, grammar-checked) is too large, or None."""
    mantissa, _, exponent = text.lower().partition("e")
    digits = mantissa.replace(".", "").lstrip("0")
    shown = text if len(text) <= 24 else text[:20] + "…"
    if len(digits) > MAX_DIGITS:
        return f"number {shown} has {len(digits)} digits"
    if exponent:
        e = exponent.lstrip("+-").lstrip("0")
        if len(e) > 5 or int(e or 0) > MAX_DIGITS:
            return f"number {shown} has an exponent beyond ±{MAX_DIGITS}"
    return None


def tree_size(e: sp.Basic) -> tuple[int, int]:
    """``(depth, nodes)`` of ``e`` as a tree, computed over its shared sub-expressions once."""
    memo: dict[int, tuple[int, int]] = {}
    stack = [(e, False)]
    while stack:
        x, done = stack.pop()
        if id(x) in memo:
            continue
        if done or not x.args:
            kids = [memo[id(a)] for a in x.args]
            memo[id(x)] = (1 + max((d for d, _ in kids), default=0), 1 + sum(n for _, n in kids))
        else:
            stack.append((x, True))
            stack.extend((a, False) for a in x.args if id(a) not in memo)
    return memo[id(e)]


def digits(r: sp.Rational) -> int:
    """Decimal digits of the larger of ``r``'s numerator and denominator (from bit lengths)."""
    return math.ceil(max(int(r.p).bit_length(), int(r.q).bit_length()) / _LOG2_10)


def power_digits(base: sp.Rational, exponent: sp.Rational) -> float:
    """Digits of the exact ``base^exponent`` (an estimate from sizes, computed without it)."""
    if base in (0, 1, -1):
        return 1
    return abs(float(exponent)) * max(digits(base), 1)
