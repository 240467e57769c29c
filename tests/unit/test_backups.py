"""Backups: made once a day, kept to a number, checked before a restore, restorable."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from skp_desktop.domain.errors import ValidationError
from skp_desktop.services import backups
from skp_desktop.services.database import open_database
from skp_desktop.services.entries import EntryChange
from skp_desktop.services.returns import get_return, record_entries

CAT1 = "SAFER-P4-S1"


def _enter(path: Path, numerator: str) -> None:
    db = open_database(path)
    record_entries(
        db,
        service="HIGHWAYS",
        period="FY2024-25-Q1",
        changes=[EntryChange(CAT1, {"numerator": numerator, "denominator": "50"})],
        actor="tester",
    )
    db.dispose()


def _numerator(path: Path) -> object:
    db = open_database(path)
    try:
        return get_return(db, "HIGHWAYS", "FY2024-25-Q1").row(CAT1).numerator
    finally:
        db.dispose()


def test_a_daily_backup_is_made_once_a_day_and_old_ones_are_pruned(database_file: Path) -> None:
    db = open_database(database_file)
    try:
        first = backups.daily_backup(db)
        assert first is not None and Path(first.path).is_file()
        assert backups.daily_backup(db) is None  # already today
        for day in range(1, 12):
            later = datetime.now(UTC) + timedelta(days=day)
            assert backups.daily_backup(db, now=later) is not None
        daily = [b for b in backups.list_backups(db) if b.label == "daily"]
        assert len(daily) == backups.KEEP
    finally:
        db.dispose()


def test_restore_puts_a_backup_back_and_keeps_what_was_there(database_file: Path) -> None:
    _enter(database_file, "40")
    db = open_database(database_file)
    saved = backups.backup_now(db)
    db.dispose()
    _enter(database_file, "45")
    assert _numerator(database_file) == 45
    before = backups.restore(str(database_file), saved.path)
    assert _numerator(database_file) == 40
    assert before is not None and before.label == "before-restore"
    with sqlite3.connect(before.path) as raw:  # the restore can itself be undone
        assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda p: p.write_bytes(b"not a database at all" * 50), "not a readable database"),
        (
            lambda p: sqlite3.connect(p).execute("CREATE TABLE t (x)").connection.commit(),
            "not an SKP Returns database",
        ),
    ],
)
def test_a_bad_backup_is_refused_and_nothing_changes(
    database_file: Path, tmp_path: Path, make, words: str
) -> None:
    _enter(database_file, "40")
    bad = tmp_path / "bad.sqlite3"
    make(bad)
    with pytest.raises(ValidationError, match=words):
        backups.restore(str(database_file), str(bad))
    assert _numerator(database_file) == 40


def test_a_backup_from_a_newer_app_is_refused(database_file: Path, tmp_path: Path) -> None:
    newer = tmp_path / "newer.sqlite3"
    newer.write_bytes(database_file.read_bytes())
    with sqlite3.connect(newer) as raw:
        raw.execute("UPDATE alembic_version SET version_num = 'ffff'")
    with pytest.raises(ValidationError, match="newer version"):
        backups.restore(str(database_file), str(newer))
