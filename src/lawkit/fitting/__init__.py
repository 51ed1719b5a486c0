"""Fit a law to data: robust objective, vectorised multi-start Newton, honest uncertainty.

    objective(θ) = Σᵢ wᵢ · ρ(rᵢ(θ)),   rᵢ = log yᵢ − log f(xᵢ; θ)   (or yᵢ − f in linear space)

with ρ = Huber(δ) (default δ = 1e-3), L1 or squared error.  See ``docs/fitting.md``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import numpy as np

from ..backends.jax import in_double_precision
from ..errors import FitError
from .data import prepare
from .diagnostics import diagnose as _diagnose
from .diagnostics import law_inputs as _law_inputs
from .objective import objective_for, sandwich_covariance
from .result import FitResult, Goodness, Status

__all__ = ["fit", "FitResult", "Goodness", "Status"]

MAX_STARTS = 100_000  # random starts of one fit (the default grid has a few thousand)
MAX_BOOTSTRAP = 100_000  # bootstrap resamples of one fit


def clustered_residuals(frame, residuals: np.ndarray, weights: np.ndarray, used: set,
                        threshold: float = 0.5) -> tuple[str, ...]:
    """Warnings for data columns (2–20 distinct values, not the law's own) by which the
    residuals cluster: η² = between-group share of the residual variance ≥ ``threshold``."""
    out = []
    keep = np.asarray(weights) > 0
    r = np.asarray(residuals)[keep]
    if len(r) < 2:
        return ()
    total = float(np.var(r))
    if not np.isfinite(total) or total <= 0:
        return ()
    for col in frame.columns:
        if col in used:
            continue
        values = np.asarray(frame[col])[keep]
        levels = {v for v in values.tolist() if v == v}
        if not 2 <= len(levels) <= 20 or len(levels) * 3 > len(values):
            continue
        codes = np.array([v if v == v else None for v in values.tolist()], dtype=object)
        between = 0.0
        for lv in levels:
            sel = codes == lv
            between += sel.sum() * (r[sel].mean() - r.mean()) ** 2
        eta2 = float(between / len(r) / total)
        if eta2 >= threshold:
            out.append(f"residuals cluster by column {col!r} (η² = {eta2:.2f}: one band per "
                       f"value); consider a per-group fit, e.g. group={col!r}, per_group=('E',)")
    return tuple(out)


def _at_bound(layout, theta: np.ndarray) -> tuple[str, ...]:
    """Labels of fitted coordinates whose natural value sits on a declared bound."""
    return tuple(s.label for s, x in zip(layout.slots, theta) if s.transform.at_bound(float(x)))


@in_double_precision
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
    import jax

    from . import large
    from .solve import minimize, polish
    from .starts import make_starts

    t0 = time.perf_counter()
    if space not in ("log", "linear"):
        raise FitError(f"space must be 'log' or 'linear', not {space!r}")
    if per_group and group is None:
        raise FitError("per_group parameters need a group column (group=...)")
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, (int, np.integer)) or not (
            0 <= bootstrap <= MAX_BOOTSTRAP):
        raise FitError(f"bootstrap must be a whole number of resamples in 0..{MAX_BOOTSTRAP}, "
                       f"not {bootstrap!r}")
    if isinstance(starts, (int, np.integer)) and not isinstance(starts, bool) and not (
            1 <= starts <= MAX_STARTS):
        raise FitError(f"starts must be a number of random starts in 1..{MAX_STARTS}, "
                       f"not {starts!r}")
    n_slots_guess = len([n for n in law.free_params if n not in (fix or {})])
    data = prepare(law, data, mapping=mapping, space=space, weights=weights, group=group,
                   n_params=n_slots_guess)
    key_fix = tuple(sorted((fix or {}).items()))
    from .losses import L1_PATH, check_loss

    check_loss(loss, delta)
    obj = objective_for(law, loss, space, key_fix, tuple(per_group), data.group_levels)
    layout, objective = obj.layout, obj.value
    if layout.k == 0:
        raise FitError(f"nothing to fit: every parameter of {law.name!r} is fixed or tied")
    if data.n <= layout.k:
        raise FitError(f"too few rows ({data.n}) for {layout.k} fitted parameters")
    # device_put, not jnp.asarray: the latter compiles a copy per shape (in a new process
    # each costs a compile or a cache load)
    X = {k: jax.device_put(v) for k, v in data.inputs.items()}
    y, w = jax.device_put(data.y), jax.device_put(data.weights)
    groups = None if data.groups is None else jax.device_put(data.groups)
    path = L1_PATH if loss == "l1" else (float(delta),)
    delta = path[-1]

    theta0 = make_starts(layout, starts, seed=seed, max_starts=max_starts)
    U0 = layout.from_slot_values(theta0)
    args0 = (w, X, y, groups, jax.device_put(np.float64(path[0])))
    if data.n > large.LARGE_ROWS:  # screen on a subsample, polish on all rows in chunks
        sol, solver, cargs = large.minimize_large(objective, U0, args0, max_iter=max_iter,
                                                  seed=seed)
    else:
        sol = minimize(objective, U0, args0, max_iter=max_iter, rows=data.n)
        solver, cargs = objective, args0
    for d in path[1:]:  # continuation: re-solve the best starts with a smaller δ
        sol = polish(solver, sol, (*cargs[:4], jax.device_put(np.float64(d))), max_iter=max_iter)
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
    labels = tuple(s.label for s in layout.slots)
    bound = _at_bound(layout, theta)
    # a parameter walking to its bound (e.g. a true E of 0 under E > 0) stops the iteration
    # short of the test: at the bound is the finding, not "did not converge"
    status = (Status.at_bound if bound else Status.max_iterations if not sol.converged[best]
              else Status.converged)
    if throw and status is Status.max_iterations:
        raise FitError(f"fit of {law.name!r} did not converge: {status.value}")

    # in NumPy, like theta: no eager JAX dispatch (each costs a compile in a new process)
    natural = layout.natural(np.asarray(u_best), None if groups is None else np.asarray(groups))
    params = {}
    for name in law.params:
        if name in layout.per_group:
            for lab, val in zip(labels, theta):
                if lab.startswith(name + "["):
                    params[lab] = float(val)
        else:
            params[name] = float(np.asarray(natural[name]).ravel()[0])
    theta_j = jax.device_put(np.asarray(theta, dtype=float))
    delta_j = jax.device_put(np.float64(delta))
    if data.n > large.LARGE_ROWS:
        residuals, H, G, rho = large.diagnostics_chunked(obj, theta_j, w, X, y, groups, delta_j)
    else:
        # the objective reported is the one re-evaluated at the reported (natural) parameters
        residuals, H, G, rho = (np.asarray(a) for a in obj.diagnostics(
            theta_j, w, X, y, groups, delta_j))
    objective_value = float(np.sum(np.where(data.weights > 0, data.weights * rho, 0.0)))
    if loss == "l1":
        objective_value = float(np.sum(data.weights * np.abs(residuals)))
    cov = sandwich_covariance(H, G, data.weights)
    diag = np.diag(cov)
    stderr = {lab: float(np.sqrt(d)) if (np.isfinite(d) and d >= 0 and lab not in bound)
              else float("nan") for lab, d in zip(labels, diag)}

    ci, samples, boot_notes = {}, {}, ()
    if bootstrap:
        samples, boot_notes = _bootstrap(obj, u_best, data, X, y, groups, delta, bootstrap,
                                         seed, derived or {}, law, max_iter, progress)
        q = 100 * (1 - ci_level) / 2
        for name, vals in samples.items():
            ok = vals[np.isfinite(vals)]
            if len(ok):
                ci[name] = (float(np.percentile(ok, q)), float(np.percentile(ok, 100 - q)))
    settings = {"loss": loss, "delta": float(delta) if loss == "huber" else None, "space": space, "bootstrap": int(bootstrap),
                "seed": int(seed), "fixed": dict(fix or {}), "group": group,
                "per_group": list(per_group)}
    if data.n > large.LARGE_ROWS:
        settings["screened_on_rows"] = large.SCREEN_ROWS
    return FitResult(
        law=law, params=params, objective=objective_value, n=data.n, k=layout.k,
        residuals=residuals, status=status, at_bound=bound, labels=labels, stderr=stderr,
        covariance=cov, ci=ci, transforms={s.name: s.transform.name for s in layout.slots},
        starts={"objective": sol.f, "start_objective": sol.f_start,
                "iterations": sol.iterations, "converged": sol.converged},
        settings=settings, seconds=time.perf_counter() - t0,
        goodness=Goodness.of(data.y[data.weights > 0], residuals[data.weights > 0], space),
        bootstrap=samples, ci_level=ci_level, mapping=dict(mapping or {}),
        group_levels=tuple(data.group_levels),
        diagnostics=_diagnose(_law_inputs(data, law, mapping), data.y, residuals,
                              data.weights, space),
        warnings=data.warnings + boot_notes + clustered_residuals(
            data.frame, residuals, data.weights,
            used={*law.inputs, law.output.name, *(mapping or {}).values(),
                  *([group] if group else [])}))


def _bootstrap(obj, u_best, data, X, y, groups, delta, k, seed, derived, law,
               max_iter, progress) -> tuple[dict[str, np.ndarray], tuple[str, ...]]:
    """Refit under K multinomial row resamplings (as weights), all at once from the best
    point (:mod:`lawkit.fitting.bootstrap`); resamples that did not converge are NaN."""
    import jax.numpy as jnp

    from .bootstrap import refit_resamples, resample_weights

    layout = obj.layout
    W = resample_weights(data.n, k, seed, data.weights)
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=k, desc="bootstrap", unit="resample")
    try:
        refits = refit_resamples(obj.value, obj.residual, obj.rho, u_best, W,
                                 (X, y, groups, jnp.asarray(delta)), max_iter=max_iter,
                                 on_done=bar.update if bar is not None else None)
    finally:
        if bar is not None:
            bar.close()
    OK = refits.converged
    thetas = np.column_stack([np.asarray(s.transform.forward(refits.u[:, j]), dtype=float)
                              for j, s in enumerate(layout.slots)])
    thetas[~OK] = np.nan
    notes = ()
    if not OK.all():
        notes = (f"bootstrap: {int((~OK).sum())} of {k} resamples did not converge within "
                 f"{max_iter} iterations; they are left out of the intervals",)
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
    return out, notes
