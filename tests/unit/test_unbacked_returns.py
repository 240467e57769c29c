"""What does not verify is not published: a return whose state or values its audit history does
not back is left out of the merged workbook and the board pack, and listed with the reason.

On SQLite someone edits the file with sqlite3; on PostgreSQL the owner edits it with the
server's rules switched off (session_replication_role), as only a superuser can.
"""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from skp_desktop.services import review
from skp_desktop.services.audit import returns_not_backed
from skp_desktop.services.board_pack import board_pack, export_board_pack
from skp_desktop.services.database import Database
from skp_desktop.services.entries import EntryChange
from skp_desktop.services.merge import merge_export
from skp_desktop.services.returns import record_entries, submit_return
from skp_desktop.services.strategic_assessment import strategic_assessment, write_assessment

pytestmark = pytest.mark.both_engines

Q1 = "FY2024-25-Q1"
TODAY = date(2024, 8, 20)
HIGHWAYS, CAT1 = "HIGHWAYS", "SAFER-P4-S1"
COMMSAFETY, REPEAT_VICTIMS, TRAINED = "COMMSAFETY", "SAFER-P3-S1", "SAFER-P3-S2"


def _submit(db: Database, service: str, entries: dict[str, dict[str, str]]) -> None:
    changes = [EntryChange(code, fields) for code, fields in entries.items()]
    record_entries(db, service=service, period=Q1, changes=changes, actor="t")
    submit_return(db, service=service, period=Q1, actor="t")


def _tamper(db: Database, sql: str) -> None:
    """Change the database behind the app's back."""
    if db.is_sqlite:
        assert db.url.database is not None
        with sqlite3.connect(db.url.database) as raw:
            raw.execute(sql)
        return
    import psycopg

    url = db.url
    with psycopg.connect(
        host=url.query["host"], port=url.query["port"], dbname=url.database, user=url.username
    ) as raw:
        raw.execute("SET session_replication_role = replica")  # the server's rules are off
        raw.execute(sql)


def _highways(sql_where: str) -> str:
    return (
        "(SELECT r.id FROM returns r JOIN services s ON s.id = r.service_id "
        f"WHERE s.code = 'HIGHWAYS' {sql_where})"
    )


@pytest.fixture
def accepted(db: Database) -> Database:
    """Highways and Community Safety submitted Q1; the coordinator accepted Community Safety."""
    _submit(db, HIGHWAYS, {CAT1: {"numerator": "45", "denominator": "50"}})
    _submit(
        db,
        COMMSAFETY,
        {REPEAT_VICTIMS: {"numerator": "12", "denominator": "80"}, TRAINED: {"value": "40"}},
    )
    review.accept_return(db, service=COMMSAFETY, period=Q1, actor="coordinator")
    return db


def _data_rows(path: Path) -> list[tuple[str, str]]:
    book = openpyxl.load_workbook(path, read_only=True)
    rows = list(book["Data"].iter_rows(min_row=2, values_only=True))
    return [(str(row[0]), str(row[2])) for row in rows if row[0]]


def test_a_return_accepted_outside_the_app_is_not_merged_and_is_listed(
    accepted: Database, tmp_path: Path
) -> None:
    assert returns_not_backed(accepted) == ()
    _tamper(accepted, f"UPDATE returns SET state = 'accepted' WHERE id = {_highways('')}")

    (found,) = returns_not_backed(accepted)
    assert (found.service, found.period, found.revision, found.state) == (
        HIGHWAYS,
        Q1,
        1,
        "accepted",
    )
    assert "its history says" in found.line and "'submitted'" in found.line

    result = merge_export(accepted, out=tmp_path / "merged.xlsx", first=Q1, last=Q1, today=TODAY)
    assert result.returns == 1 and result.unbacked == (found,)
    assert "Not merged, its history does not back it: HIGHWAYS" in result.describe()
    assert {service for service, _code in _data_rows(tmp_path / "merged.xlsx")} == {COMMSAFETY}


