"""Importing return files and filled templates: statuses, what is stored, what is refused."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from exchange_support import (
    ACTOR,
    CHILDRENS,
    COMMSAFETY,
    LOOKED_AFTER,
    PERIOD,
    REPEAT_VICTIMS,
    TRAINED,
    cell,
    commsafety,
    do_import,
    dump,
    edit,
    export,
    import_one,
    open_copy,
    template,
)
from sqlalchemy import select

from skp_desktop.domain.errors import NotFoundError
from skp_desktop.services import audit, trust
from skp_desktop.services.database import Database
from skp_desktop.services.definitions import Publication, publish_definitions
from skp_desktop.services.returns import (
    EntryChange,
    get_return,
    record_entries,
    reopen_return,
    submit_return,
)
from skp_desktop.store.models import AuditEvent, ImportedFile, Return


@pytest.fixture
def coordinator(template_database: Path, tmp_path: Path) -> Iterator[Database]:
    """The coordinator's database: another copy of the catalogue, with no returns."""
    db = open_copy(template_database, tmp_path / "coordinator" / "skp.sqlite3")
    yield db
    db.dispose()


def db_path(db: Database) -> Path:
    return Path(db.url.database or "")


def test_a_return_moves_to_another_database_and_a_second_copy_is_a_duplicate(
    db: Database, coordinator: Database, tmp_path: Path
) -> None:
    commsafety(db, numerator="12", denominator="80", count="40", **{TRAINED: "Up on Q4"})
    path = export(db, tmp_path / "out")
    first = import_one(coordinator, path)
    assert (first.status, first.service, first.period, first.revision) == (
        "ACCEPTED",
        COMMSAFETY,
        PERIOD,
        1,
    )
    assert first.line == f"ACCEPTED\t{path}\t{COMMSAFETY} {PERIOD} 1"
    sent, held = get_return(db, COMMSAFETY, PERIOD), get_return(coordinator, COMMSAFETY, PERIOD)
    assert (held.state, held.revision, held.return_uuid) == ("submitted", 1, sent.return_uuid)
    for code in (REPEAT_VICTIMS, TRAINED):
        a, b = sent.row(code), held.row(code)
        assert (a.numerator, a.denominator, a.value, a.symbol, a.commentary) == (
            b.numerator,
            b.denominator,
            b.value,
            b.symbol,
            b.commentary,
        )

    second = import_one(coordinator, path)
    assert (second.status, second.revision, second.failed) == ("DUPLICATE", 1, False)
    assert import_one(db, path).status == "DUPLICATE"  # the sender's own database has it too


def test_an_accepted_file_is_kept_and_every_value_is_audited(
    db: Database, coordinator: Database, tmp_path: Path
) -> None:
    commsafety(db)
    path = export(db, tmp_path / "out", name="community safety.xlsx")
    import_one(coordinator, path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with coordinator.transaction() as session:
        ret = session.scalars(select(Return)).one()
        stored = session.scalars(select(ImportedFile)).one()
        assert stored.content == path.read_bytes() and stored.sha256 == digest
        assert (stored.return_id, stored.status, stored.imported_by) == (ret.id, "ACCEPTED", ACTOR)
        assert ret.payload_sha256 and len(ret.payload_sha256) == 64
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.return_uuid == ret.uuid).order_by(AuditEvent.id)
        ).all()
        assert [e.action for e in events] == ["return.import", "value.set", "value.set"]
        # the file's import event names the signer's fingerprint and name; its values' events
        # say the file and that it was signed, and point to that event by the same file
        key = trust.installation_key().key
        name = next(
            k.name for k in trust.list_keys(coordinator) if k.fingerprint == key.fingerprint
        )
        assert events[0].source == (
            f"imported from community safety.xlsx, signed by {key.fingerprint} ({name})"
        )
        assert {e.source for e in events[1:]} == {"imported from community safety.xlsx, signed"}
        assert {e.file_sha256 for e in events} == {digest}
        assert events[0].new == "submitted"
    assert audit.verify(coordinator).ok


def test_a_newer_revision_replaces_and_shows_what_changed(
    db: Database, coordinator: Database, tmp_path: Path
) -> None:
    commsafety(db, count="40")
    first = export(db, tmp_path / "out", "r1.xlsx")
    reopen_return(db, service=COMMSAFETY, period=PERIOD, reason="recount", actor=ACTOR)
    record_entries(
        db,
        service=COMMSAFETY,
        period=PERIOD,
        changes=[EntryChange(TRAINED, {"value": "44"})],
        actor=ACTOR,
    )
    submit_return(db, service=COMMSAFETY, period=PERIOD, actor=ACTOR)
    second = export(db, tmp_path / "out", "r2.xlsx")

    assert import_one(coordinator, first).status == "ACCEPTED"
    outcome = import_one(coordinator, second)
    assert (outcome.status, outcome.revision) == ("ACCEPTED", 2)
    assert [(c.code, c.old, c.new) for c in outcome.changes] == [(TRAINED, "40", "44")]
    held = get_return(coordinator, COMMSAFETY, PERIOD)
    assert (held.revision, held.row(TRAINED).value) == (2, 44)

    before = dump(db_path(coordinator))
    stale = import_one(coordinator, first)
    assert stale.status == "DUPLICATE"  # revision 1's content is held, as revision 1
    assert dump(db_path(coordinator)) == before


