"""The coordinator's comparator figures for one indicator: a small table beside its chart.

Periods down (those the chart shows, and any already holding a comparator), series across
(London and England, which the source documents compare against, and any other already held or
added). Typed figures wait, in bold, until "Save comparators" writes them all at once; a blank
cell removes a figure. The window does the writing (services/comparators.py) and redraws.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from skp_desktop.domain.errors import ValidationError
from skp_desktop.domain.periods import Period
from skp_desktop.domain.values import canonical_text, format_decimal, parse_number
from skp_desktop.ui.dialogs import dialogs

if TYPE_CHECKING:
    from skp_desktop.services.comparators import ComparatorEntry

_Index = QModelIndex | QPersistentModelIndex
STANDARD_SERIES = ("London", "England")  # as services/comparators.py offers them first
NO_PERIODS = (
    "The indicator has no figures yet: comparators are entered for the periods its chart "
    "shows, once it has some."
)


class ComparatorTableModel(QAbstractTableModel):
    """Periods × series; edits are kept as pending changes until saved."""

    problem = Signal(str)  # a typed figure that is not a number
    pending_changed = Signal(int)  # how many changes wait to be saved

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.periods: list[Period] = []
        self.series: list[str] = list(STANDARD_SERIES)
        self._held: dict[tuple[str, str], Decimal] = {}
        self._sources: dict[tuple[str, str], str] = {}
        self._pending: dict[tuple[str, str], Decimal | None] = {}
        self.editable = True
        self.unit = ""

    def load(
        self, periods: Sequence[Period], entries: Sequence[ComparatorEntry], unit: str = ""
    ) -> None:
        """Show what is held; pending changes are dropped."""
        self.beginResetModel()
        held_periods = {entry.period for entry in entries}
        self.periods = sorted({*periods, *held_periods}, key=lambda p: p.sort_key)
        names = list(STANDARD_SERIES)
        names += [e.series for e in entries if e.series not in names]
        self.series = list(dict.fromkeys(names))
        self._held = {(e.series, e.period.code): e.value for e in entries}
        self._sources = {(e.series, e.period.code): e.source for e in entries if e.source}
        self._pending = {}
        self.unit = unit
        self.endResetModel()
        self.pending_changed.emit(0)

    def add_series(self, name: str) -> bool:
        """A new column (e.g. "Statistical neighbours"); False when it is there already."""
        if any(existing.casefold() == name.casefold() for existing in self.series):
            return False
        column = 1 + len(self.series)
        self.beginInsertColumns(QModelIndex(), column, column)
        self.series.append(name)
        self.endInsertColumns()
        return True

    def pending(self) -> list[tuple[str, str, Decimal | None]]:
        """(series, period code, figure or None to remove), in table order."""
        order = {p.code: i for i, p in enumerate(self.periods)}
        return sorted(
            ((series, period, value) for (series, period), value in self._pending.items()),
            key=lambda c: (self.series.index(c[0]), order.get(c[1], 0)),
        )

    def figure(self, series: str, period: str) -> Decimal | None:
        """What the cell shows: the pending figure, else the one held."""
        key = (series, period)
        return self._pending[key] if key in self._pending else self._held.get(key)

    # --- Qt --------------------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.periods)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 1 + len(self.series)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < self.columnCount():
            return None
        name = "Period" if section == 0 else self.series[section - 1]
        if role == Qt.ItemDataRole.DisplayRole:
            return name
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            return name if section == 0 else f"{name} comparator ({self.unit})"
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        if index.isValid() and index.column() > 0 and self.editable:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def _key(self, index: _Index) -> tuple[str, str]:
        return self.series[index.column() - 1], self.periods[index.row()].code

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        period = self.periods[index.row()]
        if index.column() == 0:
            if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
                return period.label
            return None
        key = self._key(index)
        value = self.figure(*key)
        if role == Qt.ItemDataRole.DisplayRole:
            return "" if value is None else format_decimal(value)
        if role == Qt.ItemDataRole.EditRole:
            return "" if value is None else canonical_text(value)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole and key in self._pending:
            font = QFont()
            font.setBold(True)
            return font
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            shown = "none" if value is None else format_decimal(value)
            text = f"{key[0]}, {period.label}: {shown}"
            if key in self._pending:
                text += " (not saved yet)"
            elif key in self._sources:
                text += f". Source: {self._sources[key]}"
            return text
        return None

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or index.column() == 0:
            return False
        text = "" if value is None else str(value)
        key = self._key(index)
        try:
            figure = parse_number(text, field=f"{key[0]} {key[1]}") if text.strip() else None
        except ValidationError as exc:
            self.problem.emit(f"{key[0]}, {self.periods[index.row()].label}: {exc.message}")
            return False
        if figure == self._held.get(key):
            self._pending.pop(key, None)  # back to what is held: nothing to save
        else:
            self._pending[key] = figure
        self.dataChanged.emit(index, index)
        self.pending_changed.emit(len(self._pending))
        return True


class ComparatorsEditor(QWidget):
    """The comparator table, a source for the figures typed, and Save."""

    save_requested = Signal(object)  # list of (series, period code, figure or None), source

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = ComparatorTableModel(self)
        intro = QLabel(
            "Figures to compare this indicator with, in its own unit, as published for other "
            "areas (the source documents compare Kingston with the London and England "
            "averages). They are drawn on the chart and end the partnership workbook's Summary."
        )
        intro.setWordWrap(True)
        self.table = QTableView()
        self.table.setAccessibleName("Comparator figures by period")
        self.table.setModel(self.model)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.source = QLineEdit()
        self.source.setAccessibleName("Source of the figures typed")
        self.source.setPlaceholderText("e.g. ONS recorded crime, year to June 2024")
        source_label = QLabel("So&urce:")
        source_label.setBuddy(self.source)
        self.add_button = QPushButton("Add &series…")
        self.add_button.setToolTip("Another series to compare with, e.g. statistical neighbours")
        self.save_button = QPushButton("&Save comparators")
        self.save_button.setEnabled(False)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleDescription("Comparators status")
        source_row = QHBoxLayout()
        source_row.addWidget(source_label)
        source_row.addWidget(self.source, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addLayout(source_row)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        self.model.problem.connect(self.status.setText)
        self.model.pending_changed.connect(self._on_pending)
        self.add_button.clicked.connect(self._add_series)
        self.save_button.clicked.connect(self._save)
        self._busy = False

    def load(
        self,
        periods: Sequence[Period],
        entries: Sequence[ComparatorEntry],
        *,
        unit: str,
        editable: bool,
    ) -> None:
        """Show the figures held; `editable` is False on a read-only database."""
        self._busy = False
        self.model.editable = editable
        self.model.load(periods, entries, unit)
        self.add_button.setEnabled(editable)
        self.source.setEnabled(editable)
        if not self.model.periods:
            self.status.setText(NO_PERIODS)
        elif not editable:
            self.status.setText("The database is open read-only: comparators cannot be changed.")
        else:
            self.status.setText("Type a figure in a cell; leave it blank to remove one.")

    def show_problem(self, text: str) -> None:
        """Why the figures were not saved (they stay in the table, in bold)."""
        self._busy = False
        self.status.setText(f"Not saved: {text}")
        self._on_pending(len(self.model.pending()), keep_status=True)

    def _on_pending(self, count: int, *, keep_status: bool = False) -> None:
        self.save_button.setEnabled(count > 0 and not self._busy and self.model.editable)
        if not keep_status and count:
            self.status.setText(f"{count} change{'s' if count != 1 else ''} not saved yet.")

    def _add_series(self) -> None:
        name = dialogs.ask_text(self, "Add a series", "Name of the series to compare with:")
        if name and not self.model.add_series(" ".join(name.split())):
            self.status.setText(f"There is a {name} column already.")

    def _save(self) -> None:
        changes = self.model.pending()
        if not changes or self._busy:
            return
        self._busy = True
        self.save_button.setEnabled(False)
        self.status.setText("Saving…")
        self.save_requested.emit((changes, self.source.text().strip() or None))
