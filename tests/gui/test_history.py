"""The auditor's History place: filters, paging, a value's timeline, verify, read-only."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from skp_desktop.services.database import open_database
from skp_desktop.services.entries import EntryChange
from skp_desktop.services.returns import record_entries, reopen_return, submit_return
from skp_desktop.store.audit import append_event
from skp_desktop.ui.history_model import HistoryModel
from skp_desktop.ui.main_window import PLACES, MainWindow
from skp_desktop.ui.settings import Settings

pytestmark = pytest.mark.gui

CAT1 = "SAFER-P4-S1"
FILLER = 450  # more than two pages of 200


@pytest.fixture
def history_file(database_file: Path) -> Path:
    db = open_database(database_file)
    for numerator, actor in (("40", "alice"), ("45", "bob")):
        record_entries(
            db,
            service="HIGHWAYS",
            period="FY2024-25-Q1",
            changes=[EntryChange(CAT1, {"numerator": numerator, "denominator": "50"})],
            actor=actor,
        )
    submit_return(db, service="HIGHWAYS", period="FY2024-25-Q1", actor="bob")
    reopen_return(db, service="HIGHWAYS", period="FY2024-25-Q1", reason="late data", actor="bob")
    with db.transaction() as session:
        for number in range(FILLER):
            append_event(session, actor="loader", action="test.filler", new=str(number))
    db.dispose()
    return database_file


def open_history(qtbot, path: Path, *, read_only: bool = False) -> MainWindow:
    win = MainWindow(str(path), settings=Settings(), today=date(2024, 8, 10), read_only=read_only)
    qtbot.addWidget(win)
    win.show()
    win.start()
    # the return shows before the database is open (quick read): these need it open
    qtbot.waitUntil(
        lambda: win.database is not None and win.controller.view is not None, timeout=15000
    )
    win.places.setCurrentRow(PLACES.index("History"))
    qtbot.waitUntil(lambda: win.history_page.model.rowCount() > 0, timeout=15000)
    # the page is built on its first visit and fills its filter choices in the background
    qtbot.waitUntil(lambda: win.history_page.indicator.findData(CAT1) >= 0, timeout=15000)
    return win


@pytest.fixture
def window(qtbot, history_file: Path) -> Iterator[MainWindow]:
    win = open_history(qtbot, history_file)
    yield win
    for dialog in ("timeline_dialog",):
        if getattr(win, dialog, None) is not None:
            getattr(win, dialog).close()
    win.close()
    win.dispose()


def test_events_load_a_page_at_a_time_newest_first(qtbot, window) -> None:
    model = window.history_page.model
    assert model.rowCount() == 200
    assert model.entry(0).action == "test.filler" and model.entry(0).new == str(FILLER - 1)
    window.history_page.table.scrollToBottom()
    qtbot.waitUntil(lambda: model.rowCount() == 400, timeout=15000)
    while model.canFetchMore():
        model.fetchMore()
        qtbot.waitUntil(lambda: not model.loading, timeout=15000)
    ids = [model.entry(r).id for r in range(model.rowCount())]
    assert ids == sorted(ids, reverse=True) and len(ids) == len(set(ids))
    assert "All" in window.history_page.count_label.text()


def test_filters_narrow_the_list(qtbot, window) -> None:
    page = window.history_page
    page.actor.setCurrentIndex(page.actor.findData("alice"))
    qtbot.waitUntil(
        lambda: page.model.rowCount() > 0 and page.model.entry(0).actor == "alice", timeout=15000
    )
    qtbot.waitUntil(lambda: page.model.exhausted, timeout=15000)
    actions = {page.model.entry(r).action for r in range(page.model.rowCount())}
    assert actions == {"value.set", "return.create"}
    page.actor.setCurrentIndex(0)
    page.search.setText("late data")
    qtbot.waitUntil(
        lambda: (
            page.model.rowCount() > 0
            and all(page.model.entry(r).reason == "late data" for r in range(page.model.rowCount()))
        ),
        timeout=15000,
    )
    change = page.model.index(0, 7).data()
    assert "45/50 = 90" in change


def test_the_timeline_shows_every_change_of_a_value(qtbot, window) -> None:
    page = window.history_page
    page.indicator.setCurrentIndex(page.indicator.findData(CAT1))
    qtbot.waitUntil(lambda: page.model.rowCount() == 3, timeout=15000)
    page.table.setCurrentIndex(page.model.index(0, 0))
    assert page.timeline_button.isEnabled()
    page.timeline_button.click()
    qtbot.waitUntil(lambda: getattr(window, "timeline_dialog", None) is not None, timeout=15000)
    table = window.timeline_dialog.table.model()
    rows = [
        [table.index(r, c).data() for c in range(table.columnCount())]
        for r in range(table.rowCount())
    ]
    assert [(r[1], r[3], r[4], r[5]) for r in rows] == [
        ("alice", "1", "(none)", "40/50 = 80"),
        ("bob", "1", "40/50 = 80", "45/50 = 90"),
        ("bob", "2", "(none)", "45/50 = 90"),
    ]
    assert rows[2][6] == "late data" and rows[2][8] == "v1"


def test_verify_says_plainly_whether_the_history_is_intact(qtbot, window, history_file) -> None:
    page = window.history_page
    page.verify_button.click()
    qtbot.waitUntil(lambda: "Verified" in page.verdict.text(), timeout=20000)
    assert "✓" in page.verdict.text()
    window.controller.wait_for_saves()
    with sqlite3.connect(history_file) as raw:
        raw.execute("DROP TRIGGER audit_events_no_update")
        raw.execute("UPDATE audit_events SET actor = 'mallory' WHERE actor = 'alice'")
    page.verify_button.click()
    qtbot.waitUntil(lambda: "NOT verified" in page.verdict.text(), timeout=20000)
    assert "altered after it was recorded" in page.verdict.text()


def test_read_only_mode_shows_everything_and_changes_nothing(qtbot, history_file) -> None:
    win = open_history(qtbot, history_file, read_only=True)
    assert "(read-only)" in win.status_db.text()
    win.places.setCurrentRow(0)
    assert win.return_page.model.read_only
    assert not win.return_page.submit_button.isEnabled()
    assert not win.return_page.reopen_button.isEnabled()
    assert not win.controller.request_edit({CAT1: {"numerator": "1"}}, "edit")
    win.close()
    win.dispose()


def test_history_model_passes_qt_checks(qtmodeltester, window) -> None:
    qtmodeltester.check(window.history_page.model)
    qtmodeltester.check(HistoryModel())
    assert window.history_page.model.index(0, 0).data(Qt.ItemDataRole.AccessibleTextRole)


def test_back_up_and_restore_from_the_file_menu(
    qtbot, window, history_file, monkeypatch, shown_dialogs
) -> None:
    from skp_desktop.services.backups import list_backups
    from skp_desktop.ui.dialogs import dialogs

    def daily() -> list:
        return [b for b in list_backups(str(history_file)) if b.label == "daily"]

    # opening the database makes the day's backup, in the background
    qtbot.waitUntil(lambda: len(daily()) == 1, timeout=15000)
    window.backup_now()
    qtbot.waitUntil(lambda: "Backed up to" in window.status_state.text(), timeout=15000)
    manual = next(b for b in list_backups(str(history_file)) if b.label == "manual")
    window.places.setCurrentRow(0)
    page = window.return_page
    page.period_picker.setCurrentIndex(page.period_picker.findData("FY2024-25-Q1"))
    page.service_picker.setCurrentIndex(page.service_picker.findData("HIGHWAYS"))
    record = window.controller
    qtbot.waitUntil(
        lambda: record.view is not None and record.view.service.code == "HIGHWAYS", timeout=15000
    )
    assert record.request_edit({CAT1: {"numerator": "49"}}, "edit")
    qtbot.waitUntil(lambda: not record.busy, timeout=15000)
    monkeypatch.setattr(dialogs, "open_file", lambda *_a: manual.path)
    monkeypatch.setattr(dialogs, "confirm", lambda *_a: True)
    window.restore_backup()
    qtbot.waitUntil(lambda: bool(shown_dialogs), timeout=20000)
    kind, text = shown_dialogs[0]
    assert kind == "information" and "Restored the backup" in text, shown_dialogs
    assert "kept as" in text  # the database as it was can itself be restored
    qtbot.waitUntil(lambda: window.database is not None and not record.busy, timeout=20000)
    db = open_database(history_file)
    from skp_desktop.services.returns import get_return

    assert get_return(db, "HIGHWAYS", "FY2024-25-Q1").row(CAT1).numerator == 45
    db.dispose()
