"""One app per database file: a second copy is told, and offered the database read-only."""

from __future__ import annotations

import os
from dataclasses import dataclass

from PySide6.QtCore import QLockFile

from skp_desktop.ui.dialogs import dialogs


@dataclass
class InstanceDecision:
    """What to do: run (holding `lock`), run read-only, or stop."""

    run: bool
    read_only: bool
    lock: QLockFile | None = None


def database_file_for(target: str | None) -> str | None:
    """The SQLite file the app will open (None for a server URL), without loading SQLAlchemy."""
    text = target or os.environ.get("SKP_DB")
    if not text:
        from skp_desktop.locations import default_database_path

        return str(default_database_path())
    return None if "://" in text else os.path.abspath(os.path.expanduser(text))


def claim_database(target: str | None, *, read_only: bool) -> InstanceDecision:
    """Take the database's lock; if another copy of the app holds it, ask what to do."""
    path = database_file_for(target)
    if path is None or read_only:
        return InstanceDecision(run=True, read_only=read_only)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
    except OSError:
        # opening the database says what is wrong with the folder, in the window
        return InstanceDecision(run=True, read_only=False)
    lock = QLockFile(path + ".lock")
    lock.setStaleLockTime(0)  # a lock left by a crashed copy is stale: its process is gone
    if lock.tryLock(200):
        return InstanceDecision(run=True, read_only=False, lock=lock)
    if lock.error() == QLockFile.LockError.PermissionError:
        # A folder nobody may write to here: no copy can change the database, so none needs
        # the lock; the database opens read-only and the window says why.
        return InstanceDecision(run=True, read_only=False)
    # PySide6 returns the lock's (pid, host, app) with or without a leading success flag
    info = lock.getLockInfo()
    pid = next((v for v in info if isinstance(v, int) and not isinstance(v, bool)), "unknown")
    opened_read_only = dialogs.confirm(
        None,
        "SKP Returns is already open",
        f"SKP Returns is already open on this database (process {pid}):\n{path}\n\n"
        "Two copies changing the same returns would confuse each other. Open it read-only "
        "here, to look and export? (No closes this copy.)",
    )
    return InstanceDecision(run=opened_read_only, read_only=opened_read_only)
