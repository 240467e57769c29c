"""The app without a mouse: Tab through every place, F6 between regions, typing a return."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QThreadPool
from PySide6.QtWidgets import QAbstractItemView, QApplication, QLineEdit, QWidget
from window_idle import close_window

from skp_desktop.services.audit import history
from skp_desktop.services.database import open_database
from skp_desktop.services.returns import get_return
from skp_desktop.ui.accessibility import is_tab_stop
from skp_desktop.ui.main_window import PLACES, MainWindow
from skp_desktop.ui.return_grid import COLUMN_BY_TITLE
from skp_desktop.ui.settings import Settings

pytestmark = pytest.mark.gui

TODAY = date(2024, 8, 10)  # the Q1 2024/25 return is due
PERIOD = "FY2024-25-Q1"


def open_window(qtbot, database_file: Path, service: str) -> MainWindow:
    settings = Settings()
    settings.last_service = service
    win = MainWindow(str(database_file), settings=settings, today=TODAY)
    qtbot.addWidget(win)
    win.resize(1366, 768)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    win.start()
    qtbot.waitUntil(lambda: win.controller.view is not None, timeout=15000)
    qtbot.waitUntil(lambda: not win.controller.busy, timeout=15000)
    return win


@pytest.fixture
def asc(qtbot, database_file: Path) -> Iterator[MainWindow]:
    win = open_window(qtbot, database_file, "ASC")
    yield win
    win.close()
    win.dispose()


def press(qtbot, keys: str) -> None:
    """Keys as a person types them, each to whatever has the keyboard at that moment; the
    saves run meanwhile (nothing waits for them between keys)."""
    named = {
        "Tab": Qt.Key.Key_Tab,
        "Enter": Qt.Key.Key_Return,
        "Backtab": Qt.Key.Key_Backtab,
        "F6": Qt.Key.Key_F6,
    }
    for word in keys.split():
        if word in named:
            qtbot.keyClick(QApplication.focusWidget(), named[word])
            QApplication.processEvents()
            continue
        for char in word:
            qtbot.keyClicks(QApplication.focusWidget(), char)
            QApplication.processEvents()


def tab_walk(start: QWidget, *, forward: bool = True, limit: int = 200) -> list[QWidget]:
    """The widgets Tab (or Shift+Tab) gives the keyboard to, from `start` until it comes back
    round or gets stuck."""
    start.setFocus(Qt.FocusReason.TabFocusReason)
    QApplication.processEvents()
    seen: list[QWidget] = [QApplication.focusWidget()]
    key = Qt.Key.Key_Tab if forward else Qt.Key.Key_Backtab
    for _ in range(limit):
        here = QApplication.focusWidget()
        event_target = here
        from PySide6.QtTest import QTest

        QTest.keyClick(event_target, key)
        QApplication.processEvents()
        now = QApplication.focusWidget()
        if now is seen[0] or now in seen:
            seen.append(now)
            break
        seen.append(now)
    return seen


def _first_tab_stop_of(page: QWidget) -> QWidget:
    widget = page
    while True:
        widget = widget.nextInFocusChain()
        if page.isAncestorOf(widget) and is_tab_stop(widget):
            return widget


def test_return_tab_order_is_service_period_grid_then_the_buttons(qtbot, asc) -> None:
    page = asc.return_page
    walk = tab_walk(page.service_picker)
    assert walk[:3] == [page.service_picker, page.period_picker, page.grid]
    # In the grid Tab moves between cells (Excel); Ctrl+Tab leaves it for the buttons.
    page.grid.setFocus()
    qtbot.keyClick(page.grid, Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)
    enabled = [b for b in (page.submit_button, page.reopen_button, page.export_button)]
    enabled = [b for b in enabled if b.isEnabled()]
    expected = enabled[0] if enabled else None
    if expected is not None:
        assert QApplication.focusWidget() is expected
    else:
        assert QApplication.focusWidget() is not page.grid
    # and Ctrl+Shift+Tab goes back to the period picker
    page.grid.setFocus()
    qtbot.keyClick(
        page.grid,
        Qt.Key.Key_Backtab,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert QApplication.focusWidget() is page.period_picker


@pytest.mark.parametrize("place", PLACES[1:])
def test_tab_reaches_every_control_of_a_place_and_leaves_every_table(
    qtbot, asc, place: str
) -> None:
    asc.places.setCurrentRow(PLACES.index(place))
    page = asc.pages.currentWidget()
    qtbot.waitUntil(lambda: not asc.controller.busy, timeout=15000)
    # the page's own reading (a preview, a list) ends before its controls are counted
    qtbot.waitUntil(lambda: QThreadPool.globalInstance().activeThreadCount() == 0, timeout=15000)
    qtbot.wait(50)
    stops = [
        w
        for w in page.findChildren(QWidget)
        if w.isVisible()
        and w.isEnabled()
        and w.focusPolicy().value & Qt.FocusPolicy.TabFocus.value
        and w.focusProxy() is None
        and w.objectName() != "focusRing"
        and not isinstance(w.parentWidget(), QLineEdit)  # a filter field's clear button
    ]
    assert stops, f"{place} has no control Tab can reach"
    for forward in (True, False):
        walk = tab_walk(_first_tab_stop_of(page), forward=forward, limit=400)
        missed = [
            f"{type(w).__name__} {w.accessibleName() or w.objectName()}"
            for w in stops
            if w not in walk
        ]
        assert not missed, (
            f"{place}: Tab ({'forward' if forward else 'back'}) never reaches {missed}: "
            + ", ".join(f"{type(w).__name__} {w.accessibleName()}" for w in walk)
        )
    for view in page.findChildren(QAbstractItemView):
        if view.isVisible():
            assert not view.tabKeyNavigation() or view is asc.return_page.grid, (
                f"Tab stays inside {view.accessibleName()} on {place}"
            )


def test_f6_moves_between_places_page_and_side_panel(qtbot, asc) -> None:
    asc.return_page.grid.setFocus()
    QApplication.processEvents()
    asc.places.setFocus()
    qtbot.keyClick(asc.places, Qt.Key.Key_F6)
    assert asc.pages.isAncestorOf(QApplication.focusWidget())
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_F6)
    assert asc.side_panel.isAncestorOf(QApplication.focusWidget())
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_F6)
    assert QApplication.focusWidget() is asc.places
    qtbot.keyClick(asc.places, Qt.Key.Key_F6, Qt.KeyboardModifier.ShiftModifier)
    assert asc.side_panel.isAncestorOf(QApplication.focusWidget())
    # and back in the page, the keyboard returns where it was: the grid
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_F6)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_F6)
    assert QApplication.focusWidget() is asc.return_page.grid


def test_history_from_date_lets_tab_go_on(qtbot, asc) -> None:
    asc.places.setCurrentRow(PLACES.index("History"))
    page = asc.history_page
    date_fields = [w for w in page.findChildren(QWidget) if type(w).__name__ == "QDateEdit"]
    assert date_fields
    first = date_fields[0]
    first.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.keyClick(first, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is not first
    assert not first.isAncestorOf(QApplication.focusWidget())


def _stored(database_file: Path, service: str) -> dict[str, tuple[Decimal | None, ...]]:
    db = open_database(database_file)
    try:
        view = get_return(db, service, PERIOD)
        return {r.code: (r.numerator, r.denominator) for r in view.rows}
    finally:
        db.dispose()


def _audited(database_file: Path, service: str) -> list[tuple[str | None, str | None]]:
    db = open_database(database_file)
    try:
        return [(e.indicator, e.new) for e in history(db, service=service, period=PERIOD)]
    finally:
        db.dispose()


def test_a_return_typed_as_in_excel_loses_nothing(qtbot, asc, database_file) -> None:
    """`45 Tab 50 Enter 12 Tab 20 Enter` at typing speed: every figure saved and audited."""
    page = asc.return_page
    rows = [r for r in asc.controller.view.rows if r.indicator.rules.has_fraction]
    assert len(rows) >= 2, "the ASC return has two rates to type"
    page.go_to(rows[0].code, COLUMN_BY_TITLE["Numerator"])
    figures = [("45", "50"), ("12", "20"), ("7", "9")][: len(rows)]
    press(qtbot, " ".join(f"{n} Tab {d} Enter" for n, d in figures))
    qtbot.waitUntil(lambda: not asc.controller.busy, timeout=15000)
    stored = _stored(database_file, "ASC")
    audited = _audited(database_file, "ASC")
    for row, (numerator, denominator) in zip(rows, figures, strict=False):
        assert stored[row.code] == (Decimal(numerator), Decimal(denominator)), row.code
        said = [new for code, new in audited if code == row.code]
        assert any(numerator in (new or "") for new in said), f"{row.code} numerator audited"
        assert any(denominator in (new or "") for new in said), f"{row.code} denominator"
    assert page.message_bar.text() == "" or "not entered" not in page.message_bar.text()


def test_a_key_on_a_worked_out_value_is_said_not_dropped(qtbot, asc) -> None:
    page = asc.return_page
    rate = next(r for r in asc.controller.view.rows if r.indicator.rules.has_fraction)
    page.go_to(rate.code, COLUMN_BY_TITLE["Value"])
    qtbot.keyClicks(page.grid, "2")
    said = page.message_bar.text()
    assert rate.code in said and "Numerator or Denominator" in said and "not entered" in said
    assert said in asc.statusBar().currentMessage()


def test_tab_from_the_last_cell_leaves_the_grid(qtbot, asc) -> None:
    grid = asc.return_page.grid
    model = grid.model()
    last_column = max(c for c in range(model.columnCount()) if not grid.isColumnHidden(c))
    grid.setFocus()
    grid.setCurrentIndex(model.index(model.rowCount() - 1, last_column))
    qtbot.keyClick(grid, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is not grid


def _mnemonic(text: str) -> str | None:
    at = text.replace("&&", "").find("&")
    return text.replace("&&", "")[at + 1].lower() if at >= 0 else None


@pytest.mark.parametrize("place", PLACES)
def test_no_two_visible_controls_share_an_alt_key(qtbot, asc, place: str) -> None:
    from PySide6.QtWidgets import QAbstractButton, QLabel, QTabBar

    asc.places.setCurrentRow(PLACES.index(place))
    qtbot.waitUntil(lambda: not asc.controller.busy, timeout=15000)
    keys: dict[str, list[str]] = {}
    for action in asc.menuBar().actions():
        if (key := _mnemonic(action.text())) is not None:
            keys.setdefault(key, []).append(f"menu {action.text()}")
    for widget in asc.findChildren(QWidget):
        if not widget.isVisible():
            continue
        texts: list[str] = []
        if isinstance(widget, QAbstractButton) or (
            isinstance(widget, QLabel) and widget.buddy() is not None
        ):
            texts = [widget.text()]
        elif isinstance(widget, QTabBar):
            texts = [widget.tabText(i) for i in range(widget.count())]
        for text in texts:
            if (key := _mnemonic(text)) is not None:
                keys.setdefault(key, []).append(text)
    clashes = {k: v for k, v in keys.items() if len(v) > 1}
    assert not clashes, f"{place}: Alt+key used twice: {clashes}"


def test_code_and_indicator_stay_in_view_when_the_grid_scrolls_sideways(qtbot, asc) -> None:
    page = asc.return_page
    grid = page.grid
    asc.resize(1000, 700)  # narrower than the grid's columns
    QApplication.processEvents()
    rows = asc.controller.view.rows
    assert not grid.frozen.isVisible()  # nothing to freeze before the grid scrolls
    page.go_to(rows[-1].code, COLUMN_BY_TITLE["Explanation"])
    QApplication.processEvents()
    assert grid.horizontalScrollBar().value() > 0, "the grid scrolled to Explanation"
    frozen = grid.frozen
    assert frozen.isVisible()
    width = grid.columnWidth(0) + grid.columnWidth(1)
    assert frozen.width() >= width and frozen.x() <= grid.frameWidth()
    # the current cell is beside the frozen columns, not under them
    left = grid.columnViewportPosition(COLUMN_BY_TITLE["Explanation"])
    assert left >= width - 1
    # the frozen strip draws the row's code: its pixels differ along the current row
    image = frozen.grab().toImage()
    cell = frozen.cell_rect(grid.currentIndex().row(), 0)
    y = cell.center().y()
    colours = {image.pixelColor(x, y).name() for x in range(cell.left() + 2, cell.right() - 2)}
    assert len(colours) > 2, "the code is drawn in the frozen column"
    # and back at the start, the strip goes
    page.go_to(rows[0].code, COLUMN_BY_TITLE["Code"])
    grid.horizontalScrollBar().setValue(0)
    QApplication.processEvents()
    assert not frozen.isVisible()


@pytest.mark.parametrize("place", ["Return", "Merge", "History"])
def test_tab_goes_places_then_page_then_side_panel(qtbot, asc, place: str) -> None:
    asc.places.setCurrentRow(PLACES.index(place))
    qtbot.waitUntil(lambda: QThreadPool.globalInstance().activeThreadCount() == 0, timeout=15000)
    page = asc.pages.currentWidget()
    asc.places.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.keyClick(asc.places, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is _first_tab_stop_of(page), "Tab from Places: the page"
    asc.places.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.keyClick(asc.places, Qt.Key.Key_Backtab)  # Shift+Tab from Places: the side panel
    assert asc.side_panel.isAncestorOf(QApplication.focusWidget())
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)  # and on round to Places
    assert QApplication.focusWidget() is asc.places


def test_a_refused_key_is_announced_politely(qtbot, asc, monkeypatch) -> None:
    import skp_desktop.ui.pages.return_page as return_page

    said: list[str] = []
    monkeypatch.setattr(return_page, "announce", lambda _w, text, **_k: said.append(text))
    page = asc.return_page
    rate = next(r for r in asc.controller.view.rows if r.indicator.rules.has_fraction)
    page.go_to(rate.code, COLUMN_BY_TITLE["RAG"])
    qtbot.keyClicks(page.grid, "7")
    assert said and "RAG" in said[-1] and "not entered" in said[-1]


def test_rows_are_targets_big_enough_to_hit(qtbot, asc) -> None:
    """WCAG 2.5.8: the places' rows and every table's rows at least 24 px high."""
    from PySide6.QtWidgets import QTableView

    from skp_desktop.ui.accessibility import TARGET_SIZE

    for row in range(asc.places.count()):
        assert asc.places.visualItemRect(asc.places.item(row)).height() >= TARGET_SIZE
    for place in PLACES:
        asc.places.setCurrentRow(PLACES.index(place))
        qtbot.waitUntil(
            lambda: QThreadPool.globalInstance().activeThreadCount() == 0, timeout=15000
        )
        for table in asc.findChildren(QTableView):
            if table.isVisible() and table.model() is not None and table.model().rowCount():
                height = table.rowHeight(0)
                assert height >= TARGET_SIZE, f"{place}: {table.accessibleName()} rows {height}"


@pytest.mark.parametrize("place", PLACES)
def test_the_focus_ring_surrounds_every_control_tab_reaches(qtbot, asc, place: str) -> None:
    """Every kind of control (lists, tables and their current cell, buttons, fields, drop-downs,
    tabs, pictures): the ring is drawn around it when it has the keyboard."""
    from PySide6.QtCore import QRect

    asc.places.setCurrentRow(PLACES.index(place))
    qtbot.waitUntil(lambda: QThreadPool.globalInstance().activeThreadCount() == 0, timeout=15000)
    page = asc.pages.currentWidget()
    walk = tab_walk(_first_tab_stop_of(page), limit=400)
    ring = asc.findChild(QWidget, "focusRing")
    assert ring is not None
    for widget in dict.fromkeys(walk):
        widget.setFocus(Qt.FocusReason.TabFocusReason)
        QApplication.processEvents()
        if QApplication.focusWidget() is not widget:
            continue
        ring.refresh()
        where = QRect(widget.mapTo(asc, widget.rect().topLeft()), widget.size())
        assert ring.isVisible() and ring.rings, f"{place}: no ring on {widget}"
        assert ring.rings[0].contains(where.intersected(asc.rect())), (
            f"{place}: the ring is not around {type(widget).__name__} {widget.accessibleName()}"
        )
        if isinstance(widget, QAbstractItemView) and widget.currentIndex().isValid():
            assert len(ring.rings) == 2, f"{place}: no ring on {widget.accessibleName()}'s cell"


def test_tab_leaves_the_chart_dialogs_figures_table(qtbot, asc) -> None:
    code = asc.controller.view.rows[0].code
    qtbot.waitUntil(lambda: asc.database is not None, timeout=15000)
    asc.open_indicator_chart(code)
    qtbot.waitUntil(lambda: getattr(asc, "indicator_dialog", None) is not None, timeout=15000)
    dialog = asc.indicator_dialog
    qtbot.waitExposed(dialog)
    try:
        stops = [
            w
            for w in dialog.findChildren(QWidget)
            if is_tab_stop(w) and not isinstance(w.parentWidget(), QLineEdit)
        ]
        assert dialog.table in stops
        walk = tab_walk(dialog.table, limit=200)
        missed = [f"{type(w).__name__} {w.accessibleName()}" for w in stops if w not in walk]
        assert not missed, f"Tab from the figures table never reaches {missed}"
        assert not dialog.table.tabKeyNavigation()
    finally:
        dialog.close()


def _unnamed_tab_stops(dialog: QWidget) -> list[str]:
    """Tab stops a screen reader would read without a name (a scroll area reads as "filler");
    a tab bar is read by its current tab's text."""
    from PySide6.QtWidgets import QAbstractButton, QTabBar

    return [
        type(w).__name__
        for w in dialog.findChildren(QWidget)
        if is_tab_stop(w)
        and not isinstance(w.parentWidget(), QLineEdit)
        and not w.accessibleName()
        and not (isinstance(w, QAbstractButton) and w.text())
        and not isinstance(w, QTabBar)
    ]


