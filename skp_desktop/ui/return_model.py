"""The table model over a return's rows (read-only here; the data-entry grid builds on it)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from skp_desktop.domain.values import format_number
from skp_desktop.services.dto import ReturnRow, ReturnView
from skp_desktop.ui.rag_style import rag_colour

_Index = QModelIndex | QPersistentModelIndex

COLUMNS = ("Code", "Indicator", "Unit", "Value", "Target", "RAG", "Checks")
NUMERIC = {"Value", "Target"}


def _value_text(row: ReturnRow) -> str:
    if row.symbol:
        return row.symbol
    if row.value is None:
        return ""
    rules = row.indicator.rules
    return format_number(row.value, rules.decimals)


def _checks_text(row: ReturnRow) -> str:
    parts = []
    if row.errors:
        parts.append(f"{len(row.errors)} error{'s' if len(row.errors) != 1 else ''}")
    if row.warnings:
        parts.append(f"{len(row.warnings)} warning{'s' if len(row.warnings) != 1 else ''}")
    return ", ".join(parts) or "OK"


class ReturnTableModel(QAbstractTableModel):
    """One line per indicator of a return, from a ReturnView DTO."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: tuple[ReturnRow, ...] = ()

    def set_view(self, view: ReturnView | None) -> None:
        self.beginResetModel()
        self._rows = view.rows if view is not None else ()
        self.endResetModel()

    def row_at(self, row: int) -> ReturnRow:
        return self._rows[row]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        column = COLUMNS[index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self._display(row, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == "Indicator":
                return row.indicator.title
            if column == "Checks" and row.problems:
                return "\n".join(p.message for p in row.problems)
            return None
        if role == Qt.ItemDataRole.ForegroundRole and column == "RAG" and row.rag:
            return rag_colour(row.rag)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _display(self, row: ReturnRow, column: str) -> str:
        rules = row.indicator.rules
        if column == "Code":
            return row.code
        if column == "Indicator":
            return row.indicator.title
        if column == "Unit":
            return rules.unit.value
        if column == "Value":
            return _value_text(row)
        if column == "Target":
            return "" if rules.target is None else format_number(rules.target, rules.decimals)
        if column == "RAG":
            return row.rag.label if row.rag else "—"
        return _checks_text(row)