def test_a_value_changed_outside_the_app_keeps_its_return_out_of_the_board_pack(
    accepted: Database, tmp_path: Path
) -> None:
    _tamper(
        accepted,
        "UPDATE \"values\" SET value = '99' WHERE value = '40' AND return_id IN "
        "(SELECT r.id FROM returns r JOIN services s ON s.id = r.service_id "
        "WHERE s.code = 'COMMSAFETY')",
    )
    (found,) = returns_not_backed(accepted)
    assert found.service == COMMSAFETY and "differs from its history" in found.line

    result = merge_export(accepted, out=tmp_path / "merged.xlsx", first=Q1, last=Q1, today=TODAY)
    assert result.returns == 0 and _data_rows(tmp_path / "merged.xlsx") == []

    pack = board_pack(accepted, Q1, service=COMMSAFETY)
    trained = next(i for i in pack.indicators if i.tile.series.code == TRAINED)
    assert "is left out: its audit history does not back it" in trained.return_note
    assert all(point.value != 99 for point in trained.tile.series.points)
    made = export_board_pack(accepted, Q1, str(tmp_path / "pack.pdf"), service=COMMSAFETY)
    assert len(made.left_out) == 1 and made.left_out[0].startswith(f"{COMMSAFETY} {Q1}")


def test_the_strategic_assessment_leaves_out_a_return_accepted_outside_the_app(
    accepted: Database,
) -> None:
    def cat1_q1(db: Database) -> object:
        assessment, _series = strategic_assessment(db, "FY2024-25", made=TODAY)
        measure = next(m for m in assessment.measures if m.code == CAT1)
        return measure.quarters[0].value, assessment

    review.accept_return(accepted, service=HIGHWAYS, period=Q1, actor="coordinator")
    published, _ = cat1_q1(accepted)
    assert published == 90  # accepted in the app: 45/50 published

    _tamper(accepted, "UPDATE \"values\" SET numerator = '50' WHERE numerator = '45'")
    published, assessment = cat1_q1(accepted)
    assert published is None  # the changed figure is not published
    (note,) = [n for n in assessment.quality if n.topic.startswith("Left out")]
    assert note.service == "Highways" or "Highways" in note.service
    assert note.period == "2024/25 Q1" and "revision 1" in note.detail
    (line,) = assessment.left_out
    assert line.startswith(f"{HIGHWAYS} {Q1} revision 1 (accepted) left out: ")


def test_the_strategic_assessment_lists_a_return_left_out_of_its_trends(
    db: Database, tmp_path: Path
) -> None:
    # The assessment draws five years of trends: a return of the year before, changed outside
    # the app, is left out of them and listed, not dropped in silence.
    earlier = "FY2023-24-Q3"
    record_entries(
        db,
        service=HIGHWAYS,
        period=earlier,
        changes=[EntryChange(CAT1, {"numerator": "45", "denominator": "50"})],
        actor="t",
    )
    submit_return(db, service=HIGHWAYS, period=earlier, actor="t")
    review.accept_return(db, service=HIGHWAYS, period=earlier, actor="coordinator")
    _tamper(db, "UPDATE \"values\" SET numerator = '50' WHERE numerator = '45'")

    assessment, series = strategic_assessment(db, "FY2024-25", made=TODAY)
    assert all(point.value != 100 for point in series[CAT1].points)
    (note,) = [n for n in assessment.quality if n.topic.startswith("Left out")]
    assert note.period == "2023/24 Q3" and "differs from its history" in note.detail
    written = write_assessment(db, year="FY2024-25", out=tmp_path / "sa.xlsx", made=TODAY)
    (line,) = written.left_out
    assert line.startswith(f"{HIGHWAYS} {earlier} revision 1 (accepted) left out: ")
    assert "Not published, its history does not back it: HIGHWAYS" in written.describe()


