"""The coordinator's line on the Completeness page: when a quarter's returns are due.

A quarter picker (it follows the matrix's selection), a date editor typed or picked from a
calendar, "Set due date", and "Usual date" to go back to the last day of the month after the
quarter. The page does the writing; this widget only asks for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import QComboBox, QDateEdit, QHBoxLayout, QLabel, QPushButton, QWidget

if TYPE_CHECKING:
    from skp_desktop.services.due_dates import DueDateInfo

DATE_FORMAT = "%d/%m/%Y"


def due_text(due: DueDateInfo) -> str:
    """A quarter's due date in words: whose it is, and the usual one when it differs."""
    return f"due {due.due.strftime(DATE_FORMAT)}: {_whose(due)}"


def _whose(due: DueDateInfo) -> str:
    if not due.is_set:
        return "the usual date (the last day of the month after the quarter)"
    who = f"set by {due.set_by}"
    if due.set_at is not None:
        who += f" on {due.set_at.astimezone().strftime(DATE_FORMAT)}"
    return f"{who} (the usual date is {due.usual.strftime(DATE_FORMAT)})"


class DueDateEditor(QWidget):
    """Choose a quarter and the date its returns are due by."""

    change_requested = Signal(str, object)  # quarter code, and a date (or None: the usual date)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._dues: dict[str, DueDateInfo] = {}
        self._writable = False
        self._busy = False
        self.period_picker = QComboBox()
        self.period_picker.setAccessibleName("Quarter whose due date is shown")
        self.period_picker.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        period_label = QLabel("&Due date for")
        period_label.setBuddy(self.period_picker)
        self.date_edit = QDateEdit()
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("dd/MM/yyyy")
        self.date_edit.setAccessibleName("Due date is on")
        # Qt 6 drops the calendar down for the mouse only (no key opens it): say what the
        # keyboard does instead.
        self.date_edit.setAccessibleDescription(
            "The date the quarter's returns are due by: type it as day/month/year; Up and Down "
            "change the day, month or year the cursor is in"
        )
        date_label = QLabel("&is on")
        date_label.setBuddy(self.date_edit)
        self.set_button = QPushButton("Set d&ue date")
        self.set_button.setToolTip("Returns for this quarter are due by the date shown")
        self.usual_button = QPushButton("Usua&l date")
        self.usual_button.setToolTip(
            "Go back to the usual date: the last day of the month after the quarter"
        )
        self.note = QLabel()
        self.note.setAccessibleDescription("About the due date")
        self.note.setWordWrap(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (period_label, self.period_picker, date_label, self.date_edit):
            layout.addWidget(widget)
        layout.addWidget(self.set_button)
        layout.addWidget(self.usual_button)
        layout.addWidget(self.note, 1)
        self.period_picker.currentIndexChanged.connect(lambda _i: self._show_chosen())
        self.date_edit.dateChanged.connect(lambda _d: self._update_buttons())
        self.set_button.clicked.connect(self._set)
        self.usual_button.clicked.connect(
            lambda: self._ask(None) if self.current() is not None else None
        )
        self.date_edit.editingFinished.connect(self._update_buttons)
        self._update_buttons()

    # --- what is shown ---------------------------------------------------------------------

    def set_dues(self, dues: Sequence[DueDateInfo], writable: bool) -> None:
        """The quarters of the matrix and their due dates; the chosen quarter stays chosen."""
        chosen = self.period_picker.currentData()
        self._dues = {due.period.code: due for due in dues}
        self._writable, self._busy = writable, False
        self.period_picker.blockSignals(True)
        self.period_picker.clear()
        for due in dues:
            self.period_picker.addItem(due.period.short_label, due.period.code)
        index = self.period_picker.findData(chosen)
        self.period_picker.setCurrentIndex(index if index >= 0 else self.period_picker.count() - 1)
        self.period_picker.blockSignals(False)
        self._show_chosen()

    def follow(self, period: str) -> None:
        """Show the due date of the quarter selected in the matrix."""
        index = self.period_picker.findData(period)
        if index >= 0 and index != self.period_picker.currentIndex():
            self.period_picker.setCurrentIndex(index)

    def current(self) -> DueDateInfo | None:
        return self._dues.get(self.period_picker.currentData() or "")

    def chosen_date(self) -> date:
        value = self.date_edit.date()
        return date(value.year(), value.month(), value.day())

    def show_problem(self, text: str) -> None:
        """Why the date was not set, beside the editor."""
        self._busy = False
        self.note.setText(f"Not set: {text}")
        self._update_buttons()

    def _show_chosen(self) -> None:
        due = self.current()
        if due is None:
            self.note.setText("")
        else:
            self.date_edit.blockSignals(True)
            self.date_edit.setDate(QDate(due.due.year, due.due.month, due.due.day))
            self.date_edit.blockSignals(False)
            whose = _whose(due)
            self.note.setText(whose[0].upper() + whose[1:])
        self._update_buttons()

    def _update_buttons(self) -> None:
        due = self.current()
        ready = due is not None and self._writable and not self._busy
        self.period_picker.setEnabled(due is not None)
        self.date_edit.setEnabled(ready)
        self.set_button.setEnabled(ready and due is not None and self.chosen_date() != due.due)
        self.usual_button.setEnabled(ready and due is not None and due.is_set)
        if due is not None and not self._writable:
            self.date_edit.setToolTip("The database is open read-only: due dates cannot be set")
        else:
            self.date_edit.setToolTip("")

    # --- asking for a change ---------------------------------------------------------------

    def _set(self) -> None:
        if self.current() is not None:
            self._ask(self.chosen_date())

    def _ask(self, when: date | None) -> None:
        due = self.current()
        if due is None:
            return
        self._busy = True
        self._update_buttons()
        self.change_requested.emit(due.period.code, when)
