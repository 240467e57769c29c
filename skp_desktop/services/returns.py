"""Returns: entering values, submitting and reopening, and reading a return with its checks."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from skp_desktop.domain.definitions import is_due
from skp_desktop.domain.errors import NotFoundError, StateError, ValidationError
from skp_desktop.domain.periods import Period, PeriodKind, parse_period
from skp_desktop.domain.rag import direction_of_travel, rag_status
from skp_desktop.domain.validation import (
    EntryValues,
    History,
    Severity,
    resolved_value,
    validate_entry,
)
from skp_desktop.domain.values import (
    Symbol,
    canonical_text,
    from_canonical,
    parse_entry,
    parse_number,
    parse_symbol,
)
from skp_desktop.services.catalogue import (
    definitions_version_for,
    get_service,
    indicator_infos,
    service_info,
)
from skp_desktop.services.database import Database
from skp_desktop.services.dto import IndicatorInfo, ReturnRow, ReturnView
from skp_desktop.services.forms import form_for
from skp_desktop.store.audit import append_event
from skp_desktop.store.models import Indicator, Return, Service, Value

DRAFT, SUBMITTED, ACCEPTED, RETURNED = "draft", "submitted", "accepted", "returned"
VALUE_FIELDS = ("numerator", "denominator", "value", "symbol", "commentary", "explanation")
TEXT_FIELDS = ("commentary", "explanation")
SOURCE_TYPED = "typed in the app"
SOURCE_COMMAND_LINE = "command line"


@dataclass(frozen=True)
class EntryChange:
    """New text for some fields of one indicator's entry; None clears a field."""

    code: str
    fields: Mapping[str, str | None]


@dataclass(frozen=True)
class RefusedEntry:
    """One reason an entry was refused, located by indicator and field."""

    code: str
    field: str
    message: str


class EntryRefused(ValidationError):
    """Some entries were refused; nothing was written."""

    def __init__(self, refusals: Sequence[RefusedEntry]) -> None:
        self.refusals = tuple(refusals)
        lines = [f"{r.code} {r.field}: {r.message}" for r in self.refusals]
        super().__init__("Nothing was saved:\n" + "\n".join(lines))


class SubmissionRefused(EntryRefused):
    """The return cannot be submitted yet; it stays a draft."""

    def __init__(self, refusals: Sequence[RefusedEntry]) -> None:
        super().__init__(refusals)
        lines = [f"{r.code} {r.field}: {r.message}" for r in self.refusals]
        self.message = "The return was not submitted:\n" + "\n".join(lines)


@dataclass
class _State:
    """An entry's stored fields as canonical text (the shape audit events record)."""

    numerator: str | None = None
    denominator: str | None = None
    value: str | None = None
    symbol: str | None = None
    commentary: str | None = None
    explanation: str | None = None
    touched: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, row: Value | None) -> _State:
        if row is None:
            return cls()
        return cls(**{name: getattr(row, name) for name in VALUE_FIELDS})

    def as_json(self) -> str:
        return json.dumps(
            {name: getattr(self, name) for name in VALUE_FIELDS},
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
        )

    def entry(self) -> EntryValues:
        return EntryValues(
            numerator=from_canonical(self.numerator),
            denominator=from_canonical(self.denominator),
            value=from_canonical(self.value),
            symbol=Symbol(self.symbol) if self.symbol else None,
        )


def describe_value_json(text: str | None) -> str:
    """An audit event's recorded entry as people read it: "45/50 = 90", "[x]", "(none)"."""
    if not text:
        return "(none)"
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if not isinstance(data, dict):
        return text
    if data.get("symbol"):
        shown = str(data["symbol"])
    elif data.get("numerator") is not None or data.get("denominator") is not None:
        shown = f"{data.get('numerator') or '?'}/{data.get('denominator') or '?'}"
        if data.get("value") is not None:
            shown += f" = {data['value']}"
    elif data.get("value") is not None:
        shown = str(data["value"])
    else:
        shown = "(blank)"
    for name in TEXT_FIELDS:
        if data.get(name):
            shown += f'; {name}: "{data[name]}"'
    return shown


