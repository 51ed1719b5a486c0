"""Pointwise losses ρ(r; δ) on residuals; the objective is Σᵢ wᵢ ρ(rᵢ) (a sum, not a mean:
Hoffmann et al.'s mean made L-BFGS stop early, Besiroglu et al. 2024).

δ is passed at call time so one compiled objective serves every δ (the L1 fit walks δ
down a continuation path, see ``L1_PATH``)."""

from __future__ import annotations

import jax.numpy as jnp

from ..errors import FitError


def huber(r, delta):
    """ρ(r) = r²/2 if |r| ≤ δ else δ(|r| − δ/2)."""
    a = jnp.abs(r)
    return jnp.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta))


def l1(r, delta):
    """ρ(r) = Huber_δ(r)/δ + δ/2, which is |r| wherever |r| > δ (smooth inside ±δ so that
    Newton steps are defined); the fit drives δ down to 1e-9."""
    return huber(r, delta) / delta + 0.5 * delta


def mse(r, delta):
    """ρ(r) = r² (least squares)."""
    return r * r


LOSSES = {"huber": huber, "l1": l1, "mse": mse}
# δ continuation for L1: a smooth start, then ever closer to |r|
L1_PATH = (1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-9)


def check_loss(name: str, delta: float):
    if name not in LOSSES:
        raise FitError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}")
    if name == "huber" and not delta > 0:
        raise FitError(f"Huber delta must be positive, got {delta}")
    return LOSSES[name]


def residuals(pred, y, space: str):
    """log y − log ŷ in log space; y − ŷ in linear space."""
    return jnp.log(y) - jnp.log(pred) if space == "log" else y - pred
