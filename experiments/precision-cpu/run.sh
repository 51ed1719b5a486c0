#!/usr/bin/env bash
# The CPU precision study from a clean checkout, or to resume: train the sweeps of study/
# (about 2.2 CPU-core-hours; rerun to continue where it stopped), snapshot the store, then
# validate and write results.json, figures/ and REPORT.md.
set -euo pipefail
cd "$(dirname "$0")"
study/run.sh
python analyze.py
