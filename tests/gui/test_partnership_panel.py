"""Services and context measures, from the Definitions place, as a coordinator would (issue 18)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QLabel, QLineEdit, QPushButton, QWidget
from sqlalchemy import select
from test_definitions_page import open_window
from window_idle import close_window

from skp_desktop.domain.errors import ValidationError
from skp_desktop.services import audit, partnership
from skp_desktop.services.partnership import context_figures, list_organisations
from skp_desktop.store.models import AuditEvent
from skp_desktop.ui.dialogs import dialogs
from skp_desktop.ui.form_editor import FormEditor
from skp_desktop.ui.history_model import COLUMNS
from skp_desktop.ui.main_window import PLACES, MainWindow
from skp_desktop.ui.partnership_panel import PartnershipPanel, ServicesModel
from skp_desktop.ui.return_grid import SectionRow

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, database_file: Path) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    win = open_window(qtbot, database_file)
    yield win
    close_window(qtbot, win)


def _panel(qtbot, win: MainWindow) -> PartnershipPanel:  # type: ignore[no-untyped-def]
    page = win.definitions_page
    qtbot.mouseClick(page.partnership_button, Qt.MouseButton.LeftButton)
    panel = page.partnership
    assert panel is not None and panel.isVisible()
    qtbot.waitUntil(lambda: panel.model.rowCount() > 0 and panel.organisation.count() == 5)
    return panel


def _sources(db, action: str) -> list[str | None]:  # type: ignore[no-untyped-def]
    """Where each audit event of an action says the change came from."""
    with db.reading() as session:
        return list(
            session.scalars(
                select(AuditEvent.source).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        )


def _settle(qtbot, panel: PartnershipPanel, words: str) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: words in panel.message.text() and not panel.busy, timeout=15000)
    qtbot.waitUntil(lambda: not panel.desk.worker.busy, timeout=15000)


def test_the_coordinator_adds_renames_and_retires_a_service(
    qtbot, window: MainWindow, qtmodeltester, monkeypatch: pytest.MonkeyPatch
) -> None:
    panel = _panel(qtbot, window)
    qtmodeltester.check(panel.model)
    organisations = [panel.model.rows[r][0] for r in range(panel.model.rowCount())]
    assert "London Fire Brigade" in organisations  # listed with no service yet
    panel.organisation.setCurrentIndex(panel.organisation.findData("LFB"))
    qtbot.keyClicks(panel.code, "lfb-kingston")
    qtbot.keyClicks(panel.name, "Kingston fire station")
    qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    _settle(qtbot, panel, "Added LFB-KINGSTON")
    qtbot.waitUntil(
        lambda: panel.selected() is not None and panel.selected().code == "LFB-KINGSTON"
    )
    monkeypatch.setattr(dialogs, "ask_text", lambda *_a: "LFB Kingston")
    qtbot.mouseClick(panel.rename_button, Qt.MouseButton.LeftButton)
    _settle(qtbot, panel, "Renamed LFB-KINGSTON")
    monkeypatch.setattr(dialogs, "ask_text", lambda *_a: "FY2026-27-Q1")
    qtbot.mouseClick(panel.retire_button, Qt.MouseButton.LeftButton)
    _settle(qtbot, panel, "retired from FY2026-27-Q1")
    db = window.database
    lfb = next(o for o in list_organisations(db) if o.code == "LFB")
    assert [(s.code, s.name, s.retired_from) for s in lfb.services] == [
        ("LFB-KINGSTON", "LFB Kingston", "FY2026-27-Q1")
    ]
    row = panel.model.row_of("LFB-KINGSTON")
    assert row is not None and panel.model.index(row, 3).data() == "FY2026-27-Q1"
    # a refusal is said on the panel, and nothing is written
    qtbot.keyClicks(panel.code, "HIGHWAYS")
    qtbot.keyClicks(panel.name, "Roads")
    qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    _settle(qtbot, panel, "already a service HIGHWAYS")
    # the history says these were done in the app, not on the command line
    for action in ("service.add", "service.rename", "service.retire"):
        assert _sources(db, action) == ["typed in the app"], action
    assert audit.verify(db).ok
    panel.close()


def _form_loaded(qtbot, panel: PartnershipPanel, code: str) -> FormEditor:  # type: ignore[no-untyped-def]
    panel.select(code)
    editor = panel.form_editor
    qtbot.waitUntil(
        lambda: (
            editor.choices is not None
            and editor.choices.service == code
            and editor.tree.topLevelItemCount() > 0
        ),
        timeout=15000,
    )
    return editor


def _tree(editor: FormEditor) -> list[tuple[str, list[str]]]:
    """The form as the tree shows it: each section's title and its indicators' codes."""
    shown = []
    for s in range(editor.tree.topLevelItemCount()):
        top = editor.tree.topLevelItem(s)
        codes = [top.child(i).text(0).split(" — ")[0] for i in range(top.childCount())]
        shown.append((top.text(0), codes))
    return shown


def _choose(qtbot, editor: FormEditor, key: tuple[str, object]) -> None:  # type: ignore[no-untyped-def]
    editor._select(key)
    editor.tree.setFocus()
    assert editor.tree.currentItem().data(0, Qt.ItemDataRole.UserRole) == key


def _form_events(db) -> int:  # type: ignore[no-untyped-def]
    with db.reading() as session:
        return len(
            session.scalars(select(AuditEvent).where(AuditEvent.action == "service.form")).all()
        )


def _grid(qtbot, window: MainWindow, service: str, period: str) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """The Return page's rows for a service: ("section", title) and (code, tooltip)."""
    window.places.setCurrentRow(0)
    page = window.return_page
    page.period_picker.setCurrentIndex(page.period_picker.findData(period))
    page.service_picker.setCurrentIndex(page.service_picker.findData(service))
    qtbot.waitUntil(
        lambda: (
            window.controller.view is not None
            and window.controller.view.service.code == service
            and not window.controller.busy
        ),
        timeout=15000,
    )
    model = page.model
    rows = []
    for r in range(model.rowCount()):
        item = model.item(r)
        if isinstance(item, SectionRow):
            rows.append(("section", item.title))
        else:
            tip = model.index(r, 1).data(Qt.ItemDataRole.ToolTipRole) or ""
            rows.append((item.code, tip))
    return rows


