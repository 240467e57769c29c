"""The one main window: places on the left, the page in the middle, context on the right."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QAction, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QTextBrowser,
)

from skp_desktop import APP_NAME, __version__
from skp_desktop.domain.errors import SkpError, StoreUnavailable
from skp_desktop.ui.dialogs import dialogs
from skp_desktop.ui.operations import Desk
from skp_desktop.ui.settings import Settings
from skp_desktop.ui.theme import THEMES, apply_theme, confirm_system_theme

if TYPE_CHECKING:
    from datetime import date

    from PySide6.QtGui import QCloseEvent

    from skp_desktop.services.dto import ReturnView, ServiceInfo
    from skp_desktop.ui.definition_panel import DefinitionPanel
    from skp_desktop.ui.pages.completeness_page import CompletenessPage
    from skp_desktop.ui.pages.dashboard_page import DashboardPage
    from skp_desktop.ui.pages.definitions_page import DefinitionsPage
    from skp_desktop.ui.pages.history_page import HistoryPage
    from skp_desktop.ui.pages.import_page import ImportPage
    from skp_desktop.ui.pages.merge_page import MergePage
    from skp_desktop.ui.pages.return_page import ReturnPage
    from skp_desktop.ui.problems_panel import ProblemsPanel
    from skp_desktop.ui.return_controller import PendingDatabase, ReturnController

log = logging.getLogger(__name__)

PLACES = ("Return", "Dashboard", "Import", "Completeness", "Merge", "Definitions", "History")


class MainWindow(QMainWindow):
    """SKP Returns' main window.

    Start-up is in two steps so the window is on screen at once: the constructor builds only
    the frame (Qt widgets, no domain or database code); `start()` builds the pages and opens
    the database in the background.
    """

    return_page: ReturnPage
    definition_panel: DefinitionPanel
    problems_panel: ProblemsPanel

    def __init__(
        self,
        database_target: str | None = None,
        *,
        settings: Settings | None = None,
        today: date | None = None,
        actor: str | None = None,
        read_only: bool = False,
    ) -> None:
        super().__init__()
        self._target = database_target
        self._settings = settings or Settings()
        self._actor = actor
        self._today = today
        self._read_only = read_only
        # every page's database work goes through the desk (ui/operations.py)
        self.desk = Desk(
            self,
            database=lambda: self.database,
            actor=lambda: self.controller.actor if self.controller else "unknown",
            show_error=self._on_failure,
            chart_theme=self._chart_theme,
            today=today,
        )
        self._worker, self._charts = self.desk.worker, self.desk.charts
        self._showing_store_problem = False
        self._disposed = False
        self.undo_stack = QUndoStack(self)
        self.controller: ReturnController | None = None
        self._built_pages: dict[str, Any] = {}
        self.setWindowTitle(APP_NAME)
        screen = QApplication.primaryScreen()
        if screen is not None:  # first start: most of a small laptop screen, not all of a big one
            available = screen.availableGeometry()
            self.resize(min(1440, available.width()), min(900, available.height()))
        self.setMinimumSize(960, 560)

        self.places = QListWidget()
        self.places.setAccessibleName("Places")
        for number, name in enumerate(PLACES, start=1):
            item = QListWidgetItem(name)
            item.setToolTip(f"{name} (Ctrl+{number})")
            self.places.addItem(item)
        self.pages = QStackedWidget()
        # Centred by its markup: setAlignment would create Qt's enum namespace before the
        # first paint (see _dock_side_panel).
        self._opening = QLabel("<p align='center'>Opening the database…</p>")
        self.pages.addWidget(self._opening)
        self.places.currentRowChanged.connect(self._show_place)

        self.splitter = QSplitter()
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.places)
        self.splitter.addWidget(self.pages)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([110, 1000])
        self.splitter.setChildrenCollapsible(False)
        self.setCentralWidget(self.splitter)

        self.side_tabs = QTabWidget()
        self.side_tabs.setAccessibleName("Side panel")
        self.side_panel = QDockWidget("Details", self)
        self.side_panel.setObjectName("sidePanel")
        self.side_panel.setWidget(self.side_tabs)
        self.side_panel.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetClosable
            | QDockWidget.DockWidgetFeature.DockWidgetMovable
        )
        self.side_panel.setMinimumWidth(260)

        self.status_state = QLabel("Opening the database…")
        self.status_state.setAccessibleName("Return status")
        self.status_db = QLabel()
        self.status_db.setAccessibleName("Database")
        self.statusBar().addWidget(self.status_state, 1)
        self.statusBar().addPermanentWidget(self.status_db)
        self.desk.status.connect(self.status_state.setText)

        self._build_menus()

        geometry = self._settings.window_geometry()
        if geometry is not None:
            self.restoreGeometry(geometry)
        splitter = self._settings.splitter_state()
        if splitter is not None:
            self.splitter.restoreState(splitter)

    def _dock_side_panel(self) -> None:
        """The side panel joins the window with the pages, after the first paint: placing a
        dock needs Qt's enum namespace, which PySide6 takes 30-50 ms to create (bench/startup)."""
        from PySide6.QtCore import Qt

        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.side_panel)
        self.resizeDocks([self.side_panel], [280], Qt.Orientation.Horizontal)
        state = self._settings.window_state()
        if state is not None:
            self.restoreState(state)  # the docks' places: only once they are in the window

    def _build_pages(self) -> None:
        """The Return place and the side panel, with the domain code they need (after the
        first paint). The other places are built on their first visit (`_page`): most days a
        service manager opens only the return, and building them all doubled the time to it."""
        if self.controller is not None:
            return
        from PySide6.QtWidgets import QWidget

        self._dock_side_panel()

        from skp_desktop.ui.return_place import ReturnPlace

        self.return_place = place = ReturnPlace(
            self, self.desk, self._settings, self.undo_stack, today=self._today
        )
        self.controller = place.controller
        self.return_page = place.page
        self.definition_panel = place.definition_panel
        self.problems_panel = place.problems_panel
        place.title_changed.connect(self.setWindowTitle)
        place.side_wanted.connect(self.side_tabs.setCurrentWidget)
        place.wanted.connect(lambda: self.places.setCurrentRow(PLACES.index("Return")))
        self.pages.addWidget(self.return_page)
        for _name in PLACES[1:]:
            self.pages.addWidget(QWidget())  # stands in until the place is first visited
        self.pages.removeWidget(self._opening)
        self._opening.deleteLater()
        self.side_tabs.addTab(self.definition_panel, "&Indicator")
        self.side_tabs.addTab(self.problems_panel, "Pro&blems")
        self.event_panel = QTextBrowser()
        self.event_panel.setAccessibleName("Event details")
        self.side_tabs.addTab(self.event_panel, "E&vent")
        self.places.setCurrentRow(0)

    # --- the places other than Return, built on first use --------------------------------

    def _page(self, place: str) -> Any:
        """The page of a place, built and put in its slot the first time it is wanted."""
        page = self._built_pages.get(place)
        if page is None:
            self._build_pages()
            make = {
                "Dashboard": self._make_dashboard_page,
                "Import": self._make_import_page,
                "Completeness": self._make_completeness_page,
                "Merge": self._make_merge_page,
                "Definitions": self._make_definitions_page,
                "History": self._make_history_page,
            }[place]
            page = make()
            self._built_pages[place] = page
            index = PLACES.index(place)
            stand_in = self.pages.widget(index)
            self.pages.insertWidget(index, page)
            self.pages.removeWidget(stand_in)
            stand_in.deleteLater()
        return page

    def _is_built(self, place: str) -> bool:
        return place in self._built_pages

    @property
    def dashboard_page(self) -> DashboardPage:
        return self._page("Dashboard")

    @property
    def import_page(self) -> ImportPage:
        return self._page("Import")

    @property
    def completeness_page(self) -> CompletenessPage:
        return self._page("Completeness")

    @property
    def merge_page(self) -> MergePage:
        return self._page("Merge")

    @property
    def definitions_page(self) -> DefinitionsPage:
        return self._page("Definitions")

    @property
    def history_page(self) -> HistoryPage:
        return self._page("History")

    def _make_dashboard_page(self) -> DashboardPage:
        from skp_desktop.ui.pages.dashboard_page import DashboardPage

        return DashboardPage(self.desk, lambda: self.return_page.current_selection()[1])

    def _make_import_page(self) -> ImportPage:
        from skp_desktop.ui.pages.import_page import ImportPage

        return ImportPage(self.desk)

    def _make_completeness_page(self) -> CompletenessPage:
        from skp_desktop.ui.pages.completeness_page import CompletenessPage

        page = CompletenessPage(self.desk)
        page.open_return_requested.connect(self.return_place.show_return_at)
        return page

    def _make_merge_page(self) -> MergePage:
        from skp_desktop.ui.pages.merge_page import MergePage

        page = MergePage(self.desk)
        page.review_requested.connect(
            lambda: self.places.setCurrentRow(PLACES.index("Completeness"))
        )
        return page

    def _make_definitions_page(self) -> DefinitionsPage:
        from skp_desktop.ui.pages.definitions_page import DefinitionsPage

        return DefinitionsPage(self.desk)

    def _make_history_page(self) -> HistoryPage:
        from skp_desktop.ui.pages.history_page import HistoryPage

        page = HistoryPage(self.desk)
        page.event_selected.connect(self._show_event)
        return page

    def _show_place(self, row: int) -> None:
        if not 0 <= row < len(PLACES) or self.controller is None:
            return
        page = self.return_page if row == 0 else self._page(PLACES[row])
        self.pages.setCurrentWidget(page)
        if PLACES[row] == "Dashboard":
            page.refresh()
        elif PLACES[row] == "History":
            page.reload()

    # --- menus ---------------------------------------------------------------------------

    def _build_menus(self) -> None:
        # setShortcuts, not setShortcut: PySide6 resolves setShortcut's overloads by creating
        # Qt's whole enum namespace (30-50 ms), which the first paint does without.
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        open_action = QAction("&Open database…", self)
        open_action.setShortcuts(QKeySequence.StandardKey.Open)
        open_action.triggered.connect(self.choose_database)
        file_menu.addAction(open_action)
        connect_action = QAction("&Connect to a shared database…", self)
        connect_action.setToolTip("Open the partnership's database on a PostgreSQL server")
        connect_action.triggered.connect(lambda: self.connect_to_server())
        file_menu.addAction(connect_action)
        self.connect_action = connect_action
        self.recent_menu = file_menu.addMenu("Open &recent")
        self._fill_recent()
        self.read_only_action = QAction("Read-only (&auditor) mode", self)
        self.read_only_action.setCheckable(True)
        self.read_only_action.setChecked(self._read_only)
        self.read_only_action.setToolTip("Open the database so that nothing can be changed")
        self.read_only_action.toggled.connect(self.set_read_only)
        file_menu.addAction(self.read_only_action)
        file_menu.addSeparator()
        backup = QAction("&Back up now", self)
        backup.triggered.connect(self.backup_now)
        restore = QAction("Res&tore a backup…", self)
        restore.triggered.connect(self.restore_backup)
        file_menu.addActions([backup, restore])
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcuts(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        edit_menu = bar.addMenu("&Edit")
        undo = self.undo_stack.createUndoAction(self, "&Undo")
        undo.setShortcuts(QKeySequence.StandardKey.Undo)
        redo = self.undo_stack.createRedoAction(self, "&Redo")
        redo_keys = QKeySequence.keyBindings(QKeySequence.StandardKey.Redo)
        if QKeySequence("Ctrl+Y") not in redo_keys:  # Windows habit, also wanted elsewhere
            redo_keys.append(QKeySequence("Ctrl+Y"))
        redo.setShortcuts(redo_keys)
        edit_menu.addActions([undo, redo])
        self.undo_action, self.redo_action = undo, redo
        edit_menu.addSeparator()
        for label, symbol in (
            ("Mark not &available [x]", "[x]"),
            ("Mark not a&pplicable [z]", "[z]"),
        ):
            action = QAction(label, self)
            action.triggered.connect(lambda _=False, s=symbol: self.mark_symbol(s))
            edit_menu.addAction(action)

        view_menu = bar.addMenu("&View")
        for number, name in enumerate(PLACES, start=1):
            action = QAction(name, self)
            action.setShortcuts([QKeySequence(f"Ctrl+{number}")])
            action.triggered.connect(lambda _=False, row=number - 1: self.places.setCurrentRow(row))
            view_menu.addAction(action)
        toggle = self.side_panel.toggleViewAction()
        toggle.setText("Side &panel")
        toggle.setShortcuts([QKeySequence("F9")])
        view_menu.addAction(toggle)
        theme_menu = view_menu.addMenu("&Theme")
        for theme in THEMES:
            action = QAction(theme.capitalize(), self)
            action.triggered.connect(lambda _=False, t=theme: self.set_theme(t))
            theme_menu.addAction(action)

        return_menu = bar.addMenu("&Return")
        submit = QAction("&Submit…", self)
        submit.triggered.connect(self.submit)
        reopen = QAction("&Reopen…", self)
        reopen.triggered.connect(self.reopen)
        reload = QAction("Re&fresh", self)
        reload.setShortcuts(QKeySequence.StandardKey.Refresh)
        reload.triggered.connect(lambda: self._on_return("reload"))
        export = QAction("&Export as Excel…", self)
        export.setShortcuts([QKeySequence("Ctrl+E")])
        export.triggered.connect(lambda: self._on_return("export_return"))
        template = QAction("Blank return (&template)…", self)
        template.triggered.connect(lambda: self._on_return("write_template"))
        return_menu.addActions([submit, reopen, reload, export, template])

        history_menu = bar.addMenu("Hi&story")
        verify = QAction("&Verify history", self)
        verify.triggered.connect(self._verify_from_menu)
        history_menu.addAction(verify)

        help_menu = bar.addMenu("&Help")
        paste_help = QAction("&Entering values", self)
        paste_help.setShortcuts(QKeySequence.StandardKey.HelpContents)
        paste_help.triggered.connect(self.show_entry_help)
        about = QAction("&About SKP Returns", self)
        about.triggered.connect(self.show_about)
        help_menu.addActions([paste_help, about])

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        recent = self._settings.recent_databases()
        for path in recent:
            action = QAction(path, self)
            action.triggered.connect(lambda _=False, p=path: self.open_database(p))
            self.recent_menu.addAction(action)
        self.recent_menu.setEnabled(bool(recent))

    def set_theme(self, theme: str) -> None:
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, theme)
            confirm_system_theme(app, theme)
        self._settings.theme = theme
        if self.controller is not None and self.controller.view is not None:
            self._on_view(self.controller.view)  # RAG colours follow the theme
        if self._is_built("Dashboard") and self.pages.currentWidget() is self.dashboard_page:
            self.dashboard_page.refresh()

    def show_entry_help(self) -> None:
        from skp_desktop.ui.pages.return_page import PASTE_HELP

        dialogs.information(
            self,
            "Entering values",
            "Type into a cell to enter a value; Enter moves down, Tab moves right, F2 edits, "
            "Escape cancels. Rates take a numerator and a denominator; the value is worked "
            "out. Type [x] when a figure is not available and [z] when it does not apply. "
            "Every value is saved as soon as you leave the cell; Ctrl+Z undoes it.\n\n"
            + PASTE_HELP,
        )

    def show_about(self) -> None:
        from PySide6.QtWidgets import QMessageBox

        from skp_desktop.logs import log_path

        db = self.database
        database = db.display_name if db is not None else "(not open)"
        QMessageBox.about(
            self,
            f"About {APP_NAME}",
            f"<b>{APP_NAME}</b> {__version__}<br>Performance returns for the Safer Kingston "
            f"Partnership.<br><br>Database: {database}<br>Log file: {log_path()}"
            f"<br>Crash traces: {log_path().with_suffix('.crash.log')}",
        )

    # --- database ------------------------------------------------------------------------

    def start(self) -> None:
        """Build the pages and open the database in the background; the frame is on screen."""
        # The system's colour scheme as Qt reports it: before the paint only guessed (theme.py).
        confirm_system_theme(QApplication.instance(), self._settings.theme)
        self._build_pages()
        self.open_database(self._target)

    def choose_database(self) -> None:
        path = dialogs.open_database_file(self)
        if path:
            self.open_database(path)

    def connect_to_server(self, address: Any = None, message: str = "") -> None:
        """File ▸ Connect to a shared database…: the dialog, then the window on its choice."""
        target = dialogs.ask_connection(self, address=address, message=message)
        if target is not None:
            self.open_database(target)

    def open_database(self, target: Any) -> None:
        """Open a SQLite path or a server URL (text, or a URL holding the password)."""
        if self.controller.pending is not None:
            # The window shows a return from a quick read and queues its edits for the
            # database now opening; another open meanwhile would split them between two.
            self.status_state.setText("The database is still opening: try again in a moment.")
            return
        read_only = self._read_only
        self.return_page.setEnabled(False)
        self.status_state.setText("Opening the database…")
        if self.controller.db is None:
            self._look_first(target, read_only)
        else:
            self._open_fully(target, read_only, None)

    def _look_first(self, target: Any, read_only: bool) -> None:
        """Show the return from a quick read of a SQLite file (stdlib sqlite3: no SQLAlchemy
        to wait for), then open the database fully; when the quick read cannot be trusted it
        gives nothing and the window opens the database as it always has."""
        self.return_page.select_period(self._settings.last_period)
        service, period = self._settings.last_service, self.return_page.current_selection()[1]
        today = self._today

        def work() -> Any:
            from skp_desktop.services.quick_open import quick_start

            return quick_start(target, service, period, today=today)

        def done(quick: Any) -> None:
            if self._disposed:
                return
            pending = None
            if quick is not None and self.controller.db is None:
                pending = self._show_quick(quick, read_only)
            self._open_fully(target, read_only, pending)

        def failed(exc: Exception) -> None:  # quick_start says None rather than raise
            log.warning("quick read failed", exc_info=exc)
            self._open_fully(target, read_only, None)

        self._worker.run(work, done, failed)

    def _show_quick(self, quick: Any, read_only: bool) -> PendingDatabase:
        from skp_desktop.ui.return_controller import PendingDatabase

        pending = PendingDatabase(writable=quick.writable and not read_only)
        self.return_page.set_services(quick.services, quick.view.service.code)
        self.return_page.select_period(quick.view.period)
        self.controller.expect_database(pending, quick.view)  # shows it (view_changed)
        self.return_page.setEnabled(True)
        return pending

    def _open_fully(self, target: Any, read_only: bool, pending: PendingDatabase | None) -> None:
        """Open (migrate, load the catalogue if need be) in the background; `pending` is the
        database the shown return's queued edits wait for."""

        def work() -> tuple[Any, list[ServiceInfo], list[tuple[str, str, str]], str]:
            from skp_desktop.services.catalogue import list_services, list_themes
            from skp_desktop.services.database import checked_actor, default_actor, open_database

            try:
                # the one place the app's actor comes in: a name the history cannot hold is
                # said before anything is opened (PostgreSQL would refuse it at the first save)
                actor = checked_actor(self._actor or default_actor(), given_as="SKP_ACTOR")
                db = open_database(target, actor=actor, read_only=read_only)
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

            if self._disposed:
                return
            if pending is not None and self.controller.pending is pending:
                self._quick_open_failed(exc)
                return
            if self.controller.db is not None:  # the database open before stays usable
                self.return_page.setEnabled(True)
            if isinstance(exc, LoginRefused) and is_server(target):
                # e.g. a recent server database, remembered without its password: ask for it
                self.status_state.setText(str(exc).splitlines()[0])
                self.connect_to_server(address_of(target), str(exc))
                return
            self._on_failure(exc)

        self._worker.run(work, lambda result: self._on_opened(result, target), failed)

    def _quick_open_failed(self, exc: Exception) -> None:
        """The database behind a quickly shown return could not be opened: say so once, with
        what was typed meanwhile that is therefore not saved."""
        lost = self.controller.database_failed()
        view = self.controller.view
        if view is not None:
            self._on_view(view)  # as read from the file: nothing typed since is shown as kept
        self.return_page.setEnabled(False)
        if lost == 0:
            self._on_failure(exc)  # as when no return was shown first
            return
        kept = (
            "The change you made while it was opening was NOT saved."
            if lost == 1
            else f"The {lost} changes you made while it was opening were NOT saved."
        )
        self.status_state.setText(f"The database could not be opened. {kept}")
        self.return_page.show_message(kept)
        if not isinstance(exc, SkpError):
            log.error("the database could not be opened", exc_info=exc)
        dialogs.error(self, APP_NAME, f"{exc}\n\nThe database could not be opened. {kept}")

    def _on_opened(
        self, result: tuple[Any, list[ServiceInfo], list[Any], str], target: Any = None
    ) -> None:
        db, services, themes, actor = result
        if self._disposed:  # closed while it opened: nobody will use it
            db.dispose()  # (again, if dispose() had it from the pending handle: harmless)
            return
        if self.controller.db is not None:
            self.controller.wait_for_saves()
            self.controller.db.dispose()
        shown_early = self.controller.pending is not None
        self.controller.set_database(db, actor)
        if shown_early:  # a trend asked for while it was opening is drawn now
            self.return_place.database_opened()
        mode = " (read-only)" if db.read_only else ""
        self.status_db.setText(f"Database: {db.display_name}{mode}")
        from skp_desktop.services.connection import remembered

        # The URL with its password stays in memory (read-only mode reopens it); settings and
        # the recent list get it without.
        self._target = db.display_name if db.is_sqlite else target
        self._settings.add_recent_database(db.display_name if db.is_sqlite else remembered(db.url))
        self._fill_recent()
        self.desk.catalogue = (services, themes)
        self.desk.database_opened.emit()
        self.return_page.set_services(services, self._settings.last_service)
        self.return_page.select_period(self._settings.last_period)
        self.return_page.setEnabled(True)
        service, period = self.return_page.current_selection()
        if service and period:
            self.return_place.open_return(service, period)
        place = PLACES[self.places.currentRow()] if self.places.currentRow() >= 0 else ""
        if place in ("Dashboard", "History") and self._is_built(place):
            self._show_place(self.places.currentRow())  # visited while it opened: fill it now
        if db.read_only_reason and not self._read_only:
            self._read_only = True  # so the menu says so; unticking it tries again
            self.read_only_action.blockSignals(True)
            self.read_only_action.setChecked(True)
            self.read_only_action.blockSignals(False)
            dialogs.information(
                self,
                APP_NAME,
                f"The database is open read-only because {db.read_only_reason}.\n\n"
                f"{db.display_name}\n\nEverything can be seen, checked and exported, but "
                "nothing can be changed. To make changes, copy the database to a folder you can "
                "write to and open the copy (File ▸ Open database).",
            )
        if db.is_sqlite and not db.read_only:
            self._daily_backup(db)

    def _daily_backup(self, db: Any) -> None:
        """Once a day of use, kept for a week; made after the return is asked for, so a big
        database's copy does not hold up the grid."""

        def work() -> str:
            from skp_desktop.services.backups import daily_backup

            try:
                daily_backup(db)
            except StoreUnavailable as exc:  # e.g. a full disk: the data is still there
                return str(exc)
            return ""

        def done(problem: str) -> None:
            if problem:
                dialogs.error(
                    self,
                    APP_NAME,
                    f"Today's backup of the database could not be made.\n\n{problem}",
                )

        self._worker.run(work, done, self._on_failure)

    # --- charts --------------------------------------------------------------------------

    def _chart_theme(self) -> str:
        from skp_desktop.ui.rag_style import is_dark

        return "dark" if is_dark() else "light"

    # --- history -------------------------------------------------------------------------

    def backup_now(self) -> None:
        db = self.database
        if db is None:
            return

        def work() -> Any:
            from skp_desktop.services.backups import backup_now

            return backup_now(db)

        self._worker.run(
            work,
            lambda info: self.status_state.setText(f"Backed up to {info.path}"),
            self._on_failure,
        )

    def restore_backup(self) -> None:
        db = self.database
        if db is None or not db.is_sqlite:
            return
        from pathlib import Path

        folder = Path(db.display_name).parent / "backups"
        path = dialogs.open_file(
            self, "Restore a backup", str(folder), "SKP Returns databases (*.sqlite3 *.db)"
        )
        if not path or not dialogs.confirm(
            self,
            "Restore a backup",
            f"Replace the database with the backup {Path(path).name}?\n\nThe database as it "
            "is now is kept as a backup first, so this can be undone.",
        ):
            return
        target = db.display_name
        self.controller.wait_for_saves()
        self.controller.db = None
        db.dispose()

        def work() -> Any:
            from skp_desktop.services.backups import restore

            return restore(target, path)

        def done(before: Any) -> None:
            self.open_database(target)
            # A dialog, not the status line: loading the return rewrites that at once.
            kept = f"\n\nThe database as it was is kept as {before.path}." if before else ""
            dialogs.information(
                self, "Restore a backup", f"Restored the backup {Path(path).name}.{kept}"
            )

        def failed(exc: Exception) -> None:
            self._on_failure(exc)
            self.open_database(target)

        self._worker.run(work, done, failed)

    def set_read_only(self, read_only: bool) -> None:
        """Reopen the same database read-only (auditor mode) or for changes."""
        if read_only == self._read_only:
            return
        if self.controller is not None and self.controller.pending is not None:
            self.read_only_action.blockSignals(True)  # not now: see open_database
            self.read_only_action.setChecked(self._read_only)
            self.read_only_action.blockSignals(False)
            self.status_state.setText("The database is still opening: try again in a moment.")
            return
        self._read_only = read_only
        if self.controller is not None:
            self.open_database(self._target)

    def _verify_from_menu(self) -> None:
        self.places.setCurrentRow(PLACES.index("History"))
        self.history_page.verify()

    @property
    def timeline_dialog(self) -> Any:
        """The value's timeline opened last from the History page (None before)."""
        page = self._built_pages.get("History")
        return page.timeline_dialog if page is not None else None

    def _show_event(self, entry: Any) -> None:
        from skp_desktop.ui.pages.history_page import describe_event

        self.event_panel.setHtml(describe_event(entry))
        if entry is not None:
            self.side_tabs.setCurrentWidget(self.event_panel)

    # --- the return (ui/return_place.py), for the menus and the tests -----------------------

    def _on_return(self, action: str, *args: Any) -> None:
        """Run one of the Return place's actions (once start() has built it)."""
        if self.controller is not None:
            getattr(self.return_place, action)(*args)

    def show_return_at(self, service: str, period: str) -> None:
        self._on_return("show_return_at", service, period)

    def submit(self) -> None:
        self._on_return("submit")

    def reopen(self) -> None:
        self._on_return("reopen")

    def mark_symbol(self, symbol: str) -> None:
        self._on_return("mark_symbol", symbol)

    def _on_view(self, view: ReturnView) -> None:
        self.return_place.show_view(view)

    # --- errors --------------------------------------------------------------------------

    def _on_failure(self, exc: Exception) -> None:
        if isinstance(exc, StoreUnavailable):
            # A full disk, a read-only or locked database: the last action was not saved, and
            # the person must act, so it is said in a dialog (once, however many saves fail).
            self.status_state.setText(str(exc).splitlines()[0])
            self.return_page.show_message(str(exc))
            if not self._showing_store_problem:
                self._showing_store_problem = True
                try:
                    dialogs.error(self, APP_NAME, str(exc))
                finally:
                    self._showing_store_problem = False
            return
        if isinstance(exc, SkpError):
            self.status_state.setText(str(exc).splitlines()[0])
            self.return_page.show_message(str(exc))
            if not self.return_page.isEnabled() or self.controller.db is None:
                dialogs.error(self, APP_NAME, str(exc))
            return
        from skp_desktop.logs import log_path

        log.error("unexpected error", exc_info=exc)
        self.status_state.setText("Something went wrong.")
        dialogs.error(
            self,
            APP_NAME,
            "Something went wrong that SKP Returns did not expect. Nothing you had saved is "
            f"lost. The details are in the log file:\n{log_path()}",
            detail=repr(exc),
        )

    # --- closing -------------------------------------------------------------------------

    @property
    def indicator_dialog(self) -> Any:
        """The indicator's chart opened last from the dashboard (None before)."""
        page = self._built_pages.get("Dashboard")
        return page.indicator_dialog if page is not None else None

    def open_indicator_chart(self, code: str) -> None:
        self.dashboard_page.open_indicator_chart(code)

    @property
    def database(self) -> Any:
        return self.controller.db if self.controller is not None else None

    def closeEvent(self, event: QCloseEvent) -> None:
        self.desk.closed = True
        self._charts.cancel_pending()  # nobody will see them; saves below are kept
        if self.controller is not None:
            self.controller.wait_for_saves()  # every acknowledged edit is written first
        # Closed before start(): the side panel was never placed, so its remembered place stays.
        docks = self.saveState() if self.controller is not None else None
        self._settings.save_window(self.saveGeometry(), docks, self.splitter.saveState())
        super().closeEvent(event)

    def dispose(self) -> None:
        """Release the database; call after the window is closed and workers are idle."""
        self._disposed = True  # results still arriving from the background are for nobody
        self.desk.closed = True
        if self.controller is None:
            return
        self.controller.wait_for_saves()
        pending = self.controller.pending
        if pending is not None:  # closed before the database it was opening was handed over
            db = pending.opened(timeout=60)
            self._worker.wait(60000)  # the open's task ends here, not after the window is gone
            self.controller.pending = None
            if db is not None:
                db.dispose()
        if self.controller.db is not None:
            self.controller.db.dispose()
            self.controller.db = None
