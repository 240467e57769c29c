"""Returns: entering values, submitting and reopening, and reading a return with its checks."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from skp_desktop.domain.errors import NotFoundError, StateError, ValidationError
from skp_desktop.domain.periods import Period
from skp_desktop.domain.validation import EntryValues, Problem, validate_entry
from skp_desktop.domain.vocabulary import AuditAction, ReturnState, Step, allows
from skp_desktop.services.catalogue import (
    DefinitionsSnapshot,
    definitions_version_for,
    get_service,
    indicator_infos,
)
from skp_desktop.services.database import Database
from skp_desktop.services.dto import IndicatorInfo, ReturnView, SignatureInfo
from skp_desktop.services.entries import (
    SOURCE_COMMAND_LINE as SOURCE_COMMAND_LINE,
)
from skp_desktop.services.entries import (  # re-exported: callers may keep using returns.X
    SOURCE_TYPED,
    VALUE_FIELDS,
    EntryChange,
    EntryText,
    RefusedEntry,
    SubmissionRefused,
    apply_entry_text,
    finish_entry,
    value_json,
)
from skp_desktop.services.entries import (
    EntryRefused as EntryRefused,
)
from skp_desktop.services.entries import (
    describe_value_json as describe_value_json,
)
from skp_desktop.services.entries import (
    entry_fields as entry_fields,
)
from skp_desktop.services.entries import (
    parse_command_line_value as parse_command_line_value,
)
from skp_desktop.services.entries import (
    preview_change as preview_change,
)
from skp_desktop.services.forms import FormLayout
from skp_desktop.services.return_view import (
    DueIndicators,
    build_view,
    due_in_form_order,
    earlier_values,
    history_of,
    layout_of,
    nothing_due,
    read_due,
    read_return,
    version_for,
)
from skp_desktop.services.return_view import (
    return_period as return_period,
)
from skp_desktop.store.audit import append_events
from skp_desktop.store.engine import connection_fetch, lock_return, retried
from skp_desktop.store.models import (
    DefinitionsVersion,
    Indicator,
    Return,
    ReturnSignature,
    Service,
    Value,
)
from skp_desktop.store.return_reads import Fetch, RevisionRow, ServiceRow

# --- lookups -----------------------------------------------------------------------------


# Built once, as catalogue's statements: no cache key to work out on each call.
_LATEST_RETURN = (
    select(Return)
    .where(Return.service_id == bindparam("service_id"), Return.period == bindparam("period"))
    .order_by(Return.revision.desc())
    .limit(1)
    .options(joinedload(Return.definitions_version))  # a view reads the return with it
)


def latest_return(session: Session, service: Service, period: Period) -> Return | None:
    """The newest revision of a service's return for a period."""
    return session.scalar(_LATEST_RETURN, {"service_id": service.id, "period": period.code})


def latest_return_to_change(session: Session, service: Service, period: Period) -> Return | None:
    """latest_return, with the return locked for a change until the transaction ends (in a
    db.transaction(locks_its_returns=True)): read after any other change of it committed."""
    lock_return(session.connection(), service.id, period.code)
    return latest_return(session, service, period)


def due_indicators(
    session: Session,
    service: Service,
    period: Period,
    version: DefinitionsVersion | None = None,
    *,
    snapshot: DefinitionsSnapshot | None = None,
) -> list[IndicatorInfo]:
    """The service's indicators that its return for this period asks for, in form order.

    With `version`, as that definitions version has them (a return's own version); with
    `snapshot`, as that snapshot of a version has them, without asking the database.
    """
    every = (
        snapshot.indicator_infos(service, period)
        if snapshot is not None
        else indicator_infos(session, service=service, period=period, version=version)
    )
    return due_in_form_order(every, service.code, period, stored_layout(session, service))


def stored_layout(session: Session, service: Service) -> FormLayout | None:
    """The form the coordinator set for the service (None: its bundled form file, if any)."""
    return layout_of(connection_fetch(session.connection()), service.id, service.code)


def _service_row(service: Service) -> ServiceRow:
    organisation = service.organisation
    return ServiceRow(service.id, service.code, service.name, organisation.name, organisation.code)


def _revision_row(ret: Return) -> RevisionRow:
    version = ret.definitions_version
    return RevisionRow(
        ret.id, ret.uuid, ret.revision, ret.state, ret.updated_at, version.id, version.number
    )


