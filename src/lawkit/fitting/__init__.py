"""Fit a law to data: robust objective, vectorised multi-start Newton, honest uncertainty.

    objective(θ) = Σᵢ wᵢ · ρ(rᵢ(θ)),   rᵢ = log yᵢ − log f(xᵢ; θ)   (or yᵢ − f in linear space)

with ρ = Huber(δ) (default δ = 1e-3), L1 or squared error.  See ``docs/fitting.md``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import numpy as np

from ..errors import FitError
from .data import prepare
from .result import FitResult, Status

__all__ = ["fit", "FitResult", "Status"]


_OBJECTIVES: dict = {}


def _objective(law, loss: str, space: str, fix: tuple, per_group: tuple, levels: tuple):
    """(layout, objective(u, w, X, y, groups, δ), diagnostics(θ, w, X, y, groups, δ)).

    Cached by the law's content (not its identity), so that re-parsing the same law and
    fitting again reuses JAX's compiled code.
    """
    key = (law.fingerprint, loss, space, fix, per_group, levels)
    if key not in _OBJECTIVES:
        if len(_OBJECTIVES) >= 64:
            _OBJECTIVES.clear()
        _OBJECTIVES[key] = _build_objective(law, loss, space, fix, per_group, levels)
    return _OBJECTIVES[key]


def _build_objective(law, loss: str, space: str, fix: tuple, per_group: tuple, levels: tuple):
    from ..backends.jax import compile_law
    from .losses import check_loss, residuals
    import jax
    import jax.numpy as jnp

    from .params import Layout

    layout = Layout(law, fix=dict(fix), per_group=per_group, levels=levels)
    f = compile_law(law)
    rho = check_loss(loss, 1.0)

    def objective(u, w, X, y, groups, delta):
        r = residuals(f(layout.natural(u, groups), X), y, space)
        return jnp.sum(jnp.where(w > 0, w * rho(r, delta), 0.0))

    def pointwise(theta, X, y, groups, delta):
        r = residuals(f(layout.natural(theta, groups, transformed=False), X), y, space)
        return rho(r, delta)

    @jax.jit
    def diagnostics(theta, w, X, y, groups, delta):
        """Residuals, Hessian of Σwρ and per-point gradients ∇ρᵢ at natural values θ."""
        def point(t):
            return pointwise(t, X, y, groups, delta)
        r = residuals(f(layout.natural(theta, groups, transformed=False), X), y, space)
        H = jax.hessian(lambda t: jnp.sum(w * point(t)))(theta)
        return r, H, jax.jacfwd(point)(theta)

    return layout, objective, diagnostics


def _at_bound(layout, theta: np.ndarray, u: np.ndarray) -> tuple[str, ...]:
    out = []
    for s, x, ui in zip(layout.slots, theta, u):
        near = [b for b in (s.lower, s.upper) if np.isfinite(b)]
        if any(abs(x - b) <= 1e-6 * max(1.0, abs(b)) for b in near) or (
                s.transform != "identity" and abs(ui) > 18):
            out.append(s.label)
    return tuple(out)


def _sandwich_stderr(H: np.ndarray, G: np.ndarray, w: np.ndarray, bound: tuple, labels) -> dict:
    """Standard errors from H⁻¹ J H⁻¹ with J = Σᵢ wᵢ² ∇ρᵢ ∇ρᵢᵀ (natural units)."""
    J = (G * w[:, None] ** 2).T @ G
    try:
        Hinv = np.linalg.inv(H)
        diag = np.diag(Hinv @ J @ Hinv)
    except np.linalg.LinAlgError:
        diag = np.full(len(labels), np.nan)
    return {lab: float(np.sqrt(d)) if (np.isfinite(d) and d >= 0 and lab not in bound)
            else float("nan") for lab, d in zip(labels, diag)}


def fit(law, data, *, mapping: Mapping[str, str] | None = None, loss: str = "huber",
        delta: float = 1e-3, space: str = "log", starts="grid", fix: Mapping[str, float] | None = None,
        weights=None, group: str | None = None, per_group: tuple[str, ...] = (),
        bootstrap: int = 0, seed: int = 0, derived: Mapping[str, Callable] | None = None,
        ci_level: float = 0.95, max_starts: int = 4096, max_iter: int = 1000,
        progress: bool = False, throw: bool = True) -> FitResult:
    """Fit ``law`` to ``data`` (a DataFrame, CSV or Parquet path).

    Args:
      mapping: law name → data column, for names that differ.
      loss, delta, space: ρ ∈ {"huber", "l1", "mse"}, Huber's δ, "log" or "linear" residuals.
      starts: "grid", a number of random starts, ``{param: [values]}``, or an (S, k) array.
      fix: parameters held at given values.
      weights: a column name or an array of per-row weights.
      group, per_group: a data column and the parameters that get one value per group.
      bootstrap: number of resamples (rows drawn with replacement) for percentile CIs.
      derived: ``{name: fn(params) -> float}``; bootstrap CIs are reported for each.
      throw: raise :class:`FitError` when the solve fails (else return it with its status).
    """
    import jax.numpy as jnp

    from .solve import minimize, polish
    from .starts import make_starts

    t0 = time.perf_counter()
    if space not in ("log", "linear"):
        raise FitError(f"space must be 'log' or 'linear', not {space!r}")
    if per_group and group is None:
        raise FitError("per_group parameters need a group column (group=...)")
    n_slots_guess = len([n for n in law.free_params if n not in (fix or {})])
    data = prepare(law, data, mapping=mapping, space=space, weights=weights, group=group,
                   n_params=n_slots_guess)
    key_fix = tuple(sorted((fix or {}).items()))
    from .losses import L1_PATH, check_loss

    check_loss(loss, delta)
    layout, objective, diagnostics = _objective(law, loss, space, key_fix, tuple(per_group),
                                                      data.group_levels)
    if layout.k == 0:
        raise FitError(f"nothing to fit: every parameter of {law.name!r} is fixed or tied")
    if data.n <= layout.k:
        raise FitError(f"too few rows ({data.n}) for {layout.k} fitted parameters")
    X = {k: jnp.asarray(v) for k, v in data.inputs.items()}
    y, w = jnp.asarray(data.y), jnp.asarray(data.weights)
    groups = None if data.groups is None else jnp.asarray(data.groups)
    path = L1_PATH if loss == "l1" else (float(delta),)
    delta = path[-1]

    theta0 = make_starts(layout, starts, seed=seed, max_starts=max_starts)
    U0 = layout.from_slot_values(theta0)
    sol = minimize(objective, U0, (w, X, y, groups, jnp.asarray(path[0])), max_iter=max_iter)
    for d in path[1:]:  # continuation: re-solve the best starts with a smaller δ
        sol = polish(objective, sol, (w, X, y, groups, jnp.asarray(d)), max_iter=max_iter)
    if not np.isfinite(sol.f_start).any():
        raise FitError(f"the objective is not finite at any of the {len(U0)} starts "
                       f"(predictions non-positive in log space, or overflow); "
                       f"check the law, the data units, or give starts")
    f_best = np.where(np.isfinite(sol.f), sol.f, np.inf)
    best = int(np.argmin(f_best))
    if not np.isfinite(f_best[best]):
        raise FitError("every start ended with a non-finite objective")
    u_best = sol.u[best]
    theta = layout.slot_values(u_best)
    labels = [s.label for s in layout.slots]
    bound = _at_bound(layout, theta, u_best)
    status = (Status.max_iterations if not sol.converged[best]
              else Status.at_bound if bound else Status.converged)
    if throw and status is Status.max_iterations:
        raise FitError(f"fit of {law.name!r} did not converge: {status.value}")

    natural = layout.natural(jnp.asarray(u_best), groups)
    params = {}
    for name in law.params:
        if name in layout.per_group:
            for lab, val in zip(labels, theta):
                if lab.startswith(name + "["):
                    params[lab] = float(val)
        else:
            params[name] = float(np.asarray(natural[name]).ravel()[0])
    residuals, H, G = (np.asarray(a) for a in diagnostics(jnp.asarray(theta), w, X, y, groups,
                                                           jnp.asarray(delta)))
    stderr = _sandwich_stderr(H, G, data.weights, bound, labels)

    ci, samples = {}, {}
    if bootstrap:
        samples = _bootstrap(layout, objective, u_best, data, X, y, groups, delta, bootstrap,
                             seed, derived or {}, law, max_iter, progress)
        q = 100 * (1 - ci_level) / 2
        for name, vals in samples.items():
            ok = vals[np.isfinite(vals)]
            if len(ok):
                ci[name] = (float(np.percentile(ok, q)), float(np.percentile(ok, 100 - q)))
    settings = {"loss": loss, "delta": float(delta) if loss == "huber" else None, "space": space, "bootstrap": int(bootstrap),
                "seed": int(seed), "fixed": dict(fix or {}), "group": group,
                "per_group": list(per_group)}
    return FitResult(law, params, float(sol.f[best]), data.n, layout.k, residuals, status, bound,
                     stderr, ci, {s.name: s.transform for s in layout.slots},
                     {"objective": sol.f, "start_objective": sol.f_start,
                      "iterations": sol.iterations, "converged": sol.converged},
                     settings, time.perf_counter() - t0, samples, ci_level)


def _bootstrap(layout, objective, u_best, data, X, y, groups, delta, k, seed, derived, law,
               max_iter, progress) -> dict[str, np.ndarray]:
    """Refit under K multinomial row resamplings (as weights), from the best point."""
    import jax.numpy as jnp

    from .solve import batched, refine_batch

    rng = np.random.default_rng(seed)
    counts = rng.multinomial(data.n, np.full(data.n, 1.0 / data.n), size=k).astype(float)
    W = counts * data.weights[None, :]
    chunk = 250
    U, F, OK = [], [], []
    chunks = range(0, k, chunk)
    if progress:
        from tqdm import tqdm
        chunks = tqdm(chunks, desc="bootstrap", unit="chunk")
    for i in chunks:
        Wc = jnp.asarray(W[i:i + chunk])
        m = Wc.shape[0]
        args = (Wc, *batched((X, y, groups, jnp.asarray(delta)), m))
        u, f, ok = refine_batch(objective, u_best, args, max_iter=max_iter)
        U.append(u), F.append(f), OK.append(ok)
    U, OK = np.concatenate(U), np.concatenate(OK)
    thetas = np.array([layout.slot_values(u) for u in U])
    thetas[~OK] = np.nan
    out = {s.label: thetas[:, j] for j, s in enumerate(layout.slots)}
    for name, fn in derived.items():
        vals = []
        for t, ok in zip(thetas, OK):
            if not ok:
                vals.append(np.nan)
                continue
            p = dict(zip(out, t))  # per-group values appear as "name[level]"
            scalars = {**layout.fixed, **{n: v for n, v in p.items() if "[" not in n}}
            if not layout.per_group:
                scalars = law.complete_values(scalars)  # tied parameters too
            vals.append(float(fn({**p, **scalars})))
        out[name] = np.array(vals)
    return out
