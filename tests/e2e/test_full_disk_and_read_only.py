"""A full disk and a read-only folder: a clear message (exit 3) that says what to do, nothing lost.

The disk is a real one: a small tmpfs mounted for the test, filled to the brim, or remounted
read-only. A folder without write permission is the other read-only case: as root (who ignores
permissions) the console script runs without the capabilities that let root do so.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from small_disk import SmallDisk, Unavailable, small_disk

from skp_desktop.services.audit import verify
from skp_desktop.services.database import open_database
from skp_desktop.services.entries import EntryChange
from skp_desktop.services.merge import merge_export
from skp_desktop.services.returns import get_return, record_entries

from .crash_support import SentFile, dump, holding, integrity, submit_and_send
from .support import SCRIPT, TIMEOUT, Cli, Result, copy_database

pytestmark = pytest.mark.e2e

STREETS = ("--service", "STREETS", "--period", "FY2024-25-Q1")
NOTE = "Long note on how the figure was counted. " * 110  # about 4,500 characters
FULL = ("is full", "Free some space")


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[SmallDisk]:
    try:
        with small_disk(tmp_path / "disk", "3m") as mounted:
            yield mounted
    except Unavailable as exc:
        pytest.skip(f"no small disk to fill or make read-only here: {exc}")


@pytest.fixture(scope="module")
def returns_folder(
    tmp_path_factory: pytest.TempPathFactory, template_database: Path
) -> list[SentFile]:
    root = tmp_path_factory.mktemp("full-disk-returns")
    shutil.copyfile(template_database, root / "laptops.sqlite3")
    db = open_database(root / "laptops.sqlite3")
    try:
        return submit_and_send(db, ("FY2025-26-Q1", "FY2025-26-Q2"), root / "returns")
    finally:
        db.dispose()


def _big_save(cli: Cli, db: Path) -> Result:
    """Three long commentaries and a long reason: a save that needs some room."""
    comments = [f"--comment=SAFER-P4-S{n}={NOTE}" for n in (4, 5, 6)]
    return cli.run(db, "enter", *STREETS, "--reason", NOTE, *comments, "SAFER-P4-S4=41/50")


def _streets(db: Path) -> dict[str, tuple[object, ...]]:
    """Streets' values as the database holds them (read in this process)."""
    opened = open_database(db)
    try:
        view = get_return(opened, "STREETS", "FY2024-25-Q1")
        return {r.code: (r.numerator, r.denominator, r.commentary) for r in view.rows}
    finally:
        opened.dispose()


def _enter_streets(db: Path, numerator: str) -> None:
    opened = open_database(db)
    try:
        record_entries(
            opened,
            service="STREETS",
            period="FY2024-25-Q1",
            changes=[EntryChange("SAFER-P4-S4", {"numerator": numerator, "denominator": "50"})],
            actor="tester",
        )
    finally:
        opened.dispose()


def _verified(db: Path) -> tuple[str, ...]:
    opened = open_database(db)
    try:
        return verify(opened).problems
    finally:
        opened.dispose()


def _says_full(result: Result) -> None:
    assert result.returncode == 3, str(result)
    assert all(words in result.stderr for words in FULL), str(result)
    assert "Traceback" not in result.stderr


# --- a full disk ---------------------------------------------------------------------------


def test_a_full_disk_refuses_a_save_clearly_and_loses_nothing(
    cli: Cli, template_database: Path, disk: SmallDisk
) -> None:
    db = disk.path / "skp.sqlite3"
    shutil.copyfile(template_database, db)
    _enter_streets(db, "45")
    before = _streets(db)

    disk.fill(leave=96 * 1024)  # room to read, not for the save
    refused = _big_save(cli, db)
    _says_full(refused)
    assert "nothing was saved" in refused.stderr
    shown = cli.run(db, "show", *STREETS, "--json")  # reading still works on the full disk
    row = next(r for r in shown.json() if r["code"] == "SAFER-P4-S4")
    assert (row["numerator"], row["denominator"], row["commentary"]) == (45, 50, None)
    assert _streets(db) == before
    assert integrity(db) == "ok"
    assert _verified(db) == ()

    disk.free()  # the user frees space and does it again
    assert _big_save(cli, db).returncode == 0
    assert _streets(db)["SAFER-P4-S4"] == (41, 50, NOTE.strip())
    assert _verified(db) == ()


