"""Contrast in both themes, measured: the palette's pairs, every place's cells as drawn, and
the focus ring in the rendered window (WCAG 2.2 AA: 4.5:1 text, 3:1 cues and focus)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import QThreadPool
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QAbstractItemView, QApplication, QWidget

from skp_desktop.domain.rag import Rag
from skp_desktop.ui.accessibility import EDGE_WIDTH, FOCUS_EDGE, FOCUS_YELLOW, RING_WIDTH
from skp_desktop.ui.main_window import PLACES, MainWindow
from skp_desktop.ui.rag_style import rag_colour
from skp_desktop.ui.settings import Settings
from skp_desktop.ui.theme import CUE_PAIRS, TEXT_PAIRS, apply_theme, contrast_ratio

pytestmark = pytest.mark.gui

TODAY = date(2024, 8, 10)


@pytest.fixture(params=["light", "dark"])
def themed(request, qapp: QApplication) -> Iterator[str]:
    before = QApplication.palette()
    apply_theme(qapp, request.param)
    yield request.param
    qapp.setPalette(before)
    QApplication.styleHints().unsetColorScheme()


@pytest.fixture
def window(qtbot, database_file: Path, themed: str) -> Iterator[MainWindow]:
    settings = Settings()
    settings.last_service = "ASC"
    settings.theme = themed  # as View > Theme leaves it: start() keeps it
    win = MainWindow(str(database_file), settings=settings, today=TODAY)
    qtbot.addWidget(win)
    win.resize(1366, 768)
    win.show()
    qtbot.waitExposed(win)
    win.start()
    qtbot.waitUntil(lambda: win.controller.view is not None, timeout=15000)
    qtbot.waitUntil(lambda: not win.controller.busy, timeout=15000)
    yield win
    win.close()
    win.dispose()


def test_the_palette_pairs_meet_aa(themed: str) -> None:
    palette = QApplication.palette()
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        for fore, back in TEXT_PAIRS:
            ratio = contrast_ratio(palette.color(group, fore), palette.color(group, back))
            assert ratio >= 4.5, f"{themed}: {fore.name} on {back.name} is {ratio:.2f}:1"
        for fore, back in CUE_PAIRS:
            ratio = contrast_ratio(palette.color(group, fore), palette.color(group, back))
            assert ratio >= 3, f"{themed}: {fore.name} against {back.name} is {ratio:.2f}:1"
    for rag in Rag:
        for back in (QPalette.ColorRole.Base, QPalette.ColorRole.Window):
            ratio = contrast_ratio(rag_colour(rag), palette.color(back))
            assert ratio >= 4.5, f"{themed}: {rag.name} text on {back.name} is {ratio:.2f}:1"


def test_the_focus_ring_stands_out_from_every_background(themed: str) -> None:
    palette = QApplication.palette()
    for back in (
        QPalette.ColorRole.Window,
        QPalette.ColorRole.Base,
        QPalette.ColorRole.Button,
        QPalette.ColorRole.Highlight,
        QPalette.ColorRole.AlternateBase,
    ):
        best = max(
            contrast_ratio(FOCUS_YELLOW, palette.color(back)),
            contrast_ratio(FOCUS_EDGE, palette.color(back)),
        )
        # one band of at least 2 px reaches 3:1 against what it is drawn over
        assert best >= 3, f"{themed}: the ring on {back.name} is {best:.2f}:1"
    assert min(RING_WIDTH, EDGE_WIDTH) >= 2
    assert contrast_ratio(FOCUS_YELLOW, FOCUS_EDGE) >= 3


def _cell_pairs(view: QAbstractItemView) -> Iterator[tuple[str, QColor, QColor]]:
    """Each visible cell's text colour and background as the model asks them to be drawn."""
    from PySide6.QtCore import Qt

    model = view.model()
    palette = view.palette()
    for row in range(min(model.rowCount(), 60)):
        for column in range(model.columnCount()):
            index = model.index(row, column)
            if not index.data(Qt.ItemDataRole.DisplayRole):
                continue
            fore = index.data(Qt.ItemDataRole.ForegroundRole)
            back = index.data(Qt.ItemDataRole.BackgroundRole)
            fore = fore.color() if hasattr(fore, "color") else fore
            back = back.color() if hasattr(back, "color") else back
            base = palette.color(QPalette.ColorRole.Base)
            if back is None or back.alpha() == 0:
                back = base
            elif back.alpha() < 255:  # a tint over the base, as drawn
                a = back.alphaF()
                back = QColor.fromRgbF(
                    back.redF() * a + base.redF() * (1 - a),
                    back.greenF() * a + base.greenF() * (1 - a),
                    back.blueF() * a + base.blueF() * (1 - a),
                )
            fore = fore or palette.color(QPalette.ColorRole.Text)
            yield f"{view.accessibleName()} [{row},{column}]", QColor(fore), QColor(back)


