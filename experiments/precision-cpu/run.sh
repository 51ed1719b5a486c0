#!/usr/bin/env bash
# The CPU precision study, from a clean checkout: train both sweeps (resumable: rerun to
# continue), then export, validate and write REPORT.md. About 1.5 CPU-core-hours.
set -euo pipefail
cd "$(dirname "$0")"
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
(lawkit sweep ptq.toml --store stores/ptq.db --append --no-progress && lawkit sweep ptq-long.toml --store stores/ptq.db --append --no-progress) &
(lawkit sweep qat.toml --store stores/qat.db --append --no-progress && lawkit sweep qat-long.toml --store stores/qat.db --append --no-progress) &
wait
python analyze.py
