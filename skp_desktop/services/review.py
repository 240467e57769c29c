"""The coordinator's review of a submitted return: accept it, or return it with queries; and
the service's answers to those queries in its next revision.

Accepting and returning act on the latest revision, which must be submitted, and are audited
with an event whose `new` is the state word ("accepted", "returned"), so `verify` replays them
like any other change of a return's state. Queries on indicators and their answers are audit
events too (see `queries.py`), written in the same transaction as the change they belong to.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime

from skp_desktop.domain.errors import NotFoundError, StateError, ValidationError
from skp_desktop.domain.vocabulary import AuditAction, ReturnState, Step, allows
from skp_desktop.services.catalogue import get_service
from skp_desktop.services.database import Database
from skp_desktop.services.dto import ReturnQueries, ReturnView
from skp_desktop.services.queries import (
    clean_text,
    queries_up_to,
    record_answer,
    record_queries,
)
from skp_desktop.services.returns import (
    due_indicators,
    latest_return,
    latest_return_to_change,
    return_period,
    view_in_transaction,
)
from skp_desktop.store.audit import append_event
from skp_desktop.store.engine import retried


@retried  # run again if the server undid it for crossing another: its one effect is its transaction
def _review(
    db: Database,
    *,
    service: str,
    period: str,
    actor: str,
    new_state: str,
    action: str,
    reason: str | None,
    revision: int | None,
    queries: Mapping[str, str] | None = None,
) -> ReturnView:
    now = datetime.now(UTC)
    with db.transaction(locks_its_returns=True) as session:
        owner = get_service(session, service)
        the_period = return_period(period)
        ret = latest_return_to_change(session, owner, the_period)
        if ret is None:
            raise StateError(f"{owner.name} has no return for {the_period.label} to review.")
        if revision is not None and ret.revision != revision:
            raise StateError(
                f"{owner.name}'s return for {the_period.label} is now at revision "
                f"{ret.revision}, not {revision}: look at the newer revision first."
            )
        if not allows(ret.state, Step.REVIEW):
            raise StateError(
                f"Revision {ret.revision} of {owner.name}'s return for {the_period.label} is "
                f"{ret.state}: only a submitted return can be accepted or returned."
            )
        asked: dict[str, str] = {}
        if queries:
            codes = [info.code for info in due_indicators(session, owner, the_period)]
            given = {code.strip().upper(): text for code, text in queries.items()}
            unknown = [code for code in given if code not in codes]
            if unknown:
                raise NotFoundError(
                    f"{', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not in the "
                    f"{owner.name} return for {the_period.label}. Its indicators are: "
                    f"{', '.join(codes)}."
                )
            # In the order of the form, so the service reads them as it reads its return.
            asked = {
                code: clean_text(given[code], what="question", code=code)
                for code in codes
                if code in given
            }
        # Accepting changes nothing the view reads but the state and the time: the view is
        # built before the change, so the chain is locked only from the event to the commit.
        accepted_view = (
            view_in_transaction(session, owner, the_period, ret)
            if new_state == ReturnState.ACCEPTED and not asked
            else None
        )
        old = ret.state
        ret.state, ret.updated_at = new_state, now
        append_event(
            session,
            actor=actor,
            action=action,
            service=owner.code,
            period=the_period.code,
            revision=ret.revision,
            return_uuid=ret.uuid,
            old=old,
            new=new_state,
            reason=reason,
            at=now,
        )
        if accepted_view is not None:
            return dataclasses.replace(accepted_view, state=new_state, updated_at=now)
        record_queries(session, ret, asked, actor=actor, at=now)
        session.flush()
        return view_in_transaction(session, owner, the_period, ret)


def accept_return(
    db: Database, *, service: str, period: str, actor: str, revision: int | None = None
) -> ReturnView:
    """Accept the latest (submitted) revision: from now on it counts in the merged workbook.

    `revision`, when given, must still be the latest: a newer one may have been imported since
    the coordinator looked.
    """
    return _review(
        db,
        service=service,
        period=period,
        actor=actor,
        new_state=ReturnState.ACCEPTED,
        action=AuditAction.RETURN_ACCEPT,
        reason=None,
        revision=revision,
    )


def return_with_query(
    db: Database,
    *,
    service: str,
    period: str,
    reason: str | None = None,
    actor: str,
    revision: int | None = None,
    queries: Mapping[str, str] | None = None,
) -> ReturnView:
    """Send the latest (submitted) revision back with a query; the service answers it with
    its next revision.

    `reason` is what the coordinator says about the return as a whole; `queries` maps
    indicator codes to a question on each, which the service must answer before it submits
    its next revision. At least one of the two is needed.
    """
    reason = (reason or "").strip() or None
    if reason is None and not queries:
        raise ValidationError("Say what the query is: the service reads it.", field="reason")
    return _review(
        db,
        service=service,
        period=period,
        actor=actor,
        new_state=ReturnState.RETURNED,
        action=AuditAction.RETURN_RETURN,
        reason=reason,
        revision=revision,
        queries=queries,
    )


def return_queries(db: Database, *, service: str, period: str) -> ReturnQueries | None:
    """The queries of the latest returned revision of a return and the answers given to them
    since; None when the return was never returned."""
    with db.reading() as session:
        owner = get_service(session, service)
        the_period = return_period(period)
        ret = latest_return(session, owner, the_period)
        return queries_up_to(session, owner, the_period.code, ret.revision if ret else None)


@retried  # run again if the server undid it for crossing another: its one effect is its transaction
def answer_queries(
    db: Database,
    *,
    service: str,
    period: str,
    answers: Mapping[str, str | None],
    actor: str,
) -> ReturnView:
    """Answer the coordinator's queries in the draft of the next revision, all or nothing.

    An answer of None or blank text withdraws an earlier answer (undo in the app does this);
    an unchanged answer records nothing.
    """
    now = datetime.now(UTC)
    with db.transaction(locks_its_returns=True) as session:
        owner = get_service(session, service)
        the_period = return_period(period)
        ret = latest_return_to_change(session, owner, the_period)
        queries = queries_up_to(session, owner, the_period.code, ret.revision if ret else None)
        where = f"{owner.name}'s return for {the_period.label}"
        if ret is None or queries is None or not queries.queries:
            raise StateError(f"{where} has no queries to answer.")
        if ret.state == ReturnState.RETURNED and ret.revision == queries.asked_revision:
            raise StateError(
                f"Revision {ret.revision} of {where} is returned: reopen it first (the answers "
                f"go with revision {ret.revision + 1}, with the corrections)."
            )
        if not allows(ret.state, Step.EDIT):
            raise StateError(
                f"Revision {ret.revision} of {where} is {ret.state}: its answers can no longer "
                "change."
            )
        given = {code.strip().upper(): text for code, text in answers.items()}
        unknown = [code for code in given if queries.query(code) is None]
        if unknown:
            asked = ", ".join(q.code for q in queries.queries)
            raise NotFoundError(
                f"{', '.join(unknown)} {'has' if len(unknown) == 1 else 'have'} no query to "
                f"answer in {where}; the queries are on {asked}."
            )
        for code, text in given.items():
            query = queries.query(code)
            assert query is not None
            answer = clean_text(text, what="answer", code=code) if text and text.strip() else None
            if answer == query.answer:
                continue
            record_answer(session, ret, code, answer, previous=query.answer, actor=actor, at=now)
        ret.updated_at = now
        session.flush()
        return view_in_transaction(session, owner, the_period, ret)
