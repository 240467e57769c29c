"""Loads, saves, undoes, submits and reopens the open return, off the UI thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from skp_desktop.domain.errors import SkpError, StoreUnavailable
from skp_desktop.domain.vocabulary import Step, allows
from skp_desktop.services.dto import ReturnView
from skp_desktop.services.entries import (
    SOURCE_TYPED,
    EntryChange,
    EntryRefused,
    RefusedEntry,
    entry_fields,
    preview_change,
)

if TYPE_CHECKING:
    from skp_desktop.services.database import Database
    from skp_desktop.ui.operations import Desk

log = logging.getLogger(__name__)
# services.returns (and with it SQLAlchemy) is imported inside the workers' functions, so the
# window paints before the database code loads.

Changes = dict[str, dict[str, str | None]]
# Where a background job writes, and as whom: (database, actor), found when the job runs.
Source = Callable[[], tuple["Database", str]]


class DatabaseNotOpened(StoreUnavailable):
    """A change made while the database was opening, not saved because the open failed."""


class PendingDatabase:
    """The database the window is still opening while it shows a return read quickly
    (services/quick_open.py). Jobs queued meanwhile wait for it in the writer's own thread,
    never in the UI's or the shared pool's (which is opening it)."""

    def __init__(self, *, writable: bool) -> None:
        self.writable = writable  # as far as the quick read could tell
        self._settled = threading.Event()
        self._db: Database | None = None
        self._actor = "unknown"
        self._error: BaseException | None = None

    def resolve(self, db: Database, actor: str) -> None:
        """The database is open (called in the thread that opened it)."""
        self._db, self._actor = db, actor
        self._settled.set()

    def fail(self, error: BaseException) -> None:
        """The database could not be opened: every job waiting for it fails."""
        self._error = error
        self._settled.set()

    def wait(self) -> tuple[Database, str]:
        """(database, actor) once it is open; DatabaseNotOpened if it could not be."""
        self._settled.wait()
        if self._error is not None:
            reason = (str(self._error).strip().splitlines() or [""])[0]
            raise DatabaseNotOpened(
                "This change was not saved: the database could not be opened"
                + (f" ({reason})." if reason else ".")
            )
        assert self._db is not None  # settled without an error: resolve() gave it
        return self._db, self._actor

    def opened(self, timeout: float) -> Database | None:
        """The database once open (None if it failed or is still opening after `timeout`)."""
        self._settled.wait(timeout)
        return self._db


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

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        undo_stack: QUndoStack | None = None,
        desk: Desk | None = None,
    ):
        super().__init__(parent)
        from skp_desktop.ui.workers import Worker

        self._desk = desk  # told what each finished change changed

        self.db: Database | None = None
        # Set while the window shows a quickly read return and the database is still opening.
        self.pending: PendingDatabase | None = None
        self._changes_waiting = 0  # changes made since, not saved until it opens
        self.view: ReturnView | None = None
        self.undo_stack = undo_stack or QUndoStack(self)
        self._reader = Worker(self)
        self._writer = Worker(self, serial=True)
        self._key: tuple[str, str] | None = None
        self._actor = "unknown"

    # --- set-up --------------------------------------------------------------------------

    def set_database(self, db: Database, actor: str) -> None:
        self.db = db
        self._actor = actor
        self.pending = None
        self._changes_waiting = 0

    def expect_database(self, pending: PendingDatabase, view: ReturnView) -> None:
        """Show a return read before the database is open; changes to it are queued until it
        opens (the writer waits for `pending`)."""
        self.pending = pending
        self._changes_waiting = 0
        key = (view.service.code, view.period)
        if key != self._key:
            self.undo_stack.clear()
        self._key = key
        self.view = view
        self.view_changed.emit(view)

    def database_failed(self) -> int:
        """The database being waited for could not be opened: how many changes made meanwhile
        were lost (their jobs fail with DatabaseNotOpened, which the window reports once)."""
        lost = self._changes_waiting
        self.pending = None
        self._changes_waiting = 0
        self.undo_stack.clear()  # its commands would write to a database that is not there
        return lost

    @property
    def read_only_database(self) -> bool:
        if self.db is not None:
            return bool(getattr(self.db, "read_only", False))
        return self.pending is not None and not self.pending.writable

    def _source(self, *, change: bool = False) -> Source:
        """Where a job queued now will work: the open database, or the one still opening
        (then the job must run on the writer, whose thread may wait for it)."""
        if self.db is None and self.pending is not None:
            if change:
                self._changes_waiting += 1
            return self.pending.wait
        db, actor = self.db, self._actor

        def opened() -> tuple[Database, str]:
            if db is None:  # no database and none opening: pages only ask once one is open
                raise DatabaseNotOpened("This change was not saved: no database is open.")
            return db, actor

        return opened

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
        """Work is under way: a read, a save, or the database still opening."""
        return self._writer.busy or self._reader.busy or self.pending is not None

    # --- loading -------------------------------------------------------------------------

    def open_return(self, service: str, period: str) -> None:
        if self.db is None and self.pending is None:
            return
        if (service, period) != self._key:
            self.undo_stack.clear()  # undo belongs to one return
        self._key = (service, period)
        opened = self._source()

        def work() -> ReturnView:
            from skp_desktop.services.returns import get_return

            return get_return(opened()[0], service, period)

        # Behind saves still queued (e.g. made while the database opened), so the view is
        # never older than they are; and only the writer's thread may wait for the database.
        runner = self._writer if self.db is None or self._writer.busy else self._reader
        runner.run(work, self._on_view, self._report)

    def _report(self, exc: Exception) -> None:
        if not isinstance(exc, DatabaseNotOpened):  # the window says that once, for all
            self.failed.emit(exc)

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
        """Typing is taken: a draft (or a return not started) in a database that can be
        written, open or still opening (the save then waits for it)."""
        if self.view is None or not allows(self.view.state, Step.EDIT):
            return False
        if self.db is None and self.pending is None:
            return False
        return not self.read_only_database

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
        opened = self._source(change=True)
        service, period = key

        def work() -> ReturnView:
            from skp_desktop.services.returns import record_entries

            db, actor = opened()
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
            self._announce()

        def failed(exc: Exception) -> None:
            if isinstance(exc, EntryRefused):
                self.message.emit(str(exc))
            self._report(exc)
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
        opened = self._source(change=True)
        service, period = key

        def work() -> ReturnView:
            from skp_desktop.services.review import answer_queries

            db, actor = opened()
            return answer_queries(
                db, service=service, period=period, answers={code: answer}, actor=actor
            )

        def done(view: ReturnView) -> None:
            self.saved.emit(view.updated_at or datetime.now().astimezone())
            self._on_view(view)
            self._announce()

        def failed(exc: Exception) -> None:
            if isinstance(exc, SkpError) and not isinstance(exc, DatabaseNotOpened):
                self.message.emit(str(exc))
            self._report(exc)
            self.reload()

        self._writer.run(work, done, failed)

    # --- submit and reopen ---------------------------------------------------------------

    def submit(self, explanations: dict[str, str]) -> None:
        actor = self._actor

        def call(db: Database, service: str, period: str) -> ReturnView:
            from skp_desktop.services.returns import submit_return

            return submit_return(
                db, service=service, period=period, actor=actor, explanations=explanations
            )

        self._lifecycle(call)

    def reopen(self, reason: str) -> None:
        actor = self._actor

        def call(db: Database, service: str, period: str) -> ReturnView:
            from skp_desktop.services.returns import reopen_return

            return reopen_return(db, service=service, period=period, reason=reason, actor=actor)

        self._lifecycle(call)

    def _announce(self) -> None:
        if self._desk is not None:
            from skp_desktop.ui.operations import Change

            self._desk.announce(Change.RETURNS | Change.HISTORY, self)

    def _lifecycle(self, call: Callable[[Database, str, str], ReturnView]) -> None:
        # Not while the database is still opening: submitting checks the whole return, and
        # reopening asks for a reason; both wait for the return as the open database has it.
        if self.db is None or self._key is None:
            return
        db, (service, period) = self.db, self._key

        def done(view: ReturnView) -> None:
            self.undo_stack.clear()  # a submitted or new revision starts a fresh history
            self._on_view(view)
            self._announce()

        def failed(exc: Exception) -> None:
            if isinstance(exc, SkpError):
                self.message.emit(str(exc))
            self.failed.emit(exc)

        self._writer.run(lambda: call(db, service, period), done, failed)
