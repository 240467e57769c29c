"""Typing into the return grid as a person at the keyboard, for the GUI tests."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit

from skp_desktop.ui.main_window import MainWindow
from skp_desktop.ui.return_grid import COLUMN_BY_TITLE


def type_into(qtbot, win: MainWindow, code: str, column: str, text: str) -> None:
    """Go to a cell, press F2, type, and press Enter — as a person at the keyboard."""
    page = win.return_page
    page.go_to(code, COLUMN_BY_TITLE[column])
    qtbot.keyClick(page.grid, Qt.Key.Key_F2)
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit), "F2 opens an editor in the cell"
    editor.selectAll()
    qtbot.keyClicks(editor, text)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
