"""Completeness (services × quarters, due dates, the chase list) and the coordinator's review."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from exchange_support import (
    ACTOR,
    CHILDRENS,
    COMMSAFETY,
    LOOKED_AFTER,
    REPEAT_VICTIMS,
    TRAINED,
    submit,
)
from sqlalchemy import select

from skp_desktop.domain.errors import NotFoundError, StateError, ValidationError
from skp_desktop.domain.periods import parse_period
from skp_desktop.services import audit, review
from skp_desktop.services.completeness import (
    CHASE_COLUMNS,
    NOT_DUE,
    chase_text,
    completeness,
    default_range,
    due_date,
    export_chase_list,
    quarter_range,
)
from skp_desktop.services.database import Database
from skp_desktop.services.returns import (
    EntryChange,
    record_entries,
    reopen_return,
)
from skp_desktop.store.models import AuditEvent

Q1, Q2 = "FY2024-25-Q1", "FY2024-25-Q2"
TODAY = date(2024, 11, 20)  # Q2 (Jul–Sep) was due on 31 October: 20 days ago


@pytest.mark.parametrize(
    ("period", "due"),
    [
        ("FY2024-25-Q1", date(2024, 7, 31)),  # April to June: by the end of July
        ("FY2024-25-Q2", date(2024, 10, 31)),
        ("FY2024-25-Q3", date(2025, 1, 31)),  # into the next calendar year
        ("FY2024-25-Q4", date(2025, 4, 30)),  # a month of 30 days
        ("2025-01", date(2025, 2, 28)),  # a month's return, in a short February
    ],
)
def test_a_return_is_due_by_the_end_of_the_month_after_its_period(period, due) -> None:
    assert due_date(parse_period(period)) == due


def test_the_default_range_is_the_last_four_quarters_up_to_the_one_due_now() -> None:
    first, last = default_range(date(2024, 8, 10))  # Q1 2024/25 ended on 30 June
    assert (first.code, last.code) == ("FY2023-24-Q2", "FY2024-25-Q1")
    assert quarter_range(None, "FY2024-25-Q2", TODAY)[0].code == "FY2023-24-Q3"
    assert [p.code for p in quarter_range("FY2024-25-Q1", None, TODAY)] == [Q1, Q2]


@pytest.mark.parametrize(
    ("first", "last", "says"),
    [
        ("FY2024-25", None, "per quarter"),
        (None, "2024-05", "per quarter"),
        ("FY2024-25-Q3", "FY2024-25-Q1", "after"),
        ("FY2024-25-Q9", None, "not a period"),
        ("FY1999-00-Q1", "FY2024-25-Q1", "at most"),
    ],
)
def test_a_range_that_is_not_quarters_in_order_is_refused(first, last, says) -> None:
    with pytest.raises(NotFoundError, match=says):
        quarter_range(first, last, TODAY)


@pytest.fixture
def returns_in(db: Database) -> Database:
    """Q1: Community Safety accepted, Children's submitted; Q2: Highways started a draft."""
    submit(db, COMMSAFETY, _commsafety(), period=Q1)
    review.accept_return(db, service=COMMSAFETY, period=Q1, actor=ACTOR)
    submit(db, CHILDRENS, _childrens(), period=Q1)
    record_entries(
        db,
        service="HIGHWAYS",
        period=Q2,
        changes=[EntryChange("SAFER-P4-S1", {"numerator": "45", "denominator": "50"})],
        actor=ACTOR,
    )
    return db


def _commsafety(count: str = "40") -> dict[str, dict[str, str]]:
    return {REPEAT_VICTIMS: {"numerator": "12", "denominator": "80"}, TRAINED: {"value": count}}


def _childrens() -> dict[str, dict[str, str]]:
    return {
        LOOKED_AFTER: {"value": "120"},
        "SAFER-P1-S3": {"numerator": "30", "denominator": "40"},
        "SAFER-P1-S4": {"numerator": "90", "denominator": "100"},
    }