def test_the_coordinator_edits_a_form_and_the_return_shows_it(
    qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    panel = _panel(qtbot, window)
    editor = _form_loaded(qtbot, panel, "ASC")
    before = _tree(editor)
    assert len(before) == 2 and len(before[1][1]) == 2, before
    first, moving = before[0][1][0], before[1][1][1]

    # a new section after the first, titled by typing
    _choose(qtbot, editor, ("section", 0))
    qtbot.mouseClick(editor.add_section_button, Qt.MouseButton.LeftButton)
    assert editor.section_title.hasFocus()
    qtbot.keyClicks(editor.section_title, "Checked first")
    # the last indicator up with Alt+Up, past the top of its section into the new one
    _choose(qtbot, editor, ("indicator", moving))
    qtbot.keyClick(editor.tree, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    qtbot.keyClick(editor.tree, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    assert _tree(editor)[1] == ("Checked first", [moving])
    # the section above it, then the first indicator to the new section's end with the button
    _choose(qtbot, editor, ("indicator", first))
    editor.target_section.setCurrentIndex(1)
    qtbot.mouseClick(editor.move_to_button, Qt.MouseButton.LeftButton)
    # the first section, now empty, is a problem named before any save
    assert "has no indicator" in editor.problems.text()
    _choose(qtbot, editor, ("section", 0))
    qtbot.keyClick(editor.tree, Qt.Key.Key_Delete)
    assert "has no indicator" not in editor.problems.text()
    # help text typed for the moved indicator
    _choose(qtbot, editor, ("indicator", moving))
    editor.help.selectAll()
    qtbot.keyClicks(editor.help, "Take it from the June survey.")
    shown = _tree(editor)
    assert shown[0][1] == [moving, first], shown
    # Ctrl+Z steps back (the help typed, then the section removed); Redo brings both back
    editor.tree.setFocus()
    qtbot.keyClick(editor.tree, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(editor.tree, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert (
        len(_tree(editor)) == 3
        and editor.draft.item(moving).help != "Take it from the June survey."
    )
    while editor.undo.canRedo():
        qtbot.mouseClick(editor.redo_button, Qt.MouseButton.LeftButton)
    assert _tree(editor) == shown
    assert editor.draft.item(moving).help == "Take it from the June survey."
    title = shown[0][0]

    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    _settle(qtbot, panel, "Saved the return form of Adult Social Care")
    qtbot.waitUntil(lambda: editor.choices.custom and not editor.dirty, timeout=15000)
    assert _tree(editor) == shown
    assert not editor.save_button.isEnabled() and editor.default_button.isEnabled()
    assert _form_events(window.database) == 1  # one audited change
    assert _sources(window.database, "service.form") == ["typed in the app"]
    panel.close()

    rows = _grid(qtbot, window, "ASC", "FY2024-25-Q4")
    assert rows[0] == ("section", title)
    assert [r[0] for r in rows[1:3]] == [moving, first]
    assert "Take it from the June survey." in rows[1][1]
    assert audit.verify(window.database).ok


def test_a_refused_form_is_not_saved_and_nothing_typed_is_lost(
    qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    panel = _panel(qtbot, window)
    editor = _form_loaded(qtbot, panel, "HIGHWAYS")
    code = editor.draft.codes()[0]
    # a section with its title cleared and nothing in it: said before saving, and refused
    _choose(qtbot, editor, ("section", 0))
    qtbot.mouseClick(editor.add_section_button, Qt.MouseButton.LeftButton)
    qtbot.keyClick(editor.section_title, Qt.Key.Key_Backspace)
    assert "Section 2 has no title: rename it." in editor.problems.text()
    assert "Section 2 has no indicator" in editor.problems.text()
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    assert editor.problems.text().startswith("Not saved: Section 2 has no title")
    assert not panel.busy and editor.dirty and len(_tree(editor)) == 3
    # Revert puts the saved form back
    qtbot.mouseClick(editor.revert_button, Qt.MouseButton.LeftButton)
    assert not editor.dirty and editor.problems.text() == "" and len(_tree(editor)) == 2
    # a refusal by the database (a read-only copy, say) leaves the draft on screen
    _choose(qtbot, editor, ("indicator", code))
    qtbot.keyClicks(editor.help, "New help")
    draft = editor.draft

    def refuse(*_a, **_k):  # type: ignore[no-untyped-def]
        raise ValidationError("the server refused it")

    monkeypatch.setattr(partnership, "set_service_form", refuse)
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    _settle(qtbot, panel, "Not saved: the server refused it")
    assert editor.draft == draft and editor.dirty
    assert editor.help.toPlainText().startswith("New help")
    assert _form_events(window.database) == 0
    # leaving for another service asks first; saying no keeps the form
    monkeypatch.setattr(dialogs, "confirm", lambda *_a: False)
    panel.select("ASC")
    assert panel.selected().code == "HIGHWAYS" and editor.draft == draft
    panel.close()


def test_the_form_editor_is_used_by_keyboard_alone(qtbot, window: MainWindow) -> None:
    from test_keyboard import _mnemonic, tab_walk

    from skp_desktop.ui.accessibility import is_tab_stop

    panel = _panel(qtbot, window)
    editor = _form_loaded(qtbot, panel, "ASC")
    _choose(qtbot, editor, ("indicator", editor.draft.codes()[0]))
    stops = [
        w
        for w in editor.findChildren(QWidget)
        if is_tab_stop(w) and not isinstance(w.parentWidget(), QLineEdit)
    ]
    walk = tab_walk(editor.tree, limit=200)
    missed = [
        f"{type(w).__name__} {w.accessibleName() or w.text()}" for w in stops if w not in walk
    ]
    assert not missed, f"Tab from the form never reaches {missed}"
    assert not editor.tree.tabKeyNavigation()
    assert editor.help.tabChangesFocus() and editor.intro.tabChangesFocus()
    keys: dict[str, list[str]] = {}
    for widget in panel.findChildren(QWidget):
        if widget.isVisible() and isinstance(widget, QAbstractButton | QLabel):
            text = widget.text() if not isinstance(widget, QLabel) or widget.buddy() else ""
            if (key := _mnemonic(text)) is not None:
                keys.setdefault(key, []).append(text)
    assert not {k: v for k, v in keys.items() if len(v) > 1}
    for button in editor.findChildren(QPushButton):  # a name holds the label people see
        label = button.text().replace("&", "")
        assert label in (button.accessibleName() or label)
    assert editor.help.accessibleName() == f"Help text for {editor.draft.codes()[0]}"
    panel.close()


def test_context_figures_are_recorded(qtbot, window: MainWindow) -> None:
    panel = _panel(qtbot, window)
    panel.tabs.setCurrentIndex(1)
    panel.measure.setCurrentIndex(panel.measure.findData("CTX-ASB"))
    qtbot.keyClicks(panel.period, "FY2025-26-Q4")
    qtbot.keyClicks(panel.value, "19.1")
    qtbot.keyClicks(panel.source, "MPS data")
    qtbot.mouseClick(panel.record_button, Qt.MouseButton.LeftButton)
    _settle(qtbot, panel, "Recorded CTX-ASB for FY2025-26-Q4: 19.1")
    qtbot.waitUntil(lambda: "CTX-ASB: 2025/26 Q4 19.1" in panel.figures.text(), timeout=15000)
    (figure,) = context_figures(window.database)["CTX-ASB"]
    assert (str(figure.value), figure.source) == ("19.1", "MPS data")
    assert _sources(window.database, "context.set") == ["typed in the app"]
    assert audit.verify(window.database).ok
    panel.close()
    # the History place says what happened in words, not the JSON the event records
    window.places.setCurrentRow(PLACES.index("History"))
    model = window.history_page.model
    qtbot.waitUntil(
        lambda: model.rowCount() > 0 and model.entry(0).action == "context.set", timeout=15000
    )
    shown = {COLUMNS[c]: model.index(0, c).data() for c in range(len(COLUMNS))}
    assert (shown["What"], shown["Indicator"]) == ("context figure recorded", "CTX-ASB")
    assert (shown["Change"], shown["Source"]) == ("19.1 (MPS data)", "typed in the app")
    # the page fills its filter choices in the background on its first visit: let it finish
    qtbot.waitUntil(lambda: window.history_page.indicator.count() > 1, timeout=15000)
    qtbot.waitUntil(lambda: not window._worker.busy and not model.loading, timeout=15000)


def test_the_services_model_shows_an_organisation_without_services(qtmodeltester) -> None:
    from skp_desktop.services.partnership import OrganisationInfo

    model = ServicesModel()
    model.load([OrganisationInfo("PS", "Probation Service", ())])
    qtmodeltester.check(model)
    assert model.index(0, 2).data() == "no service yet: add one below"
    assert model.service_at(0) is None


def test_a_section_moves_with_alt_arrows_and_takes_its_indicators(
    qtbot, window: MainWindow
) -> None:
    panel = _panel(qtbot, window)
    editor = _form_loaded(qtbot, panel, "ASC")
    before = _tree(editor)
    _choose(qtbot, editor, ("section", 1))
    qtbot.keyClick(editor.tree, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    assert _tree(editor) == [before[1], before[0]]
    assert editor.tree.currentItem().text(0) == before[1][0]  # the moved section stays chosen
    qtbot.keyClick(editor.tree, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    assert _tree(editor) == before and not editor.dirty
    panel.close()
