"""Initial points for the multi-start solver, as natural parameter values (S, k).

* ``"grid"`` (default): a product grid per parameter from its bounds (its ``~`` initial
  value alone when the law gives one); above ``max_starts`` points, a seeded random subset.
* an integer ``S``: S seeded uniform draws in the unconstrained box.
* a mapping ``{name: [values…]}``: the product of the given values (others from the grid).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import numpy as np

from ..errors import FitError
from .params import Layout

def _axis(layout: Layout, i: int, user: Mapping | None) -> list[float]:
    s = layout.slots[i]
    if user and s.label in user:
        return [float(v) for v in np.atleast_1d(user[s.label])]
    if user and s.name in user:
        return [float(v) for v in np.atleast_1d(user[s.name])]
    init = layout.law.params[s.name].init
    if init is not None:
        return [init]
    return s.transform.start_values()


def make_starts(layout: Layout, starts="grid", *, seed: int = 0, max_starts: int = 4096) -> np.ndarray:
    """Natural-space start points, shape (S, k)."""
    rng = np.random.default_rng(seed)
    if isinstance(starts, (int, np.integer)) and not isinstance(starts, bool):
        if starts < 1:
            raise FitError(f"the number of starts must be at least 1, got {starts}")
        lo = np.array([s.transform.box_u[0] for s in layout.slots])
        hi = np.array([s.transform.box_u[1] for s in layout.slots])
        u = rng.uniform(lo, hi, size=(int(starts), layout.k))
        return np.stack([np.asarray(s.transform.forward(u[:, i]))
                         for i, s in enumerate(layout.slots)], axis=1)
    if isinstance(starts, np.ndarray):
        if starts.ndim != 2 or starts.shape[1] != layout.k:
            raise FitError(f"start array must have shape (S, {layout.k}) for parameters "
                           f"{', '.join(s.label for s in layout.slots)}")
        return starts.astype(float)
    if starts == "grid" or isinstance(starts, Mapping):
        user = starts if isinstance(starts, Mapping) else None
        if user:
            labels = {s.label for s in layout.slots} | {s.name for s in layout.slots}
            unknown = set(user) - labels
            if unknown:
                raise FitError(f"start grid names unknown parameter(s): {', '.join(sorted(unknown))}")
        axes = [_axis(layout, i, user) for i in range(layout.k)]
        total = int(np.prod([len(a) for a in axes]))
        if total <= max_starts or (user and total <= 100_000):  # a user's grid is run whole
            return np.array(list(itertools.product(*axes)), dtype=float).reshape(total, layout.k)
        picks = rng.integers(0, [len(a) for a in axes], size=(max_starts, layout.k))
        return np.array([[axes[j][picks[i, j]] for j in range(layout.k)] for i in range(max_starts)])
    raise FitError(f"starts must be 'grid', an integer, a mapping or an array, not {starts!r}")
