"""The Completeness page's models: the matrix of returns by service and quarter, the chase
list, and the sorting that puts what to chase first."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QApplication

from skp_desktop.charts.theme import DARK, LIGHT, STATE_MEANINGS
from skp_desktop.domain.vocabulary import MISSING, ReturnState
from skp_desktop.ui.due_date_editor import due_text
from skp_desktop.ui.pages.shared import NOT_DUE, state_label
from skp_desktop.ui.rag_style import is_dark
from skp_desktop.ui.rows_model import HeadedTableModel

if TYPE_CHECKING:
    from skp_desktop.services.completeness import Completeness, CompletenessCell

_Index = QModelIndex | QPersistentModelIndex
CELL_ROLE = Qt.ItemDataRole.UserRole + 1  # the CompletenessCell behind an index
SORT_ROLE = Qt.ItemDataRole.UserRole + 2
# Worst first when a column is sorted: what to chase comes to the top.
STATE_ORDER = {
    MISSING: 0,
    ReturnState.RETURNED: 1,
    ReturnState.DRAFT: 2,
    ReturnState.SUBMITTED: 3,
    ReturnState.ACCEPTED: 4,
    NOT_DUE: 5,
}


def cell_text(cell: CompletenessCell) -> str:
    """What a matrix cell shows: symbol and state, the revision after the first, overdue."""
    text = state_label(cell.state)
    if cell.revision and cell.revision > 1:
        text += f" r{cell.revision}"
    if cell.overdue:  # on a line of its own: the column stays narrow enough for a laptop
        text += f"\noverdue {cell.days_overdue} day{'s' if cell.days_overdue != 1 else ''}"
    return text


def cell_description(cell: CompletenessCell) -> str:
    """The cell in full sentences, for the tooltip and screen readers."""
    where = f"{cell.service.name}, {cell.period.label}"
    if cell.state == NOT_DUE:
        return f"{where}: no return is due (the service reports nothing this quarter)."
    meaning = STATE_MEANINGS[cell.state]
    revision = f" (revision {cell.revision})" if cell.revision else ""
    due = f"Due by {cell.due.strftime('%d/%m/%Y')}"
    if cell.due_set:
        due += " (the date the coordinator set)"
    if cell.overdue:
        due += f": overdue by {cell.days_overdue} day{'s' if cell.days_overdue != 1 else ''}"
    return f"{where}: {cell.state}{revision}, {meaning}. {due}."


def state_fill(state: str) -> QColor | None:
    """The background colour of a state on the current palette (none for "not due")."""
    fills = (DARK if is_dark() else LIGHT).state_fill
    return QColor(fills[state]) if state in fills else None


class CompletenessModel(QAbstractTableModel):
    """Services down, quarters across; each cell the state of the latest revision."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.report: Completeness | None = None

    def set_report(self, report: Completeness | None) -> None:
        self.beginResetModel()
        self.report = report
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() or self.report is None else len(self.report.services)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() or self.report is None else 1 + len(self.report.periods)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or self.report is None:
            return None
        if not 0 <= section < self.columnCount():
            return None
        if section == 0:
            return "Service" if role == Qt.ItemDataRole.DisplayRole else None
        period = self.report.periods[section - 1]
        dues = self.report.due_dates
        due = dues[section - 1] if section - 1 < len(dues) else None
        if due is None:
            return period.short_label if role == Qt.ItemDataRole.DisplayRole else None
        when = f"due {due.due.strftime('%d/%m/%Y')}"
        if role == Qt.ItemDataRole.DisplayRole:
            # "set": the coordinator chose this date; otherwise it is the usual one.
            return f"{period.short_label}\n{when}{' (set)' if due.is_set else ''}"
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            return f"{period.label}, {due_text(due)}"
        return None

    def cell(self, index: _Index) -> CompletenessCell | None:
        if not index.isValid() or self.report is None or index.column() == 0:
            return None
        return self.report.cells[index.row()][index.column() - 1]

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self.report is None:
            return None
        service = self.report.services[index.row()]
        cell = self.cell(index)
        if cell is None:  # the service column
            if role in (Qt.ItemDataRole.DisplayRole, SORT_ROLE):
                return service.name
            if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
                return f"{service.name} ({service.organisation})"
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return cell_text(cell)
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            return cell_description(cell)
        if role == Qt.ItemDataRole.BackgroundRole:
            return state_fill(cell.state)
        if role == Qt.ItemDataRole.ForegroundRole:
            # Text on the light fills is dark in either theme; on the dark fills, light.
            if cell.state == NOT_DUE:
                return QApplication.palette().placeholderText().color()
            return QColor("#e8eaed" if is_dark() else "#1a1a1a")
        if role == Qt.ItemDataRole.FontRole and cell.overdue:
            font = QFont()
            font.setBold(True)
            return font
        if role == SORT_ROLE:
            return (STATE_ORDER[cell.state], -cell.days_overdue)
        if role == CELL_ROLE:
            return cell
        return None


class ChaseModel(HeadedTableModel):
    """Who owes what and since when: one row per overdue return, longest overdue first."""

    HEADERS = ("Service", "Organisation", "Period", "Owes", "Due", "Days overdue")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.cells: list[CompletenessCell] = []

    def set_cells(self, cells: list[CompletenessCell]) -> None:
        self.beginResetModel()
        self.cells = list(cells)
        self.endResetModel()

    def row_count(self) -> int:
        return len(self.cells)

    def text(self, row: int, column: int) -> str:
        cell = self.cells[row]
        return (
            cell.service.name,
            cell.service.organisation_code,
            cell.period.label,
            cell.owes or "",
            cell.due.strftime("%d/%m/%Y"),
            str(cell.days_overdue),
        )[column]

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        cell = self.cells[index.row()]
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self.text(index.row(), column)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == 1:
                return cell.service.organisation
            return cell_description(cell)
        if role == SORT_ROLE:
            return (
                cell.days_overdue
                if column == 5
                else (cell.due if column == 4 else self.text(index.row(), column))
            )
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 5:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == CELL_ROLE:
            return cell
        return None


class _Sorted(QSortFilterProxyModel):
    """Sorts on SORT_ROLE and filters on the service name (column 0)."""

    def __init__(self, source: QAbstractTableModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setSourceModel(source)
        self.setSortRole(SORT_ROLE)
        self.setFilterKeyColumn(0)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

    def lessThan(self, left: _Index, right: _Index) -> bool:
        a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        try:
            return bool(a < b)
        except TypeError:
            return str(a) < str(b)
