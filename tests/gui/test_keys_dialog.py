"""File ▸ Keys…: this computer's fingerprint, the keys trusted, enrolling and revoking one;
and the Import page saying who signed each file (issue 16)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from skp_desktop.services import trust
from skp_desktop.services.database import Database
from skp_desktop.ui.dialogs import dialogs
from skp_desktop.ui.keys_dialog import KeysDialog
from skp_desktop.ui.operations import Change, Changed, Desk

pytestmark = pytest.mark.gui


@pytest.fixture
def desk(db: Database) -> Desk:
    """The window's desk, on `db`, acting as the coordinator; failures fail the test."""

    def unexpected(exc: Exception) -> None:
        raise AssertionError(f"the dialog left this failure to the window: {exc!r}")

    return Desk(
        database=lambda: db,
        actor=lambda: "Cora Ordinator",
        show_error=unexpected,
        chart_theme=lambda: "light",
    )


@pytest.fixture
def keys_dialog(qtbot, desk: Desk) -> Iterator[KeysDialog]:
    made = KeysDialog(desk)
    qtbot.addWidget(made)
    made.show()
    qtbot.waitUntil(lambda: made.own is not None, timeout=10000)
    yield made
    made.close()


def test_it_shows_this_computers_fingerprint_and_the_trusted_keys(
    keys_dialog: KeysDialog, qtmodeltester
) -> None:
    own = trust.installation_key().key.fingerprint
    # groups of five digits, spaced to be read out over the phone
    assert keys_dialog.fingerprint.text() == own.replace("-", "  ")
    assert "trusts it for every service" in keys_dialog.key_details.text()
    qtmodeltester.check(keys_dialog.model)
    model = keys_dialog.model
    assert model.rowCount() == 1
    assert model.index(0, 0).data() == own
    assert "every service" in model.index(0, 2).data()


