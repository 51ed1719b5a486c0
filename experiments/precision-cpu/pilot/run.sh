#!/usr/bin/env bash
# The pilot of the CPU precision study (superseded by ../study/): two sweeps with the harness
# as of commit 8b21285 (128-window validation set; PTQ not yet defined for QAT models).
# Kept as a record; resumable: rerun to continue.
set -euo pipefail
cd "$(dirname "$0")"
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
(lawkit sweep ptq.toml --store stores/ptq.db --append --no-progress && lawkit sweep ptq-long.toml --store stores/ptq.db --append --no-progress) &
(lawkit sweep qat.toml --store stores/qat.db --append --no-progress && lawkit sweep qat-long.toml --store stores/qat.db --append --no-progress) &
wait
