"""The Completeness place: which service has sent which quarter's return, and who to chase.

The matrix says each state in a word with a symbol, and by colour; an overdue return says so in
words. The heatmap draws the same matrix; the chase list (overdue returns, longest first) is
copied as tab-separated text or exported. A submitted return can be accepted or returned with
queries on chosen indicators from here; the review panel shows a return's queries and the
answers, and saves a returned one as a feedback file. The coordinator sets a quarter's due date
on the line under the summary. Database work runs through the desk (ui/operations.py); nothing
here waits on it.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QEvent,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from skp_desktop.domain.errors import SkpError
from skp_desktop.domain.periods import parse_period
from skp_desktop.domain.vocabulary import Step, allows
from skp_desktop.ui.accessibility import row_height
from skp_desktop.ui.chart_view import ChartView
from skp_desktop.ui.dialogs import dialogs
from skp_desktop.ui.due_date_editor import DueDateEditor
from skp_desktop.ui.operations import Change, Changed, Desk
from skp_desktop.ui.pages.completeness_models import (
    CELL_ROLE,
    ChaseModel,
    CompletenessModel,
    _Sorted,
    cell_description,
)
from skp_desktop.ui.pages.shared import NOT_DUE, quarter_range
from skp_desktop.ui.rag_style import is_dark
from skp_desktop.ui.review_panel import NO_SELECTION, ReviewPanel, query_choice

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from skp_desktop.services.completeness import Completeness, CompletenessCell
    from skp_desktop.services.database import Database
    from skp_desktop.services.dto import ReturnQueries, ReturnView
    from skp_desktop.services.due_dates import DueDateInfo
    from skp_desktop.services.exchange_outcomes import ExportResult

EMPTY_CHASE = "Nobody to chase: every return due in these quarters is in."


def _table(name: str, model: QSortFilterProxyModel) -> QTableView:
    table = QTableView()
    table.setAccessibleName(name)
    table.setModel(model)
    table.setSortingEnabled(True)
    table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # the service's own order until asked
    table.setWordWrap(False)
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(row_height(table))
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
    return table


class CompletenessPage(QWidget):
    """Quarters from–to, the matrix (and its heatmap), the chase list, and review buttons."""

    open_return_requested = Signal(str, str)  # service code, period code

    def __init__(self, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.report: Completeness | None = None
        header = QHBoxLayout()
        self.first_picker, self.last_picker = quarter_range(desk.day(), header)
        self.filter_box = QLineEdit()
        self.filter_box.setPlaceholderText("Filter services (Ctrl+F)")
        self.filter_box.setAccessibleName("Filter services")
        self.filter_box.setClearButtonEnabled(True)
        QShortcut(QKeySequence.StandardKey.Find, self, self.filter_box.setFocus)
        self.refresh_button = QPushButton("Refre&sh")
        self.refresh_button.setToolTip("Read the returns again (after an import, for example)")
        header.addSpacing(12)
        header.addWidget(self.filter_box, 1)
        header.addWidget(self.refresh_button)

        self.summary = QLabel("Reading the returns…")
        self.summary.setWordWrap(True)
        self.summary.setAccessibleDescription("Completeness summary")
        self.due_editor = DueDateEditor()

        self.model = CompletenessModel(self)
        self.proxy = _Sorted(self.model, self)
        self.matrix = _table("Returns by service and quarter", self.proxy)
        self.matrix.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.matrix.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.matrix.horizontalHeader().setMinimumSectionSize(150)
        QShortcut(QKeySequence.StandardKey.Copy, self.matrix, self.copy_matrix_selection)
        self.heatmap = ChartView("Drawing the heatmap…", scrollable=True)
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Completeness views")
        self.tabs.addTab(self.matrix, "&Matrix")
        self.tabs.addTab(self.heatmap, "Heatma&p")

        self.review = ReviewPanel()
        self.selected_label = self.review.selected_label
        self.accept_button = self.review.accept_button
        self.query_button = self.review.query_button
        self.open_button = self.review.open_button
        self.feedback_button = self.review.feedback_button
        self._queries_for: tuple[str, str, int | None] | None = None

        self.chase_model = ChaseModel(self)
        self.chase_proxy = _Sorted(self.chase_model, self)
        self.chase = _table("Chase list", self.chase_proxy)
        self.chase.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        chase_header = self.chase.horizontalHeader()
        chase_header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        chase_header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        QShortcut(QKeySequence.StandardKey.Copy, self.chase, self.copy_chase_list)
        self.chase_title = QLabel("<b>Chase list</b>: who owes what, and since when")
        self.chase_empty = QLabel(EMPTY_CHASE)
        self.chase_empty.setWordWrap(True)
        self.copy_button = QPushButton("&Copy")
        self.copy_button.setToolTip(
            "Copy the chase list as tab-separated text, to paste into an email"
        )
        self.export_button = QPushButton("E&xport…")
        self.export_button.setToolTip("Save the chase list as Excel or CSV")
        chase_bar = QHBoxLayout()
        chase_bar.addWidget(self.chase_title, 1)
        chase_bar.addWidget(self.copy_button)
        chase_bar.addWidget(self.export_button)
        chase_box = QWidget()
        chase_layout = QVBoxLayout(chase_box)
        chase_layout.setContentsMargins(0, 0, 0, 0)
        chase_layout.addLayout(chase_bar)
        chase_layout.addWidget(self.chase_empty)
        chase_layout.addWidget(self.chase, 1)

        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.tabs, 1)
        top_layout.addWidget(self.review)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(top)
        splitter.addWidget(chase_box)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.summary)
        layout.addWidget(self.due_editor)
        layout.addWidget(splitter, 1)

        self.first_picker.currentIndexChanged.connect(lambda _i: self.refresh())
        self.last_picker.currentIndexChanged.connect(lambda _i: self.refresh())
        self.refresh_button.clicked.connect(self.refresh)
        self.filter_box.textChanged.connect(self._filter)
        self.matrix.selectionModel().currentChanged.connect(lambda *_: self._on_current())
        self.matrix.doubleClicked.connect(lambda _i: self._open())
        self.tabs.currentChanged.connect(lambda _i: self._draw_heatmap())
        self.accept_button.clicked.connect(self.accept_selected)
        self.query_button.clicked.connect(self.query_selected)
        self.open_button.clicked.connect(self._open)
        self.feedback_button.clicked.connect(self.save_feedback)
        self.copy_button.clicked.connect(self.copy_chase_list)
        self.export_button.clicked.connect(self.export_chase_list)
        self.due_editor.change_requested.connect(self.set_due_date)
        self._stale_heatmap = True
        self._loading = self._again = False
        self._notice = ""  # what the last action did, said before the summary
        desk.changed.connect(self._on_changed)
        desk.database_opened.connect(self._on_database_opened)

    def _on_changed(self, changed: Changed) -> None:
        """Returns or due dates changed elsewhere (the Return page, an import): read afresh
        when on screen; otherwise showing the page reads them."""
        wanted = changed.touches(Change.RETURNS | Change.DUE_DATES)
        if wanted and changed.source is not self and self.isVisible():
            self.refresh()

    def _on_database_opened(self) -> None:
        self._loading = self._again = False  # a read of the one before is dropped
        self._queries_for = None
        if self.isVisible():
            self.refresh()

    # --- loading -------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.refresh()  # imports and reviews elsewhere change the picture: read it afresh

    def current_range(self) -> tuple[str, str]:
        first, last = self.first_picker.currentData(), self.last_picker.currentData()
        if parse_period(last) < parse_period(first):
            first, last = last, first
        return first, last

    def refresh(self) -> None:
        """Read the matrix for the chosen quarters in the background."""
        if self.desk.database() is None:
            return
        if self._loading:
            self._again = True  # the range changed while reading: read again when done
            return
        first, last = self.current_range()
        today = self.desk.day()
        self._loading = True
        self.summary.setText("Reading the returns…")

        def work(db: Database) -> Completeness:
            from skp_desktop.services.completeness import completeness

            return completeness(db, first=first, last=last, today=today)

        def failed(exc: Exception) -> None:
            self._loading = self._again = False
            self.summary.setText(f"Could not read the returns: {exc}")
            self.desk.failed(exc)

        self.desk.query(work, self.show_report, failure=failed)

    def show_report(self, report: Completeness) -> None:
        self._loading = False
        if self._again:
            self._again = False
            self.refresh()
            return
        self.report = report
        current = self.matrix.currentIndex()
        self.model.set_report(report)
        # The service column fits its names; the quarters share the rest (set per reset: the
        # sections are made anew with the model's columns).
        self.matrix.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.ResizeToContents
        )
        self.chase_model.set_cells(report.chase_list())
        self.due_editor.set_dues(report.due_dates, self._writable())
        self.matrix.resizeRowsToContents()
        if current.isValid():
            self.matrix.setCurrentIndex(self.proxy.index(current.row(), current.column()))
        periods = report.periods
        self.summary.setText(
            f"{self._notice}{periods[0].short_label} to {periods[-1].short_label}, as at "
            f"{report.today.strftime('%d/%m/%Y')}: {report.summary()}"
        )
        self._notice = ""
        self._queries_for = None  # a review may have changed them: read them again
        has_chase = bool(report.chase_list())
        self.chase_empty.setVisible(not has_chase)
        self.chase.setVisible(has_chase)
        self.copy_button.setEnabled(has_chase)
        self.export_button.setEnabled(has_chase)
        self._on_current()
        self._stale_heatmap = True
        self._draw_heatmap()

    def _filter(self, text: str) -> None:
        self.proxy.setFilterFixedString(text)
        self.chase_proxy.setFilterFixedString(text)

    # --- heatmap -------------------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            dark = is_dark()
            if dark != getattr(self, "_heatmap_dark", dark):
                self._stale_heatmap = True  # a picture is drawn in the window's theme
                self._draw_heatmap()
            self._heatmap_dark = dark

    def _draw_heatmap(self) -> None:
        """Draw the heatmap when its tab is shown and the matrix changed since."""
        report = self.report
        if (
            report is None
            or not self._stale_heatmap
            or self.tabs.currentWidget() is not self.heatmap
        ):
            return
        self._stale_heatmap = False
        theme = self.desk.chart_theme()
        self.heatmap.show_message("Drawing the heatmap…")

        self.desk.query(
            lambda _db: completeness_heatmap(report, theme),
            lambda figure: self.heatmap.show_figure(figure, report.summary()),
            charts=True,
        )

    # --- review --------------------------------------------------------------------------

    def selected_cell(self) -> CompletenessCell | None:
        index = self.matrix.currentIndex()
        return index.data(CELL_ROLE) if index.isValid() else None

    def _writable(self) -> bool:
        return self.desk.writable

    def _on_current(self) -> None:
        cell = self.selected_cell()
        writable = self._writable()
        if cell is not None:
            self.due_editor.follow(cell.period.code)
        submitted = cell is not None and allows(cell.state, Step.REVIEW)
        self.accept_button.setEnabled(submitted and writable)
        self.query_button.setEnabled(submitted and writable)
        self.open_button.setEnabled(cell is not None and cell.state != NOT_DUE)
        self.feedback_button.setEnabled(
            cell is not None and allows(cell.state, Step.EXPORT_FEEDBACK)
        )
        if cell is None:
            self.selected_label.setText(NO_SELECTION)
        else:
            self.selected_label.setText(cell_description(cell))
        self._load_queries(cell)

    def _load_queries(self, cell: CompletenessCell | None) -> None:
        """Show the queries of the selected return's last returned revision, read behind."""
        db = self.desk.database()
        key = (cell.service.code, cell.period.code, cell.revision) if cell else None
        if key == self._queries_for:
            return
        self._queries_for = key
        if cell is None or db is None or not cell.revision:
            self.review.show_queries(None, None)
            return
        service, period, revision = cell.service.code, cell.period.code, cell.revision

        def work(db: Database) -> ReturnQueries | None:
            from skp_desktop.services.review import return_queries

            return return_queries(db, service=service, period=period)

        def done(queries: ReturnQueries | None) -> None:
            if self._queries_for == key:
                self.review.show_queries(queries, revision)

        self.desk.query(work, done)

    def _open(self) -> None:
        cell = self.selected_cell()
        if cell is not None and cell.state != NOT_DUE:
            self.open_return_requested.emit(cell.service.code, cell.period.code)

    def accept_selected(self) -> None:
        cell = self.selected_cell()
        if cell is None or not allows(cell.state, Step.REVIEW):
            return
        if not dialogs.confirm(
            self,
            "Accept the return",
            f"Accept revision {cell.revision} of {cell.service.name}'s return for "
            f"{cell.period.label}?\n\nAccepted figures count in the partnership workbook.",
        ):
            return
        self._review(cell, None, accept=True)

    def save_feedback(self) -> None:
        """Save the selected returned return with its queries as a feedback file."""
        cell = self.selected_cell()
        if (
            cell is None
            or not allows(cell.state, Step.EXPORT_FEEDBACK)
            or self.desk.database() is None
        ):
            return
        path = dialogs.save_file(
            self,
            "Feedback file for the service",
            f"{cell.service.code}-{cell.period.code}-r{cell.revision}-feedback.xlsx",
            "Excel workbook (*.xlsx)",
        )
        if not path:
            return
        if not path.lower().endswith(".xlsx"):
            path += ".xlsx"
        service, period = cell.service.code, cell.period.code

        def work(db: Database, actor: str) -> ExportResult:
            from skp_desktop.services.exchange import export_feedback

            return export_feedback(db, service=service, period=period, out=path, actor=actor)

        self.desk.change(  # the export is in the history
            work,
            lambda result: self.summary.setText(
                f"Saved the feedback on {cell.service.name}'s return for {cell.period.label} to "
                f"{result.path}: send it to the service to import."
            ),
            changes=Change.HISTORY,
            source=self,
        )

    def query_selected(self) -> None:
        """Read the return's indicators, then ask which to query and what (one dialog)."""
        cell = self.selected_cell()
        if cell is None or not allows(cell.state, Step.REVIEW):
            return
        service, period = cell.service.code, cell.period.code

        def work(db: Database) -> ReturnView:
            from skp_desktop.services.returns import get_return

            return get_return(db, service, period)

        def ask(view: ReturnView) -> None:
            if view.revision != cell.revision:
                self.refresh()  # a newer revision came in meanwhile: look at it first
                return
            answer = dialogs.ask_queries(
                self,
                "Return with a query",
                f"Tick each indicator of {cell.service.name}'s return for {cell.period.label} "
                f"(revision {cell.revision}) that needs checking and type your question; the "
                "service sees it beside the figure and answers it in its next revision. Both "
                "are recorded in the history.",
                [query_choice(row) for row in view.rows],
            )
            if answer is not None:
                self._review(cell, answer.reason, answer.queries)

        self.desk.query(work, ask)

    def _review(
        self,
        cell: CompletenessCell,
        reason: str | None,
        queries: dict[str, str] | None = None,
        *,
        accept: bool = False,
    ) -> None:
        service, period, revision = cell.service.code, cell.period.code, cell.revision
        self.accept_button.setEnabled(False)
        self.query_button.setEnabled(False)

        def work(db: Database, actor: str) -> ReturnView:
            from skp_desktop.services import review

            if accept:
                return review.accept_return(
                    db, service=service, period=period, actor=actor, revision=revision
                )
            return review.return_with_query(
                db,
                service=service,
                period=period,
                reason=reason,
                queries=queries,
                actor=actor,
                revision=revision,
            )

        def done(view: ReturnView) -> None:
            self._notice = (
                f"{view.service.name}'s return for {view.period_label} is now {view.state}. "
            )
            self.refresh()

        def failed(exc: Exception) -> None:
            self._on_current()
            self.desk.failed(exc)

        # an open Return page reads the return again (ui/operations.py)
        changes = Change.RETURNS | Change.HISTORY
        self.desk.change(work, done, changes=changes, failure=failed, source=self)

    # --- due dates -----------------------------------------------------------------------

    def set_due_date(self, period: str, when: date | None) -> None:
        """Set (or, with None, clear) the date a quarter's returns are due by, then re-read."""

        def work(db: Database, actor: str) -> DueDateInfo:
            from skp_desktop.services.due_dates import set_due_date

            return set_due_date(db, period, when, actor)

        def done(due: DueDateInfo) -> None:
            how = "" if due.is_set else ", the usual date"
            self._notice = (
                f"Returns for {due.period.label} are now due by "
                f"{due.due.strftime('%d/%m/%Y')}{how}. "
            )
            self.refresh()

        def failed(exc: Exception) -> None:
            if isinstance(exc, SkpError):
                self.due_editor.show_problem(str(exc))
            else:
                self.due_editor.show_problem("something went wrong")
                self.desk.failed(exc)

        changes = Change.DUE_DATES | Change.HISTORY
        self.desk.change(work, done, changes=changes, failure=failed, source=self)

    # --- copy and export -----------------------------------------------------------------

    def chase_text(self) -> str:
        """The chase list rows shown (filtered and sorted as on screen), tab-separated."""
        lines = ["\t".join(ChaseModel.HEADERS)]
        for row in range(self.chase_proxy.rowCount()):
            lines.append(
                "\t".join(
                    str(self.chase_proxy.index(row, column).data() or "")
                    for column in range(len(ChaseModel.HEADERS))
                )
            )
        return "\n".join(lines)

    def copy_chase_list(self) -> None:
        QApplication.clipboard().setText(self.chase_text())
        rows = self.chase_proxy.rowCount()
        self.summary.setText(
            f"Copied the chase list ({rows} return{'s' if rows != 1 else ''}): paste it into "
            "an email or a spreadsheet."
        )

    def copy_matrix_selection(self) -> None:
        indexes = sorted(self.matrix.selectedIndexes(), key=lambda i: (i.row(), i.column()))
        lines: dict[int, list[str]] = {}
        for index in indexes:
            lines.setdefault(index.row(), []).append(str(index.data() or ""))
        QApplication.clipboard().setText("\n".join("\t".join(v) for v in lines.values()))

    def export_chase_list(self) -> None:
        report = self.report
        if report is None or self.desk.database() is None:
            return
        last = report.periods[-1].code if report.periods else "returns"
        path = dialogs.save_file(
            self,
            "Export the chase list",
            f"chase-list-{last}.xlsx",
            "Excel workbook (*.xlsx);;CSV (*.csv)",
        )
        if not path:
            return
        cells = [
            self.chase_proxy.index(row, 0).data(CELL_ROLE)
            for row in range(self.chase_proxy.rowCount())
        ]

        def work(_db: Database) -> int:
            from skp_desktop.services.completeness import export_chase_list

            return export_chase_list(report, path, cells)

        self.desk.query(
            work,
            lambda count: self.summary.setText(
                f"Exported the chase list ({count} return{'s' if count != 1 else ''}) to {path}"
            ),
        )


def completeness_heatmap(report: Completeness, theme: str) -> Figure:
    """The heatmap of the matrix; "not due" cells blank and overdue ones saying so."""
    from skp_desktop.charts.dashboard import heatmap_figure

    # heatmap_figure draws the return states and "not due"; an overdue cell gets the word
    # under its state.
    rows = [service.name for service in report.services]
    columns = [period.short_label for period in report.periods]
    states = [[cell.state for cell in row] for row in report.cells]
    figure = heatmap_figure(rows, columns, states, theme)
    if not rows or not columns:
        return figure
    ax = next(a for a in figure.axes if a.get_gid() == "heatmap")
    texts = {text.get_gid(): text for text in ax.texts}
    for r, row in enumerate(report.cells):
        for c, cell in enumerate(row):
            text = texts.get(f"cell:{r}:{c}")
            if text is not None and cell.state != NOT_DUE and cell.overdue:
                text.set_text(f"{text.get_text()}\noverdue {cell.days_overdue}d")
                text.set_fontweight("bold")
    return figure
