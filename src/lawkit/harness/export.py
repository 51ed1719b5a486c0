"""A run store as a table: one row per (run, PTQ setting), plus the run itself without PTQ
(``ptq_method = none``, ``P_post = 16``), ready for ``lawkit fit`` / ``lawkit validate``.

Columns: run_id, spec, N, D, FLOPs, width, depth, seed, P_w, P_a, P_kv (training bits; 16 =
full precision), train_format, val_loss_train, wall_s, ptq_method, ptq_format, P_post,
val_loss, delta_ptq = val_loss − val_loss_train.
"""

from __future__ import annotations

from .store import RunStore


def export_rows(store: RunStore) -> list[dict]:
    """One row per (run, PTQ setting), plus the run itself without PTQ — ready for fitting.
    P_w, P_a, P_kv, P_post are bits (16 = full precision)."""
    from .precision import bits_of  # format names → bits via lawkit.quant (imports torch)

    rows = []
    for r in store.rows():
        cfg = r["config"]
        base = {"run_id": r["id"], "spec": r["spec"][:10], "N": r["N"], "D": r["D"],
                "FLOPs": r["FLOPs"], "width": cfg["model"]["width"], "depth": cfg["model"]["depth"],
                "seed": cfg["seed"], "P_w": bits_of(cfg["train"]["weight"]),
                "P_a": bits_of(cfg["train"]["activation"]), "P_kv": bits_of(cfg["train"]["kv"]),
                "train_format": cfg["train"]["weight"], "val_loss_train": r["val_loss"],
                "wall_s": r["wall_s"]}
        rows.append({**base, "ptq_method": "none", "ptq_format": "none", "P_post": 16.0,
                     "val_loss": r["val_loss"], "delta_ptq": 0.0})
        for method, fmt, loss in r["ptq"]:
            rows.append({**base, "ptq_method": method, "ptq_format": fmt, "P_post": bits_of(fmt),
                         "val_loss": loss, "delta_ptq": loss - r["val_loss"]})
    return rows
