"""Laws → pure JAX functions ``f(params, inputs)`` (float64, jit- and vmap-able).

The SymPy tree is walked once through a table of ``jnp`` functions (see ``_walk.py``);
no source code is generated.  Importing this module switches JAX to 64-bit floats.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import jax

jax.config.update("jax_enable_x64", True)

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