def test_the_queries_dialog_names_each_tick_with_what_it_shows(qtbot) -> None:
    """WCAG 2.5.3: a tick box's name holds its own text and the title that labels it; and no
    unnamed Tab stop (the scroll area round the ticks was one)."""
    from PySide6.QtWidgets import QLabel

    from skp_desktop.ui.dialog_boxes import QueriesDialog, QueryChoice

    choices = [
        QueryChoice("SAFER-P1-B2", "number of children looked after", "120"),
        QueryChoice("SAFER-P1-S3", "% of care leavers in contact", "75.0%"),
    ]
    dialog = QueriesDialog("Return with a query", "Tick each indicator", choices)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    for check in dialog.checks.values():
        (label,) = [w for w in dialog.findChildren(QLabel) if w.buddy() is check]
        name = " ".join(check.accessibleName().split())
        assert " ".join(check.text().split()) in name
        assert label.text() in name
    assert not _unnamed_tab_stops(dialog)
    first = dialog.checks["SAFER-P1-B2"]
    for forward in (True, False):
        walk = tab_walk(first, forward=forward)
        assert walk[-1] is first, "Tab comes back round"
        assert dialog.checks["SAFER-P1-S3"] in walk and dialog.note in walk


def test_each_explanation_field_says_the_warning_it_explains(qtbot) -> None:
    """A screen reader on the field hears which figure and what is unusual about it (the
    warning shows in a row of its own above the field); Tab reaches every field and Cancel."""
    from PySide6.QtWidgets import QDialogButtonBox

    from skp_desktop.ui.dialog_boxes import ExplanationsDialog

    warnings = [
        ("SAFER-P1-S1", "48.1% is 40% lower than the previous period (79.8%)"),
        ("SAFER-P1-S2", "69.9% is outside the range seen so far (70.1–92.7%)"),
    ]
    dialog = ExplanationsDialog(warnings)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    fields = [w for w in dialog.findChildren(QLineEdit) if is_tab_stop(w)]
    assert len(fields) == 2
    for (code, message), field in zip(warnings, fields, strict=True):
        assert code in field.accessibleName()
        assert field.accessibleDescription() == message
    assert not _unnamed_tab_stops(dialog)
    cancel = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Cancel)
    walk = tab_walk(fields[0])
    assert fields[1] in walk and cancel in walk and walk[-1] is fields[0]


