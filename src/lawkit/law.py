"""``Law``: a parsed scaling law as SymPy, with its declarations, terms and value sets."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType

import numpy as np
import sympy as sp

from .errors import LawkitError, LawNameError, Source, ValuesError, did_you_mean
from .ordering import topological_order


@dataclass(frozen=True)
class Variable:
    """An input (data column), the output, or a budget variable."""

    name: str
    description: str
    symbol: sp.Symbol


@dataclass(frozen=True)
class Parameter:
    """A fitted parameter: bounds (``lower_open``: strict ``>``), or fixed to an expression.

    ``fixed`` is a number (a fixed parameter) or an expression of other parameters (tied).
    """

    name: str
    symbol: sp.Symbol
    lower: float = -math.inf
    upper: float = math.inf
    lower_open: bool = True
    upper_open: bool = True
    fixed: sp.Expr | None = None
    init: float | None = None

    @property
    def is_free(self) -> bool:
        return self.fixed is None

    def bounds_text(self) -> str:
        if self.fixed is not None:
            return f"= {self.fixed}"
        lo, hi = self.lower, self.upper
        if lo == -math.inf and hi == math.inf:
            return "unbounded"
        if hi == math.inf:
            return f"{'>' if self.lower_open else '>='} {lo:g}"
        if lo == -math.inf:
            return f"{'<' if self.upper_open else '<='} {hi:g}"
        return f"in {'(' if self.lower_open else '['}{lo:g}, {hi:g}{')' if self.upper_open else ']'}"


@dataclass(frozen=True)
class ValueSet:
    """Published constants for a law's parameters, with their citation."""

    name: str
    citation: str
    values: Mapping[str, float]


def plain_symbol(name: str) -> sp.Symbol:
    """The symbol standing for a term, constant or budget variable inside expressions."""
    return sp.Symbol(name, real=True)


def _finite(value, what: str) -> float:
    """``value`` as a finite float, or a :class:`ValuesError` saying what it was."""
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
        raise ValuesError(f"{what} is not a real number: {value!r}") from None
    if not math.isfinite(x):
        raise ValuesError(f"{what} is not finite: {x}")
    return x


def _frozen(d: Mapping) -> Mapping:
    return MappingProxyType(dict(d))


