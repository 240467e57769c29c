"""The one main window: places on the left, the page in the middle, context on the right."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
)

from skp_desktop import APP_NAME, __version__
from skp_desktop.domain.errors import SkpError
from skp_desktop.services.dto import ReturnView, ServiceInfo
from skp_desktop.ui.definition_panel import DefinitionPanel
from skp_desktop.ui.dialogs import dialogs
from skp_desktop.ui.pages.return_page import ReturnPage
from skp_desktop.ui.settings import Settings
from skp_desktop.ui.workers import Worker

log = logging.getLogger(__name__)

PLACES = ("Return",)


class MainWindow(QMainWindow):
    """SKP Returns' main window; the database is opened after the window is painted."""

    def __init__(
        self,
        database_target: str | None = None,
        *,
        settings: Settings | None = None,
        today: date | None = None,
    ) -> None:
        super().__init__()
        self._target = database_target
        self._settings = settings or Settings()
        self._db: Any = None
        self._worker = Worker(self)
        self._current_view: ReturnView | None = None
        self.setWindowTitle(APP_NAME)
        self.resize(1280, 760)

        self.places = QListWidget()
        self.places.setAccessibleName("Places")
        for number, name in enumerate(PLACES, start=1):
            item = QListWidgetItem(name)
            item.setToolTip(f"{name} (Ctrl+{number})")
            self.places.addItem(item)
        self.places.setMaximumWidth(180)
        self.pages = QStackedWidget()
        self.return_page = ReturnPage(today=today)
        self.pages.addWidget(self.return_page)
        self.places.currentRowChanged.connect(self.pages.setCurrentIndex)
        self.places.setCurrentRow(0)

        splitter = QSplitter()
        splitter.addWidget(self.places)
        splitter.addWidget(self.pages)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        self.setCentralWidget(splitter)

        self.definition_panel = DefinitionPanel()
        self.side_panel = QDockWidget("Indicator", self)
        self.side_panel.setObjectName("sidePanel")
        self.side_panel.setWidget(self.definition_panel)
        self.side_panel.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetClosable
            | QDockWidget.DockWidgetFeature.DockWidgetMovable
        )
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.side_panel)

        self.status_state = QLabel("Opening the database…")
        self.status_state.setAccessibleName("Return status")
        self.status_db = QLabel()
        self.status_db.setAccessibleName("Database")
        self.statusBar().addWidget(self.status_state, 1)
        self.statusBar().addPermanentWidget(self.status_db)

        self._build_menus()
        self.return_page.selection_changed.connect(self._load_return)
        self.return_page.row_selected.connect(self.definition_panel.show_row)
        self.return_page.setEnabled(False)

        geometry = self._settings.window_geometry()
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = self._settings.window_state()
        if state is not None:
            self.restoreState(state)

    # --- menus ---------------------------------------------------------------------------

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        view_menu = self.menuBar().addMenu("&View")
        for number, name in enumerate(PLACES, start=1):
            action = QAction(name, self)
            action.setShortcut(QKeySequence(f"Ctrl+{number}"))
            action.triggered.connect(lambda _=False, row=number - 1: self.places.setCurrentRow(row))
            view_menu.addAction(action)
        toggle = self.side_panel.toggleViewAction()
        toggle.setText("Side &panel")
        toggle.setShortcut(QKeySequence("F9"))
        view_menu.addAction(toggle)

        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About SKP Returns", self)
        about.triggered.connect(self.show_about)
        help_menu.addAction(about)

    def show_about(self) -> None:
        from skp_desktop.logs import log_path

        database = self._db.display_name if self._db is not None else "(not open)"
        QMessageBox.about(
            self,
            f"About {APP_NAME}",
            f"<b>{APP_NAME}</b> {__version__}<br>Performance returns for the Safer Kingston "
            f"Partnership.<br><br>Database: {database}<br>Log file: {log_path()}",
        )

    # --- loading -------------------------------------------------------------------------

    def start(self) -> None:
        """Open the database in the background; the window is already on screen."""
        target = self._target

        def work() -> tuple[Any, list[ServiceInfo]]:
            from skp_desktop.services.catalogue import list_services
            from skp_desktop.services.database import open_database

            db = open_database(target)
            return db, list_services(db)

        self._worker.run(work, self._on_opened, self._on_failure)

    def _on_opened(self, result: tuple[Any, list[ServiceInfo]]) -> None:
        self._db, services = result
        self.status_db.setText(f"Database: {self._db.display_name}")
        self.return_page.set_services(services, self._settings.last_service)
        self.return_page.select_period(self._settings.last_period)
        self.return_page.setEnabled(True)
        service, period = self.return_page.current_selection()
        if service and period:
            self._load_return(service, period)

    def _load_return(self, service: str, period: str) -> None:
        if self._db is None:
            return
        db = self._db
        self._settings.last_service, self._settings.last_period = service, period

        def work() -> ReturnView:
            from skp_desktop.services.returns import get_return

            return get_return(db, service, period)

        self.status_state.setText("Loading the return…")
        self._worker.run(work, self._on_return, self._on_failure)

    def _on_return(self, view: ReturnView) -> None:
        self._current_view = view
        self.return_page.show_return(view)
        state = view.state.capitalize() + (f" r{view.revision}" if view.revision else "")
        self.setWindowTitle(f"{APP_NAME} — {view.service.name} · {view.period_label} · {state}")
        counts = [state]
        if view.updated_at:
            counts.append(f"saved {view.updated_at.astimezone().strftime('%d/%m/%Y %H:%M')}")
        counts.append(f"{view.error_count} error{'s' if view.error_count != 1 else ''}")
        counts.append(
            f"{view.unexplained_warning_count} warning"
            f"{'s' if view.unexplained_warning_count != 1 else ''} to explain"
        )
        self.status_state.setText(" · ".join(counts))

    def _on_failure(self, exc: Exception) -> None:
        if isinstance(exc, SkpError):
            self.status_state.setText(str(exc))
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
        return self._db

    def closeEvent(self, event: QCloseEvent) -> None:
        self._settings.save_window(self.saveGeometry(), self.saveState())
        super().closeEvent(event)

    def dispose(self) -> None:
        """Release the database; call after the window is closed and workers are idle."""
        if self._db is not None:
            self._db.dispose()
            self._db = None


__all__ = ["MainWindow"]
