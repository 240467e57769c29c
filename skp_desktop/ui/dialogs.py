"""Every question and message the GUI shows goes through here, so tests can answer them.

Qt's dialog classes load when a dialog is first shown (here and in dialog_boxes.py): the main
window imports this module before its first paint, and they cost ~10-20 ms to set up.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget
    from sqlalchemy.engine import URL

    from skp_desktop.services.connection import ServerAddress
    from skp_desktop.ui.dialog_boxes import QueriesAnswer, QueryChoice


class Dialogs:
    """Message boxes; tests replace an instance's methods instead of clicking real boxes."""

    def error(self, parent: QWidget | None, title: str, text: str, detail: str = "") -> None:
        from PySide6.QtWidgets import QMessageBox

        box = QMessageBox(QMessageBox.Icon.Critical, title, text, parent=parent)
        if detail:
            box.setDetailedText(detail)
        box.exec()

    def information(self, parent: QWidget | None, title: str, text: str) -> None:
        from PySide6.QtWidgets import QMessageBox

        QMessageBox.information(parent, title, text)

    def confirm(self, parent: QWidget | None, title: str, text: str) -> bool:
        from PySide6.QtWidgets import QMessageBox

        answer = QMessageBox.question(parent, title, text)
        return answer == QMessageBox.StandardButton.Yes

    def open_file(self, parent: QWidget | None, title: str, folder: str, filters: str) -> str:
        """A file to open, or "" when cancelled."""
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getOpenFileName(parent, title, folder, filters)
        return path

    def open_database_file(self, parent: QWidget | None) -> str:
        """An SKP Returns database file to open, or "" when cancelled."""
        return self.open_file(
            parent, "Open an SKP Returns database", "", "SKP Returns databases (*.sqlite3 *.db)"
        )

    def ask_connection(
        self, parent: QWidget | None, *, address: ServerAddress | None = None, message: str = ""
    ) -> str | URL | None:
        """The connection dialog: a server URL (with the password) or a file path to open, or
        None when cancelled. `address` fills the fields in; `message` says why it is asked."""
        from skp_desktop.ui.connection_dialog import ask_connection

        return ask_connection(
            parent, address=address, message=message, choose_file=self.open_database_file
        )

    def open_files(self, parent: QWidget | None, title: str, filters: str) -> list[str]:
        """Files to open (several may be chosen), or [] when cancelled."""
        from PySide6.QtWidgets import QFileDialog

        paths, _ = QFileDialog.getOpenFileNames(parent, title, "", filters)
        return paths

    def open_folder(self, parent: QWidget | None, title: str) -> str:
        """A folder, or "" when cancelled."""
        from PySide6.QtWidgets import QFileDialog

        return QFileDialog.getExistingDirectory(parent, title)

    def save_file(self, parent: QWidget | None, title: str, suggested: str, filters: str) -> str:
        """Where to save, or "" when cancelled; a name typed without an extension gets the
        chosen filter's (Qt's own dialog on Linux leaves "chart" as "chart")."""
        from PySide6.QtWidgets import QFileDialog

        path, chosen = QFileDialog.getSaveFileName(parent, title, suggested, filters)
        return with_filter_extension(path, chosen, filters) if path else ""

    def ask_text(self, parent: QWidget | None, title: str, label: str) -> str | None:
        """A line of text, or None when cancelled or left blank."""
        from PySide6.QtWidgets import QInputDialog

        text, ok = QInputDialog.getText(parent, title, label)
        return text.strip() if ok and text.strip() else None

    def ask_queries(
        self, parent: QWidget | None, title: str, intro: str, choices: Sequence[QueryChoice]
    ) -> QueriesAnswer | None:
        """Questions on chosen indicators (and an optional note), or None if cancelled."""
        from skp_desktop.ui.dialog_boxes import QueriesDialog

        dialog = QueriesDialog(title, intro, choices, parent)
        if not dialog.exec():  # QDialog.DialogCode.Rejected is 0
            return None
        return dialog.answer()

    def ask_explanations(
        self, parent: QWidget | None, warnings: Sequence[tuple[str, str]]
    ) -> dict[str, str] | None:
        """One dialog asking for every missing explanation: {code: text}, or None if cancelled."""
        from skp_desktop.ui.dialog_boxes import ExplanationsDialog

        dialog = ExplanationsDialog(warnings, parent)
        if not dialog.exec():  # QDialog.DialogCode.Rejected is 0
            return None
        return dialog.explanations()


def with_filter_extension(path: str, chosen: str, filters: str) -> str:
    """`path`, or `path` with the chosen filter's extension when it has none that any of the
    offered filters (e.g. "PNG (*.png);;SVG (*.svg)") would take."""
    offered = re.findall(r"\*(\.[A-Za-z0-9]+)", filters)
    if not offered or any(path.lower().endswith(ext.lower()) for ext in offered):
        return path
    wanted = re.findall(r"\*(\.[A-Za-z0-9]+)", chosen) or offered
    return path + wanted[0]


dialogs = Dialogs()
