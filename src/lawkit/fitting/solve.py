"""Vectorised multi-start minimisation: damped, saddle-free Newton steps, vmapped over starts.

For the small parameter counts of scaling laws (k ≲ 20), an exact Hessian is cheap, and
Newton's method is scale-free: it is not fooled by the tiny objective values that make
L-BFGS stop early (Besiroglu et al. 2024).  Each step solves

    (|H| + λ·s)·Δ = −g,     |H| = Q·|Λ|·Qᵀ  (eigenvalues made positive: no saddle steps)

and is accepted only if it lowers the objective; λ shrinks after an accepted step and
grows after a rejected one (Levenberg–Marquardt style).  ``s`` is the mean |eigenvalue|.

:func:`minimize` evaluates every start once, then iterates the best distinct starts (and a
few random others) to convergence in one batched ``while_loop``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import jax
import jax.numpy as jnp
import numpy as np

from ..backends.programs import program

_LAM0, _LAM_MIN, _LAM_MAX = 1e-3, 1e-12, 1e12
_ELEMENTS = 1 << 22  # starts × rows evaluated at once (memory bound of the screening)
_WIDTH = 16  # lanes stepped at once by the multi-start refine on CPU (its work queue)


@dataclass(frozen=True)
class Solution:
    """Per-start outcome: final points ``u`` (S, k), objectives ``f``, iterations, status."""

    u: np.ndarray
    f: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray
    f_start: np.ndarray


_TRIALS = np.array([0.0, 0.1, 1.0, 10.0, 100.0])  # damping multipliers tried per step


def saddle_free(h, g):
    """H = Q·diag(w)·Qᵀ made positive: (Q, Qᵀg, max(|w|, 1e-14·max|w|), mean|w|), so that a
    damped step is −Q·(Qᵀg/(base + λ·scale)) (non-finite Hessian entries count as 0)."""
    h = jnp.where(jnp.isfinite(h), h, 0.0)
    w, q = jnp.linalg.eigh(0.5 * (h + h.T))
    aw = jnp.abs(w)
    return q, q.T @ g, jnp.maximum(aw, 1e-14 * jnp.max(aw)), jnp.mean(aw) + 1e-300


def _newton_step(fun: Callable, u, f, lam, args):
    """One damped Newton iteration: five damping levels are tried along the same
    eigen-decomposition (cheap: function values only) and the best one is kept."""
    grad = jax.grad(fun)
    h, g = jax.jacfwd(lambda v: (grad(v, *args),) * 2, has_aux=True)(u)  # Hessian and gradient
    q, qg, base, scale = saddle_free(h, g)
    lams = lam * _TRIALS
    steps = jax.vmap(lambda lm: -q @ (qg / (base + lm * scale)))(lams)
    fs = jax.vmap(lambda st: fun(u + st, *args))(steps)
    fs = jnp.where(jnp.isfinite(fs), fs, jnp.inf)
    best = jnp.argmin(fs)
    f_new, step = fs[best], steps[best]
    accept = f_new <= f
    gain = jnp.where(accept, f - f_new, 0.0)
    u = jnp.where(accept, u + step, u)
    f = jnp.where(accept, f_new, f)
    chosen = jnp.maximum(lams[best], lam * 0.1)
    lam = jnp.clip(jnp.where(accept, chosen * 0.3, lam * 100.0), _LAM_MIN, _LAM_MAX)
    # converged: an accepted step that changed the objective negligibly, with a small step,
    # or no step can improve any more (λ at its ceiling)
    tiny = accept & (gain <= 1e-13 * (jnp.abs(f) + 1e-300)) & (
        jnp.max(jnp.abs(step)) <= 1e-6 * (1 + jnp.max(jnp.abs(u))))
    stuck = lam >= _LAM_MAX
    return u, f, lam, tiny | stuck


def _evaluate_all(fun, U, args):
    return jax.vmap(lambda u: fun(u, *args))(U)


def _evaluate(fun, U, args):
    """``fun`` at every row of ``U`` (compiled once per ``fun`` and shape)."""
    return program(_evaluate_all, fun)(U, args)


def _refine(fun, U, args, max_iter: int):
    """Iterate each start to convergence; ``args`` may be batched (leading axis = starts).
    Compiled once per ``fun``, ``max_iter`` and shape, and kept on disk when the program
    store is on (:mod:`lawkit.backends.programs`)."""
    return program(_refine_all, fun, max_iter)(U, args)


def _refine_shared_all(fun, max_iter: int, width: int, U, args):
    """:func:`_refine_all` with one ``args`` for every start, as a work queue: each
    iteration steps the first ``width`` lanes still running (a vmapped loop costs its
    slowest lane × all lanes; the iteration counts of a fit's starts spread over 2–3×, so
    on a CPU this does about half the work, with one copy of the step in the program).
    Each lane takes the same steps as alone, up to rounding (the batch it is computed in
    changes XLA's vectorisation, which can move a lane's last iterations)."""
    step = jax.vmap(lambda u, f, lam: _newton_step(fun, u, f, lam, args))
    f0 = jax.vmap(lambda u: fun(u, *args))(U)
    n = U.shape[0]
    w = min(width, n)
    state = (U, f0, jnp.full(n, _LAM0), jnp.zeros(n, dtype=jnp.int32), ~jnp.isfinite(f0))

    def running(s):
        return (s[3] < max_iter) & ~s[4]

    def body(s):
        live = running(s)
        idx = jnp.argsort(~live, stable=True)[:w]  # running lanes first, then padding
        u, f, lam, it, done = (a[idx] for a in s)
        on = live[idx]
        u2, f2, lam2, done2 = step(u, f, lam)

        def pick(new, old):
            return jnp.where(on.reshape(on.shape + (1,) * (new.ndim - 1)), new, old)
        part = (pick(u2, u), pick(f2, f), pick(lam2, lam), it + on, pick(done2, done))
        return tuple(a.at[idx].set(b) for a, b in zip(s, part))

    u, f, _, it, done = jax.lax.while_loop(lambda s: jnp.any(running(s)), body, state)
    return u, f, it, done & jnp.isfinite(f)


def _refine_all(fun, max_iter: int, U, args):
    def one(u, batch_args):
        f0 = fun(u, *batch_args)

        def cond(state):
            _, _, _, it, done = state
            return (it < max_iter) & ~done

        def body(state):
            u, f, lam, it, _ = state
            u, f, lam, done = _newton_step(fun, u, f, lam, batch_args)
            return u, f, lam, it + 1, done
        u, f, _, it, done = jax.lax.while_loop(
            cond, body, (u, f0, jnp.asarray(_LAM0), 0, ~jnp.isfinite(f0)))
        return u, f, it, done & jnp.isfinite(f)
    return jax.vmap(one)(U, args)


def evaluate_starts(fun: Callable, U0: np.ndarray, args: tuple, n: int,
                    elements: int = _ELEMENTS) -> np.ndarray:
    """``fun`` at every start, in groups of starts so that starts × rows ≤ ``elements``."""
    per = max(1, elements // max(1, n))
    if len(U0) <= per:
        return np.array(_evaluate(fun, jax.device_put(U0), args))
    out = []
    for lo in range(0, len(U0), per):
        part = U0[lo:lo + per]
        if len(part) < per:  # one compiled shape: pad with the last start
            part = np.concatenate([part, np.repeat(part[-1:], per - len(part), axis=0)])
        out.append(np.array(_evaluate(fun, jax.device_put(part), args))[:min(per, len(U0) - lo)])
    return np.concatenate(out)


def batched(args, n: int):
    """Repeat every array leaf of ``args`` along a new leading axis of length ``n``."""
    return jax.tree_util.tree_map(lambda a: jnp.broadcast_to(a, (n, *jnp.shape(a))), args)


def _refine_rows(fun, u, f, idx, args, iterations, max_iter):
    """Iterate rows ``idx`` of ``u`` to convergence (in place); returns (u, f, its, converged)."""
    converged = np.zeros(len(u), dtype=bool)
    if len(idx):
        # on a GPU a step costs about the same at any width: all lanes at once
        width = _WIDTH if jax.default_backend() == "cpu" else len(idx)
        ur, fr, it, done = program(_refine_shared_all, fun, max_iter, width)(
            jax.device_put(u[idx]), args)
        u[idx], f[idx] = np.asarray(ur), np.asarray(fr)
        iterations[idx] += np.asarray(it)
        converged[idx] = np.asarray(done)
    return u, f, iterations, converged


def minimize(fun: Callable, U0: np.ndarray, args: tuple, *, keep: int = 48, explore: int = 16,
             max_iter: int = 1000, seed: int = 0, rows: int = 1) -> Solution:
    """Minimise ``fun(u, *args)`` from the rows of ``U0`` (``rows``: data rows per
    evaluation, which sets how many starts are evaluated at once).

    Every start is evaluated once (cheap); the ``keep`` best distinct starts, plus
    ``explore`` others drawn at random, are iterated to convergence.  The other starts keep
    their initial objective and are marked not converged.
    """
    U0 = np.asarray(U0, dtype=np.float64)
    f0 = evaluate_starts(fun, U0, args, rows)
    f_rank = np.where(np.isfinite(f0), f0, np.inf)
    order = np.argsort(f_rank, kind="stable")
    chosen, seen = [], set()
    for i in order:
        if not np.isfinite(f_rank[i]) or len(chosen) >= keep:
            break
        key = tuple(np.round(U0[i], 6))
        if key not in seen:
            seen.add(key)
            chosen.append(i)
    rest = np.setdiff1d(np.flatnonzero(np.isfinite(f_rank)), chosen)
    if len(rest) and explore:
        rng = np.random.default_rng(seed)
        chosen += list(rng.choice(rest, size=min(explore, len(rest)), replace=False))
    u, f, iterations, converged = _refine_rows(fun, U0.copy(), f0.copy(), np.array(chosen, dtype=int),
                                               args, np.zeros(len(U0), dtype=int), max_iter)
    return Solution(u, f, iterations, converged, f0)


def polish(fun: Callable, sol: Solution, args: tuple, *, keep: int = 32,
           max_iter: int = 1000) -> Solution:
    """Re-iterate the ``keep`` best end points of ``sol`` under new ``args``."""
    f_rank = np.where(np.isfinite(sol.f), sol.f, np.inf)
    idx = np.argsort(f_rank, kind="stable")[:keep]
    idx = idx[np.isfinite(f_rank[idx])]
    u, f, iterations, converged = _refine_rows(fun, sol.u.copy(), np.full_like(sol.f, np.inf), idx,
                                               args, sol.iterations.copy(), max_iter)
    return Solution(u, f, iterations, converged, sol.f_start)


def refine_batch(fun: Callable, u0: np.ndarray, batched_args: tuple, *, max_iter: int = 1000):
    """Iterate one start ``u0`` under each of a batch of argument sets (e.g. bootstrap
    weights); returns (U, f, converged)."""
    n = len(batched_args[0])
    U = jnp.broadcast_to(jnp.asarray(u0, dtype=jnp.float64), (n, len(u0)))
    u, f, _it, done = _refine(fun, U, batched_args, max_iter)
    return np.asarray(u), np.asarray(f), np.asarray(done)
