"""Loads, saves, undoes, submits and reopens the open return, off the UI thread."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from skp_desktop.domain.errors import SkpError
from skp_desktop.services.dto import ReturnView
from skp_desktop.services.entries import (
    SOURCE_TYPED,
    EntryChange,
    EntryRefused,
    RefusedEntry,
    entry_fields,
    preview_change,
)

log = logging.getLogger(__name__)
# services.returns (and with it SQLAlchemy) is imported inside the workers' functions, so the
# window paints before the database code loads.

Changes = dict[str, dict[str, str | None]]


class EntryCommand(QUndoCommand):
    """One saved edit (one cell, or one paste): redo writes the new entries, undo the old."""

    def __init__(
        self,
        controller: ReturnController,
        key: tuple[str, str],
        new: Changes,
        old: Changes,
        text: str,
        source: str,
    ) -> None:
        super().__init__(text)
        self._source = source
        self._controller = controller
        self._key = key
        self._new = new
        self._old = old
        self._first = True

    def redo(self) -> None:
        reason = None if self._first else "redo"
        self._first = False
        self._controller.save(self._key, self._new, reason=reason, source=self._source)

    def undo(self) -> None:
        self._controller.save(self._key, self._old, reason="undo", source=self._source)


class AnswerCommand(QUndoCommand):
    """One answer to the coordinator's query: redo records it, undo puts the earlier one back."""

    def __init__(
        self,
        controller: ReturnController,
        key: tuple[str, str],
        code: str,
        new: str | None,
        old: str | None,
    ) -> None:
        super().__init__(f"Answer the query on {code}")
        self._controller = controller
        self._key = key
        self._code = code
        self._new = new
        self._old = old

    def redo(self) -> None:
        self._controller.save_answer(self._key, self._code, self._new)

    def undo(self) -> None:
        self._controller.save_answer(self._key, self._code, self._old)