def test_an_older_revision_is_stale(db: Database, coordinator: Database, tmp_path: Path) -> None:
    commsafety(db, count="40")
    first = export(db, tmp_path / "out", "r1.xlsx")
    reopen_return(db, service=COMMSAFETY, period=PERIOD, reason="recount", actor=ACTOR)
    record_entries(
        db,
        service=COMMSAFETY,
        period=PERIOD,
        changes=[EntryChange(TRAINED, {"value": "44"})],
        actor=ACTOR,
    )
    submit_return(db, service=COMMSAFETY, period=PERIOD, actor=ACTOR)
    second = export(db, tmp_path / "out", "r2.xlsx")
    import_one(coordinator, second)
    before = dump(db_path(coordinator))
    outcome = import_one(coordinator, first)
    assert (outcome.status, outcome.revision, outcome.failed) == ("STALE", 1, False)
    assert dump(db_path(coordinator)) == before


def test_the_same_revision_with_other_values_is_a_conflict(
    db: Database, coordinator: Database, template_database: Path, tmp_path: Path
) -> None:
    commsafety(db, count="40")
    other = open_copy(template_database, tmp_path / "other" / "skp.sqlite3")
    try:
        commsafety(other, count="41")
        theirs = export(other, tmp_path / "out", "theirs.xlsx")
    finally:
        other.dispose()
    import_one(coordinator, export(db, tmp_path / "out", "ours.xlsx"))
    before = dump(db_path(coordinator))
    outcome = import_one(coordinator, theirs)
    assert (outcome.status, outcome.revision, outcome.failed) == ("CONFLICT", 1, True)
    assert "different values" in (outcome.reason or "")
    assert [(c.code, c.old, c.new) for c in outcome.changes] == [(TRAINED, "40", "41")]
    assert dump(db_path(coordinator)) == before


def test_long_commentary_on_every_indicator_travels_whole(
    db: Database, coordinator: Database, tmp_path: Path
) -> None:
    texts = {
        REPEAT_VICTIMS: ("Repeat victimisation fell. " * 200)[:5000],
        TRAINED: ("Training reached new teams; " * 200)[:4999] + "é",
    }
    commsafety(db, **texts)
    path = export(db, tmp_path / "out")
    outcome = import_one(coordinator, path)
    assert outcome.status == "ACCEPTED", outcome.reason
    held = get_return(coordinator, COMMSAFETY, PERIOD)
    assert {code: held.row(code).commentary for code in texts} == texts


def test_a_formula_like_commentary_comes_back_as_text(
    db: Database, coordinator: Database, tmp_path: Path
) -> None:
    commsafety(db, **{TRAINED: "=1+1", REPEAT_VICTIMS: "@mention -2 +3"})
    assert import_one(coordinator, export(db, tmp_path / "out")).status == "ACCEPTED"
    held = get_return(coordinator, COMMSAFETY, PERIOD)
    assert held.row(TRAINED).commentary == "=1+1"
    assert held.row(REPEAT_VICTIMS).commentary == "@mention -2 +3"


def test_a_value_edited_after_export_is_refused_naming_the_cell(
    db: Database, coordinator: Database, tmp_path: Path
) -> None:
    commsafety(db, count="40")
    path = export(db, tmp_path / "out")
    value, comment = cell(path, TRAINED, "Value"), cell(path, TRAINED, "Commentary")
    edited = edit(path, tmp_path / "edited.xlsx", {value: 45, comment: "typed later"})
    before = dump(db_path(coordinator))
    outcome = import_one(coordinator, edited)
    assert outcome.status == "REJECTED"
    assert [(p.sheet, p.cell) for p in outcome.problems] == [("Return", value), ("Return", comment)]
    assert "shows 45, but the signed return has 40" in (outcome.reason or "")
    assert dump(db_path(coordinator)) == before


