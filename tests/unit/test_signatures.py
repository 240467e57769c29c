"""Issue 16: who sent this file? Keys, enrolment, and the importer believing signatures only.

`db` plays a service's laptop and `coordinator` the partnership's database; each starts with
the run's key enrolled as its own (a fresh database enrols its installation's key). A service
laptop with a key of its own exports inside `key_of(folder)`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from cryptography.hazmat.primitives import serialization
from exchange_support import (
    ACTOR,
    CHILDRENS,
    COMMSAFETY,
    PERIOD,
    REPEAT_VICTIMS,
    TRAINED,
    cell,
    commsafety,
    export,
    import_one,
    open_copy,
    template,
)
from signing_support import database_bytes, edit_meta, key_of, meta_values

from skp_desktop.domain.errors import ValidationError
from skp_desktop.domain.signatures import SigningKey, fingerprint, normalise_fingerprint
from skp_desktop.excel.payload import canonical_payload, parse_payload, payload_digest
from skp_desktop.services import audit, exchange, review, trust
from skp_desktop.services.database import Database
from skp_desktop.services.definitions import export_definitions_pack, import_definitions_pack
from skp_desktop.services.returns import get_return


@pytest.fixture
def coordinator(template_database: Path, tmp_path: Path) -> Iterator[Database]:
    db = open_copy(template_database, tmp_path / "coordinator" / "skp.sqlite3")
    yield db
    db.dispose()


def path_of(db: Database) -> Path:
    return Path(db.url.database or "")


def laptop_export(db: Database, tmp_path: Path, folder: str = "laptop") -> tuple[Path, str]:
    """Community Safety's return exported on a laptop with its own key; (file, fingerprint)."""
    with key_of(tmp_path / folder) as own:
        path = export(db, tmp_path / "out", name=f"{folder}.xlsx")
    return path, own.key.fingerprint


def enrol(coordinator: Database, tmp_path: Path, folder: str, *services: str) -> trust.TrustedKey:
    """The laptop's enrolment file taken by the coordinator, its fingerprint read by phone."""
    with key_of(tmp_path / folder):
        file, info = trust.export_enrolment(tmp_path / f"{folder}.skpkey", name=f"{folder} user")
    key, _ = trust.trust_key(
        coordinator, file, services=services, fingerprint_given=info.fingerprint, actor=ACTOR
    )
    return key


def refused(coordinator: Database, path: Path, reason: str, **options: object) -> None:
    """The file is REJECTED for `reason` and the database is left byte for byte as it was."""
    before = database_bytes(path_of(coordinator))
    outcome = import_one(coordinator, path, **options)
    assert outcome.status == "REJECTED", outcome
    assert reason in (outcome.reason or ""), outcome.reason
    assert database_bytes(path_of(coordinator)) == before


# --- keys ---------------------------------------------------------------------------------


