"""Writers on PostgreSQL lock the return they change, and the audit chain only to append their
events: changes of one return still wait for each other and come out right, changes of other
returns go on meanwhile.

Each race is made deterministic: the first change is held inside its transaction (after its
writes, before its commit) by a patched step, the second is started and the test waits until
the server shows it waiting for a lock, then the first is let go.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from postgres_server import PostgresServer
from sqlalchemy import make_url
from sqlalchemy.exc import DBAPIError

from skp_desktop.services import audit, review
from skp_desktop.services import returns as returns_service
from skp_desktop.services.database import Database, open_database
from skp_desktop.services.entries import EntryChange
from skp_desktop.services.errors import StateError, StoreUnavailable
from skp_desktop.services.returns import get_return, record_entries, reopen_return, submit_return
from skp_desktop.store import engine as store_engine
from skp_desktop.store import postgres

pytestmark = pytest.mark.postgresql

PERIOD = "FY2024-25-Q1"
CAT1 = "SAFER-P4-S1"  # Highways, a rate
OTHER = ("CHILDRENS", "SAFER-P1-B2")  # another service's return, a count
WAIT = 20  # seconds a step may take on a busy machine before the test gives up


@pytest.fixture
def pg(postgres_url: str) -> Iterator[Database]:
    database = open_database(postgres_url)
    yield database
    database.dispose()


class Held:
    """Holds the first thread that builds a return's view inside its transaction (after its
    writes, before its events and commit) until released."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.inside, self.release = threading.Event(), threading.Event()
        self._taken = False
        self._guard = threading.Lock()
        real = returns_service.view_in_transaction

        def held_view(*args: Any, **kwargs: Any) -> Any:
            with self._guard:
                first, self._taken = not self._taken, True
            if first:
                self.inside.set()
                assert self.release.wait(WAIT), "the test never let the first change go"
            return real(*args, **kwargs)

        monkeypatch.setattr(returns_service, "view_in_transaction", held_view)


class Run(threading.Thread):
    """A use case in a thread, keeping its result or its exception."""

    def __init__(self, work: Callable[[], Any]) -> None:
        super().__init__(daemon=True)
        self.work, self.result, self.error = work, None, None

    def run(self) -> None:
        try:
            self.result = self.work()
        except Exception as exc:  # handed to the test
            self.error = exc

    def outcome(self) -> Any:
        self.join(WAIT)
        assert not self.is_alive(), "the change never finished"
        if self.error is not None:
            raise self.error
        return self.result


def _waiting_for_a_lock(server: PostgresServer, url: str) -> None:
    """Return once a backend of this database waits for a lock (the second change)."""
    name = make_url(url).database or ""
    deadline = time.monotonic() + WAIT
    with server.connect(name) as admin:
        while time.monotonic() < deadline:
            (waiting,) = admin.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = %s AND wait_event_type = 'Lock'",
                [name],
            ).fetchone()
            if waiting:
                return
            time.sleep(0.02)
    pytest.fail("the second change never waited for the first one")


def _race(
    first_work: Callable[[], Any],
    second_work: Callable[[], Any],
    monkeypatch: pytest.MonkeyPatch,
    server: PostgresServer,
    url: str,
) -> tuple[Run, Run]:
    """The first change held inside its transaction, the second started and seen waiting for
    a lock, then the first let go: both threads, to ask for their outcomes."""
    held = Held(monkeypatch)
    first = Run(first_work)
    first.start()
    assert held.inside.wait(WAIT)
    second = Run(second_work)
    second.start()
    _waiting_for_a_lock(server, url)
    held.release.set()
    return first, second


def _save(db: Database, fields: dict[str, str], code: str = CAT1, service: str = "HIGHWAYS"):  # type: ignore[no-untyped-def]
    return lambda: record_entries(
        db, service=service, period=PERIOD, changes=[EntryChange(code, fields)], actor="tester"
    )


