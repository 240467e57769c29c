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
from datetime import datetime

from sqlalchemy.orm import Session

from skp_desktop.domain.errors import ValidationError
from skp_desktop.domain.vocabulary import AuditAction
from skp_desktop.excel.query_payload import MAX_QUERY_TEXT
from skp_desktop.services import return_view
from skp_desktop.services.dto import ReturnQueries
from skp_desktop.store.audit import append_event
from skp_desktop.store.engine import connection_fetch
from skp_desktop.store.models import Return, Service


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
    session.flush()  # the events and revisions of this transaction count too
    fetch = connection_fetch(session.connection())
    return return_view.queries_up_to(fetch, service.id, service.code, period, revision)


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
            action=AuditAction.QUERY_ASK,
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
        action=AuditAction.QUERY_ANSWER,
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
