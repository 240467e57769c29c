"""The Import place: choose or drop return files, see what each will do, then commit."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from skp_desktop.domain.vocabulary import ImportStatus
from skp_desktop.ui.dialogs import dialogs
from skp_desktop.ui.operations import Change
from skp_desktop.ui.rag_style import is_dark
from skp_desktop.ui.rows_model import HeadedTableModel

if TYPE_CHECKING:
    from skp_desktop.services.database import Database
    from skp_desktop.ui.operations import Desk

# what an import (or the part of one before it stopped) changes
IMPORTED = Change.RETURNS | Change.HISTORY

_Index = QModelIndex | QPersistentModelIndex

# Each status with a symbol and a word, never colour alone.
STATUS_LOOK = {
    ImportStatus.ACCEPTED: ("✓", "#007a4d", "#4fd1a1", "will be added"),
    ImportStatus.DUPLICATE: ("=", None, None, "already held: nothing to do"),
    ImportStatus.STALE: ("↓", None, None, "older than the revision held: ignored"),
    ImportStatus.CONFLICT: (
        "⚠",
        "#a35200",
        "#f0a848",
        "same revision, different values: you decide",
    ),
    ImportStatus.REJECTED: ("✗", "#c0362c", "#ff7b72", "not usable: see the reason"),
}
EMPTY_TEXT = (
    "No return files chosen yet — drag return files or folders here, or choose Add files… "
    "or Add folder…. Each file is checked first; nothing is stored until you choose Import."
)


class OutcomeModel(HeadedTableModel):
    """One row per file: status (symbol and word), the return it is, who signed it, and why."""

    HEADERS = ("Status", "File", "Service", "Period", "Rev", "Changes / reason", "Signed by")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.outcomes: list[Any] = []
        self.committed = False

    def set_outcomes(self, outcomes: list[Any], *, committed: bool) -> None:
        self.beginResetModel()
        self.outcomes = list(outcomes)
        self.committed = committed
        self.endResetModel()

    def row_count(self) -> int:
        return len(self.outcomes)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        outcome = self.outcomes[index.row()]
        column = self.HEADERS[index.column()]
        symbol, light, dark, _meaning = STATUS_LOOK.get(outcome.status, ("", None, None, ""))
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            if column == "Status":
                return f"{symbol} {outcome.status}"
            if column == "File":
                return Path(outcome.file).name
            if column == "Service":
                return outcome.service or ""
            if column == "Period":
                return outcome.period or ""
            if column == "Rev":
                return "" if outcome.revision is None else str(outcome.revision)
            if column == "Signed by":
                return signed_by_text(outcome)
            if outcome.reason:
                return outcome.reason
            if outcome.kind == "feedback":
                count = len(outcome.queries)
                return f"feedback: returned with {count} quer{'y' if count == 1 else 'ies'}"
            changes = len(outcome.changes)
            return f"{changes} value{'s' if changes != 1 else ''} change" if changes else ""
        if role == Qt.ItemDataRole.ToolTipRole:
            return (
                STATUS_LOOK.get(outcome.status, ("", "", "", outcome.status))[3]
                if (column == "Status")
                else outcome.signature_text or "not checked: the file was refused first"
                if column == "Signed by"
                else (outcome.reason or outcome.file)
            )
        if role == Qt.ItemDataRole.ForegroundRole and column == "Status" and light:
            return QColor(dark if is_dark() else light)
        return None


def signed_by_text(outcome: Any) -> str:
    """Who signed the file, short enough for a column: a name and the fingerprint's first group
    (the tooltip has it whole); "template issued here"; or UNSIGNED."""
    if outcome.signature == "signed":
        short = (outcome.signed_by or "").split("-")[0]
        return f"✓ {outcome.signer} ({short}…)"
    if outcome.signature == "template":
        return "template issued here"
    if outcome.signature == "unsigned":
        return "⚠ UNSIGNED"
    return ""


class _Progress(QObject):
    """Carries progress from the import worker to the UI thread (queued signal)."""

    step = Signal(int, int, str)


class ImportPage(QWidget):
    """Files in, statuses out: a dry run first, then the real import, file by file."""

    check_requested = Signal(list, bool)  # paths, accept modified
    commit_requested = Signal(list, bool)

    def __init__(self, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.setAcceptDrops(True)
        self.paths: list[str] = []
        self.cancel_event = threading.Event()
        self.progress_relay = _Progress(self)

        self.add_files = QPushButton("Add fi&les…")
        self.add_folder = QPushButton("Add f&older…")
        self.clear_button = QPushButton("&Clear")
        self.accept_modified = QCheckBox("Take edited files as a new revi&sion")
        self.accept_modified.setToolTip(
            "A file whose values were changed after export is normally refused. With this, its "
            "visible values are imported as a new revision, recorded as such."
        )
        # Unsigned files (format 1, or a signature cut out) only with the coordinator's reason,
        # recorded with each one (issue 16).
        self.unsigned_reason: str | None = None
        self.accept_unsigned = QCheckBox("Take &unsigned files…")
        self.accept_unsigned.setToolTip(
            "A file that carries no signature is normally refused. With this, it is imported "
            "marked UNSIGNED, with the reason you give, in its history and the merged workbook."
        )
        self.accept_unsigned.toggled.connect(self._unsigned_toggled)
        self.commit_button = QPushButton("&Import")
        self.commit_button.setAccessibleDescription("Import the checked files")
        self.commit_button.setEnabled(False)
        top = QHBoxLayout()
        for widget in (self.add_files, self.add_folder, self.clear_button):
            top.addWidget(widget)
        top.addStretch(1)
        top.addWidget(self.accept_modified)
        top.addWidget(self.accept_unsigned)
        top.addWidget(self.commit_button)

        self.empty_state = QLabel(EMPTY_TEXT)
        self.empty_state.setWordWrap(True)
        self.empty_state.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.model = OutcomeModel(self)
        self.table = QTableView()
        self.table.setAccessibleName("Files and what importing does")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.details = QTextBrowser()
        self.details.setAccessibleName("What this file changes")
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(self.details)
        splitter.setSizes([400, 180])
        self.results = splitter
        self.table.selectionModel().currentRowChanged.connect(self._show_details)

        self.progress = QProgressBar()
        self.progress.setAccessibleName("Import progress")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_event.set)
        self.status = QLabel()
        self.status.setWordWrap(True)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.progress)
        bottom.addWidget(self.cancel_button)
        self.set_busy(False)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.empty_state)
        layout.addWidget(splitter, 1)
        layout.addLayout(bottom)
        self.results.setVisible(False)

        self.clear_button.clicked.connect(self.clear)
        self.commit_button.clicked.connect(
            lambda: self.commit_requested.emit(list(self.paths), self.accept_modified.isChecked())
        )
        self.accept_modified.toggled.connect(lambda _on: self._check())
        self.progress_relay.step.connect(self._on_step)
        self.add_files.clicked.connect(self._choose_files)
        self.add_folder.clicked.connect(self._choose_folder)
        self.check_requested.connect(lambda p, m: self.run_import(p, m, dry_run=True))
        self.commit_requested.connect(lambda p, m: self.run_import(p, m, dry_run=False))

    # --- files ---------------------------------------------------------------------------

    def add_paths(self, paths: list[str]) -> None:
        for path in paths:
            if path and path not in self.paths:
                self.paths.append(path)
        self._check()

    def clear(self) -> None:
        self.paths = []
        self.model.set_outcomes([], committed=False)
        self.details.clear()
        self.commit_button.setEnabled(False)
        self.status.setText("")
        self.empty_state.show()
        self.results.setVisible(False)

    def _unsigned_toggled(self, on: bool) -> None:
        from skp_desktop.ui.dialogs import dialogs

        reason = None
        if on:
            reason = dialogs.ask_text(
                self,
                "Take unsigned files",
                "Why are unsigned files taken? (recorded with each one, e.g. 'sent by an older "
                "SKP Returns; figures confirmed with the service by phone')",
            )
            if reason is None:
                self.accept_unsigned.setChecked(False)  # toggles back, with no reason
                return
        self.unsigned_reason = reason
        self._check()

    def _check(self) -> None:
        if self.paths:
            self.check_requested.emit(list(self.paths), self.accept_modified.isChecked())

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        self.add_paths([u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()])
        event.acceptProposedAction()

    # --- results -------------------------------------------------------------------------

    def set_busy(self, busy: bool, text: str = "") -> None:
        self.cancel_event.clear()
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        for widget in (self.add_files, self.add_folder, self.clear_button, self.commit_button):
            widget.setEnabled(not busy and (widget is not self.commit_button or self._can_commit()))
        if text:
            self.status.setText(text)

    def _on_step(self, done: int, total: int, name: str) -> None:
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(done)
        if done < total:
            self.status.setText(f"Reading {done + 1} of {total}: {name}")

    def _can_commit(self) -> bool:
        return not self.model.committed and any(
            o.status == ImportStatus.ACCEPTED for o in self.model.outcomes
        )

    def show_outcomes(self, outcomes: list[Any], *, committed: bool, cancelled: bool) -> None:
        self.model.set_outcomes(outcomes, committed=committed)
        self.empty_state.setVisible(not outcomes)
        self.results.setVisible(bool(outcomes))
        counts: dict[str, int] = {}
        for outcome in outcomes:
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
        summary = ", ".join(f"{n} {s.lower()}" for s, n in counts.items())
        if committed:
            text = f"Imported: {summary}."
        else:
            text = f"Checked {len(outcomes)} file{'s' if len(outcomes) != 1 else ''}: {summary}."
            if counts.get(ImportStatus.ACCEPTED):
                text += " Nothing is stored yet: choose Import to add the accepted ones."
        if cancelled:
            text += " Cancelled before the last files."
        self.set_busy(False, text)
        if outcomes:
            self.table.selectRow(0)

    def _show_details(self, current: Any, _previous: Any) -> None:
        from html import escape

        if not current.isValid():
            self.details.clear()
            return
        outcome = self.model.outcomes[current.row()]
        meaning = STATUS_LOOK.get(outcome.status, ("", "", "", ""))[3]
        parts = [
            f"<p><b>{escape(outcome.status)}</b> — {escape(meaning)}<br>{escape(outcome.file)}</p>"
        ]
        if outcome.reason:
            parts.append(f"<p>{escape(outcome.reason)}</p>")
        if outcome.signature_text:
            parts.append(f"<p><b>Signature:</b> {escape(outcome.signature_text)}</p>")
        if outcome.problems:
            parts.append("<ul>")
            for problem in outcome.problems:
                where = ", ".join(
                    p
                    for p in (
                        problem.sheet and f"sheet {problem.sheet}",
                        problem.cell and f"cell {problem.cell}",
                    )
                    if p
                )
                parts.append(f"<li>{escape(where)}: {escape(problem.message)}</li>")
            parts.append("</ul>")
        if outcome.changes:
            parts.append("<p><b>Changes against the values held</b></p><ul>")
            for change in outcome.changes:
                parts.append(
                    f"<li>{escape(change.code)}: {escape(change.old)} → {escape(change.new)}</li>"
                )
            parts.append("</ul>")
        if outcome.queries:
            parts.append(
                "<p><b>The coordinator's queries</b> (the return is shown as returned, with "
                "each query beside its figure; reopen it to correct and answer)</p><ul>"
            )
            for code, question in outcome.queries:
                parts.append(f"<li>{escape(code)}: {escape(question)}</li>")
            parts.append("</ul>")
        if outcome.answers:
            parts.append("<p><b>Answers to the coordinator's queries</b></p><ul>")
            for code, answer in outcome.answers:
                parts.append(f"<li>{escape(code)}: {escape(answer)}</li>")
            parts.append("</ul>")
        for warning in outcome.warnings:
            parts.append(f"<p>Warning: {escape(warning)}</p>")
        self.details.setHtml("".join(parts))

    # --- importing, through the desk --------------------------------------------------------

    def _choose_files(self) -> None:
        self.add_paths(dialogs.open_files(self, "Choose return files", "Excel returns (*.xlsx)"))

    def _choose_folder(self) -> None:
        folder = dialogs.open_folder(self, "Choose a folder of return files")
        if folder:
            self.add_paths([folder])

    def run_import(self, paths: list[str], accept_modified: bool, *, dry_run: bool) -> None:
        """Check (dry run) or import files in the background, with progress and Cancel."""
        db = self.desk.database()
        if db is None:
            self.status.setText("The database is still opening: add the files again in a moment.")
            return
        if not dry_run and db.read_only:
            self.status.setText("The database is open read-only: files can be checked only.")
            return
        relay, cancel = self.progress_relay, self.cancel_event
        unsigned = self.unsigned_reason  # the coordinator's reason for taking unsigned files
        self.set_busy(True, "Checking the files…" if dry_run else "Importing…")

        def work(db: Database, actor: str) -> tuple[list[Any], bool]:
            from skp_desktop.services.exchange import import_files

            outcomes = import_files(
                db,
                paths,
                actor=actor,
                dry_run=dry_run,
                accept_modified=accept_modified,
                accept_unsigned=unsigned,
                progress=lambda done, total, path: relay.step.emit(done, total, path.name),
                cancelled=cancel.is_set,
            )
            return outcomes, cancel.is_set()

        def done(result: tuple[list[Any], bool]) -> None:
            outcomes, cancelled = result
            self.show_outcomes(outcomes, committed=not dry_run, cancelled=cancelled)

        def failed(exc: Exception) -> None:
            from skp_desktop.services.exchange import ImportStopped

            if isinstance(exc, ImportStopped):  # show what went in before it stopped
                self.show_outcomes(list(exc.outcomes), committed=not dry_run, cancelled=True)
                if not dry_run:
                    self.desk.announce(IMPORTED, self)
            self.set_busy(False, str(exc).splitlines()[0])
            self.desk.failed(exc)

        # a check changes nothing; the open return is read again after an import
        changes = Change(0) if dry_run else IMPORTED
        self.desk.change(work, done, changes=changes, failure=failed, source=self)
