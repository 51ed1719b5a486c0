#!/usr/bin/env bash
# A consistent copy of the live store (safe while the sweep writes: SQLite's online backup)
# as runs.db, and its export runs.csv (the columns of `lawkit runs --csv`), for committing.
set -euo pipefail
cd "$(dirname "$0")"
rm -f runs.db.tmp
lawkit runs live.db --backup runs.db.tmp
mv runs.db.tmp runs.db
lawkit runs runs.db --csv > runs.csv.tmp
mv runs.csv.tmp runs.csv
echo "runs.db, runs.csv: $(($(wc -l < runs.csv) - 1)) rows"
