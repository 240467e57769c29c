"""Helpers for the signature tests: another laptop's key, editing `_meta`, a database's bytes."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator, Mapping
from pathlib import Path

import openpyxl
import pytest

from skp_desktop.services import trust

META = "_meta"


@contextlib.contextmanager
def key_of(folder: Path) -> Iterator[trust.InstallationKey]:
    """Act as the installation whose key lives in `folder` (made on first use)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SKP_KEY_DIR", str(folder))
        yield trust.installation_key()


def meta_rows(path: Path) -> dict[str, int]:
    """The row of each `_meta` key in a written file."""
    book = openpyxl.load_workbook(path)
    sheet = book[META]
    return {str(row[0].value): row[0].row for row in sheet.iter_rows(max_col=1) if row[0].value}


def meta_values(path: Path) -> dict[str, str]:
    book = openpyxl.load_workbook(path)
    sheet = book[META]
    return {
        str(key): str(value) for key, value in sheet.iter_rows(max_col=2, values_only=True) if key
    }


def edit_meta(source: Path, target: Path, changes: Mapping[str, str | None]) -> Path:
    """A copy with `_meta` values changed (None deletes the row's value and key)."""
    book = openpyxl.load_workbook(source)
    sheet = book[META]
    rows = {str(row[0].value): row[0].row for row in sheet.iter_rows(max_col=1) if row[0].value}
    for key, value in changes.items():
        row = rows[key]
        if value is None:
            sheet.cell(row, 1).value = None
            sheet.cell(row, 2).value = None
        else:
            sheet.cell(row, 2).value = value
    book.save(target)
    return target


def database_bytes(path: Path) -> str:
    """The SHA-256 of a SQLite database file and its write-ahead log, as they are on disk."""
    digest = hashlib.sha256(path.read_bytes())
    wal = Path(f"{path}-wal")
    if wal.exists():
        digest.update(wal.read_bytes())
    return digest.hexdigest()
