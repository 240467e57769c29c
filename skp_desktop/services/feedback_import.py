"""Importing a feedback file (the coordinator's queries on a returned revision): marks that
revision returned with its queries, storing the revision first when this database does not
hold it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from skp_desktop.domain.periods import Period
from skp_desktop.domain.vocabulary import (
    AuditAction,
    ImportStatus,
    ReturnState,
    Step,
    allows,
)
from skp_desktop.excel.return_data import (
    EntryData,
    QuerySet,
)
from skp_desktop.excel.return_reader import ImportedReturn
from skp_desktop.services import trust
from skp_desktop.services.dto import IndicatorInfo
from skp_desktop.services.exchange_outcomes import (
    ImportOutcome,
)
from skp_desktop.services.import_store import (
    Batch,
    Held,
    changes_between,
    signer_fields,
    store_revision,
    warnings_for,
)
from skp_desktop.services.queries import (
    queries_up_to,
    record_queries,
)
from skp_desktop.store.audit import append_event
from skp_desktop.store.models import (
    DefinitionsVersion,
    ImportedFile,
    Return,
    Service,
)


def _query_pairs(queries: QuerySet | None) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((line.code, line.question) for line in (queries.lines if queries else ())))


def judge_feedback(
    session: Session,
    path: Path,
    data: bytes,
    sha: str,
    *,
    imported: ImportedReturn,
    entries: Mapping[str, EntryData],
    digest: str,
    held: Sequence[Held],
    service: Service,
    period: Period,
    version: DefinitionsVersion,
    infos: Sequence[IndicatorInfo],
    indicator_ids: Mapping[str, int],
    batch: Batch,
    actor: str,
    dry_run: bool,
    verdict: trust.SignerVerdict,
) -> ImportOutcome:
    """The status of a feedback file: ACCEPTED marks its revision returned with the queries
    (storing the revision first when it is not held); DUPLICATE when that is already so."""
    meta, queries = imported.meta, imported.queries
    assert meta.revision is not None and queries is not None
    revision = meta.revision
    pairs = _query_pairs(queries)
    key = (service.code, period.code, revision, json.dumps(pairs))
    same = next((item for item in held if item.revision == revision), None)
    stored = session.scalar(
        select(Return).where(
            Return.service_id == service.id,
            Return.period == period.code,
            Return.revision == revision,
        )
    )
    highest = max((item.revision for item in held), default=0)
    status, reason = ImportStatus.ACCEPTED, None
    if key in batch.feedback:
        status, reason = ImportStatus.DUPLICATE, "the same feedback is earlier in this batch"
    elif same is not None and same.digest != digest:
        status, reason = (
            ImportStatus.CONFLICT,
            f"revision {revision} is held here with different values: this feedback is about "
            "another copy of the return; compare the two",
        )
    elif stored is not None and stored.state == ReturnState.RETURNED:
        if _query_pairs_held(session, service, period, revision) == pairs:
            status, reason = (
                ImportStatus.DUPLICATE,
                f"this feedback is already held: revision {revision} is returned with these "
                "queries",
            )
        else:
            status, reason = (
                ImportStatus.CONFLICT,
                f"revision {revision} is already returned here with other queries",
            )
    elif stored is not None and not allows(stored.state, Step.REVIEW):
        status, reason = (
            ImportStatus.CONFLICT,
            f"revision {revision} is {stored.state} here, not submitted: it cannot be returned",
        )
    elif same is None and revision < highest:
        status, reason = (
            ImportStatus.STALE,
            f"revision {highest} is already held: this feedback is about an older revision",
        )
    outcome = ImportOutcome(
        status=status,
        file=str(path),
        service=service.code,
        period=period.code,
        revision=revision,
        reason=reason,
        changes=changes_between(
            [info.code for info in infos],
            same.entries
            if same
            else (max(held, key=lambda h: h.revision).entries if held else None),
            entries,
        ),
        warnings=warnings_for(session, service, period, infos, entries),
        file_sha256=sha,
        kind=meta.kind,
        queries=tuple((line.code, line.question) for line in queries.lines),
        **signer_fields(verdict),
    )
    if status != ImportStatus.ACCEPTED:
        return outcome
    batch.feedback.add(key)
    if same is None:
        batch.add(service.code, period.code, Held(revision, digest, entries))
    if dry_run:
        return outcome
    now = datetime.now(UTC)
    source = f"imported from {path.name}"
    if stored is None:
        stored_id = store_revision(
            session,
            path,
            data,
            sha,
            imported=imported,
            entries=entries,
            service=service,
            period=period,
            version=version,
            revision=revision,
            digest=digest,
            actor=actor,
            indicator_ids=indicator_ids,
            verdict=verdict,
        )
        stored = session.get_one(Return, stored_id)
    else:
        session.add(
            ImportedFile(
                file_name=path.name[:400],
                sha256=sha,
                size=len(data),
                content=data,
                imported_at=now,
                imported_by=actor,
                status=ImportStatus.ACCEPTED,
                detail=f"feedback on revision {revision}: returned with "
                f"{len(queries.lines)} quer{'y' if len(queries.lines) == 1 else 'ies'}",
                return_id=stored.id,
            )
        )
    source = f"{source}, {verdict.describe}"
    asked = f"{source}: feedback from {queries.asked_by}" if queries.asked_by else source
    stored.state, stored.updated_at = ReturnState.RETURNED, now
    append_event(
        session,
        actor=actor,
        action=AuditAction.RETURN_RETURN,
        service=service.code,
        period=period.code,
        revision=revision,
        return_uuid=stored.uuid,
        old=ReturnState.SUBMITTED,
        new=ReturnState.RETURNED,
        reason=queries.reason,
        source=asked,
        file_sha256=sha,
        at=now,
    )
    record_queries(
        session,
        stored,
        {line.code: line.question for line in queries.lines},
        actor=actor,
        at=now,
        source=asked,
        file_sha256=sha,
    )
    session.flush()
    return outcome


def _query_pairs_held(
    session: Session, service: Service, period: Period, revision: int
) -> tuple[tuple[str, str], ...]:
    held = queries_up_to(session, service, period.code, revision)
    if held is None or held.asked_revision != revision:
        return ()
    return tuple(sorted((q.code, q.question) for q in held.queries))
