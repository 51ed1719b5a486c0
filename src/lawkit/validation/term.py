"""A law seen from one of its terms: the term's own parameters and inputs, its
full-precision reference value, the reference law, and the inversion law ↦ term value.

For ``N_eff = N·(1 − e^(−P_w/γ_w))`` in ``L = E + A/N_eff^α + B/D^β``:

* own parameters: γ_w (in the term, nowhere else); own inputs: P_w (the grouping default);
* reference value: the term with its own inputs → ∞, ``N_eff → N``;
* reference law: the law with the term replaced by its reference value (Chinchilla), whose
  parameters are identifiable on the reference rows while γ_w is not;
* inversion: for a row's measured loss y, the T with L(…, N_eff = T) = y (closed form when
  SymPy finds one, else a bracketed root search in log T).

A term whose reference value is 0 (an additive penalty such as δ_PTQ) is reported in
absolute units; any other term relative to its reference value (N_eff/N).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import sympy as sp

from ..errors import LawkitError, did_you_mean
from ..law import Variable, plain_symbol

BASELINE = "L_baseline"


class ValidationError(LawkitError):
    """A validation that cannot be run as asked."""


@dataclass(frozen=True, eq=False)
class TermView:
    law: object
    name: str
    with_inputs: tuple[str, ...] = ()

    def __post_init__(self):
        law = self.law
        if self.name not in law.terms:
            raise ValidationError(f"law {law.name!r} has no term {self.name!r}"
                                  + (f"; {h}" if (h := did_you_mean(self.name, law.terms))
                                     else f" (terms: {', '.join(law.terms) or 'none'})"))
        if self.symbol not in self.outer.free_symbols:
            raise ValidationError(f"the output {law.output.name} of law {law.name!r} does not "
                                  f"depend on term {self.name!r}")

    @property
    def symbol(self) -> sp.Symbol:
        return plain_symbol(self.name)

    @cached_property
    def expr(self) -> sp.Expr:
        return self.law.term(self.name)

    @cached_property
    def outer(self) -> sp.Expr:
        """The output with every other term expanded and this one kept as a symbol."""
        law = self.law
        subs = {plain_symbol(n): law.term(n) for n in law.terms if n != self.name}
        subs.update({plain_symbol(n): e for n, e in law.consts.items()})
        e = law.equation
        for _ in range(len(law.terms) + 1):
            e = e.xreplace({k: v for k, v in subs.items()})
        return e

    @cached_property
    def own_params(self) -> tuple[str, ...]:
        inside = {s.name for s in self.expr.free_symbols}
        outside = {s.name for s in self.outer.free_symbols}
        return tuple(n for n in self.law.params if n in inside and n not in outside)

    @cached_property
    def own_inputs(self) -> tuple[str, ...]:
        """The term's precision-like inputs (the default grouping): inputs of the term,
        absent from the rest of the law, at which the term stays finite both as the input
        → 0 and → ∞ (``P_w`` in N·(1 − e^(−P_w/γ)), not ``N``).  ``with_inputs`` overrides."""
        if self.with_inputs:
            return tuple(self.with_inputs)
        inside = {s.name for s in self.expr.free_symbols}
        outside = {s.name for s in self.outer.free_symbols}
        out = []
        for n in self.law.inputs:
            if n not in inside or n in outside:
                continue
            x = self.law.symbol(n)
            ends = [self.expr.subs(x, v) for v in (0, sp.oo)]
            if not any(e.has(sp.oo, sp.zoo, sp.nan, -sp.oo) for e in ends):
                out.append(n)
        return tuple(out)

    @cached_property
    def reference_value(self) -> sp.Expr:
        """The term at full precision: its own inputs → ∞."""
        ref = self.expr.subs({self.law.symbol(n): sp.oo for n in self.own_inputs})
        if ref.has(sp.oo, sp.zoo, sp.nan) or {s.name for s in ref.free_symbols} & set(
                self.own_params):
            raise ValidationError(f"term {self.name!r} has no finite limit as "
                                  f"{', '.join(self.own_inputs) or 'its inputs'} → ∞ "
                                  f"(got {ref}); it cannot be given a reference value")
        return ref

    @property
    def relative(self) -> bool:
        return self.reference_value != 0

    @cached_property
    def reference_law(self):
        """The law with the term at its reference value, without the term's own parameters."""
        law = self.law
        terms = dict(law.terms)
        terms[self.name] = self.reference_value
        params = {n: p for n, p in law.params.items() if n not in self.own_params}
        return dataclasses.replace(law, name=f"{law.name}@{self.name}=ref", terms=terms,
                                   params=params, values={})

    @cached_property
    def paired(self) -> "TermView":
        """The same term seen against each row's own full-precision loss (``L_baseline``, an
        input): ``L = L_baseline + term``.  Only for an additive term (reference value 0)."""
        law = self.law
        if self.relative:
            raise ValidationError(f"baseline= pairs an additive term (reference value 0) with "
                                  f"each row's own full-precision loss; term {self.name!r} is "
                                  f"relative (its reference value is {self.reference_value})")
        inside = {s.name for s in self.expr.free_symbols}
        base = sp.Symbol(BASELINE, positive=True)
        inputs = {**law.inputs, BASELINE: Variable(BASELINE, "the row's own full-precision "
                                                   "loss", base)}
        paired = dataclasses.replace(
            law, name=f"{law.name}@{self.name}|paired", inputs=inputs, values={},
            params={n: p for n, p in law.params.items() if n in inside},
            terms={self.name: self.expr}, equation=base + self.symbol)
        return TermView(paired, self.name, self.own_inputs)

    @cached_property
    def inverse(self) -> sp.Expr | None:
        """T as a closed-form function of the output and everything else, or None."""
        from ..analysis._solve import solve_for

        y = plain_symbol("_y")
        t = sp.Symbol("_T", positive=True)
        return solve_for(self.outer.xreplace({self.symbol: t}) - y, t)

    def measure(self, env: dict, y: np.ndarray, ref: np.ndarray) -> np.ndarray:
        """Per-row T with the law's output = y (NaN where no T reaches y)."""
        from ..backends.numpy import compile_expression

        y = np.asarray(y, dtype=float)
        out = np.full(len(y), np.nan)
        if self.inverse is not None:
            t = sp.Symbol("_T", positive=True)
            f = compile_expression(self.inverse.xreplace({t: plain_symbol("_T")}))
            out = np.asarray(f({**env, "_y": y}), dtype=float) * np.ones(len(y))
        bad = ~np.isfinite(out)
        if self.relative:
            bad |= out <= 0
        if bad.any():
            g = compile_expression(self.outer)
            for i in np.flatnonzero(bad):
                out[i] = self._root(g, {k: (v[i] if np.ndim(v) else v) for k, v in env.items()},
                                    y[i], ref[i])
        return out

    def _root(self, g, env, y, ref) -> float:
        from scipy.optimize import brentq

        if self.relative:
            scale = abs(ref) if ref != 0 else 1.0
            grid = np.linspace(math.log(scale) - 40, math.log(scale) + 40, 161)
            vals = np.array([float(g({**env, self.name: math.exp(s)})) - y for s in grid])
            to_t = math.exp
        else:
            grid = np.concatenate([-np.logspace(3, -12, 80), [0.0], np.logspace(-12, 3, 80)])
            vals = np.array([float(g({**env, self.name: s})) - y for s in grid])
            to_t = float
        ok = np.isfinite(vals[:-1]) & np.isfinite(vals[1:]) & (np.sign(vals[:-1]) != np.sign(
            vals[1:]))
        if not ok.any():
            return math.nan
        i = int(np.flatnonzero(ok)[0])
        s = brentq(lambda s: float(g({**env, self.name: to_t(s)})) - y, grid[i], grid[i + 1],
                   xtol=1e-14)
        return to_t(s)