def test_a_full_disk_stops_an_import_and_the_same_import_finishes_it(
    cli: Cli, template_database: Path, disk: SmallDisk, returns_folder: list[SentFile]
) -> None:
    db = disk.path / "coordinator.sqlite3"
    shutil.copyfile(template_database, db)
    folder = returns_folder[0].path.parent

    disk.fill(leave=256 * 1024)  # room for a few files of the batch, not all
    stopped = cli.run(db, "import", str(folder))
    _says_full(stopped)
    assert "Run the same import again" in stopped.stderr
    accepted = [line.split("\t")[1] for line in stopped.stdout.splitlines()]
    assert 0 < len(accepted) < len(returns_folder), str(stopped)
    assert integrity(db) == "ok"
    fully_in = []
    for item in returns_folder:
        held = holding(db, item)
        assert held.fully_in(item) or held.not_in, f"{item.path.name} is partly in: {held}"
        if held.fully_in(item):
            fully_in.append(str(item.path))
    assert sorted(fully_in) == sorted(accepted)  # each file reported is in, whole; no other
    assert _verified(db) == ()

    disk.free()
    finished = cli.run(db, "import", str(folder))
    assert finished.returncode == 0, str(finished)
    statuses = [line.split("\t")[0] for line in finished.stdout.splitlines()]
    assert statuses == ["DUPLICATE"] * len(accepted) + ["ACCEPTED"] * (
        len(returns_folder) - len(accepted)
    )
    assert all(holding(db, item).fully_in(item) for item in returns_folder)
    assert _verified(db) == ()


def test_a_full_disk_refuses_a_restore_and_changes_nothing(
    cli: Cli, template_database: Path, disk: SmallDisk, tmp_path: Path
) -> None:
    db = disk.path / "skp.sqlite3"
    shutil.copyfile(template_database, db)
    _enter_streets(db, "45")
    backup = tmp_path / "good-backup.sqlite3"
    shutil.copyfile(template_database, backup)
    before = db.read_bytes()

    disk.fill(leave=96 * 1024)  # no room to keep the database as it is before restoring
    refused = cli.run(db, "restore", "--from", str(backup))
    _says_full(refused)
    assert "the database was not changed" in refused.stderr
    assert db.read_bytes() == before
    assert not any((disk.path / "backups").glob("*")), "a partial backup was left behind"

    disk.free()
    restored = cli.run(db, "restore", "--from", str(backup))
    assert restored.returncode == 0, str(restored)
    assert _streets(db)["SAFER-P4-S4"] == (None, None, None)


def test_a_full_disk_refuses_the_merged_workbook_and_keeps_the_previous_one(
    cli: Cli, template_database: Path, disk: SmallDisk, tmp_path: Path
) -> None:
    db = tmp_path / "skp.sqlite3"
    shutil.copyfile(template_database, db)
    out = disk.path / "partnership.xlsx"
    opened = open_database(db)
    try:
        merge_export(opened, out=out, first="FY2024-25-Q1", last="FY2024-25-Q1")
    finally:
        opened.dispose()
    previous = out.read_bytes()

    disk.fill(leave=0)
    refused = cli.run(db, "merge-export", "--out", str(out), "--from", "FY2024-25-Q1")
    assert refused.returncode == 3, str(refused)
    assert "the disk is full" in refused.stderr and "Free some space" in refused.stderr
    assert out.read_bytes() == previous
    assert sorted(p.name for p in disk.path.iterdir()) == [".filler", out.name]


# --- a read-only folder --------------------------------------------------------------------

# As root, the console script is run without the capabilities that let root ignore permissions.
NO_OVERRIDE = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"]


def _run_as_user(cli: Cli, prefix: Sequence[str], db: Path, *args: str) -> Result:
    command = [*prefix, str(SCRIPT), "--db", str(db), *args]
    done = subprocess.run(
        command, env=cli.env, capture_output=True, encoding="utf-8", timeout=TIMEOUT, check=False
    )
    return Result(("--db", str(db), *args), done.returncode, done.stdout, done.stderr)


@pytest.fixture(params=["read-only disk", "folder without write permission"])
def read_only_folder(
    request: pytest.FixtureRequest, tmp_path: Path, template_database: Path
) -> Iterator[tuple[Path, list[str]]]:
    """A database in a folder that cannot be written to, and how to run the script there."""
    if request.param == "read-only disk":
        try:
            with small_disk(tmp_path / "disk", "2m") as mounted:
                db = mounted.path / "skp.sqlite3"
                _prepare(db, template_database)
                mounted.read_only()
                yield db, []
        except Unavailable as exc:
            pytest.skip(f"no disk to make read-only here: {exc}")
        return
    folder = tmp_path / "shared"
    folder.mkdir()
    db = folder / "skp.sqlite3"
    _prepare(db, template_database)
    prefix: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("as root, permissions are ignored unless setpriv can drop the override")
        prefix = NO_OVERRIDE
    folder.chmod(0o555)
    try:
        yield db, prefix
    finally:
        folder.chmod(0o755)


