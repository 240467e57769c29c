"""Queries on indicators, feedback files and answers: the service rules, without Qt.

The service (`db`) submits and exports; the coordinator (`coordinator`, another database)
imports, returns the revision with queries and writes the feedback file; the service imports
it, reopens, answers and submits; the coordinator imports the answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from exchange_support import (
    ACTOR,
    COMMSAFETY,
    PERIOD,
    REPEAT_VICTIMS,
    TRAINED,
    commsafety,
    dump,
    edit,
    export,
    import_one,
    open_copy,
    row_of,
)
from sqlalchemy import select

from skp_desktop.domain.errors import NotFoundError, StateError, ValidationError
from skp_desktop.excel.return_data import COLUMNS
from skp_desktop.services import audit, exchange, review
from skp_desktop.services.database import Database, acting_actor
from skp_desktop.services.entries import SubmissionRefused
from skp_desktop.services.returns import (
    EntryChange,
    get_return,
    record_entries,
    reopen_return,
    submit_return,
)
from skp_desktop.store.models import AuditEvent

QUESTIONS = {
    REPEAT_VICTIMS: "Is 80 the right denominator? Last quarter it was 85.",
    TRAINED: "Forty trained: which courses?",
}
COORDINATOR = "Cora Coordinator"


@pytest.fixture
def coordinator(template_database: Path, tmp_path: Path) -> Iterator[Database]:
    """The coordinator's database: another copy of the catalogue, with no returns."""
    db = open_copy(template_database, tmp_path / "coordinator" / "skp.sqlite3")
    yield db
    db.dispose()


def returned(db: Database, coordinator: Database, folder: Path) -> Path:
    """The service's return submitted and exported, imported by the coordinator and returned
    with QUESTIONS; the feedback file written. Returns the feedback file."""
    commsafety(db, numerator="12", denominator="80", count="40")
    assert import_one(coordinator, export(db, folder, "r1.xlsx")).status == "ACCEPTED"
    review.return_with_query(
        coordinator,
        service=COMMSAFETY,
        period=PERIOD,
        reason="Please check two figures",
        queries=QUESTIONS,
        actor=COORDINATOR,
    )
    out = folder / "feedback.xlsx"
    exchange.export_feedback(coordinator, service=COMMSAFETY, period=PERIOD, out=out, actor=ACTOR)
    return out


def header_columns(path: Path) -> tuple[int, dict[str, str]]:
    """The table's header row and the letter of each column, found by header text."""
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        for row in book["Return"].iter_rows():
            if row and row[0].value == "Code":
                return row[0].row, {c.value: c.column_letter for c in row if c.value}
    finally:
        book.close()
    raise AssertionError("no header row")


