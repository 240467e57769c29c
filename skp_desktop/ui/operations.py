"""One way to run database work off the UI thread: the Desk every page is handed.

As Anki's QueryOp and CollectionOp (qt/aqt/operations/): an operation is a function handed the
open database, run in the background; its result comes back to the UI thread only while that
database is still the one open (a result read from a database since closed or replaced is
dropped here, so no caller checks it again). A failure goes to the window's one error display
unless the caller handles it. A finished change says what it changed (`Change`) on
`Desk.changed`: accepting a return on Completeness, for instance, tells an open Return page to
read it again. The places that stay on screen while another changes the database listen to it
(the Return place, Completeness, History); Dashboard, Merge and Definitions (unless a draft is
being edited there) read afresh whenever they are shown.

    desk.query(lambda db: completeness(db, ...), self.show_report)
    desk.change(
        lambda db, actor: accept_return(db, ..., actor=actor),
        done,
        changes=Change.RETURNS | Change.HISTORY,
        source=self,  # the page that made it refreshes itself; the others are told
    )

Work that needs no database (writing this computer's own key file) runs by `desk.run`, with
the same error display. Two kinds of work keep their own workers, on purpose: the return
controller's saves run on its serial writer (in order, and able to wait for a database still
opening), and the database session's opening and restore, and the connection dialog's test of
a server, run before there is a database to hand an operation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import Flag, auto
from typing import TYPE_CHECKING, TypeVar

from PySide6.QtCore import QObject, Signal

from skp_desktop.ui.workers import Worker

if TYPE_CHECKING:
    from skp_desktop.services.database import Database
    from skp_desktop.services.dto import ServiceInfo

T = TypeVar("T")


class Change(Flag):
    """What a finished operation changed in the database."""

    RETURNS = auto()  # a return's values, state, queries or answers
    DEFINITIONS = auto()  # indicator definitions or targets (a version published)
    HISTORY = auto()  # the audit history (almost every change adds to it)
    DUE_DATES = auto()
    COMPARATORS = auto()
    KEYS = auto()  # signing keys
    CATALOGUE = auto()  # services, indicators, themes


@dataclass(frozen=True)
class Changed:
    """An announcement on `Desk.changed`: what changed, and who changed it."""

    what: Change
    source: object | None = None  # the page (or controller) whose operation it was

    def touches(self, what: Change) -> bool:
        return bool(self.what & what)


class Desk(QObject):
    """What every page shares with the window: the open database, who is acting, the
    workers, the error display, and the one signal that says what changed."""

    changed = Signal(object)  # Changed
    database_opened = Signal()  # another database (or the same, reopened) is open now
    status = Signal(str)  # a line for the window's status bar

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        database: Callable[[], Database | None],
        actor: Callable[[], str],
        show_error: Callable[[Exception], None],
        chart_theme: Callable[[], str],
        today: date | None = None,
    ) -> None:
        super().__init__(parent)
        self.worker = Worker(self)
        self.charts = Worker(self, serial=True)  # one figure at a time, newest wins
        self._database = database
        self._actor = actor
        self._show_error = show_error
        self._chart_theme = chart_theme
        self.today = today
        # the open database's services and themes (ServiceInfo list, (kind, code, name) list)
        self.catalogue: tuple[list[ServiceInfo], list[tuple[str, str, str]]] = ([], [])
        self.closed = False  # the window is gone: results arriving now are for nobody

    # --- what pages read -------------------------------------------------------------------

    def database(self) -> Database | None:
        """The open database, or None while it opens."""
        return self._database()

    def actor(self) -> str:
        """Who the audit trail names for this window's changes."""
        return self._actor()

    def chart_theme(self) -> str:
        return self._chart_theme()

    def day(self) -> date:
        return self.today or date.today()

    @property
    def writable(self) -> bool:
        """A database is open and changes can be saved to it."""
        db = self.database()
        return db is not None and not getattr(db, "read_only", False)

    def say(self, text: str) -> None:
        """Show a line in the status bar (what an operation did, where a file went)."""
        self.status.emit(text)

    def failed(self, exc: Exception) -> None:
        """The one error display (status line, message bar, dialog as the error needs)."""
        if not self.closed:
            self._show_error(exc)

    # --- operations ------------------------------------------------------------------------

    def query(
        self,
        op: Callable[[Database], T],
        success: Callable[[T], None] | None = None,
        *,
        failure: Callable[[Exception], None] | None = None,
        charts: bool = False,
    ) -> bool:
        """Run `op(db)` in the background, then `success(result)` here; False (nothing run)
        when no database is open. `charts`: on the drawing worker, one at a time."""
        db = self.database()
        if db is None:
            return False
        runner = self.charts if charts else self.worker
        runner.run(lambda: op(db), self._done(db, success), self._failed(failure))
        return True

    def change(
        self,
        op: Callable[[Database, str], T],
        success: Callable[[T], None] | None = None,
        *,
        changes: Change,
        failure: Callable[[Exception], None] | None = None,
        source: object | None = None,
        charts: bool = False,
    ) -> bool:
        """Run `op(db, actor)` in the background; once it succeeds, `success(result)` and then
        `changed` says `changes` (from `source`). False when no database is open."""
        db, actor = self.database(), self.actor()
        if db is None:
            return False
        then = self._done(db, success)

        def done(result: T) -> None:
            then(result)
            if changes and not self.closed and db is self.database():
                self.announce(changes, source)

        runner = self.charts if charts else self.worker
        runner.run(lambda: op(db, actor), done, self._failed(failure))
        return True

    def run(
        self,
        work: Callable[[], T],
        success: Callable[[T], None] | None = None,
        *,
        failure: Callable[[Exception], None] | None = None,
    ) -> None:
        """Work that needs no database (a file of this computer's, such as its signing key) in
        the background, then `success(result)` here unless the window has closed; failures as
        for `query`."""

        def done(result: T) -> None:
            if success is not None and not self.closed:
                success(result)

        self.worker.run(work, done, self._failed(failure))

    def announce(self, changes: Change, source: object | None = None) -> None:
        """Tell every page what changed (for changes made outside `change`, e.g. saves)."""
        self.changed.emit(Changed(changes, source))

    def _done(self, db: Database, success: Callable[[T], None] | None) -> Callable[[T], None]:
        def done(result: T) -> None:
            if success is not None and not self.closed and db is self.database():
                success(result)

        return done

    def _failed(self, failure: Callable[[Exception], None] | None) -> Callable[[Exception], None]:
        def failed(exc: Exception) -> None:
            if self.closed:
                return
            (failure or self.failed)(exc)

        return failed
