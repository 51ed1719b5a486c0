"""Parameter layout: which parameters are fitted, how bounds become unconstrained
coordinates (:mod:`lawkit.fitting.transforms`), and how fixed, tied and per-group
parameters are filled in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np

from ..backends.jax import compile_expression
from ..errors import FitError, did_you_mean
from .transforms import Transform, transform_for


@dataclass(frozen=True)
class Slot:
    """One fitted coordinate: parameter ``name`` (for group ``level`` if per-group)."""

    name: str
    level: object
    transform: Transform

    @property
    def label(self) -> str:
        return self.name if self.level is None else f"{self.name}[{self.level}]"

    @property
    def lower(self) -> float:
        return self.transform.lower

    @property
    def upper(self) -> float:
        return self.transform.upper

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
            kind = transform_for(p.lower, p.upper)
            for level in (self.levels if n in self.per_group else (None,)):
                slots.append(Slot(n, level, kind))
        self.slots = tuple(slots)
        self._tie_fns = {n: compile_expression(e) for n, e in self.ties.items()}
        self._tie_order = self._order_ties()

    @property
    def k(self) -> int:
        return len(self.slots)

    def _order_ties(self) -> list[str]:
        from ..ordering import CycleError, topological_order

        try:
            return topological_order({n: [s.name for s in e.free_symbols]
                                      for n, e in self.ties.items()})
        except CycleError as err:
            raise FitError(f"tied parameters depend on each other in a cycle: {err}") from None

    def natural(self, u, groups=None, *, transformed: bool = True) -> dict:
        """``u`` → ``{param: value}``; per-group parameters become per-row arrays.

        With ``transformed=False``, ``u`` already holds natural slot values.
        """
        def value(s, x):
            return s.transform.forward(x) if transformed else x

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
        u = np.asarray(u, dtype=float)
        return np.array([float(s.transform.forward(u[i])) for i, s in enumerate(self.slots)])

    def from_slot_values(self, values: np.ndarray) -> np.ndarray:
        """Natural slot values (…, k) → ``u`` (…, k)."""
        values = np.asarray(values, dtype=float)
        cols = [s.transform.inverse(values[..., i])
                for i, s in enumerate(self.slots)]
        return np.stack(cols, axis=-1)
