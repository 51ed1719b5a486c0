"""Bootstrap refits, batched over resamples: every resample is a row of weights ``C`` (K, n),
and all of them are iterated together from the best point in one compiled loop.

Each resample k minimises fₖ(u) = Σᵢ cₖᵢ ρ(rᵢ(u)).  Its gradient is exact,

    gₖ = Jₖᵀ (cₖ ∘ ρ'(rₖ)),         Jₖ = ∂r/∂u at uₖ (forward mode, one pass),

and its Hessian is exact except that the residuals' own curvature is taken at the start:

    Hₖ = Jₖᵀ diag(cₖ ∘ ρ''(rₖ)) Jₖ + Σᵢ cₖᵢ ρ'(rₖᵢ) ∇²rᵢ(u*)

(∇²rᵢ is computed once, at the full-data optimum u* where every resample starts; a
resample's optimum lies close to it, so the steps are Newton steps up to O(|uₖ − u*|)).
A step solves (|Hₖ| + λ·s)·Δ = −gₖ as in :mod:`lawkit.fitting.solve`, is accepted when
it lowers fₖ, and λ shrinks after a step that gains, grows after one that does not.  The stationary point reached is the
exact one (the gradient is exact); each resample stops on its own test, and those that
do not stop within ``max_iter`` iterations are reported as not converged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from ..backends.programs import program
from .solve import _LAM0 as _LAM0_FIT
from .solve import _LAM_MAX, _LAM_MIN, _newton_step, saddle_free

_ELEMENTS = 1 << 24  # per batch: resamples × rows × (parameters + 4) kept under ~128 MB
_BLOCK = 4           # iterations per compiled call (progress is reported between calls)
_FROZEN = 24        # iterations on the start's curvature; then the exact Hessian
_LAM0 = 1e-6        # first damping: nearly a full Newton step from the shared optimum


@dataclass(frozen=True, kw_only=True)
class Refits:
    """Per resample: end point ``u`` (K, k), objective ``f``, ``iterations``, ``converged``."""

    u: np.ndarray
    f: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray


def resample_weights(n: int, k: int, seed: int, weights: np.ndarray) -> np.ndarray:
    """K multinomial row resamplings (counts) times the data's own weights, (K, n)."""
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n, np.full(n, 1.0 / n), size=k).astype(float)
    return counts * weights[None, :]


def _rho_derivs(rho, r, delta):
    """ρ, ρ', ρ'' elementwise (ρ acts on each residual alone)."""
    one = jnp.ones_like(r)

    def d1(x):
        return jax.jvp(lambda t: rho(t, delta), (x,), (one,))

    (p, p1), (_, p2) = jax.jvp(d1, (r,), (one,))
    return p, p1, p2


def _local(residual, rho, u, c, Hr0, args):
    """f, g, H of one resample at ``u`` (weights ``c``), curvature of r frozen at ``Hr0``."""
    X, y, groups, delta = args
    J, r = jax.jacfwd(lambda v: (residual(v, X, y, groups),) * 2, has_aux=True)(u)
    live = c > 0
    r = jnp.where(live, r, 0.0)
    J = jnp.where(live[:, None], J, 0.0)
    p, p1, p2 = _rho_derivs(rho, r, delta)
    f = jnp.sum(jnp.where(live, c * p, 0.0))
    f = jnp.where(jnp.isfinite(f), f, jnp.inf)
    g = J.T @ (c * p1)
    k = u.shape[0]
    H = (J * (c * p2)[:, None]).T @ J + ((c * p1) @ Hr0.reshape(-1, k * k)).reshape(k, k)
    return f, g, H


def _step(g, H, lam):
    """Saddle-free damped Newton step and the undamped Newton decrement gᵀ|H|⁻¹g."""
    q, qg, base, scale = saddle_free(H, g)
    newton = -q @ (qg / base)
    return -q @ (qg / (base + lam * scale)), newton, jnp.sum(qg * qg / base)


def _iterate(residual, rho, n_iter, state, C, Hr0, args):
    return program(_iterate_all, residual, rho)(n_iter, state, C, Hr0, args)


def _iterate_all(residual, rho, n_iter, state, C, Hr0, args):
    """Up to ``n_iter`` damped-Newton iterations (start curvature) of every resample."""
    local = jax.vmap(lambda u, c: _local(residual, rho, u, c, Hr0, args))

    def body(_, s):
        u, f, g, H, lam, it, done = s
        step, newton, dec = jax.vmap(_step)(g, H, lam)
        # converged before stepping: the full Newton step is tiny and would gain nothing
        small = (0.5 * dec <= 1e-13 * (jnp.abs(f) + 1e-300)) & (
            jnp.max(jnp.abs(newton), axis=1) <= 1e-6 * (1 + jnp.max(jnp.abs(u), axis=1)))
        done = done | small
        f_new, g_new, H_new = local(u + step, C)
        accept = (f_new <= f) & ~done
        gain = jnp.where(accept, f - f_new, 0.0)
        idle = accept & (gain <= 1e-13 * (jnp.abs(f) + 1e-300))  # accepted, gained nothing
        tiny = idle & (
            jnp.max(jnp.abs(step), axis=1) <= 1e-6 * (1 + jnp.max(jnp.abs(u), axis=1)))
        a1, a2 = accept[:, None], accept[:, None, None]
        u = jnp.where(a1, u + step, u)
        f = jnp.where(accept, f_new, f)
        g = jnp.where(a1, g_new, g)
        H = jnp.where(a2, H_new, H)
        lam = jnp.where(done, lam, jnp.clip(jnp.where(accept & ~idle, lam * 0.1, lam * 10.0),
                                            _LAM_MIN, _LAM_MAX))
        it = it + (~done)
        done = done | tiny | (lam >= _LAM_MAX)
        return u, f, g, H, lam, it, done

    return jax.lax.fori_loop(0, n_iter, body, state)


