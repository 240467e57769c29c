"""The History's text search through its index (migration 0009) finds exactly what LIKE finds.

The reference is the search as it was before the index: `LIKE '%text%'` (ILIKE on
PostgreSQL) on an event's new and old values, reason and source, newest first. The index may
only make it faster: every search below must give the same events on both engines, on text
chosen to trip an index up (case, accents, LIKE's wildcards, quotes, FTS5 syntax, short words).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from postgres_server import PostgresServer
from sqlalchemy import make_url, or_, select, text

from skp_desktop.domain.vocabulary import AuditAction
from skp_desktop.services import audit, history
from skp_desktop.services.database import Database, open_database
from skp_desktop.services.entries import EntryChange
from skp_desktop.services.history import HistoryFilter, export_history, history_page
from skp_desktop.services.returns import record_entries
from skp_desktop.store import migrate
from skp_desktop.store.audit import append_events
from skp_desktop.store.engine import like_ignoring_case
from skp_desktop.store.models import AuditEvent
from skp_desktop.store.text_search import (
    SEARCH_TABLE,
    SEARCH_TRIGGER,
    TRIGRAM_INDEX,
    search_terms,
)

COLUMNS = ("reason", "new", "old", "source")
TRICKY = (
    "Late repairs after the Storm",
    "STORM warning",
    "storm",
    '{"commentary":"Storm damage","value":"12"}',
    "Café crème en été",
    "CAFÉ CRÈME EN ÉTÉ",
    "ÉTÉ",
    "100% of cases",
    "100 percent",
    "a_b_c",
    "aXbXc",
    "abc",
    'He said "quoted" text',
    "it's O'Brien's",
    "straße STRASSE",
    "İstanbul",
    "ﬁle",  # a ligature: one character
    "tab\there",
    "line\nbreak",
    "emoji 😀 face",
    "日本語のテキスト",
    "NEAR(one two) AND OR NOT * ^ : {col}",
    "x",
    "xy",
    "xyz",
)
SEARCHES = (
    "storm",
    "STORM",
    "Storm",
    "orm",
    "or",
    "s",
    "été",
    "ÉTÉ",
    "Été",
    "café",
    "CAFÉ",
    "100%",
    "%",
    "_",
    "a_c",
    "a_b",
    "0% o",
    "%%%",
    "___",
    "a%c",
    "x%z",
    "st%rm",
    "s_orm",
    "quoted",
    '"quoted"',
    '"',
    "'",
    "O'Brien",
    "o'brien's",
    "straße",
    "STRASSE",
    "ss",
    "istanbul",
    "İstanbul",
    "ﬁle",
    "file",
    "😀",
    "テキスト",
    "b\th",
    "here",
    "line\nbreak",
    "Storm damage",
    '"value":"12"',
    "12",
    "NEAR(one",
    "AND OR NOT",
    "* ^",
    "{col}",
    "ab",
    "abc",
    "xyz",
    "nothing like this",
)


def _add_tricky_events(db: Database) -> None:
    """Each tricky text in one of the searched columns in turn, among events without it."""
    events = []
    for i, words in enumerate(TRICKY):
        events.append({"actor": "tester", "action": AuditAction.COMPARATOR_SET, "reason": "—"})
        events.append(
            {
                "actor": "tester" if i % 3 else "auditor.amy",
                "action": AuditAction.COMPARATOR_SET,
                COLUMNS[i % len(COLUMNS)]: words,
            }
        )
    with db.transaction() as session:
        append_events(session, events)


def _found_by_like(db: Database, words: str, **narrowing: str) -> list[int]:
    """The events the search found before it had an index: LIKE on each column, newest first."""
    pattern = f"%{words.strip()}%"
    query = select(AuditEvent.id).where(
        or_(*(like_ignoring_case(getattr(AuditEvent, name), pattern) for name in COLUMNS)),
        *(getattr(AuditEvent, name) == value for name, value in narrowing.items()),
    )
    with db.reading_connection() as connection:
        return list(connection.scalars(query.order_by(AuditEvent.id.desc())))


def _found(db: Database, flt: HistoryFilter, *, limit: int = 200) -> list[int]:
    """Every event the History finds, page after page."""
    ids: list[int] = []
    before = None
    while page := history_page(db, flt, before_id=before, limit=limit):
        ids += [e.id for e in page]
        before = page[-1].id
    return ids


@pytest.fixture(params=[2000, 3], ids=["recent-window", "tiny-window"])
def recent_window(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """PostgreSQL reads the newest events without the index, then older ones through it: with
    a window of 3 events, most of a search's matches come from the index (no effect on
    SQLite)."""
    monkeypatch.setattr(history, "RECENT_EVENTS", request.param)
    return int(request.param)


@pytest.mark.both_engines
def test_text_search_finds_exactly_what_like_finds(db: Database, recent_window: int) -> None:
    _add_tricky_events(db)
    for words in SEARCHES:
        assert _found(db, HistoryFilter(text=words)) == _found_by_like(db, words), repr(words)

    # the comparison is not empty-handed: case is ignored, and LIKE's wildcards stay wildcards
    def texts(words: str) -> set[str | None]:
        """The tricky events' texts found: not the database's own first events, whose key
        (new for each test run) can hold "100" or "a_b" by chance."""
        page = history_page(db, HistoryFilter(text=words))
        return {
            e.reason or e.new or e.old or e.source
            for e in page
            if e.action == AuditAction.COMPARATOR_SET
        }

    assert {"Late repairs after the Storm", "STORM warning", "storm"} <= texts("sTorm")
    assert texts("100%") == {"100% of cases", "100 percent"}
    assert {"a_b_c", "aXbXc"} <= texts("a_b") and "abc" not in texts("a_b")
    assert texts('"quoted"') == {'He said "quoted" text'}


@pytest.mark.both_engines
def test_text_search_pages_and_narrows_as_like_does(db: Database, recent_window: int) -> None:
    _add_tricky_events(db)
    for words in ("storm", "100%", "o", "été", "quoted"):
        assert _found(db, HistoryFilter(text=words), limit=2) == _found_by_like(db, words)
        for narrowing in ({"actor": "auditor.amy"}, {"action": AuditAction.COMPARATOR_SET}):
            flt = HistoryFilter(text=words, **narrowing)
            assert _found(db, flt, limit=2) == _found_by_like(db, words, **narrowing), (
                words,
                narrowing,
            )


@pytest.mark.both_engines
def test_values_entered_in_the_app_are_found_by_their_words(db: Database, tmp_path: Path) -> None:
    record_entries(
        db,
        service="HIGHWAYS",
        period="FY2024-25-Q1",
        changes=[
            EntryChange(
                "SAFER-P4-S1",
                {"numerator": "45", "denominator": "50", "commentary": "Flooding on the A3"},
            )
        ],
        actor="tester",
        reason="Late repairs after the Storm",
    )
    (value,) = history_page(db, HistoryFilter(text="flooding on"))
    assert value.action == AuditAction.VALUE_SET and value.reason == "Late repairs after the Storm"
    assert [e.id for e in history_page(db, HistoryFilter(text="STORM"))] == [value.id]
    out = tmp_path / "found.csv"
    assert export_history(db, HistoryFilter(text="the a3"), out) == 1
    assert "Flooding on the A3" in out.read_text(encoding="utf-8-sig")
    assert audit.verify(db).ok  # the index is not the chain: verify reads the events alone


def test_an_index_query_asks_for_trigrams_covering_each_long_run() -> None:
    assert search_terms("%storm%") == '"sto" AND "orm"'
    assert search_terms("%queried%") == '"que" AND "rie" AND "ied"'
    assert search_terms('%say "hi"%') == '"say" AND " ""h" AND "hi"""'  # " doubled in FTS5
    assert search_terms("%ab_cde%") == '"cde"'  # "ab" is too short to look up; LIKE checks it
    assert search_terms("%100%%") == '"100"'
    assert search_terms("%ab%") is None
    assert search_terms("%a%b%c%") is None
    assert search_terms("%abc\x00def%") == '"abc"'  # LIKE reads a pattern up to a NUL


