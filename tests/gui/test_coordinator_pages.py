"""The coordinator's Completeness and Merge places, driven as a coordinator would."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from window_idle import close_window

from skp_desktop.charts.theme import LIGHT
from skp_desktop.services import review
from skp_desktop.services.completeness import completeness
from skp_desktop.services.database import Database, open_database
from skp_desktop.services.entries import EntryChange
from skp_desktop.services.returns import record_entries, submit_return
from skp_desktop.ui.dialog_boxes import QueriesAnswer
from skp_desktop.ui.dialogs import dialogs
from skp_desktop.ui.main_window import PLACES, MainWindow
from skp_desktop.ui.pages.completeness_models import ChaseModel, CompletenessModel
from skp_desktop.ui.settings import Settings

pytestmark = pytest.mark.gui

TODAY = date(2024, 11, 20)  # the default range ends with 2024/25 Q2, due on 31 October
Q1, Q2 = "FY2024-25-Q1", "FY2024-25-Q2"
ENTRIES = {
    "COMMSAFETY": {
        "SAFER-P3-S1": {"numerator": "12", "denominator": "80"},
        "SAFER-P3-S2": {"value": "40"},
    },
    "CHILDRENS": {
        "SAFER-P1-B2": {"value": "120"},
        "SAFER-P1-S3": {"numerator": "30", "denominator": "40"},
        "SAFER-P1-S4": {"numerator": "90", "denominator": "100"},
    },
}


def enter(db: Database, service: str, period: str = Q1, *, submit: bool = True) -> None:
    changes = [EntryChange(code, fields) for code, fields in ENTRIES[service].items()]
    record_entries(db, service=service, period=period, changes=changes, actor="service")
    if submit:
        submit_return(db, service=service, period=period, actor="service")


@pytest.fixture
def held(database_file: Path) -> Path:
    """Two services' Q1 returns submitted; Highways has started Q2."""
    db = open_database(database_file)
    enter(db, "COMMSAFETY")
    enter(db, "CHILDRENS")
    record_entries(
        db,
        service="HIGHWAYS",
        period=Q2,
        changes=[EntryChange("SAFER-P4-S1", {"numerator": "45", "denominator": "50"})],
        actor="service",
    )
    db.dispose()
    return database_file


@pytest.fixture
def window(qtbot, held: Path) -> Iterator[MainWindow]:
    win = MainWindow(str(held), settings=Settings(), today=TODAY)
    # Not qtbot.addWidget: pytest-qt would delete the window before this fixture's teardown
    # could wait for its background work (a deleted window's results never arrive).
    win.show()
    win.start()
    # the return shows before the database is open (quick read): these need it open
    qtbot.waitUntil(
        lambda: win.database is not None and win.controller.view is not None, timeout=15000
    )
    yield win
    close_window(qtbot, win)


def _index(page, service: str, period: str):  # type: ignore[no-untyped-def]
    report = page.report
    row = [s.code for s in report.services].index(service)
    column = 1 + [p.code for p in report.periods].index(period)
    return page.proxy.mapFromSource(page.model.index(row, column))


def _state(page, service: str, period: str) -> str:  # type: ignore[no-untyped-def]
    return page.report.cell(service, period).state


def test_the_matrix_says_each_state_in_words_symbols_and_colour(qtbot, window) -> None:
    window.places.setCurrentRow(PLACES.index("Completeness"))
    page = window.completeness_page
    qtbot.waitUntil(lambda: page.report is not None, timeout=15000)
    assert [p.code for p in page.report.periods][-2:] == [Q1, Q2]
    submitted = _index(page, "COMMSAFETY", Q1)
    assert submitted.data() == "➤ submitted"
    assert (
        submitted.data(Qt.ItemDataRole.BackgroundRole).name()
        == LIGHT.state_fill["submitted"].lower()
    )
    assert "Due by 31/07/2024" in submitted.data(Qt.ItemDataRole.AccessibleTextRole)
    missing = _index(page, "ASC", Q1)
    days = (TODAY - date(2024, 7, 31)).days
    assert missing.data() == f"✗ missing\noverdue {days} days"
    assert missing.data(Qt.ItemDataRole.FontRole).bold()
    assert _index(page, "HIGHWAYS", Q2).data() == "✎ draft\noverdue 20 days"
    assert _index(page, "PARKS", Q1).data() == "— not due"
    assert page.model.headerData(3, Qt.Orientation.Horizontal).startswith("2024/25 Q1\ndue")
    assert "3 of 37 returns received" in page.summary.text()
    assert "35 overdue" in page.summary.text()

    # The chase list: who owes what, longest overdue first; copied as tab-separated text.
    chase = page.chase_proxy
    assert chase.rowCount() == len(page.report.chase_list()) > 0
    assert int(chase.index(0, 5).data()) >= int(chase.index(chase.rowCount() - 1, 5).data())
    page.copy_button.click()
    lines = QApplication.clipboard().text().splitlines()
    assert lines[0] == "Service\tOrganisation\tPeriod\tOwes\tDue\tDays overdue"
    assert len(lines) == chase.rowCount() + 1
    page.filter_box.setText("highw")
    assert page.proxy.rowCount() == 1 and all(
        "Highways" in chase.index(r, 0).data() for r in range(chase.rowCount())
    )
    page.filter_box.clear()

    page.tabs.setCurrentWidget(page.heatmap)
    qtbot.waitUntil(lambda: page.heatmap.figure is not None, timeout=20000)
    texts = [t.get_text() for t in page.heatmap.figure.axes[0].texts]
    assert "— not due" in texts and f"✗ missing\noverdue {days}d" in texts


