"""The review panel under the completeness matrix: the selected return, its queries and the
answers, and what the coordinator can do with it (open, accept, return with query, feedback)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from skp_desktop.domain.values import format_number
from skp_desktop.services.dto import ReturnQueries, ReturnRow
from skp_desktop.ui.accessibility import row_height
from skp_desktop.ui.dialog_boxes import QueryChoice
from skp_desktop.ui.rows_model import RowsModel

QUERY_HEADERS = ("Indicator", "Query", "Answer")
NO_SELECTION = "Select a return in the matrix to accept it or open it."


def query_choice(row: ReturnRow) -> QueryChoice:
    """An indicator as the query dialog offers it: code, title and the value it holds."""
    rules = row.indicator.rules
    if row.symbol:
        shown = row.symbol
    elif row.value is None:
        shown = "blank"
    else:
        shown = format_number(row.value, rules.decimals) + rules.unit.suffix
    return QueryChoice(row.code, row.indicator.title, shown)


def answer_text(queries: ReturnQueries, code: str) -> str:
    query = queries.query(code)
    if query is None or not query.answered:
        return "— not answered yet"
    return query.answer or ""


class ReviewPanel(QWidget):
    """What the selected return is, the queries of its last returned revision, and buttons."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.selected_label = QLabel(NO_SELECTION)
        self.selected_label.setWordWrap(True)
        self.open_button = QPushButton("Open retur&n")
        self.open_button.setToolTip("See the selected return's values on the Return page")
        self.feedback_button = QPushButton("Feed&back file…")
        self.feedback_button.setToolTip(
            "Save the returned return with its queries as a file for the service to import"
        )
        self.query_button = QPushButton("Return with &query…")
        self.query_button.setToolTip(
            "Send the selected submitted return back with questions on chosen indicators"
        )
        self.accept_button = QPushButton("&Accept")
        self.accept_button.setToolTip(
            "Accept the selected submitted return: it then counts in the merge"
        )
        bar = QHBoxLayout()
        bar.addWidget(self.selected_label, 1)
        for button in (self.open_button, self.feedback_button, self.query_button):
            button.setEnabled(False)
            bar.addWidget(button)
        self.accept_button.setEnabled(False)
        bar.addWidget(self.accept_button)

        self.queries_label = QLabel()
        self.queries_label.setWordWrap(True)
        self.queries_label.setAccessibleDescription("Queries on the selected return")
        self.queries_model = RowsModel(QUERY_HEADERS, parent=self)
        self.queries_table = QTableView()
        self.queries_table.setAccessibleName("Queries and answers")
        self.queries_table.setModel(self.queries_model)
        self.queries_table.setWordWrap(False)
        self.queries_table.verticalHeader().setVisible(False)
        self.queries_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.queries_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.resizeSection(0, 100)
        header.resizeSection(1, 320)
        header.setStretchLastSection(True)
        self._row_height = row_height(self.queries_table)
        self.queries_table.verticalHeader().setDefaultSectionSize(self._row_height)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.queries_label)
        layout.addWidget(self.queries_table)
        self.show_queries(None, None)

    def show_queries(self, queries: ReturnQueries | None, latest_revision: int | None) -> None:
        """The queries of the last returned revision and the answers of the ones after it."""
        shown = queries is not None and bool(queries.queries or queries.reason)
        self.queries_label.setVisible(shown)
        self.queries_table.setVisible(bool(queries and queries.queries))
        if queries is None or not shown:
            self.queries_model = RowsModel(QUERY_HEADERS, parent=self)
            self.queries_table.setModel(self.queries_model)
            return
        count = len(queries.queries)
        asked = f"{count} quer{'y' if count == 1 else 'ies'}" if count else "a query"
        when = f" on {queries.returned_at:%d/%m/%Y}" if queries.returned_at else ""
        text = f"Revision {queries.asked_revision} was returned {queries.returned_how}{when} "
        text += f"with {asked}"
        text += f": “{queries.reason}”." if queries.reason else "."
        if latest_revision is not None and latest_revision > queries.asked_revision:
            left = len(queries.unanswered)
            text += (
                f" Revision {latest_revision} answers them"
                + (f" ({left} not answered)." if left else ".")
                if count
                else f" Revision {latest_revision} follows it."
            )
        elif count:
            text += " The service answers them in its next revision."
        self.queries_label.setText(text)
        self.queries_model = RowsModel(
            QUERY_HEADERS,
            [(q.code, q.question, answer_text(queries, q.code)) for q in queries.queries],
            parent=self,
        )
        self.queries_table.setModel(self.queries_model)
        self._fit_rows(len(queries.queries))

    def _fit_rows(self, rows: int) -> None:
        """As tall as its rows, up to four: the matrix above keeps the room."""
        header = self.queries_table.horizontalHeader().sizeHint().height()
        self.queries_table.setFixedHeight(header + self._row_height * max(1, min(rows, 4)) + 4)
