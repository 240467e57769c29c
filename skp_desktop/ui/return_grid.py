"""The return grid: an editable table over a return's rows, with spreadsheet keys.

Over 600 lines on purpose: the model, its delegate and the view share the column layout and
the typing and paste rules, and read as one piece.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QBrush,
    QColor,
    QIcon,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHeaderView,
    QLineEdit,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionHeader,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from skp_desktop.domain.rag import Rag, direction_label
from skp_desktop.domain.validation import Problem, Severity
from skp_desktop.domain.values import canonical_text, format_number
from skp_desktop.domain.vocabulary import ReturnState
from skp_desktop.services.dto import ReturnRow, ReturnView
from skp_desktop.services.entries import preview_change
from skp_desktop.ui.accessibility import KEEPS_TAB, leave
from skp_desktop.ui.rag_style import is_dark, rag_colour

_Index = QModelIndex | QPersistentModelIndex
ROW_ROLE = Qt.ItemDataRole.UserRole + 1


@dataclass(frozen=True)
class Column:
    """One grid column: its header, the entry field it edits (if any) and its width hint."""

    title: str
    field: str | None = None
    numeric: bool = False
    width: int = 0


COLUMNS = (
    Column("Code", width=92),
    Column("Indicator", width=240),
    Column("Numerator", "numerator", numeric=True, width=80),
    Column("Denominator", "denominator", numeric=True, width=90),
    Column("Value", "value", numeric=True, width=84),
    # The coordinator's query and the service's answer: beside the figures they are about,
    # and shown only when the return has queries (ReturnPage hides them otherwise).
    Column("Query", width=180),
    Column("Answer", width=180),
    Column("Target", numeric=True, width=60),
    Column("RAG", width=76),
    Column("vs previous", width=104),
    Column("vs year ago", width=104),
    Column("Commentary", "commentary", width=180),
    Column("Explanation", "explanation", width=180),
)
COLUMN_BY_TITLE = {c.title: i for i, c in enumerate(COLUMNS)}
FIELD_COLUMN = {c.field: i for i, c in enumerate(COLUMNS) if c.field}
QUERY_COLUMN = COLUMN_BY_TITLE["Query"]
ANSWER_COLUMN = COLUMN_BY_TITLE["Answer"]


@dataclass(frozen=True)
class SectionRow:
    """A heading row between groups of indicators, from the service's form."""

    title: str


def _numbers(value: Decimal | None, decimals: int) -> str:
    return "" if value is None else format_number(value, decimals)


def _count(value: Decimal | None) -> str:
    """A numerator or denominator: whole numbers without decimals, others with two."""
    if value is None:
        return ""
    return format_number(value, 0 if value == value.to_integral_value() else 2)


def problem_column(row: ReturnRow, problem: Problem) -> int:
    """The column a problem belongs to (a rate's value problems sit on the value)."""
    return FIELD_COLUMN.get(problem.field, FIELD_COLUMN["value"])


