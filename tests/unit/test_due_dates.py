"""Due dates the coordinator sets per quarter: completeness, overdue returns and the chase list."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select, text

from skp_desktop.domain.errors import NotFoundError, ValidationError
from skp_desktop.services import audit
from skp_desktop.services.completeness import chase_text, completeness
from skp_desktop.services.database import Database, acting_actor
from skp_desktop.services.due_dates import set_due_date, usual_due_date
from skp_desktop.services.returns import EntryChange, record_entries
from skp_desktop.store.models import AuditEvent

Q1, Q2 = "FY2024-25-Q1", "FY2024-25-Q2"
TODAY = date(2024, 8, 20)  # Q1 (Apr–Jun) is usually due on 31 July: 20 days ago


def _due_events(db: Database) -> list[tuple[str, str | None, str | None, str | None, str]]:
    with db.reading() as session:
        return [
            tuple(row)  # type: ignore[misc]
            for row in session.execute(
                select(
                    AuditEvent.period,
                    AuditEvent.old,
                    AuditEvent.new,
                    AuditEvent.reason,
                    AuditEvent.actor,
                )
                .where(AuditEvent.action == "period.due")
                .order_by(AuditEvent.id)
            )
        ]


def test_without_a_set_date_a_quarter_keeps_the_usual_one(db: Database) -> None:
    report = completeness(db, first=Q1, last=Q2, today=TODAY)
    assert [(d.period.code, d.due, d.is_set) for d in report.due_dates] == [
        (Q1, date(2024, 7, 31), False),
        (Q2, date(2024, 10, 31), False),
    ]
    cell = report.cell("ASC", Q1)
    assert (cell.due, cell.days_overdue, cell.due_set) == (date(2024, 7, 31), 20, False)


@pytest.mark.both_engines
def test_a_date_the_coordinator_sets_decides_what_is_overdue(db: Database) -> None:
    record_entries(
        db,
        service="HIGHWAYS",
        period=Q1,
        changes=[EntryChange("SAFER-P4-S1", {"numerator": "45", "denominator": "50"})],
        actor="hana",
    )
    due = set_due_date(db, Q1, date(2024, 7, 12), "cora", reason="board meets on 20 July")
    assert (due.due, due.usual, due.is_set, due.set_by) == (
        date(2024, 7, 12),
        date(2024, 7, 31),
        True,
        "cora",
    )
    report = completeness(db, first=Q1, last=Q1, today=date(2024, 7, 20))
    highways, asc = report.cell("HIGHWAYS", Q1), report.cell("ASC", Q1)
    assert (highways.state, highways.due, highways.days_overdue) == ("draft", date(2024, 7, 12), 8)
    assert asc.overdue and asc.due_set and asc.as_dict()["due"] == "2024-07-12"
    assert asc.as_dict()["days_overdue"] == 8 and asc.as_dict()["due_set"] is True
    # The chase list gives the coordinator's date and counts the days from it.
    (line,) = [x for x in chase_text(report).splitlines() if x.startswith("Highways\t")]
    assert line.split("\t")[-2:] == ["12/07/2024", "8"]
    # On the usual rule nothing would be overdue yet on 20 July.
    set_due_date(db, Q1, None, "cora")
    cleared = completeness(db, first=Q1, last=Q1, today=date(2024, 7, 20)).cell("ASC", Q1)
    assert (cleared.due, cleared.overdue, cleared.due_set) == (date(2024, 7, 31), False, False)

    cora = acting_actor(db, "cora")  # a shared database records the login instead
    assert _due_events(db) == [
        (Q1, None, "2024-07-12", "board meets on 20 July", cora),
        (Q1, "2024-07-12", None, None, cora),
    ]
    report = audit.verify(db)
    assert report.ok, report.problems


def test_a_later_date_gives_services_more_time(db: Database) -> None:
    set_due_date(db, Q1, date(2024, 9, 6), "cora")
    cell = completeness(db, first=Q1, last=Q1, today=TODAY).cell("ASC", Q1)
    assert (cell.due, cell.overdue) == (date(2024, 9, 6), False)
    assert completeness(db, first=Q1, last=Q1, today=date(2024, 9, 7)).cell("ASC", Q1).overdue


def test_setting_the_same_date_again_records_nothing(db: Database) -> None:
    set_due_date(db, Q2, date(2024, 10, 15), "cora")
    set_due_date(db, Q2, date(2024, 10, 15), "cora")
    set_due_date(db, Q1, None, "cora")  # never set: nothing to clear
    assert [e[:3] for e in _due_events(db)] == [(Q2, None, "2024-10-15")]


@pytest.mark.parametrize(
    ("period", "due_on", "error", "says"),
    [
        (Q1, date(2024, 6, 29), ValidationError, r"before 2024/25 Q1 \(Apr–Jun 2024\) ends"),
        (Q1, date(2025, 7, 31), ValidationError, "more than a year after"),
        ("FY2024-25", date(2025, 4, 30), NotFoundError, "due per quarter"),
        ("2024-05", date(2024, 6, 30), NotFoundError, "due per quarter"),
        ("FY2024-25-Q5", date(2024, 7, 31), NotFoundError, "not a period"),
    ],
)
def test_a_date_that_cannot_be_right_is_refused_and_nothing_is_recorded(
    db: Database, period: str, due_on: date, error: type[Exception], says: str
) -> None:
    with pytest.raises(error, match=says):
        set_due_date(db, period, due_on, "cora")
    assert _due_events(db) == []
    assert completeness(db, first=Q1, last=Q1, today=TODAY).due_dates[0].due == date(2024, 7, 31)


def test_the_last_day_of_the_quarter_may_be_the_due_date(db: Database) -> None:
    assert set_due_date(db, Q1, date(2024, 6, 30), "cora").due == date(2024, 6, 30)


def test_a_due_date_changed_outside_the_app_is_caught_by_verify(db: Database) -> None:
    set_due_date(db, Q1, date(2024, 7, 12), "cora")
    with db.transaction() as session:
        session.execute(text("UPDATE due_dates SET due_on = '2024-08-31'"))
        session.execute(
            text(
                "INSERT INTO due_dates (period, due_on, set_at, set_by) "
                "VALUES ('FY2024-25-Q3', '2025-02-28', '2025-01-01 00:00:00', 'mallory')"
            )
        )
    report = audit.verify(db)
    assert not report.ok
    assert any(
        "due date of FY2024-25-Q1 is 2024-08-31 but its history says 2024-07-12" in p
        for p in report.problems
    ), report.problems
    assert any("due date of FY2024-25-Q3 is 2025-02-28" in p for p in report.problems)


def test_the_usual_rule_is_the_last_day_of_the_month_after_the_quarter() -> None:
    from skp_desktop.domain.periods import parse_period

    assert usual_due_date(parse_period("FY2024-25-Q3")) == date(2025, 1, 31)
    assert usual_due_date(parse_period("FY2024-25-Q4")) == date(2025, 4, 30)


def test_a_database_made_before_due_dates_is_upgraded_keeping_everything(
    database_file: Path,
) -> None:
    from skp_desktop.services.database import open_database
    from skp_desktop.services.returns import get_return
    from skp_desktop.store import migrate

    db = open_database(database_file)
    record_entries(
        db,
        service="HIGHWAYS",
        period=Q1,
        changes=[EntryChange("SAFER-P4-S1", {"numerator": "45", "denominator": "50"})],
        actor="hana",
    )
    db.dispose()
    with sqlite3.connect(database_file) as raw:  # as the app before this migration left it
        for later in ("return_signatures", "signing_key_services", "signing_keys"):  # 0005
            raw.execute(f"DROP TABLE {later}")
        raw.execute("DROP TABLE due_dates")
        raw.execute("DROP TABLE comparator_values")
        # and what later migrations added, so that the upgrade from 0003 runs them all again
        raw.execute("DROP TABLE IF EXISTS context_values")
        raw.execute("DROP TABLE IF EXISTS service_forms")
        raw.execute("ALTER TABLE services DROP COLUMN retired_from")
        raw.execute("UPDATE alembic_version SET version_num = '0003'")
    db = open_database(database_file)
    try:
        assert migrate.current_revision(db) == migrate.SCHEMA_HEAD == migrate.head_revision()
        assert get_return(db, "HIGHWAYS", Q1).row("SAFER-P4-S1").value == 90
        assert set_due_date(db, Q1, date(2024, 7, 12), "cora").is_set
        assert audit.verify(db).ok
    finally:
        db.dispose()
    assert list((database_file.parent / "backups").glob("*before-upgrade*"))
