"""Killed mid-work (kill -9), the database stays whole and keeps every acknowledged edit."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from skp_desktop.services.audit import verify
from skp_desktop.services.database import open_database
from skp_desktop.services.returns import get_return

pytestmark = pytest.mark.e2e

# A writer that prints "ACK n" only after edit n is committed: what the app calls acknowledged.
WRITER = r"""
import sys
from skp_desktop.services.database import open_database
from skp_desktop.services.entries import EntryChange
from skp_desktop.services.returns import record_entries
db = open_database(sys.argv[1])
n = 0
while True:
    n += 1
    record_entries(
        db, service="CHILDRENS", period="FY2024-25-Q1", actor="crash-test",
        changes=[EntryChange("SAFER-P1-B2", {"value": str(n), "commentary": "x" * (n % 500)})],
    )
    print(f"ACK {n}", flush=True)
"""


def _run_and_kill(path: Path, delay: float) -> int:
    """Start the writer, kill it hard after `delay` seconds; the last acknowledged edit."""
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "SKP_LOG_DIR": str(path.parent / "logs")},
    )
    time.sleep(delay)
    child.send_signal(signal.SIGKILL)
    out, err = child.communicate(timeout=30)
    acks = [int(line.split()[1]) for line in out.splitlines() if line.startswith("ACK ")]
    assert child.returncode == -signal.SIGKILL, err
    return acks[-1] if acks else 0


def test_kill_during_edits_loses_no_acknowledged_value(database_file: Path) -> None:
    rng = random.Random(20261123)
    last_seen = 0
    for _round in range(6):
        acknowledged = _run_and_kill(database_file, rng.uniform(0.9, 2.2))
        with sqlite3.connect(database_file) as raw:
            assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        db = open_database(database_file)
        try:
            value = get_return(db, "CHILDRENS", "FY2024-25-Q1").row("SAFER-P1-B2").value
            report = verify(db)
        finally:
            db.dispose()
        assert report.ok, report.problems
        if acknowledged:
            # the value held is the last acknowledged edit, or the one being written when killed
            assert value is not None and int(value) in (acknowledged, acknowledged + 1)
            last_seen = int(value)
    assert last_seen > 0, "the writer never got an edit in before it was killed"
