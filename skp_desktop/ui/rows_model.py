"""Flat table models: a fixed header row over a list of rows built from DTOs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

_Index = QModelIndex | QPersistentModelIndex


class HeadedTableModel(QAbstractTableModel):
    """A flat table whose columns are `HEADERS`; subclasses say how many rows and what's in them.

    The counts and the header row every such model needs, written once.
    """

    HEADERS: Sequence[str] = ()

    def row_count(self) -> int:
        raise NotImplementedError

    def header_text(self, section: int) -> str:
        """The column's title as shown; override to add e.g. a unit."""
        return self.HEADERS[section]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self.row_count()

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self.HEADERS)
        ):
            return self.header_text(section)
        return None


class RowsModel(HeadedTableModel):
    """Headers and rows of text; the tooltip shows a cell's whole text."""

    def __init__(
        self,
        headers: Sequence[str],
        rows: Sequence[Sequence[str]] = (),
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.HEADERS = tuple(headers)  # each table of this kind has its own columns
        self._rows = [tuple(row) for row in rows]

    def row_count(self) -> int:
        return len(self._rows)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if role in (
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.AccessibleTextRole,
            Qt.ItemDataRole.ToolTipRole,
        ):
            return self._rows[index.row()][index.column()]
        return None
