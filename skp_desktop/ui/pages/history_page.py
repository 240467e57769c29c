"""The History place: every audit event, filtered and paged; timelines; verification."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from PySide6.QtCore import QDate, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from skp_desktop.domain.vocabulary import AuditAction
from skp_desktop.services.dto import AuditEntry, HistoryFilter, Timeline, VerifyReport
from skp_desktop.ui.dialogs import dialogs
from skp_desktop.ui.history_model import HistoryModel
from skp_desktop.ui.operations import Change, Changed
from skp_desktop.ui.rag_style import is_dark
from skp_desktop.ui.rows_model import RowsModel

if TYPE_CHECKING:
    from skp_desktop.services.database import Database
    from skp_desktop.services.history import ExtractCheck
    from skp_desktop.ui.operations import Desk

ANY = "Any"
NO_DATE = QDate(2000, 1, 1)


class HistoryPage(QWidget):
    """Filters over a paged table of audit events, with Verify and Export."""

    filter_changed = Signal(object)  # HistoryFilter
    verify_requested = Signal()
    export_requested = Signal(object)  # HistoryFilter
    timeline_requested = Signal(str, str, str)  # service, period, indicator
    extract_requested = Signal(object)  # period code or None
    check_extract_requested = Signal()
    event_selected = Signal(object)  # AuditEntry or None

    def __init__(self, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.timeline_dialog: TimelineDialog | None = None
        self.service = self._combo("Filter by service")
        self.indicator = self._combo("Filter by indicator")
        self.actor = self._combo("Filter by who")
        self.action = self._combo("Filter by what happened")
        self.period = QLineEdit()
        self.period.setPlaceholderText("e.g. FY2024-25-Q1")
        self.period.setAccessibleName("Filter by period")
        self.since = self._date("From date")
        self.until = self._date("To date")
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search values, reasons and sources (Ctrl+F)")
        self.search.setAccessibleName("Search the history")
        self.search.setClearButtonEnabled(True)
        QShortcut(QKeySequence.StandardKey.Find, self, self.search.setFocus)

        grid = QGridLayout()
        for column, (label, widget) in enumerate(
            (
                ("Service", self.service),
                ("Period", self.period),
                ("Indicator", self.indicator),
                ("Who", self.actor),
            )
        ):
            grid.addWidget(self._label(label, widget), 0, column * 2)
            grid.addWidget(widget, 0, column * 2 + 1)
        for column, (label, widget) in enumerate(
            (
                ("What", self.action),
                ("From", self.since),
                ("To", self.until),
                ("Search", self.search),
            )
        ):
            grid.addWidget(self._label(label, widget), 1, column * 2)
            grid.addWidget(widget, 1, column * 2 + 1)

        self.model = HistoryModel(parent=self)
        self.table = QTableView()
        self.table.setAccessibleName("Audit events")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in enumerate((130, 90, 110, 90, 100, 36, 96, 220, 160)):
            header.resizeSection(column, width)
        self.table.doubleClicked.connect(self._open_timeline)
        QShortcut(QKeySequence.StandardKey.Copy, self.table, self.copy_selection)

        self.verify_button = QPushButton("Verify hi&story")
        self.verify_button.setAccessibleDescription("Verify the history")
        self.verify_button.setToolTip(
            "Recompute the chain of events and check every value against its history"
        )
        self.export_button = QPushButton("E&xport…")
        self.export_button.setToolTip("Save the events shown by the filter as Excel or CSV")
        self.timeline_button = QPushButton("Value &timeline…")
        self.timeline_button.setToolTip("Every change of the selected value, across revisions")
        self.timeline_button.setEnabled(False)
        self.extract_button = QPushButton("Signed extr&act…")
        self.extract_button.setToolTip(
            "Save the history (of the period in the filter, or all) with the chain's head hash, "
            "so that a later check shows whether anything behind it changed"
        )
        self.check_button = QPushButton("Chec&k extract…")
        self.check_button.setToolTip("Compare an earlier signed extract with the history now")
        self.extract_button.clicked.connect(
            lambda: self.extract_requested.emit(self.period.text().strip() or None)
        )
        self.check_button.clicked.connect(self.check_extract_requested)
        self.count_label = QLabel()
        self.count_label.setAccessibleDescription("Events shown")
        buttons = QHBoxLayout()
        buttons.addWidget(self.count_label, 1)
        buttons.addWidget(self.timeline_button)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.extract_button)
        buttons.addWidget(self.check_button)
        buttons.addWidget(self.verify_button)

        self.verdict = QLabel()
        self.verdict.setWordWrap(True)
        self.verdict.setAccessibleDescription("Verification result")
        self.verdict.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.verdict.hide()

        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(self.verdict)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(300)
        self._debounce.timeout.connect(self._emit_filter)
        for combo in (self.service, self.indicator, self.actor, self.action):
            combo.currentIndexChanged.connect(self._debounce.start)
        for edit in (self.period, self.search):
            edit.textChanged.connect(self._debounce.start)
        for date_edit in (self.since, self.until):
            date_edit.dateChanged.connect(self._debounce.start)
        self.verify_button.clicked.connect(self.verify_requested)
        self.export_button.clicked.connect(
            lambda: self.export_requested.emit(self.current_filter())
        )
        self.timeline_button.clicked.connect(lambda: self._open_timeline(self.table.currentIndex()))
        self.table.selectionModel().currentRowChanged.connect(self._on_current)
        self.model.loading_changed.connect(self._update_count)
        self.model.rowsInserted.connect(self._update_count)
        # the page's own database work (ui/operations.py)
        self.filter_changed.connect(self.load)
        self.verify_requested.connect(self.verify)
        self.export_requested.connect(self.export_history)
        self.timeline_requested.connect(self.open_timeline)
        self.extract_requested.connect(self.write_extract)
        self.check_extract_requested.connect(self.check_extract)
        desk.database_opened.connect(self.refresh_choices)
        desk.changed.connect(self._on_changed)
        self.refresh_choices()

    # --- building ------------------------------------------------------------------------

    @staticmethod
    def _combo(name: str) -> QComboBox:
        combo = QComboBox()
        combo.setAccessibleName(name)
        combo.addItem(ANY, None)
        return combo

    @staticmethod
    def _date(name: str) -> QDateEdit:
        edit = QDateEdit()
        edit.setAccessibleName(name)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("dd/MM/yyyy")
        edit.setMinimumDate(NO_DATE)
        edit.setSpecialValueText(ANY)  # the minimum date reads "Any": no limit
        edit.setDate(NO_DATE)
        return edit

    @staticmethod
    def _label(text: str, buddy: QWidget) -> QLabel:
        label = QLabel(text + ":")
        label.setBuddy(buddy)
        return label

    def set_choices(
        self, services: list[str], indicators: list[str], actors: list[str], actions: list[str]
    ) -> None:
        for combo, values in (
            (self.service, services),
            (self.indicator, indicators),
            (self.actor, actors),
            (self.action, actions),
        ):
            current = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(ANY, None)
            for value in values:
                combo.addItem(value, value)
            combo.setCurrentIndex(max(0, combo.findData(current)))
            combo.blockSignals(False)

    # --- filter --------------------------------------------------------------------------

    def current_filter(self) -> HistoryFilter:
        def day(edit: QDateEdit) -> date | None:
            value = edit.date()
            return None if value == NO_DATE else date(value.year(), value.month(), value.day())

        return HistoryFilter(
            service=self.service.currentData(),
            period=self.period.text().strip() or None,
            indicator=self.indicator.currentData(),
            actor=self.actor.currentData(),
            action=self.action.currentData(),
            since=day(self.since),
            until=day(self.until),
            text=self.search.text().strip() or None,
        )

    def _emit_filter(self) -> None:
        self.filter_changed.emit(self.current_filter())

    def _update_count(self, *_args: object) -> None:
        rows = self.model.rowCount()
        if self.model.loading:
            text = f"{rows:,} events shown; loading more…"
        elif self.model.exhausted:
            text = (
                f"All {rows:,} matching events shown."
                if rows
                else ("No events match these filters.")
            )
        else:
            text = f"{rows:,} events shown, newest first; more load as you scroll."
        self.count_label.setText(text)

    def _on_current(self, *_args: object) -> None:
        index = self.table.currentIndex()
        entry = self.model.entry(index.row()) if index.isValid() else None
        self.event_selected.emit(entry)
        self.timeline_button.setEnabled(
            bool(entry and entry.indicator and entry.service and entry.period)
        )

    def _open_timeline(self, index: QModelIndex) -> None:
        if not index.isValid():
            return
        entry = self.model.entry(index.row())
        if entry.indicator and entry.service and entry.period:
            self.timeline_requested.emit(entry.service, entry.period, entry.indicator)

    def copy_selection(self) -> None:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        lines = [
            "\t".join(
                str(self.model.index(r, c).data() or "") for c in range(self.model.columnCount())
            )
            for r in rows
        ]
        QApplication.clipboard().setText("\n".join(lines))

    # --- verification --------------------------------------------------------------------

    def show_verdict(self, report: VerifyReport | None, message: str = "") -> None:
        if report is None:
            self.verdict.setStyleSheet("")
            self.verdict.setText(message)
        elif report.ok:
            colour = "#4fd1a1" if is_dark() else "#007a4d"
            self.verdict.setStyleSheet(f"QLabel {{ color: {colour}; font-weight: bold; }}")
            self.verdict.setText(
                f"✓ Verified: the history is intact. {report.events_checked:,} events and "
                f"{report.values_checked:,} values match."
            )
        else:
            colour = "#ff7b72" if is_dark() else "#c0362c"
            self.verdict.setStyleSheet(f"QLabel {{ color: {colour}; }}")
            problems = "".join(f"<li>{p}</li>" for p in report.problems[:50])
            more = len(report.problems) - 50
            self.verdict.setText(
                f"<b>✗ NOT verified: {len(report.problems)} problem"
                f"{'s' if len(report.problems) != 1 else ''} found. The history or the values "
                f"were changed outside the app.</b><ul>{problems}</ul>"
                + (f"… and {more} more." if more > 0 else "")
            )
        self.verdict.show()

    # --- database work, through the desk ----------------------------------------------------

    def _on_changed(self, changed: Changed) -> None:
        if changed.touches(Change.HISTORY) and changed.source is not self and self.isVisible():
            self.load(self.current_filter())

    def reload(self) -> None:
        self.load(self.current_filter())

    def refresh_choices(self) -> None:
        """The filters' choices: the catalogue's services, and the indicators, people and
        actions the history holds."""
        services = [s.code for s in self.desk.catalogue[0]]

        def work(db: Database) -> tuple[list[str], list[str], list[str]]:
            from skp_desktop.services.catalogue import list_indicators
            from skp_desktop.services.history import history_choices

            actors, actions = history_choices(db)
            return [i.code for i in list_indicators(db)], actors, actions

        def done(result: tuple[list[str], list[str], list[str]]) -> None:
            indicators, actors, actions = result
            self.set_choices(services, indicators, actors, actions)

        self.desk.query(work, done)

    def load(self, flt: HistoryFilter) -> None:
        """Show the events the filter lets through, a page at a time as the table scrolls."""
        if self.desk.database() is None:
            return
        model = self.model

        def fetch(before: int | None, deliver: Callable[[list[AuditEntry]], None]) -> None:
            def work(db: Database) -> list[AuditEntry]:
                from skp_desktop.services.history import history_page

                return history_page(db, flt, before_id=before)

            def failed(exc: Exception) -> None:
                model.failed()
                self.desk.failed(exc)

            self.desk.query(work, deliver, failure=failed)

        model.reset(fetch)

    def verify(self) -> None:
        """Check every event and value against the chain, and say the verdict."""
        if self.desk.database() is None:
            return
        self.show_verdict(None, "Verifying the history… (every event and value is checked)")
        self.verify_button.setEnabled(False)

        def work(db: Database) -> VerifyReport:
            from skp_desktop.services.audit import verify

            return verify(db)

        def done(report: VerifyReport) -> None:
            self.verify_button.setEnabled(True)
            self.show_verdict(report)

        def failed(exc: Exception) -> None:
            self.verify_button.setEnabled(True)
            self.show_verdict(None, "")
            self.desk.failed(exc)

        self.desk.query(work, done, failure=failed)

    def export_history(self, flt: HistoryFilter) -> None:
        path = dialogs.save_file(
            self, "Export history", "history.xlsx", "Excel workbook (*.xlsx);;CSV (*.csv)"
        )
        if not path or self.desk.database() is None:
            return

        def work(db: Database) -> int:
            from skp_desktop.services.history import export_history

            return export_history(db, flt, path)

        self.desk.say("Exporting the history…")
        self.desk.query(work, lambda count: self.desk.say(f"Exported {count:,} events to {path}"))

    def write_extract(self, period: str | None) -> None:
        name = f"audit-extract-{period or 'all'}.xlsx"
        path = dialogs.save_file(self, "Signed audit extract", name, "Excel (*.xlsx)")
        if not path or self.desk.database() is None:
            return

        def work(db: Database) -> int:
            from skp_desktop.services.history import write_audit_extract

            return write_audit_extract(db, path, period=period)

        self.desk.query(
            work, lambda n: self.desk.say(f"Saved a signed extract of {n:,} events: {path}")
        )

    def check_extract(self) -> None:
        path = dialogs.open_file(self, "Check an audit extract", "", "Excel (*.xlsx)")
        if not path or self.desk.database() is None:
            return

        def work(db: Database) -> ExtractCheck:
            from skp_desktop.services.history import check_audit_extract

            return check_audit_extract(db, path)

        def done(check: ExtractCheck) -> None:
            if check.ok:
                self.show_verdict(
                    None,
                    f"✓ The extract matches: its {check.events:,} events and the chain up to "
                    f"event {check.head_event_id} are unchanged.",
                )
            else:
                self.show_verdict(VerifyReport(check.events, 0, check.problems))

        self.desk.query(work, done)

    def open_timeline(self, service: str, period: str, indicator: str) -> None:
        def work(db: Database) -> Timeline:
            from skp_desktop.services.history import value_timeline

            return value_timeline(db, service=service, period=period, indicator=indicator)

        def done(timeline: Timeline) -> None:
            self.timeline_dialog = TimelineDialog(timeline, self.window())
            self.timeline_dialog.save_file_requested.connect(self.save_imported_file)
            self.timeline_dialog.open()

        self.desk.query(work, done)

    def save_imported_file(self, file_id: int) -> None:
        def work(db: Database) -> tuple[str, bytes]:
            from skp_desktop.services.history import imported_file

            return imported_file(db, file_id)

        def done(result: tuple[str, bytes]) -> None:
            name, content = result
            path = dialogs.save_file(self, "Save the original file", name, "All files (*)")
            if path:
                with open(path, "wb") as handle:
                    handle.write(content)

        self.desk.query(work, done)


class TimelineDialog(QDialog):
    """Every change of one value: old → new, who, when, why, from where, with which definitions."""

    save_file_requested = Signal(int)  # imported file id

    HEADERS = ("When", "Who", "What", "Rev", "Old", "New", "Why", "Source", "Definitions")

    def __init__(self, timeline: Timeline, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(
            f"Timeline — {timeline.indicator} · {timeline.service} · {timeline.period}"
        )
        self.resize(1100, 420)
        self.timeline = timeline
        rows = []
        for step in timeline.steps:
            e = step.event
            source = e.source or ""
            if step.file_name:
                source = f"{step.file_name} (sha256 {step.file_sha256})"
            rows.append(
                (
                    e.at.astimezone().strftime("%d/%m/%Y %H:%M:%S"),
                    e.actor,
                    e.action,
                    "" if step.revision is None else str(step.revision),
                    step.old_text if e.action == AuditAction.VALUE_SET else (e.old or ""),
                    step.new_text if e.action == AuditAction.VALUE_SET else (e.new or ""),
                    e.reason or "",
                    source,
                    "" if step.definitions_version is None else f"v{step.definitions_version}",
                )
            )
        self.table = QTableView()
        self.table.setAccessibleName("Value timeline")
        self.table.setModel(RowsModel(self.HEADERS, rows, self))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.resizeColumnsToContents()
        self.save_button = QPushButton("&Save original file…")
        self.save_button.setToolTip("Save a copy of the imported file this value came from")
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(self._save)
        self.table.selectionModel().currentRowChanged.connect(self._on_current)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        if not timeline.steps:
            layout.addWidget(QLabel("No recorded changes for this value."))
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)

    def _on_current(self, current: QModelIndex, *_args: object) -> None:
        row = current.row()
        step = self.timeline.steps[row] if 0 <= row < len(self.timeline.steps) else None
        self.save_button.setEnabled(bool(step and step.file_id))

    def _save(self) -> None:
        row = self.table.currentIndex().row()
        if 0 <= row < len(self.timeline.steps) and self.timeline.steps[row].file_id:
            self.save_file_requested.emit(self.timeline.steps[row].file_id)


def describe_event(entry: AuditEntry | None) -> str:
    """HTML for the side panel: every recorded field of one audit event."""
    from html import escape

    from skp_desktop.ui.history_model import ACTION_WORDS, change_text

    if entry is None:
        return "<p>Select an event to see all it recorded.</p>"
    rows = [
        ("Event", f"#{entry.id}"),
        ("When", entry.at.astimezone().strftime("%d/%m/%Y %H:%M:%S %Z")),
        ("Who", entry.actor),
        ("What", ACTION_WORDS.get(entry.action, entry.action) + f" ({entry.action})"),
        (
            "Return",
            " ".join(str(p) for p in (entry.service, entry.period) if p)
            + (f" revision {entry.revision}" if entry.revision else ""),
        ),
        ("Indicator", entry.indicator or ""),
        ("Change", change_text(entry)),
        ("Why", entry.reason or ""),
        ("Source", entry.source or ""),
    ]
    cells = "".join(
        f"<tr><td><b>{escape(k)}</b></td><td>{escape(v)}</td></tr>" for k, v in rows if v
    )
    return f"<h3>Audit event</h3><table cellpadding='3'>{cells}</table>"