class ReturnGridModel(QAbstractTableModel):
    """Rows of a ReturnView with section headings; edits are asked for, never written here."""

    edit_requested = Signal(str, dict)  # indicator code, {field: new text or None}
    answer_requested = Signal(str, str)  # indicator code, the answer to its query ("" withdraws)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._items: list[SectionRow | ReturnRow] = []
        self._read_only = True
        self._answering = False  # the draft answers the coordinator's queries
        self._pending: dict[tuple[str, str], str | None] = {}

    # --- contents ------------------------------------------------------------------------

    def set_view(self, view: ReturnView | None, *, read_only: bool) -> None:
        """Show a return; rows keep their places so the current cell stays put."""
        items: list[SectionRow | ReturnRow] = []
        section = None
        for row in view.rows if view else ():
            if row.section != section:
                section = row.section
                items.append(SectionRow(section))
            items.append(row)
        same_shape = [type(i) for i in items] == [type(i) for i in self._items] and all(
            isinstance(a, SectionRow) or (isinstance(b, ReturnRow) and a.code == b.code)
            for a, b in zip(items, self._items, strict=True)
        )
        self._pending.clear()
        queries = view.queries if view is not None else None
        self._answering = bool(
            not read_only
            and queries is not None
            and view is not None
            and view.state == ReturnState.DRAFT
            and (view.revision or 0) > queries.asked_revision
        )
        if same_shape and read_only == self._read_only:
            self._items = items
            if items:
                self.dataChanged.emit(
                    self.index(0, 0), self.index(len(items) - 1, len(COLUMNS) - 1)
                )
            return
        self.beginResetModel()
        self._items = items
        self._read_only = read_only
        self.endResetModel()

    @property
    def read_only(self) -> bool:
        return self._read_only

    @property
    def has_queries(self) -> bool:
        """Whether any row has a query from the coordinator (the Query columns are shown)."""
        return any(isinstance(i, ReturnRow) and i.query is not None for i in self._items)

    def can_answer(self, row: ReturnRow) -> bool:
        """Whether the row's query can be answered here: the draft that follows the return."""
        return self._answering and row.query is not None

    def item(self, row: int) -> SectionRow | ReturnRow:
        return self._items[row]

    def return_row(self, row: int) -> ReturnRow | None:
        item = self._items[row] if 0 <= row < len(self._items) else None
        return item if isinstance(item, ReturnRow) else None

    def row_of(self, code: str) -> int:
        for number, item in enumerate(self._items):
            if isinstance(item, ReturnRow) and item.code == code:
                return number
        return -1

    def mark_pending(self, code: str, fields: dict[str, str | None]) -> None:
        """Show typed text at once while the save is under way."""
        row = self.row_of(code)
        for name, text in fields.items():
            self._pending[(code, name)] = text
        if row >= 0:
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    # --- Qt model ------------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._items)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section].title
        if role == Qt.ItemDataRole.ToolTipRole:
            return _HEADER_HELP.get(COLUMNS[section].title)
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        row = self.return_row(index.row())
        if row is None:
            return Qt.ItemFlag.ItemIsEnabled
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if not self._read_only and self.is_editable(row, index.column()):
            base |= Qt.ItemFlag.ItemIsEditable
        if index.column() == ANSWER_COLUMN and self.can_answer(row):
            base |= Qt.ItemFlag.ItemIsEditable
        return base

    @staticmethod
    def is_editable(row: ReturnRow, column: int) -> bool:
        field = COLUMNS[column].field
        if field is None:
            return False
        if field in ("numerator", "denominator"):
            return row.indicator.rules.has_fraction
        if field == "value":
            return not row.indicator.rules.has_fraction
        return True

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        item = self._items[index.row()]
        if isinstance(item, SectionRow):
            return self._section_data(item, index.column(), role)
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.display_text(item, column)
        if role == Qt.ItemDataRole.EditRole:
            return self.edit_text(item, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(item, column)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            text = self.display_text(item, column) or "blank"
            problems = self.cell_problems(item, column)
            notes = [f"{p.severity.value}: {p.message}" for p in problems]
            if column == 0 and item.query is not None:
                notes.append(f"query: {item.query.question}")
            return "; ".join([text, *notes])
        if role == Qt.ItemDataRole.DecorationRole:
            return self._icon(item, column)
        if role == Qt.ItemDataRole.BackgroundRole:
            return self._background(item, column)
        if role == Qt.ItemDataRole.ForegroundRole:
            if COLUMNS[column].title == "RAG" and item.rag:
                return rag_colour(item.rag)
            if column in FIELD_COLUMN.values() and not self.is_editable(item, column):
                return QApplication.palette().placeholderText()
            if column == ANSWER_COLUMN and item.query and not item.query.answered:
                return QApplication.palette().placeholderText()  # the prompt to answer
            return None
        if role == Qt.ItemDataRole.FontRole and column == QUERY_COLUMN and item.query:
            font = QApplication.font()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and COLUMNS[column].numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == ROW_ROLE:
            return item
        return None

    def _section_data(self, item: SectionRow, column: int, role: int) -> Any:
        if column == 0 and role in (
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.AccessibleTextRole,
        ):
            return item.title
        if role == Qt.ItemDataRole.FontRole:
            font = QApplication.font()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.BackgroundRole:
            return QApplication.palette().alternateBase()
        return None

    def _pending_text(self, row: ReturnRow, field: str) -> tuple[bool, str | None]:
        key = (row.code, field)
        return (key in self._pending, self._pending.get(key))

    def display_text(self, row: ReturnRow, column: int) -> str:
        col = COLUMNS[column]
        rules = row.indicator.rules
        if col.field:
            pending, text = self._pending_text(row, col.field)
            if pending:
                return text or ""
        if col.title == "Query":
            return row.query.question if row.query else ""
        if col.title == "Answer":
            return self._answer_text(row)
        if col.title == "Code":
            return row.code
        if col.title == "Indicator":
            return row.indicator.title
        if col.title == "Numerator":
            return row.symbol if row.symbol and rules.has_fraction else _count(row.numerator)
        if col.title == "Denominator":
            return _count(row.denominator)
        if col.title == "Value":  # the unit beside the number, never typed by the user
            if row.symbol or row.value is None:
                return row.symbol or ""
            return _numbers(row.value, rules.decimals) + rules.unit.suffix.replace(" per ", " /")
        if col.title == "Target":
            return _numbers(rules.target, rules.decimals)
        if col.title == "RAG":
            return row.rag.label if row.rag else ("—" if rules.target is None else "")
        if col.title == "vs previous":
            return direction_label(row.value, row.previous_value, rules.polarity) or ""
        if col.title == "vs year ago":
            return direction_label(row.value, row.year_earlier_value, rules.polarity) or ""
        if col.title == "Commentary":
            return row.commentary or ""
        if col.title == "Explanation":
            return row.explanation or ""
        return ""

    def _answer_text(self, row: ReturnRow) -> str:
        if row.query is None:
            return ""
        pending, text = self._pending_text(row, "answer")
        if pending:
            return text or ""
        if row.query.answered:
            return row.query.answer or ""
        return "Type your answer…" if self.can_answer(row) else "not answered yet"

    def edit_text(self, row: ReturnRow, column: int) -> str:
        if column == ANSWER_COLUMN:
            pending, text = self._pending_text(row, "answer")
            if pending:
                return text or ""
            return (row.query.answer or "") if row.query else ""
        field = COLUMNS[column].field
        if field is None:
            return ""
        pending, text = self._pending_text(row, field)
        if pending:
            return text or ""
        if field in ("value", "numerator") and row.symbol:
            return row.symbol
        value = getattr(row, field)
        if value is None:
            return ""
        return value if isinstance(value, str) else canonical_text(value)

    def cell_problems(self, row: ReturnRow, column: int) -> list[Problem]:
        return [p for p in row.problems if problem_column(row, p) == column]

    def _tooltip(self, row: ReturnRow, column: int) -> str | None:
        lines = [
            f"{p.severity.value.capitalize()}: {p.message}" for p in self.cell_problems(row, column)
        ]
        title = COLUMNS[column].title
        if row.query is not None and title in ("Code", "Query", "Answer"):
            lines += _query_tooltip(row, title, answerable=self.can_answer(row))
        if title == "Indicator":
            lines.insert(0, row.indicator.title)
            if row.help:
                lines.append(row.help)
        rules = row.indicator.rules
        if title == "Numerator" and rules.numerator_label:
            lines.append(f"Numerator: {rules.numerator_label}")
        if title == "Denominator" and rules.denominator_label:
            lines.append(f"Denominator: {rules.denominator_label}")
        if title == "Value":
            lines.append(f"Unit: {rules.unit.value}")
            if rules.has_fraction:
                lines.append("Worked out from the numerator and denominator.")
        if title in ("vs previous", "vs year ago"):
            earlier = row.previous_value if title == "vs previous" else row.year_earlier_value
            lines.append(
                "No earlier figure to compare with."
                if earlier is None
                else f"Earlier figure: {format_number(earlier, rules.decimals)}"
            )
        return "\n".join(lines) or None

    def _worst(self, row: ReturnRow, column: int) -> Severity | None:
        # A blank cell is work to do, not a mistake: it is counted "to enter", not marked red.
        problems = [p for p in self.cell_problems(row, column) if p.rule != "required"]
        if any(p.severity is Severity.ERROR for p in problems):
            return Severity.ERROR
        return Severity.WARNING if problems else None

    def _icon(self, row: ReturnRow, column: int) -> QIcon | None:
        style = QApplication.style()
        if row.query is not None and column == QUERY_COLUMN:
            return style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxQuestion)
        worst = self._worst(row, column)
        if worst is None:
            return None
        pixmap = (
            QStyle.StandardPixmap.SP_MessageBoxCritical
            if worst is Severity.ERROR
            else QStyle.StandardPixmap.SP_MessageBoxWarning
        )
        return style.standardIcon(pixmap)

    def _background(self, row: ReturnRow, column: int) -> QBrush | None:
        if column in (QUERY_COLUMN, ANSWER_COLUMN) and row.query is not None:
            # A query to answer is tinted like a warning; an answered one like the alternate rows.
            if column == ANSWER_COLUMN and self.can_answer(row) and not row.query.answered:
                colour = QColor(rag_colour(Rag.AMBER))
                colour.setAlpha(70 if is_dark() else 40)
                return QBrush(colour)
            return QApplication.palette().alternateBase()
        worst = self._worst(row, column)
        if worst is None:
            return None
        # A tint of the RAG hue behind the cell; the icon and tooltip carry the meaning.
        colour = QColor(rag_colour(Rag.RED if worst is Severity.ERROR else Rag.AMBER))
        colour.setAlpha(70 if is_dark() else 40)
        return QBrush(colour)

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not (self.flags(index) & Qt.ItemFlag.ItemIsEditable):
            return False
        row = self.return_row(index.row())
        if row is not None and index.column() == ANSWER_COLUMN:
            text = str(value).strip() if value is not None else ""
            if text == self.edit_text(row, ANSWER_COLUMN):
                return False
            self.answer_requested.emit(row.code, text)
            return True
        field = COLUMNS[index.column()].field
        if row is None or field is None:
            return False
        text = str(value).strip() if value is not None else ""
        if text == self.edit_text(row, index.column()):
            return False  # nothing changed: no save, no undo step
        self.edit_requested.emit(row.code, field_change(row, field, text))
        return True


