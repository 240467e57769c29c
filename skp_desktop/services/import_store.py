"""What importing a return file and a feedback file share: the revisions held, the batch (what
it accepted so far, the catalogue and keys read once), the changes and warnings an outcome
shows, and storing a revision with its file, values, signature and audit events.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypedDict

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from skp_desktop.domain.periods import Period
from skp_desktop.domain.validation import EntryValues, Severity
from skp_desktop.domain.values import Symbol, canonical_text, from_canonical
from skp_desktop.domain.vocabulary import (
    AuditAction,
    ImportStatus,
    ReturnState,
)
from skp_desktop.excel.payload import canonical_payload, payload_digest
from skp_desktop.excel.return_data import (
    KIND_FEEDBACK,
    KIND_RETURN,
    KIND_TEMPLATE,
    SIGNED_KINDS,
    EntryData,
)
from skp_desktop.excel.return_reader import ImportedReturn
from skp_desktop.services import trust
from skp_desktop.services.catalogue import DefinitionsSnapshot
from skp_desktop.services.dto import IndicatorInfo
from skp_desktop.services.entries import VALUE_FIELDS, describe_value_json
from skp_desktop.services.exchange_outcomes import (
    ValueChange,
)
from skp_desktop.services.queries import (
    record_answer,
)
from skp_desktop.services.returns import (
    problems_with_history,
)
from skp_desktop.store.audit import append_events
from skp_desktop.store.models import (
    DefinitionsVersion,
    ImportedFile,
    Indicator,
    Return,
    ReturnSignature,
    Service,
    Value,
)


@dataclass(frozen=True)
class Held:
    """A revision held (or accepted earlier in this batch) and the digest of its content."""

    revision: int
    digest: str
    entries: Mapping[str, EntryData]


# What the import runs for every file, built once: building a statement costs more than
# running it. Reads go straight to the connection: nothing is pending in the session then.
_DEFINITIONS_STAMP = select(func.count(), func.max(DefinitionsVersion.id))


_HELD = (
    select(
        Return.revision,
        Indicator.code,
        Value.numerator,
        Value.denominator,
        Value.value,
        Value.symbol,
        Value.commentary,
        Value.explanation,
    )
    .select_from(Return)
    .outerjoin(Value, Value.return_id == Return.id)  # a revision with no values is held too
    .outerjoin(Indicator, Indicator.id == Value.indicator_id)
    .where(Return.service_id == bindparam("service_id"), Return.period == bindparam("period"))
)


_UUID_TAKEN = select(Return.id).where(Return.uuid == bindparam("uuid"))


_INSERT_RETURN = insert(Return)


_SUBMIT_RETURN = (
    update(Return).where(Return.id == bindparam("return_id")).values(state=bindparam("state"))
)


_INSERT_FILE = insert(ImportedFile)


_INSERT_VALUE = insert(Value)


_INSERT_SIGNATURE = insert(ReturnSignature)


@dataclass
class CatalogueCache:
    """Services and definitions, read once for a batch instead of once per file.

    Importing never changes them; whoever publishes a definitions version meanwhile adds a row
    to definitions_versions, which each file's transaction checks first (one small query)
    before anything kept is used. Rows are kept as plain copies attached to no session: a
    rolled-back file would expire ORM objects, and the import only reads their columns.
    """

    stamp: tuple[int, int | None] | None = None  # (count, newest id) of definitions versions
    services: dict[str, Service] = field(default_factory=dict)
    versions: list[DefinitionsVersion] = field(default_factory=list)  # in number order
    snapshots: dict[int, DefinitionsSnapshot] = field(default_factory=dict)  # by version id

    def check(self, session: Session) -> None:
        """Forget everything kept when the definitions versions have changed since."""
        count, newest = session.connection().execute(_DEFINITIONS_STAMP).one()
        if (count, newest) == self.stamp:
            return
        self.stamp = (count, newest)
        self.snapshots.clear()
        self.services = {
            code: Service(id=id_, code=code, name=name, organisation_id=organisation)
            for id_, code, name, organisation in session.execute(
                select(Service.id, Service.code, Service.name, Service.organisation_id)
            )
        }
        self.versions = [
            DefinitionsVersion(id=id_, number=number, applies_from=applies_from)
            for id_, number, applies_from in session.execute(
                select(
                    DefinitionsVersion.id,
                    DefinitionsVersion.number,
                    DefinitionsVersion.applies_from,
                ).order_by(DefinitionsVersion.number)
            )
        ]

    def snapshot(self, session: Session, version: DefinitionsVersion) -> DefinitionsSnapshot:
        """The version's indicators, read on first use."""
        if version.id not in self.snapshots:
            self.snapshots[version.id] = DefinitionsSnapshot.load(session, version)
        return self.snapshots[version.id]


