"""Compare candidate laws on the same data: in-sample criteria, cross-validation, and the
error that matters — extrapolation to held-out (largest) models.

    ARE = mean over held-out rows of |ŷ − y| / y      (Choshen et al. 2024)

Each law is fitted the same way (same loss, space, starts) on the training rows; the
ranking is by held-out ARE when a hold-out is given, else by CV ARE, else by AIC.

Rollout cross-validation (``cv="rollout:N"``) scores extrapolation one step at a time: with
the distinct values v₁ < … < v_m of column N, step k fits on the rows with N ≤ v_k and
scores the ARE on the rows with N = v_{k+1}, for every k whose training rows outnumber the
law's fitted parameters; CV ARE is the mean over the steps.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import DataError, LawkitError

_OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt,
        "==": operator.eq, "!=": operator.ne}
_RULE = re.compile(r"^\s*([A-Za-z_]\w*)\s*(>=|<=|==|!=|>|<)\s*([-+]?[\d.]+(?:[eE][-+]?\d+)?)\s*$")


def holdout_mask(frame: pd.DataFrame, rule: str, column: str) -> np.ndarray:
    """Rows selected by ``rule``: ``"COL OP NUMBER"`` (e.g. ``"N >= 1e9"``), or
    ``"largest"`` / ``"largest group"``: the rows whose ``column`` equals its maximum."""
    if rule.strip().lower() in ("largest", "largest group"):
        if column not in frame.columns:
            raise DataError(f"hold-out 'largest' needs column {column!r}")
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
        return values == np.nanmax(values)
    m = _RULE.match(rule)
    if not m:
        raise LawkitError(f"cannot read hold-out rule {rule!r}: write 'COLUMN OP NUMBER' "
                          f"(e.g. 'N >= 1e9') or 'largest'")
    col, op, num = m.groups()
    if col not in frame.columns:
        raise DataError(f"hold-out rule names column {col!r}, which the data does not have "
                        f"(columns: {', '.join(map(str, frame.columns))})")
    values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
    return _OPS[op](values, float(num))


def are(result, frame: pd.DataFrame) -> float:
    """Mean absolute relative error of a fit's predictions on the rows of ``frame``
    (per-group parameters by each row's group)."""
    from .fitting.data import column

    law, mapping = result.law, dict(result.mapping)
    out = law.output.name
    y = column(frame, out, mapping.get(out, out), "output")
    pred = result.predict(frame)
    return float(np.mean(np.abs(pred - y) / np.abs(y)))


def _rows_option(options: dict, rows: np.ndarray) -> dict:
    """Fit options for a subset of rows: a per-row ``weights`` array is sliced to them."""
    w = options.get("weights")
    if w is not None and not isinstance(w, str):
        w = np.asarray(w, dtype=float)
        return {**options, "weights": w[rows]}
    return options


@dataclass(frozen=True, kw_only=True)
class RolloutStep:
    """Fit on rows with ``column`` ≤ ``train_max``, score the ARE on rows = ``test_value``."""

    train_max: float
    test_value: float
    n_train: int
    n_test: int
    are: float | None  # None when the fit on these rows failed

    def to_dict(self) -> dict:
        return {"train_max": self.train_max, "test_value": self.test_value,
                "n_train": self.n_train, "n_test": self.n_test,
                "are": None if self.are is None or not math.isfinite(self.are)
                else float(self.are)}


@dataclass(frozen=True, kw_only=True)
class LawScore:
    name: str
    k: int
    aic: float
    bic: float
    objective: float
    cv_are: float | None
    holdout_are: float | None
    params: Mapping[str, float]
    fit: object  # the FitResult on the training rows
    rollout: tuple[RolloutStep, ...] | None = None
    rollout_column: str | None = None

    def to_dict(self) -> dict:
        def num(x):
            return None if x is None or not math.isfinite(x) else float(x)
        out = {"name": self.name, "k": self.k, "aic": num(self.aic), "bic": num(self.bic),
               "objective": num(self.objective), "cv_are": num(self.cv_are),
               "holdout_are": num(self.holdout_are),
               "params": {k: num(v) for k, v in self.params.items()}}
        if self.rollout is not None:
            out["rollout"] = {"column": self.rollout_column, "mean_are": num(self.cv_are),
                              "steps": [s.to_dict() for s in self.rollout]}
        return out


@dataclass(frozen=True, kw_only=True)
class Comparison:
    """Scores of each law, ranked best first, and the hold-out mask used."""

    scores: tuple[LawScore, ...]
    ranked_by: str
    holdout: np.ndarray | None
    frame: pd.DataFrame

    @property
    def best(self) -> str:
        return self.scores[0].name

    def to_dict(self) -> dict:
        return {"laws": [s.to_dict() for s in self.scores], "best": self.best,
                "ranked_by": self.ranked_by,
                "n_holdout": None if self.holdout is None else int(self.holdout.sum())}

    def table(self) -> pd.DataFrame:
        return pd.DataFrame([s.to_dict() for s in self.scores]).drop(
            columns=["params", "rollout"], errors="ignore")

    def report(self) -> str:
        lines = [f"[[Comparison]] ranked by {self.ranked_by}; best: {self.best}"]
        head = f"    {'law':<20} {'k':>3} {'AIC':>11} {'BIC':>11} {'CV ARE':>9} {'hold-out ARE':>13}"
        lines.append(head)
        for s in self.scores:
            def pct(x):
                return f"{100 * x:8.3f}%" if x is not None and math.isfinite(x) else f"{'—':>9}"
            lines.append(f"    {s.name:<20} {s.k:>3} {s.aic:11.3f} {s.bic:11.3f} {pct(s.cv_are)} "
                         f"{pct(s.holdout_are):>13}")
        rolled = [s for s in self.scores if s.rollout is not None]
        if rolled:
            col = rolled[0].rollout_column
            lines.append(f"[[Rollout]]  fit on {col} ≤ v_k, ARE on the next {col}")
            steps = rolled[0].rollout
            lines.append(f"    {'train ' + col + ' ≤':>14} {'test ' + col:>12} {'rows':>9} "
                         + " ".join(f"{s.name[:14]:>14}" for s in rolled))
            for i, st in enumerate(steps):
                cells = []
                for s in rolled:
                    e = s.rollout[i].are
                    cells.append(f"{100 * e:13.3f}%" if e is not None and math.isfinite(e)
                                 else f"{'failed':>14}")
                lines.append(f"    {st.train_max:>14.4g} {st.test_value:>12.4g} "
                             f"{f'{st.n_train}/{st.n_test}':>9} " + " ".join(cells))
            lines.append(f"    {'mean':>14} {'':>12} {'':>9} "
                         + " ".join(f"{100 * s.cv_are:13.3f}%" if s.cv_are is not None
                                    and math.isfinite(s.cv_are) else f"{'—':>14}"
                                    for s in rolled))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return self.table().to_html(index=False)


def _folds(frame: pd.DataFrame, cv, seed: int) -> list[np.ndarray]:
    """Boolean test masks: k shuffled folds, or one per value of a column (``"by=COL"``)."""
    n = len(frame)
    if isinstance(cv, str) and cv.startswith("by="):
        col = cv[3:]
        if col not in frame.columns:
            raise DataError(f"--cv by={col}: the data has no column {col!r}")
        return [(frame[col] == level).to_numpy() for level in pd.unique(frame[col])]
    k = int(cv)
    if not 2 <= k <= n:
        raise LawkitError(f"--cv needs 2 ≤ K ≤ {n} folds, got {k}")
    order = np.random.default_rng(seed).permutation(n)
    masks = []
    for part in np.array_split(order, k):
        m = np.zeros(n, dtype=bool)
        m[part] = True
        masks.append(m)
    return masks


def rollout_column(cv) -> str | None:
    """The column of a ``"rollout:COL"`` CV spec (None for other specs)."""
    if not (isinstance(cv, str) and cv.strip().lower().startswith("rollout")):
        return None
    head, sep, col = cv.strip().partition(":")
    if head.lower() != "rollout" or not sep or not col.strip():
        raise LawkitError(f"--cv {cv!r}: write rollout:COLUMN (e.g. rollout:N), the column "
                          f"whose sizes order the steps")
    return col.strip()


def check_cv(cv):
    """``cv`` as compare() takes it: an int K ≥ 2, ``"by=COL"`` or ``"rollout:COL"``."""
    if cv is None or rollout_column(cv) is not None:
        return cv
    if isinstance(cv, str) and cv.startswith("by="):
        if not cv[3:]:
            raise LawkitError("--cv by=COLUMN needs a column name")
        return cv
    try:
        k = int(cv)
        if isinstance(cv, float) and k != cv:
            raise ValueError
    except (TypeError, ValueError):
        raise LawkitError(f"--cv must be a number of folds, by=COLUMN or rollout:COLUMN, "
                          f"not {cv!r}") from None
    return k


def _rollout(law, train: pd.DataFrame, train_rows, col_spec: str, mapping, fit, seed,
             fit_options, n_free: int) -> tuple[RolloutStep, ...]:
    """Every rollout step of one law (see the module docstring): the steps whose training
    rows outnumber ``n_free`` (the most fitted parameters of the laws compared, so that
    every law is scored on the same steps)."""
    from .errors import FitError

    col = col_spec if col_spec in train.columns else mapping.get(col_spec, col_spec)
    if col not in train.columns:
        raise DataError(f"--cv rollout:{col_spec}: the data has no column {col_spec!r}"
                        + (f" (mapped to {col!r})" if col != col_spec else "")
                        + f"; columns: {', '.join(map(str, train.columns))}")
    values = pd.to_numeric(train[col], errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(values).all():
        raise DataError(f"--cv rollout:{col_spec}: column {col!r} has non-numeric or missing "
                        f"values")
    levels = np.unique(values)
    if len(levels) < 2:
        raise DataError(f"--cv rollout:{col_spec}: column {col!r} has {len(levels)} distinct "
                        f"value(s); a rollout needs at least two")
    steps = []
    for k in range(len(levels) - 1):
        inside, test = values <= levels[k], values == levels[k + 1]
        if inside.sum() <= n_free:
            continue
        try:
            part = fit(law, train[inside].reset_index(drop=True), mapping=mapping, seed=seed,
                       **_rows_option(fit_options, train_rows[inside]))
            err = are(part, train[test])
        except (FitError, DataError):
            err = None
        steps.append(RolloutStep(train_max=float(levels[k]), test_value=float(levels[k + 1]),
                                 n_train=int(inside.sum()), n_test=int(test.sum()), are=err))
    if not steps:
        raise DataError(f"--cv rollout:{col_spec}: no step has more training rows than the "
                        f"{n_free} fitted parameters")
    return tuple(steps)


def compare(laws: Sequence, data, *, holdout: str | None = None, cv=None,
            mapping: Mapping[str, str] | None = None, seed: int = 0,
            mappings: Mapping[str, Mapping[str, str]] | None = None,
            **fit_options) -> Comparison:
    """Fit each law the same way and score it.

    Args:
      holdout: rows to hold out for extrapolation ARE (``"N >= 1e9"`` or ``"largest"``).
      cv: K (k-fold), ``"by=COL"`` (leave one group out) or ``"rollout:COL"`` (fit on the
        sizes up to each value of COL, score the next), on the training rows.
      mapping: law name → data column for every law; ``mappings[law]`` adds or overrides
        names for one law.  A hold-out rule may name a data column or a mapped law name.
      fit_options: passed to :func:`lawkit.fit` (loss, delta, space, starts, …).
    """
    from .fitting import fit
    from .fitting.data import read_table

    if not laws:
        raise LawkitError("compare() needs at least one law")
    cv = check_cv(cv)
    rolling = rollout_column(cv)
    frame = read_table(data).reset_index(drop=True)
    from .mapping import law_mapping, rule_in_data_names

    maps = {law.name: law_mapping(law, mapping, mappings) for law in laws}
    first_input = next(iter(laws[0].inputs))
    if holdout:
        holdout = rule_in_data_names(holdout, frame, maps)
    mask = (holdout_mask(frame, holdout, maps[laws[0].name].get(first_input, first_input))
            if holdout else None)
    if mask is not None and (mask.all() or not mask.any()):
        raise DataError(f"hold-out rule {holdout!r} selects {int(mask.sum())} of {len(frame)} rows; "
                        f"it must leave rows on both sides")
    train_rows = np.flatnonzero(~mask) if mask is not None else np.arange(len(frame))
    train = frame.iloc[train_rows].reset_index(drop=True)
    scores = []
    for law in laws:
        mapping = maps[law.name]
        result = fit(law, train, mapping=mapping, seed=seed,
                     **_rows_option(fit_options, train_rows))
        cv_are, steps = None, None
        if rolling is not None:
            n_free = max(len([p for p in other.free_params
                              if p not in (fit_options.get("fix") or {})]) for other in laws)
            steps = _rollout(law, train, train_rows, rolling, mapping, fit, seed, fit_options,
                             n_free)
            errs = [s.are for s in steps if s.are is not None and math.isfinite(s.are)]
            cv_are = float(np.mean(errs)) if errs else float("nan")
        elif cv is not None:
            errs = []
            for test in _folds(train, cv, seed):
                rows = train_rows[~test]
                part = fit(law, train[~test], mapping=mapping, seed=seed,
                           **_rows_option(fit_options, rows))
                errs.append(are(part, train[test]))
            cv_are = float(np.mean(errs))
        hold = are(result, frame[mask]) if mask is not None else None
        scores.append(LawScore(name=law.name, k=result.k, aic=result.aic, bic=result.bic,
                               objective=result.objective, cv_are=cv_are, holdout_are=hold,
                               params=dict(result.params), fit=result, rollout=steps,
                               rollout_column=rolling))
    key, ranked_by = ((lambda s: s.holdout_are), "hold-out ARE") if mask is not None else (
        ((lambda s: s.cv_are), "rollout ARE" if rolling else "CV ARE") if cv is not None
        else ((lambda s: s.aic), "AIC"))
    scores.sort(key=lambda s: (not math.isfinite(key(s)), key(s)))
    return Comparison(scores=tuple(scores), ranked_by=ranked_by, holdout=mask, frame=frame)
