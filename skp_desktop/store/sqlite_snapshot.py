"""A SQLite file read with the standard library's sqlite3, read-only, with no SQLAlchemy.

For the window's first look at a return (services/quick_open.py) while SQLAlchemy loads; the
engine factory shares the rules about read-only files from here.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from skp_desktop.store.return_reads import Fetch

BUSY_TIMEOUT_MS = 5000


def unwritable_reason(path: Path) -> str | None:
    """Why SQLite cannot write the database file at `path` here, or None when it can.

    SQLite writes its journal (`-wal`, `-shm`) beside the file, so the folder must be writable
    as well as the file.
    """
    folder = path.parent
    if folder.is_dir() and not os.access(folder, os.W_OK):
        return f"its folder {folder} cannot be written to (a read-only folder or disk)"
    if path.is_file() and not os.access(path, os.W_OK):
        return "the file itself is read-only"
    return None


def read_only_uri(path: Path) -> str:
    """The URI that opens `path` so that SQLite itself refuses every write."""
    uri = path.resolve().as_uri() + "?mode=ro"
    journal = [Path(f"{path}{suffix}") for suffix in ("-wal", "-shm")]
    if not os.access(path.parent, os.W_OK) and not any(p.exists() for p in journal):
        # SQLite cannot make a WAL database's -shm file in a read-only folder, so it could not
        # read it at all; with no journal beside it (nobody has it open) nothing can change it
        # while we read, which is what immutable promises.
        uri += "&immutable=1"
    return uri


@contextmanager
def read_only_snapshot(path: Path) -> Iterator[Fetch]:
    """Every read inside sees one moment of the file, which is never created or changed.

    sqlite3.Error goes up as it is: the caller decides what an unreadable file means.
    """
    connection = sqlite3.connect(
        read_only_uri(path), uri=True, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None
    )
    try:
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        connection.execute("BEGIN")  # one snapshot for all the reads (WAL keeps it for us)
        yield sqlite_fetch(connection)
    finally:
        connection.close()  # closing ends the read transaction; nothing was written


def sqlite_fetch(connection: sqlite3.Connection) -> Fetch:
    """Fetch over a sqlite3 connection: its named parameter style is the `:name` of the SQL."""

    def fetch(sql: str, params: Mapping[str, Any]) -> Sequence[Sequence[Any]]:
        return connection.execute(sql, params).fetchall()

    return fetch