def test_two_saves_of_one_draft_at_once_keep_both_changes(
    pg: Database,
    postgres_server: PostgresServer,
    postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _save(pg, {"numerator": "10", "denominator": "100"})()
    first, second = _race(
        _save(pg, {"numerator": "45"}),
        _save(pg, {"commentary": "checked with the team"}),
        monkeypatch,
        postgres_server,
        postgres_url,
    )
    first.outcome()
    view = second.outcome()
    row = view.row(CAT1)
    # The second save read the draft after the first committed: neither change is lost.
    assert (row.numerator, row.denominator, row.commentary) == (45, 100, "checked with the team")
    events = audit.history(pg, service="HIGHWAYS", indicator=CAT1)  # newest first
    assert len(events) == 3
    assert events[0].old == events[1].new  # each change recorded against the one before
    assert audit.verify(pg).ok


def test_two_first_saves_of_a_return_make_one_revision_1(
    pg: Database,
    postgres_server: PostgresServer,
    postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, second = _race(
        _save(pg, {"numerator": "45", "denominator": "50"}),
        _save(pg, {"commentary": "checked"}),
        monkeypatch,
        postgres_server,
        postgres_url,
    )
    first.outcome()
    view = second.outcome()
    assert view.revision == 1 and view.row(CAT1).numerator == 45
    events = audit.history(pg, service="HIGHWAYS")
    assert [e.action for e in events].count("return.create") == 1
    assert audit.verify(pg).ok


def test_an_accept_racing_the_submission_waits_for_it_and_accepts_what_was_submitted(
    pg: Database,
    postgres_server: PostgresServer,
    postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _save(pg, {"numerator": "45", "denominator": "50"})()
    submitting, accepting = _race(
        lambda: submit_return(pg, service="HIGHWAYS", period=PERIOD, actor="service manager"),
        lambda: review.accept_return(
            pg, service="HIGHWAYS", period=PERIOD, actor="coordinator", revision=1
        ),
        monkeypatch,
        postgres_server,
        postgres_url,
    )
    assert submitting.outcome().state == "submitted"
    assert accepting.outcome().state == "accepted"
    actions = [e.action for e in reversed(audit.history(pg, service="HIGHWAYS"))]
    assert actions[-2:] == ["return.submit", "return.accept"]
    assert audit.verify(pg).ok


def test_a_reopen_racing_an_accept_makes_the_next_revision_once(
    pg: Database,
    postgres_server: PostgresServer,
    postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _save(pg, {"numerator": "45", "denominator": "50"})()
    submit_return(pg, service="HIGHWAYS", period=PERIOD, actor="service manager")
    reopening, again = _race(
        lambda: reopen_return(
            pg, service="HIGHWAYS", period=PERIOD, reason="a correction", actor="manager"
        ),
        lambda: reopen_return(
            pg, service="HIGHWAYS", period=PERIOD, reason="the same correction", actor="other"
        ),
        monkeypatch,
        postgres_server,
        postgres_url,
    )
    assert reopening.outcome().revision == 2
    # The second read revision 2, a draft, after the first made it: refused, not revision 3.
    with pytest.raises(StateError, match="still a draft"):
        again.outcome()
    assert get_return(pg, "HIGHWAYS", PERIOD).revision == 2
    assert audit.verify(pg).ok


def test_a_save_of_another_return_does_not_wait_for_one_in_progress(
    pg: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = Held(monkeypatch)
    first = Run(_save(pg, {"numerator": "45", "denominator": "50"}))
    first.start()
    assert held.inside.wait(WAIT)
    service, code = OTHER
    other = Run(_save(pg, {"value": "7"}, code=code, service=service))
    other.start()
    other.join(WAIT)  # it finishes while the first is still held
    still_held = first.is_alive()
    held.release.set()
    assert other.outcome().row(code).value == 7
    assert still_held
    first.outcome()
    assert audit.verify(pg).ok


def test_a_change_of_returns_must_say_it_locks_them(pg: Database) -> None:
    with pytest.raises(RuntimeError, match="locks_its_returns"), pg.transaction() as session:
        store_engine.lock_return(session.connection(), 1, PERIOD)


def test_a_change_crossed_by_another_is_run_again(
    pg: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As the server reports a deadlock: the first attempt is undone, the second is kept.
    crossed = [True]
    real = returns_service.view_in_transaction

    def crossing(*args: Any, **kwargs: Any) -> Any:
        if crossed:
            crossed.pop()
            raise postgres.ChangesCrossed("busy: crossed another change")
        return real(*args, **kwargs)

    monkeypatch.setattr(returns_service, "view_in_transaction", crossing)
    view = _save(pg, {"numerator": "45", "denominator": "50"})()
    assert view.row(CAT1).numerator == 45
    assert len(audit.history(pg, service="HIGHWAYS", indicator=CAT1)) == 1  # once, not twice


def test_a_deadlock_or_serialisation_failure_is_a_crossing_and_a_lock_timeout_is_not() -> None:
    class ServerError(Exception):
        def __init__(self, sqlstate: str) -> None:
            super().__init__("the server's message")
            self.sqlstate = sqlstate

    def said(sqlstate: str) -> StoreUnavailable | None:
        return postgres.unavailable(DBAPIError("SELECT 1", {}, ServerError(sqlstate)), "skp")

    assert isinstance(said("40P01"), postgres.ChangesCrossed)  # deadlock detected
    assert isinstance(said("40001"), postgres.ChangesCrossed)  # serialisation failure
    timed_out = said("55P03")  # kept waiting past lock_timeout: said busy, not run again
    assert isinstance(timed_out, StoreUnavailable)
    assert not isinstance(timed_out, postgres.ChangesCrossed) and "busy" in str(timed_out)
