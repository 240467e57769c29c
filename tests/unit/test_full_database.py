"""A database that cannot grow: SQLITE_FULL, as a full disk gives, said plainly, nothing lost.

`PRAGMA max_page_count` makes SQLite refuse to grow the file with the same error (SQLITE_FULL,
"database or disk is full") as a disk with no space left, so these run anywhere; the tests
in tests/e2e/test_full_disk_and_read_only.py fill a real (small) disk where one can be mounted.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from exchange_support import ACTOR, COMMSAFETY, REPEAT_VICTIMS, TRAINED, dump, open_copy, submit
from sqlalchemy import event, select

from skp_desktop.domain.errors import StoreUnavailable
from skp_desktop.services import audit, exchange
from skp_desktop.services.database import Database
from skp_desktop.services.returns import EntryChange, get_return, record_entries
from skp_desktop.store.models import Return

NOTE = "A long explanation of the quarter's figures. " * 100  # about 4,500 characters
QUARTERS = ("FY2025-26-Q1", "FY2025-26-Q2", "FY2025-26-Q3")


def _path(db: Database) -> Path:
    return Path(db.url.database or "")


def _pages(db: Database) -> int:
    with closing(sqlite3.connect(_path(db))) as raw:
        return int(raw.execute("PRAGMA page_count").fetchone()[0])


def _no_room_beyond(db: Database, pages: int) -> None:
    """From now on the database cannot grow past `pages` pages, as if the disk were full."""

    @event.listens_for(db.engine, "connect")
    def _limit(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    db.engine.dispose()  # connections opened from here on are limited


def test_a_save_with_no_room_is_refused_saying_free_space_and_nothing_changes(
    db: Database,
) -> None:
    record_entries(
        db,
        service=COMMSAFETY,
        period=QUARTERS[0],
        changes=[EntryChange(TRAINED, {"value": "40"})],
        actor=ACTOR,
    )
    before = dump(_path(db))
    _no_room_beyond(db, _pages(db))
    with pytest.raises(StoreUnavailable) as refused:
        record_entries(
            db,
            service=COMMSAFETY,
            period=QUARTERS[0],
            changes=[
                EntryChange(TRAINED, {"value": "44", "commentary": NOTE}),
                EntryChange(REPEAT_VICTIMS, {"numerator": "9", "denominator": "80"}),
            ],
            actor=ACTOR,
            reason=NOTE,
        )
    message = str(refused.value)
    assert "full" in message and "Free some space" in message and "nothing was saved" in message
    assert dump(_path(db)) == before  # all or nothing: not one of the two values
    row = get_return(db, COMMSAFETY, QUARTERS[0]).row(TRAINED)
    assert (row.value, row.commentary) == (40, None)
    assert audit.verify(db).ok


@pytest.fixture
def sent_files(db: Database, tmp_path: Path) -> list[Path]:
    """Community Safety's return for three quarters, each with long commentaries."""
    files = []
    for number, quarter in enumerate(QUARTERS):
        submit(
            db,
            COMMSAFETY,
            {
                REPEAT_VICTIMS: {"numerator": str(10 + number), "denominator": "80"},
                TRAINED: {"value": str(40 + number), "commentary": NOTE},
            },
            period=quarter,
            explanations={REPEAT_VICTIMS: "checked", TRAINED: "checked"},
        )
        out = tmp_path / "returns" / f"{quarter}.xlsx"
        out.parent.mkdir(exist_ok=True)
        exchange.export_return(db, service=COMMSAFETY, period=quarter, out=out, actor=ACTOR)
        files.append(out)
    return files


@pytest.fixture
def coordinator(template_database: Path, tmp_path: Path) -> Iterator[Database]:
    db = open_copy(template_database, tmp_path / "coordinator" / "skp.sqlite3")
    yield db
    db.dispose()


def test_an_import_with_no_room_stops_at_the_file_that_does_not_fit(
    coordinator: Database, template_database: Path, tmp_path: Path, sent_files: list[Path]
) -> None:
    # how much one file takes, measured on a scratch copy
    scratch = open_copy(template_database, tmp_path / "scratch" / "skp.sqlite3")
    try:
        empty = _pages(scratch)
        exchange.import_files(scratch, sent_files[:1], actor=ACTOR)
        one_file = _pages(scratch) - empty
    finally:
        scratch.dispose()
    _no_room_beyond(coordinator, _pages(coordinator) + one_file + one_file // 2)

    with pytest.raises(exchange.ImportStopped) as stopped:
        exchange.import_files(coordinator, sent_files, actor=ACTOR)
    problem = stopped.value
    assert [o.status for o in problem.outcomes] == ["ACCEPTED"]
    assert problem.file == str(sent_files[1])
    message = str(problem)
    assert "full" in message and "Free some space" in message
    assert f"The import stopped at {sent_files[1]}, which is not in the database" in message
    assert "Run the same import again" in message
    with coordinator.reading() as session:
        held = set(session.scalars(select(Return.period)))
    assert held == {QUARTERS[0]}  # the file that did not fit is not in at all
    assert audit.verify(coordinator).ok
