"""SQLite backups with the online backup API: made, listed, checked and restored."""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from skp_desktop.domain.errors import StoreUnavailable

BACKUP_FOLDER = "backups"
STAMP_FORMAT = "%Y%m%dT%H%M%S%fZ"
# SQLite's primary result codes for a file that is not a database, or is damaged
_SQLITE_CORRUPT, _SQLITE_NOTADB = 11, 26
_SQLITE_FULL, _SQLITE_READONLY, _SQLITE_CANTOPEN, _SQLITE_IOERR = 13, 8, 14, 10


@dataclass(frozen=True)
class BackupFile:
    """One backup beside a database: when, why, and how big."""

    path: Path
    label: str
    made_at: datetime
    size: int


def backup_folder(database: Path) -> Path:
    return database.parent / BACKUP_FOLDER


def is_damaged(exc: sqlite3.Error) -> bool:
    """Whether SQLite refused a file because it is not a database or is damaged."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (_SQLITE_CORRUPT, _SQLITE_NOTADB)


def _environment(exc: BaseException, folder: Path, what: str) -> StoreUnavailable | None:
    """A full disk or a folder that cannot be written, met while writing `what`, for people."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = None if code is None else code & 0xFF
    number = exc.errno if isinstance(exc, OSError) else None
    if primary == _SQLITE_FULL or number in (errno.ENOSPC, errno.EDQUOT):
        return StoreUnavailable(
            f"The disk holding {folder} is full: there is no room for {what}. Free some space "
            "and try again; the database was not changed."
        )
    if (
        primary in (_SQLITE_READONLY, _SQLITE_CANTOPEN)
        or isinstance(exc, PermissionError)
        or number == errno.EROFS
    ):
        return StoreUnavailable(
            f"{folder} cannot be written to here, so there is no room for {what}; the database "
            "was not changed. Check that you may write to that folder."
        )
    if primary == _SQLITE_IOERR or isinstance(exc, OSError):
        return StoreUnavailable(
            f"The disk holding {folder} failed while writing {what} ({exc}). Check the disk "
            "and try again; the database was not changed."
        )
    return None


@contextmanager
def _writing_into(folder: Path, what: str, partial: Path | None = None) -> Iterator[None]:
    """Say a full disk or a read-only folder plainly; never leave a partial file behind."""
    try:
        yield
    except (sqlite3.Error, OSError) as exc:
        if partial is not None:
            partial.unlink(missing_ok=True)
        problem = _environment(exc, folder, what)
        if problem is None:
            raise
        raise problem from exc


def make_backup(database: Path, label: str, *, keep: int) -> Path | None:
    """Copy a live database (other connections may be writing) and keep the newest `keep`.

    A full disk or a folder that cannot be written to raises StoreUnavailable and leaves no
    partial backup behind; a damaged database raises sqlite3.DatabaseError (see is_damaged).
    """
    if not database.exists() or database.stat().st_size == 0:
        return None
    folder = backup_folder(database)
    target, partial = _new_backup_path(database, label)
    with _writing_into(folder, "a backup", partial):
        folder.mkdir(exist_ok=True)
        source = sqlite3.connect(database)
        try:
            copy = sqlite3.connect(partial)
            try:
                source.backup(copy)  # a consistent snapshot, even while the app writes
            finally:
                copy.close()
        finally:
            source.close()
        _sync(partial)
        partial.replace(target)  # a backup is either whole or not there
    _prune(database, label, keep)
    return target


def _new_backup_path(database: Path, label: str) -> tuple[Path, Path]:
    stamp = datetime.now(UTC).strftime(STAMP_FORMAT)
    target = backup_folder(database) / f"{database.stem}-{stamp}-{label}{database.suffix}"
    return target, target.with_name(target.name + ".part")


def _prune(database: Path, label: str, keep: int) -> None:
    for stale in list_backups(database, label=label)[keep:]:
        stale.path.unlink(missing_ok=True)
        Path(f"{stale.path}-wal").unlink(missing_ok=True)


def _sync(path: Path) -> None:
    with path.open("rb+") as handle:
        os.fsync(handle.fileno())


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

    Every connection to `database` must be closed first. A database too damaged for SQLite to
    copy (the usual reason for restoring) is kept byte for byte and replaced whole.
    """
    label = "before-restore"
    try:
        before = make_backup(database, label, keep=keep)
    except sqlite3.DatabaseError as exc:
        if not is_damaged(exc):
            raise
        return _replace_damaged(database, backup, keep=keep)
    with _writing_into(database.parent, "the restored database"):
        source = sqlite3.connect(f"{backup.resolve().as_uri()}?mode=ro", uri=True)
        try:
            target = sqlite3.connect(database)
            try:
                source.backup(target)  # page by page into the live file, in one transaction
            finally:
                target.close()
        finally:
            source.close()
    return before


def _replace_damaged(database: Path, backup: Path, *, keep: int) -> Path:
    """Keep the damaged file (and its WAL) as it is, then put a copy of the backup in its place."""
    label = "before-restore"
    kept, partial = _new_backup_path(database, label)
    wal, shm = Path(f"{database}-wal"), Path(f"{database}-shm")
    with _writing_into(kept.parent, "a copy of the damaged database", partial):
        kept.parent.mkdir(exist_ok=True)
        _copy_synced(database, partial)
        if wal.exists():
            _copy_synced(wal, Path(f"{kept}-wal"))
        partial.replace(kept)
    _prune(database, label, keep)
    with _writing_into(database.parent, "the restored database"):
        descriptor, temporary = tempfile.mkstemp(
            prefix=f".{database.name}.", suffix=".restoring", dir=database.parent
        )
        os.close(descriptor)
        staged = Path(temporary)
        try:
            source = sqlite3.connect(f"{backup.resolve().as_uri()}?mode=ro", uri=True)
            try:
                copy = sqlite3.connect(staged)
                try:
                    source.backup(copy)
                finally:
                    copy.close()
            finally:
                source.close()
            _sync(staged)
            # the damaged file's WAL would be replayed onto the restored one: it goes first
            wal.unlink(missing_ok=True)
            shm.unlink(missing_ok=True)
            staged.replace(database)
        except BaseException:
            staged.unlink(missing_ok=True)
            raise
    return kept


def _copy_synced(source: Path, target: Path) -> None:
    with source.open("rb") as reading, target.open("wb") as handle:
        shutil.copyfileobj(reading, handle)
        handle.flush()
        os.fsync(handle.fileno())