def test_tab_reaches_the_comparators_save_once_a_figure_is_typed(
    qtbot, database_file: Path, monkeypatch
) -> None:
    from skp_desktop.services.entries import EntryChange
    from skp_desktop.services.returns import record_entries
    from skp_desktop.ui.dialogs import dialogs

    db = open_database(database_file)  # a figure held: a period to compare with
    change = EntryChange("SAFER-P1-S1", {"numerator": "45", "denominator": "50"})
    record_entries(db, service="ASC", period=PERIOD, changes=[change], actor="service")
    db.dispose()
    asc = open_window(qtbot, database_file, "ASC")
    qtbot.waitUntil(lambda: asc.database is not None, timeout=15000)
    asc.open_indicator_chart("SAFER-P1-S1")
    qtbot.waitUntil(lambda: getattr(asc, "indicator_dialog", None) is not None, timeout=15000)
    dialog = asc.indicator_dialog
    qtbot.waitExposed(dialog)
    monkeypatch.setattr(dialogs, "confirm", lambda *_a: True)  # close without saving
    try:
        editor = dialog.comparators
        assert editor is not None
        dialog.tabs.setCurrentWidget(editor)
        assert editor.model.rowCount() > 0, "the indicator has periods to compare"
        assert editor.model.setData(editor.model.index(0, 1), "50")
        assert editor.save_button.isEnabled()
        assert not _unnamed_tab_stops(dialog)
        for forward in (True, False):
            walk = tab_walk(editor.table, forward=forward)
            assert editor.source in walk and editor.save_button in walk, [
                f"{type(w).__name__} {w.accessibleName()}" for w in walk
            ]
            assert walk[-1] is editor.table, "Tab comes back round to the table"
    finally:
        dialog.reject()
        close_window(qtbot, asc)


def test_the_due_date_field_says_what_the_keyboard_does_and_it_does(qtbot, asc) -> None:
    """Its description promised Alt+Down for a calendar, which Qt 6 opens for the mouse only;
    it says Up and Down instead, and Down, as it says, moves the day the cursor is in."""
    asc.places.setCurrentRow(PLACES.index("Completeness"))
    page = asc.completeness_page
    qtbot.waitUntil(lambda: page.report is not None and not page._loading, timeout=15000)
    field = page.due_editor.date_edit
    said = field.accessibleDescription()
    assert "Alt+Down" not in said and "Up and Down" in said
    field.setFocus(Qt.FocusReason.TabFocusReason)  # the day is selected
    qtbot.keyClick(field, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    assert QApplication.activePopupWidget() is None, "Qt opens the calendar now: say so"
    before = field.date()
    qtbot.keyClick(field, Qt.Key.Key_Down)
    assert field.date() == before.addDays(-1)
    assert page.due_editor.set_button.isEnabled()
