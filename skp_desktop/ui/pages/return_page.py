"""The Return place: pick a service and period, enter values, submit or reopen."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from skp_desktop.domain.vocabulary import NOT_STARTED, Step, allows
from skp_desktop.services.dto import ReturnRow, ReturnView, ServiceInfo
from skp_desktop.ui.accessibility import announce
from skp_desktop.ui.pages.shared import period_choices
from skp_desktop.ui.return_grid import (
    ANSWER_COLUMN,
    COLUMNS,
    QUERY_COLUMN,
    ReturnGridModel,
    ReturnGridView,
)

PASTE_HELP = (
    "Paste a block copied from Excel or LibreOffice onto the grid with Ctrl+V. "
    "The whole paste is saved as one step (Ctrl+Z undoes it), or, if any cell is wrong, "
    "nothing is pasted and the message says which cells to fix."
)


GRID_KEYS = (
    "Type to enter a value; Enter moves down, Tab moves right, and Enter after a run of Tabs "
    "goes back to the column where the run began, on the next row. F2 edits, Escape cancels. "
    "Ctrl+Tab leaves the grid for the buttons, Ctrl+Shift+Tab for the pickers; F6 moves to "
    "the side panel."
)


class ReturnPage(QWidget):
    """Service and period pickers, the return grid, and Submit / Reopen."""

    selection_changed = Signal(str, str)  # service code, period code
    row_selected = Signal(object)  # ReturnRow or None
    submit_requested = Signal()
    reopen_requested = Signal()
    export_requested = Signal()

    def __init__(self, today: date | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service_picker = QComboBox()
        self.service_picker.setAccessibleName("Service")
        self.service_picker.setMinimumContentsLength(22)
        self.period_picker = QComboBox()
        self.period_picker.setAccessibleName("Period")
        day = today or date.today()
        periods, due = period_choices(day)
        for period in periods:
            # "due now" is the return to send; "current" is the quarter the day is in.
            suffix = " — due now" if period == due else " — current" if period.contains(day) else ""
            self.period_picker.addItem(period.label + suffix, period.code)
        self.period_picker.setCurrentIndex(self.period_picker.findData(due.code))

        service_label = QLabel("&Service:")
        service_label.setBuddy(self.service_picker)
        period_label = QLabel("&Period:")
        period_label.setBuddy(self.period_picker)

        self.submit_button = QPushButton("S&ubmit…")
        self.submit_button.setAccessibleDescription("Submit the return")
        self.submit_button.setToolTip("Check the return and send it (Ctrl+Return)")
        self.submit_button.setShortcut(QKeySequence("Ctrl+Return"))
        self.submit_button.clicked.connect(self.submit_requested)
        self.reopen_button = QPushButton("Re&open…")
        self.reopen_button.setAccessibleDescription("Reopen the return")
        self.reopen_button.setToolTip("Start the next revision to make changes")
        self.reopen_button.clicked.connect(self.reopen_requested)
        self.export_button = QPushButton("E&xport…")
        self.export_button.setAccessibleDescription("Export the return as an Excel file")
        self.export_button.setToolTip("Save the submitted return as an Excel file to send on")
        self.export_button.clicked.connect(self.export_requested)

        header = QHBoxLayout()
        header.addWidget(service_label)
        header.addWidget(self.service_picker, 2)
        header.addSpacing(8)
        header.addWidget(period_label)
        header.addWidget(self.period_picker, 2)
        header.addStretch(1)
        header.addWidget(self.submit_button)
        header.addWidget(self.reopen_button)
        header.addWidget(self.export_button)

        self.heading = QLabel()
        self.heading.setObjectName("returnHeading")
        self.heading.setAccessibleDescription("Return heading")  # the name is its text
        font = self.heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        font.setBold(True)
        self.heading.setFont(font)
        self.state_note = QLabel()
        self.state_note.setWordWrap(True)
        self.state_note.setAccessibleDescription("Return state")

        self.model = ReturnGridModel(self)
        self.grid = ReturnGridView(self.model)
        self.grid.setAccessibleName("Return grid")
        self.grid.setAccessibleDescription(GRID_KEYS + " " + PASTE_HELP)
        self.grid.selectionModel().currentChanged.connect(self._on_current)

        self.message_bar = QLabel()
        self.message_bar.setWordWrap(True)
        self.message_bar.setAccessibleDescription("Message")
        self.message_bar.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.grid.grid_delegate.live_message.connect(self.show_message)
        self.grid.key_refused.connect(self._say_where_values_go)

        self.empty_state = QLabel()
        self.empty_state.setWordWrap(True)
        self.empty_state.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_state.hide()

        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.heading)
        layout.addWidget(self.state_note)
        layout.addWidget(self.grid, 1)
        layout.addWidget(self.empty_state)
        layout.addWidget(self.message_bar)
        self.show_message("")

        # Tab: Service, Period, the grid (Tab moves between its cells; Ctrl+Tab leaves it),
        # then Submit, Reopen and Export.
        self.setTabOrder(self.service_picker, self.period_picker)
        self.setTabOrder(self.period_picker, self.grid)
        self.setTabOrder(self.grid, self.submit_button)
        self.setTabOrder(self.submit_button, self.reopen_button)
        self.setTabOrder(self.reopen_button, self.export_button)

        self.service_picker.currentIndexChanged.connect(self._emit_selection)
        self.period_picker.currentIndexChanged.connect(self._emit_selection)

    # --- filling -------------------------------------------------------------------------

    def set_services(self, services: list[ServiceInfo], preferred: str | None) -> None:
        self.service_picker.blockSignals(True)
        self.service_picker.clear()
        for service in services:
            self.service_picker.addItem(
                f"{service.name} ({service.organisation_code})", service.code
            )
        index = self.service_picker.findData(preferred) if preferred else -1
        self.service_picker.setCurrentIndex(max(index, 0))
        self.service_picker.blockSignals(False)

    def select_period(self, code: str | None) -> None:
        index = self.period_picker.findData(code) if code else -1
        if index >= 0:
            self.period_picker.blockSignals(True)
            self.period_picker.setCurrentIndex(index)
            self.period_picker.blockSignals(False)

    def current_selection(self) -> tuple[str | None, str | None]:
        return self.service_picker.currentData(), self.period_picker.currentData()

    def show_return(self, view: ReturnView, *, read_only_database: bool = False) -> None:
        editable = allows(view.state, Step.EDIT) and not read_only_database
        current = self.grid.currentIndex()
        self.model.set_view(view, read_only=not editable)
        for column in (QUERY_COLUMN, ANSWER_COLUMN):
            self.grid.setColumnHidden(column, not self.model.has_queries)
        state = view.state.capitalize() + (f" r{view.revision}" if view.revision else "")
        self.heading.setText(f"{view.service.name} · {view.period_label} · {state}")
        if read_only_database:
            note = "The database is open read-only: everything can be seen, nothing changed."
        elif view.state == NOT_STARTED:
            note = "Type a value to start this return; every value is saved as you enter it."
        elif editable:
            note = "Every value is saved as you enter it. Ctrl+Z undoes the last change."
        else:
            # only a return not yet started lacks a revision, and that one is editable
            revision = view.revision or 0
            note = (
                f"Revision {revision} is {view.state} and read-only. Choose Reopen to "
                f"start revision {revision + 1} (you will be asked why)."
            )
        self.state_note.setText(_query_note(view, editable) + note)
        # Submit, Reopen and Export are enabled with their menu items, from one state
        # (ui/actions.py: the window binds them when it builds this page)
        feedback = allows(view.state, Step.EXPORT_FEEDBACK)
        self.export_button.setToolTip(
            "Save the returned return with its queries as a feedback file for the service"
            if feedback
            else "Save the submitted return as an Excel file to send on"
        )
        if not view.rows:
            self.empty_state.setText(
                f"{view.service.name} has no indicators due for {view.period_label}. "
                "Annual indicators are reported with the Q4 return: choose Q4 above."
            )
        self.empty_state.setVisible(not view.rows)
        self.grid.setVisible(bool(view.rows))
        if view.rows and not current.isValid():
            self.go_to(view.rows[0].code, _first_editable_column(view.rows[0]))
        elif current.isValid():
            self.grid.setCurrentIndex(self.model.index(current.row(), current.column()))

    def go_to(self, code: str, column: int) -> None:
        """Select an indicator's cell and give the grid the keyboard."""
        row = self.model.row_of(code)
        if row >= 0:
            self.grid.setCurrentIndex(self.model.index(row, column))
            self.grid.scrollTo(self.model.index(row, column))
            self.grid.setFocus()

    def show_message(self, text: str) -> None:
        changed = text != self.message_bar.text()
        self.message_bar.setText(text)
        self.message_bar.setVisible(bool(text))
        if changed:
            announce(self.message_bar, text)  # a refusal or a check, said after the cell

    def _say_where_values_go(self, text: str) -> None:
        """A key typed where no value can go: said here and in the status bar, never lost."""
        self.show_message(text)
        window = self.window()
        status = getattr(window, "statusBar", None)
        if callable(status):
            status().showMessage(text, 10000)

    # --- signals -------------------------------------------------------------------------

    def _emit_selection(self) -> None:
        service, period = self.current_selection()
        if service and period:
            self.model.set_view(None, read_only=True)
            self.selection_changed.emit(service, period)

    def _on_current(self, current: object, _previous: object) -> None:
        index = self.grid.currentIndex()
        row: ReturnRow | None = self.model.return_row(index.row()) if index.isValid() else None
        self.row_selected.emit(row)


def _query_note(view: ReturnView, editable: bool) -> str:
    """What the coordinator's queries ask of whoever looks at the return, before the rest."""
    queries = view.queries
    if queries is None or not queries.queries:
        return ""
    count = len(queries.queries)
    asked = f"{count} quer{'y' if count == 1 else 'ies'}"
    if view.revision == queries.asked_revision:
        return (
            f"Revision {view.revision} was returned {queries.returned_how} with {asked} "
            "(see the Query column). "
        )
    if editable and view.open_queries:
        left = len(view.open_queries)
        return (
            f"Answer the coordinator's {asked} on revision {queries.asked_revision} in the "
            f"Answer column before you submit ({left} still to answer). "
        )
    return f"This revision answers the coordinator's {asked} on revision {queries.asked_revision}. "


def _first_editable_column(row: ReturnRow) -> int:
    for number in range(len(COLUMNS)):
        if ReturnGridModel.is_editable(row, number):
            return number
    return 0
