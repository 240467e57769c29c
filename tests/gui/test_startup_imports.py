"""What the window loads before it paints: no database code, no matplotlib, no openpyxl."""

from __future__ import annotations

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
