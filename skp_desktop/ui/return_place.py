"""The Return place's work: the open return, its side panels and its trend, the actions on it.

The window gives this a place and the side panel; everything a service manager does to a
return (typing, pasting, submitting, reopening, exporting) is wired and done here, through the
return controller (saves, in order) and the desk (ui/operations.py).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from skp_desktop import APP_NAME
from skp_desktop.domain.vocabulary import Step, allows
from skp_desktop.ui.definition_panel import DefinitionPanel
from skp_desktop.ui.dialogs import dialogs
from skp_desktop.ui.operations import Change, Changed, Desk
from skp_desktop.ui.pages.return_page import ReturnPage
from skp_desktop.ui.problems_panel import ProblemsPanel
from skp_desktop.ui.return_controller import ReturnController

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from PySide6.QtGui import QUndoStack

    from skp_desktop.domain.validation import Problem
    from skp_desktop.services.database import Database
    from skp_desktop.services.dto import ReturnRow, ReturnView
    from skp_desktop.services.exchange_outcomes import ExportResult
    from skp_desktop.ui.chart_view import Picture
    from skp_desktop.ui.settings import Settings


class ReturnPlace(QObject):
    """The Return page, the Indicator and Problems panels, and the controller behind them."""

    title_changed = Signal(str)  # the window's title: service, period, state
    side_wanted = Signal(object)  # a side panel to bring forward
    wanted = Signal()  # show the Return place (a return was opened from elsewhere)
    view_shown = Signal()  # a return (or a new state of it) is on the page

    def __init__(
        self,
        parent: QObject,
        desk: Desk,
        settings: Settings,
        undo_stack: QUndoStack,
        today: date | None = None,
    ) -> None:
        super().__init__(parent)
        self.desk = desk
        self.settings = settings
        self._last_saved: datetime | None = None
        self.controller = ReturnController(self, undo_stack=undo_stack, desk=desk)
        self.page = ReturnPage(today=today)
        self.definition_panel = DefinitionPanel()
        self.problems_panel = ProblemsPanel()

        page = self.page
        page.selection_changed.connect(self.open_return)
        page.row_selected.connect(self.definition_panel.show_row)
        # The trend waits until the selection rests: arrowing down the grid draws nothing, and
        # matplotlib's first import does not compete with loading the return.
        self._trend_row: ReturnRow | None = None
        self._trend_wanted = ""
        self._trend_timer = QTimer(self)
        self._trend_timer.setSingleShot(True)
        self._trend_timer.setInterval(400)
        self._trend_timer.timeout.connect(lambda: self._show_trend(self._trend_row))
        # A wider or narrower side panel gets the trend drawn again to its width.
        self.definition_panel.chart.resized.connect(self._redraw_trend_soon)
        page.row_selected.connect(self._trend_soon)
        page.submit_requested.connect(self.submit)
        page.reopen_requested.connect(self.reopen)
        page.export_requested.connect(self.export_return)
        page.model.edit_requested.connect(self._edit)
        page.model.answer_requested.connect(self._answer)
        page.grid.paste_requested.connect(self.paste)
        page.setEnabled(False)
        self.problems_panel.go_to.connect(page.go_to)
        self.controller.view_changed.connect(self.show_view)
        self.controller.saved.connect(self._on_saved)
        self.controller.message.connect(page.show_message)
        self.controller.failed.connect(desk.failed)
        desk.changed.connect(self._on_changed)

    def _on_changed(self, changed: Changed) -> None:
        """A return changed elsewhere (accepted on Completeness, imported), a definitions
        version was published, or a service or its form changed: the open return is read
        again (its rows follow the form's sections, order and help)."""
        controller = self.controller
        if changed.source is controller or controller.db is None:
            return
        if changed.touches(Change.RETURNS | Change.DEFINITIONS | Change.CATALOGUE):
            controller.reload()

    def reload(self) -> None:
        self.controller.reload()

    def database_opened(self) -> None:
        """The database is open (the controller has it): a trend asked for while it opened is
        drawn now."""
        if self._trend_row is not None:
            self._trend_soon(self._trend_row)

    # --- the trend -----------------------------------------------------------------------

    def _redraw_trend_soon(self) -> None:
        if self._trend_row is not None:
            self._trend_soon(self._trend_row)

    def _trend_soon(self, row: ReturnRow | None) -> None:
        self._trend_row = row
        self._trend_timer.start()

    def _show_trend(self, row: ReturnRow | None) -> None:
        """Draw the selected indicator's trend in the side panel, off the UI thread."""
        chart = self.definition_panel.chart
        db = self.desk.database()
        if row is not None and db is None and self.controller.pending is not None:
            chart.show_message("The trend is drawn once the database is open.")
            return
        if row is None or db is None or self.controller.key is None:
            chart.show_message("Select an indicator to see its trend.")
            return
        code, service, theme = row.code, self.controller.key[0], self.desk.chart_theme()
        self._trend_wanted = code
        size = chart.fitting_size((3.4, 2.6))  # before the message replaces the canvas
        ratio = chart.devicePixelRatioF()
        chart.show_message("Drawing the trend…")

        def work(db: Database) -> tuple[str, Figure, Picture, str]:
            # Pixels too: drawing a trend takes 100-200 ms, which the grid's typing must not wait
            # for on the UI thread.
            from skp_desktop.charts.raster import rasterise
            from skp_desktop.charts.trend import empty_figure, trend_figure
            from skp_desktop.services.trends import indicator_trend
            from skp_desktop.ui.chart_view import Picture
            from skp_desktop.ui.chart_words import describe_trend

            series = indicator_trend(db, code, service=service)
            if not series.has_values:
                description = f"{code}: no figures yet. The trend appears once values are entered."
                figure = empty_figure(description, theme=theme, size=size)
            else:
                description = describe_trend(series)  # the figures, as the chart's table
                figure = trend_figure(series, theme=theme, size=size, compact=True)
            return code, figure, Picture.from_raster(rasterise(figure, scale=ratio)), description

        def done(result: tuple[str, Figure, Picture, str]) -> None:
            code_drawn, figure, picture, description = result
            if code_drawn == self._trend_wanted:  # the selection may have moved on
                chart.show_picture(picture, description, figure=figure)

        self.desk.query(work, done, charts=True)

    # --- files ---------------------------------------------------------------------------

    def export_return(self) -> None:
        """Save the open (submitted) return as the Excel return file of docs/contracts.md; a
        returned one as the feedback file its service imports."""
        view = self.controller.view
        if view is None or self.desk.database() is None or view.revision is None:
            return
        feedback = allows(view.state, Step.EXPORT_FEEDBACK)
        name = f"{view.service.code}-{view.period}-r{view.revision}"
        name += "-feedback.xlsx" if feedback else ".xlsx"
        title = "Export the feedback (queries)" if feedback else "Export the return"
        path = dialogs.save_file(self.page, title, name, "Excel workbook (*.xlsx)")
        if not path:
            return

        def work(db: Database, actor: str) -> ExportResult:
            from skp_desktop.services.exchange import export_feedback, export_return

            export = export_feedback if feedback else export_return
            return export(db, service=view.service.code, period=view.period, out=path, actor=actor)

        self.desk.change(
            work,
            lambda result: self.desk.say(f"Exported to {result.path}"),
            changes=Change.HISTORY,  # an export is recorded
            source=self,
        )

    def write_template(self) -> None:
        """A blank return for a service that fills it in Excel or LibreOffice."""
        service, period = self.page.current_selection()
        if not service or not period or self.desk.database() is None:
            return
        path = dialogs.save_file(
            self.page,
            "Blank return (template)",
            f"{service}-{period}-blank.xlsx",
            "Excel (*.xlsx)",
        )
        if not path:
            return

        def work(db: Database, actor: str) -> ExportResult:
            from skp_desktop.services.exchange import write_template

            return write_template(db, service=service, period=period, out=path, actor=actor)

        self.desk.change(
            work,
            lambda result: self.desk.say(f"Blank return saved to {result.path}"),
            changes=Change.HISTORY,
            source=self,
        )

    # --- the return ----------------------------------------------------------------------

    def show_return_at(self, service: str, period: str) -> None:
        """Go to the Return place with a service's return for a period open."""
        page = self.page
        page.select_period(period)
        page.service_picker.blockSignals(True)  # opened once, below
        page.service_picker.setCurrentIndex(max(0, page.service_picker.findData(service)))
        page.service_picker.blockSignals(False)
        self.wanted.emit()
        self.open_return(service, period)

    def open_return(self, service: str, period: str) -> None:
        self.settings.last_service, self.settings.last_period = service, period
        self.desk.say("Loading the return…")
        self._last_saved = None
        self.controller.open_return(service, period)

    def show_view(self, view: ReturnView) -> None:
        read_only = self.controller.read_only_database
        self.page.show_return(view, read_only_database=read_only)
        self.problems_panel.show_view(view)
        index = self.page.grid.currentIndex()
        self.definition_panel.show_row(self.page.model.return_row(index.row()))
        state = view.state.capitalize() + (f" r{view.revision}" if view.revision else "")
        self.title_changed.emit(f"{APP_NAME} — {view.service.name} · {view.period_label} · {state}")
        self._update_status(view)
        # Submit, Reopen and Export are enabled with their menu items (ui/actions.py)
        self.view_shown.emit()

    def _update_status(self, view: ReturnView) -> None:
        state = view.state.capitalize() + (f" r{view.revision}" if view.revision else "")
        parts = [state]
        saved = self._last_saved or view.updated_at
        if saved:
            parts.append(f"saved {saved.astimezone().strftime('%H:%M:%S %d/%m/%Y')}")
        missing = sum(1 for r in view.rows for p in r.errors if p.rule == "required")
        errors = view.error_count - missing
        parts.append(f"{errors} error{'s' if errors != 1 else ''}")
        parts.append(f"{missing} to enter")
        unexplained = view.unexplained_warning_count
        parts.append(f"{unexplained} warning{'s' if unexplained != 1 else ''} to explain")
        if view.open_queries:
            left = len(view.open_queries)
            parts.append(f"{left} quer{'y' if left == 1 else 'ies'} to answer")
        if self.controller.pending is not None:
            parts.append("opening the database (changes are saved once it is open)")
        self.desk.say(" · ".join(parts))

    def _on_saved(self, when: datetime) -> None:
        self._last_saved = when

    def _edit(self, code: str, fields: dict[str, str | None]) -> None:
        name = ", ".join(fields)
        if self.controller.request_edit({code: fields}, f"Edit {code} {name}"):
            self.page.model.mark_pending(code, fields)

    def _answer(self, code: str, text: str) -> None:
        if self.controller.request_answer(code, text):
            self.page.model.mark_pending(code, {"answer": text})

    def mark_symbol(self, symbol: str) -> None:
        index = self.page.grid.currentIndex()
        row = self.page.model.return_row(index.row()) if index.isValid() else None
        if row is not None and self.controller.editable:
            self._edit(row.code, {"symbol": symbol})

    def paste(self, text: str) -> None:
        if not self.controller.editable:
            self.page.show_message("This revision is read-only: reopen it to change it.")
            return
        index = self.page.grid.currentIndex()
        if not index.isValid() or not text.strip():
            return
        from skp_desktop.services.entries import SOURCE_PASTED
        from skp_desktop.ui.return_grid import paste_changes

        changes, problems = paste_changes(self.page.model, index.row(), index.column(), text)
        if problems:
            self.page.show_message(
                "Nothing was pasted. Fix these cells and paste again: " + "; ".join(problems)
            )
            return
        if changes and self.controller.request_edit(
            changes, f"Paste {len(changes)} rows", source=SOURCE_PASTED
        ):
            for code, fields in changes.items():
                self.page.model.mark_pending(code, fields)

    def _still_opening(self, what: str) -> bool:
        if self.controller.db is None:
            self.page.show_message(f"The database is still opening: {what} once it is.")
            return True
        return False

    def submit(self) -> None:
        if self._still_opening("submit"):
            return
        view = self.controller.view
        if view is None or not allows(view.state, Step.SUBMIT):
            return
        if view.open_queries:
            from skp_desktop.ui.return_grid import ANSWER_COLUMN

            first = view.open_queries[0]
            self.page.go_to(first.code, ANSWER_COLUMN)
            self.side_wanted.emit(self.problems_panel)
            count = len(view.open_queries)
            self.page.show_message(
                f"Not submitted: answer the coordinator's quer{'y' if count == 1 else 'ies'} on "
                f"{', '.join(q.code for q in view.open_queries)} first, in the Answer column."
            )
            return
        errors = [(row, p) for row in view.rows for p in row.errors]
        if errors:
            row, problem = errors[0]
            self.page.go_to(row.code, self.problems_panel_column(row, problem))
            self.side_wanted.emit(self.problems_panel)
            self.page.show_message(
                f"Not submitted: {len(errors)} value{'s' if len(errors) != 1 else ''} still "
                "need fixing or entering (see Problems)."
            )
            return
        explanations: dict[str, str] = {}
        needing = [
            (row.code, "; ".join(p.message for p in row.warnings))
            for row in view.rows
            if row.needs_explanation
        ]
        if needing:
            answer = dialogs.ask_explanations(self.page, needing)
            if answer is None:
                return
            explanations = answer
        warnings = sum(1 for row in view.rows if row.warnings)
        summary = (
            f"Submit {view.service.name}'s return for {view.period_label}, revision "
            f"{view.revision}?\n\n{len(view.rows)} indicators, {warnings} with an explained "
            "warning. After submitting, this revision is read-only; you can reopen it with a "
            "reason."
        )
        if dialogs.confirm(self.page, "Submit the return", summary):
            self.controller.submit(explanations)

    @staticmethod
    def problems_panel_column(row: ReturnRow, problem: Problem) -> int:
        from skp_desktop.ui.return_grid import problem_column

        return problem_column(row, problem)

    def reopen(self) -> None:
        if self._still_opening("reopen"):
            return
        view = self.controller.view
        if view is None or not allows(view.state, Step.REOPEN):
            return
        reason = dialogs.ask_text(
            self.page,
            "Reopen the return",
            f"Why does {view.period_label} need to change? (recorded in the history)",
        )
        if reason:
            self.controller.reopen(reason)
