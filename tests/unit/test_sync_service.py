"""Synchronising a laptop's database with the shared one (`db`: SQLite, and PostgreSQL)."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from skp_desktop.services import audit, exchange
from skp_desktop.services.database import Database, acting_actor, open_database
from skp_desktop.services.entries import EntryChange
from skp_desktop.services.returns import get_return, record_entries, reopen_return, submit_return
from skp_desktop.services.sync import synchronise

pytestmark = pytest.mark.both_engines

Q1 = "FY2024-25-Q1"
CAT1 = "SAFER-P4-S1"  # Highways
LOOKED_AFTER = "SAFER-P1-B2"  # Children's Services


def _laptop(template_database: Path, path: Path) -> Database:
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template_database, path)
    return open_database(path)


@pytest.fixture
def laptop(template_database: Path, tmp_path: Path) -> Iterator[Database]:
    """A service manager's own SQLite database."""
    db = _laptop(template_database, tmp_path / "laptop" / "skp.sqlite3")
    yield db
    db.dispose()


def enter(db: Database, service: str, code: str, actor: str = "hana", **fields: str) -> None:
    record_entries(db, service=service, period=Q1, changes=[EntryChange(code, fields)], actor=actor)


def statuses(outcomes) -> list[tuple[str, str, int | None]]:  # type: ignore[no-untyped-def]
    return [(o.status, o.service, o.revision) for o in outcomes]


def highways_two_revisions(laptop: Database) -> None:
    enter(laptop, "HIGHWAYS", CAT1, numerator="45", denominator="50")
    submit_return(laptop, service="HIGHWAYS", period=Q1, actor="hana")
    reopen_return(laptop, service="HIGHWAYS", period=Q1, reason="late repairs", actor="hana")
    enter(laptop, "HIGHWAYS", CAT1, numerator="47", denominator="50")


def event_count(db: Database) -> int:
    return audit.verify(db).events_checked


def test_push_copies_each_revision_with_its_history(laptop: Database, db: Database) -> None:
    highways_two_revisions(laptop)
    enter(laptop, "CHILDRENS", LOOKED_AFTER, value="100")  # another service: not pushed

    outcomes = synchronise(laptop, db, actor="coordinator", services=["HIGHWAYS"])

    assert statuses(outcomes) == [("ACCEPTED", "HIGHWAYS", 1), ("ACCEPTED", "HIGHWAYS", 2)]
    assert outcomes[0].file == laptop.display_name
    assert [(c.code, c.new) for c in outcomes[1].changes] == [(CAT1, "47/50 = 94")]
    view = get_return(db, "HIGHWAYS", Q1)
    assert (view.revision, view.state, view.row(CAT1).value) == (2, "draft", Decimal(94))
    assert get_return(db, "CHILDRENS", Q1).state == "not started"
    report = audit.verify(db)
    assert report.ok, report.problems
    copied = audit.history(db, service="HIGHWAYS", indicator=CAT1)
    # a shared database names the login that brought the events, and says who made them
    pusher = acting_actor(db, "coordinator")
    assert {e.actor for e in copied} == {acting_actor(db, "hana")}
    said = f"synchronised from {laptop.display_name}"
    if db.is_postgresql:
        said += ", recorded there by hana"
    assert all(e.source.startswith(said) for e in copied)
    synced = [e for e in audit.history(db, service="HIGHWAYS") if e.action == "return.sync"]
    assert [(e.actor, e.revision) for e in synced] == [(pusher, 2), (pusher, 1)]


def test_pushing_again_changes_nothing_and_later_edits_are_added(
    laptop: Database, db: Database
) -> None:
    highways_two_revisions(laptop)
    synchronise(laptop, db, actor="hana")
    before = event_count(db)

    again = synchronise(laptop, db, actor="hana")
    assert statuses(again) == [("DUPLICATE", "HIGHWAYS", 1), ("DUPLICATE", "HIGHWAYS", 2)]
    assert event_count(db) == before

    enter(laptop, "HIGHWAYS", CAT1, numerator="48", denominator="50")
    submit_return(laptop, service="HIGHWAYS", period=Q1, actor="hana")
    later = synchronise(laptop, db, actor="hana")
    assert statuses(later) == [("DUPLICATE", "HIGHWAYS", 1), ("ACCEPTED", "HIGHWAYS", 2)]
    view = get_return(db, "HIGHWAYS", Q1)
    assert (view.state, view.row(CAT1).value) == ("submitted", Decimal(96))
    assert audit.verify(db).ok