def _iterate_exact(value, n_iter, state, C, args):
    return program(_iterate_exact_all, value)(n_iter, state, C, args)


def _iterate_exact_all(value, n_iter, state, C, args):
    """Up to ``n_iter`` iterations of the fit's own damped Newton (exact Hessian, five
    damping trials per step: :func:`lawkit.fitting.solve._newton_step`)."""
    def one(u, f, lam, it, done, c):
        def body(_, s):
            u, f, lam, it, done = s
            u2, f2, lam2, stop = _newton_step(value, u, f, lam, (c, *args))
            keep = done
            return (jnp.where(keep, u, u2), jnp.where(keep, f, f2), jnp.where(keep, lam, lam2),
                    it + (~keep), done | stop)
        return jax.lax.fori_loop(0, n_iter, body, (u, f, lam, it, done))

    u, f, g, H, lam, it, done = state
    u, f, lam, it, done = jax.vmap(one)(u, f, lam, it, done, C)
    return u, f, g, H, lam, it, done


def _start(residual, rho, u0, C, args):
    return program(_start_all, residual, rho)(u0, C, args)


def _start_all(residual, rho, u0, C, args):
    """Every resample's f, g, H at the common start u0 (shared per-row derivatives)."""
    X, y, groups, delta = args

    def r_fn(v):
        return residual(v, X, y, groups)

    Hr0 = jax.jacfwd(jax.jacfwd(r_fn))(u0)
    Hr0 = jnp.where(jnp.isfinite(Hr0), Hr0, 0.0)
    f, g, H = jax.vmap(lambda c: _local(residual, rho, u0, c, Hr0, args))(C)
    return Hr0, f, g, H


def _bucket(m: int, cap: int) -> int:
    """The smallest power of 4 (≥ 16) holding ``m`` rows, at most ``cap``: few shapes to
    compile (16, 64, 256, 1024, …)."""
    b = 16
    while b < m and b < cap:
        b *= 4
    return min(b, cap)


def refit_resamples(value: Callable, residual: Callable, rho: Callable, u0, W: np.ndarray, args: tuple, *,
                    max_iter: int = 1000, on_done: Callable[[int], None] | None = None) -> Refits:
    """Minimise Σᵢ Wₖᵢ ρ(rᵢ(u)) for every row k of ``W`` from ``u0``; ``args`` =
    (X, y, groups, δ).  ``on_done(m)`` is called as m more resamples finish.

    Resamples still iterating are gathered into ever smaller batches (…, 1024, 256, 64, 16 rows), so the
    cost follows the typical resample, not the slowest one; those still iterating after
    ``_FROZEN`` iterations (far from the start, e.g. walking to a bound) are finished by
    the fit's own damped Newton on ``value(u, w, X, y, groups, δ)``."""
    K, n = W.shape
    k = len(u0)
    cap = max(1, _ELEMENTS // max(1, n * (k + 4)))
    u0 = jnp.asarray(u0, dtype=jnp.float64)
    U, F = np.empty((K, k)), np.empty(K)
    G, H = np.empty((K, k)), np.empty((K, k, k))
    lam, it, done = np.full(K, _LAM0), np.zeros(K, dtype=np.int32), np.zeros(K, dtype=bool)
    Hr0 = None
    for lo in range(0, K, cap):  # common start: per-row derivatives shared by all resamples
        hi = min(K, lo + cap)
        idx = np.arange(lo, hi)
        idx = np.concatenate([idx, np.full(_bucket(len(idx), cap) - len(idx), hi - 1)])
        Hr0, f, g, h = _start(residual, rho, u0, jnp.asarray(W[idx]), args)
        m = hi - lo
        F[lo:hi], G[lo:hi], H[lo:hi] = (np.asarray(a)[:m] for a in (f, g, h))
    U[:] = np.asarray(u0)
    done[:] = ~np.isfinite(F)
    active = np.flatnonzero(~done)
    exact_started = np.zeros(K, dtype=bool)
    reported = K - len(active)
    if on_done is not None and reported:
        on_done(reported)
    while len(active):
        exact = bool(it[active].min() >= _FROZEN)  # the slow tail: the fit's own Newton
        n_iter = int(min(_BLOCK * (4 if exact else 1), max_iter - it[active].max()))
        limit = cap
        for lo in range(0, len(active), limit):
            part = active[lo:lo + limit]
            idx = np.concatenate([part, np.full(_bucket(len(part), limit) - len(part), part[-1])])
            state = tuple(jnp.asarray(a[idx]) for a in (U, F, G, H, lam, it, done))
            if exact:
                if not exact_started[idx].all():  # the fit's Newton starts from λ₀
                    lam[part[~exact_started[part]]] = _LAM0_FIT
                    exact_started[part] = True
                    state = tuple(jnp.asarray(a[idx]) for a in (U, F, G, H, lam, it, done))
                out = _iterate_exact(value, jnp.asarray(n_iter), state, jnp.asarray(W[idx]),
                                     args[:3] + (args[3],))
            else:
                out = _iterate(residual, rho, jnp.asarray(n_iter), state,
                               jnp.asarray(W[idx]), Hr0, args)
            for dst, src in zip((U, F, G, H, lam, it, done), out):
                dst[part] = np.asarray(src)[:len(part)]
        active = np.flatnonzero(~done & (it < max_iter))
        finished = K - len(active)
        if on_done is not None and finished > reported:
            on_done(finished - reported)
        reported = finished
    finite = np.isfinite(F) & np.isfinite(U).all(axis=1)
    return Refits(u=U, f=F, iterations=it.astype(int), converged=done & finite)
