"""Dependency ordering, once for the whole package (terms, ties, value completion).

``topological_order({name: names it depends on})`` lists the keys so that each comes after
the keys it depends on (Kahn's algorithm; among names that are ready at the same time, the
one earlier in the mapping goes first).  Dependencies that are not keys are ignored: they
are known from elsewhere (inputs, free parameters).  A cycle raises :class:`CycleError`
carrying the names on one cycle in order, so each caller can point at its own declaration.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping

from .errors import LawkitError


class CycleError(LawkitError):
    """Names that depend on each other in a cycle; ``cycle[i]`` depends on ``cycle[i + 1]``."""

    def __init__(self, cycle: list[str]):
        self.cycle = list(cycle)
        super().__init__(f"{' = '.join([*self.cycle, self.cycle[0]])} form a cycle")

    def __reduce__(self):  # picklable (errors cross process boundaries in sweeps)
        return (CycleError, (self.cycle,))


def topological_order(deps: Mapping[str, Iterable[str]]) -> list[str]:
    """The keys of ``deps``, each after the keys it depends on.

    >>> topological_order({"L": ["x", "N"], "x": ["y"], "y": []})
    ['y', 'x', 'L']
    """
    index = {name: i for i, name in enumerate(deps)}
    needs = {name: sorted({index[d] for d in ds if d in index}) for name, ds in deps.items()}
    users: dict[int, list[int]] = {}
    waiting = {}
    for name, ds in needs.items():
        waiting[index[name]] = len(ds)
        for d in ds:
            users.setdefault(d, []).append(index[name])
    names = list(deps)
    ready = [i for i, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        i = heapq.heappop(ready)
        order.append(names[i])
        for j in users.get(i, ()):
            waiting[j] -= 1
            if waiting[j] == 0:
                heapq.heappush(ready, j)
    if len(order) < len(names):
        raise CycleError(_one_cycle(names, needs, {i for i, n in waiting.items() if n > 0}))
    return order


def _one_cycle(names: list[str], needs: dict[str, list[int]], left: set[int]) -> list[str]:
    """Walk from the first unordered name along unordered dependencies until a name repeats.

    Every unordered name waits on at least one unordered name, so the walk never stops early.
    """
    i, seen, path = min(left), {}, []
    while i not in seen:
        seen[i] = len(path)
        path.append(i)
        i = next(d for d in needs[names[i]] if d in left)
    return [names[j] for j in path[seen[i]:]]