def _query_tooltip(row: ReturnRow, title: str, *, answerable: bool) -> list[str]:
    query = row.query
    assert query is not None
    asked = f"asked on revision {query.asked_revision} by {query.asked_by}"
    lines = [f"The coordinator's query ({asked}):", query.question]
    if query.answered:
        lines += [f"Answer (revision {query.answer_revision}):", query.answer or ""]
    elif answerable:
        lines.append("Type your answer in the Answer column; it is needed before you submit.")
    else:
        lines.append("Not answered yet: the service answers it in its next revision.")
    return lines


def field_change(row: ReturnRow, field: str, text: str) -> dict[str, str | None]:
    """The entry fields to save for text typed into one cell ("[x]" becomes a symbol)."""
    from skp_desktop.domain.values import parse_symbol

    if field in ("numerator", "denominator", "value") and parse_symbol(text) is not None:
        return {"symbol": text}
    if field in ("numerator", "denominator") and row.symbol and text:
        return {"symbol": None, field: text}
    return {field: text or None}


_HEADER_HELP = {
    "Numerator": "For rates: the count on top of the fraction. Type a number, or [x] / [z].",
    "Denominator": "For rates: the count underneath. Must be more than 0.",
    "Value": "Counts and scores are typed here; rates are worked out for you.",
    "RAG": "Against the target: ● Green on target, ▲ Amber close, ■ Red off target.",
    "vs previous": "Direction of travel against the previous period; the arrow follows the "
    "number, the word says whether that is better.",
    "vs year ago": "Direction of travel against the same period a year earlier.",
    "Explanation": "Every warning needs an explanation before the return can be submitted.",
    "Query": "The coordinator's question on the figure, from the revision that was returned.",
    "Answer": "Your answer to the coordinator's query; every query needs one before you submit.",
}