def _prepare(db: Path, template: Path) -> None:
    """A database with a Streets value in it, closed cleanly (no journal left beside it)."""
    shutil.copyfile(template, db)
    _enter_streets(db, "45")


def test_a_database_in_a_read_only_folder_opens_read_only_and_is_never_changed(
    cli: Cli,
    read_only_folder: tuple[Path, list[str]],
    returns_folder: list[SentFile],
    tmp_path: Path,
) -> None:
    db, prefix = read_only_folder
    folder_before = sorted(p.name for p in db.parent.iterdir())
    bytes_before, rows_before = db.read_bytes(), dump(db, untouched=True)

    shown = _run_as_user(cli, prefix, db, "show", *STREETS, "--json")
    assert shown.returncode == 0, str(shown)
    row = next(r for r in json.loads(shown.stdout) if r["code"] == "SAFER-P4-S4")
    assert (row["numerator"], row["denominator"]) == (45, 50)
    assert "is open read-only because" in shown.stderr and str(db.parent) in shown.stderr

    verified = _run_as_user(cli, prefix, db, "verify")
    assert verified.returncode == 0, str(verified)

    refused = _run_as_user(cli, prefix, db, "enter", *STREETS, "SAFER-P4-S4=40/50")
    assert refused.returncode == 3, str(refused)
    assert "is open read-only because" in refused.stderr
    assert "nothing was changed" in refused.stderr
    assert "copy it to a folder you can write to" in refused.stderr

    stopped = _run_as_user(cli, prefix, db, "import", str(returns_folder[0].path))
    assert stopped.returncode == 3, str(stopped)
    assert "is open read-only because" in stopped.stderr and stopped.stdout == ""

    backup = tmp_path / "backup.sqlite3"
    shutil.copyfile(db, backup)
    no_restore = _run_as_user(cli, prefix, db, "restore", "--from", str(backup))
    assert no_restore.returncode == 3, str(no_restore)
    assert "cannot be written to" in no_restore.stderr
    assert "the database was not changed" in no_restore.stderr

    for result in (shown, verified, refused, stopped, no_restore):
        assert "Traceback" not in result.stderr, str(result)
    assert sorted(p.name for p in db.parent.iterdir()) == folder_before  # no journal, no lock
    assert db.read_bytes() == bytes_before
    assert dump(db, untouched=True) == rows_before


def test_a_full_disk_refuses_a_chart_and_a_board_pack_with_exit_3(
    cli: Cli, demo_template: Any, disk: SmallDisk, tmp_path: Path
) -> None:
    db = copy_database(demo_template.path, tmp_path / "charts.sqlite3")
    disk.fill(leave=0)
    chart = cli.run(db, "chart", "--indicator", "SAFER-P4-S1", "--out", str(disk.path / "c.png"))
    pack = cli.run(db, "board-pack", "--period", "FY2026-27-Q1", "--out", str(disk.path / "p.pdf"))
    for result in (chart, pack):
        assert result.returncode == 3, str(result)
        assert "the disk is full" in result.stderr and "Free some space" in result.stderr
        assert "Traceback" not in result.stderr and "bug" not in result.stderr
    assert sorted(p.name for p in disk.path.iterdir()) == [".filler"]  # nothing half-written


def test_a_read_only_disk_refuses_a_chart_and_a_board_pack_with_exit_3(
    cli: Cli, demo_template: Any, disk: SmallDisk, tmp_path: Path
) -> None:
    db = copy_database(demo_template.path, tmp_path / "charts.sqlite3")
    disk.read_only()
    try:
        chart = cli.run(
            db, "chart", "--indicator", "SAFER-P4-S1", "--out", str(disk.path / "c.svg")
        )
        pack = cli.run(
            db, "board-pack", "--period", "FY2026-27-Q1", "--out", str(disk.path / "p.pdf")
        )
    finally:
        disk.writable()
    for result in (chart, pack):
        assert result.returncode == 3, str(result)
        assert "the disk is read-only" in result.stderr, str(result)
        assert "Traceback" not in result.stderr
    assert list(disk.path.iterdir()) == []