def test_the_key_is_made_on_first_use_readable_by_its_owner_only(tmp_path: Path) -> None:
    with key_of(tmp_path / "keys") as own:
        assert own.made_now and own.notice and own.key.fingerprint in own.notice
        again = trust.installation_key()
    assert not again.made_now and again.key.fingerprint == own.key.fingerprint
    assert stat.S_IMODE(os.stat(own.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(own.path.parent).st_mode) == 0o700
    # 30 digits in six groups: read over the phone; typed with spaces it is the same
    assert len(own.key.fingerprint.replace("-", "")) == 30
    spaced = own.key.fingerprint.replace("-", " ")
    assert normalise_fingerprint(spaced) == own.key.fingerprint


def test_enrolment_needs_the_fingerprint_confirmed_out_of_band(
    coordinator: Database, tmp_path: Path
) -> None:
    with key_of(tmp_path / "laptop"):
        file, info = trust.export_enrolment(tmp_path / "hana.skpkey", name="Hana")
    other = SigningKey.generate().fingerprint
    with pytest.raises(ValidationError, match="is not the fingerprint of the key"):
        trust.trust_key(
            coordinator, file, services=[COMMSAFETY], fingerprint_given=other, actor=ACTOR
        )
    assert [k.name for k in trust.list_keys(coordinator) if k.role == "service"] == []
    key, done = trust.trust_key(
        coordinator,
        file,
        services=[COMMSAFETY],
        fingerprint_given=info.fingerprint.replace("-", " "),
        actor=ACTOR,
    )
    assert (key.name, key.services, done) == ("Hana", (COMMSAFETY,), f"enrolled for {COMMSAFETY}")
    events = audit.history(coordinator)
    assert events[0].action == "key.trust" and info.fingerprint in (events[0].new or "")


def test_an_edited_enrolment_file_is_refused(coordinator: Database, tmp_path: Path) -> None:
    with key_of(tmp_path / "laptop"):
        file, info = trust.export_enrolment(tmp_path / "hana.skpkey", name="Hana")
    data = json.loads(file.read_text())
    data["name"] = "Coordinator"
    file.write_text(json.dumps(data))
    with pytest.raises(ValidationError, match="changed after it was made"):
        trust.trust_key(
            coordinator,
            file,
            services=[COMMSAFETY],
            fingerprint_given=info.fingerprint,
            actor=ACTOR,
        )


# --- return files -------------------------------------------------------------------------


def test_the_forgery_from_the_issue_is_rejected(
    db: Database, coordinator: Database, tmp_path: Path
) -> None:
    # 9 of 80 exported; the figures, the cells and the payload made 1 of 80, digest recomputed
    commsafety(db, numerator="9", denominator="80")
    path = export(db, tmp_path / "out")
    meta = meta_values(path)
    entries = parse_payload(meta["payload"])
    forged_entries = [
        entry if entry.code != REPEAT_VICTIMS else replace(entry, numerator=Decimal(1))
        for entry in entries
    ]
    payload = canonical_payload(forged_entries)
    book = openpyxl.load_workbook(path)
    book["Return"][cell(path, REPEAT_VICTIMS, "Numerator")].value = 1
    book.save(tmp_path / "step.xlsx")
    forged = edit_meta(
        tmp_path / "step.xlsx",
        tmp_path / "forged.xlsx",
        {"payload": payload, "payload_sha256": payload_digest(payload)},
    )
    refused(coordinator, forged, "the signature does not match the file: it was changed after")
    assert import_one(coordinator, path).status == "ACCEPTED"  # the real one still imports


def test_a_return_signed_for_another_service_is_rejected(
    db: Database, coordinator: Database, tmp_path: Path
) -> None:
    commsafety(db)
    enrol(coordinator, tmp_path, "laptop", CHILDRENS)
    path, _ = laptop_export(db, tmp_path)
    refused(
        coordinator,
        path,
        "signed by a key enrolled for Children’s Services, not Community Safety",
    )


def test_a_return_signed_by_an_unknown_key_is_rejected_naming_its_fingerprint(
    db: Database, coordinator: Database, tmp_path: Path
) -> None:
    commsafety(db)
    path, fp = laptop_export(db, tmp_path)
    refused(coordinator, path, f"signed by a key nobody here has enrolled: fingerprint {fp}")


def test_an_enrolled_key_is_believed_and_the_signer_recorded(
    db: Database, coordinator: Database, tmp_path: Path
) -> None:
    commsafety(db)
    enrol(coordinator, tmp_path, "laptop", COMMSAFETY)
    path, fp = laptop_export(db, tmp_path)
    outcome = import_one(coordinator, path)
    assert (outcome.status, outcome.signature, outcome.signed_by) == ("ACCEPTED", "signed", fp)
    assert outcome.signer == "laptop user"
    imported = [e for e in audit.history(coordinator) if e.action == "return.import"]
    assert fp in (imported[0].source or "")
    assert audit.verify(coordinator).ok


def test_a_return_signed_by_a_revoked_key_is_rejected(
    db: Database, coordinator: Database, tmp_path: Path
) -> None:
    commsafety(db)
    key = enrol(coordinator, tmp_path, "laptop", COMMSAFETY)
    trust.revoke_key(coordinator, key.fingerprint, reason="laptop stolen", actor=ACTOR)
    path, fp = laptop_export(db, tmp_path)
    refused(coordinator, path, "signed by a key revoked on")
    refused(coordinator, path, "(laptop stolen): fingerprint " + fp)
    assert audit.verify(coordinator).ok


def test_a_return_with_its_signature_cut_out_is_rejected_unless_taken_unsigned(
    db: Database, coordinator: Database, tmp_path: Path
) -> None:
    commsafety(db)
    path = export(db, tmp_path / "out")
    cut = edit_meta(
        path, tmp_path / "cut.xlsx", {"signature": None, "signed_by": None, "public_key": None}
    )
    refused(coordinator, cut, "not signed: the file carries no signature")
    taken = import_one(coordinator, cut, accept_unsigned="Posted on paper and checked by phone")
    assert (taken.status, taken.signature) == ("ACCEPTED", "unsigned")
    assert "UNSIGNED" in taken.signature_text
    view = get_return(coordinator, COMMSAFETY, PERIOD)
    assert view.signature is not None and view.signature.status == "unsigned"
    assert view.signature.note == "Posted on paper and checked by phone"
    imported = [e for e in audit.history(coordinator) if e.action == "return.import"]
    assert "UNSIGNED" in (imported[0].reason or "")
    assert "Posted on paper and checked by phone" in (imported[0].reason or "")


def test_a_format_1_file_is_unsigned(db: Database, coordinator: Database, tmp_path: Path) -> None:
    commsafety(db)
    path = export(db, tmp_path / "out")
    old = edit_meta(
        path,
        tmp_path / "v1.xlsx",
        {"format_version": "1", "signature": None, "signed_by": None, "public_key": None},
    )
    refused(coordinator, old, "not signed")
    assert import_one(coordinator, old, accept_unsigned="older app").status == "ACCEPTED"


def test_a_changed_signed_field_breaks_the_signature(
    db: Database, coordinator: Database, tmp_path: Path
) -> None:
    commsafety(db)
    path = export(db, tmp_path / "out")
    moved = edit_meta(path, tmp_path / "moved.xlsx", {"period": "FY2025-26-Q4"})
    refused(coordinator, moved, "the signature does not match the file")


def test_rotation_is_accepted_without_a_new_keys_trust(
    db: Database, coordinator: Database, tmp_path: Path
) -> None:
    commsafety(db)
    old = enrol(coordinator, tmp_path, "laptop", COMMSAFETY)
    with key_of(tmp_path / "laptop"):
        done = trust.rotate_installation_key(None, actor=ACTOR)
    assert done.old_fingerprint == old.fingerprint != done.new_fingerprint
    path, fp = laptop_export(db, tmp_path)
    assert fp == done.new_fingerprint
    outcome = import_one(coordinator, path)
    assert (outcome.status, outcome.signed_by) == ("ACCEPTED", fp)
    keys = {k.fingerprint: k for k in trust.list_keys(coordinator)}
    assert keys[fp].services == (COMMSAFETY,) and keys[fp].revoked_at is None
    assert keys[old.fingerprint].replaced_by == fp
    assert [e.action for e in audit.history(coordinator)].count("key.rotate") == 1
    assert audit.verify(coordinator).ok


def test_a_rotated_enrolment_file_is_taken_without_a_phone_call(
    coordinator: Database, tmp_path: Path
) -> None:
    old = enrol(coordinator, tmp_path, "laptop", COMMSAFETY)
    with key_of(tmp_path / "laptop"):
        trust.rotate_installation_key(None, actor=ACTOR)
        file, info = trust.export_enrolment(tmp_path / "new.skpkey", name="laptop user")
    key, done = trust.trust_key(coordinator, file, services=[], fingerprint_given=None, actor=ACTOR)
    assert key.fingerprint == info.fingerprint and key.services == (COMMSAFETY,)
    assert old.fingerprint in done


# --- templates, feedback, packs -----------------------------------------------------------


def test_a_filled_template_is_taken_only_when_issued_here(
    db: Database, coordinator: Database, tmp_path: Path
) -> None:
    blank = template(coordinator, tmp_path / "out")
    book = openpyxl.load_workbook(blank)
    book["Return"][cell(blank, REPEAT_VICTIMS, "Numerator")].value = 3
    book["Return"][cell(blank, REPEAT_VICTIMS, "Denominator")].value = 30
    book["Return"][cell(blank, TRAINED, "Value")].value = 12
    book.save(tmp_path / "filled.xlsx")
    outcome = import_one(coordinator, tmp_path / "filled.xlsx")
    assert outcome.status == "ACCEPTED", outcome.reason
    assert (outcome.status, outcome.signature) == ("ACCEPTED", "template")
    view = get_return(coordinator, COMMSAFETY, PERIOD)
    assert view.signature is not None and view.signature.status == "template"
    # a template another database issued is not this coordinator's
    with key_of(tmp_path / "elsewhere"):
        other = template(db, tmp_path / "other")
    refused(coordinator, other, "the template was not issued by this database")


def test_a_forged_feedback_file_is_refused(
    db: Database, coordinator: Database, tmp_path: Path, template_database: Path
) -> None:
    commsafety(db)
    import_one(coordinator, export(db, tmp_path / "out"))
    review.return_with_query(
        coordinator, service=COMMSAFETY, period=PERIOD, actor=ACTOR, queries={REPEAT_VICTIMS: "?"}
    )
    laptop = open_copy(template_database, tmp_path / "hana" / "skp.sqlite3")
    try:
        # a feedback file signed by a key that is not the coordinator's
        with key_of(tmp_path / "mallory"):
            forged = tmp_path / "feedback.xlsx"
            exchange.export_feedback(
                coordinator, service=COMMSAFETY, period=PERIOD, out=forged, actor=ACTOR
            )
        laptop_trust = trust.list_keys(laptop)
        assert all(k.role == "own" for k in laptop_trust)
        refused(laptop, forged, "signed by a key nobody here has enrolled")
    finally:
        laptop.dispose()


def test_a_definitions_pack_pins_the_coordinator_key_and_refuses_others(
    coordinator: Database, template_database: Path, tmp_path: Path
) -> None:
    with key_of(tmp_path / "coordinator-key") as chief:
        pack = tmp_path / "pack.xlsx"
        export_definitions_pack(coordinator, pack, actor=ACTOR)
    service = open_copy(template_database, tmp_path / "service" / "skp.sqlite3")
    try:
        first = import_definitions_pack(service, pack, actor=ACTOR)
        assert first.refused and "has not pinned the coordinator's key" in (first.reason or "")
        wrong = import_definitions_pack(
            service, pack, actor=ACTOR, fingerprint=SigningKey.generate().fingerprint
        )
        assert wrong.refused and "not by the fingerprint given" in (wrong.reason or "")
        pinned = import_definitions_pack(
            service, pack, actor=ACTOR, fingerprint=chief.key.fingerprint
        )
        assert not pinned.refused and pinned.trust_note and "pinned" in pinned.trust_note
        assert [k.role for k in trust.list_keys(service)].count("coordinator") == 1
        # from now on a pack by any other key is refused, whatever fingerprint is given
        with key_of(tmp_path / "mallory") as mallory:
            forged = tmp_path / "forged.xlsx"
            export_definitions_pack(coordinator, forged, actor=ACTOR)
        again = import_definitions_pack(
            service, forged, actor=ACTOR, fingerprint=mallory.key.fingerprint
        )
        assert again.refused and "not by the coordinator's key pinned here" in (again.reason or "")
        assert audit.verify(service).ok
        assert "key.pin" in [e.action for e in audit.history(service)]
    finally:
        service.dispose()


def test_a_pack_with_a_changed_signed_field_is_refused(
    coordinator: Database, tmp_path: Path
) -> None:
    pack = tmp_path / "pack.xlsx"
    export_definitions_pack(coordinator, pack, actor=ACTOR)
    forged = edit_meta(pack, tmp_path / "forged.xlsx", {"exported_by": "The Coordinator"})
    outcome = import_definitions_pack(coordinator, forged, actor=ACTOR)
    assert outcome.refused and "the signature does not match the file" in (outcome.reason or "")


# --- verify, and where the private key never goes -----------------------------------------


def test_verify_replays_trust_changes(coordinator: Database, tmp_path: Path) -> None:
    key = enrol(coordinator, tmp_path, "laptop", COMMSAFETY)
    assert audit.verify(coordinator).ok
    import sqlite3

    with sqlite3.connect(path_of(coordinator)) as connection:
        connection.execute(
            "INSERT INTO signing_key_services (key_id, service) "
            "SELECT id, 'HIGHWAYS' FROM signing_keys WHERE fingerprint = ?",
            (key.fingerprint,),
        )
    report = audit.verify(coordinator)
    assert not report.ok
    assert any(key.fingerprint in p and "outside the app" in p for p in report.problems)


def test_verify_rechecks_the_signature_of_every_kept_file(
    db: Database, coordinator: Database, tmp_path: Path
) -> None:
    commsafety(db)
    import_one(coordinator, export(db, tmp_path / "out"))
    assert audit.verify(coordinator).ok
    import sqlite3

    forged = edit_meta(export(db, tmp_path / "again"), tmp_path / "f.xlsx", {"exported_by": "x"})
    with sqlite3.connect(path_of(coordinator)) as connection:
        connection.execute("UPDATE imported_files SET content = ?", (forged.read_bytes(),))
    report = audit.verify(coordinator)
    assert any("signature" in p for p in report.problems), report.problems


def _secrets(key_file: Path) -> list[bytes]:
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    raw = key.private_bytes(  # type: ignore[union-attr]
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    pem_body = b"".join(key_file.read_bytes().splitlines()[1:-1])
    return [raw, base64.b64encode(raw), pem_body, raw.hex().encode()]


def _everything_in(path: Path) -> bytes:
    data = path.read_bytes()
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as archive:
            data += b"".join(archive.read(name) for name in archive.namelist())
    return data


def test_the_private_key_is_in_no_database_backup_export_log_or_workbook(
    db: Database, coordinator: Database, tmp_path: Path
) -> None:
    from skp_desktop.services import backups, merge

    commsafety(db)
    exported = export(db, tmp_path / "out")
    import_one(coordinator, exported)
    from skp_desktop.services.review import accept_return

    accept_return(coordinator, service=COMMSAFETY, period=PERIOD, actor=ACTOR)
    merged = tmp_path / "merged.xlsx"
    merge.merge_export(coordinator, out=merged, first=PERIOD, last=PERIOD)
    backup = backups.backup_now(coordinator)
    pack = tmp_path / "pack.xlsx"
    export_definitions_pack(coordinator, pack, actor=ACTOR)
    blank = template(coordinator, tmp_path / "blank")
    coordinator.dispose()
    files = [path_of(coordinator), exported, merged, Path(backup.path), pack, blank]
    files += [p for p in (tmp_path / "logs").rglob("*") if p.is_file()]
    key_file = trust.key_file()
    secrets = _secrets(key_file)
    for file in files:
        content = _everything_in(file)
        for secret in secrets:
            assert secret not in content, file
    # the public key is there: it is how the file says who signed it
    public = base64.b64encode(trust.installation_key().key.public_key)
    assert public in _everything_in(exported)
    assert hashlib.sha256(key_file.read_bytes()).hexdigest()  # the key file itself is intact
    assert fingerprint(trust.installation_key().key.public_key)


def test_a_database_upgraded_to_signed_files_trusts_its_installations_key(
    database_file: Path,
) -> None:
    import sqlite3

    from skp_desktop.services.database import open_database

    with sqlite3.connect(database_file) as raw:  # as the app before signed files left it
        for table in ("return_signatures", "signing_key_services", "signing_keys"):
            raw.execute(f"DROP TABLE {table}")
        # and what later migrations added (0007), so that the upgrade runs them all again
        raw.execute("DROP TABLE context_values")
        raw.execute("DROP TABLE service_forms")
        raw.execute("ALTER TABLE services DROP COLUMN retired_from")
        raw.execute("UPDATE alembic_version SET version_num = '0004'")
    db = open_database(database_file)
    try:
        (own,) = trust.list_keys(db)
        assert (own.fingerprint, own.role) == (trust.installation_key().key.fingerprint, "own")
        assert audit.verify(db).ok
    finally:
        db.dispose()


@pytest.mark.both_engines
def test_trust_and_a_signed_import_on_each_engine(db: Database, tmp_path: Path) -> None:
    commsafety(db)
    key = enrol(db, tmp_path, "laptop", COMMSAFETY)
    path, fp = laptop_export(db, tmp_path)
    outcome = import_one(db, path)  # the same return is held: judged by its signature first
    assert (outcome.status, outcome.signature, outcome.signed_by) == ("DUPLICATE", "signed", fp)
    trust.revoke_key(db, key.fingerprint, reason="left the council", actor=ACTOR)
    assert import_one(db, path).status == "REJECTED"
    assert [k.revoked_at is not None for k in trust.list_keys(db)] == [False, True]
    assert audit.verify(db).ok
