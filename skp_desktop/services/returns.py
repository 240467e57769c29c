"""Returns: entering values, submitting and reopening, and reading a return with its checks."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, bindparam, select
from sqlalchemy.orm import Session, joinedload

from skp_desktop.domain.definitions import is_due
from skp_desktop.domain.errors import NotFoundError, StateError, ValidationError
from skp_desktop.domain.periods import Period, PeriodKind, parse_period
from skp_desktop.domain.rag import direction_of_travel, rag_status
from skp_desktop.domain.validation import (
    EntryValues,
    History,
    Problem,
    validate_entry,
)
from skp_desktop.domain.values import (
    from_canonical,
)
from skp_desktop.services.catalogue import (
    DefinitionsSnapshot,
    definitions_version_for,
    get_service,
    indicator_infos,
    service_indicator_infos,
    service_info,
)
from skp_desktop.services.database import Database
from skp_desktop.services.dto import IndicatorInfo, ReturnRow, ReturnView
from skp_desktop.services.entries import (
    SOURCE_COMMAND_LINE as SOURCE_COMMAND_LINE,
)
from skp_desktop.services.entries import (  # re-exported: callers may keep using returns.X
    SOURCE_TYPED,
    VALUE_FIELDS,
    EntryChange,
    RefusedEntry,
    SubmissionRefused,
    _apply_text,
    _finish,
    _State,
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
from skp_desktop.services.forms import form_for
from skp_desktop.services.queries import queries_up_to
from skp_desktop.store.audit import append_event
from skp_desktop.store.models import DefinitionsVersion, Indicator, Return, Service, Value

DRAFT, SUBMITTED, ACCEPTED, RETURNED = "draft", "submitted", "accepted", "returned"
# --- lookups -----------------------------------------------------------------------------


def return_period(code: str) -> Period:
    """A period a return can be made for: a quarter, or a month for monthly indicators."""
    try:
        period = parse_period(code)
    except ValidationError as exc:
        raise NotFoundError(str(exc.message)) from exc
    if period.kind is PeriodKind.YEAR:
        raise NotFoundError(
            f"Returns are made per quarter: use {period.code}-Q4 for the year-end return "
            "(annual indicators are reported with it)."
        )
    return period


# Built once, as catalogue's statements: no cache key to work out on each call.
_LATEST_RETURN = (
    select(Return)
    .where(Return.service_id == bindparam("service_id"), Return.period == bindparam("period"))
    .order_by(Return.revision.desc())
    .limit(1)
    .options(joinedload(Return.definitions_version))  # a view reads the return with it
)
_STORED_VALUES = (
    select(Indicator.code, *(getattr(Value, name) for name in VALUE_FIELDS))
    .join(Value, Value.indicator_id == Indicator.id)
    .where(Value.return_id == bindparam("return_id"))
)


def latest_return(session: Session, service: Service, period: Period) -> Return | None:
    """The newest revision of a service's return for a period."""
    return session.scalar(_LATEST_RETURN, {"service_id": service.id, "period": period.code})


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
    return _due_in_form_order(every, service, period)


def _due_in_form_order(
    infos: Iterable[IndicatorInfo], service: Service, period: Period
) -> list[IndicatorInfo]:
    """The indicators due for the period, in the order the service's form lays them out."""
    due = [info for info in infos if is_due(info.rules.frequency, period)]
    layout = form_for(service.code)
    if layout is not None:
        unplaced = len(layout.items)
        due.sort(key=lambda i: p if (p := layout.position(i.code)) is not None else unplaced)
    return due


# Built once: an import asks it for every file.
_SERVICE_VALUES = (
    select(Return.period, Return.revision, Indicator.code, Value.value)
    .join(Value, Value.return_id == Return.id)
    .join(Indicator, Indicator.id == Value.indicator_id)
    .where(Return.service_id == bindparam("service_id"))
    .order_by(Return.revision)
)


def _earlier_values(
    session: Session, service: Service, before: Period
) -> dict[str, dict[str, Decimal]]:
    """For each indicator code, its value in each earlier period (latest revision of each)."""
    # Core rows: the ORM adds nothing to four columns but time (flushed first, as it would).
    session.flush()
    rows = session.connection().execute(_SERVICE_VALUES, {"service_id": service.id})
    result: dict[str, dict[str, Decimal]] = {}
    revision_seen: dict[tuple[str, str], int] = {}
    earlier: dict[str, bool] = {}  # by period code: a service's history repeats a few periods
    for period_code, revision, code, text in rows:
        if period_code not in earlier:
            period = parse_period(period_code)
            earlier[period_code] = period.kind is before.kind and period.start < before.start
        if not earlier[period_code]:
            continue
        key = (code, period_code)
        if revision < revision_seen.get(key, 0):
            continue
        revision_seen[key] = revision
        number = from_canonical(text)
        per_period = result.setdefault(code, {})
        if number is None:
            per_period.pop(period_code, None)
        else:
            per_period[period_code] = number
    return result


