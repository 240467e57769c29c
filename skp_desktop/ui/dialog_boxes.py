"""The app's own dialogs (questions with several fields), shown through ui/dialogs.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)


@dataclass(frozen=True)
class QueryChoice:
    """An indicator the coordinator may ask about: its code, title and value as shown."""

    code: str
    title: str
    shown: str


@dataclass(frozen=True)
class QueriesAnswer:
    """What the coordinator asked: a question per chosen indicator, and a note on the whole."""

    queries: dict[str, str]
    reason: str | None


class ExplanationsDialog(QDialog):
    """Asks for an explanation of each warning before a return is submitted."""

    def __init__(self, warnings: Sequence[tuple[str, str]], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Explain the warnings")
        intro = QLabel(
            "These values look unusual. Say why each is right (for example a change in how "
            "it is counted, or a real change in the service); the coordinator reads this."
        )
        intro.setWordWrap(True)
        form = QFormLayout()
        self._edits: dict[str, QLineEdit] = {}
        for code, message in warnings:
            label = QLabel(f"<b>{code}</b>: {message}")
            label.setWordWrap(True)
            edit = QLineEdit()
            edit.setAccessibleName(f"Explanation for {code}")
            # read with the field: the warning to explain is in a row of its own above it
            edit.setAccessibleDescription(message)
            edit.textChanged.connect(self._update)
            form.addRow(label)
            form.addRow(edit)
            self._edits[code] = edit
        self._buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self._buttons.accepted.connect(self.accept)
        self._buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self._buttons)
        self._update()

    def _update(self) -> None:
        ok = self._buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(all(edit.text().strip() for edit in self._edits.values()))

    def explanations(self) -> dict[str, str]:
        return {code: edit.text().strip() for code, edit in self._edits.items()}


class QueriesDialog(QDialog):
    """Return with a query: tick the indicators to ask about and type a question on each."""

    def __init__(
        self,
        title: str,
        intro: str,
        choices: Sequence[QueryChoice],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        label = QLabel(intro)
        label.setWordWrap(True)
        grid = QGridLayout()
        grid.setColumnStretch(1, 1)
        self.checks: dict[str, QCheckBox] = {}
        self.questions: dict[str, QLineEdit] = {}
        for number, choice in enumerate(choices):
            check = QCheckBox(f"{choice.code}  ({choice.shown})")
            check.setToolTip(choice.title)
            # The name holds what shows: the box's own text and the title labelling it
            # (WCAG 2.5.3), so "tick SAFER-P1-B2" said or heard finds it.
            check.setAccessibleName(f"{choice.code} ({choice.shown}): {choice.title}")
            check.setAccessibleDescription("Tick to ask the service about this figure")
            title_label = QLabel(choice.title)
            title_label.setWordWrap(True)
            title_label.setBuddy(check)
            question = QLineEdit()
            question.setPlaceholderText(f"Your question on {choice.code}")
            question.setToolTip(choice.title)
            question.setAccessibleName(f"Question on {choice.code}")
            question.setEnabled(False)
            check.toggled.connect(question.setEnabled)
            check.toggled.connect(lambda on, q=question: on and q.setFocus())
            question.textChanged.connect(self._update)
            check.toggled.connect(lambda _on: self._update())
            grid.addWidget(check, 2 * number, 0)
            grid.addWidget(title_label, 2 * number, 1)
            grid.addWidget(question, 2 * number + 1, 1)
            self.checks[choice.code] = check
            self.questions[choice.code] = question
        grid.setRowStretch(2 * len(choices), 1)
        inner = QWidget()
        inner.setLayout(grid)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        # Not a Tab stop of its own (an unnamed one, read as "filler"): Tab goes to the ticks
        # inside, and the scroll area shows the one that has the keyboard.
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        scroll.setWidget(inner)
        self.note = QLineEdit()
        self.note.setAccessibleName("About the return as a whole")
        self.note.setPlaceholderText("About the return as a whole (optional)")
        self.note.textChanged.connect(self._update)
        self._buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self._buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Return with query")
        self._buttons.accepted.connect(self.accept)
        self._buttons.rejected.connect(self.reject)
        self.status = QLabel()
        self.status.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.note)
        layout.addWidget(self.status)
        layout.addWidget(self._buttons)
        self.resize(760, 480)
        self._update()

    def _update(self) -> None:
        asked = [code for code, check in self.checks.items() if check.isChecked()]
        blank = [code for code in asked if not self.questions[code].text().strip()]
        ok = bool(asked or self.note.text().strip()) and not blank
        self._buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)
        if blank:
            self.status.setText(f"Type the question on {', '.join(blank)}.")
        elif not ok:
            self.status.setText("Tick the indicators to ask about and type a question on each.")
        else:
            self.status.setText(
                f"{len(asked)} quer{'y' if len(asked) == 1 else 'ies'}: the service answers each "
                "in its next revision."
            )

    def answer(self) -> QueriesAnswer:
        return QueriesAnswer(
            queries={
                code: self.questions[code].text().strip()
                for code, check in self.checks.items()
                if check.isChecked()
            },
            reason=self.note.text().strip() or None,
        )
