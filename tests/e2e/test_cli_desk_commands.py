"""The coordinator's commands: `due`, `comparator`, `accept` and `return`, in the real script.

The scenario database has Community Safety's 2024/25 Q1 return submitted and Highways' Q1 in
draft. Each test works on its own copy.
"""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from .support import Cli, Scenario, copy_database

pytestmark = pytest.mark.e2e

Q1 = "FY2024-25-Q1"
CAT1 = "SAFER-P4-S1"  # % of Category 1 defects repaired on time (Highways)


def _copy(cli: Cli, scenario: Scenario) -> Path:
    return copy_database(scenario.path, cli.root / "coordinator.sqlite3")


def _cells(cli: Cli, db: Path) -> dict[tuple[str, str], dict]:
    cells = cli.run(db, "completeness", "--json", "--from", Q1, "--to", Q1).json()
    return {(c["service"], c["period"]): c for c in cells}


def test_due_sets_and_clears_a_quarters_due_date(cli: Cli, scenario: Scenario) -> None:
    db = _copy(cli, scenario)
    done = cli.run(db, "due", "--period", Q1, "--date", "2024-07-12", "--reason", "board")
    assert done.returncode == 0, str(done)
    assert done.stdout == (
        "Returns for 2024/25 Q1 (Apr–Jun 2024) are due by 2024-07-12 (set by the coordinator).\n"
    )
    asc = _cells(cli, db)[("ASC", Q1)]
    assert (asc["due"], asc["due_set"], asc["overdue"]) == ("2024-07-12", True, True)
    assert asc["days_overdue"] > 365
    table = cli.run(db, "completeness", "--from", Q1, "--to", Q1)
    assert "2024-07-12" in table.stdout and "2024-07-31" not in table.stdout

    cleared = cli.run(db, "due", "--period", Q1, "--clear")
    assert cleared.returncode == 0, str(cleared)
    assert "due by 2024-07-31 (the usual date)" in cleared.stdout
    asc = _cells(cli, db)[("ASC", Q1)]
    assert (asc["due"], asc["due_set"]) == ("2024-07-31", False)

    events = cli.run(db, "history", "--period", Q1, "--json").json()
    due = [
        (e["action"], e["old"], e["new"], e["reason"])
        for e in events
        if e["action"] == "period.due"
    ]
    assert due == [
        ("period.due", "2024-07-12", None, None),
        ("period.due", None, "2024-07-12", "board"),
    ]
    assert cli.run(db, "verify").returncode == 0


DUE_REFUSALS = [
    (("--period", Q1, "--date", "12/07/2024"), 2, "is not a date: give YYYY-MM-DD"),
    (("--period", Q1), 2, "one of the arguments --date --clear is required"),
    (("--period", Q1, "--date", "2024-07-12", "--clear"), 2, "not allowed with"),
    (("--period", "FY2024-25", "--date", "2025-04-30"), 2, "due per quarter"),
    (("--period", Q1, "--date", "2024-06-01"), 1, "cannot be due before its quarter"),
]


def test_due_refuses_what_cannot_be_right(cli: Cli, scenario: Scenario) -> None:
    db = _copy(cli, scenario)
    for args, status, says in DUE_REFUSALS:
        result = cli.run(db, "due", *args)
        assert result.returncode == status, str(result)
        assert says in result.stderr and result.stdout == "", str(result)
    assert _cells(cli, db)[("ASC", Q1)]["due"] == "2024-07-31"  # nothing was set


def test_accept_and_return_review_a_submitted_return(cli: Cli, scenario: Scenario) -> None:
    db = _copy(cli, scenario)
    stale = cli.run(db, "accept", "--service", "COMMSAFETY", "--period", Q1, "--revision", "2")
    assert stale.returncode == 1, str(stale)
    assert "now at revision 1, not 2" in stale.stderr
    draft = cli.run(db, "return", "--service", "HIGHWAYS", "--period", Q1, "--reason", "?")
    assert draft.returncode == 1, str(draft)
    assert "draft: only a submitted return can be accepted or returned" in draft.stderr

    returned = cli.run(
        db, "return", "--service", "COMMSAFETY", "--period", Q1, "--reason", "Is 40 right?"
    )
    assert returned.returncode == 0, str(returned)
    assert returned.stdout == "Returned COMMSAFETY FY2024-25-Q1 revision 1 with a query.\n"
    assert _cells(cli, db)[("COMMSAFETY", Q1)]["state"] == "returned"
    again = cli.run(db, "accept", "--service", "COMMSAFETY", "--period", Q1)
    assert again.returncode == 1 and "is returned" in again.stderr, str(again)
    (event,) = [
        e
        for e in cli.run(db, "history", "--service", "COMMSAFETY", "--json").json()
        if e["action"] == "return.return"
    ]
    assert (event["old"], event["new"], event["reason"]) == (
        "submitted",
        "returned",
        "Is 40 right?",
    )

    # The service answers with revision 2; the coordinator accepts that one.
    steps = [
        ("reopen", "--service", "COMMSAFETY", "--period", Q1, "--reason", "answering"),
        ("enter", "--service", "COMMSAFETY", "--period", Q1, "SAFER-P3-S2=41"),
        ("submit", "--service", "COMMSAFETY", "--period", Q1),
        ("accept", "--service", "COMMSAFETY", "--period", Q1, "--revision", "2"),
    ]
    for step in steps:
        result = cli.run(db, *step)
        assert result.returncode == 0, str(result)
    assert result.stdout == "Accepted COMMSAFETY FY2024-25-Q1 revision 2.\n"
    cell = _cells(cli, db)[("COMMSAFETY", Q1)]
    assert (cell["state"], cell["revision"]) == ("accepted", 2)
    assert cli.run(db, "verify").returncode == 0


