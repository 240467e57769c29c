"""The UI thread during the first visit to the Dashboard of the demo database (22 indicators).

A 10 ms timer ticks on the UI thread from the moment the Dashboard place is chosen until the
dashboard has been on screen for a second; the longest gap between two ticks is the longest
time the window could not answer. The baseline is the same timer over the same length of time
in the same window left on the Return page: what the machine's load and Qt's own work cost.
Informative: a person notices a stall of more than about 100 ms.

Each side runs in a fresh offscreen process (the first visit is what is measured); runs
alternate and each side's median is reported. `python -m bench.dashboard_stall` prints them.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile

from bench.results import Result

RUNS = int(os.environ.get("SKP_BENCH_STALL_RUNS", "2"))  # informative; each run is two app starts

CHILD = r"""
import sys, time
mode, database, settle = sys.argv[1], sys.argv[2], float(sys.argv[3])
from datetime import date
from PySide6.QtCore import QTimer, Qt
from skp_desktop.app import prepare_application
from skp_desktop.ui.main_window import MainWindow

app, collector, settings = prepare_application()
import threading
from matplotlib.figure import Figure

ui_draws = []  # figures other than the side panel's drawn on the UI thread, and how long
_draw = Figure.draw


def draw(figure, renderer):
    began = time.perf_counter()
    _draw(figure, renderer)
    on_ui = threading.current_thread() is threading.main_thread()
    if on_ui and figure is not window.definition_panel.chart.figure:
        ui_draws.append(time.perf_counter() - began)


Figure.draw = draw
settings.last_service = "HIGHWAYS"
settings.last_period = "FY2024-25-Q2"
window = MainWindow(database, settings=settings, today=date(2024, 11, 1))
window.resize(1366, 768)
window.show()
window.start()
ticks = []
timer = QTimer()
timer.setTimerType(Qt.TimerType.PreciseTimer)
timer.setInterval(10)
timer.timeout.connect(lambda: ticks.append(time.perf_counter()))


def wait(condition, timeout=60.0):
    end = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > end:
            raise SystemExit(f"timed out in {mode}")
        app.processEvents()
        time.sleep(0.002)


def pause(seconds):
    end = time.perf_counter() + seconds
    wait(lambda: time.perf_counter() > end)


# The return open and its side panel's trend drawn: only the Dashboard's work is left.
wait(lambda: window.controller.view is not None and not window.controller.busy)
wait(lambda: window.definition_panel.chart.figure is not None)
pause(1.0)
start = time.perf_counter()
ticks.append(start)
timer.start()
if mode == "visit":
    window.places.setCurrentRow(1)
    page = window.dashboard_page
    wait(lambda: bool(page.tiles))
    pause(settle)
else:
    pause(settle + 1.0)
timer.stop()
gaps = [b - a for a, b in zip(ticks, ticks[1:])]
print(max(gaps), time.perf_counter() - start, len(ui_draws), sum(ui_draws), flush=True)
window.close()
window.dispose()
"""


def _once(mode: str, database: str, home: str, settle: float = 1.0) -> tuple[float, int]:
    """The longest gap between ticks, and how many figures were drawn on the UI thread."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=home, XDG_CONFIG_HOME=home)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    out = subprocess.run(
        [sys.executable, "-c", CHILD, mode, database, str(settle)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return float(out[0]), int(out[2])


def run() -> list[Result]:
    from skp_desktop.services.database import open_database
    from skp_desktop.services.setup import initialise

    with tempfile.TemporaryDirectory() as folder:
        database = os.path.join(folder, "bench.sqlite3")
        db = open_database(database)
        try:
            initialise(db, actor="bench", demo=True)
        finally:
            db.dispose()
        times: dict[str, list[float]] = {"visit": [], "idle": []}
        ui_draws = 0
        for _ in range(RUNS):
            for mode in times:
                stall, drawn = _once(mode, database, folder)
                times[mode].append(stall)
                ui_draws += drawn
    visit, idle = statistics.median(times["visit"]), statistics.median(times["idle"])
    return [
        Result(
            "dashboard visit, longest UI stall",
            visit,
            idle,
            goal=float("inf"),
            note=f"informative; {ui_draws} figures drawn on the UI thread; runs "
            + "; ".join(
                f"{mode} {', '.join(f'{t * 1000:.0f}' for t in runs)} ms"
                for mode, runs in times.items()
            ),
        )
    ]


if __name__ == "__main__":
    for row in run():
        print(
            f"{row.name}: {row.ours * 1000:.0f} ms vs {row.baseline * 1000:.0f} ms idle "
            f"({row.ratio:.1f}x) {row.note}"
        )
