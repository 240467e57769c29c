"""The coordinator's review of a submitted return: accept it, or return it with a query.

Both act on the latest revision, which must be submitted, and are audited with an event whose
`new` is the state word ("accepted", "returned"), so `verify` replays them like any other
change of a return's state.
"""

from __future__ import annotations

from datetime import UTC, datetime

from skp_desktop.domain.errors import StateError, ValidationError
from skp_desktop.services.catalogue import get_service
from skp_desktop.services.database import Database
from skp_desktop.services.dto import ReturnView
from skp_desktop.services.returns import (
    ACCEPTED,
    RETURNED,
    SUBMITTED,
    _build_view,
    latest_return,
    return_period,
)
from skp_desktop.store.audit import append_event

ACTION_ACCEPT = "return.accept"
ACTION_RETURN = "return.return"


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
) -> ReturnView:
    now = datetime.now(UTC)
    with db.transaction() as session:
        owner = get_service(session, service)
        the_period = return_period(period)
        ret = latest_return(session, owner, the_period)
        if ret is None:
            raise StateError(f"{owner.name} has no return for {the_period.label} to review.")
        if revision is not None and ret.revision != revision:
            raise StateError(
                f"{owner.name}'s return for {the_period.label} is now at revision "
                f"{ret.revision}, not {revision}: look at the newer revision first."
            )
        if ret.state != SUBMITTED:
            raise StateError(
                f"Revision {ret.revision} of {owner.name}'s return for {the_period.label} is "
                f"{ret.state}: only a submitted return can be accepted or returned."
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
        session.flush()
        return _build_view(session, owner, the_period, ret)


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
        new_state=ACCEPTED,
        action=ACTION_ACCEPT,
        reason=None,
        revision=revision,
    )


def return_with_query(
    db: Database,
    *,
    service: str,
    period: str,
    reason: str,
    actor: str,
    revision: int | None = None,
) -> ReturnView:
    """Send the latest (submitted) revision back with a query; the service answers it with
    its next revision."""
    if not reason or not reason.strip():
        raise ValidationError("Say what the query is: the service reads it.", field="reason")
    return _review(
        db,
        service=service,
        period=period,
        actor=actor,
        new_state=RETURNED,
        action=ACTION_RETURN,
        reason=reason.strip(),
        revision=revision,
    )
