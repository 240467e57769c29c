"""Returns through the service layer: entering, checking, submitting, reopening, verifying."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from skp_desktop.domain.errors import NotFoundError, StateError
from skp_desktop.domain.rag import Direction, Rag
from skp_desktop.services import audit
from skp_desktop.services.database import Database, acting_actor, open_database
from skp_desktop.services.entries import (
    EntryChange,
    EntryRefused,
    SubmissionRefused,
    describe_value_json,
)
from skp_desktop.services.returns import (
    get_return,
    record_entries,
    reopen_return,
    submit_return,
)

pytestmark = pytest.mark.both_engines

CAT1 = "SAFER-P4-S1"  # Highways, % of Category 1 defects repaired on time, target 100
ROADS = "SAFER-P4-B1"  # Highways, % of A/B/C roads in good condition, annual
LOOKED_AFTER = "SAFER-P1-B2"  # Children's Services, number of children looked after


def enter(db: Database, period: str, code: str, service: str = "HIGHWAYS", **fields: str):
    return record_entries(
        db, service=service, period=period, changes=[EntryChange(code, fields)], actor="tester"
    )


def test_a_rate_is_worked_out_from_numerator_and_denominator(db: Database) -> None:
    view = enter(db, "FY2024-25-Q1", CAT1, numerator="45", denominator="50")
    row = view.row(CAT1)
    assert (row.numerator, row.denominator, row.value) == (Decimal(45), Decimal(50), Decimal(90))
    assert row.rag is Rag.RED  # 90 is more than the amber tolerance below the target of 100
    assert (view.state, view.revision) == ("draft", 1)


def test_annual_indicators_are_asked_for_only_in_the_q4_return(db: Database) -> None:
    q1 = [row.code for row in get_return(db, "HIGHWAYS", "FY2024-25-Q1").rows]
    q4 = [row.code for row in get_return(db, "HIGHWAYS", "FY2024-25-Q4").rows]
    assert ROADS not in q1 and ROADS in q4
    with pytest.raises(NotFoundError, match=ROADS):
        enter(db, "FY2024-25-Q1", ROADS, numerator="1", denominator="2")


def test_one_bad_entry_refuses_the_whole_change(db: Database) -> None:
    with pytest.raises(EntryRefused) as refused:
        record_entries(
            db,
            service="CHILDRENS",
            period="FY2024-25-Q1",
            changes=[
                EntryChange(LOOKED_AFTER, {"value": "120"}),
                EntryChange("SAFER-P1-S4", {"numerator": "12", "denominator": "10"}),
            ],
            actor="tester",
        )
    assert [(r.code, r.field) for r in refused.value.refusals] == [("SAFER-P1-S4", "numerator")]
    assert "above the denominator" in str(refused.value)
    view = get_return(db, "CHILDRENS", "FY2024-25-Q1")
    assert view.state == "not started" and view.row(LOOKED_AFTER).value is None


def test_a_count_must_be_a_whole_number(db: Database) -> None:
    with pytest.raises(EntryRefused, match="whole number"):
        enter(db, "FY2024-25-Q1", LOOKED_AFTER, service="CHILDRENS", value="120.5")


SATISFACTION = "SAFER-P2-B1"  # Sustainability, a score with one decimal, asked for in Q4


@pytest.mark.parametrize(
    ("typed", "held"),
    [("65.45", "65.5"), ("65.44", "65.4"), ("65.4", "65.4"), ("99.95", "100"), ("7", "7")],
)
def test_a_typed_value_is_held_rounded_half_up_to_the_indicators_decimals(
    db: Database, typed: str, held: str
) -> None:
    view = enter(db, "FY2024-25-Q4", SATISFACTION, service="SUSTAINABILITY", value=typed)
    assert view.row(SATISFACTION).value == Decimal(held)
    again = get_return(db, "SUSTAINABILITY", "FY2024-25-Q4").row(SATISFACTION)
    assert again.value == Decimal(held)  # stored rounded, as shown and rated


def test_a_big_change_from_last_quarter_is_a_warning_to_explain(db: Database) -> None:
    enter(db, "FY2024-25-Q1", LOOKED_AFTER, service="CHILDRENS", value="100")
    view = enter(db, "FY2024-25-Q2", LOOKED_AFTER, service="CHILDRENS", value="160")
    row = view.row(LOOKED_AFTER)
    assert row.previous_value == Decimal(100)
    assert row.direction_previous is Direction.UP  # neutral polarity: up, not "improving"
    # One earlier value is no range: the change against it is the one thing to explain.
    assert [w.rule for w in row.warnings] == ["change_from_previous"]
    assert row.needs_explanation


def test_a_value_outside_a_year_of_earlier_values_is_a_warning(db: Database) -> None:
    for period, value in (("Q1", "100"), ("Q2", "104"), ("Q3", "98")):
        enter(db, f"FY2024-25-{period}", LOOKED_AFTER, service="CHILDRENS", value=value)
    three = enter(db, "FY2024-25-Q4", LOOKED_AFTER, service="CHILDRENS", value="110")
    assert [w.rule for w in three.row(LOOKED_AFTER).warnings] == []  # three earlier: no range
    four = enter(db, "FY2025-26-Q1", LOOKED_AFTER, service="CHILDRENS", value="111")
    warnings = four.row(LOOKED_AFTER).warnings
    assert [w.rule for w in warnings] == ["outside_range_seen"]
    assert "outside the range seen so far (98–110)" in warnings[0].message


def test_submit_refuses_missing_values_and_unexplained_warnings(db: Database) -> None:
    enter(db, "FY2024-25-Q1", LOOKED_AFTER, service="CHILDRENS", value="100")
    with pytest.raises(SubmissionRefused) as refused:
        submit_return(db, service="CHILDRENS", period="FY2024-25-Q1", actor="tester")
    missing = {r.code for r in refused.value.refusals}
    assert missing == {"SAFER-P1-S3", "SAFER-P1-S4"}  # the two percentages left blank
    assert get_return(db, "CHILDRENS", "FY2024-25-Q1").state == "draft"


def test_a_submitted_revision_is_locked_until_reopened_with_a_reason(db: Database) -> None:
    enter(db, "FY2024-25-Q1", CAT1, numerator="45", denominator="50")
    submit_return(db, service="HIGHWAYS", period="FY2024-25-Q1", actor="tester")
    with pytest.raises(StateError, match="Reopen it with a reason"):
        enter(db, "FY2024-25-Q1", CAT1, numerator="46", denominator="50")
    view = reopen_return(
        db, service="HIGHWAYS", period="FY2024-25-Q1", reason="late data", actor="tester"
    )
    assert (view.revision, view.state) == (2, "draft")
    assert view.row(CAT1).value == Decimal(90)  # carried over
    view = enter(db, "FY2024-25-Q1", CAT1, numerator="46", denominator="50")
    assert view.row(CAT1).value == Decimal(92)


def test_history_reads_old_and_new_values_in_words(db: Database) -> None:
    enter(db, "FY2024-25-Q1", CAT1, numerator="45", denominator="50")
    enter(db, "FY2024-25-Q1", CAT1, symbol="[x]")
    latest = audit.history(db, indicator=CAT1, limit=1)[0]
    assert describe_value_json(latest.old) == "45/50 = 90"
    assert describe_value_json(latest.new) == "[x]"
    assert latest.actor == acting_actor(db, "tester") and latest.service == "HIGHWAYS"


def test_verify_replays_history_against_the_values_held(database_file: Path) -> None:
    db = open_database(database_file)
    enter(db, "FY2024-25-Q1", CAT1, numerator="45", denominator="50")
    assert audit.verify(db).ok
    db.dispose()
    with sqlite3.connect(database_file) as raw:
        raw.execute("UPDATE \"values\" SET numerator = '50', value = '100'")
    db = open_database(database_file)
    report = audit.verify(db)
    db.dispose()
    assert not report.ok
    assert any(CAT1 in p and "changed outside the app" in p for p in report.problems)
