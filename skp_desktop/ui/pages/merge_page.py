"""The Merge place: the partnership workbook for a range of quarters, from accepted returns."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from skp_desktop.domain.periods import parse_period
from skp_desktop.domain.vocabulary import MISSING, ReturnState
from skp_desktop.ui.accessibility import row_height
from skp_desktop.ui.dialogs import dialogs
from skp_desktop.ui.pages.shared import quarter_range, state_label
from skp_desktop.ui.rows_model import RowsModel

if TYPE_CHECKING:
    from skp_desktop.services.completeness import Completeness
    from skp_desktop.services.database import Database
    from skp_desktop.services.merge import MergeResult
    from skp_desktop.services.strategic_assessment import AssessmentFile
    from skp_desktop.ui.operations import Desk

INTRO = (
    "The partnership workbook gathers every service's <b>accepted</b> returns for the quarters "
    "chosen: a Summary for the board (latest value, target, RAG and direction of travel), the "
    "Data in long form, a Wide table, the Completeness matrix and the Definitions. Submitted "
    "returns count once they are accepted (on the Completeness page); small numbers are "
    "published as [c]. The same returns always give the same workbook."
)


class _Progress(QObject):
    """Carries progress from the merge worker to the UI thread (queued signal)."""

    step = Signal(int, int, str)


class MergePage(QWidget):
    """Quarters from–to, Merge…, progress with Cancel, and what the workbook holds."""

    review_requested = Signal()  # go to the Completeness place to accept returns
    LEFT_OUT_HEADERS = ("Service", "Period", "State", "Due")

    def __init__(self, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.cancel_event = threading.Event()
        self.progress_relay = _Progress(self)
        self.result: MergeResult | None = None

        intro = QLabel(INTRO)
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.RichText)
        picker_row = QHBoxLayout()
        self.first_picker, self.last_picker = quarter_range(
            desk.day(), picker_row, purpose=" to merge"
        )
        self.merge_button = QPushButton("&Merge…")
        self.merge_button.setAccessibleDescription("Merge the accepted returns into a workbook")
        self.merge_button.setToolTip("Choose where to save the partnership workbook, then write it")
        self.merge_button.setDefault(True)
        picker_row.addSpacing(12)
        picker_row.addWidget(self.merge_button)
        picker_row.addStretch(1)

        self.preview = QLabel("Reading what the range holds…")
        self.preview.setWordWrap(True)
        self.preview.setAccessibleDescription("What the merge will count")

        self.progress = QProgressBar()
        self.progress.setAccessibleName("Progress of the merge or the strategic assessment")
        self.progress_text = QLabel()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_event.set)
        busy_row = QHBoxLayout()
        busy_row.addWidget(self.progress_text, 1)
        busy_row.addWidget(self.progress, 1)
        busy_row.addWidget(self.cancel_button)

        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.result_label.setAccessibleDescription("Merge result")
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result_label.setTextFormat(Qt.TextFormat.RichText)
        self.open_button = QPushButton("O&pen the workbook")
        self.open_button.setToolTip("Open the saved workbook in Excel or LibreOffice")
        self.open_button.clicked.connect(self.open_workbook)
        self.open_button.hide()
        result_row = QHBoxLayout()
        result_row.addWidget(self.result_label, 1)
        result_row.addWidget(self.open_button, 0, Qt.AlignmentFlag.AlignTop)

        self.left_out_title = QLabel(
            "<b>Not counted</b>: returns due in these quarters that are not accepted"
        )
        self.review_button = QPushButton("Review on the &Completeness page")
        self.review_button.setToolTip("Accept submitted returns there; they then count here")
        self.review_button.clicked.connect(self.review_requested)
        left_bar = QHBoxLayout()
        left_bar.addWidget(self.left_out_title, 1)
        left_bar.addWidget(self.review_button)
        self.left_out_model = RowsModel(self.LEFT_OUT_HEADERS, parent=self)
        self.left_out = QTableView()
        self.left_out.setAccessibleName("Returns not counted")
        self.left_out.setModel(self.left_out_model)
        self.left_out.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.left_out.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.left_out.verticalHeader().setVisible(False)
        self.left_out.verticalHeader().setDefaultSectionSize(row_height(self.left_out))
        self.left_out.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.left_out.horizontalHeader().setStretchLastSection(True)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addSpacing(6)
        layout.addLayout(picker_row)
        layout.addWidget(self.preview)
        layout.addLayout(busy_row)
        layout.addLayout(result_row)
        layout.addLayout(self._assessment_row())
        layout.addSpacing(6)
        layout.addLayout(left_bar)
        layout.addWidget(self.left_out, 1)

        self.first_picker.currentIndexChanged.connect(lambda _i: self.refresh_preview())
        self.last_picker.currentIndexChanged.connect(lambda _i: self.refresh_preview())
        self.merge_button.clicked.connect(self.merge)
        self.progress_relay.step.connect(self._on_step)
        self.set_busy(False)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.refresh_preview()

    def current_range(self) -> tuple[str, str]:
        first, last = self.first_picker.currentData(), self.last_picker.currentData()
        if parse_period(last) < parse_period(first):
            first, last = last, first
        return first, last

    def open_workbook(self) -> None:
        if self.result is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.result.path)))

    def set_busy(self, busy: bool, text: str = "") -> None:
        self.cancel_event.clear()
        self.progress.setRange(0, 0)  # busy until the work says how far it is
        for shown in (self.progress, self.progress_text, self.cancel_button):
            shown.setVisible(busy)
        # one long piece of work at a time: the merge or the strategic assessment
        for enabled in (
            self.merge_button,
            self.first_picker,
            self.last_picker,
            self.assessment_button,
            self.assessment_year,
        ):
            enabled.setEnabled(not busy)
        self.progress_text.setText(text)

    def _on_step(self, done: int, total: int, text: str) -> None:
        if total <= 0:  # not known ahead (the assessment's pages): a busy bar
            self.progress.setRange(0, 0)
        else:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
        self.progress_text.setText(text)

    # --- preview -------------------------------------------------------------------------

    def refresh_preview(self) -> None:
        """Say, before merging, how many returns in the range count and how many do not."""
        first, last = self.current_range()
        today = self.desk.day()

        def work(db: Database) -> Completeness:
            from skp_desktop.services.completeness import completeness

            return completeness(db, first=first, last=last, today=today)

        self.desk.query(work, self.show_preview)

    def show_preview(self, report: Completeness) -> None:
        if (report.periods[0].code, report.periods[-1].code) != self.current_range():
            return  # the range changed while reading; the newer answer is on its way
        counts = report.counts()
        expected = sum(counts.values())
        accepted = counts[ReturnState.ACCEPTED]
        not_yet = expected - accepted
        text = (
            f"{report.periods[0].label} to {report.periods[-1].label}: "
            f"<b>{accepted} of {expected}</b> returns are accepted and will be merged."
        )
        if not_yet:
            parts = [
                f"{counts[ReturnState.SUBMITTED]} awaiting review",
                f"{counts[ReturnState.RETURNED]} returned with a query",
                f"{counts[ReturnState.DRAFT]} in draft",
                f"{counts[MISSING]} missing",
            ]
            text += " Not counted: " + ", ".join(p for p in parts if not p.startswith("0 ")) + "."
        if not counts[ReturnState.ACCEPTED]:
            text += (
                " Accept submitted returns on the Completeness page first: the workbook would "
                "have no figures."
            )
        self.preview.setText(text)
        left = [cell for cell in report.expected_cells() if cell.state != ReturnState.ACCEPTED]
        rows = [
            (
                cell.service.name,
                cell.period.label,
                state_label(cell.state) + (f" (revision {cell.revision})" if cell.revision else ""),
                cell.due.strftime("%d/%m/%Y") + (" · overdue" if cell.overdue else ""),
            )
            for cell in left
        ]
        self.left_out_model = RowsModel(self.LEFT_OUT_HEADERS, rows, self)
        self.left_out.setModel(self.left_out_model)
        self.left_out_title.setText(
            f"<b>Not counted</b>: {len(left)} return{'s' if len(left) != 1 else ''} due in "
            "these quarters that " + ("is" if len(left) == 1 else "are") + " not accepted"
            if left
            else "<b>Every return due in these quarters is accepted.</b>"
        )
        self.left_out.setVisible(bool(left))
        self.review_button.setVisible(any(cell.state == ReturnState.SUBMITTED for cell in left))

    # --- the annual strategic assessment (issue 18) --------------------------------------

    def _assessment_row(self) -> QHBoxLayout:
        """A financial year and Save the strategic assessment…, under the merge."""
        from skp_desktop.domain.periods import PeriodKind, period_for_date

        this_year = period_for_date(PeriodKind.YEAR, self.desk.day())
        self.assessment_year = QComboBox()
        self.assessment_year.setAccessibleName("Financial year of the strategic assessment")
        year = this_year
        for _ in range(6):  # this year and the five before it, the last complete one chosen
            self.assessment_year.addItem(year.short_label, year.code)
            year = year.year_earlier()
        self.assessment_year.setCurrentIndex(1)
        self.assessment_button = QPushButton("Save the &strategic assessment…")
        self.assessment_button.setToolTip(
            "The annual strategic assessment for the partnership board, as a PDF or a workbook"
        )
        self.assessment_button.clicked.connect(self.save_assessment)
        self.assessment_result = QLabel()
        self.assessment_result.setWordWrap(True)
        self.assessment_result.setAccessibleName("Strategic assessment result")
        row = QHBoxLayout()
        row.addWidget(QLabel("Annual strategic assessment for"))
        row.addWidget(self.assessment_year)
        row.addWidget(self.assessment_button)
        row.addWidget(self.assessment_result, 1)
        return row

    def save_assessment(self) -> None:
        """Ask where to save (PDF or .xlsx), then write the assessment in the background."""
        if self.desk.database() is None:
            return
        year = self.assessment_year.currentData()
        path = dialogs.save_file(
            self,
            "Save the strategic assessment",
            f"strategic-assessment-{year}.pdf",
            "PDF (*.pdf);;Excel workbook (*.xlsx)",
        )
        if not path:
            return
        if Path(path).suffix.lower() not in (".pdf", ".xlsx"):
            path += ".pdf"
        relay, cancel = self.progress_relay, self.cancel_event
        self.set_busy(True, "Starting the strategic assessment…")
        self.assessment_result.setText("Writing the strategic assessment…")

        made = self.desk.today

        def work(db: Database) -> AssessmentFile:
            from skp_desktop.services.strategic_assessment import write_assessment

            return write_assessment(
                db,
                year=year,
                out=path,
                made=made,
                progress=lambda done, total, text: relay.step.emit(done, total, text),
                cancelled=cancel.is_set,
            )

        def done(result: AssessmentFile) -> None:
            self.set_busy(False)
            self.assessment_result.setText(f"✓ Saved {path}: {result.describe()}")

        def failed(exc: Exception) -> None:
            from skp_desktop.services.strategic_assessment import AssessmentCancelled

            self.set_busy(False)
            if isinstance(exc, AssessmentCancelled):
                self.assessment_result.setText(str(exc))
                return
            self.assessment_result.setText(f"✗ Not saved: {exc}")
            self.desk.failed(exc)

        self.desk.query(work, done, failure=failed)

    # --- merging -------------------------------------------------------------------------

    def merge(self) -> None:
        """Ask where to save, then write the workbook in the background with progress."""
        if self.desk.database() is None:
            return
        first, last = self.current_range()
        path = dialogs.save_file(
            self,
            "Save the partnership workbook",
            f"partnership-{first}-to-{last}.xlsx",
            "Excel workbook (*.xlsx)",
        )
        if not path:
            return
        if Path(path).suffix.lower() != ".xlsx":
            path += ".xlsx"
        today = self.desk.day()
        relay, cancel = self.progress_relay, self.cancel_event
        self.set_busy(True, "Starting…")
        self.result_label.setText("")
        self.open_button.hide()

        def work(db: Database) -> MergeResult:
            from skp_desktop.services.merge import merge_export

            return merge_export(
                db,
                out=path,
                first=first,
                last=last,
                today=today,
                progress=lambda done, total, text: relay.step.emit(done, total, text),
                cancelled=cancel.is_set,
            )

        def done(result: MergeResult) -> None:
            from html import escape

            self.set_busy(False)
            self.result = result
            self.open_button.show()
            self.result_label.setText(
                f"<p>✓ Saved <b>{escape(str(result.path))}</b></p>"
                f"<p>{escape(result.describe())}</p>"
                f"<p><small>SHA-256 {result.sha256}</small></p>"
            )

        def failed(exc: Exception) -> None:
            from skp_desktop.services.merge import MergeCancelled

            self.set_busy(False)
            if isinstance(exc, MergeCancelled):
                self.result_label.setText(str(exc))
                return
            self.result_label.setText(f"✗ Not saved: {exc}")
            self.desk.failed(exc)

        self.desk.query(work, done, failure=failed)