class CellEditor(QLineEdit):
    """The line editor for a cell; it says what is wrong while people type."""


class ReturnGridDelegate(QStyledItemDelegate):
    """Editors that check as people type; Enter commits and moves down, Tab commits and moves
    right (the view decides where, as Excel does)."""

    live_message = Signal(str)  # empty when the typed text would be accepted
    enter_pressed = Signal()
    tab_pressed = Signal(bool)  # forward; Ctrl+Tab leaves the grid
    leave_pressed = Signal(bool)  # forward

    def __init__(self, model: ReturnGridModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = model

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: _Index) -> QWidget:
        editor = CellEditor(parent)
        editor.setFrame(False)
        column = COLUMNS[index.column()]
        row = self._model.return_row(index.row())
        # only an indicator's row is editable (flags()); a section heading never gets an editor
        assert row is not None
        editor.setAccessibleName(f"{column.title} of {row.code}")
        if column.numeric:
            editor.setAlignment(Qt.AlignmentFlag.AlignRight)
        editor.textChanged.connect(lambda text: self._check(editor, row, column, text))
        return editor

    def _check(self, editor: CellEditor, row: ReturnRow | None, column: Column, text: str) -> None:
        if row is None or column.field is None:
            return
        refusals = preview_change(row, field_change(row, column.field, text.strip()))
        message = "; ".join(r.message for r in refusals)
        editor.setToolTip(message)
        editor.setProperty("invalid", bool(refusals))
        editor.setStyleSheet("QLineEdit { border: 2px solid #c0362c; }" if refusals else "")
        self.live_message.emit(f"{row.code} {column.title.lower()}: {message}" if message else "")

    def setEditorData(self, editor: QWidget, index: _Index) -> None:
        # Qt refreshes open editors whenever a save lands: what was typed meanwhile stays.
        if isinstance(editor, QLineEdit) and not editor.isModified():
            editor.setText(str(index.data(Qt.ItemDataRole.EditRole) or ""))

    def setModelData(self, editor: QWidget, model: QAbstractItemModel, index: _Index) -> None:
        if isinstance(editor, QLineEdit):
            model.setData(index, editor.text(), Qt.ItemDataRole.EditRole)

    def eventFilter(self, editor: QObject, event: QEvent) -> bool:
        if isinstance(event, QKeyEvent) and event.type() == QKeyEvent.Type.KeyPress:
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.live_message.emit("")  # first: committing may put a refusal there
                self.commitData.emit(editor)
                self.closeEditor.emit(editor, QStyledItemDelegate.EndEditHint.NoHint)
                self.enter_pressed.emit()
                return True
            if event.key() in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab):
                forward = event.key() == Qt.Key.Key_Tab and not (
                    event.modifiers() & Qt.KeyboardModifier.ShiftModifier
                )
                leaving = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
                self.live_message.emit("")
                self.commitData.emit(editor)
                self.closeEditor.emit(editor, QStyledItemDelegate.EndEditHint.NoHint)
                (self.leave_pressed if leaving else self.tab_pressed).emit(forward)
                return True
            if event.key() == Qt.Key.Key_Escape:
                self.live_message.emit("")
        return super().eventFilter(editor, event)