@dataclass
class Batch:
    """What this batch accepted, so a dry run judges later files as the real run would."""

    accepted: dict[tuple[str, str], list[Held]] = field(default_factory=dict)
    feedback: set[tuple[str, str, int, str]] = field(default_factory=set)  # and queries digest
    catalogue: CatalogueCache = field(default_factory=CatalogueCache)
    keys: trust.KeyCache = field(default_factory=trust.KeyCache)

    def held(self, service: str, period: str) -> list[Held]:
        return self.accepted.get((service, period), [])

    def add(self, service: str, period: str, held: Held) -> None:
        self.accepted.setdefault((service, period), []).append(held)


def entry_of(code: str, row: Any) -> EntryData:
    """An entry from a stored value's columns (a Value, or a row with the same names)."""
    return EntryData(
        code=code,
        numerator=from_canonical(row.numerator),
        denominator=from_canonical(row.denominator),
        value=from_canonical(row.value),
        symbol=row.symbol,
        commentary=row.commentary,
        explanation=row.explanation,
    )


def full_entries(codes: Sequence[str], entries: Mapping[str, EntryData]) -> dict[str, EntryData]:
    return {code: entries.get(code) or EntryData(code=code) for code in codes}


def held_revisions(
    session: Session, service: Service, period: Period, codes: Sequence[str]
) -> list[Held]:
    rows = session.connection().execute(_HELD, {"service_id": service.id, "period": period.code})
    by_revision: dict[int, dict[str, EntryData]] = {}
    for row in rows:
        entries = by_revision.setdefault(row.revision, {})
        if row.code is not None:
            entries[row.code] = entry_of(row.code, row)
    held = []
    for revision in sorted(by_revision):
        entries = full_entries(codes, by_revision[revision])
        digest = payload_digest(canonical_payload(entries.values()))
        held.append(Held(revision, digest, entries))
    return held


def stored_fields(entry: EntryData) -> dict[str, str | None]:
    """An entry's fields as a Value row holds them (decimals as canonical text)."""
    fields = {
        "numerator": None if entry.numerator is None else canonical_text(entry.numerator),
        "denominator": None if entry.denominator is None else canonical_text(entry.denominator),
        "value": None if entry.value is None else canonical_text(entry.value),
        "symbol": entry.symbol,
        "commentary": entry.commentary,
        "explanation": entry.explanation,
    }
    assert tuple(fields) == VALUE_FIELDS
    return fields


def entry_json(entry: EntryData | None) -> str | None:
    """The JSON an audit event records for the entry once stored (entries.value_json)."""
    if entry is None or entry.is_blank:
        return None
    return json.dumps(
        stored_fields(entry), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )


def changes_between(
    codes: Sequence[str], before: Mapping[str, EntryData] | None, after: Mapping[str, EntryData]
) -> tuple[ValueChange, ...]:
    changes = []
    for code in codes:
        old = entry_json(before.get(code)) if before else None
        new = entry_json(after.get(code))
        if old != new:
            changes.append(ValueChange(code, describe_value_json(old), describe_value_json(new)))
    return tuple(changes)


def warnings_for(
    session: Session,
    service: Service,
    period: Period,
    infos: Sequence[IndicatorInfo],
    entries: Mapping[str, EntryData],
) -> tuple[str, ...]:
    values = {
        code: EntryValues(
            numerator=entry.numerator,
            denominator=entry.denominator,
            value=None if entry.symbol else entry.value,
            symbol=Symbol(entry.symbol) if entry.symbol else None,
        )
        for code, entry in entries.items()
    }
    found = problems_with_history(session, service, period, infos, values)
    return tuple(
        f"{code}: {p.message}"
        for code, problems in found.items()
        for p in problems
        if p.severity is Severity.WARNING
    )


class SignerFields(TypedDict):
    """How a file was signed, as ImportOutcome's fields of the same names."""

    signature: str | None
    signed_by: str | None
    signer: str | None


def signer_fields(verdict: trust.SignerVerdict) -> SignerFields:
    return {
        "signature": verdict.status,
        "signed_by": verdict.fingerprint,
        "signer": verdict.note if verdict.status == trust.UNSIGNED_TAKEN else verdict.name,
    }


def return_uuid_for(session: Session, imported: ImportedReturn) -> str:
    """The file's return_id when it names this very revision and is free, else a new one."""
    given = imported.meta.return_id
    if imported.meta.kind in SIGNED_KINDS and not imported.modified and given:
        try:
            candidate = str(uuid.UUID(given))
        except ValueError:
            candidate = None
        if candidate and session.connection().scalar(_UUID_TAKEN, {"uuid": candidate}) is None:
            return candidate
    return str(uuid.uuid4())


def audit_reason(imported: ImportedReturn, revision: int, verdict: trust.SignerVerdict) -> str:
    meta = imported.meta
    if verdict.status == trust.UNSIGNED_TAKEN:
        what = "template" if meta.kind == KIND_TEMPLATE else f"{meta.kind} file"
        return (
            f"revision {revision} imported from an UNSIGNED {what}, taken by the coordinator "
            f"because: {verdict.note}"
        )
    if meta.kind == KIND_TEMPLATE:
        return (
            f"filled template imported as revision {revision}: values entered in a template, "
            "not signed by the service"
        )
    if imported.modified:
        cells = ", ".join(imported.modified_cells[:20])
        more = len(imported.modified_cells) - 20
        if more > 0:
            cells += f" and {more} more"
        return (
            f"accepted as modified: revision {meta.revision} was changed after export "
            f"(cells {cells}); the visible values were imported as revision {revision}"
        )
    who = f" exported by {meta.exported_by}" if meta.exported_by else ""
    when = f" at {meta.exported_at}" if meta.exported_at else ""
    what = "feedback file" if meta.kind == KIND_FEEDBACK else "return file"
    return f"revision {revision} imported from a {what}{who}{when}"