def test_each_service_and_quarter_has_the_state_of_its_latest_revision(returns_in) -> None:
    report = completeness(returns_in, first=Q1, last=Q2, today=TODAY)
    assert [p.code for p in report.periods] == [Q1, Q2]
    assert len(report.services) == 10
    states = {(c.service.code, c.period.code): c.state for row in report.cells for c in row}
    assert states[(COMMSAFETY, Q1)] == "accepted"
    assert states[(CHILDRENS, Q1)] == "submitted"
    assert states[("HIGHWAYS", Q2)] == "draft"
    assert states[("ASC", Q1)] == "missing"
    assert states[("PARKS", Q1)] == NOT_DUE  # its indicators are annual: asked for in Q4
    cell = report.cell(COMMSAFETY, Q1)
    assert (cell.revision, cell.due, cell.overdue) == (1, date(2024, 7, 31), False)
    assert report.counts() == {
        "missing": 15,
        "draft": 1,
        "submitted": 1,
        "accepted": 1,
        "returned": 0,
    }
    assert report.summary().startswith("3 of 18 returns received")


def test_what_the_service_still_owes_after_the_due_date_is_overdue(returns_in) -> None:
    report = completeness(returns_in, first=Q1, last=Q2, today=TODAY)
    highways = report.cell("HIGHWAYS", Q2)
    assert (highways.overdue, highways.days_overdue) == (True, 20)  # a draft is not a return
    assert report.cell("ASC", Q1).days_overdue == (TODAY - date(2024, 7, 31)).days
    assert not report.cell(CHILDRENS, Q1).overdue  # submitted: the coordinator has it
    assert not report.cell("PARKS", Q1).overdue
    before = completeness(returns_in, first=Q1, last=Q2, today=date(2024, 10, 31))
    assert not before.cell("HIGHWAYS", Q2).overdue  # the due date itself is not late


def test_the_chase_list_says_who_owes_what_since_when_longest_first(returns_in) -> None:
    report = completeness(returns_in, first=Q1, last=Q2, today=TODAY)
    chase = report.chase_list()
    assert all(c.overdue for c in chase) and len(chase) == 16  # 15 missing and the draft
    assert chase[0].period.code == Q1 and chase[-1].period.code == Q2
    highways = next(c for c in chase if c.service.code == "HIGHWAYS" and c.period.code == Q2)
    assert highways.owes == "the return (a draft is started)"
    lines = chase_text(report).splitlines()
    assert lines[0].split("\t") == list(CHASE_COLUMNS)
    (line,) = [x for x in lines if x.startswith("Highways\t") and "2024/25 Q2" in x]
    assert line.split("\t") == [
        "Highways",
        "Royal Borough of Kingston upon Thames Council",
        "2024/25 Q2 (Jul–Sep 2024)",
        "the return (a draft is started)",
        "draft",
        "1",
        "31/10/2024",
        "20",
    ]


