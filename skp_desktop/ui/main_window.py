"""The one main window: places on the left, the page in the middle, context on the right."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer
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
from skp_desktop.ui.settings import Settings
from skp_desktop.ui.theme import THEMES, apply_theme, confirm_system_theme
from skp_desktop.ui.workers import Worker

if TYPE_CHECKING:
    from datetime import date, datetime

    from PySide6.QtGui import QCloseEvent

    from skp_desktop.services.dto import ReturnView, ServiceInfo
    from skp_desktop.ui.definition_panel import DefinitionPanel
    from skp_desktop.ui.pages.completeness_page import CompletenessPage, PageContext
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
        self._worker = Worker(self)
        self._charts = Worker(self, serial=True)  # one figure at a time, newest wins
        self._trend_wanted = ""
        self._dashboard_wanted: Any = None  # the DashboardKey last asked for
        self._dashboard_queued: set[Any] = set()  # keys a worker is drawing or will draw
        self._showing_store_problem = False
        self._disposed = False
        self.undo_stack = QUndoStack(self)
        self.controller: ReturnController | None = None
        self._built_pages: dict[str, Any] = {}
        # the open database's services and themes, for pages built after it opened
        self._catalogue: tuple[list[ServiceInfo], list[tuple[str, str, str]]] | None = None
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
        self.status_state.setAccessibleDescription("Return status")  # the name is its text
        self.status_db = QLabel()
        self.status_db.setAccessibleDescription("Database")
        self.statusBar().addWidget(self.status_state, 1)
        self.statusBar().addPermanentWidget(self.status_db)
        self._last_saved: datetime | None = None

        self._build_menus()

        geometry = self._settings.window_geometry()
        if geometry is not None:
            self.restoreGeometry(geometry)
        splitter = self._settings.splitter_state()
        if splitter is not None:
            self.splitter.restoreState(splitter)

    def focusNextPrevChild(self, next: bool) -> bool:
        """Tab from one region to the next: places list, page, side panel (accessibility.py)."""
        regions = getattr(self, "_regions", None)
        return bool(regions and regions.tab(next)) or super().focusNextPrevChild(next)

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

        from skp_desktop.ui.definition_panel import DefinitionPanel
        from skp_desktop.ui.pages.return_page import ReturnPage
        from skp_desktop.ui.problems_panel import ProblemsPanel
        from skp_desktop.ui.return_controller import ReturnController

        self.controller = ReturnController(self, undo_stack=self.undo_stack)
        self.return_page = ReturnPage(today=self._today)
        self.pages.addWidget(self.return_page)
        for _name in PLACES[1:]:
            self.pages.addWidget(QWidget())  # stands in until the place is first visited
        self.pages.removeWidget(self._opening)
        self._opening.deleteLater()
        self.definition_panel = DefinitionPanel()
        self.problems_panel = ProblemsPanel()
        self.side_tabs.addTab(self.definition_panel, "Indicator")
        self.side_tabs.addTab(self.problems_panel, "Problems")
        self.event_panel = QTextBrowser()
        self.event_panel.setAccessibleName("Event details")
        self.side_tabs.addTab(self.event_panel, "Event")
        self.places.setCurrentRow(0)
        from skp_desktop.ui.accessibility import install

        self._regions = install(self, lambda: (self.places, self.pages, self.side_panel))

        page = self.return_page
        page.selection_changed.connect(self._open_return)
        page.row_selected.connect(self.definition_panel.show_row)
        # The trend waits until the selection rests: arrowing down the grid draws nothing, and
        # matplotlib's first import does not compete with loading the return.
        self._trend_row: Any = None
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
        self.controller.view_changed.connect(self._on_view)
        self.controller.saved.connect(self._on_saved)
        self.controller.message.connect(page.show_message)
        self.controller.failed.connect(self._on_failure)

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

    def _desk(self) -> PageContext:
        """What the coordinator's pages share with the window: workers, database, actor."""
        from skp_desktop.ui.pages.completeness_page import PageContext

        return PageContext(
            worker=self._worker,
            charts=self._charts,
            database=lambda: self.database,
            actor=lambda: self.controller.actor if self.controller else "unknown",
            failed=self._on_failure,
            chart_theme=self._chart_theme,
            today=self._today,
        )

    def _make_dashboard_page(self) -> DashboardPage:
        from skp_desktop.ui.pages.dashboard_page import DashboardPage

        page = DashboardPage()
        if self._catalogue is not None:
            page.set_scopes(*self._catalogue)
        page.scope_changed.connect(self._draw_dashboard)
        # A resize draws the dashboard again once it settles; the old picture stays meanwhile.
        self._dashboard_timer = QTimer(self)
        self._dashboard_timer.setSingleShot(True)
        self._dashboard_timer.setInterval(300)
        self._dashboard_timer.timeout.connect(
            lambda: self._draw_dashboard(page.scope_picker.currentData() or "")
        )
        page.chart.resized.connect(self._redraw_dashboard_soon)
        page.tile_chosen.connect(self.open_indicator_chart)
        page.board_pack_requested.connect(self.save_board_pack)
        return page

    def _make_import_page(self) -> ImportPage:
        from skp_desktop.ui.pages.import_page import ImportPage

        page = ImportPage()
        page.add_files.clicked.connect(self._choose_import_files)
        page.add_folder.clicked.connect(self._choose_import_folder)
        page.check_requested.connect(lambda p, m: self._import(p, m, dry_run=True))
        page.commit_requested.connect(lambda p, m: self._import(p, m, dry_run=False))
        return page

    def _make_completeness_page(self) -> CompletenessPage:
        from skp_desktop.ui.pages.completeness_page import CompletenessPage

        page = CompletenessPage(self._desk())
        page.open_return_requested.connect(self.show_return_at)
        return page

    def _make_merge_page(self) -> MergePage:
        from skp_desktop.ui.pages.merge_page import MergePage

        page = MergePage(self._desk())
        page.review_requested.connect(
            lambda: self.places.setCurrentRow(PLACES.index("Completeness"))
        )
        return page

    def _make_definitions_page(self) -> DefinitionsPage:
        from skp_desktop.ui.pages.definitions_page import DefinitionsPage

        page = DefinitionsPage(self._desk())
        page.definitions_changed.connect(self._definitions_changed)
        if self.database is not None:
            page.database_changed()
        return page

    def _make_history_page(self) -> HistoryPage:
        from skp_desktop.ui.pages.history_page import HistoryPage

        page = HistoryPage()
        page.filter_changed.connect(self._load_history)
        page.verify_requested.connect(self.verify_history)
        page.export_requested.connect(self.export_history)
        page.timeline_requested.connect(self.open_timeline)
        page.extract_requested.connect(self.write_extract)
        page.check_extract_requested.connect(self.check_extract)
        page.event_selected.connect(self._show_event)
        if self._catalogue is not None:
            self._refresh_history_choices(page, [s.code for s in self._catalogue[0]])
        return page

    def _show_place(self, row: int) -> None:
        if not 0 <= row < len(PLACES) or self.controller is None:
            return
        page = self.return_page if row == 0 else self._page(PLACES[row])
        self.pages.setCurrentWidget(page)
        if PLACES[row] == "Dashboard":
            self._draw_dashboard(page.scope_picker.currentData() or "")
        elif PLACES[row] == "History":
            self._load_history(page.current_filter())

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
        reload.triggered.connect(self._reload_return)
        export = QAction("&Export as Excel…", self)
        export.setShortcuts([QKeySequence("Ctrl+E")])
        export.triggered.connect(self.export_return)
        template = QAction("Blank return (&template)…", self)
        template.triggered.connect(self.write_template)
        return_menu.addActions([submit, reopen, reload, export, template])

        history_menu = bar.addMenu("Histor&y")
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
            self._draw_dashboard(self.dashboard_page.scope_picker.currentData() or "")

    def show_entry_help(self) -> None:
        from skp_desktop.ui.pages.return_page import GRID_KEYS, PASTE_HELP

        dialogs.information(
            self,
            "Entering values",
            GRID_KEYS + " Rates take a numerator and a denominator; the value is worked "
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
        if shown_early and self._trend_row is not None:  # asked for while it was opening
            self._trend_soon(self._trend_row)
        mode = " (read-only)" if db.read_only else ""
        self.status_db.setText(f"Database: {db.display_name}{mode}")
        from skp_desktop.services.connection import remembered

        # The URL with its password stays in memory (read-only mode reopens it); settings and
        # the recent list get it without.
        self._target = db.display_name if db.is_sqlite else target
        self._settings.add_recent_database(db.display_name if db.is_sqlite else remembered(db.url))
        self._fill_recent()
        self._catalogue = (services, themes)
        if self._is_built("Definitions"):
            self.definitions_page.database_changed()
        self.return_page.set_services(services, self._settings.last_service)
        if self._is_built("Dashboard"):
            self.dashboard_page.forget_drawn()
            self.dashboard_page.set_scopes(services, themes)
        if self._is_built("History"):
            self._refresh_history_choices(self.history_page, [s.code for s in services])
        self.return_page.select_period(self._settings.last_period)
        self.return_page.setEnabled(True)
        service, period = self.return_page.current_selection()
        if service and period:
            self._open_return(service, period)
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

    def _definitions_changed(self) -> None:
        """A definitions version was published or imported: the open return may use it now."""
        if self.controller is not None and self.controller.db is not None:
            self.controller.reload()

    # --- charts --------------------------------------------------------------------------

    def _chart_theme(self) -> str:
        from skp_desktop.ui.rag_style import is_dark

        return "dark" if is_dark() else "light"

    def _reload_return(self) -> None:
        if self.controller is not None:
            self.controller.reload()

    def _redraw_trend_soon(self) -> None:
        if self._trend_row is not None:
            self._trend_soon(self._trend_row)

    def _trend_soon(self, row: Any) -> None:
        self._trend_row = row
        self._trend_timer.start()

    def _show_trend(self, row: Any) -> None:
        """Draw the selected indicator's trend in the side panel, off the UI thread."""
        chart = self.definition_panel.chart
        db = self.database
        if row is not None and db is None and self.controller.pending is not None:
            chart.show_message("The trend is drawn once the database is open.")
            return
        if row is None or db is None:
            chart.show_message("Select an indicator to see its trend.")
            return
        code, service, theme = row.code, self.controller.key[0], self._chart_theme()
        self._trend_wanted = code
        size = chart.fitting_size((3.4, 2.6))  # before the message replaces the canvas
        ratio = chart.devicePixelRatioF()
        chart.show_message("Drawing the trend…")

        def work() -> tuple[str, Any, Any, str]:
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

        def done(result: tuple[str, Any, Any, str]) -> None:
            code_drawn, figure, picture, description = result
            if code_drawn == self._trend_wanted:  # the selection may have moved on
                chart.show_picture(picture, description, figure=figure)

        self._charts.run(work, done, self._on_failure)

    def _draw_dashboard(self, scope: str) -> None:
        """Show the dashboard of `scope`, drawn (pixels too) in a worker.

        The picture drawn last for this scope, width and theme shows at once; the worker then
        draws again only if something was saved, imported or published since. Another width of
        the same scope stays on screen until its new picture is ready.
        """
        db = self.database
        if db is None:
            return
        from skp_desktop.ui.pages.dashboard_page import DashboardKey, DrawnDashboard

        page, theme = self.dashboard_page, self._chart_theme()
        width, ratio = page.available_width(), page.devicePixelRatioF()
        key = DashboardKey(scope, width, theme, ratio)
        kept = page.drawn(key)
        if kept is not None:
            page.show_drawn(kept)
        elif not page.showing(scope, theme):
            page.show_message("Drawing the charts…")
        self._dashboard_wanted = key
        if key in self._dashboard_queued:
            return  # a worker is on it already
        self._dashboard_queued.add(key)
        known = kept.stamp if kept is not None else None

        def work() -> DrawnDashboard | None:
            from skp_desktop.charts.dashboard import dashboard_figure
            from skp_desktop.charts.raster import rasterise
            from skp_desktop.services.history import change_stamp
            from skp_desktop.services.trends import dashboard_tiles
            from skp_desktop.ui.chart_view import Picture
            from skp_desktop.ui.pages.dashboard_page import dashboard_layout

            if self._dashboard_wanted != key:
                return None  # the scope or width moved on while this waited
            # Read before the tiles: a change in between draws again next time, never missed.
            stamp = change_stamp(db)
            if stamp == known:
                return None
            kind, _, code = scope.partition(":")
            tiles = dashboard_tiles(
                db,
                service=code if kind == "service" else None,
                theme=code if kind == "theme" else None,
            )
            columns, size = dashboard_layout(width, len(tiles))
            figure = dashboard_figure(tiles, columns=columns, theme=theme, size=size)
            picture = Picture.from_raster(rasterise(figure, scale=ratio, gid_prefix="tile:"))
            return DrawnDashboard(key, stamp, tiles, picture, figure)

        def done(drawn: DrawnDashboard | None) -> None:
            self._dashboard_queued.discard(key)
            if db is not self.database:
                return  # drawn from a database since closed
            if drawn is not None:
                page.remember(drawn)
            if self._dashboard_wanted == key:
                shown = drawn or page.drawn(key)
                if shown is not None:
                    page.show_drawn(shown)

        def failed(exc: Exception) -> None:
            self._dashboard_queued.discard(key)
            self._on_failure(exc)

        self._charts.run(work, done, failed)

    def _redraw_dashboard_soon(self) -> None:
        """After a resize has settled, the dashboard again at its new width (if on screen)."""
        if self._is_built("Dashboard") and self.pages.currentWidget() is self.dashboard_page:
            self._dashboard_timer.start()

    def open_indicator_chart(self, code: str) -> None:
        """One indicator large, with the table of its figures and its comparators."""
        db = self.database
        if db is None or not code:
            return
        theme = self._chart_theme()

        def done(result: tuple[Any, Any, Any]) -> None:
            from skp_desktop.ui.pages.dashboard_page import IndicatorChartDialog

            series, figure, comparators = result
            self.indicator_dialog = IndicatorChartDialog(
                series,
                figure,
                parent=self,
                comparators=comparators,
                editable=not getattr(db, "read_only", False),
            )
            self.indicator_dialog.comparators_save_requested.connect(self._save_comparators)
            self.indicator_dialog.open()

        self._charts.run(lambda: _indicator_chart(db, code, theme), done, self._on_failure)

    def _save_comparators(self, code: str, payload: tuple[Any, str | None]) -> None:
        """Write the comparator figures typed in the indicator's dialog, then redraw it."""
        db, dialog, theme = self.database, self.indicator_dialog, self._chart_theme()
        changes, source = payload
        actor = self.controller.actor if self.controller else "unknown"

        def work() -> tuple[Any, Any, Any]:
            from skp_desktop.services.comparators import ComparatorChange, set_comparators

            set_comparators(
                db,
                code,
                [
                    ComparatorChange(series, period, value, source)
                    for series, period, value in changes
                ],
                actor,
            )
            return _indicator_chart(db, code, theme)

        def failed(exc: Exception) -> None:
            if isinstance(exc, SkpError) and dialog.comparators is not None:
                dialog.comparators.show_problem(str(exc))
            else:
                self._on_failure(exc)

        self._charts.run(work, lambda result: dialog.show_series(*result), failed)

    def save_board_pack(self, scope: str) -> None:
        """The board pack for the period chosen on the Return page, as one PDF, drawn behind."""
        db, period = self.database, self.return_page.current_selection()[1]
        if db is None:
            return
        if not period:
            dialogs.information(
                self, "Board pack", "Choose a period on the Return page: the pack is for that."
            )
            return
        from skp_desktop.domain.periods import parse_period

        label = parse_period(period).label
        kind, _, code = scope.partition(":")
        suggested = f"SKP-board-pack-{period}{f'-{code}' if code else ''}.pdf"
        path = dialogs.save_file(self, f"Board pack for {label}", suggested, "PDF (*.pdf)")
        if not path:
            return
        if not path.lower().endswith(".pdf"):
            path += ".pdf"
        button = self.dashboard_page.board_pack_button
        button.setEnabled(False)
        self.status_state.setText(f"Making the board pack for {label}…")

        def work() -> Any:
            from skp_desktop.services.board_pack import export_board_pack

            return export_board_pack(
                db,
                period,
                path,
                service=code if kind == "service" else None,
                theme=code if kind == "theme" else None,
            )

        def done(made: Any) -> None:
            button.setEnabled(True)
            self.status_state.setText(f"Board pack saved to {made.path} ({made.pages} pages).")

        def failed(exc: Exception) -> None:
            button.setEnabled(True)
            if not isinstance(exc, SkpError):
                self._on_failure(exc)
                return
            self.status_state.setText("The board pack was not made.")
            dialogs.error(self, "Board pack", str(exc))

        self._charts.run(work, done, failed)

    def export_return(self) -> None:
        """Save the open (submitted) return as the Excel return file of CONTRACTS.md; a returned
        one as the feedback file its service imports."""
        view, db = self.controller.view if self.controller else None, self.database
        if view is None or db is None or view.revision is None:
            return
        feedback = view.state == "returned"
        name = f"{view.service.code}-{view.period}-r{view.revision}"
        name += "-feedback.xlsx" if feedback else ".xlsx"
        title = "Export the feedback (queries)" if feedback else "Export the return"
        path = dialogs.save_file(self, title, name, "Excel workbook (*.xlsx)")
        if not path:
            return
        actor = self.controller.actor

        def work() -> Any:
            from skp_desktop.services.exchange import export_feedback, export_return

            export = export_feedback if feedback else export_return
            return export(db, service=view.service.code, period=view.period, out=path, actor=actor)

        self._worker.run(
            work,
            lambda result: self.status_state.setText(f"Exported to {result.path}"),
            self._on_failure,
        )

    def write_template(self) -> None:
        """A blank return for a service that fills it in Excel or LibreOffice."""
        service, period = self.return_page.current_selection()
        db = self.database
        if not service or not period or db is None:
            return
        path = dialogs.save_file(
            self, "Blank return (template)", f"{service}-{period}-blank.xlsx", "Excel (*.xlsx)"
        )
        if not path:
            return
        actor = self.controller.actor

        def work() -> Any:
            from skp_desktop.services.exchange import write_template

            return write_template(db, service=service, period=period, out=path, actor=actor)

        self._worker.run(
            work,
            lambda result: self.status_state.setText(f"Blank return saved to {result.path}"),
            self._on_failure,
        )

    # --- import --------------------------------------------------------------------------

    def _choose_import_files(self) -> None:
        paths = dialogs.open_files(self, "Choose return files", "Excel returns (*.xlsx)")
        self.import_page.add_paths(paths)

    def _choose_import_folder(self) -> None:
        folder = dialogs.open_folder(self, "Choose a folder of return files")
        if folder:
            self.import_page.add_paths([folder])

    def _import(self, paths: list[str], accept_modified: bool, *, dry_run: bool) -> None:
        """Check (dry run) or import files in the background, with progress and Cancel."""
        db, page = self.database, self.import_page
        if db is None:
            page.status.setText("The database is still opening: add the files again in a moment.")
            return
        if not dry_run and db.read_only:
            page.status.setText("The database is open read-only: files can be checked only.")
            return
        actor, relay, cancel = self.controller.actor, page.progress_relay, page.cancel_event
        page.set_busy(True, "Checking the files…" if dry_run else "Importing…")

        def work() -> tuple[list[Any], bool]:
            from skp_desktop.services.exchange import import_files

            outcomes = import_files(
                db,
                paths,
                actor=actor,
                dry_run=dry_run,
                accept_modified=accept_modified,
                progress=lambda done, total, path: relay.step.emit(done, total, path.name),
                cancelled=cancel.is_set,
            )
            return outcomes, cancel.is_set()

        def done(result: tuple[list[Any], bool]) -> None:
            outcomes, cancelled = result
            page.show_outcomes(outcomes, committed=not dry_run, cancelled=cancelled)
            if not dry_run and self.controller is not None:
                self.controller.reload()

        def failed(exc: Exception) -> None:
            from skp_desktop.services.exchange import ImportStopped

            if isinstance(exc, ImportStopped):  # show what went in before it stopped
                page.show_outcomes(list(exc.outcomes), committed=not dry_run, cancelled=True)
                if self.controller is not None:
                    self.controller.reload()
            page.set_busy(False, str(exc).splitlines()[0])
            self._on_failure(exc)

        self._worker.run(work, done, failed)

    # --- history -------------------------------------------------------------------------

    def _refresh_history_choices(self, page: HistoryPage, services: list[str]) -> None:
        db = self.database

        def work() -> tuple[list[str], list[str], list[str]]:
            from skp_desktop.services.catalogue import list_indicators
            from skp_desktop.services.history import history_choices

            actors, actions = history_choices(db)
            return [i.code for i in list_indicators(db)], actors, actions

        def done(result: tuple[list[str], list[str], list[str]]) -> None:
            indicators, actors, actions = result
            page.set_choices(services, indicators, actors, actions)

        self._worker.run(work, done, self._on_failure)

    def _load_history(self, flt: Any) -> None:
        db = self.database
        if db is None:
            return
        model = self.history_page.model

        def fetch(before: int | None, deliver: Any) -> None:
            def work() -> list[Any]:
                from skp_desktop.services.history import history_page

                return history_page(db, flt, before_id=before)

            def failed(exc: Exception) -> None:
                model.failed()
                self._on_failure(exc)

            self._worker.run(work, deliver, failed)

        model.reset(fetch)

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
        self.verify_history()

    def verify_history(self) -> None:
        db = self.database
        if db is None:
            return
        page = self.history_page
        page.show_verdict(None, "Verifying the history… (every event and value is checked)")
        page.verify_button.setEnabled(False)

        def work() -> Any:
            from skp_desktop.services.audit import verify

            return verify(db)

        def done(report: Any) -> None:
            page.verify_button.setEnabled(True)
            page.show_verdict(report)

        def failed(exc: Exception) -> None:
            page.verify_button.setEnabled(True)
            page.show_verdict(None, "")
            self._on_failure(exc)

        self._worker.run(work, done, failed)

    def export_history(self, flt: Any) -> None:
        db = self.database
        path = dialogs.save_file(
            self, "Export history", "history.xlsx", "Excel workbook (*.xlsx);;CSV (*.csv)"
        )
        if not path or db is None:
            return

        def work() -> int:
            from skp_desktop.services.history import export_history

            return export_history(db, flt, path)

        self.status_state.setText("Exporting the history…")
        self._worker.run(
            work,
            lambda count: self.status_state.setText(f"Exported {count:,} events to {path}"),
            self._on_failure,
        )

    def _show_event(self, entry: Any) -> None:
        from skp_desktop.ui.pages.history_page import describe_event

        self.event_panel.setHtml(describe_event(entry))
        if entry is not None:
            self.side_tabs.setCurrentWidget(self.event_panel)

    def write_extract(self, period: str | None) -> None:
        db = self.database
        name = f"audit-extract-{period or 'all'}.xlsx"
        path = dialogs.save_file(self, "Signed audit extract", name, "Excel (*.xlsx)")
        if not path or db is None:
            return

        def work() -> int:
            from skp_desktop.services.history import write_audit_extract

            return write_audit_extract(db, path, period=period)

        self._worker.run(
            work,
            lambda n: self.status_state.setText(f"Saved a signed extract of {n:,} events: {path}"),
            self._on_failure,
        )

    def check_extract(self) -> None:
        db = self.database
        path = dialogs.open_file(self, "Check an audit extract", "", "Excel (*.xlsx)")
        if not path or db is None:
            return

        def work() -> Any:
            from skp_desktop.services.history import check_audit_extract

            return check_audit_extract(db, path)

        def done(check: Any) -> None:
            from skp_desktop.services.dto import VerifyReport

            report = VerifyReport(check.events, 0, check.problems)
            if check.ok:
                self.history_page.show_verdict(
                    None,
                    f"✓ The extract matches: its {check.events:,} events and the chain up to "
                    f"event {check.head_event_id} are unchanged.",
                )
            else:
                self.history_page.show_verdict(report)

        self._worker.run(work, done, self._on_failure)

    def open_timeline(self, service: str, period: str, indicator: str) -> None:
        db = self.database
        if db is None:
            return

        def work() -> Any:
            from skp_desktop.services.history import value_timeline

            return value_timeline(db, service=service, period=period, indicator=indicator)

        def done(timeline: Any) -> None:
            from skp_desktop.ui.pages.history_page import TimelineDialog

            self.timeline_dialog = TimelineDialog(timeline, self)
            self.timeline_dialog.save_file_requested.connect(self.save_imported_file)
            self.timeline_dialog.open()

        self._worker.run(work, done, self._on_failure)

    def save_imported_file(self, file_id: int) -> None:
        db = self.database

        def work() -> tuple[str, bytes]:
            from skp_desktop.services.history import imported_file

            return imported_file(db, file_id)

        def done(result: tuple[str, bytes]) -> None:
            name, content = result
            path = dialogs.save_file(self, "Save the original file", name, "All files (*)")
            if path:
                with open(path, "wb") as handle:
                    handle.write(content)

        self._worker.run(work, done, self._on_failure)

    # --- the return ----------------------------------------------------------------------

    def show_return_at(self, service: str, period: str) -> None:
        """Go to the Return place with a service's return for a period open."""
        page = self.return_page
        page.select_period(period)
        page.service_picker.blockSignals(True)  # opened once, below
        page.service_picker.setCurrentIndex(max(0, page.service_picker.findData(service)))
        page.service_picker.blockSignals(False)
        self.places.setCurrentRow(PLACES.index("Return"))
        self._open_return(service, period)

    def _open_return(self, service: str, period: str) -> None:
        self._settings.last_service, self._settings.last_period = service, period
        self.status_state.setText("Loading the return…")
        self._last_saved = None
        self.controller.open_return(service, period)

    def _on_view(self, view: ReturnView) -> None:
        read_only = self.controller.read_only_database
        self.return_page.show_return(view, read_only_database=read_only)
        if self.controller.db is None:  # still opening: these wait for the return it holds
            for button in (
                self.return_page.submit_button,
                self.return_page.reopen_button,
                self.return_page.export_button,
            ):
                button.setEnabled(False)
        self.problems_panel.show_view(view)
        index = self.return_page.grid.currentIndex()
        self.definition_panel.show_row(self.return_page.model.return_row(index.row()))
        state = view.state.capitalize() + (f" r{view.revision}" if view.revision else "")
        self.setWindowTitle(f"{APP_NAME} — {view.service.name} · {view.period_label} · {state}")
        self._update_status(view)

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
        self.status_state.setText(" · ".join(parts))

    def _on_saved(self, when: datetime) -> None:
        self._last_saved = when

    def _edit(self, code: str, fields: dict[str, str | None]) -> None:
        name = ", ".join(fields)
        if self.controller.request_edit({code: fields}, f"Edit {code} {name}"):
            self.return_page.model.mark_pending(code, fields)

    def _answer(self, code: str, text: str) -> None:
        if self.controller.request_answer(code, text):
            self.return_page.model.mark_pending(code, {"answer": text})

    def mark_symbol(self, symbol: str) -> None:
        index = self.return_page.grid.currentIndex()
        row = self.return_page.model.return_row(index.row()) if index.isValid() else None
        if row is not None and self.controller is not None and self.controller.editable:
            self._edit(row.code, {"symbol": symbol})

    def paste(self, text: str) -> None:
        if self.controller is None:
            return
        if not self.controller.editable:
            self.return_page.show_message("This revision is read-only: reopen it to change it.")
            return
        index = self.return_page.grid.currentIndex()
        if not index.isValid() or not text.strip():
            return
        from skp_desktop.services.entries import SOURCE_PASTED
        from skp_desktop.ui.return_grid import paste_changes

        changes, problems = paste_changes(self.return_page.model, index.row(), index.column(), text)
        if problems:
            self.return_page.show_message(
                "Nothing was pasted. Fix these cells and paste again: " + "; ".join(problems)
            )
            return
        if changes and self.controller.request_edit(
            changes, f"Paste {len(changes)} rows", source=SOURCE_PASTED
        ):
            for code, fields in changes.items():
                self.return_page.model.mark_pending(code, fields)

    def _still_opening(self, what: str) -> bool:
        if self.controller.db is None:
            self.return_page.show_message(f"The database is still opening: {what} once it is.")
            return True
        return False

    def submit(self) -> None:
        if self.controller is None or self._still_opening("submit"):
            return
        view = self.controller.view
        if view is None or view.state != "draft":
            return
        if view.open_queries:
            from skp_desktop.ui.return_grid import ANSWER_COLUMN

            first = view.open_queries[0]
            self.return_page.go_to(first.code, ANSWER_COLUMN)
            self.side_tabs.setCurrentWidget(self.problems_panel)
            count = len(view.open_queries)
            self.return_page.show_message(
                f"Not submitted: answer the coordinator's quer{'y' if count == 1 else 'ies'} on "
                f"{', '.join(q.code for q in view.open_queries)} first, in the Answer column."
            )
            return
        errors = [(row, p) for row in view.rows for p in row.errors]
        if errors:
            row, problem = errors[0]
            self.return_page.go_to(row.code, self.problems_panel_column(row, problem))
            self.side_tabs.setCurrentWidget(self.problems_panel)
            self.return_page.show_message(
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
            answer = dialogs.ask_explanations(self, needing)
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
        if dialogs.confirm(self, "Submit the return", summary):
            self.controller.submit(explanations)

    @staticmethod
    def problems_panel_column(row: Any, problem: Any) -> int:
        from skp_desktop.ui.return_grid import problem_column

        return problem_column(row, problem)

    def reopen(self) -> None:
        if self.controller is None or self._still_opening("reopen"):
            return
        view = self.controller.view
        if view is None or view.state in ("draft", "not started"):
            return
        reason = dialogs.ask_text(
            self,
            "Reopen the return",
            f"Why does {view.period_label} need to change? (recorded in the history)",
        )
        if reason:
            self.controller.reopen(reason)

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
    def database(self) -> Any:
        return self.controller.db if self.controller is not None else None

    def closeEvent(self, event: QCloseEvent) -> None:
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


def _indicator_chart(db: Any, code: str, theme: str) -> tuple[Any, Any, Any]:
    """In a worker: an indicator's trend, its chart as the dialog shows it, and its comparators."""
    from skp_desktop.charts.trend import trend_figure
    from skp_desktop.services.comparators import list_comparators
    from skp_desktop.services.trends import indicator_trend

    series = indicator_trend(db, code)
    return series, trend_figure(series, theme=theme, size=(7.5, 4.6)), list_comparators(db, code)
