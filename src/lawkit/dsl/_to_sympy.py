"""The language's functions and constants: the whitelist calls are looked up in.

Nothing here parses or evaluates strings; :mod:`lawkit.dsl._expr` builds SymPy from the AST
node by node, calling :data:`FUNCTIONS` by name.  Extend the language from code with
:func:`register_function`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp


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
