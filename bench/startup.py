"""Start-up: process start to the first painted main window, ours against a bare Qt table window."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

RUNS = 5

CHILD = r"""
import sys, time
mode = sys.argv[1]
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication
app = QApplication([])
if mode == "ours":
    from skp_desktop.ui.main_window import MainWindow
    window = MainWindow(sys.argv[2])
else:
    from PySide6.QtWidgets import QMainWindow, QTableWidget
    window = QMainWindow()
    window.setCentralWidget(QTableWidget(20, 8))
    window.resize(1280, 760)

class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() in (QEvent.Type.Paint, QEvent.Type.UpdateRequest):
            print(time.time(), flush=True)
            QTimer.singleShot(0, app.quit)
            obj.removeEventFilter(self)
        return False

painted = FirstPaint()
window.installEventFilter(painted)
window.show()
app.exec()
"""


def _once(mode: str, database: str) -> float:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    start = time.time()
    out = subprocess.run(
        [sys.executable, "-c", CHILD, mode, database],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return float(out[0]) - start


def run() -> tuple[str, float, float, float]:
    """(name, our median seconds, baseline median seconds, goal ratio)."""
    with tempfile.TemporaryDirectory() as folder:
        database = os.path.join(folder, "bench.sqlite3")
        ours, bare = [], []
        for _ in range(RUNS):  # interleaved, so machine load hits both alike
            bare.append(_once("bare", database))
            ours.append(_once("ours", database))
    return "start-up to first painted window", statistics.median(ours), statistics.median(bare), 1.3
