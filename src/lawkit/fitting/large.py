"""Fits on many rows: memory bounded by chunks, time linear in the rows.

Above ``LARGE_ROWS`` rows a fit runs in two stages:

1. **screen** — the usual multi-start solve (:func:`lawkit.fitting.solve.minimize`) on a
   fixed, seeded subsample of ``SCREEN_ROWS`` rows picks the basins;
2. **polish** — the ``POLISH`` best distinct end points are iterated to convergence on all
   rows, with the objective summed over row chunks of ``CHUNK`` rows
   (Σᵢ wᵢρ(rᵢ) = Σ_chunks Σ_{i∈chunk} wᵢρ(rᵢ); each chunk is rematerialised in the
   backward pass, so memory does not grow with the rows).

Starts are evaluated in groups so that starts × rows stays bounded
(:func:`lawkit.fitting.solve.evaluate_starts`).  Below
``LARGE_ROWS`` nothing here runs and fits are computed exactly as before.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from .solve import Solution, _refine_rows, minimize

LARGE_ROWS = 100_000
SCREEN_ROWS = 5_000
CHUNK = 1 << 15
POLISH = 4


def _pad_rows(a, n_pad, fill):
    a = jnp.asarray(a)
    return jnp.concatenate([a, jnp.full((n_pad,), fill, dtype=a.dtype)]) if n_pad else a


def chunk_args(args: tuple, chunk: int = CHUNK) -> tuple:
    """(w, X, y, groups, δ) with every row array reshaped to (chunks, chunk); padded rows
    get weight 0 (and harmless values 1), so they add nothing to the objective."""
    w, X, y, groups, delta = args
    n = int(jnp.shape(w)[0])
    pad = (-n) % chunk

    def shape(a, fill):
        return _pad_rows(a, pad, fill).reshape(-1, chunk)

    return (shape(w, 0.0), {k: shape(v, 1.0) for k, v in X.items()}, shape(y, 1.0),
            None if groups is None else shape(groups, 0), delta)


def chunked(value: Callable) -> Callable:
    """``value(u, w, X, y, groups, δ)`` summed over row chunks (args from :func:`chunk_args`)."""
    @jax.checkpoint
    def part(u, w, X, y, groups, delta):
        return value(u, w, X, y, groups, delta)

    def fun(u, w, X, y, groups, delta):
        def body(total, rows):
            wi, Xi, yi, gi = rows
            return total + part(u, wi, Xi, yi, gi, delta), None
        total, _ = jax.lax.scan(body, jnp.zeros((), dtype=jnp.result_type(float)),
                                (w, X, y, groups))
        return total
    return fun


_CHUNKED: dict = {}


def _chunked_for(value):
    if value not in _CHUNKED:
        _CHUNKED[value] = chunked(value)
    return _CHUNKED[value]


def screen_rows(n: int, seed: int = 0, m: int = SCREEN_ROWS) -> np.ndarray:
    """A fixed, seeded, sorted subsample of ``m`` row indices out of ``n``."""
    return np.sort(np.random.default_rng(seed).choice(n, size=min(m, n), replace=False))


def minimize_large(value: Callable, U0: np.ndarray, args: tuple, *, max_iter: int = 1000,
                   seed: int = 0) -> tuple[Solution, Callable, tuple]:
    """Screen on a subsample, polish the best distinct end points on all rows.

    Returns the solution (polished starts carry full-data objectives; the others NaN and
    not converged), the row-chunked objective and its arguments (for later polishing)."""
    w, X, y, groups, delta = args
    idx = jnp.asarray(screen_rows(int(jnp.shape(w)[0]), seed))
    sub = (w[idx], {k: v[idx] for k, v in X.items()}, y[idx],
           None if groups is None else groups[idx], delta)
    s = minimize(value, U0, sub, max_iter=max_iter, seed=seed, rows=len(idx))
    f_rank = np.where(np.isfinite(s.f), s.f, np.inf)
    order, chosen, seen = np.argsort(f_rank, kind="stable"), [], set()
    for i in order:
        if not np.isfinite(f_rank[i]) or len(chosen) >= POLISH:
            break
        key = tuple(np.round(s.u[i], 3))
        if key not in seen:
            seen.add(key)
            chosen.append(i)
    fun, cargs = _chunked_for(value), chunk_args(args)
    u, f, iterations, converged = _refine_rows(
        fun, s.u.copy(), np.full(len(U0), np.nan), np.array(chosen, dtype=int), cargs,
        s.iterations.copy(), max_iter)
    return Solution(u, f, iterations, converged, s.f_start), fun, cargs


def diagnostics_chunked(obj, theta, w, X, y, groups, delta, chunk: int = CHUNK):
    """``obj.diagnostics`` over row chunks: residuals, per-row ρ and
    gradients concatenated, Hessians summed; returns (residuals, H, G, ρ)."""
    n = int(jnp.shape(w)[0])
    R, G, P, H = [], [], [], 0.0
    for lo in range(0, n, chunk):
        sl = slice(lo, min(n, lo + chunk))
        m = sl.stop - sl.start
        pad = chunk - m

        def cut(a, fill):
            return _pad_rows(a[sl], pad, fill)
        wc, Xc, yc = cut(w, 0.0), {k: cut(v, 1.0) for k, v in X.items()}, cut(y, 1.0)
        gc = None if groups is None else cut(groups, 0)
        r, h, g, rho = obj.diagnostics(theta, wc, Xc, yc, gc, delta)
        R.append(np.asarray(r)[:m]), G.append(np.asarray(g)[:m]), P.append(np.asarray(rho)[:m])
        H = H + np.asarray(h)
    return np.concatenate(R), H, np.concatenate(G), np.concatenate(P)
