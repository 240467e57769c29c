"""Edit to commit: the service call the grid makes for each edit, against a bare SQLite write.

The baseline is one UPDATE committed on a raw sqlite3 connection with the same durability
(WAL, synchronous=FULL) on the same disk: what any durable save must pay.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import statistics
import tempfile
import time

from bench.results import Result

EDITS = 500


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run() -> list[Result]:
    from skp_desktop.services.database import open_database
    from skp_desktop.services.entries import EntryChange
    from skp_desktop.services.returns import record_entries

    folder = tempfile.mkdtemp()
    try:
        path = os.path.join(folder, "bench.sqlite3")
        db = open_database(path)
        ours = []
        for number in range(EDITS):
            start = time.perf_counter()
            record_entries(
                db,
                service="HIGHWAYS",
                period="FY2024-25-Q1",
                changes=[
                    EntryChange("SAFER-P4-S1", {"numerator": str(number % 50), "denominator": "50"})
                ],
                actor="bench",
            )
            ours.append(time.perf_counter() - start)
        db.dispose()

        raw = sqlite3.connect(os.path.join(folder, "raw.sqlite3"), isolation_level=None)
        raw.execute("PRAGMA journal_mode=WAL")
        raw.execute("PRAGMA synchronous=FULL")
        raw.execute("CREATE TABLE v (id INTEGER PRIMARY KEY, n TEXT)")
        raw.execute("INSERT INTO v VALUES (1, '0')")
        bare = []
        for number in range(EDITS):
            start = time.perf_counter()
            raw.execute("BEGIN IMMEDIATE")
            raw.execute("UPDATE v SET n = ? WHERE id = 1", (str(number),))
            raw.execute("COMMIT")
            bare.append(time.perf_counter() - start)
        raw.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    p95 = _percentile(ours, 0.95)
    return [
        Result(
            "edit to commit, median",
            statistics.median(ours),
            statistics.median(bare),
            goal=float("inf"),
            note="informative",
        ),
        Result(
            "edit to commit, 95th percentile",
            p95,
            _percentile(bare, 0.95),
            goal=float("inf"),
            note=f"goal p95 ≤ 20 ms: {'holds' if p95 <= 0.020 else 'DOES NOT HOLD'}",
        ),
    ]
