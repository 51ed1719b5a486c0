"""Law text → :mod:`lawkit.dsl.ast`: Lark parse tree, post-lexer and transformer.

Lark errors are turned into :class:`~lawkit.errors.LawSyntaxError` with a span and a list
of what was expected, in words.
"""

from __future__ import annotations

import math
import sys
import unicodedata
from collections.abc import Iterator

import lark
from lark import Token, v_args
from lark.visitors import Transformer_NonRecursive

from ..errors import LawError, LawLimitError, LawSyntaxError, Source, Span
from . import ast
from ._grammar import parser
from ._limits import MAX_NESTING, literal_problem
from ._names import canonical, check_confusables
from ._text import normalize

# A newline after one of these tokens (or inside brackets) continues the line.
_CONTINUES = {"COMMA", "ADD", "MUL", "POW", "EQUAL", "COMPARE", "LESS", "IN", "APPROX"}
_OPENERS, _CLOSERS = {"LPAR", "LSQB"}, {"RPAR", "RSQB"}


class _PostLex:
    """Drops continuation newlines and collapses blank lines; ends the stream with one _NL."""

    always_accept = ("_NL",)

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        depth, last = 0, None
        for tok in stream:
            if tok.type == "_NL":
                if depth > 0 or last is None or last.type in _CONTINUES or last.type == "_NL":
                    continue
            elif tok.type in _OPENERS:
                depth += 1
            elif tok.type in _CLOSERS:
                depth = max(0, depth - 1)
            last = tok
            yield tok
        if last is not None and last.type != "_NL":  # the file's last line has no newline
            yield Token("_NL", "", start_pos=last.end_pos, line=last.end_line,
                        column=last.end_column, end_line=last.end_line,
                        end_column=last.end_column + 1, end_pos=last.end_pos)


_POSTLEX = _PostLex()

_TOKEN_WORDS = {
    "NAME": "a name", "NUMBER": "a number", "STRING": 'a "quoted string"', "ADD": "'+' or '-'",
    "MUL": "'*' or '/'", "POW": "'^'", "COMPARE": "'>' or '<='", "LESS": "'<'", "IN": "'in'",
    "APPROX": "'~'", "INF": "'∞'", "_NL": "end of line", "COMMA": "','", "COLON": "':'",
    "EQUAL": "'='", "LPAR": "'('", "RPAR": "')'", "LSQB": "'['", "RSQB": "']'", "$END": "end of file",
    "LAW": "'law'", "EXTENDS": "'extends'", "INPUTS": "'inputs'", "OUTPUT": "'output'",
    "PARAMS": "'params'", "CONSTS": "'consts'", "BUDGET": "'budget'", "VALUES": "'values'",
}


def _span(meta_or_token) -> Span:
    m = meta_or_token
    return Span(m.line, m.column, m.end_line, m.end_column)


def _join(a: Span, b: Span) -> Span:
    return Span(a.line, a.column, b.end_line, b.end_column)


_OPS = {"-": "-", "−": "-", "–": "-", "+": "+", "/": "/", "÷": "/", "**": "^", "^": "^"}
_CHAIN = {"+": "sum", "-": "sum", "*": "product", "/": "product"}


