"""The one main window: the frame that connects the parts.

Here: the places on the left, the page in the middle, the side panel on the right, the status
bar, the theme, errors and closing. The work is elsewhere:

- ui/actions.py: every menu action, and which are enabled when (`update_actions`)
- ui/database_session.py: opening the database (a quick look first), read-only, backups,
  restore and who is acting
- ui/operations.py: the desk every page is handed: database work off the UI thread, one error
  display, and the `changed` signal that tells every page what a change changed
- ui/return_place.py: the Return page, its side panels and everything done to a return
- ui/pages/: one module per place, each doing its own database work through the desk
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, TypeVar

from PySide6.QtGui import QAction, QUndoStack
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
    QWidget,
)

from skp_desktop import APP_NAME, __version__
from skp_desktop.domain.errors import SkpError, StoreUnavailable
from skp_desktop.ui.actions import PLACES, ActionName, Actions, ActionState
from skp_desktop.ui.database_session import DatabaseSession
from skp_desktop.ui.dialogs import dialogs
from skp_desktop.ui.operations import Desk
from skp_desktop.ui.settings import Settings
from skp_desktop.ui.theme import apply_theme, confirm_system_theme

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import date
    from os import PathLike

    from PySide6.QtGui import QCloseEvent
    from sqlalchemy.engine import URL

    from skp_desktop.services.connection import ServerAddress
    from skp_desktop.services.database import Database
    from skp_desktop.services.dto import AuditEntry, ReturnView
    from skp_desktop.ui.definition_panel import DefinitionPanel
    from skp_desktop.ui.pages.completeness_page import CompletenessPage
    from skp_desktop.ui.pages.dashboard_page import DashboardPage, IndicatorChartDialog
    from skp_desktop.ui.pages.definitions_page import DefinitionsPage
    from skp_desktop.ui.pages.history_page import HistoryPage, TimelineDialog
    from skp_desktop.ui.pages.import_page import ImportPage
    from skp_desktop.ui.pages.merge_page import MergePage
    from skp_desktop.ui.pages.return_page import ReturnPage
    from skp_desktop.ui.problems_panel import ProblemsPanel
    from skp_desktop.ui.return_controller import ReturnController
    from skp_desktop.ui.return_place import ReturnPlace

log = logging.getLogger(__name__)
P = TypeVar("P", bound=QWidget)


class MainWindow(QMainWindow):
    """SKP Returns' main window.

    Start-up is in two steps so the window is on screen at once: the constructor builds only
    the frame (Qt widgets, no domain or database code); `start()` builds the pages and opens
    the database in the background.
    """

    return_place: ReturnPlace
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
        self._settings = settings or Settings()
        self._today = today
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
        self.session = DatabaseSession(
            self,
            self.desk,
            self._settings,
            target=database_target,
            actor=actor,
            read_only=read_only,
            today=today,
        )
        self.session.opened.connect(self._on_opened)
        self.session.read_only_changed.connect(self._show_read_only)
        self.session.recent_changed.connect(self._fill_recent)
        self._showing_store_problem = False
        self.undo_stack: QUndoStack = QUndoStack(self)
        self.controller: ReturnController | None = None
        self._built_pages: dict[str, QWidget] = {}
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
        self.desk.status.connect(self.status_state.setText)

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
        place.view_shown.connect(self.update_actions)
        self.menu_actions.bind(ActionName.SUBMIT, self.return_page.submit_button)
        self.menu_actions.bind(ActionName.REOPEN, self.return_page.reopen_button)
        self.menu_actions.bind(ActionName.EXPORT, self.return_page.export_button)
        self.pages.addWidget(self.return_page)
        for _name in PLACES[1:]:
            self.pages.addWidget(QWidget())  # stands in until the place is first visited
        self.pages.removeWidget(self._opening)
        self._opening.deleteLater()
        self.side_tabs.addTab(self.definition_panel, "Indicator")  # F6 reaches the panel
        self.side_tabs.addTab(self.problems_panel, "Problems")
        self.event_panel = QTextBrowser()
        self.event_panel.setAccessibleName("Event details")
        self.side_tabs.addTab(self.event_panel, "Event")
        self.places.setCurrentRow(0)
        from skp_desktop.ui.accessibility import install

        self._regions = install(self, lambda: (self.places, self.pages, self.side_panel))

    # --- the places other than Return, built on first use --------------------------------

    def _page(self, place: str) -> QWidget:
        """The page of a place, built and put in its slot the first time it is wanted."""
        page = self._built_pages.get(place)
        if page is None:
            self._build_pages()
            make: Callable[[], QWidget] = {
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
            assert stand_in is not None  # every place has a slot from the start
            self.pages.insertWidget(index, page)
            self.pages.removeWidget(stand_in)
            stand_in.deleteLater()
        return page

    def _is_built(self, place: str) -> bool:
        return place in self._built_pages

    def _page_of(self, place: str, kind: type[P]) -> P:
        """The page of a place, as the class it is (imported by the caller once it is wanted)."""
        page = self._page(place)
        assert isinstance(page, kind)
        return page

    @property
    def dashboard_page(self) -> DashboardPage:
        from skp_desktop.ui.pages.dashboard_page import DashboardPage

        return self._page_of("Dashboard", DashboardPage)

    @property
    def import_page(self) -> ImportPage:
        from skp_desktop.ui.pages.import_page import ImportPage

        return self._page_of("Import", ImportPage)

    @property
    def completeness_page(self) -> CompletenessPage:
        from skp_desktop.ui.pages.completeness_page import CompletenessPage

        return self._page_of("Completeness", CompletenessPage)

    @property
    def merge_page(self) -> MergePage:
        from skp_desktop.ui.pages.merge_page import MergePage

        return self._page_of("Merge", MergePage)

    @property
    def definitions_page(self) -> DefinitionsPage:
        from skp_desktop.ui.pages.definitions_page import DefinitionsPage

        return self._page_of("Definitions", DefinitionsPage)

    @property
    def history_page(self) -> HistoryPage:
        from skp_desktop.ui.pages.history_page import HistoryPage

        return self._page_of("History", HistoryPage)

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
            self.dashboard_page.refresh()
        elif PLACES[row] == "History":
            self.history_page.reload()

    # --- menus ---------------------------------------------------------------------------

    def _build_menus(self) -> None:
        """The menu bar, from the actions declared in ui/actions.py."""
        self.menu_actions = actions = Actions(self)
        self.connect_action = actions[ActionName.CONNECT]
        self.undo_action, self.redo_action = actions[ActionName.UNDO], actions[ActionName.REDO]
        self.read_only_action = actions[ActionName.READ_ONLY]
        self.read_only_action.setChecked(self.session.read_only)
        self.read_only_action.toggled.connect(self.set_read_only)
        self.recent_menu = actions.submenu(ActionName.RECENT)
        self._fill_recent()
        self.update_actions()

    def update_actions(self) -> None:
        """Enable the menu items and their page buttons as the database and return allow."""
        controller, db = self.controller, self.database
        view = controller.view if controller is not None else None
        self.menu_actions.update_actions(
            ActionState(
                database_open=db is not None,
                writable=db is not None and not db.read_only,
                sqlite=db is not None and db.is_sqlite,
                editable=controller is not None and controller.editable,
                return_state=view.state if view is not None else None,
            )
        )

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
        app = QApplication.instance()
        confirm_system_theme(app if isinstance(app, QApplication) else None, self._settings.theme)
        self._build_pages()
        self.session.attach(self.return_place)
        self.open_database(self.session.target)

    # --- the database (ui/database_session.py) ---------------------------------------------

    def choose_database(self) -> None:
        path = dialogs.open_database_file(self)
        if path:
            self.open_database(path)

    def connect_to_server(self, address: ServerAddress | None = None, message: str = "") -> None:
        """File ▸ Connect to a shared database…: the dialog, then the window on its choice."""
        if self.controller is not None:
            self.session.connect_to_server(address, message)

    def open_database(self, target: str | PathLike[str] | URL | None) -> None:
        """Open a SQLite path or a server URL (text, or a URL holding the password)."""
        if self.controller is not None:
            self.session.open_database(target)

    def set_read_only(self, read_only: bool) -> None:
        """Reopen the same database read-only (auditor mode) or for changes."""
        self.session.set_read_only(read_only)

    def backup_now(self) -> None:
        self.session.backup_now()

    def restore_backup(self) -> None:
        self.session.restore_backup()

    def _show_read_only(self, read_only: bool) -> None:
        self.read_only_action.blockSignals(True)  # shown, not asked for: nothing to reopen
        self.read_only_action.setChecked(read_only)
        self.read_only_action.blockSignals(False)

    def _on_opened(self, db: Database) -> None:
        self.update_actions()
        mode = " (read-only)" if db.read_only else ""
        # on a shared database, the name the server records for this login
        assert self.controller is not None  # opened after the Return place is built
        who = "" if db.is_sqlite else f" · you act as {self.controller.actor}"
        self.status_db.setText(f"Database: {db.display_name}{mode}{who}")
        place = PLACES[self.places.currentRow()] if self.places.currentRow() >= 0 else ""
        if place in ("Dashboard", "History") and self._is_built(place):
            self._show_place(self.places.currentRow())  # visited while it opened: fill it now

    # --- charts --------------------------------------------------------------------------

    def _chart_theme(self) -> str:
        from skp_desktop.ui.rag_style import is_dark

        return "dark" if is_dark() else "light"

    # --- history -------------------------------------------------------------------------

    def verify_history_from_menu(self) -> None:
        self.places.setCurrentRow(PLACES.index("History"))
        self.history_page.verify()

    @property
    def timeline_dialog(self) -> TimelineDialog | None:
        """The value's timeline opened last from the History page (None before)."""
        return self.history_page.timeline_dialog if self._is_built("History") else None

    def _show_event(self, entry: AuditEntry | None) -> None:
        from skp_desktop.ui.pages.history_page import describe_event

        self.event_panel.setHtml(describe_event(entry))
        if entry is not None:
            self.side_tabs.setCurrentWidget(self.event_panel)

    # --- the return (ui/return_place.py), for the menus and the tests -----------------------

    def on_return_place(self, act: Callable[[ReturnPlace], object]) -> None:
        """Do `act` to the Return place, once start() has built it (else nothing)."""
        if self.controller is not None:
            act(self.return_place)

    def show_return_at(self, service: str, period: str) -> None:
        self.on_return_place(lambda place: place.show_return_at(service, period))

    def submit(self) -> None:
        self.on_return_place(lambda place: place.submit())

    def reopen(self) -> None:
        self.on_return_place(lambda place: place.reopen())

    def mark_symbol(self, symbol: str) -> None:
        self.on_return_place(lambda place: place.mark_symbol(symbol))

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
            if (
                not self.return_page.isEnabled()
                or self.controller is None
                or self.controller.db is None
            ):
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
    def indicator_dialog(self) -> IndicatorChartDialog | None:
        """The indicator's chart opened last from the dashboard (None before)."""
        return self.dashboard_page.indicator_dialog if self._is_built("Dashboard") else None

    def open_indicator_chart(self, code: str) -> None:
        self.dashboard_page.open_indicator_chart(code)

    @property
    def database(self) -> Database | None:
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
        self.desk.closed = True
        self.session.dispose()