def test_accept_modified_takes_the_visible_values_as_a_new_revision(
    db: Database, coordinator: Database, tmp_path: Path
) -> None:
    commsafety(db, count="40")
    path = export(db, tmp_path / "out")
    import_one(coordinator, path)
    value = cell(path, TRAINED, "Value")
    edited = edit(path, tmp_path / "edited.xlsx", {value: 45})
    outcome = import_one(coordinator, edited, accept_modified=True)
    assert (outcome.status, outcome.revision) == ("ACCEPTED", 2)
    assert outcome.modified_cells == (f"Return!{value}",)
    held = get_return(coordinator, COMMSAFETY, PERIOD)
    assert (held.revision, held.row(TRAINED).value) == (2, 45)
    assert held.return_uuid != get_return(db, COMMSAFETY, PERIOD).return_uuid
    with coordinator.transaction() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "return.import", AuditEvent.revision == 2)
        ).one()
    assert "accepted as modified" in (event.reason or "") and value in (event.reason or "")
    assert "changed after export" in (event.source or "")
    assert audit.verify(coordinator).ok


def test_a_changed_hidden_payload_is_refused(
    db: Database, coordinator: Database, tmp_path: Path
) -> None:
    commsafety(db, count="40")
    path = export(db, tmp_path / "out")
    book = openpyxl.load_workbook(path)
    meta = book["_meta"]
    row = next(r for r in meta.iter_rows() if r[0].value == "payload")
    row[1].value = row[1].value.replace('"value":"40"', '"value":"41"')
    book.save(tmp_path / "tampered.xlsx")
    outcome = import_one(coordinator, tmp_path / "tampered.xlsx", accept_modified=True)
    assert outcome.status == "REJECTED"
    assert outcome.problems[0].sheet == "_meta" and "SHA-256" in outcome.problems[0].message


def fill(blank: Path, target: Path, values: dict[tuple[str, str], object]) -> Path:
    """The template filled in as a service would: (code, column) -> what is typed."""
    return edit(
        blank, target, {cell(blank, code, column): v for (code, column), v in values.items()}
    )


def test_a_clean_filled_template_becomes_a_submitted_revision(
    coordinator: Database, tmp_path: Path
) -> None:
    blank = template(coordinator, tmp_path / "out")
    filled = fill(
        blank,
        tmp_path / "filled.xlsx",
        {
            (REPEAT_VICTIMS, "Numerator"): 9,
            (REPEAT_VICTIMS, "Denominator"): 60,
            (REPEAT_VICTIMS, "Commentary"): "Steady\r\nacross the quarter ",
            (TRAINED, "Value"): "[x]",
        },
    )
    outcome = import_one(coordinator, filled)
    assert (outcome.status, outcome.revision, outcome.kind) == ("ACCEPTED", 1, "template")
    held = get_return(coordinator, COMMSAFETY, PERIOD)
    assert (held.state, held.row(REPEAT_VICTIMS).value) == ("submitted", 15)
    assert held.row(REPEAT_VICTIMS).commentary == "Steady\nacross the quarter"
    assert held.row(TRAINED).symbol == "[x]"
    assert import_one(coordinator, filled).status == "DUPLICATE"


def test_a_template_with_warnings_is_imported_and_the_warnings_show(
    coordinator: Database, tmp_path: Path
) -> None:
    submit = {"numerator": "10", "denominator": "100"}
    record_entries(
        coordinator,
        service=COMMSAFETY,
        period="FY2025-26-Q1",
        changes=[EntryChange(REPEAT_VICTIMS, submit), EntryChange(TRAINED, {"value": "40"})],
        actor=ACTOR,
    )
    submit_return(coordinator, service=COMMSAFETY, period="FY2025-26-Q1", actor=ACTOR)
    blank = template(coordinator, tmp_path / "out")
    filled = fill(
        blank,
        tmp_path / "filled.xlsx",
        {
            (REPEAT_VICTIMS, "Numerator"): 10,
            (REPEAT_VICTIMS, "Denominator"): 100,
            (TRAINED, "Value"): 80,  # doubled since a year ago: a warning, not an error
        },
    )
    outcome = import_one(coordinator, filled)
    assert outcome.status == "ACCEPTED"
    assert any(w.startswith(f"{TRAINED}:") and "higher" in w for w in outcome.warnings)
    assert get_return(coordinator, COMMSAFETY, PERIOD).row(TRAINED).warnings


def test_every_bad_cell_of_a_filled_template_is_named_at_once(
    coordinator: Database, tmp_path: Path
) -> None:
    blank = template(coordinator, tmp_path / "out", service=CHILDRENS)
    filled = fill(
        blank,
        tmp_path / "filled.xlsx",
        {
            (LOOKED_AFTER, "Value"): -3,  # a negative count
            ("SAFER-P1-S3", "Numerator"): 140,  # 140 of 100: a percentage of 140
            ("SAFER-P1-S3", "Denominator"): 100,
            ("SAFER-P1-S4", "Numerator"): "about forty",  # text in a number cell
            ("SAFER-P1-S4", "Denominator"): "=20*3",  # a formula where a value belongs
        },
    )
    before = dump(db_path(coordinator))
    outcome = import_one(coordinator, filled)
    assert outcome.status == "REJECTED"
    named = {(p.cell, p.message.split(":")[0]) for p in outcome.problems}
    assert {c for c, _ in named} == {
        cell(blank, LOOKED_AFTER, "Value"),
        cell(blank, "SAFER-P1-S3", "Numerator"),
        cell(blank, "SAFER-P1-S4", "Numerator"),
        cell(blank, "SAFER-P1-S4", "Denominator"),
    }
    reason = outcome.reason or ""
    assert "below the minimum" in reason and "above the denominator" in reason
    assert "'about forty' is not a number" in reason and "a formula (=20*3)" in reason
    assert dump(db_path(coordinator)) == before