FROZEN_COLUMNS = 2  # Code and Indicator stay in view when the grid scrolls sideways


class FrozenColumns(QWidget):
    """Code and Indicator drawn over the grid's left edge while it is scrolled sideways, as
    Excel's Freeze Panes: the same cells, drawn by the grid's delegate, never a second table
    (a screen reader meets the grid's own cells once)."""

    def __init__(self, grid: ReturnGridView) -> None:
        super().__init__(grid)
        self._grid = grid
        self.setObjectName("frozenColumns")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.Base)
        self.hide()

    @property
    def width_wanted(self) -> int:
        return sum(self._grid.columnWidth(c) for c in range(FROZEN_COLUMNS))

    def place(self) -> None:
        """Shown over the grid's left edge only while it is scrolled sideways."""
        grid = self._grid
        scrolled = grid.horizontalScrollBar().value() > 0
        self.setVisible(scrolled)
        if not scrolled:
            return
        frame = grid.frameWidth()
        viewport = grid.viewport().geometry()
        rows = grid.model().rowCount()
        last = grid.rowViewportPosition(rows - 1) + grid.rowHeight(rows - 1) if rows else 0
        bottom = min(viewport.bottom(), viewport.top() + last)  # down to the last row only
        self.setGeometry(frame, frame, self.width_wanted + 1, bottom - frame + 1)
        self.raise_()
        self.update()

    def cell_rect(self, row: int, column: int) -> QRect:
        """Where a frozen cell is drawn, in the strip's coordinates."""
        grid = self._grid
        header = grid.horizontalHeader().height()
        top = grid.rowViewportPosition(row) + header
        left = sum(grid.columnWidth(c) for c in range(column))
        width = grid.columnWidth(column)
        if grid.columnSpan(row, 0) > 1 and column == 0:
            width = self.width_wanted
        return QRect(left, top, width, grid.rowHeight(row))

    def paintEvent(self, event: QPaintEvent) -> None:
        grid = self._grid
        model = grid.model()
        painter = QPainter(self)
        header = grid.horizontalHeader()
        for column in range(FROZEN_COLUMNS):  # the headers, as the grid's header draws them
            header_option = QStyleOptionHeader()
            header_option.initFrom(header)
            header_option.rect = QRect(
                sum(grid.columnWidth(c) for c in range(column)),
                0,
                grid.columnWidth(column),
                header.height(),
            )
            header_option.text = str(model.headerData(column, Qt.Orientation.Horizontal))
            header_option.section = column
            header.style().drawControl(
                QStyle.ControlElement.CE_Header, header_option, painter, header
            )
        painter.setClipRect(QRect(0, header.height(), self.width(), self.height()))
        first = max(grid.rowAt(0), 0)
        last = grid.rowAt(grid.viewport().height())
        last = model.rowCount() - 1 if last < 0 else last
        current = grid.currentIndex()
        selection = grid.selectionModel()
        pen = QPen(grid.palette().color(QPalette.ColorRole.Mid))
        for row in range(first, last + 1):
            spanned = grid.columnSpan(row, 0) > 1
            for column in range(1 if spanned else FROZEN_COLUMNS):
                index = model.index(row, column)
                option = QStyleOptionViewItem()
                grid.init_item_option(option)
                option.rect = self.cell_rect(row, column)
                if selection.isSelected(index):
                    option.state |= QStyle.StateFlag.State_Selected
                if index == current:
                    option.state |= QStyle.StateFlag.State_HasFocus
                grid.itemDelegate().paint(painter, option, index)
                painter.setPen(pen)
                painter.drawRect(option.rect.adjusted(0, 0, -1, -1))
        painter.setPen(QPen(grid.palette().color(QPalette.ColorRole.Dark), 2))
        painter.drawLine(self.width() - 1, 0, self.width() - 1, self.height())
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        """A click on a frozen cell chooses that cell, as on the grid."""
        grid = self._grid
        y = event.position().toPoint().y() - grid.horizontalHeader().height()
        row = grid.rowAt(y)
        x = event.position().toPoint().x()
        column = 0 if x < grid.columnWidth(0) else 1
        if row >= 0:
            grid.setFocus(Qt.FocusReason.MouseFocusReason)
            grid.setCurrentIndex(grid.model().index(row, column))


