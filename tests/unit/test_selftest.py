"""The installation self-test, run from the source checkout (the frozen one: tests/e2e)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from skp_desktop.domain.errors import NotFoundError
from skp_desktop.services import selftest
from skp_desktop.services.catalogue import list_services
from skp_desktop.services.database import Database
from skp_desktop.services.entries import EntryChange
from skp_desktop.services.returns import get_return, record_entries

CHECKS = ["installation", "drivers", "database", "excel", "chart", "qt"]


def stub_qt() -> str:
    return "platform plugin 'stub' loaded"


def test_every_check_passes_in_a_temporary_folder_and_the_last_line_says_ok(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    lines: list[str] = []
    with caplog.at_level(logging.INFO, logger="skp_desktop.services.selftest"):
        report = selftest.run_self_test(qt_check=stub_qt, emit=lines.append, folder=scratch)

    assert report.ok, report.lines
    assert [check.name for check in report.checks] == CHECKS
    assert lines == report.lines
    assert lines[-1] == "self-test: OK"
    assert all(line.startswith(f"{name}: ok: ") for name, line in zip(CHECKS, lines, strict=False))
    assert "platform plugin 'stub' loaded" in lines[-2]
    # the report is in the log too, for a windowed program that has no console
    assert "self-test: OK" in caplog.text
    assert "self-test database: ok" in caplog.text
    # nothing is left behind, and the user's own database is never created
    assert list(scratch.iterdir()) == []
    assert not list(Path(os.environ["XDG_DATA_HOME"]).parent.rglob("*.sqlite3"))


def test_a_failed_check_is_named_and_the_others_still_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_qt() -> str:
        raise RuntimeError("no platform plugin could be initialised")

    def broken_drivers() -> str:
        raise selftest.CheckFailed("the PostgreSQL driver does not load: no libpq")

    monkeypatch.setattr(selftest, "check_drivers", broken_drivers)
    lines: list[str] = []
    report = selftest.run_self_test(qt_check=broken_qt, emit=lines.append, folder=tmp_path)

    assert not report.ok
    assert report.failed == ("drivers", "qt")
    assert lines[-1] == "self-test: FAILED: drivers, qt"
    assert lines[1].startswith("drivers: FAILED: the PostgreSQL driver does not load: no libpq")
    assert "qt: FAILED: RuntimeError: no platform plugin could be initialised" in lines[-2]
    assert [line.split(":")[0] for line in lines if ": ok: " in line] == [
        "installation",
        "database",
        "excel",
        "chart",
    ]


def test_checks_that_depend_on_the_database_say_they_were_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_database(scratch: object) -> str:
        raise selftest.CheckFailed("the new database is at schema None, not 0001")

    monkeypatch.setattr(selftest, "check_database", no_database)
    report = selftest.run_self_test(qt_check=stub_qt, folder=tmp_path)

    assert report.failed == ("database", "excel", "chart")
    assert report.final_line == "self-test: FAILED: database, excel, chart"
    assert "skipped: the database check did not get far enough" in report.lines[3]


def test_sample_entries_are_accepted_by_every_service_return(db: Database) -> None:
    """The database check may pick any service: each one's sample return must go in cleanly."""
    for service in list_services(db):
        for period in ("FY2024-25-Q1", "FY2024-25-Q4"):
            try:
                view = get_return(db, service.code, period)
            except NotFoundError:
                continue
            if not view.rows:
                continue
            changes = [
                EntryChange(row.code, selftest.sample_entry(row.indicator.rules))
                for row in view.rows
            ]
            saved = record_entries(
                db, service=service.code, period=period, changes=changes, actor="tester"
            )
            errors = [f"{row.code}: {p.message}" for row in saved.rows for p in row.errors]
            assert errors == [], f"{service.code} {period}"
