"""Typing into the return shown from the quick look, while the database is still opening."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from grid_typing import type_into

from skp_desktop.domain.errors import StoreUnavailable
from skp_desktop.services import database
from skp_desktop.services.dto import HistoryFilter
from skp_desktop.services.history import history_page
from skp_desktop.services.returns import get_return
from skp_desktop.ui.main_window import MainWindow
from skp_desktop.ui.return_grid import COLUMN_BY_TITLE
from skp_desktop.ui.settings import Settings

pytestmark = pytest.mark.gui

TODAY = date(2024, 8, 10)  # the Q1 2024/25 return is due
PERIOD = "FY2024-25-Q1"
CAT1 = "SAFER-P4-S1"  # Highways: a rate, typed as numerator and denominator
real_open_database = database.open_database


def stored(path: Path) -> Any:
    """The Highways return as the file holds it, read on a connection of its own."""
    db = real_open_database(path, read_only=True)
    try:
        return get_return(db, "HIGHWAYS", PERIOD)
    finally:
        db.dispose()


@pytest.fixture
def held_open(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The window's full open waits until the test lets it go (and fails if told to)."""
    gate: dict[str, Any] = {"go": threading.Event(), "fail": None}

    def open_database(*args: Any, **kwargs: Any) -> Any:
        assert gate["go"].wait(30), "the test never let the open go"
        if gate["fail"] is not None:
            raise gate["fail"]
        return real_open_database(*args, **kwargs)

    monkeypatch.setattr(database, "open_database", open_database)
    return gate


def quick_window(qtbot, database_file: Path) -> MainWindow:
    settings = Settings()
    settings.last_service = "HIGHWAYS"
    win = MainWindow(str(database_file), settings=settings, today=TODAY)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    win.start()
    # shown from the quick look and taking edits, with the database not open yet
    qtbot.waitUntil(
        lambda: win.return_page.model.rowCount() > 0 and win.controller.editable, timeout=15000
    )
    assert win.database is None and win.return_page.isEnabled()
    return win


def test_a_value_typed_while_the_database_opens_is_saved_and_audited_once_it_is(
    qtbot, database_file: Path, held_open: dict[str, Any]
) -> None:
    win = quick_window(qtbot, database_file)
    assert "opening the database" in win.status_state.text()
    assert not win.return_page.submit_button.isEnabled()  # submitting waits for the database
    type_into(qtbot, win, CAT1, "Numerator", "45")
    type_into(qtbot, win, CAT1, "Denominator", "50")
    assert win.controller.undo_stack.count() == 2
    model = win.return_page.model
    assert model.index(model.row_of(CAT1), COLUMN_BY_TITLE["Numerator"]).data() == "45"
    assert stored(database_file).state == "not started"  # waiting for the database

    held_open["go"].set()
    qtbot.waitUntil(lambda: win.database is not None and not win.controller.busy, timeout=20000)
    row = stored(database_file).row(CAT1)
    assert (row.numerator, row.denominator, row.value) == (Decimal(45), Decimal(50), Decimal(90))
    db = real_open_database(database_file, read_only=True)
    try:
        events = history_page(db, HistoryFilter(indicator=CAT1, action="value.set"))
    finally:
        db.dispose()
    assert [(e.actor, e.source) for e in events] == [("tester", "typed in the app")] * 2
    assert model.index(model.row_of(CAT1), COLUMN_BY_TITLE["Value"]).data() == "90.0%"
    assert "Draft r1" in win.windowTitle()
    assert "opening the database" not in win.status_state.text()
    win.close()
    win.dispose()


def test_closing_while_the_database_opens_still_saves_what_was_typed(
    qtbot, database_file: Path, held_open: dict[str, Any]
) -> None:
    win = quick_window(qtbot, database_file)
    type_into(qtbot, win, CAT1, "Numerator", "44")
    threading.Timer(0.3, held_open["go"].set).start()  # the open ends while the window closes
    win.close()  # waits for the save, which waits for the database
    win.dispose()
    assert stored(database_file).row(CAT1).numerator == Decimal(44)


def test_when_the_database_cannot_be_opened_the_user_is_told_the_edit_was_not_saved(
    qtbot, database_file: Path, held_open: dict[str, Any], shown_dialogs: list[tuple[str, str]]
) -> None:
    win = quick_window(qtbot, database_file)
    type_into(qtbot, win, CAT1, "Numerator", "45")
    held_open["fail"] = StoreUnavailable("The disk holding the database was unplugged.")
    held_open["go"].set()
    qtbot.waitUntil(lambda: bool(shown_dialogs), timeout=20000)
    qtbot.waitUntil(lambda: not win.controller.busy, timeout=20000)

    assert len(shown_dialogs) == 1
    kind, text = shown_dialogs[0]
    assert kind == "error"
    assert "The disk holding the database was unplugged." in text
    assert "The change you made while it was opening was NOT saved." in text
    assert "NOT saved" in win.status_state.text()
    assert not win.return_page.isEnabled()
    model = win.return_page.model
    assert model.index(model.row_of(CAT1), COLUMN_BY_TITLE["Numerator"]).data() == ""
    assert stored(database_file).state == "not started"
    win.close()
    win.dispose()
