"""The Import place: files checked first (nothing stored), then imported on request."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from skp_desktop.services import exchange
from skp_desktop.services.database import open_database
from skp_desktop.services.entries import EntryChange
from skp_desktop.services.returns import get_return, record_entries, submit_return
from skp_desktop.ui.main_window import PLACES, MainWindow
from skp_desktop.ui.pages.import_page import OutcomeModel
from skp_desktop.ui.settings import Settings

pytestmark = pytest.mark.gui

CAT1 = "SAFER-P4-S1"


@pytest.fixture
def return_file(template_database: Path, tmp_path: Path) -> Path:
    """A return exported from another laptop's database."""
    other = tmp_path / "laptop.sqlite3"
    shutil.copyfile(template_database, other)
    db = open_database(other)
    record_entries(
        db,
        service="HIGHWAYS",
        period="FY2024-25-Q1",
        changes=[EntryChange(CAT1, {"numerator": "47", "denominator": "50"})],
        actor="highways",
    )
    submit_return(db, service="HIGHWAYS", period="FY2024-25-Q1", actor="highways")
    out = tmp_path / "files" / "highways.xlsx"
    out.parent.mkdir()
    exchange.export_return(db, service="HIGHWAYS", period="FY2024-25-Q1", out=out, actor="h")
    db.dispose()
    (out.parent / "notes.xlsx").write_text("<html><body>not a workbook</body></html>")
    return out


def test_check_then_import_a_folder_of_returns(qtbot, database_file, return_file) -> None:
    win = MainWindow(str(database_file), settings=Settings(), today=date(2024, 8, 10))
    qtbot.addWidget(win)
    win.show()
    win.start()
    # the return shows before the database is open (quick read): these need it open
    qtbot.waitUntil(
        lambda: win.database is not None and win.controller.view is not None, timeout=15000
    )
    win.places.setCurrentRow(PLACES.index("Import"))
    page = win.import_page
    assert "drag return files" in page.empty_state.text()

    page.add_paths([str(return_file.parent)])
    qtbot.waitUntil(lambda: page.model.rowCount() == 2, timeout=15000)
    rows = {page.model.index(r, 1).data(): page.model.index(r, 0).data() for r in range(2)}
    assert rows == {"highways.xlsx": "✓ ACCEPTED", "notes.xlsx": "✗ REJECTED"}
    assert "Nothing is stored yet" in page.status.text()
    db = open_database(database_file)
    assert get_return(db, "HIGHWAYS", "FY2024-25-Q1").state == "not started"
    db.dispose()

    assert page.commit_button.isEnabled()
    page.commit_button.click()
    qtbot.waitUntil(lambda: page.model.committed, timeout=15000)
    assert page.status.text().startswith("Imported:")
    db = open_database(database_file)
    view = get_return(db, "HIGHWAYS", "FY2024-25-Q1")
    db.dispose()
    assert (view.state, view.row(CAT1).value) == ("submitted", 94)
    assert not page.commit_button.isEnabled()  # the same files cannot be imported twice
    win.close()
    win.dispose()


def test_the_outcome_model_passes_qt_checks(qtmodeltester) -> None:
    qtmodeltester.check(OutcomeModel())
