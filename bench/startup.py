"""Start-up, measured from process start, against a bare PySide6 window with a table.

- first painted main window (goal ≤ 1.3×): the window paints before the database loads;
- the return grid filled and ready for typing (goal ≤ 4×): rows shown, the page enabled and the
  controller taking edits. The grid may show before the database is fully open (a quick
  read-only look at the file); an edit typed then is kept and saved once it is open;
- the database open with nothing left to write (informative): what "ready" meant before.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

from bench.results import Result

RUNS = 9  # medians of interleaved runs: this VM alone moves a run by +-30%

CHILD = r"""
import sys, time
mode, database = sys.argv[1], sys.argv[2]
from PySide6.QtCore import QEvent, QObject, QTimer
if mode == "bare":
    from PySide6.QtWidgets import QApplication, QMainWindow, QTableWidget
    app = QApplication([])
    window = QMainWindow()
    window.setCentralWidget(QTableWidget(20, 8))
    window.resize(1280, 760)
else:  # as skp_desktop.app.main starts
    from skp_desktop.app import prepare_application
    from skp_desktop.ui.main_window import MainWindow
    app, collector, settings = prepare_application()
    window = MainWindow(database, settings=settings)

class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() in (QEvent.Type.Paint, QEvent.Type.UpdateRequest):
            obj.removeEventFilter(self)
            if mode == "grid":
                window.start()
                typing = []
                def ready():
                    page, controller = window.return_page, window.controller
                    shown = page.model.rowCount() > 0
                    if not typing and shown and page.isEnabled() and controller.editable:
                        typing.append(time.time())
                    if typing and shown and controller.db is not None and not controller.busy:
                        print(typing[0], time.time(), flush=True)
                        app.quit()
                    else:
                        QTimer.singleShot(2, ready)
                ready()
            else:
                print(time.time(), flush=True)
                QTimer.singleShot(0, app.quit)
        return False

painted = FirstPaint()
window.installEventFilter(painted)
window.show()
app.exec()
if mode != "bare":
    window.dispose()
"""


def _once(mode: str, database: str, home: str) -> list[float]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=home, XDG_CONFIG_HOME=home)
    # An installed app runs from compiled bytecode (pip and PyInstaller compile it); a shell
    # that forbids writing it would have every run compile the app's sources again.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    start = time.time()
    out = subprocess.run(
        [sys.executable, "-c", CHILD, mode, database],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [float(stamp) - start for stamp in out]


def run() -> list[Result]:
    """Median of interleaved runs, so machine load falls on both sides alike."""
    with tempfile.TemporaryDirectory() as folder:
        database = os.path.join(folder, "bench.sqlite3")
        _once("grid", database, folder)  # creates and migrates the database once
        times: dict[str, list[float]] = {"bare": [], "ours": [], "grid": [], "open": []}
        for _ in range(RUNS):
            for mode in ("bare", "ours", "grid"):
                stamps = _once(mode, database, folder)
                times[mode].append(stamps[0])
                if mode == "grid":
                    times["open"].append(stamps[1])
    bare = statistics.median(times["bare"])
    return [
        Result("start to first painted window", statistics.median(times["ours"]), bare, 1.3),
        Result("start to return grid ready", statistics.median(times["grid"]), bare, 4.0),
        Result(
            "start to database open (saves written)",
            statistics.median(times["open"]),
            bare,
            goal=float("inf"),
            note="informative",
        ),
    ]
