"""User-registered numeric implementations of SymPy heads, one entry for every backend.

``lawkit.register_function(name, build, numpy=f, jax=g)`` records ``f`` and ``g`` here under
the SymPy head ``build`` returns, so one registration reaches the NumPy and JAX backends.
This module imports neither NumPy nor JAX.
"""

from __future__ import annotations

from collections.abc import Callable

BACKENDS = ("numpy", "jax")

#: SymPy head → {backend name → function over evaluated arguments}
IMPLEMENTATIONS: dict[type, dict[str, Callable]] = {}


def register(head: type, implementations: dict[str, Callable]) -> None:
    """Add ``head`` to every backend; ``implementations`` must name each of :data:`BACKENDS`."""
    missing = [b for b in BACKENDS if not callable(implementations.get(b))]
    if missing:
        from ..errors import LawkitError

        raise LawkitError(f"a numeric implementation of {head.__name__} is needed for backend(s) "
                          f"{', '.join(missing)} (pass {', '.join(f'{b}=...' for b in missing)})")
    IMPLEMENTATIONS[head] = {b: implementations[b] for b in BACKENDS}


def for_backend(name: str) -> dict[type, Callable]:
    return {head: impls[name] for head, impls in IMPLEMENTATIONS.items()}
