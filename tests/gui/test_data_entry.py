"""Entering a return as a service manager would: typing, checks, undo, paste, submit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from grid_typing import type_into
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from skp_desktop.services.database import open_database
from skp_desktop.services.dto import ReturnView
from skp_desktop.services.returns import get_return
from skp_desktop.ui.main_window import MainWindow
from skp_desktop.ui.return_grid import COLUMN_BY_TITLE
from skp_desktop.ui.settings import Settings

pytestmark = pytest.mark.gui

TODAY = date(2024, 8, 10)  # the Q1 2024/25 return is due
CAT1 = "SAFER-P4-S1"


def stored(database_file: Path, service: str = "HIGHWAYS") -> ReturnView:
    """The return as the database holds it, read on a connection of its own."""
    db = open_database(database_file)
    try:
        return get_return(db, service, "FY2024-25-Q1")
    finally:
        db.dispose()


def open_window(qtbot, database_file: Path, service: str) -> MainWindow:
    settings = Settings()
    settings.last_service = service
    win = MainWindow(str(database_file), settings=settings, today=TODAY)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    win.start()
    qtbot.waitUntil(lambda: win.controller.view is not None, timeout=15000)
    qtbot.waitUntil(lambda: not win.controller.busy, timeout=15000)
    return win


@pytest.fixture
def highways(qtbot, database_file: Path) -> Iterator[MainWindow]:
    win = open_window(qtbot, database_file, "HIGHWAYS")
    yield win
    win.close()
    win.dispose()


def settle(qtbot, win: MainWindow) -> None:
    qtbot.waitUntil(lambda: not win.controller.busy, timeout=15000)


def test_a_typed_rate_is_saved_when_the_editor_closes(qtbot, highways, database_file) -> None:
    type_into(qtbot, highways, CAT1, "Numerator", "45")
    settle(qtbot, highways)
    type_into(qtbot, highways, CAT1, "Denominator", "50")
    settle(qtbot, highways)
    row = stored(database_file).row(CAT1)
    assert (row.numerator, row.denominator, row.value) == (Decimal(45), Decimal(50), Decimal(90))
    model = highways.return_page.model
    line = model.row_of(CAT1)
    assert model.index(line, COLUMN_BY_TITLE["Value"]).data() == "90.0%"
    assert model.index(line, COLUMN_BY_TITLE["RAG"]).data() == "■ Red"
    assert "Draft r1" in highways.windowTitle()
    assert "saved" in highways.status_state.text()


def test_a_bad_value_shows_its_message_and_is_not_saved(qtbot, highways, database_file) -> None:
    type_into(qtbot, highways, CAT1, "Numerator", "lots")
    settle(qtbot, highways)
    message = highways.return_page.message_bar.text()
    assert "lots" in message and "expected a number" in message
    assert stored(database_file).state == "not started"
    assert highways.controller.undo_stack.count() == 0


def test_the_editor_warns_while_typing(qtbot, highways) -> None:
    page = highways.return_page
    page.go_to(CAT1, COLUMN_BY_TITLE["Denominator"])
    qtbot.keyClick(page.grid, Qt.Key.Key_F2)
    editor = QApplication.focusWidget()
    qtbot.keyClicks(editor, "-5")
    assert editor.property("invalid") is True
    assert "denominator" in page.message_bar.text()
    qtbot.keyClick(editor, Qt.Key.Key_Escape)
    assert page.message_bar.text() == ""


def test_undo_restores_the_saved_value(qtbot, highways, database_file) -> None:
    type_into(qtbot, highways, CAT1, "Numerator", "45")
    settle(qtbot, highways)
    type_into(qtbot, highways, CAT1, "Numerator", "40")
    settle(qtbot, highways)
    assert stored(database_file).row(CAT1).numerator == Decimal(40)
    qtbot.keyClick(highways, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, highways)
    assert stored(database_file).row(CAT1).numerator == Decimal(45)
    qtbot.keyClick(highways, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, highways)
    assert stored(database_file).row(CAT1).numerator == Decimal(40)


def test_a_pasted_block_lands_in_one_step(qtbot, highways, database_file) -> None:
    page = highways.return_page
    page.go_to(CAT1, COLUMN_BY_TITLE["Numerator"])
    QApplication.clipboard().setText("47\t50\n")
    qtbot.keyClick(page.grid, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, highways)
    assert stored(database_file).row(CAT1).value == Decimal(94)
    assert highways.controller.undo_stack.count() == 1
    from skp_desktop.services.audit import history

    db = open_database(database_file)
    assert history(db, indicator=CAT1, limit=1)[0].source == "pasted in the app"
    db.dispose()
    highways.controller.undo_stack.undo()
    settle(qtbot, highways)
    assert stored(database_file).row(CAT1).value is None


def test_a_paste_with_a_bad_cell_pastes_nothing(qtbot, highways, database_file) -> None:
    page = highways.return_page
    page.go_to(CAT1, COLUMN_BY_TITLE["Numerator"])
    QApplication.clipboard().setText("60\t50\n")  # 60 of 50 is more than 100%
    qtbot.keyClick(page.grid, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, highways)
    assert "Nothing was pasted" in page.message_bar.text()
    assert "above the denominator" in page.message_bar.text()
    assert stored(database_file).state == "not started"


def test_submit_is_refused_while_a_value_is_missing(qtbot, database_file, shown_dialogs) -> None:
    win = open_window(qtbot, database_file, "CHILDRENS")
    type_into(qtbot, win, "SAFER-P1-B2", "Value", "120")
    settle(qtbot, win)
    win.return_page.submit_button.click()
    settle(qtbot, win)
    assert "Not submitted" in win.return_page.message_bar.text()
    assert stored(database_file, "CHILDRENS").state == "draft"
    win.close()
    win.dispose()


def test_submit_asks_for_explanations_then_locks_the_revision(
    qtbot, highways, database_file, monkeypatch
) -> None:
    from skp_desktop.ui.dialogs import dialogs

    asked: list[list[tuple[str, str]]] = []
    monkeypatch.setattr(dialogs, "confirm", lambda *_args: True)
    monkeypatch.setattr(
        dialogs, "ask_explanations", lambda _p, w: asked.append(list(w)) or {CAT1: "storm"}
    )
    type_into(qtbot, highways, CAT1, "Numerator", "45")
    settle(qtbot, highways)
    type_into(qtbot, highways, CAT1, "Denominator", "50")
    settle(qtbot, highways)
    highways.return_page.submit_button.click()
    settle(qtbot, highways)
    assert asked == []  # a first quarter has nothing to compare with: no warning
    assert stored(database_file).state == "submitted"
    assert highways.return_page.model.read_only
    assert not highways.return_page.submit_button.isEnabled()
    assert highways.return_page.reopen_button.isEnabled()
    # the Return menu says the same as the buttons (one action each, ui/actions.py)
    menu = {a.text(): a for a in highways.menu_actions.menus["&Return"].actions()}
    assert not menu["&Submit…"].isEnabled()
    assert menu["&Reopen…"].isEnabled() and menu["&Export as Excel…"].isEnabled()

    monkeypatch.setattr(dialogs, "ask_text", lambda *_args: "late invoices")
    highways.return_page.reopen_button.click()
    settle(qtbot, highways)
    view = stored(database_file)
    assert (view.state, view.revision) == ("draft", 2)
    assert "Draft r2" in highways.windowTitle()


def test_values_are_there_after_closing_and_reopening(qtbot, database_file) -> None:
    win = open_window(qtbot, database_file, "HIGHWAYS")
    type_into(qtbot, win, CAT1, "Numerator", "33")
    win.close()  # closing waits for the save
    win.dispose()
    again = open_window(qtbot, database_file, "HIGHWAYS")
    model = again.return_page.model
    assert model.index(model.row_of(CAT1), COLUMN_BY_TITLE["Numerator"]).data() == "33"
    again.close()
    again.dispose()


def test_the_grid_model_passes_qt_model_checks(qtmodeltester, highways) -> None:
    qtmodeltester.check(highways.return_page.model)


def test_a_submitted_return_exports_in_one_click(
    qtbot, highways, database_file, tmp_path, monkeypatch
) -> None:
    from skp_desktop.services.exchange import import_files
    from skp_desktop.ui.dialogs import dialogs

    monkeypatch.setattr(dialogs, "confirm", lambda *_args: True)
    type_into(qtbot, highways, CAT1, "Numerator", "45")
    settle(qtbot, highways)
    type_into(qtbot, highways, CAT1, "Denominator", "50")
    settle(qtbot, highways)
    assert not highways.return_page.export_button.isEnabled()  # a draft is not sent on
    highways.return_page.submit_button.click()
    settle(qtbot, highways)
    out = tmp_path / "out.xlsx"
    monkeypatch.setattr(dialogs, "save_file", lambda *_args: str(out))
    highways.return_page.export_button.click()
    qtbot.waitUntil(lambda: "Exported to" in highways.status_state.text(), timeout=20000)
    db = open_database(database_file)
    outcome = import_files(db, [out], actor="t", dry_run=True)[0]
    db.dispose()
    assert outcome.status == "DUPLICATE"  # the file is exactly the return held
