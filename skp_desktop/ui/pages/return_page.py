"""The Return place: choose a service and a period, and see that return's indicators."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from skp_desktop.domain.periods import Period, PeriodKind, latest_due_period, period_range
from skp_desktop.services.dto import ReturnRow, ReturnView, ServiceInfo
from skp_desktop.ui.return_model import ReturnTableModel

FIRST_PERIOD = "FY2023-24-Q1"


def period_choices(today: date) -> tuple[list[Period], Period]:
    """Quarters offered in the picker (newest first) and the one due now."""
    from skp_desktop.domain.periods import parse_period

    due = latest_due_period(PeriodKind.QUARTER, today)
    quarters = period_range(parse_period(FIRST_PERIOD), due.next())
    return list(reversed(quarters)), due


class ReturnPage(QWidget):
    """Service and period pickers over the return's table of indicators."""

    selection_changed = Signal(str, str)  # service code, period code
    row_selected = Signal(object)  # ReturnRow or None

    def __init__(self, today: date | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service_picker = QComboBox()
        self.service_picker.setAccessibleName("Service")
        self.service_picker.setMinimumContentsLength(24)
        self.period_picker = QComboBox()
        self.period_picker.setAccessibleName("Period")
        periods, due = period_choices(today or date.today())
        for period in periods:
            suffix = " — due now" if period == due else ""
            self.period_picker.addItem(period.label + suffix, period.code)
        self.period_picker.setCurrentIndex(self.period_picker.findData(due.code))

        service_label = QLabel("&Service:")
        service_label.setBuddy(self.service_picker)
        period_label = QLabel("&Period:")
        period_label.setBuddy(self.period_picker)
        header = QHBoxLayout()
        header.addWidget(service_label)
        header.addWidget(self.service_picker, 2)
        header.addSpacing(12)
        header.addWidget(period_label)
        header.addWidget(self.period_picker, 2)
        header.addStretch(1)

        self.heading = QLabel()
        self.heading.setObjectName("returnHeading")
        self.heading.setAccessibleName("Return heading")
        font = self.heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.heading.setFont(font)

        self.model = ReturnTableModel(self)
        self.table = QTableView()
        self.table.setAccessibleName("Return indicators")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        horizontal = self.table.horizontalHeader()
        horizontal.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        horizontal.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.selectionModel().currentRowChanged.connect(self._on_row)

        self.empty_state = QLabel()
        self.empty_state.setWordWrap(True)
        self.empty_state.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_state.hide()

        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.heading)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty_state)

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

    def show_return(self, view: ReturnView) -> None:
        revision = f"revision {view.revision}" if view.revision else "not started yet"
        self.heading.setText(
            f"{view.service.name} · {view.period_label} · {view.state.capitalize()}"
            + (f" r{view.revision}" if view.revision else "")
        )
        self.heading.setAccessibleDescription(revision)
        self.model.set_view(view)
        if not view.rows:
            self.empty_state.setText(
                f"{view.service.name} has no indicators due for {view.period_label}. "
                "Annual indicators are reported with the Q4 return: choose Q4 above."
            )
        self.empty_state.setVisible(not view.rows)
        self.table.setVisible(bool(view.rows))
        if view.rows:
            self.table.selectRow(0)

    # --- signals -------------------------------------------------------------------------

    def _emit_selection(self) -> None:
        service, period = self.current_selection()
        if service and period:
            self.selection_changed.emit(service, period)

    def _on_row(self, current: object, _previous: object) -> None:
        index = self.table.currentIndex()
        row: ReturnRow | None = self.model.row_at(index.row()) if index.isValid() else None
        self.row_selected.emit(row)
