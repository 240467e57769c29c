"""Publishing definitions versions and moving them between databases as definitions packs."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import openpyxl
import pytest
from sqlalchemy import func, select

from skp_desktop.domain.definition_edits import DefinitionsRefused
from skp_desktop.domain.errors import StoreUnavailable
from skp_desktop.domain.vocabulary import PackStatus
from skp_desktop.services import audit
from skp_desktop.services.catalogue import get_service, list_services
from skp_desktop.services.database import Database, open_database
from skp_desktop.services.definitions import (
    Publication,
    definitions_in_force,
    definitions_state,
    export_definitions_pack,
    import_definitions_pack,
    preview_publication,
    publish_definitions,
)
from skp_desktop.services.entries import EntryChange
from skp_desktop.services.exchange import export_return
from skp_desktop.services.returns import (
    due_indicators,
    get_return,
    record_entries,
    return_period,
    submit_return,
)
from skp_desktop.store.models import AuditEvent, DefinitionsVersion, ImportedFile

D = Decimal
REPAIRS = "SAFER-P4-S1"  # Highways: % of Category 1 defects repaired on time (target 100)
OLD_TITLE = "% of Category 1 defects repaired on time"
NEW_TITLE = "% of Category 1 defects made safe within 24 hours"
POTHOLES = {
    "code": "SAFER-P4-S7",
    "theme": "SAFER-P4",
    "service": "HIGHWAYS",
    "title": "Potholes filled",
    "unit": "count",
    "polarity": "higher is better",
    "frequency": "quarterly",
}
FROM = "FY2025-26-Q1"


def publication(**given: object) -> Publication:
    """A new title, a 2025/26 target and a new indicator, from 2025/26 Q1."""
    settings: dict[str, object] = {
        "applies_from": FROM,
        "note": "new Highways measures for 2025/26",
        "changes": {REPAIRS: {"title": NEW_TITLE, "amber_tolerance": "3"}},
        "targets": {REPAIRS: {"FY2025-26": "95"}},
        "new_indicators": [POTHOLES],
    }
    settings.update(given)
    return Publication(**settings)  # type: ignore[arg-type]


def repairs(db: Database, period: str, value: str = "45/50") -> None:
    numerator, denominator = value.split("/")
    record_entries(
        db,
        service="HIGHWAYS",
        period=period,
        changes=[EntryChange(REPAIRS, {"numerator": numerator, "denominator": denominator})],
        actor="hana",
    )


def events(db: Database, action: str) -> list[SimpleNamespace]:
    """The audit events of one action, oldest first, as plain values."""
    names = ("actor", "service", "period", "revision", "indicator", "old", "new", "reason")
    with db.reading() as session:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
        return [
            SimpleNamespace(**{n: getattr(e, n) for n in (*names, "source", "file_sha256")})
            for e in rows
        ]


def other_database(template_database: Path, path: Path) -> Database:
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template_database, path)
    return open_database(path)


@pytest.fixture
def service_db(template_database: Path, tmp_path: Path) -> Iterator[Database]:
    """A service's own database: the default catalogue, nothing published yet."""
    db = other_database(template_database, tmp_path / "service" / "skp.sqlite3")
    yield db
    db.dispose()


# --- publishing ----------------------------------------------------------------------------


@pytest.mark.both_engines
def test_a_published_version_is_in_force_from_its_period_and_not_before(db: Database) -> None:
    result = publish_definitions(db, publication(), actor="coordinator")

    assert (result.version, result.previous, result.applies_from) == (2, 1, FROM)
    before = definitions_in_force(db, "FY2024-25-Q4")
    after = definitions_in_force(db, FROM)
    later = definitions_in_force(db, "FY2026-27-Q3")
    assert before.version.number == 1 and after.version.number == 2 and later.version.number == 2
    assert before.indicator(REPAIRS).title == OLD_TITLE
    assert after.indicator(REPAIRS).title == NEW_TITLE
    assert before.indicator(REPAIRS).rules.amber_tolerance == 5
    assert after.indicator(REPAIRS).rules.amber_tolerance == 3
    assert (before.indicator(REPAIRS).target, after.indicator(REPAIRS).target) == (100, 95)
    assert "SAFER-P4-S7" not in {i.code for i in before.indicators}
    # The Highways return for 2025/26 Q1 asks for the new indicator; 2024/25 Q3's does not.
    assert [r.code for r in get_return(db, "HIGHWAYS", FROM).rows] == [REPAIRS, "SAFER-P4-S7"]
    assert [r.code for r in get_return(db, "HIGHWAYS", "FY2024-25-Q3").rows] == [REPAIRS]
    assert audit.verify(db).ok