def test_accept_and_return_with_query_from_the_matrix(
    qtbot, window, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    window.places.setCurrentRow(PLACES.index("Completeness"))
    page = window.completeness_page
    qtbot.waitUntil(lambda: page.report is not None, timeout=15000)
    monkeypatch.setattr(dialogs, "confirm", lambda *_a: True)
    monkeypatch.setattr(
        dialogs,
        "ask_queries",
        lambda *_a: QueriesAnswer({"SAFER-P1-B2": "Is 120 children right?"}, None),
    )

    page.matrix.setCurrentIndex(_index(page, "ASC", Q1))
    assert not page.accept_button.isEnabled()  # nothing to accept in a missing return
    page.matrix.setCurrentIndex(_index(page, "COMMSAFETY", Q1))
    assert page.accept_button.isEnabled() and page.query_button.isEnabled()
    page.accept_button.click()
    qtbot.waitUntil(lambda: _state(page, "COMMSAFETY", Q1) == "accepted", timeout=15000)
    assert "now accepted" in page.summary.text()

    page.matrix.setCurrentIndex(_index(page, "CHILDRENS", Q1))
    page.query_button.click()
    qtbot.waitUntil(lambda: _state(page, "CHILDRENS", Q1) == "returned", timeout=15000)
    assert _index(page, "CHILDRENS", Q1).data() == "↩ returned\noverdue 112 days"

    out = tmp_path / "chase.csv"
    monkeypatch.setattr(dialogs, "save_file", lambda *_a: str(out))
    page.export_button.click()
    qtbot.waitUntil(out.exists, timeout=15000)
    assert out.read_text(encoding="utf-8-sig").startswith("Service,Organisation,Period,Owes")

    page.matrix.setCurrentIndex(_index(page, "COMMSAFETY", Q1))
    page.open_button.click()
    assert window.places.currentRow() == PLACES.index("Return")
    qtbot.waitUntil(lambda: "Community Safety" in window.windowTitle(), timeout=15000)
    assert "Accepted r1" in window.windowTitle()


def test_a_return_accepted_on_completeness_is_shown_accepted_on_the_open_return_page(
    qtbot, window, monkeypatch: pytest.MonkeyPatch
) -> None:
    window.show_return_at("COMMSAFETY", Q1)
    qtbot.waitUntil(lambda: "Submitted r1" in window.windowTitle(), timeout=15000)
    window.places.setCurrentRow(PLACES.index("Completeness"))
    page = window.completeness_page
    qtbot.waitUntil(lambda: page.report is not None, timeout=15000)
    monkeypatch.setattr(dialogs, "confirm", lambda *_a: True)
    page.matrix.setCurrentIndex(_index(page, "COMMSAFETY", Q1))
    page.accept_button.click()
    qtbot.waitUntil(lambda: _state(page, "COMMSAFETY", Q1) == "accepted", timeout=15000)

    # Back on the Return page, without Refresh: the return is the accepted one.
    window.places.setCurrentRow(PLACES.index("Return"))
    qtbot.waitUntil(lambda: "Accepted r1" in window.windowTitle(), timeout=15000)
    assert window.controller.view.state == "accepted"
    assert window.status_state.text().startswith("Accepted r1")


def test_the_merge_page_writes_the_workbook_with_progress_and_a_summary(
    qtbot, held: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    db = open_database(held)
    review.accept_return(db, service="COMMSAFETY", period=Q1, actor="coordinator")
    db.dispose()
    win = MainWindow(str(held), settings=Settings(), today=TODAY)
    # Not qtbot.addWidget: pytest-qt would delete the window before this fixture's teardown
    # could wait for its background work (a deleted window's results never arrive).
    win.show()
    win.start()
    # the return shows before the database is open (quick read): these need it open
    qtbot.waitUntil(
        lambda: win.database is not None and win.controller.view is not None, timeout=15000
    )
    win.places.setCurrentRow(PLACES.index("Merge"))
    page = win.merge_page
    qtbot.waitUntil(lambda: "will be merged" in page.preview.text(), timeout=15000)
    assert "1 of 37" in page.preview.text()  # four quarters of nine services, and Parks' Q4
    assert page.left_out_model.rowCount() == 36
    assert page.review_button.isVisible()  # Children's Services waits for review

    out = tmp_path / "board"  # the extension is added
    monkeypatch.setattr(dialogs, "save_file", lambda *_a: str(out))
    page.merge_button.click()
    qtbot.waitUntil(lambda: page.result is not None, timeout=20000)
    assert not page.progress.isVisible() and page.merge_button.isEnabled()
    assert "1 accepted return from 2023/24 Q3 to 2024/25 Q2" in page.result_label.text()
    book = openpyxl.load_workbook(tmp_path / "board.xlsx")
    values = [r for r in book["Data"].iter_rows(min_row=2, values_only=True)]
    assert {row[2] for row in values} == {"SAFER-P3-S1", "SAFER-P3-S2"}

    page.review_button.click()
    assert win.places.currentRow() == PLACES.index("Completeness")
    close_window(qtbot, win)


def test_the_models_pass_qt_checks(qtmodeltester, held: Path) -> None:
    qtmodeltester.check(CompletenessModel())
    qtmodeltester.check(ChaseModel())
    db = open_database(held)
    report = completeness(db, today=TODAY)
    db.dispose()
    model = CompletenessModel()
    model.set_report(report)
    qtmodeltester.check(model)
    chase = ChaseModel()
    chase.set_cells(report.chase_list())
    qtmodeltester.check(chase)
    from skp_desktop.ui.pages.completeness_models import _Sorted

    qtmodeltester.check(_Sorted(model))


def test_the_merge_page_saves_the_strategic_assessment(
    qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    win = window
    win.places.setCurrentRow(PLACES.index("Merge"))
    page = win.merge_page
    qtbot.waitUntil(lambda: "will be merged" in page.preview.text(), timeout=15000)
    # today is in 2024/25: the last complete year, 2023/24, is offered first
    assert page.assessment_year.currentData() == "FY2023-24"
    page.assessment_year.setCurrentIndex(page.assessment_year.findData("FY2024-25"))
    out = tmp_path / "assessment"  # the extension is added
    monkeypatch.setattr(dialogs, "save_file", lambda *_a: str(out))
    page.assessment_button.click()
    qtbot.waitUntil(lambda: "Saved" in page.assessment_result.text(), timeout=30000)
    assert "strategic assessment for 2024/25" in page.assessment_result.text()
    assert (tmp_path / "assessment.pdf").read_bytes()[:5] == b"%PDF-"
    assert page.assessment_button.isEnabled()


def test_the_strategic_assessment_shows_progress_and_cancel_keeps_the_old_file(
    qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    win = window
    win.places.setCurrentRow(PLACES.index("Merge"))
    page = win.merge_page
    qtbot.waitUntil(lambda: "will be merged" in page.preview.text(), timeout=15000)
    out = tmp_path / "assessment.pdf"
    out.write_bytes(b"the one sent to the board")
    monkeypatch.setattr(dialogs, "save_file", lambda *_a: str(out))
    page.assessment_button.click()
    # long work: progress and Cancel show, and nothing else long can start meanwhile
    assert page.progress.isVisible() and page.cancel_button.isVisible()
    assert not page.assessment_button.isEnabled() and not page.merge_button.isEnabled()
    qtbot.mouseClick(page.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Cancelled" in page.assessment_result.text(), timeout=30000)
    assert "not saved" in page.assessment_result.text()
    assert out.read_bytes() == b"the one sent to the board"
    assert not page.progress.isVisible() and page.assessment_button.isEnabled()
