"""PostgreSQL beside SQLite: the same use cases, timed on both engines in the same run.

- entering values: one `record_entries` per transaction, as people save (goal ≤ 3×: every
  statement is a round trip to a server, and each write waits for the chain lock);
- importing return files (goal ≤ 2×: reading the workbooks costs the same on both);
- the History view's first page with a filter, on a chain of SKP_BENCH_PG_EVENTS events
  (default 100,000; goal ≤ 3×), and a full verify of that chain (goal ≤ 2×).

"ours" is PostgreSQL and "baseline" is SQLite, both open at once and each figure timed on one
and the other in turn (bench/paired.py); a row's figure is the median of its runs. The server
is `$SKP_BENCH_PG_URL` (an empty database you made), or else a throwaway one started from the
installed binaries with a real server's durability (fsync on), like the test suite's
(tests/postgres_server.py).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.paired import interleaved
from bench.results import Result

EVENTS = int(os.environ.get("SKP_BENCH_PG_EVENTS", "100000"))
ENTRIES = 150
FILES = 30
SERVICES = ("ASC", "CHILDRENS", "HIGHWAYS", "PARKS", "STREETS", "REGULATORY", "EPR")


@contextlib.contextmanager
def _server_url() -> Iterator[str]:
    given = os.environ.get("SKP_BENCH_PG_URL")
    if given:
        yield given
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from postgres_server import running_server  # the test suite's throwaway server

    with running_server(durable=True) as server:
        with server.connect() as admin:
            admin.execute('CREATE DATABASE "bench"')
        yield server.url("bench")


def _enter(db: object, number: int) -> None:
    """One save of one indicator, as a person's save is."""
    from skp_desktop.services.entries import EntryChange
    from skp_desktop.services.returns import record_entries

    record_entries(
        db,  # type: ignore[arg-type]
        service="CHILDRENS",
        period="FY2024-25-Q1",
        changes=[EntryChange("SAFER-P1-B2", {"value": str(100 + number % 7)})],
        actor="bench",
    )


def _return_files(folder: Path) -> list[Path]:
    """FILES submitted returns exported from a scratch SQLite database."""
    from skp_desktop.domain.periods import parse_period
    from skp_desktop.services import exchange
    from skp_desktop.services.database import open_database
    from skp_desktop.services.entries import EntryChange
    from skp_desktop.services.returns import record_entries, submit_return

    source = open_database(folder / "source.sqlite3")
    period = parse_period("FY2019-20-Q1")
    files: list[Path] = []
    try:
        while len(files) < FILES:
            if period.code.endswith("Q4"):  # its return also asks for the annual indicators
                period = period.next()
            for code, value in (("SAFER-P3-S1", "10/100"), ("SAFER-P3-S2", "40")):
                numerator, _, denominator = value.partition("/")
                fields = (
                    {"numerator": numerator, "denominator": denominator}
                    if denominator
                    else {"value": value}
                )
                record_entries(
                    source,
                    service="COMMSAFETY",
                    period=period.code,
                    changes=[EntryChange(code, fields)],
                    actor="bench",
                )
            submit_return(source, service="COMMSAFETY", period=period.code, actor="bench")
            out = folder / f"commsafety-{period.code}.xlsx"
            exchange.export_return(
                source, service="COMMSAFETY", period=period.code, out=out, actor="bench"
            )
            files.append(out)
            period = period.next()
    finally:
        source.dispose()
    return files


def _import(db: object, file: Path) -> None:
    from skp_desktop.services import exchange

    outcomes = exchange.import_files(db, [file], actor="bench")  # type: ignore[arg-type]
    assert [o.status for o in outcomes] == ["ACCEPTED"], [o.reason for o in outcomes]


