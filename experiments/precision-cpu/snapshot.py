"""Copy live run stores into stores/ with SQLite's online backup (a consistent copy while a
sweep is writing), for committing: python snapshot.py ptq.db qat.db"""

import sqlite3
import sys
from pathlib import Path

here = Path(__file__).resolve().parent
(here / "stores").mkdir(exist_ok=True)
for name in sys.argv[1:]:
    src = sqlite3.connect(f"file:{here / name}?mode=ro", uri=True)
    dst = sqlite3.connect(here / "stores" / Path(name).name)
    src.backup(dst)
    dst.execute("PRAGMA journal_mode=DELETE")
    dst.close()
    src.close()
