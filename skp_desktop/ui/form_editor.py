"""The return form editor of Definitions ▸ Services and context… (issue 18).

A service's form as the coordinator sees it: its sections in order, each with its indicators
in order; the title, introduction, a section's title and an indicator's help text in fields
beside it. The form being edited is a `FormDraft` (services/form_editing.py, no Qt); every
edit replaces it with a new one through an undo stack, so Ctrl+Z steps back through the
edits and a refused save leaves the draft as it was. The editor does no database work: the
panel loads `FormChoices` into it and saves what `save_requested` hands over.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut, QUndoCommand, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from skp_desktop.services.form_editing import FormChoices, FormDraft
from skp_desktop.ui.accessibility import announce, release_tab

KEY_ROLE = Qt.ItemDataRole.UserRole  # ("section", index) or ("indicator", code)
NEW_SECTION = "New section"


class _Edit(QUndoCommand):
    """One edit of the draft; typing in one field merges into one step."""

    def __init__(
        self, editor: FormEditor, before: FormDraft, after: FormDraft, text: str, merge: str
    ) -> None:
        super().__init__(text)
        self.editor, self.before, self.after, self.merge = editor, before, after, merge

    def id(self) -> int:
        return 1 if self.merge else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, _Edit) or other.merge != self.merge:
            return False
        self.after = other.after
        return True

    def redo(self) -> None:
        self.editor._show(self.after)

    def undo(self) -> None:
        self.editor._show(self.before)


def _shortcut(
    key: QKeySequence | QKeySequence.StandardKey | str, parent: QWidget, slot: Callable[[], object]
) -> QShortcut:
    shortcut = QShortcut(QKeySequence(key), parent)
    shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    shortcut.activated.connect(slot)
    return shortcut


class FormEditor(QWidget):
    """Sections, order and help text of one service's return form."""

    save_requested = Signal(object)  # the draft's data, for partnership.set_service_form
    default_requested = Signal()  # back to the bundled (or theme-by-theme) form

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.choices: FormChoices | None = None
        self.saved: FormDraft | None = None  # as the database holds it
        self.draft: FormDraft | None = None  # as on screen
        self.writable = False
        self.undo = QUndoStack(self)

        self.heading = QLabel("Choose a service above to edit its return form.")
        self.heading.setWordWrap(True)
        self.title = QLineEdit()
        self.title.setAccessibleName("Form title")
        self.intro = QPlainTextEdit()
        self.intro.setAccessibleName("Introduction")
        self.intro.setPlaceholderText("what the person filling in the return reads first")
        self.intro.setFixedHeight(self.intro.fontMetrics().lineSpacing() * 3 + 12)
        top = QFormLayout()
        title_label = QLabel("Form tit&le")
        title_label.setBuddy(self.title)
        intro_label = QLabel("Introd&uction")
        intro_label.setBuddy(self.intro)
        top.addRow(title_label, self.title)
        top.addRow(intro_label, self.intro)

        self.tree = QTreeWidget()
        self.tree.setAccessibleName("Sections and indicators of the return form")
        self.tree.setHeaderLabels(["Section or indicator", "Help text"])
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.setUniformRowHeights(True)
        self.tree.header().setStretchLastSection(True)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.tree.setColumnWidth(0, 420)
        release_tab(self.tree)

        self.add_section_button = QPushButton("Add &section")
        self.add_section_button.setToolTip("A new section after the selected one")
        self.remove_button = QPushButton("Re&move")
        self.remove_button.setToolTip(
            "Take the selected indicator off the form, or the selected section with its "
            "indicators (Delete)"
        )
        self.up_button = QPushButton("Move up")
        self.up_button.setToolTip(
            "Alt+Up in the list: one place up (past the top: into the section before)"
        )
        self.up_button.setAccessibleName("Move up")
        self.down_button = QPushButton("Move down")
        self.down_button.setToolTip(
            "Alt+Down in the list: one place down (past the bottom: into the section after)"
        )
        self.down_button.setAccessibleName("Move down")
        self.target_section = QComboBox()
        self.target_section.setAccessibleName("Section to move the indicator to")
        self.move_to_button = QPushButton("Move to secti&on")
        self.move_to_button.setToolTip("The selected indicator to the end of the chosen section")
        self.indicator_choice = QComboBox()
        self.indicator_choice.setAccessibleName("Indicator to add")
        self.indicator_choice.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.indicator_choice.setMinimumContentsLength(18)
        self.add_indicator_button = QPushButton("Add &indicator")
        self.add_indicator_button.setToolTip(
            "The chosen indicator at the end of the selected section"
        )
        side = QVBoxLayout()
        for widget in (
            self.add_section_button,
            self.remove_button,
            self.up_button,
            self.down_button,
        ):
            side.addWidget(widget)
        side.addSpacing(8)
        side.addWidget(self.target_section)
        side.addWidget(self.move_to_button)
        side.addSpacing(8)
        side.addWidget(self.indicator_choice)
        side.addWidget(self.add_indicator_button)
        side.addStretch(1)

        self.section_title = QLineEdit()
        self.section_title.setAccessibleName("Section title")
        self.section_label = QLabel("Section titl&e")
        self.section_label.setBuddy(self.section_title)
        self.help = QPlainTextEdit()
        self.help.setAccessibleName("Help text")
        self.help.setPlaceholderText("what to count, where to take it from")
        self.help.setFixedHeight(self.help.fontMetrics().lineSpacing() * 3 + 12)
        self.help_label = QLabel("&Help text")
        self.help_label.setBuddy(self.help)
        fields = QFormLayout()
        fields.addRow(self.section_label, self.section_title)
        fields.addRow(self.help_label, self.help)
        for edit in (self.intro, self.help):
            release_tab(edit)

        self.problems = QLabel()
        self.problems.setWordWrap(True)
        self.problems.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problems.setAccessibleDescription("What stops the form being saved")

        self.undo_button = QPushButton("Undo")
        self.undo_button.setToolTip("Ctrl+Z: undo the last change to the form")
        self.redo_button = QPushButton("Redo")
        self.redo_button.setToolTip("Ctrl+Shift+Z: redo it")
        self.default_button = QPushButton("Use the &default form")
        self.default_button.setToolTip(
            "Drop the coordinator's form: the return is laid out as the program ships it"
        )
        self.revert_button = QPushButton("Re&vert")
        self.revert_button.setToolTip("Back to the form as saved, losing the changes here")
        self.save_button = QPushButton("Save &form")
        buttons = QHBoxLayout()
        for button in (self.undo_button, self.redo_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        for button in (self.default_button, self.revert_button, self.save_button):
            buttons.addWidget(button)

        grid = QGridLayout()
        grid.addWidget(self.tree, 0, 0)
        grid.addLayout(side, 0, 1)
        grid.setColumnStretch(0, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.heading)
        layout.addLayout(top)
        layout.addLayout(grid, 1)
        layout.addLayout(fields)
        layout.addWidget(self.problems)
        layout.addLayout(buttons)

        self.title.textEdited.connect(
            lambda text: self._edit(lambda d: d.with_title(text), "Edit the title", "title")
        )
        self.intro.textChanged.connect(self._intro_typed)
        self.section_title.textEdited.connect(self._section_typed)
        self.help.textChanged.connect(self._help_typed)
        self.tree.currentItemChanged.connect(lambda *_: self._selection_changed())
        self.add_section_button.clicked.connect(self.add_section)
        self.remove_button.clicked.connect(self.remove_selected)
        self.up_button.clicked.connect(lambda: self.move_selected(-1))
        self.down_button.clicked.connect(lambda: self.move_selected(+1))
        self.move_to_button.clicked.connect(self.move_to_section)
        self.add_indicator_button.clicked.connect(self.add_indicator)
        self.undo_button.clicked.connect(self.undo.undo)
        self.redo_button.clicked.connect(self.undo.redo)
        self.revert_button.clicked.connect(self.revert)
        self.save_button.clicked.connect(self.save)
        self.default_button.clicked.connect(self.default_requested.emit)
        self.undo.indexChanged.connect(self._undone_or_done)  # a method: gone with the editor
        for key, step in (("Alt+Up", -1), ("Alt+Down", +1)):  # on the tree: a drop-down
            move = QShortcut(QKeySequence(key), self.tree)  # keeps Alt+Down for its list
            move.setContext(Qt.ShortcutContext.WidgetShortcut)
            move.activated.connect(lambda step=step: self.move_selected(step))
        _shortcut(QKeySequence.StandardKey.Undo, self, self.undo.undo)
        _shortcut(QKeySequence.StandardKey.Redo, self, self.undo.redo)
        delete = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.tree)
        delete.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete.activated.connect(self.remove_selected)
        self._enable()

    # --- loading -------------------------------------------------------------------------

    @property
    def dirty(self) -> bool:
        return self.draft is not None and self.draft != self.saved

    def load(self, choices: FormChoices | None, *, writable: bool) -> None:
        """Show a service's form. Unsaved edits of the same service are kept (the panel reads
        everything again after any change); another service's form replaces them."""
        self.writable = writable
        same = (
            self.choices is not None
            and choices is not None
            and self.choices.service == choices.service
        )
        keep = same and self.dirty
        self.choices = choices
        if choices is None:
            self.saved = self.draft = None
            self.undo.clear()
            self.heading.setText("Choose a service above to edit its return form.")
            self._show(None)
            return
        self.saved = FormDraft.from_layout(choices.layout)
        self.heading.setText(
            f"Return form of {choices.service_name} ({choices.service}): "
            + (
                "set by the coordinator."
                if choices.custom
                else "the default form (no change saved yet)."
            )
        )
        if not keep:
            self.undo.clear()
            self._show(self.saved)
        else:
            self._show(self.draft)

    def mark_saved(self) -> None:
        """The draft on screen is what the database holds now."""
        self.saved = self.draft
        self.undo.clear()
        self._enable()

    # --- editing -------------------------------------------------------------------------

    def _edit(self, change: Callable[[FormDraft], FormDraft], text: str, merge: str = "") -> None:
        if self.draft is None or not self.writable:
            return
        after = change(self.draft)
        if after is self.draft or after == self.draft:
            return
        self.undo.push(_Edit(self, self.draft, after, text, merge))

    def _key(self) -> tuple[str, Any] | None:
        item = self.tree.currentItem()
        return None if item is None else item.data(0, KEY_ROLE)

    def _section_index(self) -> int | None:
        """The selected section, or the section of the selected indicator."""
        key = self._key()
        if key is None or self.draft is None:
            return None
        if key[0] == "section":
            return int(key[1])
        place = self.draft.place_of(key[1])
        return None if place is None else place.section

    def _code(self) -> str | None:
        key = self._key()
        return key[1] if key is not None and key[0] == "indicator" else None

    def add_section(self) -> None:
        if self.draft is None:
            return
        at = self._section_index()
        at = len(self.draft.sections) if at is None else at + 1
        self._edit(lambda d: d.add_section(NEW_SECTION, at), "Add a section")
        self._select(("section", at))
        self.section_title.setFocus(Qt.FocusReason.OtherFocusReason)
        self.section_title.selectAll()

    def remove_selected(self) -> None:
        key = self._key()
        if key is None or self.draft is None:
            return
        if key[0] == "section":
            at = int(key[1])
            self._edit(lambda d: d.remove_section(at), "Remove a section")
            if self.draft.sections:
                self._select(("section", min(at, len(self.draft.sections) - 1)))
        else:
            code, section = key[1], self._section_index()
            self._edit(lambda d: d.remove_indicator(code), f"Take {code} off the form")
            self._select(("section", section))

    def move_selected(self, step: int) -> None:
        key = self._key()
        if key is None:
            return
        if key[0] == "section":
            at = int(key[1])
            self._edit(lambda d: d.move_section(at, step), "Move a section")
            if self.draft is not None and 0 <= at + step < len(self.draft.sections):
                self._select(("section", at + step))
        else:
            code = key[1]
            self._edit(lambda d: d.move_indicator(code, step), f"Move {code}")

    def move_to_section(self) -> None:
        code, section = self._code(), self.target_section.currentData()
        if code is not None and section is not None:
            self._edit(lambda d: d.move_to_section(code, int(section)), f"Move {code}")

    def add_indicator(self) -> None:
        code = self.indicator_choice.currentData()
        at = self._section_index()
        if code is None or self.draft is None:
            return
        if at is None:  # no section chosen: the last one
            at = len(self.draft.sections) - 1
        if at < 0:
            self.problems.setText("Add a section first: an indicator goes in a section.")
            return
        self._edit(lambda d: d.add_indicator(at, code), f"Add {code}")
        self._select(("indicator", code))

    def _intro_typed(self) -> None:
        text = self.intro.toPlainText()
        self._edit(lambda d: d.with_intro(text), "Edit the introduction", "intro")

    def _section_typed(self, text: str) -> None:
        at = self._section_index()
        if at is not None:
            self._edit(lambda d: d.rename_section(at, text), "Rename a section", f"section {at}")

    def _help_typed(self) -> None:
        code, text = self._code(), self.help.toPlainText()
        if code is not None:
            self._edit(lambda d: d.with_help(code, text), f"Edit {code}'s help", f"help {code}")

    def revert(self) -> None:
        saved = self.saved
        if saved is not None and self.dirty:
            self._edit(lambda _d: saved, "Revert")

    def save(self) -> None:
        if self.draft is None or self.choices is None:
            return
        problems = self.draft.problems(self.choices.indicators)
        if problems:
            self.problems.setText("Not saved: " + " ".join(problems))
            self.problems.setFocus(Qt.FocusReason.OtherFocusReason)
            announce(self.problems, self.problems.text(), assertive=True)
            return
        self.save_requested.emit(self.draft.data())

    # --- showing -------------------------------------------------------------------------

    def _title_of(self, code: str) -> str:
        titles = self.choices.indicators if self.choices is not None else {}
        return f"{code} — {titles.get(code, 'not one of this service’s indicators')}"

    def _show(self, draft: FormDraft | None) -> None:
        """Put a draft on screen, keeping the selection and not disturbing what is typed."""
        key = self._key()
        self.draft = draft
        self.tree.blockSignals(True)
        self.tree.clear()
        for number, section in enumerate(draft.sections if draft else ()):
            top = QTreeWidgetItem([section.title or "(no title)", ""])
            top.setData(0, KEY_ROLE, ("section", number))
            for item in section.items:
                child = QTreeWidgetItem([self._title_of(item.code), item.help.replace("\n", " ")])
                child.setData(0, KEY_ROLE, ("indicator", item.code))
                child.setToolTip(1, item.help)
                child.setToolTip(0, self._title_of(item.code))
                top.addChild(child)
            self.tree.addTopLevelItem(top)
            top.setFirstColumnSpanned(True)  # a section's title across the whole width
            top.setExpanded(True)
        self.tree.blockSignals(False)
        for edit, text in ((self.title, draft.title if draft else ""),):
            if edit.text() != text:
                edit.setText(text)
        if self.intro.toPlainText() != (draft.intro if draft else ""):
            self.intro.blockSignals(True)
            self.intro.setPlainText(draft.intro if draft else "")
            self.intro.blockSignals(False)
        self.target_section.clear()
        self.indicator_choice.clear()
        if draft is not None and self.choices is not None:
            for number, section in enumerate(draft.sections):
                self.target_section.addItem(section.title or f"section {number + 1}", number)
            for code in draft.missing(self.choices.indicators):
                self.indicator_choice.addItem(self._title_of(code), code)
            if not self.indicator_choice.count():
                self.indicator_choice.addItem("all on the form already", None)
        self._select(key)
        if self.tree.currentItem() is None and self.tree.topLevelItemCount():
            self._select(("section", 0))
        problems = draft.problems(self.choices.indicators) if draft and self.choices else []
        self.problems.setText("To fix before saving: " + " ".join(problems) if problems else "")
        self._selection_changed()

    def _select(self, key: tuple[str, Any] | None) -> None:
        if key is None:
            return
        for top_index in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(top_index)
            if top is None:
                continue
            for item in (top, *(top.child(i) for i in range(top.childCount()))):
                if item is not None and item.data(0, KEY_ROLE) == key:
                    self.tree.setCurrentItem(item)
                    self.tree.scrollToItem(item)
                    return

    def _selection_changed(self) -> None:
        code, at = self._code(), self._section_index()
        draft = self.draft
        title = draft.sections[at].title if draft is not None and at is not None else ""
        if self.section_title.text() != title:
            self.section_title.setText(title)
        item = draft.item(code) if draft is not None and code is not None else None
        help_text = item.help if item is not None else ""
        if self.help.toPlainText() != help_text:
            self.help.blockSignals(True)
            self.help.setPlainText(help_text)
            self.help.blockSignals(False)
        self.help_label.setText(f"&Help text for {code}" if code else "&Help text")
        self.help.setAccessibleName(f"Help text for {code}" if code else "Help text")
        if at is not None:
            self.target_section.setCurrentIndex(max(0, self.target_section.findData(at)))
        self._enable()

    def _undone_or_done(self, _index: int) -> None:
        self._enable()

    def _enable(self) -> None:
        loaded = self.draft is not None and self.writable
        selected = loaded and self.tree.currentItem() is not None
        indicator = selected and self._code() is not None
        for widget in (self.title, self.intro, self.add_section_button):
            widget.setEnabled(loaded)
        for widget in (self.remove_button, self.up_button, self.down_button):
            widget.setEnabled(selected)
        self.section_title.setEnabled(selected)
        self.help.setEnabled(indicator)
        self.target_section.setEnabled(indicator and self.target_section.count() > 1)
        self.move_to_button.setEnabled(indicator and self.target_section.count() > 1)
        can_add = loaded and self.indicator_choice.currentData() is not None
        self.indicator_choice.setEnabled(can_add)
        self.add_indicator_button.setEnabled(can_add and bool(self.draft and self.draft.sections))
        self.undo_button.setEnabled(loaded and self.undo.canUndo())
        self.redo_button.setEnabled(loaded and self.undo.canRedo())
        self.revert_button.setEnabled(loaded and self.dirty)
        self.save_button.setEnabled(loaded and self.dirty)
        self.default_button.setEnabled(loaded and self.choices is not None and self.choices.custom)