def import_source(
    file_name: str, verdict: trust.SignerVerdict, *, modified: bool, of_value: bool = False
) -> str:
    """The `source` of a stored file's events: the file, who signed it, whether it was changed
    after export.

    The file's `return.import` event names the signer's key; the events of its values
    (`of_value`) say "signed" and leave the key to that event, which carries the same
    file_sha256 (and `verify` checks the kept file's signature against the key recorded for
    the revision). The fingerprint repeated in each value's event was about 1% of an import's
    time, the History's text index taking it in each time (issue 16). A template's and an
    unsigned file's words stay in every event: they are warnings about each value.
    """
    signer = "signed" if of_value and verdict.status == trust.SIGNED else verdict.describe
    source = f"imported from {file_name}, {signer}"
    if modified:
        source += " (changed after export, accepted as modified)"
    return source


def store_revision(
    session: Session,
    path: Path,
    data: bytes,
    sha: str,
    *,
    imported: ImportedReturn,
    entries: Mapping[str, EntryData],
    service: Service,
    period: Period,
    version: DefinitionsVersion,
    revision: int,
    digest: str,
    actor: str,
    indicator_ids: Mapping[str, int],
    verdict: trust.SignerVerdict,
) -> int:
    """Store the revision, its file, its values and their audit events; returns its id.

    Rows go in as Core INSERTs, values and events each as one statement of many rows: an ORM
    object per value and per event cost more than reading the file.
    """
    now = datetime.now(UTC)
    meta = imported.meta
    reason = audit_reason(imported, revision, verdict)
    source = import_source(path.name, verdict, modified=imported.modified)
    value_source = import_source(path.name, verdict, modified=imported.modified, of_value=True)
    connection = session.connection()
    return_uuid = return_uuid_for(session, imported)
    submitted_by = meta.exported_by if meta.kind == KIND_RETURN and meta.exported_by else actor
    inserted = connection.execute(
        _INSERT_RETURN,
        {
            "uuid": return_uuid,
            "service_id": service.id,
            "period": period.code,
            "revision": revision,
            # made a draft and submitted once its values are in: the shared database's rules
            # let values go only into a draft (migration 0006)
            "state": ReturnState.DRAFT,
            "definitions_version_id": version.id,
            "created_at": now,
            "created_by": actor,
            "updated_at": now,
            "submitted_at": now,
            "submitted_by": submitted_by[:100],
            "payload_sha256": digest,
        },
    ).inserted_primary_key
    assert inserted is not None
    return_id = int(inserted[0])
    connection.execute(
        _INSERT_FILE,
        {
            "file_name": path.name[:400],
            "sha256": sha,
            "size": len(data),
            "content": data,
            "imported_at": now,
            "imported_by": actor,
            "status": ImportStatus.ACCEPTED,
            "detail": reason,
            "return_id": return_id,
        },
    )
    connection.execute(
        _INSERT_SIGNATURE,
        {
            "return_id": return_id,
            "status": verdict.status,
            "signed_by": verdict.fingerprint,
            "signer_name": None if verdict.name is None else verdict.name[:200],
            "note": verdict.note,
        },
    )
    context: dict[str, Any] = {
        "actor": actor,
        "service": service.code,
        "period": period.code,
        "revision": revision,
        "return_uuid": return_uuid,
        "reason": reason,
        "source": source,
        "file_sha256": sha,
        "at": now,
    }
    events: list[dict[str, Any]] = [
        {**context, "action": AuditAction.RETURN_IMPORT, "new": ReturnState.SUBMITTED}
    ]
    values: list[dict[str, Any]] = []
    for code, entry in entries.items():
        if entry.is_blank:
            continue
        values.append(
            {
                **stored_fields(entry),
                "return_id": return_id,
                "indicator_id": indicator_ids[code],
                "updated_at": now,
                "updated_by": actor,
            }
        )
        events.append(
            {
                **context,
                "action": AuditAction.VALUE_SET,
                "indicator": code,
                "new": entry_json(entry),
                "source": value_source,
            }
        )
    if values:
        connection.execute(_INSERT_VALUE, values)
    connection.execute(_SUBMIT_RETURN, {"return_id": return_id, "state": ReturnState.SUBMITTED})
    append_events(session, events)
    if imported.answers:
        ret = session.get_one(Return, return_id)
        for line in imported.answers.lines:
            record_answer(
                session,
                ret,
                line.code,
                line.answer,
                previous=None,
                actor=actor,
                at=now,
                source=value_source,
                file_sha256=sha,
            )
        session.flush()
    return return_id
