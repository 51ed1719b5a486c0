"""The CPU precision study's analysis: the study's runs (study/runs.csv, the export of its
store) → validations → results.json → REPORT.md and figures.  Every number in REPORT.md
comes from results.json, which this script recomputes from study/runs.csv
(tests/test_study.py checks that it does).

    experiments/precision-cpu/study/snapshot.sh     # store → study/runs.db, study/runs.csv
    python experiments/precision-cpu/analyze.py     # study/runs.csv → results, REPORT.md
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

import lawkit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from report_text import render  # noqa: E402
BOOTSTRAP = 100
RUNS = HERE / "study" / "runs.csv"


def planned_runs() -> int:
    """Trained models the study's specs ask for: models × tokens × train × seeds."""
    import tomllib

    total = 0
    for spec in sorted((HERE / "study").glob("*.toml")):
        grid = tomllib.loads(spec.read_text(encoding="utf-8"))["grid"]
        total += math.prod(len(grid[k]) for k in ("models", "tokens", "train", "seeds"))
    return total


def _clean(x):
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, (float, np.floating)):
        return None if not math.isfinite(float(x)) else float(f"{float(x):.6g}")
    if isinstance(x, np.integer):
        return int(x)
    return x


def analyze(frame: pd.DataFrame) -> tuple[dict, dict]:
    from lawkit.analysis import optimum
    from lawkit.validation import validate
    from lawkit.validation.report import figures
    from lawkit.validation.stats import slope_within_groups

    laws = lawkit.load(HERE / "laws.law")
    mapping = {"L": "val_loss"}
    out, figs = {"n_runs": int((frame["ptq_method"] == "none").sum()),
                 "n_planned": planned_runs()}, {}
    plain = frame[frame["ptq_method"] == "none"].reset_index(drop=True)

    # noise floor: the same configuration trained with two seeds (every P_w)
    pairs = plain.pivot_table(index=["N", "D", "P_w"], columns="seed", values="val_loss")
    if pairs.shape[1] >= 2:
        diff = (pairs.iloc[:, 0] - pairs.iloc[:, 1]).dropna().abs()
        out["seed_noise"] = {"pairs": int(len(diff)), "mean_abs_diff": float(diff.mean()),
                             "max_abs_diff": float(diff.max())}

    # 1. weight-only QAT: N_eff = N(1 − e^(−P_w/γ_w)) against the additive penalty
    if plain["P_w"].nunique() > 2:
        v = validate(laws["qat_weight"], plain, term="N_eff", reference="P_w >= 16",
                     mapping=mapping, against=[laws["qat_additive"]], bootstrap=BOOTSTRAP)
        out["qat"] = {**v.to_dict(), "params_joint": v.params_joint,
                      "alternatives": list(v.alternatives), "n_rows": v.n_rows,
                      "aic": v.term_fit.aic,
                      "n_reference": v.n_reference, "unreachable": len(v.unreachable)}
        figs["qat_neff"] = figures(v)["term"]

    # 2. PTQ: δ_PTQ = C_T·D^γ_D/N^γ_N·e^(−P_post/γ_post), per method, each run paired with
    # its own unquantized loss (val_loss_train)
    base16 = frame[frame["P_w"] >= 16]
    for method in ("rtn", "gptq"):
        rows = base16[base16["ptq_method"].isin(["none", method])].reset_index(drop=True)
        if (rows["ptq_method"] == method).sum() < 8:
            continue
        v = validate(laws["ptq"], rows, term="delta_PTQ", reference="P_post >= 16",
                     mapping=mapping, bootstrap=BOOTSTRAP, baseline="val_loss_train")
        d = v.data
        cells = d.groupby(["P_post", "N"]).ngroup().to_numpy()  # D varies within a cell
        grow = slope_within_groups(d["_measured"].to_numpy(), d["D"].to_numpy(float), cells,
                                   False, 0.95)
        joint = v.joint_fit.values()
        crit = []
        for n in sorted(d["N"].unique()):
            for p in (3.0, 4.0):
                try:
                    o = optimum(laws["ptq"], over=["D"], at={"N": float(n), "P_post": p},
                                values=joint)
                    crit.append({"N": float(n), "P_post": p, "D_crit": o.at["D"]})
                except lawkit.LawkitError as err:
                    crit.append({"N": float(n), "P_post": p, "D_crit": None, "why": str(err)})
        out[f"ptq_{method}"] = {**v.to_dict(), "params_joint": v.params_joint,
                                "d_slope": grow, "critical_data_size": crit,
                                "n_rows": v.n_rows, "unreachable": len(v.unreachable)}
        figs[f"ptq_{method}"] = _ptq_figure(d, v, crit, method)

    # 3. PTQ of QAT-trained models: the training quantizer replaced, not stacked
    qat = frame[(frame["P_w"] < 16) & (frame["ptq_method"] != "none")]
    out["ptq_of_qat"] = [
        {"method": m, "P_w": float(pw), "P_post": float(pp), "runs": int(len(g)),
         "mean_delta": float(g["delta_ptq"].mean()), "max_abs_delta": float(
             g["delta_ptq"].abs().max())}
        for (m, pw, pp), g in qat.groupby(["ptq_method", "P_w", "P_post"])]
    return _clean(out), figs


def _ptq_figure(d: pd.DataFrame, v, crit, method: str):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.4))
    ax = fig.subplots()
    for i, (n, sub) in enumerate(d[d["P_post"] == d["P_post"].min() + 1].groupby("N")
                                 if (d["P_post"] == d["P_post"].min() + 1).any()
                                 else d.groupby("N")):
        sub = sub.sort_values("D")
        ax.plot(sub["D"], sub["_measured"], "o", color=f"C{i}", ms=4, label=f"N = {n:.3g}")
        ax.plot(sub["D"], sub["_predicted"], "-", color=f"C{i}", lw=1)
        for c in crit:
            if c["N"] == n and c["D_crit"] and c["P_post"] == float(sub["P_post"].iloc[0]):
                ax.axvline(c["D_crit"], color=f"C{i}", ls=":", lw=1)
    ax.set_xscale("log")
    ax.set_xlabel("D (tokens)")
    ax.set_ylabel("δ_PTQ (nats)")
    ax.set_title(f"PTQ ({method}) degradation at P_post = {int(d['P_post'].min() + 1)}; "
                 f"dotted: D_crit")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def main() -> None:
    res, figs = analyze(pd.read_csv(RUNS))
    (HERE / "results.json").write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
    (HERE / "figures").mkdir(exist_ok=True)
    for name, fig in figs.items():
        fig.savefig(HERE / "figures" / f"{name}.png", dpi=110)
    (HERE / "REPORT.md").write_text(render(res), encoding="utf-8")


if __name__ == "__main__":
    main()
