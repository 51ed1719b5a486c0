"""The compiled objective of a fit and its diagnostics at the optimum.

    objective(u) = Σᵢ wᵢ · ρ(rᵢ),   rᵢ = log yᵢ − log f(xᵢ; θ(u))   (or yᵢ − f)

Compiled once per law *content* and fit shape (loss, space, fixed/per-group parameters),
so re-parsing the same law and fitting again reuses JAX's compiled code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_CACHE: dict = {}


@dataclass(frozen=True)
class Objective:
    """``value(u, w, X, y, groups, δ)`` for the solver (u unconstrained) and
    ``diagnostics(θ, …)`` → (residuals, Hessian of Σwρ, per-point ∇ρᵢ) at natural θ;
    ``residual(u, X, y, groups)`` → rᵢ and ``rho(r, δ)`` → ρ(rᵢ), the pieces of ``value``
    (for solvers that exploit the sum's structure, e.g. the batched bootstrap)."""

    layout: object
    value: object
    diagnostics: object
    pointwise: object
    residual: object = None
    rho: object = None


def objective_for(law, loss: str, space: str, fix: tuple, per_group: tuple,
                  levels: tuple) -> Objective:
    key = (law.fingerprint, loss, space, fix, per_group, levels)
    if key not in _CACHE:
        if len(_CACHE) >= 64:
            _CACHE.clear()
        _CACHE[key] = _build(law, loss, space, fix, per_group, levels)
    return _CACHE[key]


def _build(law, loss, space, fix, per_group, levels) -> Objective:
    import jax
    import jax.numpy as jnp

    from ..backends.jax import compile_law
    from .losses import check_loss, residuals
    from .params import Layout

    layout = Layout(law, fix=dict(fix), per_group=per_group, levels=levels)
    f = compile_law(law)
    rho = check_loss(loss, 1.0)

    def residual(u, X, y, groups):
        return residuals(f(layout.natural(u, groups), X), y, space)

    def value(u, w, X, y, groups, delta):
        r = residuals(f(layout.natural(u, groups), X), y, space)
        return jnp.sum(jnp.where(w > 0, w * rho(r, delta), 0.0))

    def resid(theta, X, y, groups):
        return residuals(f(layout.natural(theta, groups, transformed=False), X), y, space)

    @jax.jit
    def pointwise(theta, X, y, groups, delta):
        r = resid(theta, X, y, groups)
        return r, rho(r, delta)

    @jax.jit
    def diagnostics(theta, w, X, y, groups, delta):
        def point(t):
            return rho(resid(t, X, y, groups), delta)
        H = jax.hessian(lambda t: jnp.sum(jnp.where(w > 0, w * point(t), 0.0)))(theta)
        return resid(theta, X, y, groups), H, jax.jacfwd(point)(theta)

    return Objective(layout, value, diagnostics, pointwise, residual=residual, rho=rho)


def sandwich_covariance(H: np.ndarray, G: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Cov(θ) ≈ H⁻¹·J·H⁻¹ with J = Σᵢ wᵢ² ∇ρᵢ ∇ρᵢᵀ (robust to the loss; natural units)."""
    J = (G * w[:, None] ** 2).T @ G
    try:
        Hinv = np.linalg.inv(H)
    except np.linalg.LinAlgError:
        return np.full_like(H, np.nan)
    return Hinv @ J @ Hinv