def _fetch(session: Session) -> Fetch:
    """The session's connection as a Fetch, with its pending changes flushed (as autoflush
    would before an ORM query)."""
    session.flush()
    return connection_fetch(session.connection())


def problems_with_history(
    session: Session,
    service: Service,
    period: Period,
    infos: Sequence[IndicatorInfo],
    entries: Mapping[str, EntryValues],
) -> dict[str, tuple[Problem, ...]]:
    """Each indicator's problems, judged against the service's earlier values as `show` does.

    For entries not stored yet, such as a file being imported.
    """
    earlier = earlier_values(_fetch(session), service.id, period)
    return {
        info.code: tuple(
            validate_entry(
                info.rules,
                entries.get(info.code, EntryValues()),
                history_of(info, period, earlier.get(info.code, {})),
            )
        )
        for info in infos
    }


def view_in_transaction(
    session: Session, service: Service, period: Period, ret: Return | None
) -> ReturnView:
    """The view of `ret` (or of a return not started) as this transaction sees it."""
    revision = _revision_row(ret) if ret is not None else None
    due = session.info.get(_DUE_READ, {}).get((service.id, period.code))
    return build_view(_fetch(session), _service_row(service), period, revision, due)


# --- use cases ---------------------------------------------------------------------------


def get_return(db: Database, service: str, period: str) -> ReturnView:
    """A service's return for a period: its newest revision, or an empty one not yet started."""
    with db.reading_connection() as connection:
        view = read_return(connection_fetch(connection), service, period)
        if view.return_uuid is None:
            return view
        found = connection.execute(_SIGNATURE, {"uuid": view.return_uuid}).first()
    if found is None:
        return view
    return dataclasses.replace(view, signature=SignatureInfo(*found))


# How the revision's file was signed (return_signatures), for show --json and the Import page.
_SIGNATURE = (
    select(
        ReturnSignature.status,
        ReturnSignature.signed_by,
        ReturnSignature.signer_name,
        ReturnSignature.note,
    )
    .join(Return, Return.id == ReturnSignature.return_id)
    .where(Return.uuid == bindparam("uuid"))
)


def _new_revision(
    session: Session,
    service: Service,
    period: Period,
    revision: int,
    *,
    actor: str,
    now: datetime,
) -> Return:
    ret = Return(
        uuid=str(uuid.uuid4()),
        service=service,
        period=period.code,
        revision=revision,
        state=ReturnState.DRAFT,
        definitions_version=definitions_version_for(session, period),
        created_at=now,
        created_by=actor,
        updated_at=now,
    )
    session.add(ret)
    session.flush()
    return ret


def _event_context(ret: Return) -> dict[str, object]:
    return {
        "service": ret.service.code,
        "period": ret.period,
        "revision": ret.revision,
        "return_uuid": ret.uuid,
    }


def _draft_for_editing(
    session: Session,
    service: Service,
    period: Period,
    *,
    actor: str,
    now: datetime,
    events: list[dict[str, object]],
) -> Return:
    ret = latest_return_to_change(session, service, period)
    if ret is None:
        ret = _new_revision(session, service, period, 1, actor=actor, now=now)
        events.append(
            {
                "actor": actor,
                "action": AuditAction.RETURN_CREATE,
                "new": ReturnState.DRAFT,
                "at": now,
                **_event_context(ret),
            }
        )
        return ret
    if not allows(ret.state, Step.EDIT):
        raise StateError(
            f"{service.name}'s return for {period.label} is {ret.state} (revision "
            f"{ret.revision}) and cannot be changed. Reopen it with a reason to start "
            f"revision {ret.revision + 1}."
        )
    return ret


def record_entries(
    db: Database,
    *,
    service: str,
    period: str,
    changes: Iterable[EntryChange],
    actor: str,
    reason: str | None = None,
    source: str = SOURCE_TYPED,
) -> ReturnView:
    """Write changes to the draft return, all or nothing, each changed entry audited."""
    return _record_entries(
        db,
        service=service,
        period=period,
        changes=list(changes),
        actor=actor,
        reason=reason,
        source=source,
    )


@retried  # run again if the server undid it for crossing another: its one effect is its transaction
def _record_entries(
    db: Database,
    *,
    service: str,
    period: str,
    changes: list[EntryChange],
    actor: str,
    reason: str | None,
    source: str,
) -> ReturnView:
    now = datetime.now(UTC)
    with db.transaction(locks_its_returns=True) as session:
        owner = get_service(session, service)
        the_period = return_period(period)
        events: list[dict[str, object]] = []
        ret = _record_in(
            session,
            owner,
            the_period,
            changes,
            actor=actor,
            reason=reason,
            source=source,
            now=now,
            events=events,
        )
        view = view_in_transaction(session, owner, the_period, ret)
        # Last: the chain is locked from its first event to the commit, so the view (which
        # reads no value.set event) is built before, while others append theirs.
        append_events(session, events)
        return view