def test_a_text_search_reads_the_index_newest_first_on_sqlite(db: Database) -> None:
    from skp_desktop.services.history import _filtered

    query, params = _filtered(HistoryFilter(text="storm"), limit=200, text_index=True)
    with db.reading_connection() as connection:
        compiled = query.compile(connection)
        values = compiled.construct_params(params)
        positional = tuple(values[name] for name in compiled.positiontup or ())
        plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", positional).all()
    steps = [row[-1] for row in plan]
    assert any(f"{SEARCH_TABLE} VIRTUAL TABLE" in step for step in steps), steps
    assert not any("TEMP B-TREE" in step for step in steps), steps  # no sort: stops at 200


def test_a_search_too_short_for_the_index_reads_the_events(db: Database) -> None:
    _add_tricky_events(db)
    for words in ("s", "or", "a%c", "_"):
        assert _found(db, HistoryFilter(text=words)) == _found_by_like(db, words)


def test_a_database_upgraded_to_the_text_index_finds_its_old_events(database_file: Path) -> None:
    db = open_database(database_file)
    try:
        _add_tricky_events(db)
    finally:
        db.dispose()
    with sqlite3.connect(database_file) as raw:  # as the app before migration 0009 left it
        raw.execute(f"DROP TRIGGER {SEARCH_TRIGGER}")
        raw.execute(f"DROP TABLE {SEARCH_TABLE}")
        raw.execute("UPDATE alembic_version SET version_num = '0008'")
    db = open_database(database_file)
    try:
        assert migrate.current_revision(db) == migrate.SCHEMA_HEAD
        with db.reading_connection() as connection:
            indexed = connection.execute(
                text(f"SELECT count(*) FROM {SEARCH_TABLE} WHERE {SEARCH_TABLE} MATCH :terms"),
                {"terms": search_terms("%storm%")},
            ).scalar()
        assert indexed == 4  # the events held before the upgrade are in the index
        for words in SEARCHES:
            assert _found(db, HistoryFilter(text=words)) == _found_by_like(db, words), words
        record_entries(
            db,
            service="HIGHWAYS",
            period="FY2024-25-Q1",
            changes=[EntryChange("SAFER-P4-S1", {"numerator": "45", "denominator": "50"})],
            actor="tester",
            reason="after the upgrade",
        )
        assert [e.reason for e in history_page(db, HistoryFilter(text="the upgrade"))] == [
            "after the upgrade"
        ]
        assert audit.verify(db).ok
    finally:
        db.dispose()
    assert list((database_file.parent / "backups").glob("*before-upgrade*"))