def test_a_key_is_enrolled_and_revoked_through_the_dialog(
    keys_dialog: KeysDialog, desk: Desk, qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    heard: list[Changed] = []
    desk.changed.connect(heard.append)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SKP_KEY_DIR", str(tmp_path / "laptop"))
        file, info = trust.export_enrolment(tmp_path / "hana.skpkey", name="Hana")
    answers = iter([info.fingerprint, "HIGHWAYS, PARKS"])
    monkeypatch.setattr(dialogs, "open_file", lambda *_args: str(file))
    monkeypatch.setattr(dialogs, "ask_text", lambda *_args: next(answers))
    keys_dialog.trust_button.click()
    qtbot.waitUntil(lambda: keys_dialog.model.rowCount() == 2, timeout=10000)
    assert "enrolled for HIGHWAYS, PARKS" in keys_dialog.message.text()
    row = next(r for r in range(2) if keys_dialog.model.index(r, 1).data() == "Hana")
    assert keys_dialog.model.index(row, 2).data() == "HIGHWAYS, PARKS"
    # an open History page is told: the enrolment is an audit event
    assert [c.touches(Change.KEYS | Change.HISTORY) for c in heard] == [True]

    keys_dialog.table.selectRow(row)
    monkeypatch.setattr(dialogs, "ask_text", lambda *_args: "laptop lost")
    keys_dialog.revoke_button.click()
    qtbot.waitUntil(lambda: "Revoked" in keys_dialog.message.text(), timeout=10000)
    qtbot.waitUntil(
        lambda: "laptop lost" in (keys_dialog.model.index(row, 4).data() or ""), timeout=10000
    )
    assert len(heard) == 2 and heard[1].touches(Change.HISTORY)


def test_a_wrong_fingerprint_is_said_and_nothing_enrolled(
    keys_dialog: KeysDialog, qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SKP_KEY_DIR", str(tmp_path / "laptop"))
        file, _info = trust.export_enrolment(tmp_path / "hana.skpkey", name="Hana")
    answers = iter(["12345 67890 12345 67890 12345 67890", "HIGHWAYS"])
    monkeypatch.setattr(dialogs, "open_file", lambda *_args: str(file))
    monkeypatch.setattr(dialogs, "ask_text", lambda *_args: next(answers))
    keys_dialog.trust_button.click()
    qtbot.waitUntil(lambda: "✗" in keys_dialog.message.text(), timeout=10000)
    assert "is not the fingerprint of the key" in keys_dialog.message.text()
    assert keys_dialog.model.rowCount() == 1


def test_the_import_page_says_who_signed_each_file(qtbot, db: Database, tmp_path: Path) -> None:
    from skp_desktop.services import exchange
    from skp_desktop.ui.pages.import_page import OutcomeModel

    outcome = exchange.ImportOutcome(
        status="ACCEPTED",
        file=str(tmp_path / "q1.xlsx"),
        service="HIGHWAYS",
        period="FY2026-27-Q1",
        revision=1,
        signature="signed",
        signed_by="12345-67890-12345-67890-12345-67890",
        signer="Hana",
    )
    unsigned = exchange.ImportOutcome(
        status="ACCEPTED", file="q2.xlsx", signature="unsigned", signer="posted on paper"
    )
    model = OutcomeModel()
    model.set_outcomes([outcome, unsigned], committed=False)
    column = OutcomeModel.HEADERS.index("Signed by")
    assert model.index(0, column).data() == "✓ Hana (12345…)"
    tip = model.index(0, column).data(Qt.ItemDataRole.ToolTipRole)
    assert "12345-67890-12345-67890-12345-67890" in tip
    assert model.index(1, column).data() == "⚠ UNSIGNED"
    assert "posted on paper" in model.index(1, column).data(Qt.ItemDataRole.ToolTipRole)


def test_an_unsigned_file_is_taken_on_the_import_page_only_with_a_reason(
    qtbot, database_file: Path, template_database: Path, tmp_path: Path, monkeypatch
) -> None:
    import shutil
    from datetime import date

    import openpyxl

    from skp_desktop.services import exchange
    from skp_desktop.services.database import open_database
    from skp_desktop.services.entries import EntryChange
    from skp_desktop.services.returns import get_return, record_entries, submit_return
    from skp_desktop.ui.main_window import PLACES, MainWindow
    from skp_desktop.ui.settings import Settings

    laptop = tmp_path / "laptop.sqlite3"
    shutil.copyfile(template_database, laptop)
    db = open_database(laptop)
    change = EntryChange("SAFER-P4-S1", {"numerator": "47", "denominator": "50"})
    record_entries(db, service="HIGHWAYS", period="FY2024-25-Q1", changes=[change], actor="h")
    submit_return(db, service="HIGHWAYS", period="FY2024-25-Q1", actor="h")
    sent = tmp_path / "highways.xlsx"
    exchange.export_return(db, service="HIGHWAYS", period="FY2024-25-Q1", out=sent, actor="h")
    db.dispose()
    book = openpyxl.load_workbook(sent)
    for row in book["_meta"].iter_rows():
        if row[0].value in ("signature", "signed_by", "public_key"):
            row[0].value = row[1].value = None
    book.save(sent)

    win = MainWindow(str(database_file), settings=Settings(), today=date(2024, 8, 10))
    qtbot.addWidget(win)
    win.show()
    win.start()
    qtbot.waitUntil(
        lambda: win.database is not None and win.controller.view is not None, timeout=15000
    )
    win.places.setCurrentRow(PLACES.index("Import"))
    page = win.import_page
    page.add_paths([str(sent)])
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=15000)
    assert page.model.index(0, 0).data() == "✗ REJECTED"
    assert "not signed" in page.model.index(0, 5).data()

    monkeypatch.setattr(dialogs, "ask_text", lambda *_args: "confirmed by phone with Highways")
    page.accept_unsigned.setChecked(True)
    qtbot.waitUntil(lambda: page.model.index(0, 0).data() == "✓ ACCEPTED", timeout=15000)
    signed_by = page.model.index(0, page.model.HEADERS.index("Signed by"))
    assert signed_by.data() == "⚠ UNSIGNED"
    page.commit_button.click()
    qtbot.waitUntil(lambda: page.model.committed, timeout=15000)
    db = open_database(database_file)
    view = get_return(db, "HIGHWAYS", "FY2024-25-Q1")
    db.dispose()
    assert view.signature is not None and view.signature.status == "unsigned"
    assert view.signature.note == "confirmed by phone with Highways"
    win.close()


def test_the_first_pack_asks_before_it_pins_the_coordinators_key(
    qtbot, database_file: Path, template_database: Path, tmp_path: Path, monkeypatch
) -> None:
    from datetime import date

    from shiboken6 import Shiboken

    from skp_desktop.services.database import open_database
    from skp_desktop.services.definitions import (
        Publication,
        export_definitions_pack,
        publish_definitions,
    )
    from skp_desktop.ui.main_window import PLACES, MainWindow
    from skp_desktop.ui.settings import Settings

    other = tmp_path / "coordinator.sqlite3"
    other.write_bytes(template_database.read_bytes())
    db = open_database(other)
    publish_definitions(
        db,
        Publication(
            applies_from="FY2025-26-Q1",
            note="2025/26 wording",
            changes={"SAFER-P4-S1": {"title": "Category 1 defects made safe in 24 hours"}},
        ),
        actor="coordinator",
    )
    with pytest.MonkeyPatch.context() as patch:  # the coordinator's own computer and key
        patch.setenv("SKP_KEY_DIR", str(tmp_path / "coordinator-key"))
        chief = trust.installation_key().key.fingerprint
        pack = export_definitions_pack(db, tmp_path / "v2.xlsx", actor="coordinator").path
    db.dispose()
    asked: list[str] = []
    monkeypatch.setattr(dialogs, "open_file", lambda *_a: str(pack))
    monkeypatch.setattr(dialogs, "confirm", lambda _p, _t, text: asked.append(text) or True)

    win = MainWindow(str(database_file), settings=Settings(), today=date(2026, 7, 1))
    qtbot.addWidget(win)
    win.show()
    win.start()
    qtbot.waitUntil(
        lambda: win.database is not None and win.controller.view is not None, timeout=15000
    )
    win.places.setCurrentRow(PLACES.index("Definitions"))
    page = win.definitions_page
    qtbot.waitUntil(lambda: page.state is not None, timeout=15000)
    try:
        page.import_button.click()
        qtbot.waitUntil(lambda: page.message.text().startswith("✓ Imported"), timeout=15000)
        # first the fingerprint, spaced for the phone; then what the pack would publish
        assert chief.replace("-", "  ") in asked[0] and "Phone the coordinator" in asked[0]
        assert asked[1].startswith("Would publish definitions version 2")
        database = open_database(database_file)
        pinned = [k for k in trust.list_keys(database) if k.role == "coordinator"]
        database.dispose()
        assert [k.fingerprint for k in pinned] == [chief]
    finally:
        if Shiboken.isValid(win):
            qtbot.waitUntil(lambda: not win._worker.busy, timeout=15000)
            assert win._charts.wait(15000)
            win.close()
            win.dispose()


def test_with_no_database_open_it_still_shows_this_computers_key(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed = Desk(
        database=lambda: None,
        actor=lambda: "Cora Ordinator",
        show_error=lambda exc: pytest.fail(repr(exc)),
        chart_theme=lambda: "light",
    )
    made = KeysDialog(closed)
    qtbot.addWidget(made)
    qtbot.waitUntil(lambda: made.own is not None, timeout=10000)
    assert made.fingerprint.text() == trust.installation_key().key.fingerprint.replace("-", "  ")
    assert made.model.rowCount() == 0
    monkeypatch.setattr(dialogs, "open_file", lambda *_args: str(tmp_path / "any.skpkey"))
    monkeypatch.setattr(dialogs, "ask_text", lambda *_args: "12345")
    made.trust_button.click()
    assert "Open a database first" in made.message.text()
