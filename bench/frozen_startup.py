"""Start-up of the frozen app (dist/skp-returns/skp-desktop, `make dist`) against the unfrozen one.

Both are timed from process start to the first paint of the main window: the app prints the
time of its first paint and quits when SKP_BENCH_EXIT_AFTER_PAINT is set (app.py). The
baseline is the same app run from the source checkout (`python -m skp_desktop.app`), in the
same run; the goal is that freezing costs nothing noticeable (≤ 1.2×).
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.results import Result

RUNS = 5
ROOT = Path(__file__).resolve().parents[1]
FROZEN = (
    ROOT
    / "dist"
    / "skp-returns"
    / ("skp-desktop.exe" if sys.platform == "win32" else "skp-desktop")
)
UNFROZEN = [sys.executable, "-m", "skp_desktop.app"]
PAINTED = re.compile(r"^first-paint (\d+\.\d+)$", re.MULTILINE)


def _once(command: list[str], folder: str) -> float:
    """Seconds from starting the process to its first painted window."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKP_")}
    env.update(
        QT_QPA_PLATFORM="offscreen",
        HOME=folder,
        XDG_CONFIG_HOME=os.path.join(folder, "config"),
        XDG_DATA_HOME=os.path.join(folder, "data"),
        XDG_STATE_HOME=os.path.join(folder, "state"),
        XDG_CACHE_HOME=os.path.join(folder, "cache"),
        SKP_LOG_DIR=os.path.join(folder, "logs"),
        SKP_BENCH_EXIT_AFTER_PAINT="1",
    )
    database = os.path.join(folder, "bench.sqlite3")
    start = time.time()
    done = subprocess.run(
        [*command, "--db", database],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    painted = PAINTED.search(done.stdout)
    if painted is None:
        raise RuntimeError(f"{command[0]} did not report its first paint:\n{done.stderr}")
    return float(painted.group(1)) - start


def run() -> list[Result]:
    """Median of interleaved runs of both, after one of each to create caches and database."""
    if not FROZEN.exists():
        print(f"frozen_startup: {FROZEN} is missing; run `make dist` first", file=sys.stderr)
        return []
    commands = {"frozen": [str(FROZEN)], "unfrozen": UNFROZEN}
    with tempfile.TemporaryDirectory() as folder:
        for command in commands.values():
            _once(command, folder)  # the database, matplotlib's font cache, Python's .pyc files
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(RUNS):
            for name, command in commands.items():
                times[name].append(_once(command, folder))
    return [
        Result(
            "frozen start to first paint",
            statistics.median(times["frozen"]),
            statistics.median(times["unfrozen"]),
            1.2,
            note="vs python -m skp_desktop.app",
        )
    ]
