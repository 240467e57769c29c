"""`skp-desktop`: the GUI entry point (QApplication, logging, the error hook)."""

from __future__ import annotations

import argparse
import faulthandler
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING

from skp_desktop import APP_NAME, __version__

if TYPE_CHECKING:
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication, QWidget

    from skp_desktop.ui.gc_guard import MainThreadGarbageCollector
    from skp_desktop.ui.settings import Settings

log = logging.getLogger("skp_desktop.app")
ICON_FILE = "icons/skp-returns.png"
# bench/frozen_startup.py: print the time of the first painted window, then quit.
BENCH_EXIT_AFTER_PAINT = "SKP_BENCH_EXIT_AFTER_PAINT"


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
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check the installation in a temporary folder (Qt, database, Excel, charts), "
        "print one line per check and 'self-test: OK', and exit; the report also goes to the log",
    )
    # --qt-check: only load the platform plugin and draw a window (`skp-returns self-test`).
    parser.add_argument("--qt-check", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def app_icon() -> QIcon:
    """The app's icon from the bundled resources (a null icon if the file is missing)."""
    from PySide6.QtGui import QIcon

    from skp_desktop.locations import resources_dir

    return QIcon(str(resources_dir() / ICON_FILE))


def _offscreen_without_display() -> None:
    """With no display to show windows on (a server, a CI job), use Qt's offscreen platform."""
    if (
        sys.platform.startswith("linux")
        and not os.environ.get("QT_QPA_PLATFORM")
        and not os.environ.get("DISPLAY")
        and not os.environ.get("WAYLAND_DISPLAY")
    ):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"


def _report_qt_fatal(emit: Callable[[str], None] | None) -> None:
    """Log (and emit as self-test lines) why Qt gives up, e.g. no platform plugin, before it
    aborts the process: a windowed program has no console to show Qt's own message."""
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    def handler(kind: QtMsgType, _context: object, message: str) -> None:
        if kind == QtMsgType.QtFatalMsg:
            log.critical("Qt: %s", message)
            if emit is not None:
                emit(f"qt: FAILED: {' '.join(message.split())}")
                emit("self-test: FAILED: qt")
        elif kind in (QtMsgType.QtCriticalMsg, QtMsgType.QtWarningMsg):
            log.warning("Qt: %s", message)
        if sys.stderr is not None:
            sys.stderr.write(f"{message}\n")

    qInstallMessageHandler(handler)


# English words as Qt's ICU collation sorts them for en-GB (numbers by value, accents after
# the plain letter, case second); in code-point order "Banana" would come first, "éclair" last.
SORTED_WORDS = ("apple", "Banana", "eclair", "éclair", "file2", "file10")


def text_check() -> str:
    """Qt's text handling that ICU serves: collation and casing for en-GB (on Linux from the
    bundle's English-only ICU data, build_installer.spec), then a paragraph laid out."""
    from PySide6.QtCore import QCollator, QLocale
    from PySide6.QtGui import QFont, QTextLayout

    english = QLocale(QLocale.Language.English, QLocale.Country.UnitedKingdom)
    collator = QCollator(english)
    collator.setNumericMode(True)
    ordered = tuple(sorted(reversed(SORTED_WORDS), key=collator.sortKey))
    if ordered != SORTED_WORDS:
        raise RuntimeError(f"en-GB collation sorts {', '.join(ordered)}")
    upper = english.toUpper("Straße")
    if upper != "STRASSE":
        raise RuntimeError(f"en-GB upper case of 'Straße' is {upper!r}")
    layout = QTextLayout(" ".join(SORTED_WORDS * 20), QFont())
    layout.beginLayout()
    lines = 0
    while (line := layout.createLine()).isValid():
        line.setLineWidth(200)
        lines += 1
    layout.endLayout()
    if lines < 2:
        raise RuntimeError("a paragraph was not broken into lines")
    return f"en-GB text sorted, upper-cased and laid out in {lines} lines"


def qt_check(emit: Callable[[str], None] | None = None) -> str:
    """Load Qt's platform plugin, draw a chart in a window off screen, load the icon and
    handle English text."""
    _offscreen_without_display()
    _report_qt_fatal(emit)
    from PySide6.QtCore import qVersion
    from PySide6.QtWidgets import QApplication, QStyleFactory

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    # the way the app shows charts: a matplotlib Figure on a QtAgg canvas widget
    from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(3, 2), dpi=80)
    figure.add_subplot().plot([1, 3, 2])
    canvas = FigureCanvasQTAgg(figure)
    canvas.resize(240, 160)
    canvas.draw()  # here, not in a paint event, where an error would only be printed
    picture = canvas.grab()
    canvas.deleteLater()
    if picture.isNull() or picture.width() < 1:
        raise RuntimeError(f"the '{app.platformName()}' platform could not draw a window")
    icon = app_icon()
    if icon.isNull() or icon.pixmap(32, 32).isNull():
        raise RuntimeError("the app icon could not be loaded")
    return (
        f"platform plugin '{app.platformName()}' loaded (Qt {qVersion()}), a chart drawn in a "
        f"window, icon loaded, {text_check()}, styles {', '.join(QStyleFactory.keys())}"
    )