def test_publishing_is_audited_field_by_field(db: Database) -> None:
    publish_definitions(db, publication(), actor="coordinator")

    [publish] = events(db, "definitions.publish")
    assert publish.actor == "coordinator"
    assert publish.old == "definitions version 1"
    assert publish.new == (
        "definitions version 2, applies from FY2025-26-Q1: 2 change(s) to 1 indicator(s) "
        "(SAFER-P4-S1); 1 new indicator(s) (SAFER-P4-S7); 1 target(s)"
    )
    assert publish.reason == "new Highways measures for 2025/26"
    changes = [(e.indicator, e.old, e.new) for e in events(db, "definitions.change")]
    assert changes == [
        (REPAIRS, f"title: '{OLD_TITLE}'", f"title: '{NEW_TITLE}'"),
        (REPAIRS, "amber tolerance: 5", "amber tolerance: 3"),
    ]
    [target] = events(db, "definitions.target")
    assert (target.indicator, target.period, target.old, target.new) == (
        REPAIRS,
        "FY2025-26",
        None,
        "95",
    )
    [added] = events(db, "definitions.add")
    assert (added.indicator, added.new) == ("SAFER-P4-S7", "Potholes filled")


def test_submitted_returns_keep_their_version_and_drafts_move_openly(db: Database) -> None:
    repairs(db, "FY2025-26-Q1")
    submit_return(db, service="HIGHWAYS", period="FY2025-26-Q1", actor="hana")
    repairs(db, "FY2025-26-Q2", "40/50")  # a draft, for a period the new version covers
    repairs(db, "FY2024-25-Q4", "44/50")  # a draft from before: stays on version 1

    preview = preview_publication(db, publication())
    assert preview.drafts_moved == ("Highways 2025/26 Q2 (Jul–Sep 2025) revision 1",)
    result = publish_definitions(db, publication(), actor="coordinator")

    assert result.drafts_moved == ("Highways 2025/26 Q2 (Jul–Sep 2025) revision 1",)
    submitted = get_return(db, "HIGHWAYS", "FY2025-26-Q1")
    assert submitted.definitions_version == 1
    assert [r.indicator.title for r in submitted.rows] == [OLD_TITLE]
    draft = get_return(db, "HIGHWAYS", "FY2025-26-Q2")
    assert draft.definitions_version == 2
    assert [r.indicator.title for r in draft.rows] == [NEW_TITLE, "Potholes filled"]
    assert draft.rows[0].value == 80  # the values entered are kept
    assert get_return(db, "HIGHWAYS", "FY2024-25-Q4").definitions_version == 1
    [moved] = events(db, "definitions.draft")
    assert (moved.service, moved.period, moved.revision, moved.old, moved.new) == (
        "HIGHWAYS",
        "FY2025-26-Q2",
        1,
        "definitions version 1",
        "definitions version 2",
    )
    assert audit.verify(db).ok


@pytest.mark.both_engines
def test_a_return_shows_each_indicator_as_its_version_defines_it(db: Database) -> None:
    # get_return reads the definitions in a few queries; due_indicators, one by one.
    repairs(db, "FY2024-25-Q4")
    publish_definitions(db, publication(), actor="coordinator")
    repairs(db, "FY2025-26-Q2")
    periods = ("FY2024-25-Q3", "FY2024-25-Q4", "FY2025-26-Q1", "FY2025-26-Q2", "FY2025-26-Q4")
    for service in list_services(db):
        for code in periods:
            view = get_return(db, service.code, code)
            with db.reading() as session:
                version = session.scalar(
                    select(DefinitionsVersion).where(
                        DefinitionsVersion.number == view.definitions_version
                    )
                )
                expected = due_indicators(
                    session, get_service(session, service.code), return_period(code), version
                )
            assert [row.indicator for row in view.rows] == expected, (service.code, code)
    targets = {r.code: r.indicator.target for r in get_return(db, "HIGHWAYS", "FY2025-26-Q2").rows}
    assert targets[REPAIRS] == 95  # the 2025/26 target, not the standing one


