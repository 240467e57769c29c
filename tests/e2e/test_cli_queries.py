"""A returned return's queries reach the service and its answers come back (issue 6, point 2).

Two databases, as in the partnership: the service's laptop and the coordinator's. Every step
is the real `skp-returns` console script except the two review decisions (return with queries,
accept), which have no command yet: they call the same service functions the app's Completeness
place calls, on the coordinator's database file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest

from skp_desktop.services import review
from skp_desktop.services.database import open_database

from .support import Cli, Result, copy_database

pytestmark = pytest.mark.e2e

S, P = ("--service", "COMMSAFETY"), ("--period", "FY2024-25-Q1")
REPEAT, TRAINED = "SAFER-P3-S1", "SAFER-P3-S2"
QUESTIONS = {REPEAT: "Is 80 the right denominator?", TRAINED: "Forty trained: which courses?"}
ANSWERS = {REPEAT: "No: 85 victims, corrected", TRAINED: "DA basics and MARAC"}
# What `show --json` printed before queries: each key is still there (queries only add keys).
SHOW_KEYS = {
    "code",
    "title",
    "unit",
    "numerator",
    "denominator",
    "value",
    "symbol",
    "target",
    "rag",
    "direction_previous",
    "direction_year",
    "errors",
    "warnings",
    "commentary",
    "explanation",
    "status",
    "revision",
}


@dataclass
class Desk:
    cli: Cli
    service: Path
    coordinator: Path
    folder: Path

    def on_service(self, *args: str) -> Result:
        return self.cli.run(self.service, *args, actor="Hana Service")

    def on_coordinator(self, *args: str) -> Result:
        return self.cli.run(self.coordinator, *args, actor="Cora Coordinator")


def ok(result: Result) -> Result:
    assert result.returncode == 0, str(result)
    return result


def show(run, *extra: str) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    return {row["code"]: row for row in run("show", *S, *P, "--json", *extra).json()}


@pytest.fixture
def desk(cli: Cli, blank_template: Path, tmp_path: Path) -> Desk:
    folder = tmp_path / "files"
    folder.mkdir()
    return Desk(
        cli,
        copy_database(blank_template, tmp_path / "service.sqlite3"),
        copy_database(blank_template, tmp_path / "coordinator.sqlite3"),
        folder,
    )


def test_a_returned_returns_queries_reach_the_service_and_its_answers_come_back(
    desk: Desk,
) -> None:
    first, feedback, second = (desk.folder / n for n in ("r1.xlsx", "feedback.xlsx", "r2.xlsx"))
    # The service sends revision 1; the coordinator imports it and returns it with queries.
    ok(desk.on_service("enter", *S, *P, f"{REPEAT}=12/80", f"{TRAINED}=40"))
    ok(desk.on_service("submit", *S, *P))
    ok(desk.on_service("export-return", *S, *P, "--out", str(first)))
    assert ok(desk.on_coordinator("import", str(first))).stdout.startswith("ACCEPTED")
    db = open_database(desk.coordinator, actor="Cora Coordinator")
    try:
        review.return_with_query(
            db,
            service="COMMSAFETY",
            period="FY2024-25-Q1",
            reason="Two figures to check",
            queries=QUESTIONS,
            actor="Cora Coordinator",
        )
    finally:
        db.dispose()
    written = ok(desk.on_coordinator("feedback", *S, *P, "--out", str(feedback)))
    assert "feedback on COMMSAFETY FY2024-25-Q1 revision 1" in written.stdout
    assert openpyxl.load_workbook(feedback)["Return"]["L11"].value == "Query"

    # The service imports the feedback: its return is returned, with the queries beside it.
    imported = ok(desk.on_service("import", str(feedback)))
    assert imported.stdout == f"ACCEPTED\t{feedback}\tCOMMSAFETY FY2024-25-Q1 1\n"
    assert f"query: {feedback}: {TRAINED}: {QUESTIONS[TRAINED]}" in imported.stderr
    rows = show(desk.on_service)
    assert all(set(row) >= SHOW_KEYS for row in rows.values())
    assert {code: (r["status"], r["query"], r["answer"]) for code, r in rows.items()} == {
        code: ("returned", question, None) for code, question in QUESTIONS.items()
    }
    text = ok(desk.on_service("show", *S, *P)).stdout
    assert f"query: {REPEAT}: {QUESTIONS[REPEAT]}" in text and "Two figures to check" in text
    again = desk.on_service("import", str(feedback))
    assert again.returncode == 0 and again.stdout.startswith("DUPLICATE")

    # It reopens, corrects a figure and answers; an unanswered query stops the submission.
    early = desk.on_service("answer", *S, *P, f"{TRAINED}=x")
    assert early.returncode == 1 and "reopen it first" in early.stderr
    blank = desk.on_service("answer", *S, *P, f"{TRAINED}=")
    assert blank.returncode == 2 and f"{TRAINED} has none" in blank.stderr
    ok(desk.on_service("reopen", *S, *P, "--reason", "the coordinator's queries"))
    ok(desk.on_service("enter", *S, *P, f"{REPEAT}=12/85"))
    ok(desk.on_service("answer", *S, *P, f"{REPEAT}={ANSWERS[REPEAT]}"))
    refused = desk.on_service("submit", *S, *P)
    assert refused.returncode == 1
    assert f"{TRAINED} answer: the coordinator's query on revision 1 is not answered" in (
        refused.stderr
    )
    assert REPEAT not in refused.stderr
    ok(desk.on_service("answer", *S, *P, f"{TRAINED}={ANSWERS[TRAINED]}"))
    ok(desk.on_service("submit", *S, *P))
    ok(desk.on_service("export-return", *S, *P, "--out", str(second)))

    # The coordinator imports revision 2 and reads the answers beside the queries.
    assert ok(desk.on_coordinator("import", str(second))).stdout.startswith("ACCEPTED")
    rows = show(desk.on_coordinator)
    assert {code: (r["revision"], r["query"], r["answer"]) for code, r in rows.items()} == {
        code: (2, QUESTIONS[code], ANSWERS[code]) for code in QUESTIONS
    }
    assert rows[REPEAT]["denominator"] == 85
    history = ok(desk.on_coordinator("history", "--json")).json()
    answered = [e for e in history if e["action"] == "query.answer"]
    assert {(e["indicator"], e["new"], e["revision"]) for e in answered} == {
        (code, text, 2) for code, text in ANSWERS.items()
    }
    db = open_database(desk.coordinator, actor="Cora Coordinator")
    try:
        review.accept_return(
            db, service="COMMSAFETY", period="FY2024-25-Q1", actor="Cora Coordinator"
        )
    finally:
        db.dispose()
    assert {r["status"] for r in show(desk.on_coordinator).values()} == {"accepted"}

    for run in (desk.on_service, desk.on_coordinator):
        verified = run("verify")
        assert verified.returncode == 0 and "verify: OK" in verified.stdout, str(verified)
    asked = [
        e for e in ok(desk.on_service("history", "--json")).json() if e["action"] == "query.ask"
    ]
    assert {(e["indicator"], e["reason"]) for e in asked} == set(QUESTIONS.items())