@v_args(inline=True)
class _ToAst(Transformer_NonRecursive):
    """Parse tree → AST nodes (laws are grouped by :func:`parse_ast`).

    Bottom-up without recursion, so long chains (``a + b + …``) cost no stack; the nesting
    of each expression node is tracked and limited to :data:`MAX_NESTING`.
    """

    def __init__(self, source: Source):
        super().__init__()
        self.source = source
        self.names: list[ast.Name] = []  # every name, in order, for the confusables check
        self._depth: dict[int, int] = {}  # id(node) → nesting; a chain counts once
        self._inner: dict[int, int] = {}  # id(chain node) → nesting of its operands

    def _name(self, tok: Token) -> ast.Name:
        name = ast.Name(canonical(str(tok)), str(tok), _span(tok))
        self.names.append(name)
        return name

    def _nested(self, node, depth: int):
        if depth > MAX_NESTING:
            raise LawLimitError(f"expression nested too deeply (limit: MAX_NESTING = {MAX_NESTING} "
                                "levels of calls, powers and signs)", node.span, self.source,
                                "name parts of it as terms (x = …)")
        self._depth[id(node)] = depth
        return node

    def _d(self, node) -> int:
        return self._depth.get(id(node), 0)

    # ---- expressions
    def number(self, tok):
        return ast.Number(str(tok), _span(tok))

    def name(self, tok):
        return self._name(tok)

    @v_args(inline=True, meta=True)
    def call(self, meta, func, *args):
        node = ast.Call(self._name(func), tuple(args), _span(meta))
        return self._nested(node, 1 + max(self._d(a) for a in args))

    def binop(self, left, op, right):
        node = ast.BinOp(_OPS.get(str(op), "*"), left, right, _join(left.span, right.span))
        chain = _CHAIN.get(node.op)
        if chain is None:  # '^' nests: a^b^c is a^(b^c)
            return self._nested(node, 1 + max(self._d(left), self._d(right)))
        same = isinstance(left, ast.BinOp) and _CHAIN.get(left.op) == chain
        inner = max(self._inner[id(left)] if same else self._d(left), self._d(right))
        self._inner[id(node)] = inner
        return self._nested(node, inner + 1)

    def unop(self, op, operand):
        node = ast.UnOp("+" if str(op) == "+" else "-", operand, _join(_span(op), operand.span))
        return self._nested(node, 1 + self._d(operand))

    # ---- numbers in bounds
    def signed_number(self, *toks):
        text = "".join(str(t) for t in toks)
        negative = text[0] in "-−–"
        span = _join(_span(toks[0]), _span(toks[-1]))
        if toks[-1].type == "INF":
            value = math.inf
        else:
            problem = literal_problem(str(toks[-1]))
            value = math.inf if problem else float(toks[-1])
            if math.isinf(value):
                raise LawLimitError(f"number {str(toks[-1])} is too large for a bound or initial "
                                    f"value (largest: {sys.float_info.max:.4g})", span, self.source,
                                    "write 'inf' for no bound")
        return (-value if negative else value), span

    def bound(self, *items):
        if isinstance(items[-1], tuple):  # a signed_number
            return items[-1] if len(items) == 1 else items[0]
        word = items[-1]
        if str(word) != "inf":
            raise LawSyntaxError(f"expected a number or 'inf' as a bound, got {str(word)!r}",
                                 _span(word), self.source)
        negative = len(items) == 2 and str(items[0]) in "-−–"
        return (-math.inf if negative else math.inf), _join(_span(items[0]), _span(word))

    # ---- declarations
    def described(self, name, description=None):
        return ast.Described(self._name(name), str(description)[1:-1] if description else "")

    def assignment(self, name, expr):
        return ast.Assignment(self._name(name), expr, _join(_span(name), expr.span))

    def compare(self, op, bound):
        return ("compare", str(op), bound)

    def within(self, _in, interval):
        return ("within", interval)

    def interval(self, opener, lo, _comma, hi, closer):
        return (lo, hi, str(opener) == "(", str(closer) == ")")

    def fixed(self, expr):
        return ("fixed", expr)

    def init(self, _approx, value):
        return ("init", value)

    def param(self, name, *constraints):
        lower, upper, lower_open, upper_open = -math.inf, math.inf, True, True
        fixed = init = None
        seen: set[str] = set()
        end = _span(name)
        for c in constraints:
            kind = c[0]
            if kind == "compare":
                op, (value, span) = c[1], c[2]
                side = "lower" if op in (">", ">=", "≥") else "upper"
                if side in seen:
                    raise LawSyntaxError(f"parameter {str(name)!r} has two {side} bounds", span,
                                         self.source)
                seen.add(side)
                if side == "lower":
                    lower, lower_open = value, op == ">"
                else:
                    upper, upper_open = value, op == "<"
                end = span
            elif kind == "within":
                (lo, lo_span), (hi, hi_span), lower_open, upper_open = c[1]
                if seen & {"lower", "upper"}:
                    raise LawSyntaxError(f"parameter {str(name)!r} has bounds given twice", lo_span,
                                         self.source)
                seen |= {"lower", "upper"}
                lower, upper, end = lo, hi, hi_span
            elif kind == "fixed":
                fixed, end = c[1], c[1].span
            else:
                init, end = c[1][0], c[1][1]
        return ast.Param(self._name(name), lower, upper, lower_open, upper_open, fixed, init,
                         _join(_span(name), end))

    def chained_param(self, lo, _lt1, name, _lt2, hi):
        return ast.Param(self._name(name), lo[0], hi[0], True, True, None, None, _join(lo[1], hi[1]))

    def inputs(self, *items):
        return ast.Inputs(tuple(items), _join(items[0].name.span, items[-1].name.span))

    def output(self, item):
        return ast.Output(item, item.name.span)

    def params(self, *items):
        return ast.Params(tuple(items), _join(items[0].span, items[-1].span))

    def consts(self, *items):
        return ast.Consts(tuple(items), _join(items[0].span, items[-1].span))

    def budget(self, item):
        return ast.Budget(item, item.span)

    def values(self, name, *rest):
        citation = ""
        if rest and isinstance(rest[0], Token):
            citation, rest = str(rest[0])[1:-1], rest[1:]
        return ast.Values(self._name(name), citation, tuple(rest), _join(_span(name), rest[-1].span))

    def equation(self, item):
        return ast.Equation(item, item.span)

    def extends(self, parent, citation=None):
        return ("extends", parent, citation)

    def law_header(self, name, *rest):
        citation, parent = "", None
        for item in rest:
            if isinstance(item, tuple):
                parent = item[1]
                if item[2] is not None:
                    if citation:
                        raise LawSyntaxError(f"law {str(name)!r} has two citations",
                                             _span(item[2]), self.source)
                    citation = str(item[2])[1:-1]
            else:
                citation = str(item)[1:-1]
        return ("header", self._name(name), citation, self._name(parent) if parent else None)

    def start(self, *items):
        return list(items)