def test_a_refused_publication_writes_nothing_and_names_every_field(db: Database) -> None:
    with db.reading() as session:
        before = session.scalar(select(func.count()).select_from(AuditEvent))
    bad = publication(
        applies_from="FY2023-24-Q1",
        changes={REPAIRS: {"decimals": "9", "polarity": "up", "min_value": "5"}},
        new_indicators=[{**POTHOLES, "service": "POLICE", "code": "SAFER-P4-S1"}],
    )
    with pytest.raises(DefinitionsRefused) as caught:
        publish_definitions(db, bad, actor="coordinator")

    text = str(caught.value)
    assert "applies_from: 2023/24 Q1 (Apr–Jun 2023) is earlier than 2024/25 Q1" in text
    assert "SAFER-P4-S1 decimals: 9 decimal places is out of range" in text
    assert "SAFER-P4-S1 polarity: 'up' is not a polarity" in text
    assert "SAFER-P4-S1 service: there is no service 'POLICE'" in text
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(DefinitionsVersion)) == 1
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == before


def test_nothing_to_publish_is_refused(db: Database) -> None:
    same = Publication(applies_from=FROM, note="no change", targets={REPAIRS: {"FY2024-25": "100"}})
    with pytest.raises(DefinitionsRefused, match="nothing to publish: every definition and target"):
        publish_definitions(db, same, actor="coordinator")


def test_a_target_alone_makes_a_version(db: Database) -> None:
    only = Publication(
        applies_from=FROM, note="2025/26 target", targets={REPAIRS: {"FY2025-26": "98"}}
    )
    assert publish_definitions(db, only, actor="coordinator").targets == (
        "SAFER-P4-S1 FY2025-26 target: blank → 98",
    )
    assert definitions_in_force(db, "FY2025-26-Q3").indicator(REPAIRS).target == 98


def test_a_read_only_database_cannot_publish(database_file: Path) -> None:
    db = open_database(database_file, read_only=True)
    try:
        with pytest.raises(StoreUnavailable, match="open read-only: definitions cannot be changed"):
            publish_definitions(db, publication(), actor="auditor")
    finally:
        db.dispose()


def test_the_state_shows_the_newest_version_its_targets_and_every_version(db: Database) -> None:
    publish_definitions(db, publication(), actor="coordinator")
    state = definitions_state(db)
    assert [v.number for v in state.versions] == [2, 1]
    assert state.latest.applies_from_label == "2025/26 Q1 (Apr–Jun 2025)"
    assert state.targets[REPAIRS] == {"FY2024-25": D(100), "FY2025-26": D(95)}
    assert state.spec(REPAIRS).title == NEW_TITLE  # type: ignore[union-attr]
    assert state.indicators[-1].code == "SAFER-P4-S7"
    assert ("HIGHWAYS", "Highways") in state.services


# --- the definitions pack ------------------------------------------------------------------


def test_a_pack_carries_a_version_to_another_database(
    db: Database, service_db: Database, tmp_path: Path
) -> None:
    publish_definitions(db, publication(), actor="coordinator")
    made = export_definitions_pack(db, tmp_path / "pack.xlsx", actor="coordinator")
    assert (made.version, made.applies_from, made.indicators) == (2, FROM, 26)

    outcome = import_definitions_pack(service_db, made.path, actor="hana")

    assert outcome.status == PackStatus.IMPORTED, outcome
    assert outcome.line == f"IMPORTED\tpack.xlsx\tversion 2 from {FROM}"
    theirs, ours = definitions_state(db), definitions_state(service_db)
    assert ours.latest.number == 2 and ours.latest.applies_from == FROM
    assert ours.latest.note == "new Highways measures for 2025/26"
    assert ours.indicators == theirs.indicators
    assert ours.targets == theirs.targets
    assert definitions_in_force(service_db, "FY2024-25-Q4").indicator(REPAIRS).title == OLD_TITLE
    [event] = events(service_db, "definitions.import")
    assert event.file_sha256 == made.file_sha256
    assert event.source.startswith("imported from pack.xlsx exported by coordinator, signed by ")
    with service_db.reading() as session:
        kept = session.scalar(select(ImportedFile))
        assert kept is not None and kept.sha256 == made.file_sha256
        assert kept.content == made.path.read_bytes()
    assert audit.verify(service_db).ok