class ReturnController(QObject):
    """The open return: its view, its undo stack, and the background work that changes it."""

    view_changed = Signal(object)  # ReturnView
    saved = Signal(object)  # datetime of the last acknowledged save
    message = Signal(str)  # a short line for the message bar; empty clears it
    failed = Signal(object)  # an exception for the window to show

    def __init__(self, parent: QObject | None = None, *, undo_stack: QUndoStack | None = None):
        super().__init__(parent)
        from skp_desktop.ui.workers import Worker

        self.db: Any = None
        self.view: ReturnView | None = None
        self.undo_stack = undo_stack or QUndoStack(self)
        self._reader = Worker(self)
        self._writer = Worker(self, serial=True)
        self._key: tuple[str, str] | None = None
        self._actor = "unknown"

    # --- set-up --------------------------------------------------------------------------

    def set_database(self, db: Any, actor: str) -> None:
        self.db = db
        self._actor = actor

    @property
    def actor(self) -> str:
        """Who the audit trail names for this window's changes."""
        return self._actor

    @property
    def key(self) -> tuple[str, str] | None:
        return self._key

    def wait_for_saves(self, msecs: int = 30000) -> bool:
        """Block until queued saves are written (before quitting)."""
        return self._writer.wait(msecs)

    @property
    def busy(self) -> bool:
        return self._writer.busy or self._reader.busy

    # --- loading -------------------------------------------------------------------------

    def open_return(self, service: str, period: str) -> None:
        if self.db is None:
            return
        if (service, period) != self._key:
            self.undo_stack.clear()  # undo belongs to one return
        self._key = (service, period)
        db = self.db

        def work() -> ReturnView:
            from skp_desktop.services.returns import get_return

            return get_return(db, service, period)

        self._reader.run(work, self._on_view, self.failed.emit)

    def reload(self) -> None:
        if self._key:
            self.open_return(*self._key)

    def _on_view(self, view: ReturnView) -> None:
        if self._key != (view.service.code, view.period):
            return  # the user has moved on to another return meanwhile
        self.view = view
        self.view_changed.emit(view)

    # --- editing -------------------------------------------------------------------------

    @property
    def editable(self) -> bool:
        if self.db is None or getattr(self.db, "read_only", False):
            return False
        return self.view is not None and self.view.state in ("draft", "not started")

    def request_edit(self, changes: Changes, text: str, *, source: str = SOURCE_TYPED) -> bool:
        """Check an edit as the service would; push it as one undo step when it is good."""
        if self.view is None or self._key is None or not self.editable:
            return False
        refusals: list[RefusedEntry] = []
        old: Changes = {}
        for code, fields in changes.items():
            row = self.view.row(code)
            refusals += preview_change(row, fields)
            old[code] = entry_fields(row)
        if refusals:
            self.message.emit(
                "Not saved: " + "; ".join(f"{r.code} {r.field}: {r.message}" for r in refusals)
            )
            return False
        self.message.emit("")
        self.undo_stack.push(EntryCommand(self, self._key, changes, old, text, source))
        return True

    def save(
        self,
        key: tuple[str, str],
        changes: Changes,
        *,
        reason: str | None,
        source: str = SOURCE_TYPED,
    ) -> None:
        """Write entries to the draft in the background, one transaction, audited."""
        db, actor = self.db, self._actor
        service, period = key

        def work() -> ReturnView:
            from skp_desktop.services.returns import record_entries

            return record_entries(
                db,
                service=service,
                period=period,
                changes=[EntryChange(code, fields) for code, fields in changes.items()],
                actor=actor,
                reason=reason,
                source=source,
            )

        def done(view: ReturnView) -> None:
            self.saved.emit(view.updated_at or datetime.now().astimezone())
            self._on_view(view)

        def failed(exc: Exception) -> None:
            if isinstance(exc, EntryRefused):
                self.message.emit(str(exc))
            self.failed.emit(exc)
            self.reload()

        self._writer.run(work, done, failed)

    def request_answer(self, code: str, text: str) -> bool:
        """Answer the coordinator's query on `code` as one undo step; blank withdraws it."""
        if self.view is None or self._key is None or not self.editable:
            return False
        query = self.view.row(code).query
        if query is None:
            return False
        self.message.emit("")
        new = text.strip() or None
        self.undo_stack.push(AnswerCommand(self, self._key, code, new, query.answer))
        return True

    def save_answer(self, key: tuple[str, str], code: str, answer: str | None) -> None:
        """Record an answer in the background, one transaction, audited."""
        db, actor = self.db, self._actor
        service, period = key

        def work() -> ReturnView:
            from skp_desktop.services.review import answer_queries

            return answer_queries(
                db, service=service, period=period, answers={code: answer}, actor=actor
            )

        def done(view: ReturnView) -> None:
            self.saved.emit(view.updated_at or datetime.now().astimezone())
            self._on_view(view)

        def failed(exc: Exception) -> None:
            if isinstance(exc, SkpError):
                self.message.emit(str(exc))
            self.failed.emit(exc)
            self.reload()

        self._writer.run(work, done, failed)

    # --- submit and reopen ---------------------------------------------------------------

    def submit(self, explanations: dict[str, str]) -> None:
        actor = self._actor

        def call(db: Any, service: str, period: str) -> ReturnView:
            from skp_desktop.services.returns import submit_return

            return submit_return(
                db, service=service, period=period, actor=actor, explanations=explanations
            )

        self._lifecycle(call)

    def reopen(self, reason: str) -> None:
        actor = self._actor

        def call(db: Any, service: str, period: str) -> ReturnView:
            from skp_desktop.services.returns import reopen_return

            return reopen_return(db, service=service, period=period, reason=reason, actor=actor)

        self._lifecycle(call)

    def _lifecycle(self, call: Callable[[Any, str, str], ReturnView]) -> None:
        if self.db is None or self._key is None:
            return
        db, (service, period) = self.db, self._key

        def done(view: ReturnView) -> None:
            self.undo_stack.clear()  # a submitted or new revision starts a fresh history
            self._on_view(view)

        def failed(exc: Exception) -> None:
            if isinstance(exc, SkpError):
                self.message.emit(str(exc))
            self.failed.emit(exc)

        self._writer.run(lambda: call(db, service, period), done, failed)
