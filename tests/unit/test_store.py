"""The store: migrations, connection rules, append-only audit events and the hash chain."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from skp_desktop.domain.errors import StoreUnavailable
from skp_desktop.domain.vocabulary import AuditAction
from skp_desktop.services.database import Database, open_database
from skp_desktop.store import migrate
from skp_desktop.store.audit import (
    GENESIS_HASH,
    HASHED_FIELDS,
    append_event,
    event_hash,
    hash_values,
    verify_chain,
)
from skp_desktop.store.engine import open_engine
from skp_desktop.store.models import AuditEvent


def test_schema_head_constant_matches_the_newest_migration() -> None:
    assert migrate.head_revision() == migrate.SCHEMA_HEAD


def test_a_new_file_is_migrated_to_the_head(database_file: Path) -> None:
    with sqlite3.connect(database_file) as raw:
        tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master")}
        (version,) = raw.execute("SELECT version_num FROM alembic_version").fetchone()
    assert {"returns", "values", "audit_events", "indicator_definitions"} <= tables
    assert version == migrate.SCHEMA_HEAD


def test_connections_use_wal_foreign_keys_and_full_sync(db: Database) -> None:
    with db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 1000


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET actor = 'mallory'",
        "DELETE FROM audit_events",
    ],
)
def test_the_database_refuses_to_change_audit_events(database_file: Path, statement: str) -> None:
    with sqlite3.connect(database_file) as raw, pytest.raises(sqlite3.DatabaseError) as caught:
        raw.execute(statement)
    assert "append-only" in str(caught.value)


@pytest.mark.both_engines
def test_each_event_carries_the_hash_of_the_one_before(db: Database) -> None:
    with db.transaction() as session:
        first = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).first()
        second = append_event(session, actor="tester", action="test.one")
        third = append_event(session, actor="tester", action="test.two", reason="why")
    assert first is not None and first.prev_hash == GENESIS_HASH
    assert third.prev_hash == second.hash
    assert len(third.hash) == 64 and third.hash != second.hash
    with db.transaction() as session:
        assert verify_chain(session) == []


def test_the_hash_covers_every_recorded_field() -> None:
    base = {"prev_hash": GENESIS_HASH, "at": datetime(2024, 5, 1, tzinfo=UTC), "actor": "a"}
    changed = dict(base, actor="b")
    assert event_hash(base) != event_hash(changed)
    assert event_hash(base) == event_hash(dict(base))


def test_verify_chain_names_an_event_altered_behind_the_app(database_file: Path) -> None:
    db = open_database(database_file)
    with db.transaction() as session:
        append_event(session, actor="tester", action="test.one", new="12")
        append_event(session, actor="tester", action="test.two", new="13")
    db.dispose()
    with sqlite3.connect(database_file) as raw:
        raw.execute("DROP TRIGGER audit_events_no_update")
        raw.execute("UPDATE audit_events SET new = '99' WHERE action = 'test.one'")
        (event_id,) = raw.execute("SELECT id FROM audit_events WHERE action='test.one'").fetchone()
    db = open_database(database_file)
    with db.transaction() as session:
        problems = verify_chain(session)
    db.dispose()
    assert [p.event_id for p in problems] == [event_id]
    assert f"event {event_id}" in problems[0].message and "altered" in problems[0].message


def test_a_database_from_a_newer_app_is_refused(database_file: Path) -> None:
    with sqlite3.connect(database_file) as raw:
        raw.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(StoreUnavailable, match="newer version of SKP Returns"):
        open_database(database_file)


def test_backup_copies_the_whole_database_beside_it(database_file: Path) -> None:
    with sqlite3.connect(database_file) as raw:
        raw.execute("UPDATE alembic_version SET version_num = '0000'")
    db = open_engine(database_file)
    try:
        backup = migrate.backup_sqlite(db, "before-upgrade")
    finally:
        db.dispose()
    assert backup is not None and backup.parent == database_file.parent / "backups"
    with sqlite3.connect(backup) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert raw.execute("SELECT version_num FROM alembic_version").fetchone() == ("0000",)


@pytest.mark.both_engines
def test_read_only_opening_refuses_writes(db_target: str) -> None:
    db = open_database(db_target, read_only=True)
    try:
        with pytest.raises(StoreUnavailable, match="read-only"), db.transaction() as session:
            append_event(session, actor="tester", action="test.write")
    finally:
        db.dispose()


def test_a_file_that_is_not_a_database_gives_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite3"
    path.write_bytes(b"these are meeting notes, not a database" * 100)
    with pytest.raises(StoreUnavailable, match="not an SKP Returns database"):
        open_database(path)
    assert path.read_bytes().startswith(b"these are meeting notes")


@pytest.mark.parametrize(
    ("stored", "when"),
    [
        ("2024-04-01 09:30:00.000000", datetime(2024, 4, 1, 9, 30, tzinfo=UTC)),
        ("2025-12-31 23:59:59.123456", datetime(2025, 12, 31, 23, 59, 59, 123456, tzinfo=UTC)),
        ("2024-04-01 09:30:00", datetime(2024, 4, 1, 9, 30, tzinfo=UTC)),  # another writer's form
    ],
)
def test_a_time_read_as_stored_text_hashes_as_the_datetime_does(stored, when) -> None:
    """verify reads SQLite's text straight; the hash must not depend on how `at` was read."""
    fields = {name: None for name in HASHED_FIELDS} | {
        "prev_hash": GENESIS_HASH,
        "actor": "a",
        "action": "value.set",
    }
    values = [fields[name] for name in HASHED_FIELDS]
    at = HASHED_FIELDS.index("at")
    as_text, as_datetime = list(values), list(values)
    as_text[at], as_datetime[at] = stored, when
    assert hash_values(as_text) == hash_values(as_datetime)
    other = list(as_datetime)
    other[at] = datetime(2024, 4, 1, 9, 31, tzinfo=UTC)
    assert hash_values(other) != hash_values(as_text)


@pytest.mark.parametrize(
    "awkward",
    [
        'quotes " and \\ backslashes',
        "line\nbreaks\tand\x00control\x1f characters",
        "non-ASCII: café, Ł, 中文, emoji 😀, \u2028 separators",
        "",
        -3,
        0,
        2**70,
        True,  # the encoder writes true, not 1
        1.5,
        AuditAction.VALUE_SET,  # an enum's text, as events are given it
    ],
)
def test_an_event_hash_is_the_sha256_of_the_encoders_canonical_text(awkward) -> None:
    """The chain's definition is the sorted, spaceless JSON of the hashed fields; the hashing
    that writes it key by key (verify's speed) must give that very text for any value, or
    every event written before would stop verifying."""
    import hashlib
    import json

    values: list[object] = [f"{name} text" for name in HASHED_FIELDS]
    at = HASHED_FIELDS.index("at")
    values[at] = "2025-12-31T23:59:59.123456+00:00"
    for position in range(len(HASHED_FIELDS)):
        if position == at:
            continue
        given = list(values)
        given[position] = awkward
        given[position - 1] = None  # a neighbour left empty, as most events leave some
        material = dict(zip(HASHED_FIELDS, given, strict=True))
        text = json.dumps(material, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        assert hash_values(given) == hashlib.sha256(text.encode("utf-8")).hexdigest()
