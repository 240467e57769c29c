"""The database the window works on: opening it, the quick look, read-only, backups, restore
and who is acting.

Opening is in two steps so a return is on screen at once: a quick read of a SQLite file
(services/quick_open.py, stdlib sqlite3) shows the last return while the database is opened
fully (migrated, catalogue loaded) in the background; edits made meanwhile wait for it
(return_controller.PendingDatabase). Pages learn of a new database from Desk.database_opened.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from skp_desktop import APP_NAME
from skp_desktop.domain.errors import SkpError, StoreUnavailable
from skp_desktop.ui.dialogs import dialogs

if TYPE_CHECKING:
    from datetime import date
    from os import PathLike

    from PySide6.QtWidgets import QWidget
    from sqlalchemy.engine import URL

    from skp_desktop.services.backups import BackupInfo
    from skp_desktop.services.connection import ServerAddress
    from skp_desktop.services.database import Database
    from skp_desktop.services.dto import ServiceInfo
    from skp_desktop.services.quick_open import QuickStart
    from skp_desktop.ui.operations import Desk
    from skp_desktop.ui.return_controller import PendingDatabase, ReturnController
    from skp_desktop.ui.return_place import ReturnPlace
    from skp_desktop.ui.settings import Settings

log = logging.getLogger(__name__)


class DatabaseSession(QObject):
    """Opens, reopens (read-only or not), backs up and restores the window's database."""

    opened = Signal(object)  # the Database, once the return controller and the pages have it
    read_only_changed = Signal(bool)  # the read-only tick as it should be shown
    recent_changed = Signal()  # the recent databases list changed

    def __init__(
        self,
        window: QWidget,
        desk: Desk,
        settings: Settings,
        *,
        target: str | PathLike[str] | URL | None,
        actor: str | None,
        read_only: bool,
        today: date | None,
    ) -> None:
        super().__init__(window)
        self.window = window  # the parent of the session's dialogs
        self.desk = desk
        self.worker = desk.worker
        self.settings = settings
        self.target = target  # a path, or a server URL (with its password, in memory only)
        self.actor_name = actor
        self.read_only = read_only
        self.today = today
        self.disposed = False  # results still arriving from the background are for nobody
        self.place: ReturnPlace | None = None

    def attach(self, place: ReturnPlace) -> None:
        """The Return place shows what is opened (built after the first paint)."""
        self.place = place

    @property
    def attached(self) -> ReturnPlace:
        """The Return place (every use is after `attach`)."""
        assert self.place is not None, "attach() the Return place first"
        return self.place

    @property
    def controller(self) -> ReturnController:
        return self.attached.controller

    # --- opening ---------------------------------------------------------------------------

    def choose_database(self) -> None:
        path = dialogs.open_database_file(self.window)
        if path:
            self.open_database(path)

    def connect_to_server(self, address: ServerAddress | None = None, message: str = "") -> None:
        """File ▸ Connect to a shared database…: the dialog, then the window on its choice."""
        target = dialogs.ask_connection(self.window, address=address, message=message)
        if target is not None:
            self.open_database(target)

    def open_database(self, target: str | PathLike[str] | URL | None) -> None:
        """Open a SQLite path or a server URL (text, or a URL holding the password)."""
        if self.controller.pending is not None:
            # The window shows a return from a quick read and queues its edits for the
            # database now opening; another open meanwhile would split them between two.
            self.desk.say("The database is still opening: try again in a moment.")
            return
        read_only = self.read_only
        self.attached.page.setEnabled(False)
        self.desk.say("Opening the database…")
        if self.controller.db is None:
            self._look_first(target, read_only)
        else:
            self._open_fully(target, read_only, None)

    def _look_first(self, target: str | PathLike[str] | URL | None, read_only: bool) -> None:
        """Show the return from a quick read of a SQLite file (stdlib sqlite3: no SQLAlchemy
        to wait for), then open the database fully; when the quick read cannot be trusted it
        gives nothing and the window opens the database as it always has."""
        self.attached.page.select_period(self.settings.last_period)
        service, period = self.settings.last_service, self.attached.page.current_selection()[1]
        today = self.today

        def work() -> QuickStart | None:
            from skp_desktop.services.quick_open import quick_start

            return quick_start(target, service, period, today=today)

        def done(quick: QuickStart | None) -> None:
            if self.disposed:
                return
            pending = None
            if quick is not None and self.controller.db is None:
                pending = self._show_quick(quick, read_only)
            self._open_fully(target, read_only, pending)

        def failed(exc: Exception) -> None:  # quick_start says None rather than raise
            log.warning("quick read failed", exc_info=exc)
            self._open_fully(target, read_only, None)

        self.worker.run(work, done, failed)

    def _show_quick(self, quick: QuickStart, read_only: bool) -> PendingDatabase:
        from skp_desktop.ui.return_controller import PendingDatabase

        pending = PendingDatabase(writable=quick.writable and not read_only)
        self.attached.page.set_services(quick.services, quick.view.service.code)
        self.attached.page.select_period(quick.view.period)
        self.controller.expect_database(pending, quick.view)  # shows it (view_changed)
        self.attached.page.setEnabled(True)
        return pending

    def _open_fully(
        self,
        target: str | PathLike[str] | URL | None,
        read_only: bool,
        pending: PendingDatabase | None,
    ) -> None:
        """Open (migrate, load the catalogue if need be) in the background; `pending` is the
        database the shown return's queued edits wait for."""

        def work() -> tuple[Database, list[ServiceInfo], list[tuple[str, str, str]], str]:
            from skp_desktop.services.catalogue import list_services, list_themes
            from skp_desktop.services.database import (
                acting_actor,
                checked_actor,
                default_actor,
                open_database,
            )

            try:
                # the one place the app's actor comes in: a name the history cannot hold is
                # said before anything is opened (PostgreSQL would refuse it at the first save)
                actor = checked_actor(self.actor_name or default_actor(), given_as="SKP_ACTOR")
                db = open_database(target, actor=actor, read_only=read_only)
                actor = acting_actor(db, actor)  # a shared database says who acts: the login
                result = db, list_services(db), list_themes(db), actor
            except BaseException as exc:
                if pending is not None:
                    pending.fail(exc)
                raise
            if pending is not None:
                pending.resolve(db, actor)  # queued saves are written now, on the writer
            return result

        def failed(exc: Exception) -> None:
            from skp_desktop.services.connection import LoginRefused, address_of, is_server

            if self.disposed:
                return
            if pending is not None and self.controller.pending is pending:
                self._quick_open_failed(exc)
                return
            if self.controller.db is not None:  # the database open before stays usable
                self.attached.page.setEnabled(True)
            if isinstance(exc, LoginRefused) and is_server(target):
                # e.g. a recent server database, remembered without its password: ask for it
                self.desk.say(str(exc).splitlines()[0])
                self.connect_to_server(address_of(target), str(exc))
                return
            self.desk.failed(exc)

        self.worker.run(work, lambda result: self._on_opened(result, target), failed)

    def _quick_open_failed(self, exc: Exception) -> None:
        """The database behind a quickly shown return could not be opened: say so once, with
        what was typed meanwhile that is therefore not saved."""
        lost = self.controller.database_failed()
        view = self.controller.view
        if view is not None:
            # as read from the file: nothing typed since is shown as kept
            self.attached.show_view(view)
        self.attached.page.setEnabled(False)
        if lost == 0:
            self.desk.failed(exc)  # as when no return was shown first
            return
        kept = (
            "The change you made while it was opening was NOT saved."
            if lost == 1
            else f"The {lost} changes you made while it was opening were NOT saved."
        )
        self.desk.say(f"The database could not be opened. {kept}")
        self.attached.page.show_message(kept)
        if not isinstance(exc, SkpError):
            log.error("the database could not be opened", exc_info=exc)
        dialogs.error(self.window, APP_NAME, f"{exc}\n\nThe database could not be opened. {kept}")

    def _on_opened(
        self,
        result: tuple[Database, list[ServiceInfo], list[tuple[str, str, str]], str],
        target: str | PathLike[str] | URL | None = None,
    ) -> None:
        db, services, themes, actor = result
        if self.disposed:  # closed while it opened: nobody will use it
            db.dispose()  # (again, if dispose() had it from the pending handle: harmless)
            return
        if self.controller.db is not None:
            self.controller.wait_for_saves()
            self.controller.db.dispose()
        shown_early = self.controller.pending is not None
        self.controller.set_database(db, actor)
        if shown_early:  # a trend asked for while it was opening is drawn now
            self.attached.database_opened()
        from skp_desktop.services.connection import remembered

        # The URL with its password stays in memory (read-only mode reopens it); settings and
        # the recent list get it without.
        self.target = db.display_name if db.is_sqlite else target
        self.settings.add_recent_database(db.display_name if db.is_sqlite else remembered(db.url))
        self.recent_changed.emit()
        self.desk.catalogue = (services, themes)
        self.desk.database_opened.emit()
        page = self.attached.page
        page.set_services(services, self.settings.last_service)
        page.select_period(self.settings.last_period)
        page.setEnabled(True)
        service, period = page.current_selection()
        if service and period:
            self.attached.open_return(service, period)
        self.opened.emit(db)
        if db.read_only_reason and not self.read_only:
            self.read_only = True  # so the menu says so; unticking it tries again
            self.read_only_changed.emit(True)
            dialogs.information(
                self.window,
                APP_NAME,
                f"The database is open read-only because {db.read_only_reason}.\n\n"
                f"{db.display_name}\n\nEverything can be seen, checked and exported, but "
                "nothing can be changed. To make changes, copy the database to a folder you can "
                "write to and open the copy (File ▸ Open database).",
            )
        if db.is_sqlite and not db.read_only:
            self._daily_backup()

    def _daily_backup(self) -> None:
        """Once a day of use, kept for a week; made after the return is asked for, so a big
        database's copy does not hold up the grid."""

        def work(db: Database) -> str:
            from skp_desktop.services.backups import daily_backup

            try:
                daily_backup(db)
            except StoreUnavailable as exc:  # e.g. a full disk: the data is still there
                return str(exc)
            return ""

        def done(problem: str) -> None:
            if problem:
                dialogs.error(
                    self.window,
                    APP_NAME,
                    f"Today's backup of the database could not be made.\n\n{problem}",
                )

        self.desk.query(work, done)

    # --- backups and read-only ------------------------------------------------------------

    def backup_now(self) -> None:
        def work(db: Database) -> BackupInfo:
            from skp_desktop.services.backups import backup_now

            return backup_now(db)

        self.desk.query(work, lambda info: self.desk.say(f"Backed up to {info.path}"))

    def restore_backup(self) -> None:
        db = self.desk.database()
        if db is None or not db.is_sqlite:
            return
        from pathlib import Path

        folder = Path(db.display_name).parent / "backups"
        path = dialogs.open_file(
            self.window, "Restore a backup", str(folder), "SKP Returns databases (*.sqlite3 *.db)"
        )
        if not path or not dialogs.confirm(
            self.window,
            "Restore a backup",
            f"Replace the database with the backup {Path(path).name}?\n\nThe database as it "
            "is now is kept as a backup first, so this can be undone.",
        ):
            return
        target = db.display_name
        self.controller.wait_for_saves()
        self.controller.db = None
        db.dispose()

        def work() -> BackupInfo | None:
            from skp_desktop.services.backups import restore

            return restore(target, path)

        def done(before: BackupInfo | None) -> None:
            self.open_database(target)
            # A dialog, not the status line: loading the return rewrites that at once.
            kept = f"\n\nThe database as it was is kept as {before.path}." if before else ""
            dialogs.information(
                self.window, "Restore a backup", f"Restored the backup {Path(path).name}.{kept}"
            )

        def failed(exc: Exception) -> None:
            self.desk.failed(exc)
            self.open_database(target)

        self.worker.run(work, done, failed)

    def set_read_only(self, read_only: bool) -> None:
        """Reopen the same database read-only (auditor mode) or for changes."""
        if read_only == self.read_only:
            return
        if self.place is not None and self.controller.pending is not None:
            self.read_only_changed.emit(self.read_only)  # not now: see open_database
            self.desk.say("The database is still opening: try again in a moment.")
            return
        self.read_only = read_only
        if self.place is not None:
            self.open_database(self.target)

    # --- closing ---------------------------------------------------------------------------

    def dispose(self) -> None:
        """Release the database; call after the window is closed and workers are idle."""
        self.disposed = True
        if self.place is None:
            return
        controller = self.controller
        controller.wait_for_saves()
        pending = controller.pending
        if pending is not None:  # closed before the database it was opening was handed over
            db = pending.opened(timeout=60)
            self.worker.wait(60000)  # the open's task ends here, not after the window is gone
            controller.pending = None
            if db is not None:
                db.dispose()
        if controller.db is not None:
            controller.db.dispose()
            controller.db = None
