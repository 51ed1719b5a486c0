"""The compiled objective of a fit and its diagnostics at the optimum.

    objective(u) = Σᵢ wᵢ · ρ(rᵢ),   rᵢ = log yᵢ − log f(xᵢ; θ(u))   (or yᵢ − f)

Compiled once per law *content* and fit shape (loss, space, fixed/per-group parameters),
so re-parsing the same law and fitting again reuses JAX's compiled code; on disk, once per
law *structure* (:func:`structure`: a renamed law or a new value set loads the programs).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_CACHE: dict = {}


@dataclass(frozen=True)
class Objective:
    """``value(u, w, X, y, groups, δ)`` for the solver (u unconstrained) and
    ``diagnostics(θ, …)`` → (residuals, Hessian of Σwρ, per-point ∇ρᵢ, ρᵢ) at natural θ;
    ``residual(u, X, y, groups)`` → rᵢ and ``rho(r, δ)`` → ρ(rᵢ), the pieces of ``value``
    (for solvers that exploit the sum's structure, e.g. the batched bootstrap)."""

    layout: object
    value: object
    diagnostics: object
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


def structure(law) -> str:
    """What a fit's programs are made of: the expanded expression (SymPy's canonical
    ``srepr``, assumptions included) and the parameters in order with their bounds and
    ties.  Laws that differ only in name, citation, descriptions, value sets or how terms
    are spelled share their programs (initial values change the start grid's shape, so
    the screening's program)."""
    import sympy as sp

    params = [(n, p.lower, p.upper, p.lower_open, p.upper_open,
               None if p.fixed is None else sp.srepr(p.fixed)) for n, p in law.params.items()]
    return repr((sp.srepr(law.expr), params))


def _disk_key(law, key: tuple) -> str | None:
    """The programs' key on disk: the law's structure and the fit's shape, or None when the
    law uses a user-registered function (its implementation has no fingerprint)."""
    from ..backends._walk import heads
    from ..backends.registry import IMPLEMENTATIONS

    exprs = [law.expr, *(p.fixed for p in law.params.values() if p.fixed is not None)]
    if any(h in IMPLEMENTATIONS for e in exprs for h in heads(e)):
        return None
    return repr((structure(law), *key))


def _build(law, loss, space, fix, per_group, levels) -> Objective:
    import jax
    import jax.numpy as jnp

    from ..backends.jax import compile_law
    from ..backends.programs import Program
    from .losses import check_loss, residuals
    from .params import Layout

    from .data import positive_inputs

    layout = Layout(law, fix=dict(fix), per_group=per_group, levels=levels)
    f = compile_law(law, positive=positive_inputs(law))  # prepare() refuses x ≤ 0 for these
    rho = check_loss(loss, 1.0)

    def residual(u, X, y, groups):
        return residuals(f(layout.natural(u, groups), X), y, space)

    def value(u, w, X, y, groups, delta):
        r = residuals(f(layout.natural(u, groups), X), y, space)
        return jnp.sum(jnp.where(w > 0, w * rho(r, delta), 0.0))

    def resid(theta, X, y, groups):
        return residuals(f(layout.natural(theta, groups, transformed=False), X), y, space)

    def diagnostics(theta, w, X, y, groups, delta):  # one program: one load in a new process
        def point(t):
            return rho(resid(t, X, y, groups), delta)
        H = jax.hessian(lambda t: jnp.sum(jnp.where(w > 0, w * point(t), 0.0)))(theta)
        r = resid(theta, X, y, groups)
        return r, H, jax.jacfwd(point)(theta), rho(r, delta)

    key = _disk_key(law, (loss, space, fix, per_group, levels))
    for fn in (value, residual):  # the solvers' programs are keyed by these
        fn.cache_key = None if key is None else f"{fn.__name__}:{key}"
    return Objective(layout, value,
                     Program(diagnostics, None if key is None else f"diagnostics:{key}"),
                     residual=residual, rho=rho)


def sandwich_covariance(H: np.ndarray, G: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Cov(θ) ≈ H⁻¹·J·H⁻¹ with J = Σᵢ wᵢ² ∇ρᵢ ∇ρᵢᵀ (robust to the loss; natural units)."""
    J = (G * w[:, None] ** 2).T @ G
    try:
        Hinv = np.linalg.inv(H)
    except np.linalg.LinAlgError:
        return np.full_like(H, np.nan)
    return Hinv @ J @ Hinv
