"""The coordinator sets due dates on the Completeness page and comparators beside a chart."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QAbstractItemView, QApplication, QDateTimeEdit, QLineEdit
from shiboken6 import Shiboken
from window_idle import close_window

from skp_desktop.domain.periods import parse_period
from skp_desktop.services import audit
from skp_desktop.services.comparators import (
    ComparatorChange,
    list_comparators,
    set_comparators,
)
from skp_desktop.services.database import open_database
from skp_desktop.services.entries import EntryChange
from skp_desktop.services.returns import record_entries
from skp_desktop.ui.comparators_editor import ComparatorTableModel
from skp_desktop.ui.dialogs import dialogs
from skp_desktop.ui.main_window import PLACES, MainWindow
from skp_desktop.ui.settings import Settings

pytestmark = pytest.mark.gui

TODAY = date(2024, 11, 20)  # the default range ends with 2024/25 Q2
Q1, Q2 = "FY2024-25-Q1", "FY2024-25-Q2"
CAT1 = "SAFER-P4-S1"  # % of Category 1 defects repaired on time (Highways)


@pytest.fixture
def held(database_file: Path) -> Path:
    """Highways has entered Q1 and Q2; nobody else has sent anything."""
    db = open_database(database_file)
    for period, numerator in ((Q1, "45"), (Q2, "47")):
        record_entries(
            db,
            service="HIGHWAYS",
            period=period,
            changes=[EntryChange(CAT1, {"numerator": numerator, "denominator": "50"})],
            actor="service",
        )
    db.dispose()
    return database_file


def _open(qtbot, path: Path, *, read_only: bool = False) -> MainWindow:  # type: ignore[no-untyped-def]
    # Not given to qtbot.addWidget: pytest-qt would delete it before _close waits for the
    # window's background work; _close closes it instead.
    win = MainWindow(str(path), settings=Settings(), today=TODAY, read_only=read_only)
    win.show()
    win.start()
    # the return shows before the database is open (quick read): these need it open
    qtbot.waitUntil(
        lambda: win.database is not None and win.controller.view is not None, timeout=15000
    )
    return win


@pytest.fixture
def window(qtbot, held: Path) -> Iterator[MainWindow]:
    win = _open(qtbot, held)
    yield win
    _close(qtbot, win)


def _close(qtbot, win: MainWindow) -> None:  # type: ignore[no-untyped-def]
    """The indicator's dialog first (a window of its own), then the window."""
    dialog = getattr(win, "indicator_dialog", None) if Shiboken.isValid(win) else None
    if dialog is not None and Shiboken.isValid(dialog):
        dialog.close()
    close_window(qtbot, win)


def _completeness(qtbot, win: MainWindow):  # type: ignore[no-untyped-def]
    win.places.setCurrentRow(PLACES.index("Completeness"))
    page = win.completeness_page
    qtbot.waitUntil(lambda: page.report is not None and not page._loading, timeout=15000)
    return page


def _select(page, service: str, period: str) -> None:  # type: ignore[no-untyped-def]
    row = [s.code for s in page.report.services].index(service)
    column = 1 + [p.code for p in page.report.periods].index(period)
    page.matrix.setCurrentIndex(page.proxy.mapFromSource(page.model.index(row, column)))


def _header(page, period: str) -> str:  # type: ignore[no-untyped-def]
    column = 1 + [p.code for p in page.report.periods].index(period)
    return page.model.headerData(column, Qt.Orientation.Horizontal)


def _type_date(qtbot, editor, text: str) -> None:  # type: ignore[no-untyped-def]
    """As a person would: tab into the date (the day is selected) and type day, month, year."""
    editor.setFocus()
    editor.setSelectedSection(QDateTimeEdit.Section.DaySection)
    qtbot.keyClicks(editor, text.replace("/", ""))  # each part moves on to the next when full
    qtbot.keyClick(editor, Qt.Key.Key_Tab)


