#!/usr/bin/env bash
# The harness precision study with one command, from a clean checkout or to resume:
#   experiments/precision-cpu/study/run.sh
# Trains main.toml, seeds.toml, long.toml into one store (live.db; it resumes where it
# stopped, and starts from the committed runs.db when live.db is absent), then writes the
# consistent snapshot runs.db and its export runs.csv.  WORKERS / THREADS override the
# defaults (1 worker with 1 torch thread, leaving the other cores free).
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -e live.db ] && [ -e runs.db ]; then
    cp runs.db live.db
fi
for spec in main.toml seeds.toml long.toml; do
    lawkit sweep "$spec" --store live.db --append --workers "${WORKERS:-1}" \
        --threads "${THREADS:-1}" --no-progress
done
./snapshot.sh
