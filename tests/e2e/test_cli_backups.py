"""`backups` and `restore` through the real console script."""

from __future__ import annotations

import os
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from PySide6.QtCore import QLockFile

from skp_desktop.services import backups
from skp_desktop.services.database import open_database
from skp_desktop.services.entries import EntryChange
from skp_desktop.services.returns import record_entries

from .support import Call, Cli, Result, copy_database

pytestmark = pytest.mark.e2e

HIGHWAYS = ("--service", "HIGHWAYS", "--period", "FY2024-25-Q1")
BACKUP_KEYS = {"path", "label", "made_at", "size"}


def _numerator(cli: Cli, db: Path) -> object:
    rows = cli.run(db, "show", *HIGHWAYS, "--json").json()
    return next(r["numerator"] for r in rows if r["code"] == "SAFER-P4-S1")


def _enter(db: Path, numerator: str, *, back_up: bool = False) -> str | None:
    """Enter a value as the app does; then, if asked, back up as File ▸ Back up now does."""
    opened = open_database(db)
    try:
        record_entries(
            opened,
            service="HIGHWAYS",
            period="FY2024-25-Q1",
            changes=[EntryChange("SAFER-P4-S1", {"numerator": numerator, "denominator": "50"})],
            actor="tester",
        )
        return backups.backup_now(opened).path if back_up else None
    finally:
        opened.dispose()


@pytest.fixture
def with_backup(cli: Cli, template_database: Path) -> tuple[Path, str]:
    """A database where 40 was backed up, then changed to 45."""
    db = copy_database(template_database, cli.root / "data" / "skp.sqlite3")
    saved = _enter(db, "40", back_up=True)
    assert saved is not None
    _enter(db, "45")
    return db, saved


def test_restore_puts_a_backup_back_and_keeps_the_database_as_it_was(
    cli: Cli, with_backup: tuple[Path, str]
) -> None:
    db, saved = with_backup
    restored = cli.run(db, "restore", "--from", saved)
    assert restored.returncode == 0, str(restored)
    assert restored.stdout.startswith(f"Restored {db} from {saved}.\n")
    assert _numerator(cli, db) == 40
    assert cli.run(db, "verify").returncode == 0

    listed = cli.run(db, "backups", "--json").json()
    assert all(set(row) == BACKUP_KEYS for row in listed)
    assert [row["label"] for row in listed] == ["before-restore", "manual"]  # newest first
    assert listed[1]["path"] == saved
    assert listed[0]["made_at"] >= listed[1]["made_at"]
    for row in listed:
        assert row["size"] == Path(row["path"]).stat().st_size
    kept = listed[0]["path"]
    assert f"The database as it was is kept as {kept}." in restored.stdout

    undone = cli.run(db, "restore", "--from", kept)  # a restore can itself be undone
    assert undone.returncode == 0, str(undone)
    assert _numerator(cli, db) == 45

    table = cli.run(db, "backups")
    assert table.returncode == 0
    header, *lines = table.stdout.splitlines()
    assert header.split() == ["MADE", "(UTC)", "LABEL", "SIZE", "PATH"]
    assert [line.split()[1] for line in lines] == ["before-restore", "before-restore", "manual"]
    assert all(line.endswith(".sqlite3") for line in lines)


def test_backups_of_a_database_that_has_none(cli: Cli, template_database: Path) -> None:
    db = copy_database(template_database, cli.root / "skp.sqlite3")
    as_json, as_text = cli.run_many([Call(db, ("backups", "--json")), Call(db, ("backups",))])
    assert as_json.json() == []
    assert as_text.returncode == 0 and as_text.stdout == ""
    assert as_text.stderr == f"No backups of {db} yet.\n"


def test_restore_over_a_damaged_database_brings_it_back(
    cli: Cli, with_backup: tuple[Path, str]
) -> None:
    db, saved = with_backup
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 3])  # as a crash on a failing disk might leave it
    damaged = db.read_bytes()
    refused = cli.run(db, "show", *HIGHWAYS)
    assert refused.returncode == 3 and "Restore a backup" in refused.stderr, str(refused)

    restored = cli.run(db, "restore", "--from", saved)
    assert restored.returncode == 0, str(restored)
    assert _numerator(cli, db) == 40
    assert cli.run(db, "verify").returncode == 0
    kept = cli.run(db, "backups", "--json").json()[0]
    assert kept["label"] == "before-restore"
    assert Path(kept["path"]).read_bytes() == damaged  # the damaged file is kept as it was