def test_the_same_pack_again_is_up_to_date(
    db: Database, service_db: Database, tmp_path: Path
) -> None:
    publish_definitions(db, publication(), actor="coordinator")
    path = export_definitions_pack(db, tmp_path / "pack.xlsx", actor="coordinator").path
    assert import_definitions_pack(service_db, path, actor="hana").status == PackStatus.IMPORTED
    count = len(audit.history(service_db))

    again = import_definitions_pack(service_db, path, actor="hana")

    assert again.status == PackStatus.UP_TO_DATE
    assert again.reason == "definitions version 2 is already held"
    assert len(audit.history(service_db)) == count


def test_an_older_pack_is_refused_naming_both_versions(
    db: Database, service_db: Database, tmp_path: Path
) -> None:
    old = export_definitions_pack(db, tmp_path / "v1.xlsx", actor="coordinator").path
    publish_definitions(db, publication(), actor="coordinator")
    new = export_definitions_pack(db, tmp_path / "v2.xlsx", actor="coordinator").path
    assert import_definitions_pack(service_db, new, actor="hana").status == PackStatus.IMPORTED

    outcome = import_definitions_pack(service_db, old, actor="hana")

    assert outcome.status == PackStatus.REFUSED
    assert outcome.reason == (
        "the pack is definitions version 1, older than version 2 which this database already "
        "holds: an older pack never replaces newer definitions (ask the coordinator for the "
        "current pack)"
    )
    assert definitions_state(service_db).latest.number == 2


def test_the_same_number_with_other_content_is_a_conflict(
    db: Database, service_db: Database, tmp_path: Path
) -> None:
    publish_definitions(db, publication(), actor="coordinator")
    publish_definitions(service_db, publication(note="made locally"), actor="hana")
    path = export_definitions_pack(db, tmp_path / "pack.xlsx", actor="coordinator").path

    outcome = import_definitions_pack(service_db, path, actor="hana")

    assert outcome.status == PackStatus.REFUSED
    assert "already holds a different definitions version 2" in (outcome.reason or "")
    assert definitions_state(service_db).latest.note == "made locally"


def _edit(path: Path, out: Path, sheet: str, find: str, column_header: str, value: object) -> None:
    book = openpyxl.load_workbook(path)
    ws = book[sheet]
    header = next(r for r in ws.iter_rows() if r[0].value in ("Code", "format"))
    if sheet == "_meta":
        for row in ws.iter_rows():
            if row[0].value == find:
                row[1].value = value
    else:
        column = next(c.column for c in header if c.value == column_header)
        for row in ws.iter_rows():
            if row[0].value == find:
                ws.cell(row[0].row, column).value = value
    book.save(out)


@pytest.mark.parametrize(
    ("sheet", "find", "column", "value", "message"),
    [
        (
            "Definitions",
            REPAIRS,
            "Target FY2025-26",
            90,
            "sheet Definitions, cell T23: Target FY2025-26 of SAFER-P4-S1 shows 90, but the "
            "signed definitions have 95: it was changed after export",
        ),
        (
            "Definitions",
            REPAIRS,
            "Title",
            "Repairs",
            "sheet Definitions, cell B23: Title of SAFER-P4-S1 shows 'Repairs', but the signed",
        ),
        (
            "Definitions",
            REPAIRS,
            "Polarity",
            '="lower is better"',
            "cell H23: Polarity of SAFER-P4-S1 shows a formula",
        ),
        (
            "_meta",
            "payload_sha256",
            None,
            "0" * 64,
            "sheet _meta, cell B9: the signed definitions in _meta do not match their SHA-256",
        ),
        (
            "_meta",
            "definitions_version",
            None,
            "7",
            "sheet _meta, cell B3: _meta says version 7 but the signed payload is version 2",
        ),
    ],
)
def test_a_tampered_pack_is_refused_naming_the_cell(
    db: Database,
    service_db: Database,
    tmp_path: Path,
    sheet: str,
    find: str,
    column: str,
    value: object,
    message: str,
) -> None:
    publish_definitions(db, publication(), actor="coordinator")
    path = export_definitions_pack(db, tmp_path / "pack.xlsx", actor="coordinator").path
    tampered = tmp_path / "tampered.xlsx"
    _edit(path, tampered, sheet, find, column, value)

    outcome = import_definitions_pack(service_db, tampered, actor="hana")

    assert outcome.status == PackStatus.REFUSED
    assert message in (outcome.reason or ""), outcome.reason
    assert definitions_state(service_db).latest.number == 1


