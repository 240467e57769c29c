"""A damaged database file: a clear message that says what to do, and nothing made worse."""

from __future__ import annotations

from pathlib import Path

import pytest

from skp_desktop.domain.errors import StoreUnavailable
from skp_desktop.services.audit import verify
from skp_desktop.services.database import open_database


@pytest.mark.parametrize("damage", ["truncate", "scribble"])
def test_a_damaged_database_gives_a_clear_message_and_is_left_alone(
    database_file: Path, damage: str
) -> None:
    data = bytearray(database_file.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 3]
    else:  # overwrite pages in the middle, as a failing disk might
        middle = len(data) // 2
        data[middle : middle + 8192] = b"\xff" * 8192
    database_file.write_bytes(bytes(data))
    before = database_file.read_bytes()
    try:
        db = open_database(database_file)
    except StoreUnavailable as exc:  # damage in the pages read on opening
        message = str(exc)
    else:
        try:
            report = verify(db)  # SQLite's page check names damage anywhere in the file
        finally:
            db.dispose()
        assert not report.ok
        message = report.problems[0]
    assert "damaged" in message or "not an SKP Returns database" in message
    assert "backup" in message  # it says what to do
    assert database_file.read_bytes() == before  # and makes nothing worse
