"""Killed mid-work (kill -9), the database stays whole and keeps every acknowledged edit.

Edits, an import batch and a merge are killed at random moments (seeded: a failure names its
seed, and SKP_CRASH_SEED=<seed> replays it). An imported file is in whole or not at all, and the
same import run again finishes the batch; a merge leaves the previous workbook or the new one,
never half of one, and does not touch the database.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from skp_desktop.services.audit import verify
from skp_desktop.services.database import open_database
from skp_desktop.services.merge import merge_export
from skp_desktop.services.returns import get_return
from skp_desktop.services.review import accept_return

from .crash_support import (
    SentFile,
    after,
    after_lines,
    dump,
    holding,
    integrity,
    run_until,
    submit_and_send,
    when_exists,
)
from .support import Cli

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
    """Start the writer, kill it hard `delay` seconds after its first acknowledged edit (timed
    from then, not from its start: on a busy machine the start alone can take seconds); the
    last acknowledged edit."""
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "SKP_LOG_DIR": str(path.parent / "logs")},
    )
    assert child.stdout is not None
    first = child.stdout.readline()  # blocks until edit 1 is committed (or the writer died)
    time.sleep(delay)
    child.send_signal(signal.SIGKILL)
    out, err = child.communicate(timeout=30)
    lines = [first, *out.splitlines()]
    acks = [int(line.split()[1]) for line in lines if line.startswith("ACK ")]
    assert child.returncode == -signal.SIGKILL, err
    return acks[-1] if acks else 0


def test_kill_during_edits_loses_no_acknowledged_value(database_file: Path) -> None:
    rng = random.Random(20261123)
    last_seen = 0
    for _round in range(6):
        acknowledged = _run_and_kill(database_file, rng.uniform(0.05, 1.3))
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


# --- an import batch and a merge, killed -----------------------------------------------------

# Replay a failure with SKP_CRASH_SEED=<the seed in its message>.
SEED = int(os.environ.get("SKP_CRASH_SEED", "20261123"))
PERIODS = ("FY2025-26-Q1", "FY2025-26-Q2")


@dataclass(frozen=True)
class Sent:
    laptops: Path  # where the returns were entered and submitted
    folder: Path
    files: list[SentFile]


@pytest.fixture(scope="module")
def sent(tmp_path_factory: pytest.TempPathFactory, template_database: Path) -> Sent:
    """Every service's return for two quarters, submitted and exported as files."""
    root = tmp_path_factory.mktemp("crash-returns")
    laptops = root / "laptops.sqlite3"
    shutil.copyfile(template_database, laptops)
    db = open_database(laptops)
    try:
        files = submit_and_send(db, PERIODS, root / "returns")
    finally:
        db.dispose()
    assert len(files) >= 12, "the batch should be long enough to be killed in the middle"
    return Sent(laptops, root / "returns", files)


def _statuses(lines: list[str]) -> dict[str, str]:
    """{file name: status} from `import` output lines."""
    found = {}
    for line in lines:
        status, file, *_ = line.split("\t")
        found[Path(file).name] = status
    return found


def _verified(path: Path) -> tuple[bool, tuple[str, ...]]:
    db = open_database(path)
    try:
        report = verify(db)
    finally:
        db.dispose()
    return report.ok, report.problems


