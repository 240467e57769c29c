"""What the window loads before it paints: no database code, no matplotlib, no openpyxl."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.gui

PROBE = """
import sys
import skp_desktop.app
import skp_desktop.ui.main_window
import skp_desktop.ui.pages.return_page, skp_desktop.ui.pages.dashboard_page
import skp_desktop.ui.pages.history_page, skp_desktop.ui.definition_panel
import skp_desktop.ui.problems_panel, skp_desktop.ui.return_controller
heavy = ("sqlalchemy", "alembic", "matplotlib", "openpyxl")
print(" ".join(name for name in heavy if name in sys.modules))
"""


def test_the_window_and_its_pages_import_no_heavy_libraries() -> None:
    # matplotlib costs ~0.6 s and SQLAlchemy ~0.4 s to import: they load after the first paint.
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == ""


FIRST_PAINT = """
import os, sys
import PySide6.QtCore
from PySide6.QtCore import QEvent, QObject
from skp_desktop.app import prepare_application
from skp_desktop.ui.main_window import MainWindow
app, collector, settings = prepare_application()
window = MainWindow(sys.argv[1], settings=settings)
class FirstPaint(QObject):
    def eventFilter(self, watched, event):
        if event.type() in (QEvent.Type.Paint, QEvent.Type.UpdateRequest):
            watched.removeEventFilter(self)
            print("Qt namespace made:", "Qt" in vars(PySide6.QtCore), flush=True)
            app.quit()
        return False
painted = FirstPaint()
window.installEventFilter(painted)
window.show()
app.exec()
"""


def test_the_first_paint_does_without_qts_enum_namespace(tmp_path) -> None:
    # PySide6 makes every enum of Qt's namespace (Qt.AlignmentFlag, Qt.Key …) at its first use,
    # 30-50 ms; the frame's first paint needs none of it (bench/startup.py, goal 1.3x).
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path))
    env["XDG_CONFIG_HOME"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", FIRST_PAINT, str(tmp_path / "skp.sqlite3")],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env=env,
    )
    assert done.stdout.strip() == "Qt namespace made: False"