RANGE_NEEDS_VALUES = 4


def _history(info: IndicatorInfo, period: Period, earlier: Mapping[str, Decimal]) -> History:
    year_earlier = earlier.get(period.year_earlier().code)
    if info.rules.frequency.value == "annual":
        previous = year_earlier
    else:
        previous = earlier.get(period.previous().code)
    values = list(earlier.values())
    # A range says something once there is a year of values; with one or two, every new
    # figure is "outside the range" and the change against the previous period already warns.
    known = len(values) >= RANGE_NEEDS_VALUES
    return History(
        previous=previous,
        year_earlier=year_earlier,
        seen_min=min(values) if known else None,
        seen_max=max(values) if known else None,
    )


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
    earlier = _earlier_values(session, service, period)
    return {
        info.code: tuple(
            validate_entry(
                info.rules,
                entries.get(info.code, EntryValues()),
                _history(info, period, earlier.get(info.code, {})),
            )
        )
        for info in infos
    }


def _due_infos(
    session: Session, service: Service, period: Period, version: DefinitionsVersion | None
) -> list[IndicatorInfo]:
    """`due_indicators`, with the definitions read in a few queries rather than a few for each
    indicator."""
    version = version or definitions_version_for(session, period)
    return _due_in_form_order(
        service_indicator_infos(session, service, period, version), service, period
    )


def _stored_values(session: Session, ret: Return) -> dict[str, Row[Any]]:
    """The revision's values by indicator code, in one query (each as a row of VALUE_FIELDS)."""
    return {row.code: row for row in session.execute(_STORED_VALUES, {"return_id": ret.id})}


def _build_view(
    session: Session, service: Service, period: Period, ret: Return | None
) -> ReturnView:
    # A revision is read with the definitions it was made with, never a later version's.
    infos = _due_infos(session, service, period, ret.definitions_version if ret else None)
    stored = _stored_values(session, ret) if ret is not None else {}
    earlier = _earlier_values(session, service, period)
    layout = form_for(service.code)
    queries = queries_up_to(session, service, period.code, ret.revision if ret else None)
    rows = []
    for info in infos:
        state = _State.of(stored.get(info.code))
        entry = state.entry()
        history = _history(info, period, earlier.get(info.code, {}))
        value = from_canonical(state.value)
        item = layout.item(info.code) if layout else None
        rows.append(
            ReturnRow(
                indicator=info,
                section=item.section if item else info.theme_name,
                help=item.help if item else None,
                numerator=entry.numerator,
                denominator=entry.denominator,
                value=value,
                symbol=state.symbol,
                commentary=state.commentary,
                explanation=state.explanation,
                rag=rag_status(
                    value, info.rules.target, info.rules.polarity, info.rules.amber_tolerance
                ),
                previous_value=history.previous,
                year_earlier_value=history.year_earlier,
                direction_previous=direction_of_travel(
                    value, history.previous, info.rules.polarity
                ),
                direction_year=direction_of_travel(
                    value, history.year_earlier, info.rules.polarity
                ),
                problems=tuple(validate_entry(info.rules, entry, history)),
                query=queries.query(info.code) if queries else None,
            )
        )
    version = (
        ret.definitions_version.number
        if ret is not None
        else definitions_version_for(session, period).number
    )
    return ReturnView(
        service=service_info(service),
        period=period.code,
        period_label=period.label,
        revision=ret.revision if ret else None,
        state=ret.state if ret else "not started",
        return_uuid=ret.uuid if ret else None,
        definitions_version=version,
        updated_at=ret.updated_at if ret else None,
        rows=tuple(rows),
        queries=queries,
    )


# --- use cases ---------------------------------------------------------------------------


def get_return(db: Database, service: str, period: str) -> ReturnView:
    """A service's return for a period: its newest revision, or an empty one not yet started."""
    with db.reading() as session:
        owner = get_service(session, service)
        the_period = return_period(period)
        view = _build_view(session, owner, the_period, latest_return(session, owner, the_period))
    if not view.rows and the_period.kind is PeriodKind.MONTH:
        raise NotFoundError(_nothing_due(view.service.name, the_period))
    return view


