"""AST expressions → SymPy, node by node, through a whitelist of functions.

Nothing here parses or evaluates strings: names become the ``Symbol`` objects the caller
hands in, numbers become exact ``Rational``s, and calls are looked up in :data:`FUNCTIONS`.
Extend the language from code with :func:`register_function`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import sympy as sp

from ..errors import LawDefinitionError, LawNameError, Source, did_you_mean
from . import ast


@dataclass(frozen=True)
class Function:
    """A function the language accepts: ``build`` maps SymPy arguments to a SymPy expression."""

    build: Callable[..., sp.Expr]
    min_args: int = 1
    max_args: int = 1
    doc: str = ""


def _log(x, base=None):
    return sp.log(x) if base is None else sp.log(x) / sp.log(base)


FUNCTIONS: dict[str, Function] = {
    "exp": Function(sp.exp, doc="e^x"),
    "log": Function(_log, 1, 2, "natural log; log(x, b) is log base b"),
    "ln": Function(sp.log, doc="natural log"),
    "log2": Function(lambda x: sp.log(x) / sp.log(2), doc="log base 2"),
    "log10": Function(lambda x: sp.log(x) / sp.log(10), doc="log base 10"),
    "sqrt": Function(sp.sqrt, doc="square root"),
    "abs": Function(sp.Abs, doc="|x|"),
    "min": Function(sp.Min, 2, 64, "smallest argument"),
    "max": Function(sp.Max, 2, 64, "largest argument"),
    "log1p": Function(lambda x: sp.log(1 + x), doc="log(1 + x)"),
    "expm1": Function(lambda x: sp.exp(x) - 1, doc="e^x − 1"),
    "sigmoid": Function(lambda x: 1 / (1 + sp.exp(-x)), doc="1 / (1 + e^(−x))"),
    "softplus": Function(lambda x: sp.log(1 + sp.exp(x)), doc="log(1 + e^x)"),
    "tanh": Function(sp.tanh, doc="hyperbolic tangent"),
    "erf": Function(sp.erf, doc="error function"),
}

CONSTANTS: dict[str, sp.Expr] = {"e": sp.E, "pi": sp.pi}


def register_function(name: str, build: Callable[..., sp.Expr], min_args: int = 1,
                      max_args: int | None = None, doc: str = "", *,
                      numpy: Callable | None = None, jax: Callable | None = None) -> None:
    """Add ``name`` to the language, and to every numeric backend.

    ``build`` maps SymPy arguments to a SymPy expression.  When that expression uses only
    heads the backends know (``exp``, powers, ``erf``, …) nothing else is needed; when it is
    a new SymPy function (e.g. ``sympy.gamma`` or a ``sympy.Function`` subclass), give its
    array implementations ``numpy=`` and ``jax=``; they are registered under that head, so
    ``evaluate``, ``fit`` and ``optimum`` all reach it.  An incomplete registration is
    refused here, not at fit time.
    """
    from ..backends import registry
    from ..backends._walk import heads
    from ..errors import LawkitError

    max_args = max_args or min_args
    dummies = sp.symbols(f"_x0:{min_args}", positive=True)
    try:
        sample = build(*dummies)
    except Exception as err:  # the user's callable: report, don't crash later
        raise LawkitError(f"register_function({name!r}): build({min_args} symbols) failed: "
                          f"{err}") from None
    if not isinstance(sample, sp.Basic):
        raise LawkitError(f"register_function({name!r}): build must return a SymPy expression, "
                          f"not {type(sample).__name__}")
    if numpy is not None or jax is not None:
        registry.register(type(sample), {"numpy": numpy, "jax": jax})
    from ..backends.jax import TABLE as JAX_TABLE
    from ..backends.numpy import TABLE as NUMPY_TABLE

    for backend, table in (("numpy", NUMPY_TABLE), ("jax", JAX_TABLE)):
        extra = registry.for_backend(backend)
        unknown = [h.__name__ for h in heads(sample) if h not in table and h not in extra
                   and not (h is sp.Pow)]
        if unknown:
            raise LawkitError(f"register_function({name!r}): the {backend} backend cannot compute "
                              f"{', '.join(unknown)}; pass numpy=... and jax=... implementations")
    FUNCTIONS[name] = Function(build, min_args, max_args, doc)


class ExprBuilder:
    """Builds SymPy from AST expressions, resolving names through ``symbols``.

    ``allowed`` maps each name an expression may use to its symbol; ``context`` says where
    the expression sits (for messages); names outside ``allowed`` but in ``known`` get a
    message saying why they cannot be used there.
    """

    def __init__(self, source: Source, functions: Mapping[str, Function] = FUNCTIONS):
        self.source, self.functions = source, functions

    def build(self, node: ast.Expr, allowed: Mapping[str, sp.Expr], context: str,
              known: Mapping[str, str] | None = None) -> sp.Expr:
        if isinstance(node, ast.Number):
            return sp.Rational(node.text)
        if isinstance(node, ast.Name):
            return self._name(node, allowed, context, known or {})
        if isinstance(node, ast.UnOp):
            inner = self.build(node.operand, allowed, context, known)
            return -inner if node.op == "-" else inner
        if isinstance(node, ast.BinOp):
            a = self.build(node.left, allowed, context, known)
            b = self.build(node.right, allowed, context, known)
            if node.op == "+":
                return a + b
            if node.op == "-":
                return a - b
            if node.op == "*":
                return a * b
            if node.op == "/":
                return a / b
            return a**b
        return self._call(node, allowed, context, known)

    def _name(self, node: ast.Name, allowed, context, known) -> sp.Expr:
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

    def _call(self, node: ast.Call, allowed, context, known) -> sp.Expr:
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
        return fn.build(*(self.build(a, allowed, context, known) for a in node.args))


def numeric_value(builder: ExprBuilder, node: ast.Expr, context: str) -> float:
    """The float value of a constant expression (``exp(6.0073)``, ``6/16``)."""
    value = builder.build(node, {}, context)
    number = complex(sp.N(value, 17))
    if number.imag != 0 or number.real != number.real:
        raise LawDefinitionError(f"{context} is not a real number", node.span, builder.source)
    return number.real