def value_json(row: Value | None) -> str | None:
    """The JSON an audit event records for a stored entry (None when there is none)."""
    return None if row is None else _State.of(row).as_json()


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


def latest_return(session: Session, service: Service, period: Period) -> Return | None:
    """The newest revision of a service's return for a period."""
    return session.scalar(
        select(Return)
        .where(Return.service_id == service.id, Return.period == period.code)
        .order_by(Return.revision.desc())
        .limit(1)
    )


def due_indicators(session: Session, service: Service, period: Period) -> list[IndicatorInfo]:
    """The service's indicators that its return for this period asks for, in form order."""
    infos = [
        info
        for info in indicator_infos(session, service=service, period=period)
        if is_due(info.rules.frequency, period)
    ]
    layout = form_for(service.code)
    if layout is not None:
        unplaced = len(layout.items)
        infos.sort(key=lambda i: p if (p := layout.position(i.code)) is not None else unplaced)
    return infos


def _earlier_values(
    session: Session, service: Service, before: Period
) -> dict[str, dict[str, Decimal]]:
    """For each indicator code, its value in each earlier period (latest revision of each)."""
    rows = session.execute(
        select(Return.period, Return.revision, Indicator.code, Value.value)
        .join(Value, Value.return_id == Return.id)
        .join(Indicator, Indicator.id == Value.indicator_id)
        .where(Return.service_id == service.id)
        .order_by(Return.revision)
    )
    result: dict[str, dict[str, Decimal]] = {}
    revision_seen: dict[tuple[str, str], int] = {}
    for period_code, revision, code, text in rows:
        period = parse_period(period_code)
        if period.kind is not before.kind or period.start >= before.start:
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


def _history(info: IndicatorInfo, period: Period, earlier: Mapping[str, Decimal]) -> History:
    year_earlier = earlier.get(period.year_earlier().code)
    if info.rules.frequency.value == "annual":
        previous = year_earlier
    else:
        previous = earlier.get(period.previous().code)
    values = list(earlier.values())
    return History(
        previous=previous,
        year_earlier=year_earlier,
        seen_min=min(values) if values else None,
        seen_max=max(values) if values else None,
    )


def _build_view(
    session: Session, service: Service, period: Period, ret: Return | None
) -> ReturnView:
    infos = due_indicators(session, service, period)
    stored: dict[str, Value] = {}
    if ret is not None:
        for row in ret.values:
            stored[row.indicator.code] = row
    earlier = _earlier_values(session, service, period)
    layout = form_for(service.code)
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
    )


# --- use cases ---------------------------------------------------------------------------


def get_return(db: Database, service: str, period: str) -> ReturnView:
    """A service's return for a period: its newest revision, or an empty one not yet started."""
    with db.transaction() as session:
        owner = get_service(session, service)
        the_period = return_period(period)
        return _build_view(session, owner, the_period, latest_return(session, owner, the_period))


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


def _apply_text(
    state: _State, info: IndicatorInfo, name: str, text: str | None
) -> RefusedEntry | None:
    """Put one field's new text into the entry; a refusal says why it cannot be taken."""
    rules = info.rules
    text = None if text is None or not str(text).strip() else str(text)
    state.touched.add(name)
    if name in TEXT_FIELDS:
        setattr(state, name, text.strip() if text else None)
        return None
    if name == "symbol":
        if text is None:  # clearing the symbol leaves any numbers as they are
            state.symbol = None
            return None
        symbol = parse_symbol(text)
        if symbol is None:
            return RefusedEntry(info.code, name, f"'{text}' is not a symbol: use [x] or [z]")
        name, parsed = "value", symbol
    else:
        try:
            parsed = parse_entry(text, field=name) if name == "value" else _number(text, name)
        except ValidationError as exc:
            return RefusedEntry(info.code, name, exc.message)
    if isinstance(parsed, Symbol):
        if parsed is Symbol.SUPPRESSED:
            return RefusedEntry(
                info.code, name, "[c] is applied when figures are published; use [x] or [z]"
            )
        state.numerator = state.denominator = state.value = None
        state.symbol = parsed.value
        return None
    if name == "value" and rules.has_fraction and parsed is not None:
        return RefusedEntry(
            info.code,
            name,
            f"this indicator is worked out from its numerator ({rules.numerator_label}) and "
            f"denominator ({rules.denominator_label}): enter those, for example 45/60",
        )
    setattr(state, name, None if parsed is None else canonical_text(parsed))
    if parsed is not None:
        state.symbol = None
    return None