def _nothing_due(service: str, period: Period) -> str:
    """Why a return asks for nothing: a month, for a service with no monthly indicators."""
    if period.kind is PeriodKind.MONTH:
        return (
            f"{service} has no monthly indicators, so there is no return for "
            f"{period.label}: use the quarter, {period.quarter().code}."
        )
    return f"The {service} return for {period.label} asks for no indicators."


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
        state=DRAFT,
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
    session: Session, service: Service, period: Period, *, actor: str, now: datetime
) -> Return:
    ret = latest_return(session, service, period)
    if ret is None:
        ret = _new_revision(session, service, period, 1, actor=actor, now=now)
        append_event(
            session,
            actor=actor,
            action="return.create",
            new=DRAFT,
            at=now,
            **_event_context(ret),  # type: ignore[arg-type]
        )
        return ret
    if ret.state != DRAFT:
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
    now = datetime.now(UTC)
    with db.transaction() as session:
        owner = get_service(session, service)
        the_period = return_period(period)
        ret = _record_in(
            session,
            owner,
            the_period,
            list(changes),
            actor=actor,
            reason=reason,
            source=source,
            now=now,
        )
        return _build_view(session, owner, the_period, ret)


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
) -> Return:
    """record_entries inside the caller's transaction (submit uses it for explanations)."""
    infos = {info.code: info for info in due_indicators(session, owner, the_period)}
    if not infos:
        raise NotFoundError(_nothing_due(owner.name, the_period))
    unknown = [c.code for c in changes if c.code.upper() not in infos]
    if unknown:
        raise NotFoundError(
            f"{', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not in the "
            f"{owner.name} return for {the_period.label}. Its indicators are: "
            f"{', '.join(infos)}."
        )
    ret = _draft_for_editing(session, owner, the_period, actor=actor, now=now)
    existing = {row.indicator.code: row for row in ret.values}
    states: dict[str, _State] = {}
    refusals: list[RefusedEntry] = []
    for change in changes:
        code = change.code.upper()
        state = states.setdefault(code, _State.of(existing.get(code)))
        for name, text in change.fields.items():
            if name not in VALUE_FIELDS:
                raise ValueError(f"unknown entry field {name!r}")
            refusal = _apply_text(state, infos[code], name, text)
            if refusal:
                refusals.append(refusal)
    for code, state in states.items():
        refusals.extend(_finish(state, infos[code]))
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
        append_event(
            session,
            actor=actor,
            action="value.set",
            indicator=code,
            old=old,
            new=state.as_json(),
            reason=reason,
            source=source,
            at=now,
            **_event_context(ret),  # type: ignore[arg-type]
        )
    ret.updated_at = now
    session.flush()
    session.expire(ret, ["values"])
    return ret


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
    with db.transaction() as session:
        owner = get_service(session, service)
        the_period = return_period(period)
        if explanations and latest_return(session, owner, the_period) is not None:
            _record_in(
                session,
                owner,
                the_period,
                [EntryChange(c, {"explanation": t}) for c, t in explanations.items()],
                actor=actor,
                reason="explanation given at submission",
                source=SOURCE_COMMAND_LINE,
                now=now,
            )
        ret = latest_return(session, owner, the_period)
        if ret is None:
            raise StateError(
                f"{owner.name} has no return for {the_period.label} yet: enter its values first."
            )
        if ret.state != DRAFT:
            raise StateError(
                f"Revision {ret.revision} of {owner.name}'s return for {the_period.label} is "
                f"already {ret.state}."
            )
        view = _build_view(session, owner, the_period, ret)
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
        ret.state = SUBMITTED
        ret.submitted_at, ret.submitted_by, ret.updated_at = now, actor, now
        append_event(
            session,
            actor=actor,
            action="return.submit",
            old=DRAFT,
            new=SUBMITTED,
            at=now,
            **_event_context(ret),  # type: ignore[arg-type]
        )
        session.flush()
        return _build_view(session, owner, the_period, ret)


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def reopen_return(
    db: Database, *, service: str, period: str, reason: str, actor: str
) -> ReturnView:
    """Start the next revision as a draft, carrying the values over; a reason is required."""
    if not reason or not reason.strip():
        raise ValidationError("Give a reason for reopening the return.", field="reason")
    now = datetime.now(UTC)
    with db.transaction() as session:
        owner = get_service(session, service)
        the_period = return_period(period)
        ret = latest_return(session, owner, the_period)
        if ret is None:
            raise StateError(f"{owner.name} has no return for {the_period.label} to reopen.")
        if ret.state == DRAFT:
            raise StateError(
                f"Revision {ret.revision} of {owner.name}'s return for {the_period.label} is "
                "still a draft: it can be changed as it is."
            )
        new = _new_revision(session, owner, the_period, ret.revision + 1, actor=actor, now=now)
        new.reopen_reason = reason.strip()
        append_event(
            session,
            actor=actor,
            action="return.reopen",
            old=f"revision {ret.revision} {ret.state}",
            new=DRAFT,
            reason=reason.strip(),
            at=now,
            **_event_context(new),  # type: ignore[arg-type]
        )
        for old_row in ret.values:
            copy = Value(
                return_=new,
                indicator=old_row.indicator,
                updated_at=now,
                updated_by=actor,
                **{name: getattr(old_row, name) for name in VALUE_FIELDS},
            )
            session.add(copy)
            append_event(
                session,
                actor=actor,
                action="value.set",
                indicator=old_row.indicator.code,
                old=None,
                new=value_json(copy),
                reason=reason.strip(),
                source=f"carried over from revision {ret.revision}",
                at=now,
                **_event_context(new),  # type: ignore[arg-type]
            )
        session.flush()
        session.expire(new, ["values"])
        return _build_view(session, owner, the_period, new)
