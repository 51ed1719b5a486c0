"""``validate``: check one term of a law against measured effects.

1. Reference fit: the law with the term at its full-precision value, fitted on the
   reference rows (the term's own parameters are not identifiable there and are absent).
2. Measured term: every other row's loss inverted for the term's value, relative to the
   reference value (N_eff/N) or absolute for an additive term; per group, the geometric
   (relative) or arithmetic (absolute) mean, with a percentile interval from bootstrap
   draws of the reference fit combined with row resampling within the group (seeds).
3. Predicted term: the term's own parameters fitted with the rest held at the reference fit
   (``params``), and jointly with everything (``params_joint``).
4. Verdict: an F-test of the term's form against the saturated alternative (one free
   factor — or, for an additive term, one free value — per group), both least squares on
   log loss with the rest held at the reference fit; and, for a relative term, the slope
   of log(N_eff/N) on log N within groups.  ``consistent`` iff p ≥ 0.05 and the slope's
   interval contains 0.

With ``baseline=COL`` (an additive term only) every row is paired with its own
full-precision loss (the same model before post-training quantization): the measured term
is ``L − L_baseline``, the fitted form is ``L = L_baseline + term``, and the reference fit
serves the joint fit only.  The measured intervals then come from the pooled within-group
(seed) scatter, and a group of one run is allowed where other groups are replicated: the
F-test is the classical lack-of-fit test, its pure error from the replicated groups.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..backends.jax import in_double_precision
from .result import GroupRow, Validation
from .rows import read_data, row_filter
from .stats import f_test, group_means, saturated_ssr, slope_within_groups
from .term import BASELINE, TermView, ValidationError

_LEVEL = 0.05


def _fit(law, frame, mapping, **kw):
    from ..fitting import fit

    return fit(law, frame, mapping=mapping, loss="mse", space="log", **kw)


def _env(law, frame: pd.DataFrame, mapping: Mapping[str, str]) -> dict:
    from ..fitting.data import column

    return {n: column(frame, n, mapping.get(n, n), "input") for n in law.inputs
            if mapping.get(n, n) in frame.columns}


def _interval(vals: np.ndarray, level: float) -> tuple[float, float]:
    ok = vals[np.isfinite(vals)]
    if not len(ok):
        return (math.nan, math.nan)
    q = 100 * (1 - level) / 2
    return (float(np.percentile(ok, q)), float(np.percentile(ok, 100 - q)))


def _check_baseline(test, baseline: str, output: str, rows0: np.ndarray) -> None:
    """Each compared row's own full-precision loss: a positive finite number, in a column
    other than the output; errors name the rows as they are in the data."""
    if baseline == output:
        raise ValidationError(f"baseline: {baseline!r} is the output column itself; name the "
                              f"column of each model's full-precision loss (e.g. val_loss_train)")
    raw = test[baseline]
    if pd.api.types.is_bool_dtype(raw.dtype):
        raise ValidationError(f"baseline: column {baseline!r} holds true/false values, not losses")
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    bad = ~(np.isfinite(values) & (values > 0))
    if bad.any():
        shown = ", ".join(str(int(i)) for i in rows0[bad][:5])
        more = f" and {int(bad.sum()) - 5} more" if bad.sum() > 5 else ""
        raise ValidationError(f"baseline: column {baseline!r} is not a positive finite loss in "
                              f"{int(bad.sum())} row(s) of the data ({shown}{more}; 0-based, "
                              f"as read): e.g. {_shown(raw[bad].iloc[0])}")


def _shown(v) -> str:
    return repr(v) if isinstance(v, str) else f"{float(v):g}" if isinstance(
        v, (int, float, np.number)) else repr(v)


@in_double_precision
def validate(law, data, *, term: str, reference: str | None = None,
             by: Sequence[str] | None = None, mapping: Mapping[str, str] | None = None,
             where: str | None = None, against: Sequence = (), bootstrap: int = 200,
             seed: int = 0, level: float = 0.95, baseline: str | None = None) -> Validation:
    """Validate ``term`` of ``law`` on ``data`` (DataFrame, CSV/Parquet, or a ``runs.db``)."""
    from ..backends.numpy import compile_expression
    from ..fitting.data import column

    mapping = dict(mapping or {})
    named = ()
    if reference:  # the law inputs the reference filter names are the term's own inputs
        cols = set(re.findall(r"[A-Za-z_][\w.]*", reference))
        named = tuple(n for n in law.inputs if mapping.get(n, n) in cols)
    view = TermView(law, term, named)
    frame, from_store = read_data(data)
    out = law.output.name
    if from_store:
        if mapping.get(out, out) not in frame.columns:
            mapping[out] = "val_loss"
        if "ptq_method" in frame.columns and not any(
                n in view.own_inputs for n in ("P_post",)):
            frame = frame[frame["ptq_method"] == "none"].reset_index(drop=True)
    rows0 = np.arange(len(frame))  # each row's place in the table as read, for messages
    if where:
        keep = np.asarray(row_filter(frame, where, "where"), dtype=bool)
        frame, rows0 = frame[keep].reset_index(drop=True), rows0[keep]
    if not view.own_inputs and not by:
        raise ValidationError(f"term {term!r} has no inputs of its own to group by; give by=")
    if not by:  # a relative term: by its own inputs; an additive one: by every input it has
        by = list(view.own_inputs) if view.relative else [
            n for n in law.inputs if law.symbol(n) in view.expr.free_symbols]
        by = [mapping.get(n, n) for n in by]
    by = list(by)
    for col in by:
        if col not in frame.columns:
            raise ValidationError(f"by: the data has no column {col!r} "
                                  f"(columns: {', '.join(map(str, frame.columns))})")
    ref_text = reference or " and ".join(f"{mapping.get(n, n)} >= 16" for n in view.own_inputs)
    if not ref_text:
        raise ValidationError("give reference= (the rows where the term is at full precision)")
    ref = row_filter(frame, ref_text, "reference")
    if not ref.any():
        raise ValidationError(f"no reference rows: {ref_text!r} matched 0 of {len(frame)} rows")
    if ref.all():
        raise ValidationError(f"every row matches the reference {ref_text!r}: nothing to validate")
    ref_frame, test = frame[ref].reset_index(drop=True), frame[~ref].reset_index(drop=True)
    full, plain_map = law, dict(mapping)
    if baseline is not None:
        if baseline not in frame.columns:
            raise ValidationError(f"baseline: the data has no column {baseline!r} (columns: "
                                  f"{', '.join(map(str, frame.columns))})")
        if against:
            raise ValidationError("against= scores alternatives against the reference fit; "
                                  "it cannot be combined with baseline=")
        view = view.paired
        _check_baseline(test, baseline, mapping.get(out, out), rows0[~np.asarray(ref)])
        law, mapping = view.law, {**mapping, BASELINE: baseline}

    # 1. reference fit (bootstrap draws feed the measured intervals)
    ref_law = TermView(full, term, named).reference_law
    ref_fit = _fit(ref_law, ref_frame, plain_map, bootstrap=bootstrap, seed=seed)
    base = ref_fit.values()

    # 2. measured term per row
    env = _env(law, test, mapping)
    y = column(test, out, mapping.get(out, out), "output")
    ref_f = compile_expression(view.reference_value)

    def measured_rows(params):
        e = {**env, **params}
        refv = np.asarray(ref_f(e), dtype=float) * np.ones(len(y))
        t = view.measure(e, y, refv)
        return (t / refv if view.relative else t), refv

    ratio, refv = measured_rows(base)
    keys = [tuple(r) for r in test[by].itertuples(index=False)]
    levels = sorted(set(keys), key=lambda k: tuple(str(v) for v in k))
    index = np.array([levels.index(k) for k in keys])
    small = [lv for i, lv in enumerate(levels) if (index == i).sum() < 2]
    if baseline is not None and len(small) < len(levels):
        small = []  # lack of fit: the pure error comes from the replicated groups
    if small:
        raise ValidationError(f"group(s) {', '.join(map(str, small))} of {', '.join(by)} have "
                              f"fewer than 2 rows; a group needs at least 2")
    unreachable = [int(i) for i in np.flatnonzero(~np.isfinite(ratio))]
    rng = np.random.default_rng(seed)
    draws, slopes = [], []
    n_name = "N" if "N" in law.inputs else next(iter(law.inputs))
    n_values = env.get(n_name)
    if bootstrap and ref_fit.bootstrap and baseline is None:
        free = [n for n in ref_fit.bootstrap if n in ref_law.params]
        for b in range(len(ref_fit.bootstrap[free[0]])):
            p = {**base, **{n: float(ref_fit.bootstrap[n][b]) for n in free}}
            if not all(math.isfinite(v) for v in p.values()):
                continue
            r, _ = measured_rows(ref_law.complete_values(p))
            rows = np.concatenate([rng.choice(np.flatnonzero(index == g), (index == g).sum())
                                   for g in range(len(levels))])
            draws.append(group_means(r[rows], index[rows], len(levels), view.relative))
            if n_values is not None:
                slopes.append(slope_within_groups(r[rows], n_values[rows], index[rows],
                                                  view.relative, level)["slope"])
    measured = group_means(ratio, index, len(levels), view.relative)
    measured_ci = [_interval(np.array([d[g] for d in draws]), level) if draws
                   else (math.nan, math.nan) for g in range(len(levels))]
    if baseline is not None:
        own = [by.index(mapping.get(n, n)) for n in view.own_inputs if mapping.get(n, n) in by]
        stratum = [tuple(lv[i] for i in own) for lv in levels]  # the group's precision
        codes = {k: c for c, k in enumerate(dict.fromkeys(stratum))}
        strata = np.array([codes[k] for k in stratum])
        measured_ci = _pooled_intervals(ratio, index, measured, level, strata)

    # 3. predicted: the term's parameters with the rest held, and jointly
    fixed = {n: v for n, v in base.items() if n in law.free_params}
    cond = _fit(law, test, mapping, fix=fixed, bootstrap=bootstrap, seed=seed)
    joint = _fit(full, frame, plain_map, throw=False)
    term_f = compile_expression(view.expr)
    pred_rows = np.asarray(term_f({**env, **cond.values()}), dtype=float) * np.ones(len(y))
    pred_rows = pred_rows / refv if view.relative else pred_rows
    predicted = group_means(pred_rows, index, len(levels), view.relative)

    def ci_of(res, name):
        if name in res.ci:
            return res.ci[name]
        se = res.stderr.get(name, math.nan)
        z = 1.959963984540054 if level == 0.95 else float(__import__("scipy.stats").stats.norm
                                                          .ppf(0.5 + level / 2))
        return (res.params[name] - z * se, res.params[name] + z * se)

    params = {n: {"value": cond.params[n], "ci": ci_of(cond, n)} for n in view.own_params
              if n in cond.params}
    params_joint = {n: {"value": joint.params[n], "ci": ci_of(joint, n)} for n in full.free_params
                    if n in joint.params}

    # 4. verdict: form vs saturated, and the trend in N
    ssr_p = float(np.sum(cond.residuals ** 2))
    ssr_s = saturated_ssr(view, env, y, refv, index, len(levels), cond.values())
    k = len([n for n in view.own_params if n in law.free_params])
    test_result = f_test(ssr_p, ssr_s, n=len(y), groups=len(levels), k=k)
    trend = slope_within_groups(ratio, n_values, index, view.relative, level)
    good = np.array([b for b in slopes if b is not None], dtype=float)
    if len(good) >= 20 and trend["slope"] is not None:
        # the interval carries the reference fit's uncertainty (its draws), not only OLS noise
        trend = {"slope": trend["slope"], "ci": list(_interval(good, level))}
    verdict = "consistent" if (test_result.p_value >= _LEVEL and (
        not view.relative or not (trend["ci"][0] > 0 or trend["ci"][1] < 0))) else "deviates"

    groups = [GroupRow(key={c: _plain(v) for c, v in zip(by, lv)}, n=int((index == g).sum()),
                       measured=float(measured[g]), measured_ci=tuple(measured_ci[g]),
                       predicted=float(predicted[g]),
                       residual=float(measured[g] - predicted[g]))
              for g, lv in enumerate(levels)]
    alternatives = [_alternative(alt, test, mapping, fixed_of=base, ssr_s=ssr_s, index=index,
                                 n_groups=len(levels)) for alt in against]
    return Validation(law=full.name, term=term, reference=ref_text, by=tuple(by),
                      params=params, params_joint=params_joint, groups=tuple(groups),
                      verdict=verdict, test=test_result, n_trend=trend,
                      relative=view.relative, n_reference=int(ref.sum()), n_rows=len(y),
                      unreachable=tuple(unreachable), reference_fit=ref_fit, term_fit=cond,
                      joint_fit=joint, alternatives=tuple(alternatives), level=level,
                      bootstrap=int(bootstrap), baseline=baseline, data=test.assign(_measured=ratio,
                                                                 _predicted=pred_rows,
                                                                 _group=index))


def _pooled_intervals(values, index, means, level, strata) -> list[tuple[float, float]]:
    """mean ± t·s/√n per group, s² the within-group (seed) variance pooled over the groups
    of one stratum (the same precision: the scatter grows as the bits fall), or over all
    groups where a stratum has no replicated group."""
    from scipy import stats as st

    ok = np.isfinite(values)
    dev2 = (values - means[index]) ** 2
    sizes = np.bincount(index[ok], minlength=len(means))

    def spread(groups):
        rows = ok & np.isin(index, groups)
        dof = int(rows.sum() - np.count_nonzero(sizes[groups]))
        return (math.sqrt(float(np.sum(dev2[rows])) / dof), dof) if dof >= 1 else None

    everything = spread(np.arange(len(means)))
    out = []
    for g, (m, k) in enumerate(zip(means, sizes)):
        sd = spread(np.flatnonzero(strata == strata[g])) or everything
        if not k or sd is None:
            out.append((math.nan, math.nan))
            continue
        half = float(st.t.ppf(0.5 + level / 2, sd[1])) * sd[0] / math.sqrt(k)
        out.append((float(m - half), float(m + half)))
    return out


def _plain(v):
    return v.item() if isinstance(v, np.generic) else v


def _alternative(alt, test, mapping, *, fixed_of, ssr_s, index, n_groups) -> dict:
    """An alternative law (same output): fitted with the parameters it shares with the
    reference fit held there, scored by the same F-test against the saturated model."""
    fixed = {n: v for n, v in fixed_of.items() if n in alt.free_params}
    res = _fit(alt, test, mapping, fix=fixed, throw=False)
    ssr = float(np.sum(res.residuals ** 2))
    k = len([n for n in alt.free_params if n not in fixed])
    t = f_test(ssr, ssr_s, n=len(test), groups=n_groups, k=k)
    return {"law": alt.name, "ssr": ssr, "k": k, "aic": res.aic,
            "test": t.to_dict(), "params": {n: res.params[n] for n in alt.free_params
                                            if n not in fixed}}
