"""Laws → pure JAX functions ``f(params, inputs)`` (float64, jit- and vmap-able).

The SymPy tree is walked once through a table of ``jnp`` functions (see ``_walk.py``);
no source code is generated.  Importing this module changes no JAX setting: lawkit's own
computations run inside :func:`double_precision`, which turns on 64-bit floats for the
calling thread only while they run.  The on-disk compilation cache is opt-in
(:func:`enable_compilation_cache`; the ``lawkit`` command line turns it on).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import sympy as sp

from ._walk import compile_expr, table_for

TABLE = table_for(jnp, jsp, "jax")

Array = jax.Array


def double_precision():
    """Context manager: 64-bit JAX floats inside, the caller's setting restored after."""
    return jax.enable_x64(True)


def in_double_precision(fn: Callable) -> Callable:
    """Decorator: run ``fn`` under :func:`double_precision`."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with double_precision():
            return fn(*args, **kwargs)
    return wrapper


def enable_compilation_cache(path: str | None = None) -> str | None:
    """Keep compiled XLA programs on disk so a new process does not compile the same fit
    again: ``path``, else ``$LAWKIT_CACHE_DIR``, else ``~/.cache/lawkit/jax``
    (``LAWKIT_CACHE_DIR=off`` disables).  This sets a process-wide JAX option; only the
    ``lawkit`` command line calls it by itself.  Traced programs go to ``<dir>/programs``
    (:mod:`lawkit.backends.programs`).  Returns the directory used, or None."""
    where = path or os.environ.get("LAWKIT_CACHE_DIR",
                                   os.path.join(os.path.expanduser("~"), ".cache", "lawkit", "jax"))
    if where.lower() in ("", "0", "off", "none"):
        return None
    try:
        os.makedirs(where, exist_ok=True)
        jax.config.update("jax_compilation_cache_dir", where)
        # every program, however quick to compile: a new process then compiles nothing
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    except (OSError, AttributeError):  # read-only home or an old JAX: compile every time
        return None
    from . import programs

    programs.use_directory(os.path.join(where, "programs"))
    return where


def compile_expression(expr: sp.Expr, positive: frozenset[str] = frozenset()) -> Callable:
    """``expr`` → ``f(env)`` with ``env`` a mapping of symbol name → array (float64 when
    called under :func:`double_precision`); ``positive``: symbols known > 0 (see
    :func:`lawkit.backends._walk.compile_expr`)."""
    node = compile_expr(expr, TABLE, jnp, "jax", positive)
    return lambda env: jnp.asarray(node(env), dtype=jnp.float64)


def compile_law(law, positive: frozenset[str] = frozenset()
                ) -> Callable[[Mapping[str, Array], Mapping[str, Array]], Array]:
    """``law.expr`` → ``f(params, inputs)``; both are mappings from names to arrays."""
    node = compile_expression(law.expr, positive)
    return lambda params, inputs: node({**inputs, **params})