def events(db: Database, action: str) -> list[Any]:
    """The events of one action, as plain rows, in chain order."""
    columns = [getattr(AuditEvent, n) for n in ("indicator", "reason", "new", "revision")]
    columns += [AuditEvent.return_uuid, AuditEvent.actor]
    with db.reading() as session:
        return list(
            session.execute(
                select(*columns).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        )


def reopen_and_answer(db: Database, answers: dict[str, str]) -> None:
    reopen_return(db, service=COMMSAFETY, period=PERIOD, reason="the queries", actor=ACTOR)
    review.answer_queries(db, service=COMMSAFETY, period=PERIOD, answers=answers, actor=ACTOR)


# --- asking -------------------------------------------------------------------------------


@pytest.mark.both_engines
def test_queries_on_two_indicators_are_audited_with_the_return_and_listed(db: Database) -> None:
    commsafety(db)
    view = review.return_with_query(
        db, service=COMMSAFETY, period=PERIOD, queries=QUESTIONS, actor=COORDINATOR
    )
    assert view.state == "returned"
    asked = events(db, "query.ask")
    assert {(e.indicator, e.reason) for e in asked} == set(QUESTIONS.items())
    assert {(e.revision, e.return_uuid, e.actor) for e in asked} == {
        (1, view.return_uuid, acting_actor(db, COORDINATOR))  # a server names the login
    }
    listed = review.return_queries(db, service=COMMSAFETY, period=PERIOD)
    assert listed is not None and listed.asked_revision == 1
    assert [(q.code, q.question, q.answer) for q in listed.queries] == [
        (REPEAT_VICTIMS, QUESTIONS[REPEAT_VICTIMS], None),
        (TRAINED, QUESTIONS[TRAINED], None),
    ]
    assert view.row(TRAINED).query is not None
    assert view.row(TRAINED).query.question == QUESTIONS[TRAINED]
    assert audit.verify(db).ok  # verify replays states and values; query events only chain


def test_a_query_must_name_an_indicator_of_the_return_and_say_something(db: Database) -> None:
    commsafety(db)
    with pytest.raises(NotFoundError, match="SAFER-P1-B2 is not in the Community Safety return"):
        review.return_with_query(
            db, service=COMMSAFETY, period=PERIOD, queries={"SAFER-P1-B2": "?"}, actor=ACTOR
        )
    with pytest.raises(ValidationError, match=f"{TRAINED}: the question is blank"):
        review.return_with_query(
            db, service=COMMSAFETY, period=PERIOD, queries={TRAINED: "  "}, actor=ACTOR
        )
    with pytest.raises(ValidationError, match="Say what the query is"):
        review.return_with_query(db, service=COMMSAFETY, period=PERIOD, actor=ACTOR)
    assert get_return(db, COMMSAFETY, PERIOD).state == "submitted"  # nothing was kept
    assert events(db, "query.ask") == []


# --- answering ----------------------------------------------------------------------------


@pytest.mark.both_engines
def test_an_unanswered_query_blocks_the_next_submission_naming_the_indicator(
    db: Database,
) -> None:
    commsafety(db)
    review.return_with_query(
        db, service=COMMSAFETY, period=PERIOD, queries=QUESTIONS, actor=COORDINATOR
    )
    with pytest.raises(StateError, match="reopen it first"):
        review.answer_queries(
            db, service=COMMSAFETY, period=PERIOD, answers={TRAINED: "x"}, actor=ACTOR
        )
    reopen_and_answer(db, {REPEAT_VICTIMS: "Yes: 80 is right, five cases closed."})

    with pytest.raises(SubmissionRefused) as refused:
        submit_return(db, service=COMMSAFETY, period=PERIOD, actor=ACTOR)
    assert [(r.code, r.field) for r in refused.value.refusals] == [(TRAINED, "answer")]
    assert "not answered yet" in str(refused.value) and QUESTIONS[TRAINED] in str(refused.value)
    assert get_return(db, COMMSAFETY, PERIOD).state == "draft"

    with pytest.raises(NotFoundError, match="SAFER-P1-B2 has no query to answer"):
        review.answer_queries(
            db, service=COMMSAFETY, period=PERIOD, answers={"SAFER-P1-B2": "x"}, actor=ACTOR
        )
    view = review.answer_queries(
        db, service=COMMSAFETY, period=PERIOD, answers={TRAINED: "DA basics and MARAC"}, actor=ACTOR
    )
    assert view.open_queries == ()
    submitted = submit_return(db, service=COMMSAFETY, period=PERIOD, actor=ACTOR)
    assert (submitted.state, submitted.revision) == ("submitted", 2)
    assert submitted.row(TRAINED).query.answer == "DA basics and MARAC"
    assert submitted.row(TRAINED).query.answer_revision == 2
    answered = events(db, "query.answer")
    assert [(e.indicator, e.new, e.revision) for e in answered] == [
        (REPEAT_VICTIMS, "Yes: 80 is right, five cases closed.", 2),
        (TRAINED, "DA basics and MARAC", 2),
    ]
    assert audit.verify(db).ok


def test_an_answer_withdrawn_is_open_again_and_a_submitted_one_cannot_change(
    db: Database,
) -> None:
    commsafety(db)
    review.return_with_query(
        db, service=COMMSAFETY, period=PERIOD, queries={TRAINED: "Which courses?"}, actor=ACTOR
    )
    reopen_and_answer(db, {TRAINED: "Two"})
    view = review.answer_queries(
        db, service=COMMSAFETY, period=PERIOD, answers={TRAINED: None}, actor=ACTOR
    )
    assert [q.code for q in view.open_queries] == [TRAINED]
    review.answer_queries(
        db, service=COMMSAFETY, period=PERIOD, answers={TRAINED: "Two courses"}, actor=ACTOR
    )
    submit_return(db, service=COMMSAFETY, period=PERIOD, actor=ACTOR)
    with pytest.raises(StateError, match="is submitted: its answers can no longer change"):
        review.answer_queries(
            db, service=COMMSAFETY, period=PERIOD, answers={TRAINED: "Three"}, actor=ACTOR
        )


# --- feedback files -----------------------------------------------------------------------


def test_only_a_returned_return_has_feedback(db: Database, tmp_path: Path) -> None:
    commsafety(db)
    with pytest.raises(StateError, match="only a returned return has feedback"):
        exchange.export_feedback(
            db, service=COMMSAFETY, period=PERIOD, out=tmp_path / "f.xlsx", actor=ACTOR
        )
    assert not (tmp_path / "f.xlsx").exists()


def test_the_feedback_file_shows_each_query_beside_its_row_and_signs_them(
    db: Database, coordinator: Database, tmp_path: Path
) -> None:
    path = returned(db, coordinator, tmp_path)
    _header, columns = header_columns(path)
    assert list(columns) == [*COLUMNS, "Query"]  # at the right end of the table
    book = openpyxl.load_workbook(path)
    sheet = book["Return"]
    query = columns["Query"]
    assert {code: sheet[f"{query}{row_of(path, code)}"].value for code in QUESTIONS} == QUESTIONS
    assert sheet[f"{query}{row_of(path, TRAINED)}"].fill.fgColor.rgb.endswith("F8CBAD")
    meta = {row[0].value: row[1].value for row in book["_meta"].iter_rows()}
    assert meta["kind"] == "feedback" and meta["revision"] == "1"
    assert "Is 80 the right denominator?" in meta["queries"] and len(meta["queries_sha256"]) == 64
    assert "Please check two figures" in sheet["A2"].value


def test_the_service_imports_the_feedback_and_sees_the_queries_once(
    db: Database, coordinator: Database, tmp_path: Path
) -> None:
    path = returned(db, coordinator, tmp_path)
    outcome = import_one(db, path)
    assert (outcome.status, outcome.kind, outcome.revision) == ("ACCEPTED", "feedback", 1)
    assert dict(outcome.queries) == QUESTIONS
    view = get_return(db, COMMSAFETY, PERIOD)
    assert (view.state, view.revision) == ("returned", 1)
    assert {row.code: row.query.question for row in view.rows if row.query} == QUESTIONS
    assert view.queries is not None and view.queries.reason == "Please check two figures"
    assert f"feedback from {COORDINATOR}" in view.queries.returned_how

    again = import_one(db, path)
    assert again.status == "DUPLICATE" and "already held" in (again.reason or "")
    assert audit.verify(db).ok


def test_feedback_for_a_revision_not_held_stores_it_returned(
    db: Database, coordinator: Database, template_database: Path, tmp_path: Path
) -> None:
    path = returned(db, coordinator, tmp_path)
    laptop = open_copy(template_database, tmp_path / "new-laptop" / "skp.sqlite3")
    try:
        assert import_one(laptop, path).status == "ACCEPTED"
        view = get_return(laptop, COMMSAFETY, PERIOD)
        assert (view.state, view.revision) == ("returned", 1)
        assert (view.row(REPEAT_VICTIMS).numerator, view.row(TRAINED).value) == (12, 40)
        assert view.row(TRAINED).query.question == QUESTIONS[TRAINED]
        assert audit.verify(laptop).ok
    finally:
        laptop.dispose()


@pytest.mark.parametrize(
    ("column", "code", "typed", "says"),
    [
        ("Query", REPEAT_VICTIMS, "Is 80 really right?", "signed queries have 'Is 80 the"),
        ("Value", TRAINED, 41, "shows 41, but the signed return has 40"),
        ("Answer", TRAINED, "answered in Excel", "not part of the signed return"),
    ],
)
def test_a_tampered_feedback_file_is_refused_naming_the_cell(
    db: Database, coordinator: Database, tmp_path: Path, column, code, typed, says
) -> None:
    path = returned(db, coordinator, tmp_path)
    header, columns = header_columns(path)
    cells: dict[str, object] = {}
    if column == "Answer":  # a column the service added to type its answers into
        columns["Answer"] = "M"
        cells[f"M{header}"] = "Answer"
    where = f"{columns[column]}{row_of(path, code)}"
    changed = edit(path, tmp_path / "changed.xlsx", cells | {where: typed})
    before = dump(Path(db.url.database or ""))
    outcome = import_one(db, changed)
    assert outcome.status == "REJECTED"
    assert [(p.sheet, p.cell) for p in outcome.problems] == [("Return", where)]
    assert says in outcome.problems[0].message
    assert dump(Path(db.url.database or "")) == before


def test_changed_signed_queries_are_refused_naming_the_meta_cell(
    db: Database, coordinator: Database, tmp_path: Path
) -> None:
    path = returned(db, coordinator, tmp_path)
    book = openpyxl.load_workbook(path)
    meta = book["_meta"]
    row = next(r[0].row for r in meta.iter_rows() if r[0].value == "queries")
    text = meta.cell(row, 2).value.replace("Forty trained", "Fifty trained")
    outcome = import_one(db, edit(path, tmp_path / "changed.xlsx", {f"B{row}": text}, "_meta"))
    assert outcome.status == "REJECTED"
    sha_row = next(r[0].row for r in meta.iter_rows() if r[0].value == "queries_sha256")
    assert ("_meta", f"B{sha_row}") in [(p.sheet, p.cell) for p in outcome.problems]
    assert "do not match their SHA-256" in outcome.reason


# --- answers back at the coordinator's ------------------------------------------------------


def test_the_next_revision_carries_the_answers_back_signed(
    db: Database, coordinator: Database, tmp_path: Path
) -> None:
    path = returned(db, coordinator, tmp_path)
    import_one(db, path)
    reopen_return(db, service=COMMSAFETY, period=PERIOD, reason="the queries", actor=ACTOR)
    record_entries(
        db,
        service=COMMSAFETY,
        period=PERIOD,
        changes=[EntryChange(REPEAT_VICTIMS, {"denominator": "85"})],
        actor=ACTOR,
    )
    answers = {REPEAT_VICTIMS: "No: 85 victims; corrected.", TRAINED: "DA basics and MARAC."}
    review.answer_queries(db, service=COMMSAFETY, period=PERIOD, answers=answers, actor=ACTOR)
    submit_return(db, service=COMMSAFETY, period=PERIOD, actor=ACTOR)
    second = export(db, tmp_path, "r2.xlsx")
    _header, columns = header_columns(second)
    assert list(columns)[-2:] == ["Query", "Answer"]
    answer_cell = f"{columns['Answer']}{row_of(second, TRAINED)}"
    book = openpyxl.load_workbook(second)
    assert book["Return"][answer_cell].value == "DA basics and MARAC."
    tampered = edit(second, tmp_path / "tampered.xlsx", {answer_cell: "Three courses."})
    refused = import_one(coordinator, tampered)
    assert refused.status == "REJECTED"
    assert [(p.sheet, p.cell) for p in refused.problems] == [("Return", answer_cell)]

    outcome = import_one(coordinator, second)
    assert (outcome.status, outcome.revision) == ("ACCEPTED", 2)
    assert dict(outcome.answers) == answers
    held = review.return_queries(coordinator, service=COMMSAFETY, period=PERIOD)
    assert held is not None and held.asked_revision == 1
    assert {q.code: (q.answer, q.answer_revision) for q in held.queries} == {
        code: (text, 2) for code, text in answers.items()
    }
    view = review.accept_return(coordinator, service=COMMSAFETY, period=PERIOD, actor=ACTOR)
    assert view.state == "accepted" and view.row(REPEAT_VICTIMS).denominator == 85
    assert audit.verify(coordinator).ok and audit.verify(db).ok
