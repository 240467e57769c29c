"""Backups of the built-in SQLite database: daily, listed, checked, restored."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from skp_desktop.domain.errors import NotFoundError, StoreUnavailable, ValidationError
from skp_desktop.services.database import Database, database_url, resolve_target
from skp_desktop.store import backups

KEEP = 7  # a week of daily backups, and the last seven of each other kind
DAILY = "daily"


@dataclass(frozen=True)
class BackupInfo:
    """A backup as people read it."""

    path: str
    label: str
    made_at: datetime
    size: int


def _database_file(db: Database | str | None) -> Path:
    url = db.url if isinstance(db, Database) else database_url(resolve_target(db))
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise StoreUnavailable(
            "Backups here are for SQLite files; a shared PostgreSQL database is backed up on "
            "its server (pg_dump)."
        )
    return Path(url.database)


def daily_backup(db: Database, *, now: datetime | None = None) -> BackupInfo | None:
    """Back the database up once a day of use (None when today's backup exists)."""
    if db.read_only:
        return None
    path = _database_file(db)
    latest = backups.list_backups(path, label=DAILY)
    moment = now or datetime.now(UTC)
    if latest and moment - latest[0].made_at < timedelta(hours=20):
        return None
    made = backups.make_backup(path, DAILY, keep=KEEP)
    return None if made is None else _info(backups.list_backups(path, label=DAILY)[0])


def backup_now(db: Database, label: str = "manual") -> BackupInfo:
    """A backup made on request."""
    path = _database_file(db)
    made = backups.make_backup(path, label, keep=KEEP)
    if made is None:
        raise StoreUnavailable(f"{path} is empty: there is nothing to back up.")
    return _info(backups.list_backups(path, label=label)[0])


def list_backups(db: Database | str | None) -> list[BackupInfo]:
    """Every backup beside the database, newest first."""
    return [_info(b) for b in backups.list_backups(_database_file(db))]


def database_file(db_target: str | None) -> Path:
    """The SQLite file `--db` (or `$SKP_DB`, or the built-in database) names; refuses a URL."""
    return _database_file(db_target)


def app_holding(db_target: str | None) -> str | None:
    """Who holds the app's lock on the database (a copy of SKP Returns that has it open), or
    None. A lock left by a copy that has since stopped does not count."""
    lock = Path(f"{_database_file(db_target)}.lock")  # the GUI's QLockFile (ui/instance_lock.py)
    try:
        lines = lock.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    try:
        pid = int(lines[0])
    except (IndexError, ValueError):
        return None
    host = lines[2] if len(lines) > 2 else ""
    if host and host != socket.gethostname():
        return f"process {pid} on {host}"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # it exists, run by someone else
    return f"process {pid}"


def restore(db_target: str | None, backup: str) -> BackupInfo | None:
    """Check a backup and put it in place of the database (close the database first).

    Returns the copy made of the database as it was, so a restore can itself be undone.
    """
    path = _database_file(db_target)
    source = Path(backup)
    if not source.exists():
        raise NotFoundError(f"There is no backup at {backup}.")
    if not path.parent.is_dir():
        raise NotFoundError(
            f"The folder {path.parent} does not exist: there is no database there to restore."
        )
    if path.exists() and source.resolve() == path.resolve():
        raise ValidationError(
            "The backup cannot be restored: it is the database itself. Choose a file from "
            f"{backups.backup_folder(path)}.",
            file=backup,
        )
    problems = backups.check_backup(source, _known_revisions())
    if problems:
        raise ValidationError("The backup cannot be restored: " + "; ".join(problems), file=backup)
    before = backups.restore_backup(path, source, keep=KEEP)
    if before is None:
        return None
    return _info(backups.list_backups(path, label="before-restore")[0])


def _known_revisions() -> set[str]:
    """Schema revisions this version of the app can open (a newer backup is refused)."""
    from alembic.script import ScriptDirectory

    from skp_desktop.store.migrate import MIGRATIONS_DIR

    return {rev.revision for rev in ScriptDirectory(str(MIGRATIONS_DIR)).walk_revisions()}


def _info(backup: backups.BackupFile) -> BackupInfo:
    return BackupInfo(str(backup.path), backup.label, backup.made_at, backup.size)