def test_the_coordinator_sets_a_quarters_due_date_and_overdue_follows_it(qtbot, window) -> None:
    page = _completeness(qtbot, window)
    due = page.due_editor
    assert _header(page, Q1) == "2024/25 Q1\ndue 31/07/2024"
    _select(page, "ASC", Q1)
    assert due.period_picker.currentData() == Q1  # the editor follows the selection
    assert due.date_edit.date() == QDate(2024, 7, 31)
    assert due.note.text().startswith("The usual date")
    assert not due.set_button.isEnabled() and not due.usual_button.isEnabled()
    assert due.date_edit.accessibleName() == "Due date is on"
    assert due.period_picker.accessibleName()

    _type_date(qtbot, due.date_edit, "12/07/2024")
    assert due.chosen_date() == date(2024, 7, 12) and due.set_button.isEnabled()
    due.set_button.setFocus()
    qtbot.keyClick(due.set_button, Qt.Key.Key_Space)  # pressed from the keyboard
    qtbot.waitUntil(lambda: "(set)" in _header(page, Q1), timeout=15000)

    assert _header(page, Q1) == "2024/25 Q1\ndue 12/07/2024 (set)"
    assert "Returns for 2024/25 Q1 (Apr–Jun 2024) are now due by 12/07/2024" in page.summary.text()
    days = (TODAY - date(2024, 7, 12)).days
    _select(page, "ASC", Q1)
    cell = page.matrix.currentIndex()
    assert cell.data() == f"✗ missing\noverdue {days} days"
    assert "Due by 12/07/2024 (the date the coordinator set)" in cell.data(
        Qt.ItemDataRole.AccessibleTextRole
    )
    assert due.note.text().startswith("Set by tester") and "usual date is 31/07/2024" in (
        due.note.text()
    )
    chase = [line.split("\t") for line in page.chase_text().splitlines()]
    (asc,) = [r for r in chase if r[0] == "Adult Social Care" and r[2].startswith("2024/25 Q1")]
    assert (asc[4], asc[5]) == ("12/07/2024", str(days))

    qtbot.mouseClick(due.usual_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "(set)" not in _header(page, Q1), timeout=15000)
    assert _header(page, Q1) == "2024/25 Q1\ndue 31/07/2024"
    assert "the usual date" in page.summary.text()
    db = window.database
    events = [e for e in audit.history(db) if e.action == "period.due"]
    assert [(e.old, e.new) for e in events] == [("2024-07-12", None), (None, "2024-07-12")]
    assert audit.verify(db).ok


def test_a_due_date_before_the_quarter_ends_is_refused_beside_the_editor(qtbot, window) -> None:
    page = _completeness(qtbot, window)
    due = page.due_editor
    due.follow(Q2)
    _type_date(qtbot, due.date_edit, "01/09/2024")
    qtbot.mouseClick(due.set_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: due.note.text().startswith("Not set"), timeout=15000)
    assert "before 2024/25 Q2 (Jul–Sep 2024) ends" in due.note.text()
    assert _header(page, Q2) == "2024/25 Q2\ndue 31/10/2024"
    assert due.set_button.isEnabled()  # the coordinator can correct the date and try again


def test_read_only_shows_due_dates_but_cannot_set_them(qtbot, held: Path) -> None:
    win = _open(qtbot, held, read_only=True)
    try:
        page = _completeness(qtbot, win)
        due = page.due_editor
        assert due.period_picker.isEnabled()
        assert not due.date_edit.isEnabled()
        assert not due.set_button.isEnabled() and not due.usual_button.isEnabled()
    finally:
        _close(qtbot, win)


def test_the_due_date_line_fits_a_laptop_screen(qtbot, window) -> None:
    window.resize(1366, 768)
    page = _completeness(qtbot, window)
    _select(page, "ASC", Q1)
    QApplication.processEvents()
    due = page.due_editor
    assert due.minimumSizeHint().width() <= page.width()
    for widget in (due.period_picker, due.date_edit, due.set_button, due.usual_button):
        assert widget.width() >= widget.sizeHint().width(), widget.accessibleName() or widget.text()
    assert due.note.text() and due.note.width() > 200  # room to say whose date it is


# --- comparators -----------------------------------------------------------------------------


def _chart_lines(dialog) -> dict[str, object]:  # type: ignore[no-untyped-def]
    figure = dialog.chart.figure
    return {line.get_gid(): line for ax in figure.axes for line in ax.lines if line.get_gid()}


def _type_in_cell(qtbot, table, index, text: str) -> None:  # type: ignore[no-untyped-def]
    """F2 on the cell, type, Enter: as a person edits a table from the keyboard."""
    table.setFocus()
    table.setCurrentIndex(index)
    qtbot.keyClick(table, Qt.Key.Key_F2)
    (editor,) = [e for e in table.viewport().findChildren(QLineEdit) if e.isVisible()]
    qtbot.keyClicks(editor, text)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    # Qt commits the edit on the next turn of the event loop, and then closes the editor.
    qtbot.waitUntil(lambda: table.state() != QAbstractItemView.State.EditingState)


def _open_chart(qtbot, win: MainWindow):  # type: ignore[no-untyped-def]
    win.open_indicator_chart(CAT1)
    qtbot.waitUntil(lambda: getattr(win, "indicator_dialog", None) is not None, timeout=20000)
    return win.indicator_dialog