# A draft's values with their indicators' codes, in one query (not one per value).
_VALUES_WITH_CODES = (
    select(Value, Indicator.code)
    .join(Indicator, Indicator.id == Value.indicator_id)
    .where(Value.return_id == bindparam("return_id"))
)


# session.info key: what _due_for_change read, by (service id, period), for the view the same
# transaction builds next (a save read the indicators and the form twice, 5 of its 21 queries):
# the view then shows the definitions the change was checked against.
_DUE_READ = "skp_due_read"


def _due_for_change(session: Session, owner: Service, period: Period) -> list[IndicatorInfo]:
    """due_indicators (the version in force for the period) through the portable reads a
    return's view uses: three queries however many indicators, where the ORM's asked twice per
    indicator, the costliest step of a save."""
    fetch = connection_fetch(session.connection())
    version = version_for(fetch, period)
    due: DueIndicators = read_due(fetch, _service_row(owner), period, version.id, version.number)
    session.info.setdefault(_DUE_READ, {})[(owner.id, period.code)] = due
    return due.infos


def _record_in(
    session: Session,
    owner: Service,
    the_period: Period,
    changes: list[EntryChange],
    *,
    actor: str,
    reason: str | None,
    source: str,
    now: datetime,
    events: list[dict[str, object]],
) -> Return:
    """record_entries inside the caller's transaction (submit uses it for explanations), with
    the return locked; the audit events it makes are added to `events`, for the caller to
    append (append_events) once the rest of its work is done."""
    infos = {info.code: info for info in _due_for_change(session, owner, the_period)}
    if not infos:
        raise NotFoundError(nothing_due(owner.name, the_period))
    unknown = [c.code for c in changes if c.code.upper() not in infos]
    if unknown:
        raise NotFoundError(
            f"{', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not in the "
            f"{owner.name} return for {the_period.label}. Its indicators are: "
            f"{', '.join(infos)}."
        )
    ret = _draft_for_editing(session, owner, the_period, actor=actor, now=now, events=events)
    existing = {
        code: row for row, code in session.execute(_VALUES_WITH_CODES, {"return_id": ret.id})
    }
    states: dict[str, EntryText] = {}
    refusals: list[RefusedEntry] = []
    for change in changes:
        code = change.code.upper()
        state = states.setdefault(code, EntryText.of(existing.get(code)))
        for name, text in change.fields.items():
            if name not in VALUE_FIELDS:
                raise ValueError(f"unknown entry field {name!r}")
            refusal = apply_entry_text(state, infos[code], name, text)
            if refusal:
                refusals.append(refusal)
    for code, state in states.items():
        refusals.extend(finish_entry(state, infos[code]))
    if refusals:
        raise EntryRefused(refusals)
    for code, state in states.items():
        row = existing.get(code)
        old = value_json(row)
        if old == state.as_json():
            continue
        if row is None:
            row = Value(
                return_=ret,
                indicator=session.scalar(select(Indicator).where(Indicator.code == code)),
                updated_at=now,
                updated_by=actor,
            )
            session.add(row)
        for name in VALUE_FIELDS:
            setattr(row, name, getattr(state, name))
        row.updated_at, row.updated_by = now, actor
        events.append(
            {
                "actor": actor,
                "action": AuditAction.VALUE_SET,
                "indicator": code,
                "old": old,
                "new": state.as_json(),
                "reason": reason,
                "source": source,
                "at": now,
                **_event_context(ret),
            }
        )
    ret.updated_at = now
    session.flush()
    session.expire(ret, ["values"])
    return ret