def test_an_altered_event_keeps_its_return_out_of_the_merge(
    accepted: Database, tmp_path: Path
) -> None:
    # Merge checks only each return's newest events (not the whole chain): an edit to the
    # acceptance itself must still keep the return out, and say so.
    altered = "UPDATE audit_events SET reason = 'nothing to see' WHERE action = 'return.accept'"
    if accepted.is_sqlite:
        assert accepted.url.database is not None
        with sqlite3.connect(accepted.url.database) as raw:
            raw.executescript(f"DROP TRIGGER audit_events_no_update; {altered};")
    else:
        _tamper(accepted, altered)

    result = merge_export(accepted, out=tmp_path / "merged.xlsx", first=Q1, last=Q1, today=TODAY)
    assert result.returns == 0 and _data_rows(tmp_path / "merged.xlsx") == []
    (found,) = result.unbacked
    assert found.service == COMMSAFETY
    assert "(return.accept) was altered after it was recorded" in found.line


def test_an_event_rewritten_with_a_new_hash_keeps_its_return_out_of_the_merge(
    accepted: Database, tmp_path: Path
) -> None:
    # The forger rewrites the acceptance and computes its hash again, so that the event checks
    # out alone; the event recorded after it still names the old hash, and that is seen.
    from sqlalchemy import select

    from skp_desktop.store.audit import EVENT_ID, HASHED_FIELDS, event_columns, hash_values
    from skp_desktop.store.models import AuditEvent

    record_entries(  # an event after the acceptance
        accepted,
        service=HIGHWAYS,
        period="FY2024-25-Q2",
        changes=[EntryChange(CAT1, {"numerator": "1", "denominator": "2"})],
        actor="t",
    )
    with accepted.reading() as session:
        row = session.execute(
            select(*event_columns(stored_times=True)).where(AuditEvent.action == "return.accept")
        ).one()
    fields = list(row[:EVENT_ID])
    fields[HASHED_FIELDS.index("reason")] = "nothing to see"
    new_hash = hash_values(fields)
    rewrite = (
        f"UPDATE audit_events SET reason = 'nothing to see', hash = '{new_hash}' "
        f"WHERE id = {row[EVENT_ID]}"
    )
    if accepted.is_sqlite:
        assert accepted.url.database is not None
        with sqlite3.connect(accepted.url.database) as raw:
            raw.executescript(f"DROP TRIGGER audit_events_no_update; {rewrite};")
    else:
        _tamper(accepted, rewrite)

    result = merge_export(accepted, out=tmp_path / "merged.xlsx", first=Q1, last=Q1, today=TODAY)
    assert result.returns == 0
    (found,) = result.unbacked
    assert found.service == COMMSAFETY and "does not follow it" in found.line


def test_a_value_removed_outside_the_app_keeps_its_return_out_of_the_merge_and_the_pack(
    accepted: Database, tmp_path: Path
) -> None:
    # The return keeps its state and its other figures: only the history knows one is missing.
    _tamper(
        accepted,
        "DELETE FROM \"values\" WHERE value = '40' AND return_id IN "
        "(SELECT r.id FROM returns r JOIN services s ON s.id = r.service_id "
        "WHERE s.code = 'COMMSAFETY')",
    )
    result = merge_export(accepted, out=tmp_path / "merged.xlsx", first=Q1, last=Q1, today=TODAY)
    assert result.returns == 0 and _data_rows(tmp_path / "merged.xlsx") == []
    (found,) = result.unbacked
    assert found.service == COMMSAFETY
    assert f"value of {TRAINED} in {COMMSAFETY} {Q1} revision 1 is in the history" in found.line
    assert "deleted outside the app" in found.line

    made = export_board_pack(accepted, Q1, str(tmp_path / "pack.pdf"), service=COMMSAFETY)
    assert len(made.left_out) == 1 and "deleted outside the app" in made.left_out[0]
