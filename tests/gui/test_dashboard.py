"""The Dashboard place and the side panel's trend: charts a person can read and open."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from matplotlib.figure import Figure
from PySide6.QtCore import Qt

from skp_desktop.services.database import open_database
from skp_desktop.services.entries import EntryChange
from skp_desktop.services.returns import record_entries
from skp_desktop.ui.main_window import MainWindow
from skp_desktop.ui.pages.dashboard_page import TrendTableModel, dashboard_layout
from skp_desktop.ui.settings import Settings

pytestmark = pytest.mark.gui

CAT1 = "SAFER-P4-S1"


@pytest.fixture
def with_figures(database_file: Path) -> Path:
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
    return database_file


@pytest.fixture
def window(qtbot, with_figures: Path) -> Iterator[MainWindow]:
    settings = Settings()
    settings.last_service = "HIGHWAYS"
    settings.last_period = "FY2024-25-Q2"
    win = MainWindow(str(with_figures), settings=settings, today=date(2024, 11, 1))
    qtbot.addWidget(win)
    win.resize(1366, 740)
    win.show()
    win.start()
    # the return shows before the database is open (quick read): these need it open
    qtbot.waitUntil(
        lambda: win.database is not None and win.controller.view is not None, timeout=15000
    )
    yield win
    if getattr(win, "indicator_dialog", None) is not None:
        win.indicator_dialog.close()
    win.close()
    win.dispose()


def _texts(figure) -> list[str]:
    return [t.get_text() for t in figure.findobj(lambda a: hasattr(a, "get_text"))]


def test_the_side_panel_draws_the_selected_indicators_trend(qtbot, window) -> None:
    chart = window.definition_panel.chart
    qtbot.waitUntil(lambda: chart.figure is not None, timeout=20000)
    values = [
        line
        for line in chart.figure.findobj()
        if getattr(line, "get_gid", None) and line.get_gid() == "values"
    ]
    assert list(values[0].get_ydata()) == [90.0, 96.0]
    assert "Trend of % of Category 1 defects repaired on time" in chart.picture.toolTip()


def test_the_side_panels_trend_is_drawn_off_the_ui_thread(
    qtbot, window, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from matplotlib.figure import Figure

    drawn_on: list[bool] = []
    original = Figure.draw

    def draw(self, renderer) -> None:  # type: ignore[no-untyped-def]
        drawn_on.append(threading.current_thread() is threading.main_thread())
        original(self, renderer)

    monkeypatch.setattr(Figure, "draw", draw)
    chart = window.definition_panel.chart
    window.return_page.grid.selectRow(1)  # another indicator: its trend is drawn again
    qtbot.waitUntil(lambda: bool(drawn_on) and chart.picture is not None, timeout=20000)
    qtbot.wait(100)  # a draw on the UI thread would follow the picture's arrival
    assert drawn_on and not any(drawn_on)


def test_the_dashboard_shows_every_indicator_of_a_priority(qtbot, window) -> None:
    window.places.setCurrentRow(1)
    page = window.dashboard_page
    index = page.scope_picker.findData("theme:SAFER-P4")
    assert page.scope_picker.itemText(index) == "Priority: Taking care of our borough"
    page.scope_picker.setCurrentIndex(index)
    qtbot.waitUntil(lambda: len(page.tiles) == 8, timeout=20000)
    qtbot.waitUntil(lambda: page.chart.figure is not None, timeout=20000)
    gids = {ax.get_gid() for ax in page.chart.figure.findobj(lambda a: hasattr(a, "get_gid"))}
    tiles = {f"tile:SAFER-P4-{c}" for c in ("B1", "B2", "S1", "S2", "S3", "S4", "S5", "S6")}
    assert tiles <= gids
    assert {gid for gid, _ in page.chart.picture.picture.targets} == tiles  # each one clickable
    texts = _texts(page.chart.figure)
    assert "96.0%\n↑ improving" in texts  # Cat 1 defects' tile: latest value and direction
    assert "▲ Amber\n " in texts


def _dashboard_shown(qtbot, window: MainWindow):
    """Go to the Dashboard place and wait for its picture; the page."""
    window.places.setCurrentRow(1)
    page = window.dashboard_page
    qtbot.waitUntil(lambda: page.chart.picture is not None, timeout=20000)
    return page


def test_clicking_a_tile_opens_it_large_with_its_table(qtbot, window) -> None:
    page = _dashboard_shown(qtbot, window)
    picture = page.chart.picture
    tile = dict(picture.picture.targets)[f"tile:{CAT1}"]
    assert picture.width() >= tile.right() and picture.height() >= tile.bottom()
    qtbot.mouseClick(picture, Qt.MouseButton.LeftButton, pos=tile.center().toPoint())
    qtbot.waitUntil(lambda: getattr(window, "indicator_dialog", None) is not None, timeout=20000)
    dialog = window.indicator_dialog
    assert dialog.isVisible() and CAT1 in dialog.windowTitle()
    model = dialog.table.model()
    assert model.rowCount() == 2
    assert model.index(1, 0).data() == "2024/25 Q2 (Jul–Sep 2024)"
    assert model.index(1, 1).data() == "96.0%"
    assert model.index(1, 2).data() == "100.0%"  # the target in the value's unit
    assert model.index(1, 3).data() == "▲ Amber"


def test_the_dashboard_is_drawn_off_the_ui_thread(qtbot, window, monkeypatch) -> None:
    drawn_on: list[tuple[threading.Thread, set[str]]] = []
    draw = Figure.draw

    def recorded(figure: Figure, renderer) -> None:
        gids = {ax.get_gid() or "" for ax in figure.findobj(lambda a: hasattr(a, "get_gid"))}
        drawn_on.append((threading.current_thread(), gids))
        draw(figure, renderer)

    monkeypatch.setattr(Figure, "draw", recorded)
    page = _dashboard_shown(qtbot, window)
    qtbot.wait(300)  # a paint of the page, had it drawn the figure here
    dashboards = [thread for thread, gids in drawn_on if any(g.startswith("tile:") for g in gids)]
    assert dashboards, "the dashboard was never drawn"
    assert threading.main_thread() not in dashboards
    # What a person sees: the picture's pixels, at the size the figure was drawn for.
    image = page.chart.picture.picture.image
    width, _ = page.chart.figure.get_size_inches()
    assert image.deviceIndependentSize().width() == pytest.approx(width * 100, abs=1)
    assert image.pixelColor(image.width() // 2, image.height() // 2).isValid()


def test_revisiting_the_dashboard_shows_the_last_picture_until_data_changes(
    qtbot, window, monkeypatch, with_figures: Path
) -> None:
    from skp_desktop.charts import dashboard

    built: list[int] = []
    original = dashboard.dashboard_figure

    def counted(*args, **kwargs):
        built.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(dashboard, "dashboard_figure", counted)
    page = _dashboard_shown(qtbot, window)
    first = page.chart.picture.picture
    window.places.setCurrentRow(0)
    window.places.setCurrentRow(1)
    assert page.chart.picture.picture is first  # at once, before any worker has run
    qtbot.waitUntil(lambda: not window._charts.busy, timeout=20000)
    assert len(built) == 1 and page.chart.picture.picture is first
    # A value saved since: the revisit shows the old picture, then the new one.
    db = open_database(with_figures)
    record_entries(
        db,
        service="HIGHWAYS",
        period="FY2024-25-Q3",
        changes=[EntryChange(CAT1, {"numerator": "40", "denominator": "50"})],
        actor="tester",
    )
    db.dispose()
    window.places.setCurrentRow(0)
    window.places.setCurrentRow(1)
    assert page.chart.picture.picture is first
    qtbot.waitUntil(lambda: page.chart.picture.picture is not first, timeout=20000)
    assert len(built) == 2
    assert f"{CAT1}: 80.0%" in page.chart.picture.accessibleDescription()


def test_the_trend_table_model_passes_qt_checks(qtmodeltester) -> None:
    qtmodeltester.check(TrendTableModel())


def test_dashboard_columns_fill_the_width() -> None:
    assert dashboard_layout(1200, 22)[0] == 4
    assert dashboard_layout(640, 22)[0] == 2
    assert dashboard_layout(1200, 3) == (3, (12.0, 3.2))