def test_pull_gives_an_offline_laptop_the_shared_returns(
    db: Database, template_database: Path, tmp_path: Path
) -> None:
    highways_two_revisions(db)
    offline = _laptop(template_database, tmp_path / "offline" / "skp.sqlite3")
    try:
        pulled = synchronise(db, offline, actor="hana", services=["HIGHWAYS"])
        assert statuses(pulled) == [("ACCEPTED", "HIGHWAYS", 1), ("ACCEPTED", "HIGHWAYS", 2)]
        assert get_return(offline, "HIGHWAYS", Q1).row(CAT1).value == Decimal(94)
        assert audit.verify(offline).ok
        # the round trip: what came from the shared database is already there
        back = synchronise(offline, db, actor="hana")
        assert [o.status for o in back] == ["DUPLICATE", "DUPLICATE"]
        # work goes on offline, and is pushed when back
        enter(offline, "HIGHWAYS", CAT1, numerator="49", denominator="50")
        assert [o.status for o in synchronise(offline, db, actor="hana")] == [
            "DUPLICATE",
            "ACCEPTED",
        ]
        assert get_return(db, "HIGHWAYS", Q1).row(CAT1).value == Decimal(98)
        assert audit.verify(db).ok
    finally:
        offline.dispose()


def test_changes_on_both_sides_conflict_and_an_older_copy_is_stale(
    laptop: Database, db: Database
) -> None:
    highways_two_revisions(laptop)
    synchronise(laptop, db, actor="hana")
    enter(db, "HIGHWAYS", CAT1, actor="cora", numerator="30", denominator="50")
    before = event_count(db)

    stale = synchronise(laptop, db, actor="hana")
    assert [o.status for o in stale] == ["DUPLICATE", "STALE"]

    enter(laptop, "HIGHWAYS", CAT1, numerator="20", denominator="50")
    conflict = synchronise(laptop, db, actor="hana")
    assert [o.status for o in conflict] == ["DUPLICATE", "CONFLICT"]
    assert "changed in both databases" in (conflict[1].reason or "")
    assert get_return(db, "HIGHWAYS", Q1).row(CAT1).value == Decimal(60)
    assert event_count(db) == before


def test_a_revision_imported_from_its_return_file_is_a_duplicate_and_a_reopening_is_new(
    laptop: Database, db: Database, tmp_path: Path
) -> None:
    enter(laptop, "HIGHWAYS", CAT1, numerator="45", denominator="50")
    submit_return(laptop, service="HIGHWAYS", period=Q1, actor="hana")
    sent = exchange.export_return(
        laptop, service="HIGHWAYS", period=Q1, out=tmp_path / "highways.xlsx", actor="hana"
    )
    assert [o.status for o in exchange.import_files(db, [sent.path], actor="cora")] == ["ACCEPTED"]
    reopen_return(laptop, service="HIGHWAYS", period=Q1, reason="check again", actor="hana")

    outcomes = synchronise(laptop, db, actor="hana")

    assert statuses(outcomes) == [("DUPLICATE", "HIGHWAYS", 1), ("ACCEPTED", "HIGHWAYS", 2)]
    assert get_return(db, "HIGHWAYS", Q1).revision == 2 and audit.verify(db).ok


def test_dry_run_decides_without_writing(laptop: Database, db: Database) -> None:
    highways_two_revisions(laptop)
    before = event_count(db)
    outcomes = synchronise(laptop, db, actor="hana", dry_run=True)
    assert [o.status for o in outcomes] == ["ACCEPTED", "ACCEPTED"]
    assert event_count(db) == before and get_return(db, "HIGHWAYS", Q1).state == "not started"


