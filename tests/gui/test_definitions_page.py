"""The Definitions place, driven as a coordinator would: edit, check as you type, publish, packs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit
from window_idle import close_window

from skp_desktop.services.database import open_database
from skp_desktop.services.definitions import (
    Publication,
    definitions_in_force,
    export_definitions_pack,
    publish_definitions,
)
from skp_desktop.ui.definitions_models import (
    IndicatorListModel,
    IndicatorRow,
    TargetRow,
    TargetsModel,
)
from skp_desktop.ui.dialogs import dialogs
from skp_desktop.ui.main_window import PLACES, MainWindow
from skp_desktop.ui.pages.definitions_page import DefinitionsPage
from skp_desktop.ui.settings import Settings

pytestmark = pytest.mark.gui

TODAY = date(2025, 5, 20)  # 2025/26 Q1 is the current quarter
REPAIRS = "SAFER-P4-S1"
OLD_TITLE = "% of Category 1 defects repaired on time"
NEW_TITLE = "% of Category 1 defects made safe within 24 hours"
FROM = "FY2025-26-Q1"


def open_window(qtbot, path: Path, *, read_only: bool = False) -> MainWindow:  # type: ignore[no-untyped-def]
    # Not qtbot.addWidget: pytest-qt would delete the window before close_window could wait
    # for its background work (tests/gui/window_idle.py).
    win = MainWindow(str(path), settings=Settings(), today=TODAY, read_only=read_only)
    win.show()
    win.activateWindow()
    win.start()
    # the return shows before the database is open (quick read): these need it open
    qtbot.waitUntil(
        lambda: win.database is not None and win.controller.view is not None, timeout=15000
    )
    win.places.setCurrentRow(PLACES.index("Definitions"))
    page = win.definitions_page
    qtbot.waitUntil(lambda: page.state is not None, timeout=15000)
    return win


@pytest.fixture
def window(qtbot, database_file: Path) -> Iterator[MainWindow]:
    win = open_window(qtbot, database_file)
    yield win
    close_window(qtbot, win)


def choose(page: DefinitionsPage, code: str) -> None:
    """Select an indicator in the list, as a click would."""
    row = page.list_model.row_of(code)
    page.indicator_list.setCurrentIndex(page.proxy.mapFromSource(page.list_model.index(row, 0)))
    assert page.form_title.text().startswith(f"{code}:")


def retype(qtbot, edit: QLineEdit, text: str) -> None:  # type: ignore[no-untyped-def]
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key.Key_Backspace)
    qtbot.keyClicks(edit, text)


def type_target(qtbot, page: DefinitionsPage, year: str, text: str) -> None:  # type: ignore[no-untyped-def]
    """Select the year's target cell, press F2, type, press Enter."""
    view = page.targets_view
    view.setFocus()
    view.setCurrentIndex(page.targets_model.index(page.targets_model.row_of(year), 1))
    qtbot.keyClick(view, Qt.Key.Key_F2)
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit), editor
    editor.selectAll()
    qtbot.keyClicks(editor, text)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    row = page.targets_model.row_of(year)
    # The delegate commits on the next turn of the event loop, as it does for people.
    qtbot.waitUntil(lambda: page.targets_model.rows()[row].text == text, timeout=5000)


