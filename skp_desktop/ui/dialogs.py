"""Every question and message the GUI shows goes through here, so tests can answer them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)


class Dialogs:
    """Message boxes; tests replace an instance's methods instead of clicking real boxes."""

    def error(self, parent: QWidget | None, title: str, text: str, detail: str = "") -> None:
        box = QMessageBox(QMessageBox.Icon.Critical, title, text, parent=parent)
        if detail:
            box.setDetailedText(detail)
        box.exec()

    def information(self, parent: QWidget | None, title: str, text: str) -> None:
        QMessageBox.information(parent, title, text)

    def confirm(self, parent: QWidget | None, title: str, text: str) -> bool:
        answer = QMessageBox.question(parent, title, text)
        return answer == QMessageBox.StandardButton.Yes

    def open_file(self, parent: QWidget | None, title: str, folder: str, filters: str) -> str:
        """A file to open, or "" when cancelled."""
        path, _ = QFileDialog.getOpenFileName(parent, title, folder, filters)
        return path

    def open_database_file(self, parent: QWidget | None) -> str:
        """An SKP Returns database file to open, or "" when cancelled."""
        return self.open_file(
            parent, "Open an SKP Returns database", "", "SKP Returns databases (*.sqlite3 *.db)"
        )

    def ask_connection(
        self, parent: QWidget | None, *, address: Any = None, message: str = ""
    ) -> Any:
        """The connection dialog: a server URL (with the password) or a file path to open, or
        None when cancelled. `address` fills the fields in; `message` says why it is asked."""
        from skp_desktop.ui.connection_dialog import ask_connection

        return ask_connection(parent, address=address, message=message)

    def open_files(self, parent: QWidget | None, title: str, filters: str) -> list[str]:
        """Files to open (several may be chosen), or [] when cancelled."""
        paths, _ = QFileDialog.getOpenFileNames(parent, title, "", filters)
        return paths

    def open_folder(self, parent: QWidget | None, title: str) -> str:
        """A folder, or "" when cancelled."""
        return QFileDialog.getExistingDirectory(parent, title)

    def save_file(self, parent: QWidget | None, title: str, suggested: str, filters: str) -> str:
        """Where to save, or "" when cancelled."""
        path, _ = QFileDialog.getSaveFileName(parent, title, suggested, filters)
        return path

    def ask_text(self, parent: QWidget | None, title: str, label: str) -> str | None:
        """A line of text, or None when cancelled or left blank."""
        text, ok = QInputDialog.getText(parent, title, label)
        return text.strip() if ok and text.strip() else None

    def ask_explanations(
        self, parent: QWidget | None, warnings: Sequence[tuple[str, str]]
    ) -> dict[str, str] | None:
        """One dialog asking for every missing explanation: {code: text}, or None if cancelled."""
        dialog = ExplanationsDialog(warnings, parent)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return dialog.explanations()


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


dialogs = Dialogs()