def test_return_needs_a_reason_and_a_known_service(cli: Cli, scenario: Scenario) -> None:
    db = _copy(cli, scenario)
    no_reason = cli.run(db, "return", "--service", "COMMSAFETY", "--period", Q1)
    assert no_reason.returncode == 2 and "--reason" in no_reason.stderr
    blank = cli.run(db, "return", "--service", "COMMSAFETY", "--period", Q1, "--reason", " ")
    assert blank.returncode == 1 and "Say what the query is" in blank.stderr
    unknown = cli.run(db, "accept", "--service", "NOPE", "--period", Q1)
    assert unknown.returncode == 2 and "no service 'NOPE'" in unknown.stderr


def test_comparators_reach_the_catalogue_chart_and_summary_sheet(
    cli: Cli, scenario: Scenario
) -> None:
    db = _copy(cli, scenario)
    for step in (
        ("submit", "--service", "HIGHWAYS", "--period", Q1),
        ("accept", "--service", "HIGHWAYS", "--period", Q1),
        (
            "comparator",
            "--indicator",
            CAT1,
            "--series",
            "london",
            "--period",
            Q1,
            "93.5",
            "--source",
            "London borough returns",
        ),
        ("comparator", "--indicator", CAT1, "--series", "England", "--period", Q1, "91"),
    ):
        result = cli.run(db, *step)
        assert result.returncode == 0, str(result)
    assert result.stdout == f"{CAT1}: England {Q1} = 91\n"

    (cat1,) = [r for r in cli.run(db, "catalogue", "--json").json() if r["code"] == CAT1]
    assert cat1["comparators"] == [
        {"series": "London", "period": Q1, "value": "93.5", "source": "London borough returns"},
        {"series": "England", "period": Q1, "value": "91", "source": None},
    ]
    out = cli.root / "partnership.xlsx"
    merged = cli.run(db, "merge-export", "--out", str(out), "--from", Q1, "--to", Q1)
    assert merged.returncode == 0, str(merged)
    sheet = openpyxl.load_workbook(out)["Summary"]
    (table,) = sheet.tables.values()
    header = int(table.ref.split(":")[0][1:])
    headings = [c.value for c in sheet[header]]
    (row,) = [
        [c.value for c in r] for r in sheet.iter_rows(min_row=header + 1) if r[0].value == CAT1
    ]
    got = dict(zip(headings, row, strict=True))
    assert (got["Value"], got["London"], got["England"]) == (90, 93.5, 91)

    cleared = cli.run(
        db, "comparator", "--indicator", CAT1, "--series", "London", "--period", Q1, "--clear"
    )
    assert cleared.returncode == 0 and "no London comparator" in cleared.stdout, str(cleared)
    (cat1,) = [r for r in cli.run(db, "catalogue", "--json").json() if r["code"] == CAT1]
    assert [c["series"] for c in cat1["comparators"]] == ["England"]
    history = cli.run(db, "history", "--indicator", CAT1, "--json").json()
    changes = [json.loads(e["new"]) for e in history if e["action"] == "comparator.set"]
    assert changes[0] == {"series": "London", "value": None, "source": None}
    assert cli.run(db, "verify").returncode == 0


COMPARATOR_REFUSALS = [
    ((CAT1, "London", Q1, "120"), 1, "at most 100.0"),
    ((CAT1, "London", Q1), 2, "give the comparator's VALUE, or --clear"),
    ((CAT1, "London", Q1, "--clear", "5"), 2, "not both"),
    ((CAT1, "London", "FY2024-25", "90"), 2, "reported quarterly"),
    (("NOPE", "London", Q1, "1"), 2, "no indicator 'NOPE'"),
]


def test_comparator_refuses_what_cannot_be_right(cli: Cli, scenario: Scenario) -> None:
    db = _copy(cli, scenario)
    for (code, series, period, *rest), status, says in COMPARATOR_REFUSALS:
        result = cli.run(
            db, "comparator", "--indicator", code, "--series", series, "--period", period, *rest
        )
        assert result.returncode == status, str(result)
        assert says in result.stderr and result.stdout == "", str(result)
    (cat1,) = [r for r in cli.run(db, "catalogue", "--json").json() if r["code"] == CAT1]
    assert cat1["comparators"] == []