def test_every_place_draws_its_text_at_aa(qtbot, window: MainWindow, themed: str) -> None:
    checked = 0
    for number, place in enumerate(PLACES):
        window.places.setCurrentRow(number)
        qtbot.wait(100)  # a page asks for its data once shown: let it ask, then wait for it
        qtbot.waitUntil(lambda: not window.controller.busy, timeout=15000)
        qtbot.waitUntil(
            lambda: not window.desk.worker.busy and not window.desk.charts.busy, timeout=15000
        )
        qtbot.waitUntil(
            lambda: QThreadPool.globalInstance().activeThreadCount() == 0, timeout=15000
        )
        page = window.pages.currentWidget()
        image = window.grab().toImage()
        assert not image.isNull()
        for view in page.findChildren(QAbstractItemView):
            if not view.isVisible() or view.model() is None:
                continue
            for where, fore, back in _cell_pairs(view):
                ratio = contrast_ratio(fore, back)
                assert ratio >= 4.5, f"{themed} {place}: {where} is {ratio:.2f}:1"
                checked += 1
    assert checked > 20, "cells were measured"


def test_the_focus_ring_is_drawn_around_the_focused_control(
    qtbot, window: MainWindow, themed: str
) -> None:
    page = window.return_page
    for widget in (page.service_picker, page.grid, window.places):
        widget.setFocus()
        qtbot.waitUntil(lambda w=widget: QApplication.focusWidget() is w)
        ring = window.findChild(QWidget, "focusRing")
        qtbot.waitUntil(
            lambda r=ring, w=widget: (
                bool(r.rings) and r.rings[0].contains(w.mapTo(window, w.rect().center()))
            )
        )
        image = window.grab().toImage()
        scale = window.devicePixelRatioF()
        outer = ring.rings[0]
        y = int(outer.center().y() * scale)
        for x, colour in (
            (outer.left(), FOCUS_YELLOW),
            (outer.left() + RING_WIDTH - 1, FOCUS_YELLOW),
            (outer.left() + RING_WIDTH, FOCUS_EDGE),
            (outer.left() + RING_WIDTH + EDGE_WIDTH - 1, FOCUS_EDGE),
        ):
            drawn = image.pixelColor(int(x * scale), y).name()
            assert drawn == colour.name(), f"{themed}: ring at x={x} by {widget}: {drawn}"


def _mean_lightness(widget: QWidget) -> float:
    image = widget.grab().toImage()
    points = [
        image.pixelColor(x, y).lightness()
        for x in range(0, image.width(), 9)
        for y in range(0, image.height(), 9)
    ]
    return sum(points) / len(points)


def _picture(view) -> QWidget | None:
    return view.picture or view.canvas


def test_every_picture_follows_the_theme_when_it_changes(qtbot, database_file: Path) -> None:
    """View > Theme > Dark: the side panel's trend, the dashboard and the heatmap are drawn
    again, dark; and back to light."""
    qapp = QApplication.instance()
    before = QApplication.palette()
    apply_theme(qapp, "light")
    settings = Settings()
    settings.last_service = "ASC"
    settings.theme = "light"
    win = MainWindow(str(database_file), settings=settings, today=TODAY)
    qtbot.addWidget(win)
    win.resize(1366, 768)
    win.show()
    qtbot.waitExposed(win)
    win.start()
    try:
        qtbot.waitUntil(lambda: win.controller.view is not None, timeout=15000)
        page = win.return_page
        page.go_to(win.controller.view.rows[0].code, 2)
        trend = win.definition_panel.chart
        qtbot.waitUntil(lambda: _picture(trend) is not None, timeout=15000)
        win.places.setCurrentRow(PLACES.index("Completeness"))
        completeness = win.completeness_page
        qtbot.waitUntil(lambda: completeness.report is not None, timeout=15000)
        completeness.tabs.setCurrentWidget(completeness.heatmap)
        qtbot.waitUntil(lambda: _picture(completeness.heatmap) is not None, timeout=15000)
        win.places.setCurrentRow(PLACES.index("Dashboard"))
        dashboard = win.dashboard_page.chart
        qtbot.waitUntil(lambda: _picture(dashboard) is not None, timeout=15000)
        for theme, is_right in (("dark", lambda v: v < 110), ("light", lambda v: v > 160)):
            win.set_theme(theme)
            for place, view in (
                ("Dashboard", dashboard),
                ("Completeness", completeness.heatmap),
                ("Return", trend),
            ):
                win.places.setCurrentRow(PLACES.index(place))
                qtbot.waitUntil(
                    lambda v=view, ok=is_right: (
                        _picture(v) is not None and ok(_mean_lightness(_picture(v)))
                    ),
                    timeout=15000,
                )
    finally:
        win.close()
        win.dispose()
        qapp.setPalette(before)
        QApplication.styleHints().unsetColorScheme()


def test_text_fields_have_an_edge_you_can_see(qtbot, window: MainWindow, themed: str) -> None:
    """WCAG 1.4.11: a field's boundary at 3:1 against the window and against the field."""
    from PySide6.QtWidgets import QLineEdit

    window.places.setCurrentRow(PLACES.index("History"))
    page = window.history_page
    fields = [f for f in page.findChildren(QLineEdit) if f.isVisible() and f.hasFrame()]
    assert fields, "the History page has a search field"
    palette = QApplication.palette()
    for field in fields:
        image = field.grab().toImage()
        edge = image.pixelColor(0, image.height() // 2)
        for back in (QPalette.ColorRole.Window, QPalette.ColorRole.Base):
            ratio = contrast_ratio(edge, palette.color(back))
            assert ratio >= 3, (
                f"{themed}: {field.accessibleName()} edge on {back.name}: {ratio:.2f}"
            )