def _qt_check_main() -> int:
    try:
        print(qt_check(), flush=True)
    except Exception as exc:
        log.exception("Qt check failed")
        print(f"Qt check failed: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


def _self_test_main() -> int:
    """`--self-test`: every check of services/selftest.py, with Qt loaded in this process."""
    from skp_desktop.services.selftest import print_lines, run_self_test

    emit = print_lines()
    report = run_self_test(qt_check=lambda: qt_check(emit), emit=emit)
    return 0 if report.ok else 1


def _exit_after_first_paint(app: QApplication, window: QWidget) -> None:
    """Print the time of the window's first paint on stdout, then quit (for benchmarks)."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    class FirstPaint(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() in (QEvent.Type.Paint, QEvent.Type.UpdateRequest):
                watched.removeEventFilter(self)
                print(f"first-paint {time.time():.6f}", flush=True)
                QTimer.singleShot(0, app.quit)
            return False

    watcher = FirstPaint(window)
    window.installEventFilter(watcher)


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


def prepare_application() -> tuple[QApplication, MainThreadGarbageCollector, Settings]:
    """The QApplication as the app runs it (bench/startup.py starts the same way): names,
    icon, style and theme, and Python's garbage collector moved to the UI thread."""
    from PySide6.QtWidgets import QApplication

    from skp_desktop.ui.gc_guard import MainThreadGarbageCollector
    from skp_desktop.ui.settings import Settings
    from skp_desktop.ui.theme import apply_theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    collector = MainThreadGarbageCollector(app)
    app.setApplicationName(APP_NAME)
    app.setOrganizationName("RBK")
    app.setApplicationVersion(__version__)
    app.setWindowIcon(app_icon())
    if sys.platform.startswith("linux") and app.style().name() != "fusion":
        app.setStyle("Fusion")  # a new style costs ~25 ms: not when Fusion is there already
    settings = Settings()
    apply_theme(app, settings.theme)
    return app, collector, settings


def main(argv: Sequence[str] | None = None) -> int:
    """Open the main window on the chosen database and run until it is closed."""
    args = parse_args(argv)
    from skp_desktop.logs import configure_logging

    log_file = configure_logging()
    crash_log = open(log_file.with_suffix(".crash.log"), "a", encoding="utf-8")  # noqa: SIM115
    faulthandler.enable(crash_log)  # a hard crash still leaves a trace beside the log
    if args.qt_check:
        return _qt_check_main()
    if args.self_test:
        return _self_test_main()

    from PySide6.QtCore import QThreadPool, QTimer

    from skp_desktop.ui.main_window import MainWindow

    app, collector, settings = prepare_application()
    _install_excepthook()
    from skp_desktop.ui.instance_lock import claim_database

    claim = claim_database(args.db, read_only=args.read_only)
    if not claim.run:
        return 0
    window = MainWindow(args.db, settings=settings, read_only=claim.read_only)
    if os.environ.get(BENCH_EXIT_AFTER_PAINT):
        _exit_after_first_paint(app, window)
    window.show()
    # Paint first, then open the database: the window appears at once.
    QTimer.singleShot(0, window.start)
    status = app.exec()
    QThreadPool.globalInstance().waitForDone()
    window.dispose()
    collector.stop()
    if claim.lock is not None:
        claim.lock.unlock()
    return status


if __name__ == "__main__":
    raise SystemExit(main())
