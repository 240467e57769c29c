"""SQLite backups with the online backup API: made, listed, checked and restored."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

BACKUP_FOLDER = "backups"
STAMP_FORMAT = "%Y%m%dT%H%M%S%fZ"


@dataclass(frozen=True)
class BackupFile:
    """One backup beside a database: when, why, and how big."""

    path: Path
    label: str
    made_at: datetime
    size: int


def backup_folder(database: Path) -> Path:
    return database.parent / BACKUP_FOLDER


def make_backup(database: Path, label: str, *, keep: int) -> Path | None:
    """Copy a live database (other connections may be writing) and keep the newest `keep`."""
    if not database.exists() or database.stat().st_size == 0:
        return None
    folder = backup_folder(database)
    folder.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime(STAMP_FORMAT)
    target = folder / f"{database.stem}-{stamp}-{label}{database.suffix}"
    partial = target.with_name(target.name + ".part")
    source = sqlite3.connect(database)
    copy = sqlite3.connect(partial)
    try:
        source.backup(copy)  # a consistent snapshot, even while the app writes
    finally:
        copy.close()
        source.close()
    partial.replace(target)  # a backup is either whole or not there
    for stale in list_backups(database, label=label)[keep:]:
        stale.path.unlink(missing_ok=True)
    return target


def list_backups(database: Path, *, label: str | None = None) -> list[BackupFile]:
    """Backups of this database, newest first."""
    folder = backup_folder(database)
    found = []
    for path in folder.glob(f"{database.stem}-*{database.suffix}") if folder.is_dir() else ():
        stamp, _, rest = path.stem.removeprefix(f"{database.stem}-").partition("-")
        try:
            made = datetime.strptime(stamp, STAMP_FORMAT).replace(tzinfo=UTC)
        except ValueError:
            continue
        if label is None or rest == label:
            found.append(BackupFile(path, rest, made, path.stat().st_size))
    return sorted(found, key=lambda b: b.made_at, reverse=True)


def check_backup(path: Path, known_revisions: set[str]) -> list[str]:
    """Why a file cannot be restored (empty when it can): damaged, foreign, or too new."""
    if not path.is_file():
        return [f"{path} does not exist"]
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            integrity = connection.execute("PRAGMA integrity_check").fetchone()
            tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master")}
            revision = None
            if "alembic_version" in tables:
                revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        return [f"{path.name} is not a readable database ({exc})"]
    problems = []
    if integrity != ("ok",):
        problems.append(f"{path.name} is damaged: {integrity[0] if integrity else 'unknown'}")
    if not {"audit_events", "returns", "values"} <= tables:
        problems.append(f"{path.name} is not an SKP Returns database")
    elif revision is None or revision[0] not in known_revisions:
        problems.append(f"{path.name} was made by a newer version of SKP Returns")
    return problems


def restore_backup(database: Path, backup: Path, *, keep: int) -> Path | None:
    """Put a checked backup in place of the database, keeping a copy of what was there.

    Every connection to `database` must be closed first.
    """
    before = make_backup(database, "before-restore", keep=keep)
    source = sqlite3.connect(f"{backup.resolve().as_uri()}?mode=ro", uri=True)
    target = sqlite3.connect(database)
    try:
        source.backup(target)  # page by page into the live file, in one transaction
    finally:
        target.close()
        source.close()
    return before