def test_the_coordinator_enters_comparators_beside_the_chart(qtbot, window) -> None:
    dialog = _open_chart(qtbot, window)
    assert "comparator:London" not in _chart_lines(dialog)
    dialog.tabs.setCurrentWidget(dialog.comparators)
    editor = dialog.comparators
    model, table = editor.model, editor.table
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(3)] == [
        "Period",
        "London",
        "England",
    ]
    assert [model.index(r, 0).data() for r in range(model.rowCount())] == [
        "2024/25 Q1 (Apr–Jun 2024)",
        "2024/25 Q2 (Jul–Sep 2024)",
    ]
    # Typed into the table from the keyboard: London for both quarters, England for Q2.
    for row, column, text in ((0, 1, "91.5"), (1, 1, "93"), (1, 2, "89")):
        _type_in_cell(qtbot, table, model.index(row, column), text)
    assert model.index(0, 1).data() == "91.5"
    assert model.index(0, 1).data(Qt.ItemDataRole.FontRole).bold()  # not saved yet
    assert editor.status.text() == "3 changes not saved yet."
    qtbot.keyClicks(editor.source, "London borough returns")
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "comparator:London" in _chart_lines(dialog), timeout=20000)

    london = _chart_lines(dialog)["comparator:London"]
    assert list(london.get_ydata()) == [91.5, 93.0]
    assert list(_chart_lines(dialog)["comparator:England"].get_ydata())[1] == 89.0
    assert editor.status.text().startswith("Saved")
    assert model.index(0, 1).data(Qt.ItemDataRole.FontRole) is None
    assert "Source: London borough returns" in model.index(0, 1).data(Qt.ItemDataRole.ToolTipRole)
    held = list_comparators(window.database, CAT1)
    assert [(e.series, e.period.code, e.value, e.source) for e in held] == [
        ("London", Q1, D("91.5"), "London borough returns"),
        ("London", Q2, D("93"), "London borough returns"),
        ("England", Q2, D("89"), "London borough returns"),
    ]
    assert audit.verify(window.database).ok

    # A blank cell removes a figure; text that is not a number is refused where it was typed.
    assert not model.setData(model.index(1, 2), "lots")
    assert "not a number" in editor.status.text()
    assert model.setData(model.index(1, 2), "")
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "comparator:England" not in _chart_lines(dialog), timeout=20000)
    assert [e.series for e in list_comparators(window.database, CAT1)] == ["London", "London"]


def test_a_comparator_out_of_range_is_not_saved_and_says_why(
    qtbot, window, monkeypatch: pytest.MonkeyPatch
) -> None:
    dialog = _open_chart(qtbot, window)
    editor = dialog.comparators
    assert editor.model.setData(editor.model.index(0, 1), "120")
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: editor.status.text().startswith("Not saved"), timeout=20000)
    assert "at most 100.0" in editor.status.text()
    assert editor.model.index(0, 1).data() == "120"  # still there, to correct
    assert list_comparators(window.database, CAT1) == []

    # Closing with figures not saved asks first; "No" keeps the dialog open.
    asked: list[str] = []
    answers = iter([False, True])
    monkeypatch.setattr(
        dialogs, "confirm", lambda _p, _t, text: asked.append(text) or next(answers)
    )
    dialog.reject()
    assert dialog.isVisible() and asked == [
        "1 comparator figure typed here has not been saved. Close without saving?"
    ]
    dialog.reject()
    assert not dialog.isVisible()


def test_read_only_shows_comparators_but_cannot_change_them(qtbot, held: Path) -> None:
    db = open_database(held)
    set_comparators(db, CAT1, [ComparatorChange("London", Q1, "91")], "cora")
    db.dispose()
    win = _open(qtbot, held, read_only=True)
    try:
        dialog = _open_chart(qtbot, win)
        model = dialog.comparators.model
        assert model.index(0, 1).data() == "91"
        assert not model.flags(model.index(0, 1)) & Qt.ItemFlag.ItemIsEditable
        assert not dialog.comparators.add_button.isEnabled()
        assert "read-only" in dialog.comparators.status.text()
        assert _chart_lines(dialog)["comparator:London"].get_ydata()[0] == 91.0
    finally:
        _close(qtbot, win)


def test_the_comparator_model_passes_qt_checks(qtmodeltester) -> None:
    from skp_desktop.services.comparators import ComparatorEntry

    model = ComparatorTableModel()
    entry = ComparatorEntry(
        CAT1,
        "Statistical neighbours",
        parse_period(Q2),
        D("90"),
        None,
        "c",
        None,  # type: ignore[arg-type]
    )
    model.load([parse_period(Q1)], [entry], "percent")
    assert model.series == ["London", "England", "Statistical neighbours"]
    assert model.rowCount() == 2
    qtmodeltester.check(model)
