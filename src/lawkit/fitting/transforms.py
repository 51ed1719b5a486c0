"""Parameter transforms: how a bounded parameter ``p`` becomes the unconstrained coordinate
``u`` the solver moves.  One class per kind of bounds, each owning its forward map, its
inverse, its start grid and its saturation test:

* :class:`Identity`  unbounded:    ``p = u``
* :class:`Lower`     ``(lo, ∞)``:  ``p = lo + e^u``
* :class:`Upper`     ``(−∞, hi)``: ``p = hi − e^u``
* :class:`Interval`  ``(lo, hi)``: ``p = lo + (hi − lo)·σ(u)``   (σ = ``jax.nn.sigmoid``)

Only the interval transform saturates (σ is flat in both tails, so the solver can stall
there with the optimum outside); a parameter is "at its bound" when its natural value lies
within a small relative distance of a declared finite bound (:meth:`Transform.at_bound`),
whatever its size — a parameter of 8.8e13 above a bound of 0 is not at it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np

_AT_BOUND = 1e-7  # relative distance to a bound that counts as "at" it


@dataclass(frozen=True)
class Transform:
    """Bounds ``lower < p < upper`` (either may be infinite)."""

    lower: float = -math.inf
    upper: float = math.inf

    name: ClassVar[str] = "identity"
    grid_u: ClassVar[tuple[float, ...]] = (-1.0, 0.0, 1.0)  # start grid, unconstrained units
    box_u: ClassVar[tuple[float, float]] = (-3.0, 3.0)       # random starts, unconstrained

    def forward(self, u):
        """u → p (JAX or NumPy arrays)."""
        return u

    def inverse(self, p) -> np.ndarray:
        """p → u; points on or past a bound move just inside it."""
        return np.asarray(p, dtype=float)

    def natural(self, u) -> float:
        return float(self.forward(u))

    def start_values(self) -> list[float]:
        return [float(self.forward(np.float64(u))) for u in self.grid_u]

    def at_bound(self, p: float) -> bool:
        """Whether natural value ``p`` sits on a finite declared bound."""
        for b in (self.lower, self.upper):
            if math.isfinite(b) and abs(p - b) <= _AT_BOUND * max(1.0, abs(b), self._width()):
                return True
        return False

    def _width(self) -> float:
        w = self.upper - self.lower
        return w if math.isfinite(w) else 0.0


def _xp(u):
    return np if isinstance(u, (np.ndarray, np.generic, float, int)) else jnp


@dataclass(frozen=True)
class Identity(Transform):
    pass


@dataclass(frozen=True)
class Lower(Transform):
    name = "log"
    grid_u = (-2.0, 0.0, 2.0, 5.0, 10.0, 20.0, 30.0)
    box_u = (-4.0, 8.0)

    def forward(self, u):
        return self.lower + _xp(u).exp(u)

    def inverse(self, p) -> np.ndarray:
        p = np.asarray(p, dtype=float)
        return np.log(np.maximum(p - self.lower, 1e-8 * max(1.0, abs(self.lower))))

    def at_bound(self, p: float) -> bool:
        return abs(p - self.lower) <= _AT_BOUND * max(1.0, abs(self.lower))


@dataclass(frozen=True)
class Upper(Transform):
    name = "log-upper"
    grid_u = (-2.0, 0.0, 2.0, 5.0)
    box_u = (-4.0, 8.0)

    def forward(self, u):
        return self.upper - _xp(u).exp(u)

    def inverse(self, p) -> np.ndarray:
        p = np.asarray(p, dtype=float)
        return np.log(np.maximum(self.upper - p, 1e-8 * max(1.0, abs(self.upper))))

    def at_bound(self, p: float) -> bool:
        return abs(p - self.upper) <= _AT_BOUND * max(1.0, abs(self.upper))


@dataclass(frozen=True)
class Interval(Transform):
    name = "logit"
    grid_u = (-1.4, 0.0, 1.4)
    box_u = (-3.0, 3.0)

    def forward(self, u):
        if _xp(u) is np:
            s = np.where(u >= 0, 1 / (1 + np.exp(-np.abs(u))), 1 - 1 / (1 + np.exp(-np.abs(u))))
        else:
            s = jax.nn.sigmoid(u)
        return self.lower + (self.upper - self.lower) * s

    def inverse(self, p) -> np.ndarray:
        t = np.clip((np.asarray(p, dtype=float) - self.lower) / (self.upper - self.lower),
                    1e-6, 1 - 1e-6)
        return np.log(t) - np.log1p(-t)


def transform_for(lower: float, upper: float) -> Transform:
    """The transform for bounds ``(lower, upper)``."""
    if math.isinf(lower) and math.isinf(upper):
        return Identity(lower, upper)
    if math.isinf(upper):
        return Lower(lower, upper)
    if math.isinf(lower):
        return Upper(lower, upper)
    return Interval(lower, upper)
