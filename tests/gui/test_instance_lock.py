"""A second copy of the app on the same database is told, and offered it read-only."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QLockFile

from skp_desktop.ui.dialogs import dialogs
from skp_desktop.ui.instance_lock import claim_database

pytestmark = pytest.mark.gui


def test_the_first_copy_takes_the_lock(tmp_path: Path) -> None:
    claim = claim_database(str(tmp_path / "skp.sqlite3"), read_only=False)
    assert claim.run and not claim.read_only and claim.lock is not None
    assert (tmp_path / "skp.sqlite3.lock").exists()
    claim.lock.unlock()


@pytest.mark.parametrize("answer", [True, False])
def test_a_second_copy_is_asked_and_can_open_read_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answer: bool
) -> None:
    held = QLockFile(str(tmp_path / "skp.sqlite3.lock"))
    assert held.tryLock(0)
    asked: list[str] = []
    monkeypatch.setattr(dialogs, "confirm", lambda _p, _t, text: asked.append(text) or answer)
    claim = claim_database(str(tmp_path / "skp.sqlite3"), read_only=False)
    assert "already open on this database" in asked[0]
    assert (claim.run, claim.read_only) == (answer, answer)
    held.unlock()


def test_a_server_database_needs_no_file_lock() -> None:
    claim = claim_database("postgresql+psycopg://skp@localhost/skp", read_only=False)
    assert claim.run and claim.lock is None