def test_a_pack_saved_again_unchanged_is_still_the_pack(
    db: Database, service_db: Database, tmp_path: Path
) -> None:
    publish_definitions(db, publication(), actor="coordinator")
    path = export_definitions_pack(db, tmp_path / "pack.xlsx", actor="coordinator").path
    resaved = tmp_path / "resaved.xlsx"
    openpyxl.load_workbook(path).save(resaved)
    assert import_definitions_pack(service_db, resaved, actor="hana").status == PackStatus.IMPORTED


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_bytes(b"not a workbook at all"), "not an Excel workbook"),
        (lambda p: p.write_bytes(b""), "empty"),
    ],
)
def test_a_file_that_is_no_workbook_is_refused(
    service_db: Database, tmp_path: Path, make: object, message: str
) -> None:
    path = tmp_path / "odd.xlsx"
    make(path)  # type: ignore[operator]
    outcome = import_definitions_pack(service_db, path, actor="hana")
    assert outcome.status == PackStatus.REFUSED
    assert message in (outcome.reason or "").lower() or message in (outcome.reason or "")


def test_a_return_file_is_not_a_pack(db: Database, service_db: Database, tmp_path: Path) -> None:
    repairs(db, "FY2024-25-Q1")
    submit_return(db, service="HIGHWAYS", period="FY2024-25-Q1", actor="hana")
    path = tmp_path / "return.xlsx"
    export_return(db, service="HIGHWAYS", period="FY2024-25-Q1", out=path, actor="hana")
    outcome = import_definitions_pack(service_db, path, actor="hana")
    assert outcome.status == PackStatus.REFUSED
    assert "not a definitions pack (it is a return file: import it on the Import page)" in (
        outcome.reason or ""
    )


def test_a_dry_run_says_what_would_happen_and_writes_nothing(
    db: Database, service_db: Database, tmp_path: Path
) -> None:
    repairs(service_db, "FY2025-26-Q1")  # a draft the pack would move
    publish_definitions(db, publication(), actor="coordinator")
    path = export_definitions_pack(db, tmp_path / "pack.xlsx", actor="coordinator").path

    outcome = import_definitions_pack(service_db, path, actor="hana", dry_run=True)

    assert outcome.status == PackStatus.IMPORTED and not outcome.written
    assert outcome.result is not None
    assert outcome.result.drafts_moved == ("Highways 2025/26 Q1 (Apr–Jun 2025) revision 1",)
    assert "Would publish definitions version 2" in (outcome.reason or "")
    assert definitions_state(service_db).latest.number == 1
    assert get_return(service_db, "HIGHWAYS", FROM).definitions_version == 1


def test_a_pack_that_skips_versions_says_so(
    db: Database, service_db: Database, tmp_path: Path
) -> None:
    publish_definitions(db, publication(), actor="coordinator")
    later = Publication(
        applies_from="FY2026-27-Q1", note="2026/27", targets={REPAIRS: {"FY2026-27": "97"}}
    )
    publish_definitions(db, later, actor="coordinator")
    path = export_definitions_pack(db, tmp_path / "v3.xlsx", actor="coordinator").path

    outcome = import_definitions_pack(service_db, path, actor="hana")

    assert outcome.status == PackStatus.IMPORTED
    assert "Versions 2 to 2 were never imported here" in (outcome.reason or "")
    assert definitions_state(service_db).latest.number == 3
    assert definitions_in_force(service_db, "FY2026-27-Q1").indicator(REPAIRS).target == 97
