"""The window's quick first look (services/quick_open.py): the same return get_return gives,
read with the standard library's sqlite3, or nothing when the look cannot be trusted."""

from __future__ import annotations

import random
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from skp_desktop.domain.errors import NotFoundError
from skp_desktop.domain.periods import PeriodKind, parse_period
from skp_desktop.services import review, setup
from skp_desktop.services.catalogue import list_indicators, list_services, list_themes
from skp_desktop.services.database import Database, open_database
from skp_desktop.services.definitions import Publication, publish_definitions
from skp_desktop.services.entries import EntryChange
from skp_desktop.services.quick_open import quick_start
from skp_desktop.services.returns import get_return, record_entries, reopen_return, submit_return
from skp_desktop.store import migrate
from skp_desktop.store.schema_head import SCHEMA_HEAD

ACTOR = "tester"
HIGHWAYS, COMMSAFETY, CHILDRENS = "HIGHWAYS", "COMMSAFETY", "CHILDRENS"
REPAIRS = "SAFER-P4-S1"  # Highways: a percentage from a numerator and a denominator
POTHOLES = "SAFER-P4-S7"  # Highways: a count added by definitions version 2
NEW_YEAR = "FY2025-26-Q1"  # definitions version 2 applies from here
PERIODS = (
    "FY2024-25-Q1",
    "FY2024-25-Q2",
    "FY2024-25-Q4",
    NEW_YEAR,
    "FY2025-26-Q2",
    "FY2025-26-Q3",
    "2025-05",
)


def _submit(db: Database, service: str, period: str, step: int = 0) -> None:
    """Enter plausible values for every indicator due and submit, explaining any warning."""
    rng = random.Random(f"{service}{period}")
    infos = {info.code: info for info in list_indicators(db, service=service)}
    due = get_return(db, service, period).rows
    record_entries(
        db,
        service=service,
        period=period,
        changes=[
            EntryChange(row.code, setup._demo_value(infos[row.code], step, rng)) for row in due
        ],
        actor=ACTOR,
    )
    view = get_return(db, service, period)
    explanations = {row.code: "checked" for row in view.rows if row.needs_explanation}
    submit_return(db, service=service, period=period, actor=ACTOR, explanations=explanations)


def _build_every_state(db: Database) -> None:
    # Submitted history for every service under definitions version 1.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(setup, "DEMO_LAST", "FY2024-25-Q4")
        setup.add_demo_history(db)
    # Version 2 from 2025/26: a new title, a new target and a new indicator for Highways; the
    # 2024/25 returns are still read with version 1.
    publish_definitions(
        db,
        Publication(
            applies_from=NEW_YEAR,
            note="new Highways measures",
            changes={REPAIRS: {"title": "% of Category 1 defects made safe within 24 hours"}},
            targets={REPAIRS: {"FY2025-26": "95"}},
            new_indicators=[
                {
                    "code": POTHOLES,
                    "theme": "SAFER-P4",
                    "service": HIGHWAYS,
                    "title": "Potholes filled",
                    "unit": "count",
                    "polarity": "higher is better",
                    "frequency": "quarterly",
                }
            ],
        ),
        actor="coordinator",
    )
    # Drafts with a rate, symbols, commentary, an explanation and a half-entered rate.
    record_entries(
        db,
        service=HIGHWAYS,
        period="FY2025-26-Q2",
        changes=[
            EntryChange(REPAIRS, {"numerator": "30", "denominator": "50", "commentary": "storm"}),
            EntryChange(REPAIRS, {"explanation": "the storm closed two depots"}),
            EntryChange(POTHOLES, {"symbol": "[x]", "commentary": "not collected yet"}),
        ],
        actor=ACTOR,
    )
    record_entries(
        db,
        service=CHILDRENS,
        period="FY2025-26-Q2",
        changes=[
            EntryChange("SAFER-P1-B2", {"symbol": "[z]"}),
            EntryChange("SAFER-P1-S3", {"numerator": "7"}),
        ],
        actor=ACTOR,
    )
    # A Highways revision 2 carried over from a submitted revision 1.
    reopen_return(db, service=HIGHWAYS, period="FY2024-25-Q2", reason="late data", actor=ACTOR)
    # Community Safety: returned with queries, reopened and one query answered (revision 2).
    _submit(db, COMMSAFETY, NEW_YEAR, step=4)
    asked = [row.code for row in get_return(db, COMMSAFETY, NEW_YEAR).rows][:2]
    review.return_with_query(
        db,
        service=COMMSAFETY,
        period=NEW_YEAR,
        reason="Please check two figures",
        queries={code: f"Is {code} right?" for code in asked},
        actor="coordinator",
    )
    reopen_return(db, service=COMMSAFETY, period=NEW_YEAR, reason="the queries", actor=ACTOR)
    review.answer_queries(
        db, service=COMMSAFETY, period=NEW_YEAR, answers={asked[0]: "Yes: recounted"}, actor=ACTOR
    )
    # Community Safety's next quarter returned and not reopened; Children's accepted.
    _submit(db, COMMSAFETY, "FY2025-26-Q2", step=5)
    review.return_with_query(
        db, service=COMMSAFETY, period="FY2025-26-Q2", reason="Too high?", actor="coordinator"
    )
    _submit(db, CHILDRENS, NEW_YEAR, step=4)
    review.accept_return(db, service=CHILDRENS, period=NEW_YEAR, actor="coordinator")


