"""Signed audit extracts: the head hash they carry finds later changes to the history."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from openpyxl import load_workbook

from skp_desktop.domain.errors import ValidationError
from skp_desktop.services.database import open_database
from skp_desktop.services.entries import EntryChange
from skp_desktop.services.history import check_audit_extract, write_audit_extract
from skp_desktop.services.returns import record_entries


def _enter(path: Path, numerator: str, period: str = "FY2024-25-Q1") -> None:
    db = open_database(path)
    record_entries(
        db,
        service="HIGHWAYS",
        period=period,
        changes=[EntryChange("SAFER-P4-S1", {"numerator": numerator, "denominator": "50"})],
        actor="tester",
    )
    db.dispose()


@pytest.fixture
def extract(database_file: Path, tmp_path: Path) -> Path:
    _enter(database_file, "40")
    _enter(database_file, "41", "FY2024-25-Q2")
    db = open_database(database_file)
    out = tmp_path / "extract.xlsx"
    assert write_audit_extract(db, out, period="FY2024-25-Q1") == 2
    db.dispose()
    return out


def test_an_extract_is_a_readable_table_with_its_head_hash(extract: Path) -> None:
    book = load_workbook(extract)
    rows = list(book["History"].iter_rows(values_only=True))
    assert rows[0][:4] == ("id", "at", "actor", "action")
    assert {r[5] for r in rows[1:]} == {"FY2024-25-Q1"}
    assert book["_extract"].sheet_state == "hidden"
    meta = {k: v for k, v in book["_extract"].iter_rows(values_only=True)}
    assert len(meta["head_hash"]) == 64 and meta["events"] == "2"


def test_later_events_do_not_spoil_an_extract(database_file: Path, extract: Path) -> None:
    _enter(database_file, "44")
    db = open_database(database_file)
    check = check_audit_extract(db, extract)
    db.dispose()
    assert check.ok, check.problems


def test_a_changed_event_behind_the_extract_is_found(database_file: Path, extract: Path) -> None:
    with sqlite3.connect(database_file) as raw:
        raw.execute("DROP TRIGGER audit_events_no_update")
        raw.execute("UPDATE audit_events SET actor = 'mallory' WHERE action = 'value.set'")
    db = open_database(database_file)
    check = check_audit_extract(db, extract)
    db.dispose()
    assert not check.ok
    assert any("differ from the database" in p for p in check.problems)


def test_another_workbook_is_refused(database_file: Path, tmp_path: Path) -> None:
    from openpyxl import Workbook

    other = tmp_path / "other.xlsx"
    Workbook().save(other)
    db = open_database(database_file)
    with pytest.raises(ValidationError, match="not an SKP Returns audit extract"):
        check_audit_extract(db, other)
    db.dispose()
