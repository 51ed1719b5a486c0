"""Law text → :mod:`lawkit.dsl.ast`: Lark parse tree, post-lexer and transformer.

Lark errors are turned into :class:`~lawkit.errors.LawSyntaxError` with a span and a list
of what was expected, in words.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import lark
from lark import Token, Transformer, v_args

from ..errors import LawSyntaxError, Source, Span
from . import ast
from ._grammar import parser
from ._names import canonical

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


def _name(tok: Token) -> ast.Name:
    return ast.Name(canonical(str(tok)), str(tok), _span(tok))


def _join(a: Span, b: Span) -> Span:
    return Span(a.line, a.column, b.end_line, b.end_column)


@v_args(inline=True)
class _ToAst(Transformer):
    """Parse tree → AST nodes (laws are grouped by :func:`parse_ast`)."""

    def __init__(self, source: Source):
        super().__init__()
        self.source = source

    # ---- expressions
    def number(self, tok):
        return ast.Number(str(tok), _span(tok))

    def name(self, tok):
        return _name(tok)

    @v_args(inline=True, meta=True)
    def call(self, meta, func, *args):
        return ast.Call(_name(func), tuple(args), _span(meta))

    def binop(self, left, op, right):
        sym = {"-": "-", "−": "-", "–": "-", "+": "+", "/": "/", "÷": "/", "**": "^", "^": "^"}
        return ast.BinOp(sym.get(str(op), "*"), left, right, _join(left.span, right.span))

    def unop(self, op, operand):
        return ast.UnOp("+" if str(op) == "+" else "-", operand, _join(_span(op), operand.span))

    # ---- numbers in bounds
    def signed_number(self, *toks):
        text = "".join(str(t) for t in toks)
        negative = text[0] in "-−–"
        value = math.inf if toks[-1].type == "INF" else float(toks[-1])
        return (-value if negative else value), _join(_span(toks[0]), _span(toks[-1]))

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
        return ast.Described(_name(name), str(description)[1:-1] if description else "")

    def assignment(self, name, expr):
        return ast.Assignment(_name(name), expr, _join(_span(name), expr.span))

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
        return ast.Param(_name(name), lower, upper, lower_open, upper_open, fixed, init,
                         _join(_span(name), end))

    def chained_param(self, lo, _lt1, name, _lt2, hi):
        return ast.Param(_name(name), lo[0], hi[0], True, True, None, None, _join(lo[1], hi[1]))

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
        return ast.Values(_name(name), citation, tuple(rest), _join(_span(name), rest[-1].span))

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
        return ("header", _name(name), citation, _name(parent) if parent else None)

    def start(self, *items):
        return list(items)


def _expected_words(expected: set[str]) -> str:
    words = sorted({_TOKEN_WORDS.get(e, e.lower()) for e in expected})
    return ", ".join(words)


def _syntax_error(err: lark.exceptions.LarkError, source: Source) -> LawSyntaxError:
    if isinstance(err, lark.exceptions.UnexpectedToken):
        tok = err.token
        if tok.type == "$END":
            lines = source.text.splitlines() or [""]
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
        ch = source.text.splitlines()[err.line - 1][err.column - 1]
        span = Span(err.line, err.column, err.line, err.column + 1)
        hint = "expected " + _expected_words(err.allowed) if err.allowed else ""
        return LawSyntaxError(f"unexpected character {ch!r}", span, source, hint)
    if isinstance(err, lark.exceptions.UnexpectedEOF):
        return LawSyntaxError("unexpected end of file", None, source)
    return LawSyntaxError(f"cannot parse: {err}", None, source)


def parse_tree(text: str, path: str = "<string>") -> lark.Tree:
    """The raw Lark parse tree (for grammar debugging)."""
    source = Source(text, path)
    try:
        return parser(_POSTLEX).parse(text)
    except lark.exceptions.UnexpectedInput as err:
        raise _syntax_error(err, source) from None


def parse_ast(text: str, path: str = "<string>") -> ast.LawFile:
    """Law text → :class:`ast.LawFile` (declarations grouped under their law headers)."""
    source = Source(text, path)
    tree = parse_tree(text, path)
    try:
        items = _ToAst(source).transform(tree)
    except lark.exceptions.VisitError as err:
        if isinstance(err.orig_exc, LawSyntaxError):
            raise err.orig_exc from None
        if isinstance(err.orig_exc, RecursionError):
            raise LawSyntaxError("expression nested too deeply", None, source) from None
        raise
    except RecursionError:
        raise LawSyntaxError("expression nested too deeply", None, source) from None
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
