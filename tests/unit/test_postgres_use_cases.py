"""Use cases whose SQL could differ between engines, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from skp_desktop.services import audit, review, setup
from skp_desktop.services.catalogue import list_services, list_themes
from skp_desktop.services.database import Database, acting_actor, open_database
from skp_desktop.services.entries import EntryChange
from skp_desktop.services.history import HistoryFilter, history_page
from skp_desktop.services.returns import get_return, record_entries, reopen_return, submit_return


@pytest.mark.postgresql
def test_init_demo_adds_verifiable_history_once_on_postgresql(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQLite's run is tests/e2e/test_init_demo.py; one quarter is enough to cross the engine.
    monkeypatch.setattr(setup, "DEMO_LAST", "FY2024-25-Q1")
    db = open_database(postgres_url)
    try:
        first = setup.initialise(db, actor="tester", demo=True)
        # the nine services of the catalogue and the three demo partners' (issue 18)
        assert "Added demo history: 12 returns" in first
        assert get_return(db, "HIGHWAYS", "FY2024-25-Q1").state == "submitted"
        assert "already there" in setup.initialise(db, actor="tester", demo=True)
        report = audit.verify(db)
        assert report.ok and report.values_checked > 12, report.problems
    finally:
        db.dispose()


@pytest.mark.both_engines
def test_history_text_search_ignores_case(db: Database) -> None:
    record_entries(
        db,
        service="HIGHWAYS",
        period="FY2024-25-Q1",
        changes=[EntryChange("SAFER-P4-S1", {"numerator": "45", "denominator": "50"})],
        actor="tester",
        reason="Late repairs after the Storm",
    )
    for text in ("storm", "STORM", "Storm"):
        found = history_page(db, HistoryFilter(text=text))
        assert [e.reason for e in found] == ["Late repairs after the Storm"], text


@pytest.mark.both_engines
def test_a_return_reads_the_same_in_the_transaction_that_changed_it_and_after(
    db: Database,
) -> None:
    # The view's SQL text runs through the session of a change and through a reader alike;
    # drivers give times and flags differently (text and 0/1 on SQLite), read here as one.
    service, period, rate, count = "COMMSAFETY", "FY2026-27-Q1", "SAFER-P3-S1", "SAFER-P3-S2"
    record_entries(
        db,
        service=service,
        period="FY2025-26-Q4",
        changes=[
            EntryChange(rate, {"numerator": "9", "denominator": "80"}),
            EntryChange(count, {"value": "35", "commentary": "two courses"}),
        ],
        actor="tester",
    )
    entered = record_entries(
        db,
        service=service,
        period=period,
        changes=[
            EntryChange(rate, {"numerator": "12", "denominator": "80"}),
            EntryChange(rate, {"explanation": "more referrals"}),
            EntryChange(count, {"symbol": "[x]", "commentary": "the register is late"}),
        ],
        actor="tester",
    )
    assert entered == get_return(db, service, period)
    submit_return(db, service=service, period=period, actor="tester")
    review.return_with_query(
        db,
        service=service,
        period=period,
        reason="Please check",
        queries={rate: "Is 80 right?", count: "When is the register due?"},
        actor="coordinator",
    )
    reopen_return(db, service=service, period=period, reason="the queries", actor="tester")
    answered = review.answer_queries(
        db, service=service, period=period, answers={rate: "Yes, 80."}, actor="tester"
    )
    read = get_return(db, service, period)
    assert answered == read
    assert (read.state, read.revision) == ("draft", 2)
    assert read.updated_at is not None and read.updated_at.utcoffset() == timedelta(0)
    assert read.row(rate).indicator.rules.has_fraction is True
    assert (read.row(rate).value, read.row(rate).previous_value) == (Decimal(15), Decimal("11.3"))
    assert read.row(count).symbol == "[x]"
    queries = read.queries
    # on a shared database the server names the login, whatever the program was told
    assert queries is not None and queries.returned_by == acting_actor(db, "coordinator")
    assert [(q.code, q.answer) for q in queries.queries] == [(rate, "Yes, 80."), (count, None)]
    assert queries.queries[0].answered_at.utcoffset() == timedelta(0)
    assert service in [info.code for info in list_services(db)]
    assert ("SAFER-P3", "priority") in [(code, kind) for code, kind, _name in list_themes(db)]
