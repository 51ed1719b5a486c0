"""Laws → pure JAX functions ``f(params, inputs)`` (float64, jit- and vmap-able).

The SymPy tree is walked once through a table of ``jnp`` functions (see ``_walk.py``);
no source code is generated.  Importing this module switches JAX to 64-bit floats.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import os

import jax

jax.config.update("jax_enable_x64", True)


def _enable_compilation_cache() -> None:
    """Keep compiled XLA programs on disk (``$LAWKIT_CACHE_DIR`` or ~/.cache/lawkit/jax) so a
    new process does not compile the same fit again; ``LAWKIT_CACHE_DIR=off`` disables it."""
    where = os.environ.get("LAWKIT_CACHE_DIR", os.path.join(os.path.expanduser("~"), ".cache",
                                                            "lawkit", "jax"))
    if where.lower() in ("", "0", "off", "none"):
        return
    try:
        os.makedirs(where, exist_ok=True)
        jax.config.update("jax_compilation_cache_dir", where)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)
    except (OSError, AttributeError):  # read-only home or an old JAX: compile every time
        pass


_enable_compilation_cache()

import jax.numpy as jnp  # noqa: E402
import jax.scipy.special as jsp  # noqa: E402
import sympy as sp  # noqa: E402

from ._walk import compile_expr, table_for  # noqa: E402

TABLE = table_for(jnp, jsp)

Array = jax.Array


def compile_expression(expr: sp.Expr, extra: Mapping[type, Callable] | None = None) -> Callable:
    """``expr`` → ``f(env)`` with ``env`` a mapping of symbol name → array.

    ``extra`` adds or overrides table entries (SymPy head → jnp function).
    """
    table = {**TABLE, **(extra or {})}
    node = compile_expr(expr, table, jnp)
    return lambda env: jnp.asarray(node(env), dtype=jnp.float64)


def compile_law(law) -> Callable[[Mapping[str, Array], Mapping[str, Array]], Array]:
    """``law.expr`` → ``f(params, inputs)``; both are mappings from names to arrays."""
    node = compile_expression(law.expr)
    return lambda params, inputs: node({**inputs, **params})
