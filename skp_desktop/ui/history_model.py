"""Audit events as a table that loads a page at a time as people scroll (fetchMore)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt, Signal

from skp_desktop.domain.vocabulary import AuditAction
from skp_desktop.services.dto import AuditEntry
from skp_desktop.services.entries import describe_change
from skp_desktop.ui.rows_model import HeadedTableModel

_Index = QModelIndex | QPersistentModelIndex
COLUMNS = (
    "When",
    "Who",
    "What",
    "Service",
    "Period",
    "Rev",
    "Indicator",
    "Change",
    "Why",
    "Source",
)
ACTION_WORDS: dict[str, str] = {
    AuditAction.VALUE_SET: "value changed",
    AuditAction.RETURN_CREATE: "return started",
    AuditAction.RETURN_SUBMIT: "submitted",
    AuditAction.RETURN_REOPEN: "reopened",
    AuditAction.RETURN_ACCEPT: "accepted",
    AuditAction.RETURN_RETURN: "returned with query",
    AuditAction.RETURN_IMPORT: "imported",
    AuditAction.QUERY_ASK: "query asked",
    AuditAction.QUERY_ANSWER: "query answered",
    AuditAction.CATALOGUE_LOAD: "catalogue loaded",
    AuditAction.DEFINITIONS_PUBLISH: "definitions published",
    AuditAction.DEFINITIONS_IMPORT: "definitions pack imported",
    AuditAction.DEFINITIONS_CHANGE: "definition changed",
    AuditAction.DEFINITIONS_ADD: "indicator added",
    AuditAction.DEFINITIONS_TARGET: "target set",
    AuditAction.DEFINITIONS_DRAFT: "draft moved to new definitions",
    AuditAction.SERVICE_ADD: "service added",
    AuditAction.SERVICE_RENAME: "service renamed",
    AuditAction.SERVICE_RETIRE: "service retired or back",
    AuditAction.SERVICE_FORM: "return form laid out",
    AuditAction.CONTEXT_SET: "context figure recorded",
}

# fetch(before_id) runs the query off the UI thread and calls back with the page.
Fetcher = Callable[[int | None, Callable[[list[AuditEntry]], None]], None]


def change_text(entry: AuditEntry) -> str:
    return describe_change(entry.action, entry.old, entry.new)


class HistoryModel(HeadedTableModel):
    """Newest first; more rows arrive in pages as the view scrolls towards the end."""

    HEADERS = COLUMNS
    loading_changed = Signal(bool)

    def __init__(self, fetch: Fetcher | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._fetch = fetch
        self._rows: list[AuditEntry] = []
        self._exhausted = fetch is None
        self._loading = False
        self._generation = 0

    def reset(self, fetch: Fetcher | None) -> None:
        """Start again with a new filter (results of the old one are dropped)."""
        self.beginResetModel()
        self._fetch = fetch
        self._rows = []
        self._exhausted = fetch is None
        self._loading = False
        self._generation += 1
        self.endResetModel()
        if fetch is not None:
            self.fetchMore(QModelIndex())

    def entry(self, row: int) -> AuditEntry:
        return self._rows[row]

    @property
    def loading(self) -> bool:
        return self._loading

    @property
    def exhausted(self) -> bool:
        return self._exhausted

    def canFetchMore(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._exhausted and not self._loading

    def fetchMore(self, parent: _Index = QModelIndex()) -> None:  # noqa: B008
        if not self.canFetchMore(parent) or self._fetch is None:
            return
        self._loading = True
        self.loading_changed.emit(True)
        generation = self._generation
        before = self._rows[-1].id if self._rows else None
        self._fetch(before, lambda page: self._arrived(generation, page))

    def _arrived(self, generation: int, page: list[AuditEntry]) -> None:
        if generation != self._generation:
            return  # a page for a filter that has since changed
        self._loading = False
        if len(page) == 0:
            self._exhausted = True
        else:
            start = len(self._rows)
            self.beginInsertRows(QModelIndex(), start, start + len(page) - 1)
            self._rows.extend(page)
            self.endInsertRows()
        self.loading_changed.emit(False)

    def failed(self) -> None:
        self._loading = False
        self._exhausted = True
        self.loading_changed.emit(False)

    def row_count(self) -> int:
        return len(self._rows)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        e = self._rows[index.row()]
        column = COLUMNS[index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return {
                "When": e.at.astimezone().strftime("%d/%m/%Y %H:%M:%S"),
                "Who": e.actor,
                "What": ACTION_WORDS.get(e.action, e.action),
                "Service": e.service or "",
                "Period": e.period or "",
                "Rev": "" if e.revision is None else str(e.revision),
                "Indicator": e.indicator or "",
                "Change": change_text(e),
                "Why": e.reason or "",
                "Source": e.source or "",
            }[column]
        if role == Qt.ItemDataRole.ToolTipRole and column in ("Change", "Why", "Source"):
            return self.data(index, Qt.ItemDataRole.DisplayRole) or None
        return None