class ReturnGridView(QTableView):
    """The grid: typing starts editing, Enter moves down, Tab moves right, F2 edits.

    As in Excel, Enter after a run of Tabs goes back to the column where the run began, on
    the next row. Tab keeps to the cells; Ctrl+Tab (and F6) leave the grid, and so does Tab
    from its last cell.
    """

    paste_requested = Signal(str)
    key_refused = Signal(str)  # a typed key no cell here can take: where values go instead

    def __init__(self, model: ReturnGridModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self._grid_model = model  # model() is typed as any QAbstractItemModel
        self.setProperty(KEEPS_TAB, True)
        self._run_column: int | None = None  # where the current run of Tabs began
        self.grid_delegate = ReturnGridDelegate(model, self)
        self.setItemDelegate(self.grid_delegate)
        self.grid_delegate.enter_pressed.connect(self.enter_move)
        self.grid_delegate.tab_pressed.connect(self.tab_move)
        self.grid_delegate.leave_pressed.connect(lambda forward: leave(self, forward=forward))
        self.setEditTriggers(
            QAbstractItemView.EditTrigger.AnyKeyPressed
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.DoubleClicked
        )
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ContiguousSelection)
        self.setTabKeyNavigation(True)
        self.setWordWrap(False)
        self.setAlternatingRowColors(False)
        self.verticalHeader().setVisible(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for number, column in enumerate(COLUMNS):
            header.resizeSection(number, column.width)
        model.modelReset.connect(self._span_sections)
        self.frozen = FrozenColumns(self)
        self.horizontalScrollBar().valueChanged.connect(lambda _v: self.frozen.place())
        self.verticalScrollBar().valueChanged.connect(lambda _v: self.frozen.place())
        header.sectionResized.connect(lambda *_a: self.frozen.place())
        self.selectionModel().currentChanged.connect(lambda *_a: self.frozen.update())
        self.selectionModel().selectionChanged.connect(lambda *_a: self.frozen.update())
        model.dataChanged.connect(lambda *_a: self.frozen.update())
        model.modelReset.connect(lambda: self.frozen.place())

    def grid_model(self) -> ReturnGridModel:
        """The grid's own model, with its rows' types (the one given when it was made)."""
        return self._grid_model

    def init_item_option(self, option: QStyleOptionViewItem) -> None:
        """The grid's own cell style, for the frozen columns drawn over it."""
        self.initViewItemOption(option)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.frozen.place()

    def current_cell_rect(self) -> QRect | None:
        """Where the current cell shows, in the viewport's coordinates (a frozen one where it
        is drawn over the grid), for the focus ring."""
        index = self.currentIndex()
        if not index.isValid():
            return None
        if index.column() < FROZEN_COLUMNS and self.frozen.isVisible():
            rect = self.frozen.cell_rect(index.row(), index.column())
            rect.translate(0, -self.horizontalHeader().height())
            return rect
        rect = self.visualRect(index)
        if self.frozen.isVisible() and rect.left() < self.frozen.width_wanted:
            rect.setLeft(self.frozen.width_wanted)
        return rect

    def scrollTo(
        self,
        index: _Index,
        hint: QAbstractItemView.ScrollHint = QAbstractItemView.ScrollHint.EnsureVisible,
    ) -> None:
        """Bring a cell into view beside the frozen columns, never under them; a frozen cell
        scrolls the grid up or down only."""
        bar = self.horizontalScrollBar()
        across = bar.value()
        super().scrollTo(index, hint)
        if index.column() < FROZEN_COLUMNS:
            bar.setValue(across)
            return
        left = self.columnViewportPosition(index.column())
        frozen = self.frozen.width_wanted
        if bar.value() > 0 and left < frozen:
            bar.setValue(bar.value() - (frozen - left))

    def _span_sections(self) -> None:
        self.clearSpans()
        model = self.grid_model()
        for row in range(model.rowCount()):
            if isinstance(model.item(row), SectionRow):
                self.setSpan(row, 0, 1, len(COLUMNS))

    def move_down(self, column: int | None = None) -> None:
        """Go to the next indicator row, in the same column or in `column`."""
        current = self.currentIndex()
        model = self.grid_model()
        row = current.row() + 1
        while row < model.rowCount() and model.return_row(row) is None:
            row += 1
        if row < model.rowCount():
            self.setCurrentIndex(model.index(row, current.column() if column is None else column))

    def enter_move(self) -> None:
        """Enter: down one row; after a run of Tabs, to the column where the run began."""
        column, self._run_column = self._run_column, None
        self.move_down(column)

    def tab_move(self, forward: bool = True) -> None:
        """Tab (Shift+Tab): the next (previous) cell; from the last (first), out of the grid."""
        current = self.currentIndex()
        if forward and self._run_column is None and current.isValid():
            self._run_column = current.column()
        action = (
            QAbstractItemView.CursorAction.MoveNext
            if forward
            else QAbstractItemView.CursorAction.MovePrevious
        )
        target = self.moveCursor(action, Qt.KeyboardModifier.NoModifier)
        ends = (target.row(), target.column()) < (current.row(), current.column())
        if not forward:
            ends = (target.row(), target.column()) > (current.row(), current.column())
        if not target.isValid() or target == current or ends:
            self._run_column = None
            leave(self, forward=forward)
            return
        self.setCurrentIndex(target)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._run_column = None
        super().mousePressEvent(event)

    def _refuse_key(self, event: QKeyEvent) -> bool:
        """A printable key on a cell that cannot take it: send it to the one cell of the row
        that can, or say where values go. True if handled (never silently dropped)."""
        text = event.text()
        if not text or not text.isprintable():
            return False
        if event.modifiers() & (
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
        ):
            return False
        index = self.currentIndex()
        if not index.isValid() or index.flags() & Qt.ItemFlag.ItemIsEditable:
            return False
        model = self.grid_model()
        row = model.return_row(index.row())
        title = COLUMNS[index.column()].title
        if row is None:
            message = "This is a heading: values go in the indicator rows below it."
        elif model.read_only:
            message = (
                "This revision cannot be changed: choose Reopen to start the next one "
                "(the return's state is above the grid)."
            )
        else:
            takers = [c for c in range(len(COLUMNS)) if model.is_editable(row, c)]
            numeric = [c for c in takers if COLUMNS[c].numeric]
            if COLUMNS[index.column()].numeric and len(numeric) == 1:
                # e.g. a count's Numerator: its figure goes in Value; the typing moves there
                target = model.index(index.row(), numeric[0])
                self.setCurrentIndex(target)
                self.edit(target, QAbstractItemView.EditTrigger.AnyKeyPressed, event)
                self.key_refused.emit(
                    f"{row.code}: {title} takes no figure here, so your typing went to "
                    f"{COLUMNS[numeric[0]].title}."
                )
                return True
            places = " or ".join(COLUMNS[c].title for c in numeric) or "Commentary"
            why = (
                "is worked out from the numerator and denominator"
                if title == "Value"
                else "cannot be typed into"
            )
            message = f"{row.code} {title} {why}: type its figures in {places}."
        self.key_refused.emit(f"{message} (“{text}” was not entered.)")
        return True

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Paste):
            self.paste_requested.emit(QApplication.clipboard().text())
            return
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy_selection()
            return
        editing = self.state() == QAbstractItemView.State.EditingState
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not editing:
            self.enter_move()
            return
        if key in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab) and not editing:
            forward = key == Qt.Key.Key_Tab and not (
                event.modifiers() & Qt.KeyboardModifier.ShiftModifier
            )
            if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
                self._run_column = None
                leave(self, forward=forward)
            else:
                self.tab_move(forward)
            return
        if key in _MOVES:
            self._run_column = None
        if self._refuse_key(event):
            return
        if event.key() == Qt.Key.Key_Delete and self.state() != (
            QAbstractItemView.State.EditingState
        ):
            index = self.currentIndex()
            if index.flags() & Qt.ItemFlag.ItemIsEditable:
                self.model().setData(index, "", Qt.ItemDataRole.EditRole)
            return
        super().keyPressEvent(event)

    def copy_selection(self) -> None:
        """Copy the selected cells as tab-separated text, as spreadsheets expect."""
        indexes = sorted(self.selectedIndexes(), key=lambda i: (i.row(), i.column()))
        if not indexes:
            return
        rows: dict[int, dict[int, str]] = {}
        for index in indexes:
            rows.setdefault(index.row(), {})[index.column()] = str(index.data() or "")
        columns = sorted({i.column() for i in indexes})
        lines = ["\t".join(cells.get(c, "") for c in columns) for _, cells in sorted(rows.items())]
        QApplication.clipboard().setText("\n".join(lines))