def _unchanged(db: Path, before: bytes, result: Result) -> None:
    assert "Traceback" not in result.stderr, str(result)
    assert result.stdout == "", str(result)
    assert db.read_bytes() == before


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda p: p.write_bytes(b"this is not a database " * 300), "is not a readable database"),
        (lambda p: _one_table(p), "is not an SKP Returns database"),
    ],
    ids=["not a database", "another program's database"],
)
def test_a_backup_that_fails_its_check_is_refused_naming_why(
    cli: Cli, with_backup: tuple[Path, str], make, words: str
) -> None:
    db, _saved = with_backup
    bad = cli.root / "bad.sqlite3"
    make(bad)
    before = db.read_bytes()
    refused = cli.run(db, "restore", "--from", str(bad))
    assert refused.returncode == 1, str(refused)
    assert "The backup cannot be restored" in refused.stderr and words in refused.stderr
    _unchanged(db, before, refused)
    assert _numerator(cli, db) == 45


def _one_table(path: Path) -> None:
    with closing(sqlite3.connect(path)) as raw:
        raw.execute("CREATE TABLE notes (text TEXT)")
        raw.commit()


def test_a_backup_from_a_newer_version_is_refused(cli: Cli, with_backup: tuple[Path, str]) -> None:
    db, saved = with_backup
    newer = cli.root / "newer.sqlite3"
    shutil.copyfile(saved, newer)
    with closing(sqlite3.connect(newer)) as raw:
        raw.execute("UPDATE alembic_version SET version_num = 'ffff'")
        raw.commit()
    before = db.read_bytes()
    refused = cli.run(db, "restore", "--from", str(newer))
    assert refused.returncode == 1, str(refused)
    assert "was made by a newer version of SKP Returns" in refused.stderr
    _unchanged(db, before, refused)


def test_a_missing_backup_is_a_usage_error(cli: Cli, with_backup: tuple[Path, str]) -> None:
    db, _saved = with_backup
    before = db.read_bytes()
    missing = cli.root / "nowhere" / "backup.sqlite3"
    refused, no_option = cli.run_many(
        [Call(db, ("restore", "--from", str(missing))), Call(db, ("restore",))]
    )
    assert refused.returncode == 2, str(refused)
    assert refused.stderr == f"skp-returns: There is no backup at {missing}.\n"
    _unchanged(db, before, refused)
    assert no_option.returncode == 2 and "--from" in no_option.stderr


def test_restore_waits_for_the_app_to_close_the_database(
    cli: Cli, with_backup: tuple[Path, str]
) -> None:
    db, saved = with_backup
    held = QLockFile(f"{db}.lock")  # the lock the app takes on the database it has open
    assert held.tryLock(0)
    try:
        before = db.read_bytes()
        refused = cli.run(db, "restore", "--from", saved)
        assert refused.returncode == 3, str(refused)
        assert f"SKP Returns has {db} open (process {os.getpid()})" in refused.stderr
        assert "Close it first" in refused.stderr
        _unchanged(db, before, refused)
    finally:
        held.unlock()
    assert cli.run(db, "restore", "--from", saved).returncode == 0  # once it is closed


def test_backups_and_restore_are_for_sqlite_files(cli: Cli, tmp_path: Path) -> None:
    url = "postgresql+psycopg://skp@localhost:1/skp"  # never reached: nothing is connected
    listed = cli.run_raw("--db", url, "backups", "--json")
    restored = cli.run_raw("--db", url, "restore", "--from", str(tmp_path / "any.sqlite3"))
    for result in (listed, restored):
        assert result.returncode == 3, str(result)
        assert "Backups here are for SQLite files" in result.stderr
        assert "pg_dump" in result.stderr
        assert result.stdout == ""
