"""Pointwise losses ρ(r) on residuals; the objective is Σᵢ wᵢ ρ(rᵢ) (a sum, not a mean:
Hoffmann et al.'s mean made L-BFGS stop early, Besiroglu et al. 2024)."""

from __future__ import annotations

from collections.abc import Callable

import jax.numpy as jnp

from ..errors import FitError


def huber(delta: float) -> Callable:
    """ρ(r) = r²/2 if |r| ≤ δ else δ(|r| − δ/2)."""
    def rho(r):
        a = jnp.abs(r)
        return jnp.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta))
    return rho


def l1(_delta: float = 0.0) -> Callable:
    """ρ(r) = |r| (least absolute deviation)."""
    return jnp.abs


def mse(_delta: float = 0.0) -> Callable:
    """ρ(r) = r² (least squares)."""
    return jnp.square


LOSSES = {"huber": huber, "l1": l1, "mse": mse}


def make_loss(name: str, delta: float) -> Callable:
    if name not in LOSSES:
        raise FitError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}")
    if name == "huber" and not delta > 0:
        raise FitError(f"Huber delta must be positive, got {delta}")
    return LOSSES[name](delta)


def residuals(pred, y, space: str):
    """log y − log ŷ in log space; y − ŷ in linear space."""
    return jnp.log(y) - jnp.log(pred) if space == "log" else y - pred
