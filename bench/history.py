"""The auditor's history on a database with 1,000,000 audit events.

- first page of the History view with a filter, against the same query in raw sqlite3, timed
  in turn (goal ≤ 3×);
- a full verify, against a bare loop that recomputes the same SHA-256 chain (goal ≤ 1.5×).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.paired import interleaved
from bench.results import Result

EVENTS = int(os.environ.get("SKP_BENCH_EVENTS", "1000000"))
SERVICES = ("ASC", "CHILDRENS", "HIGHWAYS", "PARKS", "STREETS", "REGULATORY", "EPR")
FILL_VERSION = 1  # bump when _fill makes different events: the cached file is keyed by it


def _fill(path: str) -> None:
    """Append EVENTS hash-chained events straight into the table (building, not measuring)."""
    from skp_desktop.store.audit import HASHED_FIELDS, event_hash

    raw = sqlite3.connect(path)
    (head,) = raw.execute("SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1").fetchone()
    start = datetime(2024, 4, 1, tzinfo=UTC)
    rows = []
    for number in range(EVENTS):
        fields = {
            "prev_hash": head,
            "at": start + timedelta(seconds=number),
            "actor": f"user{number % 40}",
            "action": "value.set",
            "service": SERVICES[number % len(SERVICES)],
            "period": f"FY{2024 + number % 3}-{(25 + number % 3) % 100:02d}-Q{1 + number % 4}",
            "revision": 1,
            "return_uuid": None,
            "indicator": f"SAFER-P{1 + number % 4}-S{1 + number % 6}",
            "old": None,
            "new": json.dumps({"value": str(number % 100)}),
            "reason": None,
            "source": "bench",
            "file_sha256": None,
        }
        head = event_hash(fields)
        at = fields["at"].replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")  # type: ignore[union-attr]
        rows.append([at if name == "at" else fields[name] for name in HASHED_FIELDS] + [head])
        if len(rows) == 50_000:
            _insert(raw, rows)
            rows = []
    _insert(raw, rows)
    raw.close()


def _filled() -> Path:
    """The database of EVENTS events, kept in bench/cache/ (as bench/partnership.py keeps its
    files) under this version of _fill, the schema and the size: filling takes ~100 s of CPU."""
    from bench.partnership import CACHE
    from skp_desktop.services.database import open_database
    from skp_desktop.store.schema_head import SCHEMA_HEAD

    path = CACHE / f"history-v{FILL_VERSION}-schema{SCHEMA_HEAD}-{EVENTS}.sqlite3"
    if not path.exists():
        CACHE.mkdir(exist_ok=True)
        for stale in CACHE.glob(f"history-v*-{EVENTS}.sqlite3*"):
            stale.unlink()
        building = path.with_name(path.name + ".building")
        for leftover in (building, Path(f"{building}-wal"), Path(f"{building}-shm")):
            leftover.unlink(missing_ok=True)
        open_database(building).dispose()
        _fill(str(building))
        raw = sqlite3.connect(building)
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        raw.close()
        os.replace(building, path)
    return path


def _insert(raw: sqlite3.Connection, rows: list[list[object]]) -> None:
    from skp_desktop.store.audit import HASHED_FIELDS

    columns = ", ".join([*HASHED_FIELDS, "hash"])
    marks = ", ".join("?" * (len(HASHED_FIELDS) + 1))
    raw.executemany(f"INSERT INTO audit_events ({columns}) VALUES ({marks})", rows)
    raw.commit()


def run() -> list[Result]:
    from skp_desktop.services.audit import verify
    from skp_desktop.services.database import open_database
    from skp_desktop.services.history import HistoryFilter, history_page
    from skp_desktop.store.audit import HASHED_FIELDS

    path = str(_filled())
    db = open_database(path)
    flt = HistoryFilter(service="HIGHWAYS")
    raw = sqlite3.connect(path)
    query = "SELECT * FROM audit_events WHERE service = ? ORDER BY id DESC LIMIT 200"
    # in turn (bench/paired.py), each warmed first: both read the same pages of the file
    page = interleaved(
        {
            "ours": lambda: history_page(db, flt),
            "bare": lambda: raw.execute(query, ("HIGHWAYS",)).fetchall(),
        },
        30,
    )
    ours, bare = page["ours"], page["bare"]

    start = time.perf_counter()
    report = verify(db)
    ours_verify = time.perf_counter() - start
    assert report.ok, report.problems[:3]
    start = time.perf_counter()
    # The bare loop: the same canonical JSON and SHA-256 over raw rows, nothing else.
    encoder = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    previous, broken = "0" * 64, 0
    for row in raw.execute(
        f"SELECT {', '.join(HASHED_FIELDS)}, hash FROM audit_events ORDER BY id"
    ):
        material = dict(zip(HASHED_FIELDS, row[:-1], strict=True))
        material["at"] = row[1].replace(" ", "T") + "+00:00"
        digest = hashlib.sha256(encoder.encode(material).encode("utf-8")).hexdigest()
        broken += digest != row[-1] or row[0] != previous
        previous = row[-1]
    assert broken == 0, "the bare loop must agree with verify"
    bare_verify = time.perf_counter() - start
    raw.close()
    db.dispose()
    return [
        Result(f"history first page, {EVENTS:,} events", ours, bare, 3.0),
        Result(f"verify {EVENTS:,} events", ours_verify, bare_verify, 1.5),
    ]
