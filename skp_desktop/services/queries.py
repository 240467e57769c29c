"""The coordinator's queries on a returned revision and the service's answers.

There is no table for them: the audit chain is the store. Returning a revision with queries
adds one `query.ask` event per indicator (indicator = the code, reason = the question, the
returned revision's uuid); the service answers in its next revision with `query.answer` events
(new = the answer, old = the answer it replaces, the answering revision's uuid). `verify`
replays only values and states, so these events are checked by the chain's hashes alone.

These functions work inside a caller's transaction; the use cases are in `review.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from skp_desktop.domain.errors import ValidationError
from skp_desktop.excel.query_payload import MAX_QUERY_TEXT
from skp_desktop.services.dto import QueryInfo, ReturnQueries
from skp_desktop.store.audit import append_event
from skp_desktop.store.models import AuditEvent, Return, Service

ACTION_ASK = "query.ask"
ACTION_ANSWER = "query.answer"
ACTION_RETURN = "return.return"
_RETURNED = "returned"  # returns.RETURNED (returns.py imports this module)


def clean_text(text: str | None, *, what: str, code: str) -> str:
    """A question or an answer as it is kept: trimmed, not blank, not overlong."""
    cleaned = (text or "").replace("\r\n", "\n").strip()
    if not cleaned:
        raise ValidationError(f"{code}: the {what} is blank: say it in words.", field=what)
    if len(cleaned) > MAX_QUERY_TEXT:
        raise ValidationError(
            f"{code}: the {what} is {len(cleaned):,} characters long; keep it under "
            f"{MAX_QUERY_TEXT:,}.",
            field=what,
        )
    return cleaned


def queries_up_to(
    session: Session, service: Service, period: str, revision: int | None
) -> ReturnQueries | None:
    """The queries of the latest returned revision up to `revision`, with the answers given
    in the revisions after it (up to `revision`); None when no such revision was returned."""
    if revision is None:
        return None
    returned = session.execute(
        select(Return.revision, Return.uuid)
        .where(
            Return.service_id == service.id,
            Return.period == period,
            Return.state == _RETURNED,
            Return.revision <= revision,
        )
        .order_by(Return.revision.desc())
        .limit(1)
    ).first()
    if returned is None:
        return None
    asked_revision, uuid = returned
    events = session.execute(
        select(
            AuditEvent.action,
            AuditEvent.revision,
            AuditEvent.return_uuid,
            AuditEvent.indicator,
            AuditEvent.actor,
            AuditEvent.at,
            AuditEvent.new,
            AuditEvent.reason,
            AuditEvent.source,
        )
        .where(
            AuditEvent.service == service.code,
            AuditEvent.period == period,
            AuditEvent.action.in_((ACTION_ASK, ACTION_ANSWER, ACTION_RETURN)),
        )
        .order_by(AuditEvent.id)
    ).all()
    reason = returned_by = returned_at = source = None
    asked: dict[str, QueryInfo] = {}
    answers: dict[str, tuple[str | None, str, datetime, int]] = {}
    for event in events:
        if event.action == ACTION_RETURN and event.return_uuid == uuid:
            reason, returned_by, returned_at = event.reason, event.actor, event.at
            source = event.source
        elif event.action == ACTION_ASK and event.return_uuid == uuid and event.indicator:
            asked[event.indicator] = QueryInfo(
                code=event.indicator,
                question=event.reason or "",
                asked_revision=asked_revision,
                asked_by=event.actor,
                asked_at=event.at,
                source=event.source,
            )
        elif (
            event.action == ACTION_ANSWER
            and event.indicator
            and event.revision is not None
            and asked_revision < event.revision <= revision
        ):
            answers[event.indicator] = (event.new, event.actor, event.at, event.revision)
    queries = []
    for code, query in asked.items():
        answer = answers.get(code)
        if answer is not None and answer[0]:
            text, by, at, answer_revision = answer
            query = replace(
                query, answer=text, answered_by=by, answered_at=at, answer_revision=answer_revision
            )
        queries.append(query)
    return ReturnQueries(
        service=service.code,
        period=period,
        asked_revision=asked_revision,
        return_uuid=uuid,
        reason=reason,
        returned_by=returned_by,
        returned_at=returned_at,
        queries=tuple(queries),
        source=source,
    )


def record_queries(
    session: Session,
    ret: Return,
    queries: Mapping[str, str],
    *,
    actor: str,
    at: datetime,
    source: str | None = None,
    file_sha256: str | None = None,
) -> None:
    """One `query.ask` event per indicator, on the returned revision."""
    for code, question in queries.items():
        append_event(
            session,
            actor=actor,
            action=ACTION_ASK,
            service=ret.service.code,
            period=ret.period,
            revision=ret.revision,
            return_uuid=ret.uuid,
            indicator=code,
            reason=question,
            source=source,
            file_sha256=file_sha256,
            at=at,
        )


def record_answer(
    session: Session,
    ret: Return,
    code: str,
    answer: str | None,
    *,
    previous: str | None,
    actor: str,
    at: datetime,
    source: str | None = None,
    file_sha256: str | None = None,
) -> None:
    """A `query.answer` event on the answering revision; `answer` None withdraws one."""
    append_event(
        session,
        actor=actor,
        action=ACTION_ANSWER,
        service=ret.service.code,
        period=ret.period,
        revision=ret.revision,
        return_uuid=ret.uuid,
        indicator=code,
        old=previous,
        new=answer,
        source=source,
        file_sha256=file_sha256,
        at=at,
    )
