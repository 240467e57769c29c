"""The first window: services, the period due now, and the chosen return's indicators."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from window_idle import close_window

from skp_desktop.services.database import open_database
from skp_desktop.services.entries import EntryChange
from skp_desktop.services.returns import record_entries
from skp_desktop.ui.main_window import PLACES, MainWindow
from skp_desktop.ui.return_grid import COLUMN_BY_TITLE, ReturnGridModel

pytestmark = pytest.mark.gui

TODAY = date(2024, 8, 10)  # Q1 2024/25 ended on 30 June: that return is due


@pytest.fixture
def window(qtbot, database_file: Path) -> Iterator[MainWindow]:
    win = MainWindow(str(database_file), today=TODAY)
    qtbot.addWidget(win)
    win.show()
    win.start()
    qtbot.waitUntil(lambda: win.return_page.model.rowCount() > 0, timeout=15000)
    qtbot.waitUntil(lambda: not win.controller.busy, timeout=15000)
    yield win
    win.close()
    win.dispose()


def test_the_window_lists_services_and_the_period_due_now(window: MainWindow) -> None:
    page = window.return_page
    services = [page.service_picker.itemText(i) for i in range(page.service_picker.count())]
    assert "Highways (RBK)" in services and "MPS Kingston (MPS)" in services
    assert len(services) == 10
    assert page.period_picker.currentText() == "2024/25 Q1 (Apr–Jun 2024) — due now"
    periods = [page.period_picker.itemText(i) for i in range(page.period_picker.count())]
    assert "2024/25 Q2 (Jul–Sep 2024) — current" in periods  # the quarter the day is in
    assert window.windowTitle().startswith("SKP Returns — ")
    assert "2024/25 Q1 (Apr–Jun 2024)" in window.windowTitle()


def test_choosing_a_service_shows_its_return(qtbot, window: MainWindow) -> None:
    page = window.return_page
    page.service_picker.setCurrentIndex(page.service_picker.findData("HIGHWAYS"))
    qtbot.waitUntil(lambda: "Highways" in window.windowTitle(), timeout=15000)
    rows = [page.model.return_row(r) for r in range(page.model.rowCount())]
    assert [r.code for r in rows if r] == ["SAFER-P4-S1"]  # annual roads indicator waits for Q4
    row = page.model.row_of("SAFER-P4-S1")
    assert page.model.index(row, COLUMN_BY_TITLE["Target"]).data() == "100.0"
    assert "Not started" in window.status_state.text()


def test_values_entered_elsewhere_show_with_rag_word_and_shape(qtbot, database_file: Path) -> None:
    db = open_database(database_file)
    record_entries(
        db,
        service="HIGHWAYS",
        period="FY2024-25-Q1",
        changes=[EntryChange("SAFER-P4-S1", {"numerator": "45", "denominator": "50"})],
        actor="tester",
    )
    db.dispose()
    win = MainWindow(str(database_file), today=TODAY)
    qtbot.addWidget(win)
    win._settings.last_service = "HIGHWAYS"
    win.show()
    win.start()
    qtbot.waitUntil(lambda: "Highways" in win.windowTitle(), timeout=15000)
    model = win.return_page.model
    row = model.row_of("SAFER-P4-S1")
    value = model.index(row, COLUMN_BY_TITLE["Value"])
    assert value.data() == "90.0%"
    assert model.index(row, COLUMN_BY_TITLE["RAG"]).data() == "■ Red"
    assert model.index(row, COLUMN_BY_TITLE["Numerator"]).data() == "45"
    assert value.data(Qt.ItemDataRole.TextAlignmentRole) & int(Qt.AlignmentFlag.AlignRight)
    assert "Draft r1" in win.windowTitle()
    win.close()
    win.dispose()


def test_the_side_panel_shows_the_selected_indicator_source(window: MainWindow) -> None:
    html = window.definition_panel.browser.toPlainText()
    index = window.return_page.grid.currentIndex()
    first = window.return_page.model.return_row(index.row()).indicator
    assert first.title in html and "Source" in html


def test_the_return_model_passes_qt_model_checks(qtmodeltester, window: MainWindow) -> None:
    qtmodeltester.check(window.return_page.model)
    qtmodeltester.check(ReturnGridModel())


def test_controls_have_accessible_names(window: MainWindow) -> None:
    page = window.return_page
    for widget in (page.service_picker, page.period_picker, page.grid, window.places):
        assert widget.accessibleName()


def test_places_visited_before_the_database_opens_fill_in_when_it_does(
    qtbot, database_file: Path
) -> None:
    # The places other than Return are built on their first visit; one visited while the
    # database is still opening must get the services, themes and history choices all the same.
    win = MainWindow(str(database_file), today=TODAY)
    qtbot.addWidget(win)
    win.show()
    win.start()
    win.places.setCurrentRow(PLACES.index("Dashboard"))
    assert win.pages.currentWidget() is win.dashboard_page
    assert win.dashboard_page.scope_picker.findData("service:HIGHWAYS") < 0  # not open yet
    history = win.history_page
    qtbot.waitUntil(lambda: win.return_page.model.rowCount() > 0, timeout=15000)
    qtbot.waitUntil(lambda: win.dashboard_page.scope_picker.findData("service:HIGHWAYS") >= 0)
    qtbot.waitUntil(lambda: history.indicator.findData("SAFER-P4-S1") >= 0, timeout=15000)
    assert win.pages.currentWidget() is win.dashboard_page
    win.places.setCurrentRow(PLACES.index("Return"))
    assert win.pages.currentWidget() is win.return_page
    close_window(qtbot, win)


def test_window_layout_is_remembered(qtbot, database_file: Path) -> None:
    first = MainWindow(str(database_file), today=TODAY)
    qtbot.addWidget(first)
    first.resize(1400, 800)  # room for a wider places list beside the return and side panel
    first.show()
    first.start()  # the side panel is placed with the pages, after the first paint
    qtbot.waitUntil(lambda: first.database is not None and not first._worker.busy, timeout=15000)
    first.splitter.setSizes([200, 900])
    first.side_panel.hide()
    remembered = first.splitter.sizes()[0]
    first.close()
    first.dispose()
    second = MainWindow(str(database_file), today=TODAY)
    qtbot.addWidget(second)
    second.show()
    second.start()
    assert second.splitter.sizes()[0] == remembered
    assert not second.side_panel.isVisible()
    qtbot.waitUntil(lambda: second.database is not None and not second._worker.busy, timeout=15000)
    second.close()
    second.dispose()


@pytest.mark.both_engines
def test_a_name_too_long_for_the_history_is_said_and_nothing_is_opened(
    qtbot, db_target: str, shown_dialogs: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SKP_ACTOR", "Hana " + "x" * 96)  # 101 characters; 100 fit
    win = MainWindow(db_target, today=TODAY)
    qtbot.addWidget(win)
    win.show()
    win.start()
    qtbot.waitUntil(lambda: bool(shown_dialogs), timeout=15000)
    qtbot.waitUntil(lambda: not win.controller.busy, timeout=15000)

    kind, text = shown_dialogs[0]
    assert kind == "error"
    assert text.startswith("The name of who is acting (SKP_ACTOR) is 101 characters long")
    assert "at most 100" in text
    assert win.database is None  # nothing opened, so nothing can be saved under that name
    assert not win.return_page.isEnabled()
    win.close()
    win.dispose()


def test_a_new_menu_item_is_one_declaration_enabled_with_its_button(
    qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As File > Keys... will be: one ActionSpec, its handler's module imported when chosen.
    import sys
    from types import SimpleNamespace

    from PySide6.QtWidgets import QMainWindow, QPushButton

    from skp_desktop.ui.actions import ActionName, Actions, ActionSpec, ActionState

    shown: list[object] = []
    monkeypatch.setitem(sys.modules, "keys_dialog_probe", SimpleNamespace(show=shown.append))
    frame = QMainWindow()
    qtbot.addWidget(frame)
    specs = (
        ActionSpec(ActionName.ABOUT, "&File", "&Keys…", "keys_dialog_probe:show"),
        ActionSpec(
            ActionName.SUBMIT, "&Return", "&Submit…", lambda w: None, enabled=lambda s: s.writable
        ),
    )
    actions = Actions(frame, specs)
    button = QPushButton("Submit…")
    actions.bind(ActionName.SUBMIT, button)
    assert [a.text() for a in frame.menuBar().actions()] == ["&File", "&Return"]

    actions.update_actions(ActionState(database_open=True, writable=False))
    assert not actions[ActionName.SUBMIT].isEnabled() and not button.isEnabled()
    actions.update_actions(ActionState(database_open=True, writable=True))
    assert actions[ActionName.SUBMIT].isEnabled() and button.isEnabled()
    actions[ActionName.ABOUT].trigger()
    assert shown == [frame]


def test_the_return_menu_reaches_the_return_place(
    qtbot, window: MainWindow, database_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from skp_desktop.ui.actions import ActionName
    from skp_desktop.ui.dialogs import dialogs

    page = window.return_page
    page.service_picker.setCurrentIndex(page.service_picker.findData("HIGHWAYS"))
    qtbot.waitUntil(lambda: "Highways" in window.windowTitle(), timeout=15000)
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=15000)
    # a value entered elsewhere shows after Return ▸ Refresh
    db = open_database(database_file)
    record_entries(
        db,
        service="HIGHWAYS",
        period="FY2024-25-Q1",
        changes=[EntryChange("SAFER-P4-S1", {"numerator": "45", "denominator": "50"})],
        actor="elsewhere",
    )
    db.dispose()
    entered = lambda: window.controller.view.row("SAFER-P4-S1").value is not None  # noqa: E731
    assert not entered()
    window.menu_actions[ActionName.REFRESH].trigger()
    qtbot.waitUntil(entered, timeout=15000)

    # Return ▸ Blank return (template)… writes the chosen return's template
    out = tmp_path / "blank.xlsx"
    monkeypatch.setattr(dialogs, "save_file", lambda *_a: str(out))
    window.menu_actions[ActionName.TEMPLATE].trigger()
    qtbot.waitUntil(lambda: "Blank return saved" in window.status_state.text(), timeout=15000)
    assert out.is_file()
