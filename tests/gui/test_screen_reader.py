"""What a screen reader is given (Qt's accessibility interfaces, as AT-SPI passes them on):
names that contain the visible label, statements read as their text, charts in figures."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import QAbstractButton, QLabel, QWidget

from skp_desktop.services.database import open_database
from skp_desktop.services.entries import EntryChange
from skp_desktop.services.returns import record_entries
from skp_desktop.ui.main_window import PLACES, MainWindow
from skp_desktop.ui.pages.dashboard_page import TrendTableModel
from skp_desktop.ui.settings import Settings

pytestmark = pytest.mark.gui

CAT1 = "SAFER-P4-S1"


@pytest.fixture
def window(qtbot, database_file: Path) -> Iterator[MainWindow]:
    db = open_database(database_file)
    for period, numerator in (("FY2024-25-Q1", "45"), ("FY2024-25-Q2", "48")):
        record_entries(
            db,
            service="HIGHWAYS",
            period=period,
            changes=[EntryChange(CAT1, {"numerator": numerator, "denominator": "50"})],
            actor="tester",
        )
    db.dispose()
    settings = Settings()
    settings.last_service = "HIGHWAYS"
    settings.last_period = "FY2024-25-Q2"
    win = MainWindow(str(database_file), settings=settings, today=date(2024, 11, 1))
    qtbot.addWidget(win)
    win.resize(1366, 768)
    win.show()
    win.start()
    qtbot.waitUntil(
        lambda: win.database is not None and win.controller.view is not None, timeout=15000
    )
    qtbot.waitUntil(lambda: not win.controller.busy, timeout=15000)
    yield win
    win.close()
    win.dispose()


def spoken(widget: QWidget, what: QAccessible.Text = QAccessible.Text.Name) -> str:
    """What Qt hands the accessibility bus for a widget."""
    return QAccessible.queryAccessibleInterface(widget).text(what)


def visible_label(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…: ").strip()


def test_statements_are_read_as_their_text(window: MainWindow) -> None:
    page = window.return_page
    for label in (window.status_state, page.heading, page.state_note):
        assert label.text(), label.accessibleDescription()
        assert spoken(label) == label.text(), f"{label.accessibleDescription()} hides its text"
    assert "Draft" in spoken(page.heading) or "Submitted" in spoken(page.heading)


@pytest.mark.parametrize("place", PLACES)
def test_every_name_contains_its_visible_label(qtbot, window: MainWindow, place: str) -> None:
    window.places.setCurrentRow(PLACES.index(place))
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=15000)
    checked = 0
    for widget in window.findChildren(QWidget):
        if not widget.isVisible():
            continue
        if isinstance(widget, QAbstractButton) and widget.text():
            label = visible_label(widget.text())
        elif isinstance(widget, QLabel) and widget.buddy() is not None and widget.text():
            widget, label = widget.buddy(), visible_label(widget.text())
        else:
            continue
        name = spoken(widget)
        if widget.metaObject().className() == "QComboBox":
            continue  # a drop-down's name is its value; its label comes as its label (AT-SPI)
        assert label.lower() in name.lower(), f"{place}: '{name}' does not say '{label}'"
        checked += 1
    assert checked


def test_the_side_panels_trend_is_told_in_its_figures(qtbot, window: MainWindow) -> None:
    window.return_page.go_to(CAT1, 2)
    chart = window.definition_panel.chart
    qtbot.waitUntil(lambda: chart.picture is not None, timeout=20000)
    words = spoken(chart.picture, QAccessible.Text.Description)
    table = TrendTableModel(window.controller and _series(window))
    for row in range(table.rowCount()):
        for column in (0, 1):  # period and value, as the table says them
            cell = table.index(row, column).data()
            if cell:
                assert cell in words, f"'{cell}' is missing from the chart's text"
    assert "90.0%" in words and "96.0%" in words


def _series(window: MainWindow):
    from skp_desktop.services.trends import indicator_trend

    return indicator_trend(window.database, CAT1, service="HIGHWAYS")


def test_the_grid_says_how_to_leave_it(window: MainWindow) -> None:
    words = spoken(window.return_page.grid, QAccessible.Text.Description)
    assert "Ctrl+Tab" in words and "F6" in words
