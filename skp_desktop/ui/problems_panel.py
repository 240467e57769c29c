"""The problems list: every open error and warning of the return, and the coordinator's
queries; choosing one goes to its cell."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QApplication, QListWidget, QListWidgetItem, QStyle

from skp_desktop.domain.validation import Severity
from skp_desktop.domain.vocabulary import ReturnState
from skp_desktop.services.dto import ReturnView
from skp_desktop.ui.return_grid import ANSWER_COLUMN, FIELD_COLUMN, QUERY_COLUMN, problem_column

_TARGET = Qt.ItemDataRole.UserRole + 1


class ProblemsPanel(QListWidget):
    """Errors first, then warnings; Enter or a click on one selects its cell."""

    go_to = Signal(str, int)  # indicator code, grid column

    def __init__(self) -> None:
        super().__init__()
        self.setAccessibleName("Problems")
        self.setWordWrap(True)
        self.itemActivated.connect(self._activate)
        self.itemClicked.connect(self._activate)

    def show_view(self, view: ReturnView | None) -> None:
        self.clear()
        if view is None:
            return
        style = QApplication.style()
        entries = [(row, p) for row in view.rows for p in row.problems]
        entries.sort(key=lambda rp: rp[1].severity is not Severity.ERROR)
        for row, problem in entries:
            icon = style.standardIcon(
                QStyle.StandardPixmap.SP_MessageBoxCritical
                if problem.severity is Severity.ERROR
                else QStyle.StandardPixmap.SP_MessageBoxWarning
            )
            words = "Error" if problem.severity is Severity.ERROR else "Warning"
            item = QListWidgetItem(icon, f"{words} · {row.code} {problem.field}: {problem.message}")
            item.setData(_TARGET, (row.code, problem_column(row, problem)))
            self.addItem(item)
        for row in view.rows:
            if row.needs_explanation:
                style_icon = style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxQuestion)
                item = QListWidgetItem(
                    style_icon, f"To explain · {row.code}: the warning needs an explanation"
                )
                item.setData(_TARGET, (row.code, FIELD_COLUMN["explanation"]))
                self.addItem(item)
        if self.count() == 0:
            item = QListWidgetItem("No problems: every value passes its checks.")
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.addItem(item)
        self._add_queries(view)

    def _add_queries(self, view: ReturnView) -> None:
        """The coordinator's queries: to answer (first), answered, or waiting for a reopen."""
        queries = view.queries
        if queries is None:
            return
        answering = (
            view.state == ReturnState.DRAFT and (view.revision or 0) > queries.asked_revision
        )
        icon = QApplication.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxQuestion)
        rows = sorted(
            (row for row in view.rows if row.query is not None),
            key=lambda row: bool(row.query and row.query.answered),
        )
        for row in rows:
            query = row.query
            assert query is not None
            if query.answered:
                text = f"Query · {row.code}: {query.question} — answered: {query.answer}"
                column = ANSWER_COLUMN
            elif answering:
                text = f"Query to answer · {row.code}: {query.question}"
                column = ANSWER_COLUMN
            else:
                text = (
                    f"Query · {row.code}: {query.question} — answered in the next revision "
                    "(Reopen starts it)"
                )
                column = QUERY_COLUMN
            item = QListWidgetItem(icon, text)
            item.setToolTip(text)
            item.setData(_TARGET, (row.code, column))
            self.addItem(item)

    def _activate(self, item: QListWidgetItem) -> None:
        target = item.data(_TARGET)
        if target:
            self.go_to.emit(*target)