def test_a_database_without_the_index_still_searches(database_file: Path) -> None:
    # as on a SQLite without FTS5's trigram tokenizer, where migration 0009 makes no index
    with sqlite3.connect(database_file) as raw:
        raw.execute(f"DROP TRIGGER {SEARCH_TRIGGER}")
        raw.execute(f"DROP TABLE {SEARCH_TABLE}")
    db = open_database(database_file)
    try:
        _add_tricky_events(db)
        for words in ("storm", "été", "100%"):
            assert _found(db, HistoryFilter(text=words)) == _found_by_like(db, words)
    finally:
        db.dispose()


def _plan(db: Database, words: str) -> str:
    """How the server would read a text search's first page, were its table large."""
    from skp_desktop.services.history import _filtered

    query, params = _filtered(HistoryFilter(text=words), limit=200)
    with db.reading_connection() as connection:
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")  # a tiny table otherwise
        connection.exec_driver_sql("SET LOCAL enable_indexscan = off")  # nor the id's index
        compiled = query.compile(connection)
        plan = connection.exec_driver_sql(
            f"EXPLAIN {compiled}", compiled.construct_params(params)
        ).all()
    return "\n".join(row[0] for row in plan)


@pytest.mark.postgresql
def test_postgresql_searches_text_through_the_trigram_index_whoever_reads(
    postgres_server: PostgresServer, postgres_url: str
) -> None:
    name = make_url(postgres_url).database or ""
    with postgres_server.connect(name) as admin:
        if not admin.execute("SELECT 1 FROM pg_roles WHERE rolname = 'aud_search'").fetchone():
            admin.execute("CREATE ROLE aud_search LOGIN IN ROLE skp_auditor")
        (indexes,) = admin.execute(
            "SELECT count(*) FROM pg_indexes WHERE indexname = %s", [TRIGRAM_INDEX]
        ).fetchone()
    assert indexes == 1
    owner = open_database(postgres_url)
    try:
        _add_tricky_events(owner)
    finally:
        owner.dispose()
    auditor = open_database(postgres_server.url(name, user="aud_search"))
    try:
        assert TRIGRAM_INDEX in _plan(auditor, "storm")  # row-level security keeps it usable
        for words in ("storm", "été", "100%", '"quoted"'):
            assert _found(auditor, HistoryFilter(text=words)) == _found_by_like(auditor, words)
    finally:
        auditor.dispose()


@pytest.mark.postgresql
def test_an_owner_who_may_not_add_pg_trgm_upgrades_without_the_index(
    postgres_server: PostgresServer, caplog: pytest.LogCaptureFixture
) -> None:
    owner, name = "search_owner", "t_search_no_trgm"
    with postgres_server.connect() as admin:
        if not admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [owner]).fetchone():
            admin.execute(f"CREATE ROLE {owner} LOGIN CREATEROLE")
        admin.execute(f"CREATE DATABASE {name} OWNER {owner}")
        admin.execute(f"REVOKE CREATE ON DATABASE {name} FROM {owner}")  # so no extension
    try:
        with postgres_server.connect(name) as admin:
            admin.execute(f"ALTER SCHEMA public OWNER TO {owner}")
        with caplog.at_level("WARNING"):
            db = open_database(postgres_server.url(name, user=owner), actor="tester")
        try:
            assert migrate.current_revision(db) == migrate.SCHEMA_HEAD
            assert "pg_trgm could not be made" in caplog.text
            with postgres_server.connect(name) as admin:
                assert not admin.execute(
                    "SELECT 1 FROM pg_indexes WHERE indexname = %s", [TRIGRAM_INDEX]
                ).fetchone()
            _add_tricky_events(db)
            for words in ("storm", "été", "100%"):  # found as before: reading every event
                assert _found(db, HistoryFilter(text=words)) == _found_by_like(db, words)
        finally:
            db.dispose()
    finally:
        postgres_server.drop_database(name)