def _number(text: str | None, name: str) -> Decimal | None:
    return None if text is None else parse_number(text, field=name)


def _finish(state: _State, info: IndicatorInfo) -> list[RefusedEntry]:
    """Work out a rate's value and refuse hard errors other than a missing part."""
    rules = info.rules
    if rules.has_fraction and not state.symbol:
        computed = resolved_value(rules, state.entry())
        state.value = None if computed is None else canonical_text(computed)
    problems = validate_entry(rules, state.entry())
    return [
        RefusedEntry(info.code, p.field, p.message)
        for p in problems
        if p.severity is Severity.ERROR and p.rule != "required"
    ]


def entry_fields(row: ReturnRow) -> dict[str, str | None]:
    """A row's whole entry as field texts, in the order that restores it exactly."""
    fields: dict[str, str | None] = {"symbol": row.symbol}
    if row.indicator.rules.has_fraction:
        fields["numerator"] = None if row.numerator is None else canonical_text(row.numerator)
        fields["denominator"] = None if row.denominator is None else canonical_text(row.denominator)
    else:
        fields["value"] = None if row.value is None else canonical_text(row.value)
    fields["commentary"] = row.commentary
    fields["explanation"] = row.explanation
    if row.symbol:  # numbers are blank under a symbol; set them first, then the symbol
        fields = {k: v for k, v in fields.items() if k != "symbol"} | {"symbol": row.symbol}
    return fields


def preview_change(row: ReturnRow, fields: Mapping[str, str | None]) -> list[RefusedEntry]:
    """Why a change to one row would be refused (empty when it would be saved), without saving.

    The same rules `record_entries` applies, for checking as people type.
    """
    state = _State(
        numerator=None if row.numerator is None else canonical_text(row.numerator),
        denominator=None if row.denominator is None else canonical_text(row.denominator),
        value=None if row.value is None else canonical_text(row.value),
        symbol=row.symbol,
        commentary=row.commentary,
        explanation=row.explanation,
    )
    refusals = []
    for name, text in fields.items():
        refusal = _apply_text(state, row.indicator, name, text)
        if refusal:
            refusals.append(refusal)
    return refusals or _finish(state, row.indicator)


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
    changes = list(changes)
    now = datetime.now(UTC)
    with db.transaction() as session:
        owner = get_service(session, service)
        the_period = return_period(period)
        infos = {info.code: info for info in due_indicators(session, owner, the_period)}
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
        return _build_view(session, owner, the_period, ret)


def parse_command_line_value(text: str) -> dict[str, str | None]:
    """`VALUE` of `enter CODE=VALUE`: a number, NUM/DEN, or a symbol, as entry fields."""
    text = text.strip()
    if parse_symbol(text) is not None:
        return {"symbol": text}
    if "/" in text:
        numerator, _, denominator = text.partition("/")
        return {"numerator": numerator, "denominator": denominator}
    return {"value": text}


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
    if explanations:
        record_entries(
            db,
            service=service,
            period=period,
            changes=[EntryChange(c, {"explanation": t}) for c, t in explanations.items()],
            actor=actor,
            reason="explanation given at submission",
            source=SOURCE_COMMAND_LINE,
        )
    now = datetime.now(UTC)
    with db.transaction() as session:
        owner = get_service(session, service)
        the_period = return_period(period)
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