def _fill(db: object) -> None:
    """Append EVENTS hash-chained events with plain INSERTs (building, not measuring).

    On PostgreSQL as a superuser (the throwaway server's login) the server's triggers are off
    while they go in, as in a restore of a dump: each event's row triggers (the actor, the
    role, the chain) took ~0.6 ms, a minute of the module's wall time at 100,000 events. The
    events are made as the app makes them (the hashes here, the actor the server's name for
    the login), so the chain verifies the same."""
    from sqlalchemy import insert, select, text

    from skp_desktop.services.database import acting_actor
    from skp_desktop.store.audit import HASHED_FIELDS, event_hash
    from skp_desktop.store.models import AuditEvent

    # A shared database records every event in the login's name (migration 0006).
    actors = [acting_actor(db, f"user{n}") for n in range(40)]  # type: ignore[arg-type]
    with db.transaction() as session:  # type: ignore[attr-defined]
        if db.is_postgresql and session.scalar(  # type: ignore[attr-defined]
            text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        ):
            session.execute(text("SET LOCAL session_replication_role = replica"))
        head = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
        start = datetime(2024, 4, 1, tzinfo=UTC)
        rows: list[dict[str, object]] = []
        for number in range(EVENTS):
            fields: dict[str, object] = {
                "prev_hash": head,
                "at": start + timedelta(seconds=number),
                "actor": actors[number % 40],
                "action": "value.set",
                "service": SERVICES[number % len(SERVICES)],
                "period": f"FY{2024 + number % 3}-{(25 + number % 3) % 100:02d}-Q{1 + number % 4}",
                "revision": 1,
                "return_uuid": None,
                "indicator": f"SAFER-P{1 + number % 4}-S{1 + number % 6}",
                "old": None,
                "new": f'{{"value":"{number % 100}"}}',
                "reason": None,
                "source": "bench",
                "file_sha256": None,
            }
            head = event_hash(fields)
            rows.append({**{name: fields[name] for name in HASHED_FIELDS}, "hash": head})
            if len(rows) == 20_000:
                session.execute(insert(AuditEvent), rows)
                rows = []
        if rows:
            session.execute(insert(AuditEvent), rows)


def _measure(targets: dict[str, object], files: list[Path]) -> dict[str, dict[str, float]]:
    """Each figure on both engines, timed in turn on one and the other (bench/paired.py), so
    that a slow minute of this machine falls on both alike."""
    from sqlalchemy import text

    from skp_desktop.services.database import open_database
    from skp_desktop.services.history import HistoryFilter, history_page

    found: dict[str, dict[str, float]] = {engine: {} for engine in targets}
    dbs = {engine: open_database(target, actor="bench") for engine, target in targets.items()}
    try:
        saves = itertools.count()
        for engine, median in interleaved(
            {engine: lambda db=db: _enter(db, next(saves)) for engine, db in dbs.items()}, ENTRIES
        ).items():
            found[engine]["enter"] = median
        # each file once into each engine, in turn: a round is the next file on both
        unread = {engine: iter(files) for engine in dbs}
        for engine, median in interleaved(
            {
                engine: lambda db=db, left=unread[engine]: _import(db, next(left))
                for engine, db in dbs.items()
            },
            len(files),
            warm=False,
        ).items():
            found[engine]["import"] = median
        for db in dbs.values():
            _fill(db)
            if db.is_postgresql:  # as autovacuum would soon after a real bulk load
                with db.transaction() as session:
                    session.execute(text("ANALYZE audit_events"))
        flt = HistoryFilter(service="HIGHWAYS")
        for engine, median in interleaved(
            {engine: lambda db=db: history_page(db, flt) for engine, db in dbs.items()}, 30
        ).items():
            found[engine]["history"] = median
        for engine, median in interleaved(
            {engine: lambda db=db: _verified(db) for engine, db in dbs.items()}, 1, warm=False
        ).items():
            found[engine]["verify"] = median
    finally:
        for db in dbs.values():
            db.dispose()
    return found


def _verified(db: object) -> None:
    from skp_desktop.services.audit import verify

    report = verify(db)  # type: ignore[arg-type]
    assert report.ok, report.problems[:3]


def run() -> list[Result]:
    work = Path(tempfile.mkdtemp())
    try:
        files = _return_files(work)
        try:
            with _server_url() as url:
                found = _measure({"sqlite": str(work / "bench.sqlite3"), "postgres": url}, files)
        except Exception as exc:  # no server here: say so and leave PostgreSQL out
            print(f"pg_throughput: PostgreSQL not measured ({exc})", file=sys.stderr)
            return []
    finally:
        shutil.rmtree(work, ignore_errors=True)
    sqlite, postgres = found["sqlite"], found["postgres"]
    return [
        Result("PG vs SQLite: save one entry", postgres["enter"], sqlite["enter"], 3.0),
        Result("PG vs SQLite: import one file", postgres["import"], sqlite["import"], 2.0),
        Result(
            f"PG vs SQLite: history page, {EVENTS:,}",
            postgres["history"],
            sqlite["history"],
            3.0,
        ),
        Result(f"PG vs SQLite: verify {EVENTS:,}", postgres["verify"], sqlite["verify"], 2.0),
    ]


if __name__ == "__main__":
    os.environ.setdefault("SKP_LOG_DIR", tempfile.mkdtemp())
    for row in run():
        print(row.name, f"{row.ours:.4f}", f"{row.baseline:.4f}", f"{row.ratio:.2f}", row.goal)
