"""The store on PostgreSQL: the same migrations, append-only events, one writer at a time."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from postgres_server import PostgresServer
from sqlalchemy import make_url, select, text

from skp_desktop.domain.errors import StoreUnavailable
from skp_desktop.services import audit
from skp_desktop.services.database import Database, open_database
from skp_desktop.services.entries import EntryChange
from skp_desktop.services.returns import get_return, record_entries
from skp_desktop.store import migrate, postgres
from skp_desktop.store.audit import append_event, verify_chain
from skp_desktop.store.engine import database_url, describe_url
from skp_desktop.store.models import AuditEvent

CAT1 = "SAFER-P4-S1"


@pytest.fixture
def pg(postgres_url: str) -> Iterator[Database]:
    database = open_database(postgres_url)
    yield database
    database.dispose()


def test_urls_without_a_driver_use_the_psycopg_driver() -> None:
    for given in ("postgresql://ann@db.example/skp", "postgres://ann@db.example/skp"):
        assert database_url(given).drivername == "postgresql+psycopg"
    assert database_url("postgresql+psycopg://ann@db.example/skp").database == "skp"


def test_the_shown_name_of_a_server_database_hides_the_password() -> None:
    shown = describe_url(database_url("postgresql://ann:s3cret@db.example:5433/skp"))
    assert "s3cret" not in shown and "ann" in shown and "db.example:5433/skp" in shown


@pytest.mark.postgresql
def test_the_same_migrations_make_the_schema_on_postgresql(pg: Database) -> None:
    assert migrate.current_revision(pg) == migrate.SCHEMA_HEAD
    with pg.reading() as session:
        tables = set(
            session.scalars(
                text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            )
        )
        assert {"returns", "values", "audit_events", "service_roles"} <= tables
        assert session.scalar(select(AuditEvent.action)) == "catalogue.load"


@pytest.mark.postgresql
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET actor = 'mallory'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
    ],
)
def test_the_server_refuses_to_change_audit_events(
    postgres_server: PostgresServer, postgres_url: str, statement: str
) -> None:
    import psycopg

    name = make_url(postgres_url).database or ""
    # as the owner and superuser, who has every privilege: only the trigger stops this
    with postgres_server.connect(name) as raw, pytest.raises(psycopg.Error) as caught:
        raw.execute(statement)
    assert "append-only" in str(caught.value)


@pytest.mark.postgresql
def test_verify_names_an_event_altered_behind_the_app(
    pg: Database, postgres_server: PostgresServer
) -> None:
    record_entries(
        pg,
        service="HIGHWAYS",
        period="FY2024-25-Q1",
        changes=[EntryChange(CAT1, {"numerator": "45", "denominator": "50"})],
        actor="tester",
    )
    assert audit.verify(pg).ok
    name = pg.url.database
    assert name is not None
    with postgres_server.connect(name) as raw:
        raw.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
        raw.execute(
            """UPDATE audit_events SET new = '{"value":"100"}' WHERE action = 'value.set'"""
        )
        (event_id,) = raw.execute(
            "SELECT id FROM audit_events WHERE action = 'value.set'"
        ).fetchone()
    report = audit.verify(pg)
    assert not report.ok
    assert any(f"event {event_id}" in p and "altered" in p for p in report.problems)


def _hold_write_transaction(db: Database, held: threading.Event, release: threading.Event) -> None:
    with db.transaction() as session:
        append_event(session, actor="first", action="test.first")
        held.set()
        release.wait(10)


@pytest.mark.postgresql
def test_writers_wait_for_each_other_and_extend_one_chain(pg: Database) -> None:
    held, release = threading.Event(), threading.Event()
    first = threading.Thread(target=_hold_write_transaction, args=(pg, held, release))
    first.start()
    assert held.wait(10)
    finished: list[float] = []

    def second_writer() -> None:
        with pg.transaction() as session:
            append_event(session, actor="second", action="test.second")
        finished.append(time.monotonic())

    second = threading.Thread(target=second_writer)
    second.start()
    time.sleep(0.4)
    assert not finished, "the second writer did not wait for the first one's transaction"
    released_at = time.monotonic()
    release.set()
    first.join(10)
    second.join(10)
    assert finished and finished[0] >= released_at
    with pg.reading() as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        assert [e.action for e in events[-2:]] == ["test.first", "test.second"]
        assert events[-1].prev_hash == events[-2].hash
        assert verify_chain(session) == []


@pytest.mark.postgresql
def test_readers_do_not_wait_for_a_writer(pg: Database) -> None:
    held, release = threading.Event(), threading.Event()
    writer = threading.Thread(target=_hold_write_transaction, args=(pg, held, release))
    writer.start()
    try:
        assert held.wait(10)
        start = time.monotonic()
        view = get_return(pg, "HIGHWAYS", "FY2024-25-Q1")
        report = audit.verify(pg)
        assert time.monotonic() - start < 5
        assert view.state == "not started" and report.ok  # the writer's event is not seen yet
    finally:
        release.set()
        writer.join(10)


@pytest.mark.postgresql
def test_a_writer_kept_waiting_too_long_is_told_the_database_is_busy(
    postgres_server: PostgresServer, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(postgres, "LOCK_TIMEOUT", "300ms")
    db = open_database(postgres_url)
    name = db.url.database or ""
    try:
        with postgres_server.connect(name) as other:
            other.execute(f"SELECT pg_advisory_lock({postgres.CHAIN_LOCK_KEY})")
            with pytest.raises(StoreUnavailable, match="busy"):
                record_entries(
                    db,
                    service="HIGHWAYS",
                    period="FY2024-25-Q1",
                    changes=[EntryChange(CAT1, {"symbol": "[x]"})],
                    actor="tester",
                )
        assert get_return(db, "HIGHWAYS", "FY2024-25-Q1").state == "not started"
    finally:
        db.dispose()


@pytest.mark.postgresql
def test_a_database_missing_from_the_server_is_named(postgres_server: PostgresServer) -> None:
    with pytest.raises(StoreUnavailable, match="There is no database"):
        open_database(postgres_server.url("no_such_database"))


def test_a_server_that_cannot_be_reached_is_said_plainly(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("psycopg")
    url = f"postgresql://nobody@/skp?host={tmp_path}&connect_timeout=2"
    with pytest.raises(StoreUnavailable, match="Cannot reach the database server"):
        open_database(url)