def test_a_dry_run_says_what_the_real_run_then_does(laptop: Database, db: Database) -> None:
    # revision 2 changes 45/50 to 47/50: a dry run that wrote nothing between the revisions
    # would wrongly say revision 2 changes it from nothing
    highways_two_revisions(laptop)
    enter(laptop, "CHILDRENS", LOOKED_AFTER, value="100")
    synchronise(laptop, db, actor="hana", services=["CHILDRENS"])
    enter(laptop, "CHILDRENS", LOOKED_AFTER, value="101")
    before = event_count(db)

    rehearsed = synchronise(laptop, db, actor="hana", dry_run=True)
    assert event_count(db) == before
    assert get_return(db, "HIGHWAYS", Q1).state == "not started"
    assert get_return(db, "CHILDRENS", Q1).row(LOOKED_AFTER).value == Decimal(100)
    done = synchronise(laptop, db, actor="hana")

    assert [o.line for o in rehearsed] == [o.line for o in done]
    assert [o.as_dict() for o in rehearsed] == [o.as_dict() for o in done]
    assert [(o.service, o.revision, o.status) for o in done] == [
        ("CHILDRENS", 1, "ACCEPTED"),
        ("HIGHWAYS", 1, "ACCEPTED"),
        ("HIGHWAYS", 2, "ACCEPTED"),
    ]
    assert [(c.code, c.old, c.new) for c in done[2].changes] == [(CAT1, "45/50 = 90", "47/50 = 94")]
    assert done[0].detail == "1 later changes added"
    assert done[0].line == "ACCEPTED\tCHILDRENS FY2024-25-Q1 1\t1 later changes added"
    assert audit.verify(db).ok


def test_a_return_changed_outside_the_app_is_rejected_alone(laptop: Database, db: Database) -> None:
    enter(laptop, "HIGHWAYS", CAT1, numerator="45", denominator="50")
    enter(laptop, "CHILDRENS", LOOKED_AFTER, value="100")
    path = laptop.url.database
    assert path is not None
    with sqlite3.connect(path) as raw:
        raw.execute("""UPDATE "values" SET value = '120' WHERE value = '100'""")

    outcomes = {o.service: o for o in synchronise(laptop, db, actor="hana")}

    assert outcomes["CHILDRENS"].status == "REJECTED"
    assert "changed outside the app" in (outcomes["CHILDRENS"].reason or "")
    assert outcomes["HIGHWAYS"].status == "ACCEPTED"
    assert get_return(db, "CHILDRENS", Q1).state == "not started"
    assert audit.verify(db).ok


def test_a_source_whose_history_does_not_verify_is_refused_whole(
    laptop: Database, db: Database
) -> None:
    enter(laptop, "HIGHWAYS", CAT1, numerator="45", denominator="50")
    path = laptop.url.database
    assert path is not None
    with sqlite3.connect(path) as raw:
        raw.execute("DROP TRIGGER audit_events_no_update")
        raw.execute("UPDATE audit_events SET actor = 'mallory' WHERE action = 'return.create'")

    outcomes = synchronise(laptop, db, actor="hana")

    assert [o.status for o in outcomes] == ["REJECTED"]
    assert "does not verify" in (outcomes[0].reason or "")
    assert get_return(db, "HIGHWAYS", Q1).state == "not started"


def test_a_name_too_long_for_a_database_is_rejected_before_anything_is_written(
    laptop: Database, db: Database
) -> None:
    # an older laptop database may hold one: SQLite kept what PostgreSQL refuses
    enter(laptop, "HIGHWAYS", CAT1, actor="h" * 101, numerator="45", denominator="50")
    enter(laptop, "CHILDRENS", LOOKED_AFTER, value="100")

    outcomes = {o.service: o for o in synchronise(laptop, db, actor="hana")}

    assert outcomes["HIGHWAYS"].status == "REJECTED"
    assert "name of 101 characters" in (outcomes["HIGHWAYS"].reason or "")
    assert outcomes["CHILDRENS"].status == "ACCEPTED"
    assert get_return(db, "HIGHWAYS", Q1).state == "not started"
    assert audit.verify(db).ok