def test_kill_during_an_import_batch_keeps_every_file_whole(
    cli: Cli, template_database: Path, sent: Sent
) -> None:
    rng = random.Random(SEED)
    coordinator = cli.root / "coordinator.sqlite3"
    shutil.copyfile(template_database, coordinator)
    command = ("--db", str(coordinator), "import", str(sent.folder))
    done: set[str] = set()  # digests of the files fully in the database
    kills = 0
    for round_ in range(6):
        # Each run is the same import again: killed a random moment into the files not yet in
        wait_for = len(done) + rng.randrange(3)
        then = rng.uniform(0, 0.03)  # a file takes some 5-20 ms: the kill lands a few files on
        replay = f"seed {SEED}, round {round_}: killed {then:.3f} s after output line {wait_for}"
        run = run_until(
            command,
            cli.env,
            stderr_file=cli.root / f"stderr-{round_}.txt",
            kill_when=after_lines(wait_for, then),
        )
        assert run.killed or run.returncode == 0, f"{replay}\n{run}"
        kills += run.killed

        assert integrity(coordinator) == "ok", replay
        now_in = set()
        for item in sent.files:
            held = holding(coordinator, item)
            assert held.fully_in(item) or held.not_in, (
                f"{replay}: {item.path.name} is only partly in the database: {held}"
            )
            if held.fully_in(item):
                now_in.add(item.sha256)
        assert done <= now_in, f"{replay}: a file imported before the kill was lost"
        reported = _statuses(run.lines)
        for item in sent.files:
            status = reported.get(item.path.name)
            if item.sha256 in done and status is not None:
                assert status == "DUPLICATE", f"{replay}: {item.path.name} was already in"
            if status == "ACCEPTED":  # printed only once stored: what the user was told is there
                assert item.sha256 in now_in, f"{replay}: {item.path.name} said ACCEPTED"
        ok, problems = _verified(coordinator)
        assert ok, f"{replay}: {problems}"
        done = now_in
        if not run.killed:
            break  # it finished before the moment came
    assert kills >= 4, f"seed {SEED}: only {kills} runs were killed before they finished"

    final = cli.run(coordinator, "import", str(sent.folder))
    assert final.returncode == 0, str(final)
    reported = _statuses(final.stdout.splitlines())
    assert reported == {
        item.path.name: "DUPLICATE" if item.sha256 in done else "ACCEPTED" for item in sent.files
    }, f"seed {SEED}\n{final}"
    assert all(holding(coordinator, item).fully_in(item) for item in sent.files)
    assert integrity(coordinator) == "ok"
    ok, problems = _verified(coordinator)
    assert ok, problems


def test_kill_during_merge_export_leaves_the_old_workbook_or_the_new_one(
    cli: Cli, sent: Sent
) -> None:
    rng = random.Random(SEED)
    coordinator = cli.root / "coordinator.sqlite3"
    shutil.copyfile(sent.laptops, coordinator)
    db = open_database(coordinator)
    try:
        for item in sent.files:
            accept_return(db, service=item.service, period=item.period, actor="Coordinator")
        # what the folder held before: last quarter's workbook; and what the merge must write
        previous = merge_export(
            db, out=cli.root / "previous.xlsx", first=PERIODS[0], last=PERIODS[0]
        )
        expected = merge_export(
            db, out=cli.root / "expected.xlsx", first=PERIODS[0], last=PERIODS[-1]
        )
    finally:
        db.dispose()
    old_bytes, new_bytes = previous.path.read_bytes(), expected.path.read_bytes()
    assert old_bytes != new_bytes
    before = dump(coordinator)
    folder = cli.root / "shared"
    folder.mkdir()
    target = folder / "partnership.xlsx"
    command = ("--db", str(coordinator), "merge-export", "--out", str(target))
    command += ("--from", PERIODS[0], "--to", PERIODS[-1])
    temporary = (f".{target.name}.", ".tmp")  # the atomic writer's file beside the target

    target.write_bytes(old_bytes)
    whole = run_until(
        command, cli.env, stderr_file=cli.root / "whole.txt", kill_when=lambda _: False
    )
    assert whole.returncode == 0, whole
    assert target.read_bytes() == new_bytes  # the same database and range give the same file
    killed_writing = 0
    for round_ in range(4):
        target.write_bytes(old_bytes)
        if round_ % 2:
            moment = "killed once its temporary file appeared"
            kill_when = when_exists(folder, *temporary)
        else:
            delay = rng.uniform(0.2, whole.seconds)
            moment = f"killed after {delay:.3f} s"
            kill_when = after(delay)
        replay = f"seed {SEED}, round {round_}: {moment}"
        run = run_until(
            command,
            cli.env,
            stderr_file=cli.root / f"merge-{round_}.txt",
            kill_when=kill_when,
            poll=0.0005,
        )
        assert run.killed or run.returncode == 0, f"{replay}\n{run}"

        held = target.read_bytes()
        assert held in (old_bytes, new_bytes), f"{replay}: {target.name} is half written"
        if not run.killed:
            assert held == new_bytes, replay
        left = sorted(p.name for p in folder.iterdir() if p != target)
        assert all(n.startswith(temporary[0]) and n.endswith(temporary[1]) for n in left), (
            f"{replay}: {left}"
        )
        if left and held == old_bytes:
            killed_writing += 1  # killed while the new workbook was being written
        for name in left:
            (folder / name).unlink()
        assert integrity(coordinator) == "ok", replay
        assert dump(coordinator) == before, f"{replay}: the merge changed the database"
    assert killed_writing >= 1, f"seed {SEED}: no run was killed while writing the workbook"
