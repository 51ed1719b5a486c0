"""AST expressions → SymPy, node by node, with every number kept finite, real and small.

Names become the symbols the caller hands in, numbers exact ``Rational``s, calls go
through the whitelist :data:`~lawkit.dsl._to_sympy.FUNCTIONS`.  Chains (``a + b − c``,
``a·b/c``) are built as one ``Add``/``Mul`` without recursion.  Three rules keep hostile
numbers from hanging SymPy or reaching the fitter as ``zoo``:

* exact numbers have at most :data:`MAX_DIGITS` digits; a power is refused *before* it is
  computed when its exact result would be larger (``10^10^10``), and an exponent on a
  symbolic base is at most :data:`MAX_EXPONENT` in size;
* every numeric sub-expression is a finite real number within double precision
  (|x| ≤ 1.8e308), as the compiled backends will compute it: ``1/0``, ``sqrt(-1)``,
  ``log(N, 1)``, ``exp(1000)`` are errors at their own span;
* any other exception from SymPy or a registered function becomes a
  :class:`~lawkit.errors.LawDefinitionError` at the node that raised it (one place:
  :meth:`ExprBuilder._expr`).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping

import sympy as sp

from ..errors import LawDefinitionError, LawError, LawLimitError, LawNameError, Source, did_you_mean
from . import ast
from ._limits import MAX_DIGITS, MAX_EXPONENT, MAX_NESTING, digits, literal_problem, power_digits
from ._to_sympy import CONSTANTS, FUNCTIONS, Function

_NOT_FINITE = (sp.zoo, sp.nan, sp.oo, -sp.oo)
_BAD = (*_NOT_FINITE, sp.I)
_FLOAT_MAX = sys.float_info.max
_EXACT_INTO_FUNCTIONS = 20  # digits; larger exact arguments enter functions as floats


class ExprBuilder:
    """Builds SymPy from AST expressions, resolving names through ``allowed``.

    ``allowed`` maps each name an expression may use to its symbol; ``context`` says where
    the expression sits (for messages); names outside ``allowed`` but in ``known`` get a
    message saying why they cannot be used there.
    """

    def __init__(self, source: Source, functions: Mapping[str, Function] = FUNCTIONS):
        self.source, self.functions = source, functions

    def build(self, node: ast.Expr, allowed: Mapping[str, sp.Expr], context: str,
              known: Mapping[str, str] | None = None) -> sp.Expr:
        self._scope = (allowed, context, known or {})
        return self._expr(node)

    # ---- one node: the single place where foreign exceptions become law errors
    def _expr(self, node: ast.Expr) -> sp.Expr:
        try:
            if isinstance(node, ast.Number):
                value = self._number(node)
            elif isinstance(node, ast.Name):
                value = self._name(node)
            elif isinstance(node, ast.UnOp):
                inner = self._expr(node.operand)
                value = -inner if node.op == "-" else inner
            elif isinstance(node, ast.BinOp) and node.op in "+-":
                value = self._sum(node)
            elif isinstance(node, ast.BinOp) and node.op in "*/":
                value = self._product(node)
            elif isinstance(node, ast.BinOp):
                value = self._power(node)
            else:
                value = self._call(node)
            self._check(value, node)
        except LawError:
            raise
        except RecursionError:
            raise LawLimitError(f"expression nested too deeply (limit: MAX_NESTING = "
                                f"{MAX_NESTING})", node.span, self.source) from None
        except Exception as err:  # SymPy, or a registered function's build
            raise LawDefinitionError(f"cannot build {self._scope[1]}: {type(err).__name__}: "
                                     f"{err}", node.span, self.source) from None
        return value

    def _error(self, message: str, node, hint: str = "") -> LawDefinitionError:
        return LawDefinitionError(message, node.span, self.source, hint)

    def _limit(self, message: str, node, hint: str = "") -> LawLimitError:
        return LawLimitError(message, node.span, self.source, hint)

    # ---- leaves
    def _number(self, node: ast.Number) -> sp.Rational:
        problem = literal_problem(node.text)
        if problem:
            raise self._limit(f"{problem} (limit: MAX_DIGITS = {MAX_DIGITS})", node)
        return sp.Rational(node.text)

    def _name(self, node: ast.Name) -> sp.Expr:
        allowed, context, known = self._scope
        if node.id in allowed:
            return allowed[node.id]
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        if node.id in known:
            raise LawNameError(f"{known[node.id]} {node.raw!r} cannot be used in {context}",
                               node.span, self.source)
        if node.id in self.functions:
            raise LawNameError(f"{node.raw!r} is a function; call it as {node.raw}(…)",
                               node.span, self.source)
        hint = did_you_mean(node.id, list(allowed))
        raise LawNameError(f"unknown name {node.raw!r} in {context}", node.span, self.source,
                           hint or f"declare it under 'inputs', 'params' or 'consts', "
                                   f"or define it as a term ({node.raw} = …)")

    # ---- chains, built at once (no recursion along a long sum or product)
    @staticmethod
    def _operands(node: ast.BinOp, ops: str) -> list[tuple[str, ast.Expr]]:
        out = []
        while isinstance(node, ast.BinOp) and node.op in ops:
            out.append((node.op, node.right))
            node = node.left
        out.append(("", node))
        return out[::-1]

    def _sum(self, node: ast.BinOp) -> sp.Expr:
        terms, coeffs = [], {}
        for op, operand in self._operands(node, "+-"):
            x = self._expr(operand)
            x = -x if op == "-" else x
            for t in sp.Add.make_args(x):  # like terms' coefficients add up: bound them
                c, rest = t.as_coeff_Mul()
                if isinstance(c, sp.Rational):
                    coeffs[rest] = coeffs.get(rest, sp.S.Zero) + c
                    self._small(coeffs[rest], operand)
            terms.append(x)
        return sp.Add(*terms)

    def _product(self, node: ast.BinOp) -> sp.Expr:
        factors, coeff, powers = [], sp.S.One, {}
        for op, operand in self._operands(node, "*/"):
            x = self._expr(operand)
            if op == "/":
                if x.is_zero:
                    raise self._error("division by zero", operand, "the divisor is 0")
                x = sp.Pow(x, -1)
            for f in sp.Mul.make_args(x):  # coefficients multiply, like bases' exponents add
                if isinstance(f, sp.Rational):
                    coeff *= f
                    self._small(coeff, operand)
                    continue
                base, e = f.as_base_exp()
                if isinstance(e, sp.Rational):
                    powers[base] = powers.get(base, sp.S.Zero) + e
                    self._small(powers[base], operand)
                    if isinstance(base, sp.Rational):
                        self._power_fits(base, powers[base], operand)
            factors.append(x)
        return sp.Mul(*factors)

    # ---- powers and calls
    def _power_fits(self, base: sp.Rational, e: sp.Rational, node) -> None:
        size = power_digits(base, e)
        if size > MAX_DIGITS:
            raise self._limit(f"exact power {_short(base)}^{_short(e)} would have about {size:.3g} digits "
                              f"(limit: MAX_DIGITS = {MAX_DIGITS})", node)

    def _power(self, node: ast.BinOp) -> sp.Expr:
        a, b = self._expr(node.left), self._expr(node.right)
        if isinstance(b, sp.Rational):
            if isinstance(a, sp.Rational):
                self._power_fits(a, b, node)
                if b.q != 1 and digits(a) > _EXACT_INTO_FUNCTIONS:
                    a = sp.Float(a, 17)  # no root extraction from a huge exact number
            elif abs(b) > MAX_EXPONENT:
                raise self._limit(f"exponent {_short(b)} is too large for a power of an expression "
                                  f"(limit: MAX_EXPONENT = {MAX_EXPONENT})", node.right)
            else:  # (c·x)^b = c^b·x^b: bound c^b before SymPy computes it
                c = a.as_coeff_Mul()[0]
                if isinstance(c, sp.Rational):
                    self._power_fits(c, b, node)
        if a.is_zero and b.is_extended_negative:
            raise self._error("0 raised to a negative power is infinite", node)
        return sp.Pow(a, b)

    def _call(self, node: ast.Call) -> sp.Expr:
        fn = self.functions.get(node.func.id)
        if fn is None:
            raise LawNameError(f"unknown function {node.func.raw!r}", node.func.span, self.source,
                               did_you_mean(node.func.id, self.functions)
                               or "available: " + ", ".join(sorted(self.functions)))
        n = len(node.args)
        if not fn.min_args <= n <= fn.max_args:
            want = (str(fn.min_args) if fn.min_args == fn.max_args
                    else f"{fn.min_args} to {fn.max_args}")
            raise LawDefinitionError(f"{node.func.raw}() takes {want} argument"
                                     f"{'' if want == '1' else 's'}, got {n}", node.span, self.source)
        args = [self._expr(a) for a in node.args]
        args = [sp.Float(x, 17) if isinstance(x, sp.Rational) and digits(x) > _EXACT_INTO_FUNCTIONS
                else x for x in args]
        value = fn.build(*args)
        if not isinstance(value, sp.Expr):
            raise self._error(f"{node.func.raw}() built {type(value).__name__}, not an expression",
                              node)
        return value

    # ---- the number rules
    def _small(self, r: sp.Rational, node) -> None:
        if digits(r) > MAX_DIGITS:
            raise self._limit(f"exact number with about {digits(r)} digits (limit: MAX_DIGITS = "
                              f"{MAX_DIGITS})", node)

    def _check(self, value: sp.Expr, node) -> None:
        """Numbers finite, real, within double precision; no ``zoo``/``I`` in expressions."""
        if isinstance(value, sp.Rational):
            self._small(value, node)
            if value != 0 and int(abs(value.p)).bit_length() - int(value.q).bit_length() > 1024:
                raise self._number_error(value, node)
            return
        if isinstance(value, sp.Float):
            if not (math.isfinite(float(value)) and abs(value) <= _FLOAT_MAX):
                raise self._number_error(value, node)
            return
        if not isinstance(value, sp.Expr):
            raise self._error(f"{self._scope[1]} is not a number or expression", node)
        if value.is_number:
            self._check_numeric(value, node)
        elif isinstance(node, ast.Call) or (isinstance(node, ast.BinOp) and node.op == "^"):
            if value.has(*_BAD):
                raise self._error(f"{self._text(node)} is not a finite real number for any input "
                                  f"(it is {_short(value)})", node, _why(value))
        self._check_coefficients(value, node)

    def _check_coefficients(self, value: sp.Expr, node) -> None:
        for t in sp.Add.make_args(value):
            c = t.as_coeff_Mul()[0]
            if isinstance(c, sp.Rational) and c != 0 and (
                    int(abs(c.p)).bit_length() - int(c.q).bit_length() > 1024):
                raise self._number_error(c, node, coefficient=True)
            if isinstance(c, sp.Float) and not abs(c) <= _FLOAT_MAX:
                raise self._number_error(c, node, coefficient=True)

    def _check_numeric(self, value: sp.Expr, node) -> None:
        if value.has(*_NOT_FINITE):
            raise self._error(f"{self._text(node)} is not finite (it is {_short(value)})", node,
                              _why(value))
        x = sp.N(value, 17)
        if x.has(*_NOT_FINITE) or not x.is_extended_real:
            if x.has(*_NOT_FINITE) or not x.is_number:
                raise self._error(f"{self._text(node)} is not finite (it is {_short(x)})", node)
            raise self._error(f"{self._text(node)} is not a real number (it is {_short(x)})", node,
                              "square roots and logarithms need non-negative arguments")
        if abs(x) > _FLOAT_MAX:
            raise self._number_error(value, node)

    def _text(self, node) -> str:
        """The node as the user wrote it (``'exp(1000)'``), or "this expression" if long."""
        sp_ = node.span
        if isinstance(node, ast.Number):
            return f"number {node.text}"
        if sp_.line == sp_.end_line and sp_.end_column - sp_.column <= 40:
            text = self.source.line(sp_.line)[sp_.column - 1:sp_.end_column - 1]
            if text and text.count("(") == text.count(")"):
                return repr(text)
        return "this expression"

    def _number_error(self, x, node, coefficient: bool = False) -> LawLimitError:
        what = f"a coefficient of {self._text(node)}" if coefficient else self._text(node)
        return self._limit(f"{what} ≈ {sp.N(x, 3)} is beyond double precision "
                           f"(largest: {_FLOAT_MAX:.4g})", node,
                           "the fit and the analysis compute in double precision")


def _short(x) -> str:
    text = str(x)
    return text if len(text) <= 60 else text[:57] + "…"


def _why(value: sp.Expr) -> str:
    if value.has(sp.zoo):
        return "a division by zero, or the log of 0, makes it infinite"
    if value.has(sp.I):
        return "a square root or logarithm of a negative number makes it complex"
    return ""


def numeric_value(builder: ExprBuilder, node: ast.Expr, context: str) -> float:
    """The float value of a constant expression (``exp(6.0073)``, ``6/16``)."""
    value = builder.build(node, {}, context)  # checked: a finite real number in float range
    try:
        return float(value if isinstance(value, (sp.Rational, sp.Float)) else sp.N(value, 17))
    except (TypeError, ValueError, OverflowError) as err:
        raise LawDefinitionError(f"{context} is not a real number ({err})", node.span,
                                 builder.source) from None