def test_a_dry_run_says_the_same_and_writes_nothing(
    db: Database, coordinator: Database, tmp_path: Path
) -> None:
    commsafety(db)
    folder = tmp_path / "inbox"
    path = export(db, folder, "a.xlsx")
    (folder / "b.xlsx").write_bytes(path.read_bytes())  # the same return sent twice
    (folder / "~$a.xlsx").write_bytes(b"Excel's lock file")
    (folder / "notes.txt").write_text("not a return")
    (folder / "broken.xlsx").write_bytes(b"")
    before = dump(db_path(coordinator))
    dry = do_import(coordinator, folder, dry_run=True)
    assert [(Path(o.file).name, o.status) for o in dry] == [
        ("a.xlsx", "ACCEPTED"),
        ("b.xlsx", "DUPLICATE"),
        ("broken.xlsx", "REJECTED"),
    ]
    assert dump(db_path(coordinator)) == before
    real = do_import(coordinator, folder)
    assert [(o.status, o.revision, o.changes) for o in real] == [
        (o.status, o.revision, o.changes) for o in dry
    ]
    assert "empty" in (real[2].reason or "")


def test_definitions_published_during_a_batch_apply_to_the_files_after_it(
    db: Database, coordinator: Database, tmp_path: Path
) -> None:
    commsafety(db)
    folder = tmp_path / "inbox"
    path = export(db, folder, "a.xlsx")
    (folder / "b.xlsx").write_bytes(path.read_bytes())
    patrols = {
        "code": "SAFER-P3-S9",
        "theme": "SAFER-P3",
        "service": COMMSAFETY,
        "title": "Joint patrols held",
        "unit": "count",
        "polarity": "higher is better",
        "frequency": "quarterly",
    }

    def publish_before_the_second(done: int, total: int, file: Path) -> None:
        if done == 1 and file.name == "b.xlsx":
            change = Publication(applies_from=PERIOD, note="patrols", new_indicators=[patrols])
            publish_definitions(coordinator, change, actor="coordinator")

    first, second = do_import(coordinator, folder, progress=publish_before_the_second)
    assert first.status == "ACCEPTED"
    # Without the new version the copy would be a DUPLICATE: it is judged by the new one.
    assert second.status == "REJECTED"
    assert "SAFER-P3-S9 (Joint patrols held) is missing" in (second.reason or "")
    assert audit.verify(coordinator).ok


def test_a_missing_path_is_a_usage_error(coordinator: Database, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match=r"no-such\.xlsx"):
        do_import(coordinator, tmp_path / "no-such.xlsx")


def test_a_wrong_service_period_or_code_is_refused_naming_the_cell(
    coordinator: Database, tmp_path: Path
) -> None:
    blank = template(coordinator, tmp_path / "out")
    filled = {
        (REPEAT_VICTIMS, "Numerator"): 1,
        (REPEAT_VICTIMS, "Denominator"): 2,
        (TRAINED, "Value"): 3,
    }
    good = fill(blank, tmp_path / "good.xlsx", filled)
    cases = {
        "service": ({"B5": "NOPE"}, "_meta", "B5", "there is no service 'NOPE'"),
        "period": ({"B6": "FY2026-27-Q5"}, "_meta", "B6", "quarters are Q1 to Q4"),
    }
    for name, (cells, sheet, ref, message) in cases.items():
        outcome = import_one(coordinator, edit(good, tmp_path / f"{name}.xlsx", cells, "_meta"))
        assert outcome.status == "REJECTED", name
        assert (outcome.problems[0].sheet, outcome.problems[0].cell) == (sheet, ref), name
        assert message in (outcome.reason or ""), name

    code = cell(blank, TRAINED, "Code")
    unknown = import_one(coordinator, edit(good, tmp_path / "unknown.xlsx", {code: "SAFER-P9-S9"}))
    assert {p.cell for p in unknown.problems} >= {code}
    assert "SAFER-P9-S9 is not an indicator of the Community Safety return" in (
        unknown.reason or ""
    )
    twice = import_one(coordinator, edit(good, tmp_path / "twice.xlsx", {code: REPEAT_VICTIMS}))
    assert code in {p.cell for p in twice.problems} and "here twice" in (twice.reason or "")