@pytest.fixture(scope="module")
def every_state(template_database: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with returns in every state, two definitions versions and queries."""
    path = tmp_path_factory.mktemp("every_state") / "skp.sqlite3"
    shutil.copyfile(template_database, path)
    db = open_database(path)
    try:
        _build_every_state(db)
    finally:
        db.dispose()
    return path


@pytest.fixture
def every_state_db(every_state: Path) -> Iterator[Database]:
    db = open_database(every_state, read_only=True)
    yield db
    db.dispose()


def test_the_scenario_has_every_state(every_state_db: Database) -> None:
    def view(service: str, period: str) -> tuple[str, int | None, int]:
        found = get_return(every_state_db, service, period)
        return found.state, found.revision, found.definitions_version

    assert view(HIGHWAYS, "FY2024-25-Q1") == ("submitted", 1, 1)
    assert view(HIGHWAYS, "FY2024-25-Q2") == ("draft", 2, 1)
    assert view(HIGHWAYS, "FY2025-26-Q2") == ("draft", 1, 2)
    assert view(HIGHWAYS, "FY2025-26-Q3") == ("not started", None, 2)
    assert view(COMMSAFETY, NEW_YEAR) == ("draft", 2, 2)
    assert view(COMMSAFETY, "FY2025-26-Q2") == ("returned", 1, 2)
    assert view(CHILDRENS, NEW_YEAR) == ("accepted", 1, 2)
    queries = get_return(every_state_db, COMMSAFETY, NEW_YEAR).queries
    assert queries is not None and [q.answered for q in queries.queries] == [True, False]
    draft = get_return(every_state_db, HIGHWAYS, "FY2025-26-Q2")
    assert draft.row(POTHOLES).symbol == "[x]"
    assert draft.row(REPAIRS).explanation == "the storm closed two depots"
    assert get_return(every_state_db, CHILDRENS, "FY2025-26-Q2").row("SAFER-P1-B2").symbol == "[z]"


def test_the_quick_look_is_what_get_return_gives_for_every_service_and_period(
    every_state: Path, every_state_db: Database
) -> None:
    services = list_services(every_state_db)
    first = quick_start(every_state, services[0].code, PERIODS[0])
    assert first is not None
    assert first.services == services
    assert first.themes == list_themes(every_state_db)
    assert first.writable
    for service in services:
        for period in PERIODS:
            quick = quick_start(every_state, service.code, period)
            if parse_period(period).kind is PeriodKind.MONTH:  # no service reports monthly
                assert quick is None, (service.code, period)
                with pytest.raises(NotFoundError, match="has no monthly indicators"):
                    get_return(every_state_db, service.code, period)
                continue
            assert quick is not None, (service.code, period)
            assert quick.view == get_return(every_state_db, service.code, period), (
                service.code,
                period,
            )


def test_without_a_choice_it_opens_the_first_service_and_the_quarter_due_now(
    every_state: Path,
) -> None:
    quick = quick_start(every_state, "NO-SUCH-SERVICE", None, today=date(2025, 8, 10))
    assert quick is not None
    assert quick.view.service == quick.services[0]
    assert quick.view.period == NEW_YEAR


def test_it_reads_without_changing_the_file(every_state: Path, tmp_path: Path) -> None:
    copy = tmp_path / "skp.sqlite3"
    shutil.copyfile(every_state, copy)
    before = copy.read_bytes()
    assert quick_start(copy, HIGHWAYS, NEW_YEAR) is not None
    assert copy.read_bytes() == before
    # A WAL database's reader makes SQLite's own shared index beside it; nothing is written.
    beside = {p.name: p.stat().st_size for p in tmp_path.iterdir() if p != copy}
    assert set(beside) <= {"skp.sqlite3-wal", "skp.sqlite3-shm"}
    assert beside.get("skp.sqlite3-wal", 0) == 0


def test_nothing_when_the_look_cannot_be_trusted(
    database_file: Path, tmp_path: Path, template_database: Path
) -> None:
    missing = tmp_path / "missing.sqlite3"
    assert quick_start(missing) is None
    assert not missing.exists()  # not created
    not_a_database = tmp_path / "notes.sqlite3"
    not_a_database.write_text("these are notes, not a database\n" * 100)
    assert quick_start(not_a_database) is None
    assert quick_start(tmp_path / "empty.sqlite3") is None
    assert quick_start(tmp_path) is None  # a folder
    assert quick_start("postgresql://someone@localhost/skp") is None

    older = tmp_path / "older.sqlite3"
    shutil.copyfile(template_database, older)
    with sqlite3.connect(older) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0003'")
    assert quick_start(older) is None

    no_catalogue = tmp_path / "new.sqlite3"
    open_database(no_catalogue, initialise=False).dispose()  # migrated, no definitions
    assert quick_start(no_catalogue) is None

    assert quick_start(database_file) is not None  # the same database, trusted


def test_the_schema_head_known_without_alembic_is_alembics_head() -> None:
    assert migrate.head_revision() == SCHEMA_HEAD


PROBE = """
import sys
from skp_desktop.services.quick_open import quick_start
quick = quick_start(sys.argv[1], "HIGHWAYS", "FY2025-26-Q2")
assert quick is not None and quick.view.rows
heavy = ("sqlalchemy", "alembic", "openpyxl", "matplotlib")
print(" ".join(name for name in heavy if name in sys.modules) or "none")
"""


def test_the_quick_look_loads_no_heavy_library(every_state: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(every_state)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert done.stdout.strip() == "none"