@dataclass(frozen=True, eq=False)
class Law:
    """A scaling law: ``output = equation`` where ``equation`` may use ``terms`` by name.

    ``expr`` is the output expression with every term and constant substituted, so it is a
    function of inputs and parameters only.
    """

    name: str
    citation: str
    parent: str | None
    inputs: Mapping[str, Variable]
    output: Variable
    params: Mapping[str, Parameter]
    consts: Mapping[str, sp.Expr]
    terms: Mapping[str, sp.Expr]
    equation: sp.Expr
    budgets: Mapping[str, sp.Expr]
    values: Mapping[str, ValueSet]
    source: Source = field(repr=False)

    def __post_init__(self):
        for name in ("inputs", "params", "consts", "terms", "budgets", "values"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))

    # ---- symbols and expressions
    def symbol(self, name: str) -> sp.Symbol:
        """The SymPy symbol of any declared name (input, output, param, const, term, budget)."""
        table = self._symbols
        if name not in table:
            raise LawNameError(f"law {self.name!r} has no name {name!r}",
                               hint=did_you_mean(name, table) or "names: " + ", ".join(table))
        return table[name]

    @cached_property
    def _symbols(self) -> dict[str, sp.Symbol]:
        table = {n: v.symbol for n, v in self.inputs.items()}
        table.update({n: p.symbol for n, p in self.params.items()})
        table[self.output.name] = self.output.symbol
        table.update({n: plain_symbol(n) for n in (*self.consts, *self.terms, *self.budgets)})
        return table

    @cached_property
    def _substitutions(self) -> dict[sp.Symbol, sp.Expr]:
        """Term and const symbols → fully expanded expressions (terms may use terms)."""
        subs: dict[sp.Symbol, sp.Expr] = {}
        consts = {plain_symbol(n): e for n, e in self.consts.items()}
        deps = {n: [s.name for s in e.free_symbols] for n, e in self.terms.items()}
        for name in topological_order(deps):  # acyclic: checked when the law was built
            subs[plain_symbol(name)] = self.terms[name].xreplace(subs).xreplace(consts)
        return {**subs, **consts}

    def expand(self, e: sp.Expr) -> sp.Expr:
        """Substitute terms and constants into ``e``."""
        return e.xreplace(self._substitutions)  # replacements are already fully expanded

    @cached_property
    def expr(self) -> sp.Expr:
        """The output as a function of inputs and parameters (terms and consts substituted)."""
        return self.expand(self.equation)

    def term(self, name: str) -> sp.Expr:
        """Term ``name`` with every inner term substituted."""
        if name not in self.terms:
            raise LawNameError(f"law {self.name!r} has no term {name!r}",
                               hint=did_you_mean(name, self.terms) or "terms: " + ", ".join(self.terms))
        return self.expand(self.terms[name])

    def budget(self, name: str) -> sp.Expr:
        return self.expand(self.budgets[name])

    def diff(self, var: str, order: int = 1) -> sp.Expr:
        """∂ⁿ expr / ∂ varⁿ."""
        return sp.diff(self.expr, self.symbol(var), order)

    def elasticity(self, var: str) -> sp.Expr:
        """∂ log(output) / ∂ log(var) = (var / output) · ∂ output / ∂ var."""
        x = self.symbol(var)
        return sp.simplify(x * sp.diff(self.expr, x) / self.expr)

    @cached_property
    def fingerprint(self) -> str:
        """A string that is equal for laws with the same content (used as a cache key)."""
        import json

        return json.dumps(self.to_dict(), sort_keys=True, default=str)

    @property
    def free_params(self) -> tuple[str, ...]:
        return tuple(n for n, p in self.params.items() if p.is_free)

    # ---- values and evaluation
    def value_set(self, name: str) -> dict[str, float]:
        """Published values ``name`` for the parameters, with tied/fixed ones filled in."""
        if name not in self.values:
            raise LawNameError(f"law {self.name!r} has no value set {name!r}",
                               hint=did_you_mean(name, self.values)
                               or "value sets: " + (", ".join(self.values) or "none"))
        return self.complete_values(self.values[name].values)

    def complete_values(self, values: Mapping[str, float]) -> dict[str, float]:
        """Fill fixed and tied parameters from ``values`` (tied ones in dependency order).

        Raises :class:`~lawkit.errors.ValuesError` for a name that is not a parameter, a
        missing free parameter, a value that is not a finite real number, or one outside
        the parameter's bounds (closed: a fitted value may sit on an open bound).
        """
        out: dict[str, float] = {}
        for k, v in values.items():
            p = self.params.get(k)
            if p is None:
                raise ValuesError(f"{k!r} is not a parameter of law {self.name!r}; "
                                  + (did_you_mean(k, self.params) or
                                     "parameters: " + (", ".join(self.params) or "none")))
            out[k] = _finite(v, f"the value of {k!r} for law {self.name!r}")
            if not p.lower <= out[k] <= p.upper:
                raise ValuesError(f"value {out[k]:g} of {k!r} is outside its bounds "
                                  f"({p.bounds_text()}) in law {self.name!r}")
        missing = [n for n in self.free_params if n not in out]
        if missing:
            raise ValuesError(f"values for law {self.name!r} lack parameter(s): {', '.join(missing)}")
        pending = {n: [s.name for s in p.fixed.free_symbols] for n, p in self.params.items()
                   if n not in out and p.fixed is not None}
        for n in topological_order(pending):
            fixed = self.params[n].fixed
            env = {s: out[s.name] for s in fixed.free_symbols if s.name in out}
            out[n] = _finite(fixed.xreplace(env), f"tied parameter {n!r} of law {self.name!r}")
        return out

    def evaluate(self, values: str | Mapping[str, float], **inputs) -> np.ndarray:
        """The output at ``inputs`` (arrays broadcast) under a value set or a dict of values.

        >>> law.evaluate("hoffmann2022", N=70e9, D=1.4e12)   # doctest: +SKIP
        """
        from .backends.numpy import evaluate

        params = self.value_set(values) if isinstance(values, str) else self.complete_values(values)
        missing = [n for n in self.inputs if n not in inputs and self.symbol(n) in self.expr.free_symbols]
        if missing:
            raise LawkitError(f"evaluate() needs input(s) {', '.join(missing)} for law {self.name!r}")
        env = {**params, **inputs}
        return evaluate(self.expr, {s.name: np.asarray(env[s.name], dtype=float)
                                    for s in self.expr.free_symbols})

    # ---- printing
    def latex(self) -> str:
        """``output = expr`` in LaTeX, with the terms listed first."""
        lines = [f"{sp.latex(sp.Symbol(n))} = {sp.latex(e)}" for n, e in self.terms.items()]
        lines.append(f"{sp.latex(self.output.symbol)} = {sp.latex(self.equation)}")
        return r" \\ ".join(lines)

    def _repr_latex_(self) -> str:
        return r"$\begin{aligned}" + self.latex().replace(" = ", " &= ") + r"\end{aligned}$"

    def __repr__(self) -> str:
        return f"<Law {self.name}: {self.output.name} = {self.equation}>"

    def to_dict(self) -> dict:
        """The JSON form used by ``lawkit check --json``."""
        def bound(x: float):
            return None if math.isinf(x) else x

        return {
            "name": self.name,
            "citation": self.citation,
            "extends": self.parent,
            "inputs": list(self.inputs),
            "output": self.output.name,
            "descriptions": {n: v.description for n, v in (*self.inputs.items(),
                                                           (self.output.name, self.output))},
            "params": {n: {"lower": bound(p.lower), "upper": bound(p.upper),
                           "lower_open": p.lower_open, "upper_open": p.upper_open,
                           "fixed": None if p.fixed is None else str(p.fixed), "init": p.init}
                       for n, p in self.params.items()},
            "consts": {n: str(e) for n, e in self.consts.items()},
            "terms": {n: str(e) for n, e in self.terms.items()},
            "equation": str(self.equation),
            "expr": str(self.expr),
            "budgets": {n: str(e) for n, e in self.budgets.items()},
            "values": {n: dict(v.values) for n, v in self.values.items()},
            "value_citations": {n: v.citation for n, v in self.values.items()},
        }