@retried
def submit_return(
    db: Database,
    *,
    service: str,
    period: str,
    actor: str,
    explanations: Mapping[str, str] | None = None,
) -> ReturnView:
    """Check the draft and lock it; errors and unexplained warnings refuse it."""
    explanations = {k.upper(): v for k, v in (explanations or {}).items()}
    now = datetime.now(UTC)
    # One transaction: explanations given with a refused submission are not kept either.
    with db.transaction(locks_its_returns=True) as session:
        owner = get_service(session, service)
        the_period = return_period(period)
        events: list[dict[str, object]] = []
        if explanations and latest_return_to_change(session, owner, the_period) is not None:
            _record_in(
                session,
                owner,
                the_period,
                [EntryChange(c, {"explanation": t}) for c, t in explanations.items()],
                actor=actor,
                reason="explanation given at submission",
                source=SOURCE_COMMAND_LINE,
                now=now,
                events=events,
            )
        ret = latest_return_to_change(session, owner, the_period)
        if ret is None:
            raise StateError(
                f"{owner.name} has no return for {the_period.label} yet: enter its values first."
            )
        if not allows(ret.state, Step.SUBMIT):
            raise StateError(
                f"Revision {ret.revision} of {owner.name}'s return for {the_period.label} is "
                f"already {ret.state}."
            )
        view = view_in_transaction(session, owner, the_period, ret)
        if not view.rows:
            raise StateError(
                f"The {owner.name} return for {the_period.label} asks for no indicators: "
                "there is nothing to submit (annual indicators come with the Q4 return)."
            )
        refusals = [
            RefusedEntry(row.code, p.field, p.message) for row in view.rows for p in row.errors
        ]
        refusals += [
            RefusedEntry(
                row.code,
                "explanation",
                "needs an explanation of its warning ("
                + "; ".join(p.message for p in row.warnings)
                + f"): add --explain {row.code}=TEXT",
            )
            for row in view.rows
            if row.needs_explanation
        ]
        refusals += [
            RefusedEntry(
                query.code,
                "answer",
                f"the coordinator's query on revision {query.asked_revision} is not answered "
                f"yet (“{_short(query.question)}”): answer it first (answer --service "
                f"{owner.code} --period {the_period.code} {query.code}=TEXT)",
            )
            for query in view.open_queries
        ]
        if refusals:
            raise SubmissionRefused(refusals)
        ret.state = ReturnState.SUBMITTED
        ret.submitted_at, ret.submitted_by, ret.updated_at = now, actor, now
        events.append(
            {
                "actor": actor,
                "action": AuditAction.RETURN_SUBMIT,
                "old": ReturnState.DRAFT,
                "new": ReturnState.SUBMITTED,
                "at": now,
                **_event_context(ret),
            }
        )
        session.flush()
        view = view_in_transaction(session, owner, the_period, ret)
        append_events(session, events)  # last, as in record_entries
        return view


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@retried
def reopen_return(
    db: Database, *, service: str, period: str, reason: str, actor: str
) -> ReturnView:
    """Start the next revision as a draft, carrying the values over; a reason is required."""
    if not reason or not reason.strip():
        raise ValidationError("Give a reason for reopening the return.", field="reason")
    now = datetime.now(UTC)
    with db.transaction(locks_its_returns=True) as session:
        owner = get_service(session, service)
        the_period = return_period(period)
        ret = latest_return_to_change(session, owner, the_period)
        if ret is None:
            raise StateError(f"{owner.name} has no return for {the_period.label} to reopen.")
        if not allows(ret.state, Step.REOPEN):
            raise StateError(
                f"Revision {ret.revision} of {owner.name}'s return for {the_period.label} is "
                "still a draft: it can be changed as it is."
            )
        new = _new_revision(session, owner, the_period, ret.revision + 1, actor=actor, now=now)
        new.reopen_reason = reason.strip()
        events: list[dict[str, object]] = [
            {
                "actor": actor,
                "action": AuditAction.RETURN_REOPEN,
                "old": f"revision {ret.revision} {ret.state}",
                "new": ReturnState.DRAFT,
                "reason": reason.strip(),
                "at": now,
                **_event_context(new),
            }
        ]
        for old_row in ret.values:
            copy = Value(
                return_=new,
                indicator=old_row.indicator,
                updated_at=now,
                updated_by=actor,
                **{name: getattr(old_row, name) for name in VALUE_FIELDS},
            )
            session.add(copy)
            events.append(
                {
                    "actor": actor,
                    "action": AuditAction.VALUE_SET,
                    "indicator": old_row.indicator.code,
                    "old": None,
                    "new": value_json(copy),
                    "reason": reason.strip(),
                    "source": f"carried over from revision {ret.revision}",
                    "at": now,
                    **_event_context(new),
                }
            )
        session.flush()
        session.expire(new, ["values"])
        view = view_in_transaction(session, owner, the_period, new)
        append_events(session, events)  # last, as in record_entries
        return view
