"""`skp-desktop`: the GUI entry point (QApplication, logging, the error hook)."""

from __future__ import annotations

import argparse
import faulthandler
import logging
import sys
from collections.abc import Sequence
from types import TracebackType

from skp_desktop import APP_NAME, __version__

log = logging.getLogger("skp_desktop.app")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="skp-desktop", description=f"{APP_NAME}, the app.")
    parser.add_argument("--version", action="version", version=f"skp-desktop {__version__}")
    parser.add_argument(
        "--db",
        help="SQLite file or SQLAlchemy URL (default: $SKP_DB, else "
        "the built-in database in the user data folder)",
    )
    parser.add_argument(
        "--read-only",
        action="store_true",
        help="auditor mode: open the database read-only; everything can be seen and exported",
    )
    return parser.parse_args(argv)


def _install_excepthook() -> None:
    """Log any uncaught exception with its traceback and tell the user once where the log is."""
    shown = False

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        nonlocal shown
        log.critical("uncaught exception", exc_info=(kind, exc, tb))
        if shown:
            return
        shown = True
        from skp_desktop.logs import log_path
        from skp_desktop.ui.dialogs import dialogs

        dialogs.error(
            None,
            APP_NAME,
            "Something went wrong that SKP Returns did not expect. Values already saved are "
            f"safe. The details are in the log file:\n{log_path()}",
            detail=f"{kind.__name__}: {exc}",
        )

    sys.excepthook = hook


def main(argv: Sequence[str] | None = None) -> int:
    """Open the main window on the chosen database and run until it is closed."""
    args = parse_args(argv)
    from skp_desktop.logs import configure_logging

    log_file = configure_logging()
    crash_log = open(log_file.with_suffix(".crash.log"), "a", encoding="utf-8")  # noqa: SIM115
    faulthandler.enable(crash_log)  # a hard crash still leaves a trace beside the log

    from PySide6.QtCore import QThreadPool, QTimer
    from PySide6.QtWidgets import QApplication

    from skp_desktop.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName("RBK")
    app.setApplicationVersion(__version__)
    if sys.platform.startswith("linux"):
        app.setStyle("Fusion")
    _install_excepthook()

    from skp_desktop.ui.settings import Settings
    from skp_desktop.ui.theme import apply_theme

    settings = Settings()
    apply_theme(app, settings.theme)
    window = MainWindow(args.db, settings=settings, read_only=args.read_only)
    window.show()
    # Paint first, then open the database: the window appears at once.
    QTimer.singleShot(0, window.start)
    status = app.exec()
    QThreadPool.globalInstance().waitForDone()
    window.dispose()
    return status


if __name__ == "__main__":
    raise SystemExit(main())
