"""The app on a full disk and on a read-only one: a dialog that says what to do, nothing lost.

The disk is real: a small tmpfs mounted for the test, filled up or remounted read-only
(skipped, saying why, where it cannot be mounted; tests/unit/test_full_database.py gives SQLite
the same "disk is full" error anywhere).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit
from small_disk import SmallDisk, Unavailable, small_disk

from skp_desktop.services.backups import list_backups
from skp_desktop.services.database import open_database
from skp_desktop.services.dto import ReturnView
from skp_desktop.services.entries import EntryChange
from skp_desktop.services.returns import get_return, record_entries
from skp_desktop.ui.dialogs import dialogs
from skp_desktop.ui.instance_lock import claim_database
from skp_desktop.ui.main_window import MainWindow
from skp_desktop.ui.return_grid import COLUMN_BY_TITLE
from skp_desktop.ui.settings import Settings

pytestmark = pytest.mark.gui

TODAY = date(2024, 8, 10)  # the 2024/25 Q1 return is due
PERIOD, CODE = "FY2024-25-Q1", "SAFER-P4-S4"
NOTE = "Counted again after the depot's figures came in late. " * 80


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[SmallDisk]:
    try:
        with small_disk(tmp_path / "disk", "3m") as mounted:
            yield mounted
    except Unavailable as exc:
        pytest.skip(f"no small disk to fill or make read-only here: {exc}")


@pytest.fixture
def on_disk(disk: SmallDisk, template_database: Path) -> Path:
    """A database on the small disk, with 45 of 50 entered for Streets."""
    path = disk.path / "skp.sqlite3"
    shutil.copyfile(template_database, path)
    db = open_database(path)
    try:
        record_entries(
            db,
            service="STREETS",
            period=PERIOD,
            changes=[EntryChange(CODE, {"numerator": "45", "denominator": "50"})],
            actor="tester",
        )
    finally:
        db.dispose()
    return path


def stored(path: Path) -> ReturnView:
    db = open_database(path)
    try:
        return get_return(db, "STREETS", PERIOD)
    finally:
        db.dispose()


@pytest.fixture
def open_window(qtbot) -> Iterator[object]:
    windows: list[MainWindow] = []

    def opening(path: Path) -> MainWindow:
        settings = Settings()
        settings.last_service = "STREETS"
        win = MainWindow(str(path), settings=settings, today=TODAY)
        qtbot.addWidget(win)
        win.show()
        qtbot.waitExposed(win)
        win.start()
        qtbot.waitUntil(lambda: win.controller.view is not None, timeout=15000)
        settle(qtbot, win)
        windows.append(win)
        return win

    yield opening
    for win in windows:
        win.close()
        win.dispose()


def settle(qtbot, win: MainWindow) -> None:
    qtbot.waitUntil(lambda: not win.controller.busy and not win._worker.busy, timeout=15000)


def type_into(qtbot, win: MainWindow, column: str, text: str) -> None:
    page = win.return_page
    page.go_to(CODE, COLUMN_BY_TITLE[column])
    qtbot.keyClick(page.grid, Qt.Key.Key_F2)
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit)
    editor.setText(text)  # as if pasted into the cell's editor
    qtbot.keyClick(editor, Qt.Key.Key_Return)


def errors(shown: list[tuple[str, str]]) -> list[str]:
    return [text for kind, text in shown if kind == "error"]


def test_a_save_on_a_full_disk_says_free_space_and_keeps_what_was_saved(
    qtbot, open_window, on_disk: Path, disk: SmallDisk, shown_dialogs
) -> None:
    win = open_window(on_disk)
    disk.fill(leave=0)
    type_into(qtbot, win, "Commentary", NOTE)
    qtbot.waitUntil(lambda: bool(errors(shown_dialogs)), timeout=15000)
    settle(qtbot, win)
    (message,) = errors(shown_dialogs)
    assert "is full" in message and "Free some space" in message
    assert "nothing was saved" in message
    row = stored(on_disk).row(CODE)
    assert (row.numerator, row.commentary) == (Decimal(45), None)  # what was saved is there
    line = win.return_page.model.row_of(CODE)
    shown = win.return_page.model.index(line, COLUMN_BY_TITLE["Commentary"]).data()
    assert not shown  # the grid shows what is saved, not the text that could not be

    disk.free()  # space freed: the same edit now goes in
    type_into(qtbot, win, "Commentary", NOTE)
    settle(qtbot, win)
    assert stored(on_disk).row(CODE).commentary == NOTE.strip()


def test_back_up_now_on_a_full_disk_says_so_and_leaves_no_partial_backup(
    qtbot, open_window, on_disk: Path, disk: SmallDisk, shown_dialogs
) -> None:
    win = open_window(on_disk)
    made = list_backups(str(on_disk))
    assert [b.label for b in made] == ["daily"]
    disk.fill(leave=0)
    win.backup_now()
    qtbot.waitUntil(lambda: bool(errors(shown_dialogs)), timeout=15000)
    (message,) = errors(shown_dialogs)
    assert "is full" in message and "no room for a backup" in message
    assert "Free some space" in message
    assert sorted(p.name for p in (disk.path / "backups").iterdir()) == [
        Path(b.path).name for b in made
    ]


def test_the_app_opens_when_the_days_backup_does_not_fit(
    qtbot, open_window, on_disk: Path, disk: SmallDisk, shown_dialogs
) -> None:
    disk.fill(leave=96 * 1024)  # room to open the database, not to copy it
    win = open_window(on_disk)
    assert win.return_page.isEnabled() and win.controller.editable
    # the day's backup is made once the return is open, and says when it cannot be
    qtbot.waitUntil(lambda: bool(errors(shown_dialogs)), timeout=15000)
    (message,) = errors(shown_dialogs)
    assert "Today's backup of the database could not be made" in message
    assert "is full" in message
    assert not (disk.path / "backups").exists() or not any((disk.path / "backups").iterdir())


def test_a_database_on_a_read_only_disk_opens_read_only_and_says_why(
    qtbot, open_window, on_disk: Path, disk: SmallDisk, shown_dialogs, monkeypatch
) -> None:
    disk.read_only()
    asked: list[str] = []
    monkeypatch.setattr(dialogs, "confirm", lambda _p, _t, text: asked.append(text) or False)
    claim = claim_database(str(on_disk), read_only=False)
    assert claim.run and claim.lock is None
    assert not asked, "a read-only folder is not another copy of the app"

    before = sorted(p.name for p in disk.path.iterdir())
    win = open_window(on_disk)
    informed = [text for kind, text in shown_dialogs if kind == "information"]
    assert len(informed) == 1 and "open read-only because" in informed[0]
    assert str(disk.path) in informed[0] and "copy the database" in informed[0]
    assert not errors(shown_dialogs)
    assert "(read-only)" in win.status_db.text()
    assert win.read_only_action.isChecked()
    assert not win.controller.editable
    row = win.controller.view.row(CODE)
    assert (row.numerator, row.denominator) == (Decimal(45), Decimal(50))
    assert sorted(p.name for p in disk.path.iterdir()) == before