def test_the_chase_list_exports_as_csv_and_excel(returns_in, tmp_path: Path) -> None:
    report = completeness(returns_in, first=Q1, last=Q2, today=TODAY)
    assert export_chase_list(report, tmp_path / "chase.csv") == 16
    with (tmp_path / "chase.csv").open(encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == list(CHASE_COLUMNS) and len(rows) == 17
    assert rows[1][6] == "31/07/2024" and rows[1][7] == str((TODAY - date(2024, 7, 31)).days)
    some = report.chase_list()[:2]
    assert export_chase_list(report, tmp_path / "chase.xlsx", some) == 2
    sheet = openpyxl.load_workbook(tmp_path / "chase.xlsx").active
    assert [c.value for c in sheet[1]] == list(CHASE_COLUMNS)
    assert sheet.max_row == 3 and isinstance(sheet["H2"].value, int)
    assert not list(tmp_path.glob(".*part"))
    with pytest.raises(NotFoundError, match=r"\.csv or \.xlsx"):
        export_chase_list(report, tmp_path / "chase.txt")


def test_as_json_has_the_contract_keys(returns_in) -> None:
    cell = completeness(returns_in, first=Q1, last=Q1, today=TODAY).cell(CHILDRENS, Q1)
    assert cell.as_dict() == {
        "service": CHILDRENS,
        "period": Q1,
        "state": "submitted",
        "revision": 1,
        "due": "2024-07-31",
        "overdue": False,
        "days_overdue": 0,
        "due_set": False,  # the usual date: the coordinator set none
    }


# --- review ----------------------------------------------------------------------------------


def test_accepting_and_returning_are_audited_and_verify_still_passes(returns_in) -> None:
    db = returns_in
    view = review.return_with_query(
        db, service=CHILDRENS, period=Q1, reason="Is 120 right?", actor="coordinator"
    )
    assert view.state == "returned"
    with db.reading() as session:
        events = session.execute(
            select(
                AuditEvent.action,
                AuditEvent.old,
                AuditEvent.new,
                AuditEvent.actor,
                AuditEvent.reason,
                AuditEvent.service,
                AuditEvent.revision,
                AuditEvent.return_uuid,
            )
            .where(AuditEvent.action.in_(["return.accept", "return.return"]))
            .order_by(AuditEvent.id)
        ).all()
    accept, query = events
    assert accept[:4] == ("return.accept", "submitted", "accepted", ACTOR)
    assert tuple(query) == (
        "return.return",
        "submitted",
        "returned",
        "coordinator",
        "Is 120 right?",
        CHILDRENS,
        1,
        view.return_uuid,
    )
    report = audit.verify(db)
    assert report.ok, report.problems

    # The service answers with its next revision; its state shows in the matrix.
    reopen_return(db, service=CHILDRENS, period=Q1, reason="answering the query", actor=ACTOR)
    cell = completeness(db, first=Q1, last=Q1, today=TODAY).cell(CHILDRENS, Q1)
    assert (cell.state, cell.revision) == ("draft", 2)
    assert audit.verify(db).ok


def test_only_a_submitted_latest_revision_can_be_reviewed(returns_in) -> None:
    db = returns_in
    with pytest.raises(StateError, match="draft: only a submitted return"):
        review.accept_return(db, service="HIGHWAYS", period=Q2, actor=ACTOR)
    with pytest.raises(StateError, match="accepted: only a submitted return"):
        review.return_with_query(db, service=COMMSAFETY, period=Q1, reason="?", actor=ACTOR)
    with pytest.raises(StateError, match="no return"):
        review.accept_return(db, service="ASC", period=Q1, actor=ACTOR)
    with pytest.raises(StateError, match="now at revision 1, not 2"):
        review.accept_return(db, service=CHILDRENS, period=Q1, actor=ACTOR, revision=2)
    with pytest.raises(ValidationError, match="query"):
        review.return_with_query(db, service=CHILDRENS, period=Q1, reason="  ", actor=ACTOR)
    with pytest.raises(NotFoundError):
        review.accept_return(db, service="NOPE", period=Q1, actor=ACTOR)
    # Nothing above changed anything.
    assert completeness(db, first=Q1, last=Q1, today=TODAY).cell(CHILDRENS, Q1).state == (
        "submitted"
    )
    assert audit.verify(db).ok


def test_a_state_changed_outside_the_app_is_caught_by_verify(returns_in) -> None:
    from skp_desktop.store.models import Return

    with returns_in.transaction() as session:
        ret = session.scalar(select(Return).where(Return.state == "submitted"))
        assert ret is not None
        ret.state = "accepted"  # as if someone accepted it with a database tool
    report = audit.verify(returns_in)
    assert not report.ok
    assert any("is 'accepted' but its history says" in p for p in report.problems)