def test_edit_a_title_and_a_target_and_publish_from_a_chosen_period(
    qtbot, window: MainWindow, database_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = window.definitions_page
    asked: list[str] = []
    monkeypatch.setattr(dialogs, "confirm", lambda _p, _t, text: asked.append(text) or True)
    assert "Definitions version 1" in page.version_label.text()
    assert not page.publish_button.isEnabled()  # nothing to publish yet

    choose(page, REPAIRS)
    retype(qtbot, page.editor("title"), NEW_TITLE)
    qtbot.mouseClick(page.add_year_button, Qt.MouseButton.LeftButton)
    assert page.targets_model.row_of("FY2025-26") >= 0  # the year the new version starts
    type_target(qtbot, page, "FY2025-26", "95")
    page.applies_from.setCurrentIndex(page.applies_from.findData(FROM))
    assert not page.publish_button.isEnabled()  # a note is still needed
    qtbot.keyClicks(page.note, "made safe within 24 hours from 2025/26")
    assert page.publish_button.isEnabled()
    assert page.list_model.index(page.list_model.row_of(REPAIRS), 0).data() == f"● {REPAIRS}"
    assert "Ready to publish version 2 from 2025/26 Q1 (Apr–Jun 2025)" in page.summary.text()

    qtbot.mouseClick(page.publish_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Published definitions version 2" in page.message.text(), timeout=15000)
    qtbot.waitUntil(lambda: "Definitions version 2" in page.version_label.text(), timeout=15000)

    [question] = asked
    assert f"SAFER-P4-S1 title: '{OLD_TITLE}' → '{NEW_TITLE}'" in question
    assert "SAFER-P4-S1 FY2025-26 target: blank → 95" in question
    assert "in force from 2025/26 Q1 (Apr–Jun 2025)" in page.version_label.text()
    assert page.list_model.index(page.list_model.row_of(REPAIRS), 1).data() == NEW_TITLE
    assert not page.publish_button.isEnabled() and page.note.text() == ""
    db = open_database(database_file)
    try:
        assert definitions_in_force(db, FROM).indicator(REPAIRS).title == NEW_TITLE
        assert definitions_in_force(db, FROM).indicator(REPAIRS).target == 95
        assert definitions_in_force(db, "FY2024-25-Q4").indicator(REPAIRS).title == OLD_TITLE
        assert definitions_in_force(db, "FY2024-25-Q4").indicator(REPAIRS).target == 100
    finally:
        db.dispose()

    # The Highways return for 2025/26 Q1 now asks with the new wording; 2024/25 Q3 does not.
    window.show_return_at("HIGHWAYS", FROM)
    qtbot.waitUntil(lambda: window.controller.view.period == FROM, timeout=15000)
    assert window.controller.view.rows[0].indicator.title == NEW_TITLE
    window.show_return_at("HIGHWAYS", "FY2024-25-Q3")
    qtbot.waitUntil(lambda: window.controller.view.period == "FY2024-25-Q3", timeout=15000)
    assert window.controller.view.rows[0].indicator.title == OLD_TITLE


def test_a_bad_value_is_shown_as_typed_and_publish_stays_disabled(
    qtbot, window: MainWindow
) -> None:
    page = window.definitions_page
    choose(page, REPAIRS)
    qtbot.keyClicks(page.note, "tolerance")
    retype(qtbot, page.editor("amber_tolerance"), "-2")

    assert page.error_text("amber_tolerance").startswith("✗ -2 is negative: the amber tolerance")
    assert "Problem: -2 is negative" in page.editor("amber_tolerance").accessibleDescription()
    assert not page.publish_button.isEnabled()
    assert page.list_model.index(page.list_model.row_of(REPAIRS), 0).data() == f"✗ {REPAIRS}"
    assert page.summary.text().startswith("✗ 1 problem to put right before publishing")

    retype(qtbot, page.editor("amber_tolerance"), "3")
    assert page.error_text("amber_tolerance") == ""
    assert page.publish_button.isEnabled()

    # A target for a year that started before the new version would rewrite past RAG.
    type_target(qtbot, page, "FY2024-25", "90")
    assert "2024/25 starts before 2025/26 Q1" in page.targets_error.text()
    row = page.targets_model.index(page.targets_model.row_of("FY2024-25"), 1)
    assert row.data() == "✗ 90"
    assert not page.publish_button.isEnabled()

    # A new indicator with a badly formed code says so under the code.
    qtbot.mouseClick(page.new_button, Qt.MouseButton.LeftButton)
    assert page.editor("code").isEnabled() and page.form_title.text().startswith("New:")
    qtbot.keyClicks(page.editor("code"), "potholes filled")
    assert page.error_text("code").startswith("✗ 'potholes filled' is not an indicator code")
    assert page.error_text("title").endswith("a new indicator needs a title")


def test_importing_an_older_pack_shows_the_refusal(
    qtbot, database_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = open_database(database_file)
    old = export_definitions_pack(db, tmp_path / "v1.xlsx", actor="coordinator").path
    publish_definitions(
        db,
        Publication(applies_from=FROM, note="2025/26", targets={REPAIRS: {"FY2025-26": "95"}}),
        actor="coordinator",
    )
    db.dispose()
    asked: list[str] = []
    monkeypatch.setattr(dialogs, "open_file", lambda *_a: str(old))
    monkeypatch.setattr(dialogs, "confirm", lambda _p, _t, text: asked.append(text) or True)
    win = open_window(qtbot, database_file)
    page = win.definitions_page
    try:
        qtbot.mouseClick(page.import_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "was not imported" in page.message.text(), timeout=15000)
        assert page.message.text() == (
            "✗ v1.xlsx was not imported: the pack is definitions version 1, older than version "
            "2 which this database already holds: an older pack never replaces newer "
            "definitions (ask the coordinator for the current pack)"
        )
        assert asked == []  # refused on checking: nothing to confirm
        assert "Definitions version 2" in page.version_label.text()
    finally:
        close_window(qtbot, win)


def test_importing_a_newer_pack_asks_then_imports(
    qtbot,
    window: MainWindow,
    template_database: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    other = tmp_path / "coordinator.sqlite3"
    other.write_bytes(template_database.read_bytes())
    db = open_database(other)
    publish_definitions(
        db,
        Publication(
            applies_from=FROM, note="2025/26 wording", changes={REPAIRS: {"title": NEW_TITLE}}
        ),
        actor="coordinator",
    )
    pack = export_definitions_pack(db, tmp_path / "v2.xlsx", actor="coordinator").path
    db.dispose()
    asked: list[str] = []
    monkeypatch.setattr(dialogs, "open_file", lambda *_a: str(pack))
    monkeypatch.setattr(dialogs, "confirm", lambda _p, _t, text: asked.append(text) or True)
    page = window.definitions_page

    qtbot.mouseClick(page.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.message.text().startswith("✓ Imported v2.xlsx"), timeout=15000)

    assert asked[0].startswith("Would publish definitions version 2, in force from 2025/26 Q1")
    qtbot.waitUntil(lambda: "Definitions version 2" in page.version_label.text(), timeout=15000)
    choose(page, REPAIRS)
    assert page.editor("title").text() == NEW_TITLE  # type: ignore[attr-defined]


def test_read_only_mode_shows_the_definitions_and_changes_nothing(
    qtbot, database_file: Path
) -> None:
    win = open_window(qtbot, database_file, read_only=True)
    page = win.definitions_page
    try:
        choose(page, REPAIRS)
        assert page.editor("title").text() == OLD_TITLE  # type: ignore[attr-defined]
        assert not page.editor("title").isEnabled()
        assert not page.new_button.isEnabled()
        assert not page.publish_button.isEnabled()
        assert not page.import_button.isEnabled()
        assert page.export_button.isEnabled()
        assert "open read-only" in page.message.text()
    finally:
        close_window(qtbot, win)


def test_the_form_can_be_used_with_the_keyboard_alone(window: MainWindow) -> None:
    page = window.definitions_page
    for name, label in page._labels.items():
        assert label.buddy() is page.editor(name), name
        assert page.editor(name).accessibleName(), name
    for name in ("title", "unit", "polarity", "decimals", "amber_tolerance"):
        assert "&" in page._labels[name].text(), name
    texts = [label.text() for label in page._labels.values()]
    texts += [page.publish_button.text(), page.import_button.text(), page.export_button.text()]
    texts += [page.new_button.text(), page.add_year_button.text()]
    keys = [t[t.index("&") + 1].lower() for t in texts if "&" in t]
    menus = [a.text()[a.text().index("&") + 1].lower() for a in window.menuBar().actions()]
    assert len(keys) == len(set(keys)) and not set(keys) & set(menus), sorted(keys)
    assert page.applies_from.accessibleName() == "Applies from"


def test_the_models_pass_qt_checks(qtmodeltester) -> None:
    names = IndicatorListModel()
    qtmodeltester.check(names)
    names.set_rows(
        [
            IndicatorRow(REPAIRS, REPAIRS, OLD_TITLE, "changed"),
            IndicatorRow("new:1", "SAFER-P4-S7", "Potholes", "new", problems=2),
        ]
    )
    qtmodeltester.check(names)
    targets = TargetsModel()
    qtmodeltester.check(targets)
    targets.set_rows(
        [TargetRow("FY2025-26", "", "95"), TargetRow("FY2024-25", "100", "100")], editable=True
    )
    qtmodeltester.check(targets)
    assert targets.index(0, 0).data() == "2024/25"  # sorted by year
