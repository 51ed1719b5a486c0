"""Many optima of one problem at once (budgets of a frontier, bootstrap parameter draws).

Closed forms are evaluated on arrays; numeric optima are found by one batched solve: every
start is evaluated for every problem instance, the best few per instance are refined
together, and the second-order check runs vectorised.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import AnalysisError
from ._reduce import Reduced


def _stack(envs: list[dict]) -> dict[str, np.ndarray]:
    return {n: np.array([e[n] for e in envs], dtype=float) for n in (envs[0] if envs else {})}


def optima_batch(problem: Reduced, envs: list[dict], *, method: str = "auto",
                 start: dict[str, float] | None = None, strict: bool = True):
    """Optimum for each environment; returns (points, method).  Each point maps the over
    variables, the environment's inputs/budget and the target's name to numbers (NaN where
    ``strict`` is False and that instance has no valid minimum)."""
    import jax
    import jax.numpy as jnp

    from ..backends.numpy import evaluate

    env = _stack(envs)
    n = len(envs)
    closed = problem.closed_form if method != "numeric" else None
    free = problem.free
    if closed is not None:
        x = np.asarray(evaluate(closed[free[0]], env), dtype=float) * np.ones(n)
        T = np.log(np.where(x > 0, x, np.nan))[:, None]
        used = "analytic"
    elif not free:
        T, used = np.zeros((n, 0)), "numeric"
    else:
        from ..fitting.solve import _refine

        value = problem.jax_functions[0]
        jenv = {k: jnp.asarray(v) for k, v in env.items()}
        k = len(free)
        if start is not None:
            U = np.tile([math.log(start[v]) for v in free], (n, 1))
        else:
            axis = np.linspace(-8.0, 50.0, 30 if k <= 2 else 12)
            U0 = jnp.asarray(np.array(np.meshgrid(*[axis] * k, indexing="ij")).reshape(k, -1).T)
            F = np.asarray(_grid_values(value, U0, jenv))
            F = np.where(np.isfinite(F), F, np.inf)
            U = np.asarray(U0)[np.argmin(F, axis=1)]
        u, f, _it, done = _refine(value, jnp.asarray(U), (jenv,), 1000)
        T = np.where(np.asarray(done)[:, None], np.asarray(u), np.nan)
        used = "numeric"
    ok = _check(problem, T, env) if free else np.ones(n, dtype=bool)
    if strict and not ok.all():
        bad = int(np.flatnonzero(~ok)[0])
        raise AnalysisError(f"no valid minimum for instance {bad} "
                            f"({', '.join(f'{k}={envs[bad][k]:g}' for k in envs[bad])})")
    point = {v: np.where(ok, np.exp(T[:, i]), np.nan) for i, v in enumerate(free)}
    target, elim = problem.numpy_functions
    full = {**env, **point}
    if problem.eliminated is not None:
        point[problem.eliminated] = np.asarray(elim(full)) * np.ones(n)
    value = np.asarray(target(full)) * np.ones(n)
    law_inputs = set(problem.law.inputs) | {problem.budget_name}
    rows = []
    for i in range(n):
        row = {k: float(v[i]) for k, v in point.items()}
        row.update({k: float(env[k][i]) for k in env if k in law_inputs})
        row[problem.target_name] = float(value[i]) if ok[i] else math.nan
        rows.append(row)
    return rows, used


_GRID: dict = {}


def _grid_values(value, U0, jenv):
    """f[instance, start], compiled once per target function."""
    import jax

    if value not in _GRID:
        _GRID[value] = jax.jit(jax.vmap(lambda e, U: jax.vmap(lambda u: value(u, e))(U),
                                        in_axes=(0, None)))
    return _GRID[value](jenv, U0)


def _check(problem: Reduced, T: np.ndarray, env: dict) -> np.ndarray:
    """Vectorised second-order check (as :func:`~lawkit.analysis.optimum.check_minimum`)."""
    import jax
    import jax.numpy as jnp

    value, grad, hess = problem.jax_functions[4], problem.jax_functions[1], problem.jax_functions[2]
    finite = np.isfinite(T).all(axis=1)
    t = jnp.asarray(np.where(finite[:, None], T, 0.0))
    jenv = {k: jnp.asarray(v) for k, v in env.items()}
    g = np.asarray(jax.vmap(grad)(t, jenv))
    h = np.asarray(jax.vmap(hess)(t, jenv))
    f = np.abs(np.asarray(jax.vmap(value)(t, jenv)))
    scale = np.maximum(f, 1e-300)
    with np.errstate(invalid="ignore"):
        small = np.max(np.abs(g), axis=1) <= 1e-6 * scale
        eig = np.array([np.min(np.linalg.eigvalsh(x)) if np.isfinite(x).all() else -np.inf
                        for x in h])
    return finite & small & (eig > -1e-9 * scale)
