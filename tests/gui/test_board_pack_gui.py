"""The Dashboard's Board pack button: asks where to save, then writes the PDF in the background."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from skp_desktop.services.database import open_database
from skp_desktop.services.entries import EntryChange
from skp_desktop.services.returns import record_entries
from skp_desktop.ui.dialogs import dialogs
from skp_desktop.ui.main_window import MainWindow
from skp_desktop.ui.settings import Settings

pytestmark = pytest.mark.gui

PDF_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


@pytest.fixture
def window(qtbot, database_file: Path) -> Iterator[MainWindow]:
    db = open_database(database_file)
    for period, numerator in (("FY2024-25-Q1", "45"), ("FY2024-25-Q2", "48")):
        change = EntryChange("SAFER-P4-S1", {"numerator": numerator, "denominator": "50"})
        record_entries(db, service="HIGHWAYS", period=period, changes=[change], actor="tester")
    db.dispose()
    settings = Settings()
    settings.last_service = "HIGHWAYS"
    settings.last_period = "FY2024-25-Q2"
    win = MainWindow(str(database_file), settings=settings, today=date(2024, 11, 1))
    qtbot.addWidget(win)
    win.resize(1366, 740)
    win.show()
    win.start()
    # the return shows before the database is open (quick read): these need it open
    qtbot.waitUntil(
        lambda: win.database is not None and win.controller.view is not None, timeout=15000
    )
    yield win
    win.close()
    win.dispose()


def test_the_board_pack_button_writes_the_pdf(
    qtbot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[tuple[str, str]] = []

    def save_file(_parent, title: str, suggested: str, _filters: str) -> str:
        asked.append((title, suggested))
        return str(tmp_path / "board")  # no extension typed: ".pdf" is added

    monkeypatch.setattr(dialogs, "save_file", save_file)
    window.places.setCurrentRow(1)
    page = window.dashboard_page
    page.scope_picker.setCurrentIndex(page.scope_picker.findData("service:HIGHWAYS"))
    qtbot.mouseClick(page.board_pack_button, Qt.MouseButton.LeftButton)
    assert asked == [
        ("Board pack for 2024/25 Q2 (Jul–Sep 2024)", "SKP-board-pack-FY2024-25-Q2-HIGHWAYS.pdf")
    ]
    assert not page.board_pack_button.isEnabled()  # once at a time, while it is being made
    out = tmp_path / "board.pdf"
    qtbot.waitUntil(page.board_pack_button.isEnabled, timeout=60000)
    assert window.status_state.text() == f"Board pack saved to {out} (4 pages)."
    data = out.read_bytes()
    assert data.startswith(b"%PDF")
    assert len(PDF_PAGE.findall(data)) == 1 + 1 + 2  # cover, dashboard, Highways' two


def test_the_board_pack_says_which_return_it_left_out_and_why(
    qtbot, database_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from skp_desktop.services.returns import submit_return
    from skp_desktop.services.review import accept_return

    db = open_database(database_file)
    change = EntryChange("SAFER-P4-S1", {"numerator": "45", "denominator": "50"})
    record_entries(db, service="HIGHWAYS", period="FY2024-25-Q2", changes=[change], actor="t")
    submit_return(db, service="HIGHWAYS", period="FY2024-25-Q2", actor="t")
    accept_return(db, service="HIGHWAYS", period="FY2024-25-Q2", actor="coordinator")
    db.dispose()
    with sqlite3.connect(database_file) as raw:  # someone edits the file behind the app's back
        raw.execute("UPDATE \"values\" SET numerator = '50' WHERE numerator = '45'")
    settings = Settings()
    settings.last_service, settings.last_period = "HIGHWAYS", "FY2024-25-Q2"
    win = MainWindow(str(database_file), settings=settings, today=date(2024, 11, 1))
    qtbot.addWidget(win)
    win.show()
    win.start()
    try:
        qtbot.waitUntil(lambda: win.database is not None, timeout=15000)
        monkeypatch.setattr(dialogs, "save_file", lambda *_a: str(tmp_path / "board.pdf"))
        win.places.setCurrentRow(1)
        page = win.dashboard_page
        page.scope_picker.setCurrentIndex(page.scope_picker.findData("service:HIGHWAYS"))
        qtbot.mouseClick(page.board_pack_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(page.board_pack_button.isEnabled, timeout=60000)
        said = win.status_state.text()
        assert said.startswith(f"Board pack saved to {tmp_path / 'board.pdf'} (")
        assert (
            "Not published, its history does not back it: HIGHWAYS FY2024-25-Q2 revision 1 "
            "(accepted) left out: value of SAFER-P4-S1" in said
        )
    finally:
        win.close()
        win.dispose()
