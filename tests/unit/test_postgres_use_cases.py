"""Use cases whose SQL could differ between engines, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest

from skp_desktop.services import audit, setup
from skp_desktop.services.database import Database, open_database
from skp_desktop.services.entries import EntryChange
from skp_desktop.services.history import HistoryFilter, history_page
from skp_desktop.services.returns import get_return, record_entries


@pytest.mark.postgresql
def test_init_demo_adds_verifiable_history_once_on_postgresql(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQLite's run is tests/e2e/test_init_demo.py; one quarter is enough to cross the engine.
    monkeypatch.setattr(setup, "DEMO_LAST", "FY2024-25-Q1")
    db = open_database(postgres_url)
    try:
        first = setup.initialise(db, actor="tester", demo=True)
        assert "Added demo history: 9 returns" in first
        assert get_return(db, "HIGHWAYS", "FY2024-25-Q1").state == "submitted"
        assert "already there" in setup.initialise(db, actor="tester", demo=True)
        report = audit.verify(db)
        assert report.ok and report.values_checked > 9, report.problems
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
