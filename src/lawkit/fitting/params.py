"""Parameter layout: which parameters are fitted, how bounds become unconstrained
coordinates, and how fixed, tied and per-group parameters are filled in.

Transforms (``u`` is the unconstrained coordinate the solver moves):

* ``(lo, ∞)``:  ``p = lo + exp(u)``  ("log")
* ``(−∞, hi)``: ``p = hi − exp(u)``  ("log-upper")
* ``(lo, hi)``: ``p = lo + (hi − lo)·sigmoid(u)``  ("logit")
* unbounded:    ``p = u``  ("identity")
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np

from ..backends.jax import compile_expression
from ..errors import FitError, did_you_mean


@dataclass(frozen=True)
class Slot:
    """One fitted coordinate: parameter ``name`` (for group ``level`` if per-group)."""

    name: str
    level: object
    transform: str
    lower: float
    upper: float

    @property
    def label(self) -> str:
        return self.name if self.level is None else f"{self.name}[{self.level}]"


def _transform(lower: float, upper: float) -> str:
    if math.isinf(lower) and math.isinf(upper):
        return "identity"
    if math.isinf(upper):
        return "log"
    if math.isinf(lower):
        return "log-upper"
    return "logit"


def to_natural(transform: str, lo: float, hi: float, u):
    if transform == "log":
        return lo + jnp.exp(u)
    if transform == "log-upper":
        return hi - jnp.exp(u)
    if transform == "logit":
        return lo + (hi - lo) / (1 + jnp.exp(-u))
    return u


def to_unconstrained(transform: str, lo: float, hi: float, p: np.ndarray) -> np.ndarray:
    """Inverse of :func:`to_natural`; points on or past a bound move just inside it."""
    p = np.asarray(p, dtype=float)
    if transform == "log":
        return np.log(np.maximum(p - lo, 1e-8 * max(1.0, abs(lo))))
    if transform == "log-upper":
        return np.log(np.maximum(hi - p, 1e-8 * max(1.0, abs(hi))))
    if transform == "logit":
        t = np.clip((p - lo) / (hi - lo), 1e-6, 1 - 1e-6)
        return np.log(t / (1 - t))
    return p


class Layout:
    """Maps the solver's vector ``u`` to the law's parameters (natural values by name)."""

    def __init__(self, law, *, fix: Mapping[str, float] | None = None,
                 per_group: tuple[str, ...] = (), levels: tuple = ()):
        fix = dict(fix or {})
        for name in [*fix, *per_group]:
            if name not in law.params:
                raise FitError(f"law {law.name!r} has no parameter {name!r}"
                               + (f"; {h}" if (h := did_you_mean(name, law.params)) else ""))
        self.law = law
        self.fixed = {n: float(v) for n, v in fix.items()}
        self.ties = {n: p.fixed for n, p in law.params.items()
                     if p.fixed is not None and n not in self.fixed}
        self.free = [n for n in law.free_params if n not in self.fixed]
        self.per_group = tuple(per_group)
        self.levels = tuple(levels)
        slots = []
        for n in self.free:
            p = law.params[n]
            kind = _transform(p.lower, p.upper)
            for level in (self.levels if n in self.per_group else (None,)):
                slots.append(Slot(n, level, kind, p.lower, p.upper))
        self.slots = tuple(slots)
        self._tie_fns = {n: compile_expression(e) for n, e in self.ties.items()}
        self._tie_order = self._order_ties()

    @property
    def k(self) -> int:
        return len(self.slots)

    def _order_ties(self) -> list[str]:
        order, done = [], set(self.free) | set(self.fixed)
        pending = dict(self.ties)
        while pending:
            ready = [n for n, e in pending.items() if {s.name for s in e.free_symbols} <= done]
            if not ready:
                raise FitError("tied parameters depend on each other in a cycle: "
                               + ", ".join(pending))
            for n in ready:
                order.append(n)
                done.add(n)
                del pending[n]
        return order

    def natural(self, u, groups=None, *, transformed: bool = True) -> dict:
        """``u`` → ``{param: value}``; per-group parameters become per-row arrays.

        With ``transformed=False``, ``u`` already holds natural slot values.
        """
        def value(s, x):
            return to_natural(s.transform, s.lower, s.upper, x) if transformed else x

        out: dict = dict(self.fixed)
        i = 0
        for n in self.free:
            if n in self.per_group:
                m = len(self.levels)
                vals = jnp.stack([value(s, u[i + j]) for j, s in enumerate(self.slots[i:i + m])])
                out[n] = vals[groups]
                i += m
            else:
                s = self.slots[i]
                out[n] = value(s, u[i])
                i += 1
        for n in self._tie_order:
            out[n] = self._tie_fns[n](out)
        return out

    def slot_values(self, u) -> np.ndarray:
        """Natural value of each slot (one per fitted coordinate)."""
        return np.array([float(to_natural(s.transform, s.lower, s.upper, u[i]))
                         for i, s in enumerate(self.slots)])

    def from_slot_values(self, values: np.ndarray) -> np.ndarray:
        """Natural slot values (…, k) → ``u`` (…, k)."""
        values = np.asarray(values, dtype=float)
        cols = [to_unconstrained(s.transform, s.lower, s.upper, values[..., i])
                for i, s in enumerate(self.slots)]
        return np.stack(cols, axis=-1)
