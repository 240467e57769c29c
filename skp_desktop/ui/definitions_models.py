"""The Definitions place's two tables: the indicators being edited, and one's yearly targets."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt, Signal

from skp_desktop.domain.periods import parse_period
from skp_desktop.domain.rag import Rag
from skp_desktop.ui.rag_style import rag_colour
from skp_desktop.ui.rows_model import HeadedTableModel

_Index = QModelIndex | QPersistentModelIndex
KEY_ROLE = Qt.ItemDataRole.UserRole + 1


@dataclass(frozen=True)
class IndicatorRow:
    """One line of the indicator list: what it is and what is pending for it."""

    key: str  # the code, or "new:1" for an indicator being added
    code: str
    title: str
    state: str  # "", "changed", "new"
    problems: int = 0

    @property
    def change_text(self) -> str:
        """The pending change in words: "2 problems", "changed", "new", or ""."""
        if self.problems:
            return f"{self.problems} problem{'s' if self.problems != 1 else ''}"
        return self.state

    @property
    def mark(self) -> str:
        """A symbol before the code, so the list says it without colour: ✗, ● or +."""
        if self.problems:
            return "✗ "
        return {"changed": "● ", "new": "+ "}.get(self.state, "")


class IndicatorListModel(HeadedTableModel):
    """Code, title and pending change of every indicator, in catalogue order."""

    HEADERS = ("Code", "Title")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[IndicatorRow] = []

    def set_rows(self, rows: Sequence[IndicatorRow]) -> None:
        """Replace the rows; unchanged rows keep their place so the selection stays put."""
        rows = list(rows)
        if [r.key for r in rows] == [r.key for r in self._rows]:
            self._rows = rows
            if rows:
                self.dataChanged.emit(self.index(0, 0), self.index(len(rows) - 1, 1))
            return
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def row_of(self, key: str) -> int:
        return next((n for n, r in enumerate(self._rows) if r.key == key), -1)

    def row_count(self) -> int:
        return len(self._rows)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return row.mark + row.code if index.column() == 0 else row.title
        if role == Qt.ItemDataRole.EditRole:
            return row.code if index.column() == 0 else row.title
        if role == Qt.ItemDataRole.ToolTipRole:
            change = f" ({row.change_text})" if row.change_text else ""
            return f"{row.code}: {row.title}{change}"
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{row.code}, {row.title}" + (f", {row.change_text}" if row.change_text else "")
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == 0 and row.problems:
            return rag_colour(Rag.RED)
        if role == KEY_ROLE:
            return row.key
        return None


@dataclass
class TargetRow:
    """One year's target: as held, and as typed."""

    year: str  # FY2025-26
    held: str  # canonical text, "" when none
    text: str
    problem: str | None = None

    @property
    def changed(self) -> bool:
        return self.text.strip() != self.held


class TargetsModel(HeadedTableModel):
    """Yearly targets of one indicator: the year, and the target (editable)."""

    HEADERS = ("Year", "Target")
    edited = Signal(str, str)  # year, text

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[TargetRow] = []
        self._editable = True
        self._unit = ""

    def set_rows(self, rows: Sequence[TargetRow], *, editable: bool, unit: str = "") -> None:
        self.beginResetModel()
        self._rows = sorted(rows, key=lambda r: parse_period(r.year).start)
        self._editable = editable
        self._unit = unit
        self.endResetModel()

    def set_problems(self, problem_of: Callable[[str], str | None]) -> None:
        for row in self._rows:
            row.problem = problem_of(row.year)
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, 1))

    def rows(self) -> list[TargetRow]:
        return list(self._rows)

    def row_of(self, year: str) -> int:
        return next((n for n, r in enumerate(self._rows) if r.year == year), -1)

    def row_count(self) -> int:
        return len(self._rows)

    def header_text(self, section: int) -> str:
        unit = f" ({self._unit})" if section == 1 and self._unit else ""
        return self.HEADERS[section] + unit

    def flags(self, index: _Index) -> Qt.ItemFlag:
        base = super().flags(index)
        if index.isValid() and index.column() == 1 and self._editable:
            return base | Qt.ItemFlag.ItemIsEditable
        return base

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        label = parse_period(row.year).short_label
        if index.column() == 0:
            if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
                return label
            if role == Qt.ItemDataRole.ToolTipRole:
                return parse_period(row.year).label
            if role == Qt.ItemDataRole.AccessibleTextRole:
                return f"Year {label}"
            return None
        if role == Qt.ItemDataRole.EditRole:
            return row.text
        if role == Qt.ItemDataRole.DisplayRole:
            mark = "✗ " if row.problem else ("● " if row.changed else "")
            return f"{mark}{row.text}" if row.text or mark else ""
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.problem or (f"was {row.held or 'blank'}" if row.changed else None)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            said = f"Target for {label}: {row.text or 'none'}"
            if row.problem:
                said += f". Problem: {row.problem}"
            elif row.changed:
                said += f", changed from {row.held or 'none'}"
            return said
        if role == Qt.ItemDataRole.ForegroundRole and row.problem:
            return rag_colour(Rag.RED)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or index.column() != 1:
            return False
        if not self._editable:
            return False
        row = self._rows[index.row()]
        row.text = str(value or "").strip()
        self.dataChanged.emit(index, index)
        self.edited.emit(row.year, row.text)
        return True