_MOVES = {
    Qt.Key.Key_Up,
    Qt.Key.Key_Down,
    Qt.Key.Key_Left,
    Qt.Key.Key_Right,
    Qt.Key.Key_Home,
    Qt.Key.Key_End,
    Qt.Key.Key_PageUp,
    Qt.Key.Key_PageDown,
}


def parse_pasted_block(text: str) -> list[list[str]]:
    """Tab-separated rows as Excel and LibreOffice put them on the clipboard."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    while lines and lines[-1] == "":
        lines.pop()  # spreadsheets end the block with a newline
    return [line.split("\t") for line in lines]


def paste_changes(
    model: ReturnGridModel, start_row: int, start_column: int, text: str
) -> tuple[dict[str, dict[str, str | None]], list[str]]:
    """The entry changes a pasted block makes from a cell on, and why any cell is refused.

    Rows of the block go to successive indicator rows (headings are skipped); a cell that
    lands on a column that cannot be typed into is refused, so the paste is all or nothing.
    """
    changes: dict[str, dict[str, str | None]] = {}
    problems: list[str] = []
    row = start_row
    for line in parse_pasted_block(text):
        while row < model.rowCount() and model.return_row(row) is None:
            row += 1
        target = model.return_row(row)
        if target is None:
            problems.append("the block is taller than the rows left below the cell")
            break
        for offset, cell in enumerate(line):
            column = start_column + offset
            if column >= len(COLUMNS):
                problems.append(f"{target.code}: the block is wider than the grid")
                break
            title = COLUMNS[column].title
            if not model.is_editable(target, column):
                if cell.strip():
                    problems.append(
                        f"{target.code} {title.lower()}: this column cannot be typed into"
                    )
                continue
            field = COLUMNS[column].field
            assert field is not None
            changes.setdefault(target.code, {}).update(field_change(target, field, cell.strip()))
        row += 1
    for code, fields in changes.items():
        target = model.return_row(model.row_of(code))
        assert target is not None
        problems += [f"{r.code} {r.field}: {r.message}" for r in preview_change(target, fields)]
    return changes, problems