def _expected_words(expected: set[str]) -> str:
    words = sorted({_TOKEN_WORDS.get(e, e.lower()) for e in expected})
    return ", ".join(words)


_CONTROL_NAMES = {"\x0b": "VERTICAL TAB", "\x1c": "FILE SEPARATOR", "\x1d": "GROUP SEPARATOR",
                  "\x1e": "RECORD SEPARATOR", "\x85": "NEXT LINE", "\x00": "NUL"}


def _unexpected_character(ch: str) -> str:
    """A hint for a character the grammar has no place for."""
    name = f"{_CONTROL_NAMES.get(ch) or unicodedata.name(ch, 'a control character')} (U+{ord(ch):04X})"
    if unicodedata.category(ch) == "Nd":
        return f"numbers are written with ASCII digits 0-9; this is {name}"
    if ch.isspace() or unicodedata.category(ch) in ("Zl", "Zp", "Cc", "Cf"):
        return f"separate with spaces, tabs or newlines; this is {name}"
    return ""


def _syntax_error(err: lark.exceptions.LarkError, source: Source) -> LawSyntaxError:
    if isinstance(err, lark.exceptions.UnexpectedToken):
        tok = err.token
        if tok.type == "$END":
            lines = source.lines() or [""]
            span = Span(len(lines), len(lines[-1]) + 1, len(lines), len(lines[-1]) + 2)
            what = "unexpected end of file"
        elif tok.type == "_NL":
            span = Span(tok.line, tok.column, tok.line, tok.column + 1)
            what = "unexpected end of line" if tok.value else "unexpected end of file"
        else:
            span = _span(tok)
            what = f"unexpected {str(tok)!r}"
        return LawSyntaxError(what, span, source, "expected " + _expected_words(err.accepts or err.expected))
    if isinstance(err, lark.exceptions.UnexpectedCharacters):
        ch = err.char
        span = Span(err.line, err.column, err.line, err.column + 1)
        hint = _unexpected_character(ch) or (
            "expected " + _expected_words(err.allowed) if err.allowed else "")
        return LawSyntaxError(f"unexpected character {ch!r}", span, source, hint)
    if isinstance(err, lark.exceptions.UnexpectedEOF):
        return LawSyntaxError("unexpected end of file", None, source)
    return LawSyntaxError(f"cannot parse: {err}", None, source)


def parse_tree(text: str, path: str = "<string>") -> lark.Tree:
    """The raw Lark parse tree (for grammar debugging); ``text`` as :func:`normalize` leaves it."""
    text = normalize(text, path)
    source = Source(text, path)
    try:
        return parser(_POSTLEX).parse(text)
    except lark.exceptions.UnexpectedInput as err:
        raise _syntax_error(err, source) from None


def parse_ast(text: str, path: str = "<string>") -> ast.LawFile:
    """Law text → :class:`ast.LawFile` (declarations grouped under their law headers)."""
    text = normalize(text, path)
    source = Source(text, path)
    tree = parse_tree(text, path)
    to_ast = _ToAst(source)
    try:
        items = to_ast.transform(tree)
    except lark.exceptions.VisitError as err:
        if isinstance(err.orig_exc, LawError):
            raise err.orig_exc from None
        meta = getattr(err.obj, "meta", None)
        span = _span(meta) if meta is not None and not meta.empty else None
        raise LawSyntaxError(f"cannot read this: {type(err.orig_exc).__name__}: {err.orig_exc}",
                             span, source) from None
    check_confusables(to_ast.names, source)
    laws: list[ast.LawDecl] = []
    header, decls = None, []

    def close():
        if header is not None:
            laws.append(ast.LawDecl(header[1], header[2], header[3], tuple(decls),
                                    header[1].span, source))

    for item in items:
        if isinstance(item, tuple) and item[0] == "header":
            close()
            header, decls = item, []
        elif header is None:
            line = source.line(item.span.line)
            col = len(line) - len(line.lstrip()) + 1
            raise LawSyntaxError("declaration outside a law", Span(item.span.line, col, item.span.line,
                                                                   col + 1), source,
                                 "start the file with a header such as 'law my_law:'")
        else:
            decls.append(item)
    close()
    return ast.LawFile(tuple(laws), source)
