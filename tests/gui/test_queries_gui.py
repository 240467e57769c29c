"""Queries in the window: the coordinator asks on chosen indicators from the review panel; the
service sees each query beside its figure and types the answer in the grid."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QLineEdit
from window_idle import close_window, wait_until_idle

from skp_desktop.services import review
from skp_desktop.services.database import open_database
from skp_desktop.services.entries import EntryChange
from skp_desktop.services.exchange import export_feedback
from skp_desktop.services.returns import get_return, record_entries, reopen_return, submit_return
from skp_desktop.ui.dialog_boxes import QueriesAnswer, QueriesDialog, QueryChoice
from skp_desktop.ui.dialogs import dialogs
from skp_desktop.ui.main_window import PLACES, MainWindow
from skp_desktop.ui.return_grid import ANSWER_COLUMN, COLUMN_BY_TITLE, QUERY_COLUMN
from skp_desktop.ui.settings import Settings

pytestmark = pytest.mark.gui

TODAY = date(2024, 11, 20)
Q1 = "FY2024-25-Q1"
REPEAT, TRAINED = "SAFER-P3-S1", "SAFER-P3-S2"  # Community Safety: a percentage and a count
LOOKED_AFTER, CARE_LEAVERS = "SAFER-P1-B2", "SAFER-P1-S3"  # Children's Services
QUESTIONS = {REPEAT: "Is 80 the right denominator?", TRAINED: "Forty trained: which courses?"}


def submitted(path: Path, *, returned: bool = False, reopened: bool = False) -> Path:
    """Community Safety's and Children's Services' Q1 returns submitted; Community Safety's
    returned with QUESTIONS (and reopened as revision 2) when asked."""
    db = open_database(path)
    entries = {
        "COMMSAFETY": {REPEAT: {"numerator": "12", "denominator": "80"}, TRAINED: {"value": "40"}},
        "CHILDRENS": {
            LOOKED_AFTER: {"value": "120"},
            CARE_LEAVERS: {"numerator": "30", "denominator": "40"},
            "SAFER-P1-S4": {"numerator": "90", "denominator": "100"},
        },
    }
    for service, fields in entries.items():
        changes = [EntryChange(code, f) for code, f in fields.items()]
        record_entries(db, service=service, period=Q1, changes=changes, actor="service")
        submit_return(db, service=service, period=Q1, actor="service")
    if returned:
        review.return_with_query(
            db, service="COMMSAFETY", period=Q1, queries=QUESTIONS, actor="Cora"
        )
    if reopened:
        reopen_return(db, service="COMMSAFETY", period=Q1, reason="queries", actor="service")
    db.dispose()
    return path


def open_window(qtbot, path: Path, service: str = "COMMSAFETY") -> MainWindow:  # type: ignore[no-untyped-def]
    settings = Settings()
    settings.last_service, settings.last_period = service, Q1
    win = MainWindow(str(path), settings=settings, today=TODAY)
    # its background work ends before pytest-qt closes it (window_idle.py)
    qtbot.addWidget(win, before_close_func=lambda w: wait_until_idle(qtbot, w))
    win.resize(1366, 768)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    win.start()
    qtbot.waitUntil(lambda: win.controller.view is not None, timeout=15000)
    qtbot.waitUntil(lambda: not win.controller.busy, timeout=15000)
    return win


@pytest.fixture
def window(qtbot, request, database_file: Path) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    options = getattr(request, "param", {})
    win = open_window(qtbot, submitted(database_file, **options))
    yield win  # its work has ended: pytest-qt closed it after before_close_func
    win.close()
    win.dispose()


def _cell(page, service: str):  # type: ignore[no-untyped-def]
    report = page.report
    row = [s.code for s in report.services].index(service)
    column = 1 + [p.code for p in report.periods].index(Q1)
    return page.proxy.mapFromSource(page.model.index(row, column))


def test_the_review_panel_asks_queries_on_chosen_indicators(
    qtbot, window, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_file: Path
) -> None:
    offered: list[list[QueryChoice]] = []

    def ask(_parent, _title, intro, choices):  # type: ignore[no-untyped-def]
        offered.append(list(choices))
        assert "Children’s Services" in intro or "Children's Services" in intro
        return QueriesAnswer(
            {LOOKED_AFTER: "Is 120 children right?", CARE_LEAVERS: "30 of 40: which 10?"},
            "Two figures to check",
        )

    monkeypatch.setattr(dialogs, "ask_queries", ask)
    window.places.setCurrentRow(PLACES.index("Completeness"))
    page = window.completeness_page
    qtbot.waitUntil(lambda: page.report is not None, timeout=15000)
    page.matrix.setCurrentIndex(_cell(page, "CHILDRENS"))
    assert page.query_button.isEnabled() and not page.feedback_button.isEnabled()
    assert not page.review.queries_table.isVisible()  # nothing asked yet
    page.query_button.click()
    qtbot.waitUntil(lambda: page.report.cell("CHILDRENS", Q1).state == "returned", timeout=15000)

    # Every indicator of the return was offered, with the figure it holds.
    assert [(c.code, c.shown) for c in offered[0]] == [
        (LOOKED_AFTER, "120"),
        (CARE_LEAVERS, "75.0%"),
        ("SAFER-P1-S4", "90.0%"),
    ]
    table = page.review.queries_table
    qtbot.waitUntil(lambda: table.isVisible() and table.model().rowCount() == 2, timeout=15000)
    rows = [[table.model().index(r, c).data() for c in range(3)] for r in range(2)]
    assert rows == [
        [LOOKED_AFTER, "Is 120 children right?", "— not answered yet"],
        [CARE_LEAVERS, "30 of 40: which 10?", "— not answered yet"],
    ]
    assert "Two figures to check" in page.review.queries_label.text()
    assert "returned" in page.review.queries_label.text()

    out = tmp_path / "feedback"  # the extension is added
    monkeypatch.setattr(dialogs, "save_file", lambda *_a: str(out))
    assert page.feedback_button.isEnabled()
    page.feedback_button.click()
    qtbot.waitUntil(lambda: "Saved the feedback" in page.summary.text(), timeout=15000)
    book = openpyxl.load_workbook(tmp_path / "feedback.xlsx")
    meta = {row[0].value: row[1].value for row in book["_meta"].iter_rows()}
    assert meta["kind"] == "feedback" and "30 of 40: which 10?" in meta["queries"]


def test_the_queries_dialog_needs_a_question_on_each_ticked_indicator(qtbot) -> None:
    dialog = QueriesDialog(
        "Return with a query",
        "Tick each indicator",
        [QueryChoice(REPEAT, "Repeat victims", "15.0%"), QueryChoice(TRAINED, "Trained", "40")],
    )
    qtbot.addWidget(dialog)
    ok = dialog._buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled() and not dialog.questions[TRAINED].isEnabled()
    dialog.checks[TRAINED].setChecked(True)
    assert dialog.questions[TRAINED].isEnabled() and not ok.isEnabled()
    assert "Type the question on SAFER-P3-S2" in dialog.status.text()
    qtbot.keyClicks(dialog.questions[TRAINED], "Which courses?")
    assert ok.isEnabled()
    assert dialog.answer() == QueriesAnswer({TRAINED: "Which courses?"}, None)


@pytest.mark.parametrize("window", [{"returned": True, "reopened": True}], indirect=True)
def test_the_grid_shows_each_query_beside_its_figure_and_takes_the_answer(
    qtbot, window, database_file: Path
) -> None:
    page, model = window.return_page, window.return_page.model
    line = model.row_of(TRAINED)
    assert not page.grid.isColumnHidden(QUERY_COLUMN)
    value = COLUMN_BY_TITLE["Value"]  # the query sits right beside the figure on screen
    beside = page.grid.columnViewportPosition(value) + page.grid.columnWidth(value)
    assert page.grid.columnViewportPosition(QUERY_COLUMN) == beside
    assert model.index(line, QUERY_COLUMN).data() == QUESTIONS[TRAINED]
    assert model.index(line, ANSWER_COLUMN).data() == "Type your answer…"
    assert "Answer the coordinator's 2 queries" in page.state_note.text()
    assert "2 queries to answer" in window.status_state.text()
    problems = [window.problems_panel.item(i).text() for i in range(window.problems_panel.count())]
    assert f"Query to answer · {TRAINED}: {QUESTIONS[TRAINED]}" in problems

    # Submitting first: refused, and the unanswered query's Answer cell is where to go.
    window.submit()
    assert "answer the coordinator's queries on SAFER-P3-S1, SAFER-P3-S2" in (
        page.message_bar.text()
    )
    assert page.grid.currentIndex().column() == ANSWER_COLUMN

    page.go_to(TRAINED, ANSWER_COLUMN)
    qtbot.keyClick(page.grid, Qt.Key.Key_F2)
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit)
    qtbot.keyClicks(editor, "DA basics and MARAC")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(
        lambda: window.controller.view.row(TRAINED).query.answered,  # type: ignore[union-attr]
        timeout=15000,
    )
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=15000)
    assert model.index(line, ANSWER_COLUMN).data() == "DA basics and MARAC"
    db = open_database(database_file)
    try:
        held = get_return(db, "COMMSAFETY", Q1)
    finally:
        db.dispose()
    assert held.row(TRAINED).query.answer == "DA basics and MARAC"
    assert [q.code for q in held.open_queries] == [REPEAT]
    assert "1 query to answer" in window.status_state.text()

    window.undo_action.trigger()  # Ctrl+Z takes the answer back
    qtbot.waitUntil(
        lambda: not window.controller.view.row(TRAINED).query.answered,  # type: ignore[union-attr]
        timeout=15000,
    )
    assert model.index(line, ANSWER_COLUMN).data() == "Type your answer…"


def test_a_return_without_queries_has_no_query_columns(qtbot, window) -> None:
    assert window.return_page.grid.isColumnHidden(QUERY_COLUMN)
    assert window.return_page.grid.isColumnHidden(ANSWER_COLUMN)


@pytest.mark.parametrize("window", [{"returned": True}], indirect=True)
def test_export_on_a_returned_return_saves_its_feedback_file(
    qtbot, window, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    page = window.return_page
    assert "returned by Cora with 2 queries" in page.state_note.text()
    assert "feedback file" in page.export_button.toolTip()
    out = tmp_path / "feedback.xlsx"
    monkeypatch.setattr(dialogs, "save_file", lambda *_a: str(out))
    page.export_button.click()
    qtbot.waitUntil(lambda: "Exported to" in window.status_state.text(), timeout=15000)
    meta = {row[0].value: row[1].value for row in openpyxl.load_workbook(out)["_meta"].iter_rows()}
    assert (meta["kind"], meta["revision"]) == ("feedback", "1")


def test_the_service_imports_feedback_in_the_import_place_and_sees_the_queries(
    qtbot, database_file: Path, tmp_path: Path
) -> None:
    # The coordinator's database: a copy of the service's after it submitted, then returned.
    submitted(database_file)
    partnership = tmp_path / "partnership.sqlite3"
    shutil.copyfile(database_file, partnership)
    db = open_database(partnership)
    try:
        review.return_with_query(
            db, service="COMMSAFETY", period=Q1, queries=QUESTIONS, actor="Cora"
        )
        feedback = tmp_path / "feedback.xlsx"
        export_feedback(db, service="COMMSAFETY", period=Q1, out=feedback, actor="Cora")
    finally:
        db.dispose()

    win = open_window(qtbot, database_file)
    try:
        assert win.return_page.grid.isColumnHidden(QUERY_COLUMN)  # submitted, no queries yet
        win.places.setCurrentRow(PLACES.index("Import"))
        page = win.import_page
        page.add_paths([str(feedback)])
        qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=15000)
        assert page.model.index(0, 0).data() == "✓ ACCEPTED"
        assert page.model.index(0, 5).data() == "feedback: returned with 2 queries"
        assert QUESTIONS[TRAINED] in page.details.toPlainText()
        page.commit_button.click()
        qtbot.waitUntil(lambda: page.model.committed, timeout=15000)
        qtbot.waitUntil(
            lambda: win.controller.view is not None and win.controller.view.state == "returned",
            timeout=15000,
        )
        model = win.return_page.model
        assert not win.return_page.grid.isColumnHidden(QUERY_COLUMN)
        line = model.row_of(REPEAT)
        assert model.index(line, QUERY_COLUMN).data() == QUESTIONS[REPEAT]
        assert "Returned r1" in win.windowTitle()
    finally:
        close_window(qtbot, win)
