"""The audit trail: reading the history, and verifying it against the values held."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session, aliased

from skp_desktop.domain.errors import NotFoundError, ValidationError
from skp_desktop.domain.periods import parse_period
from skp_desktop.domain.vocabulary import AuditAction, ReturnState
from skp_desktop.excel.file_signature import BROKEN, check_signature
from skp_desktop.excel.return_data import META_SHEET
from skp_desktop.excel.return_reader import meta_cells
from skp_desktop.excel.safe_reader import read_workbook
from skp_desktop.services import trust
from skp_desktop.services.database import Database
from skp_desktop.services.dto import AuditEntry, HistoryFilter, VerifyReport
from skp_desktop.services.entries import value_json
from skp_desktop.services.history import history_page
from skp_desktop.services.partnership import (
    SERVICE_ACTIONS,
    PartnershipReplay,
    replay_problems,
)
from skp_desktop.store.audit import (
    EVENT_HASH,
    EVENT_ID,
    GENESIS_HASH,
    HASHED_FIELDS,
    event_columns,
    hash_values,
    iter_event_tuples,
    verify_chain,
)
from skp_desktop.store.models import (
    AuditEvent,
    ComparatorValue,
    DueDate,
    ImportedFile,
    Indicator,
    Return,
    ReturnSignature,
    Service,
    Value,
)

RETURN_STATES = frozenset(ReturnState)


@dataclass(frozen=True)
class UnbackedReturn:
    """A return revision that its audit history does not back: never published as it is."""

    service: str
    period: str
    revision: int
    state: str
    reasons: tuple[str, ...]

    @property
    def line(self) -> str:
        """One line for people: which return, and why it was left out."""
        return (
            f"{self.service} {self.period} revision {self.revision} ({self.state}) left out: "
            + "; ".join(self.reasons)
        )


_AT = {name: index for index, name in enumerate(HASHED_FIELDS)}


def history(
    db: Database,
    *,
    service: str | None = None,
    period: str | None = None,
    indicator: str | None = None,
    limit: int | None = None,
) -> list[AuditEntry]:
    """Audit events, newest first, optionally for one service, period or indicator."""
    if limit is not None and limit < 1:
        raise NotFoundError("--limit must be 1 or more.")
    flt = HistoryFilter(service=service, period=period, indicator=indicator)
    entries: list[AuditEntry] = []
    while limit is None or len(entries) < limit:
        before = entries[-1].id if entries else None
        want = 5000 if limit is None else min(5000, limit - len(entries))
        page = history_page(db, flt, before_id=before, limit=want)
        entries += page
        if len(page) < want:
            break
    return entries


@dataclass
class _Replay:
    """What the events say the database should hold."""

    returns: dict[str, tuple[str | None, str | None, int | None, str]]
    values: dict[tuple[str, str], str | None]
    events: int = 0
    due: dict[str, str | None] = field(default_factory=dict)  # period: ISO date or None
    # (indicator, series, period): (value, source), or None once cleared
    comparators: dict[tuple[str, str, str], tuple[str, str | None] | None] = field(
        default_factory=dict
    )
    partnership: PartnershipReplay = field(default_factory=PartnershipReplay)
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)  # fingerprint: key state

    def feed(self, events: Iterator[Any]) -> Iterator[Any]:
        """Pass the events on, noting what each says (rows by position: see store.audit)."""
        uuid_at, action_at, new_at = _AT["return_uuid"], _AT["action"], _AT["new"]
        service_at, period_at, revision_at = _AT["service"], _AT["period"], _AT["revision"]
        indicator_at = _AT["indicator"]
        for event in events:
            self.events += 1
            uuid, action = event[uuid_at], event[action_at]
            if uuid and action == AuditAction.VALUE_SET and event[indicator_at]:
                self.values[(uuid, event[indicator_at])] = event[new_at]
            elif uuid and action.startswith("return.") and event[new_at] in RETURN_STATES:
                self.returns[uuid] = (
                    event[service_at],
                    event[period_at],
                    event[revision_at],
                    event[new_at],
                )
            elif action == AuditAction.PERIOD_DUE and event[period_at]:
                self.due[event[period_at]] = event[new_at]
            elif action == AuditAction.COMPARATOR_SET and event[indicator_at] and event[period_at]:
                self._comparator(event[indicator_at], event[period_at], event[new_at])
            elif action in SERVICE_ACTIONS or action == AuditAction.CONTEXT_SET:
                self.partnership.note(
                    action,
                    event[service_at],
                    event[indicator_at],
                    event[period_at],
                    event[new_at],
                )
            elif action in trust.TRUST_ACTIONS:
                self._key(event[_AT["old"]])  # a rotation records the old key retired
                self._key(event[new_at])
            yield event

    def _key(self, state_text: str | None) -> None:
        try:
            state = json.loads(state_text or "")
            fingerprint = str(state["fingerprint"])
        except (ValueError, TypeError, KeyError):
            return
        state.pop("replaces", None)
        self.keys[fingerprint] = state

    def _comparator(self, indicator: str, period: str, new_text: str | None) -> None:
        try:
            new = json.loads(new_text or "")
            key = (indicator, str(new["series"]), period)
        except (ValueError, TypeError, KeyError):
            return  # an unreadable event: verify_chain names it if it was altered
        value = new.get("value")
        self.comparators[key] = None if value is None else (str(value), new.get("source"))


def _file_damage(db: Database) -> str | None:
    """SQLite's own check of the file's pages: a damaged file is named before anything else."""
    if not db.is_sqlite:
        return None
    try:
        with db.reading_connection() as connection:
            rows = [r[0] for r in connection.execute(text("PRAGMA quick_check")).all()]
    except DatabaseError as exc:
        rows = [str(exc.orig)]
    if rows == ["ok"]:
        return None
    return (
        f"the database file is damaged ({'; '.join(rows[:3])}): restore a backup "
        "(File > Restore a backup, or the backups folder beside the database)"
    )


def verify(db: Database) -> VerifyReport:
    """Recompute the chain and replay it against the returns and values held."""
    damage = _file_damage(db)
    if damage:
        return VerifyReport(events_checked=0, values_checked=0, problems=(damage,))
    with db.reading() as session:
        replay = _Replay(returns={}, values={})
        problems = [
            p.message for p in verify_chain(session, replay.feed(iter_event_tuples(session)))
        ]

        findings, values_checked = _findings(session, replay)
        problems += [message for _uuid, message in findings]
        problems += _coordinator_settings(session, replay)
        problems += replay_problems(session, replay.partnership)
        problems += _trust_problems(session, replay)
        problems += _kept_file_problems(session)
        return VerifyReport(
            events_checked=replay.events,
            values_checked=values_checked,
            problems=tuple(problems),
        )


def _findings(session: Session, replay: _Replay) -> tuple[list[tuple[str | None, str]], int]:
    """Each return and value held against what the replayed history says, as (return uuid,
    message) in verify's order; and how many values were checked."""
    findings: list[tuple[str | None, str]] = []
    rows = session.execute(
        select(Return.uuid, Service.code, Return.period, Return.revision, Return.state).join(
            Service, Service.id == Return.service_id
        )
    )
    held_returns = set()
    for uuid, service, period, revision, state in rows:
        held_returns.add(uuid)
        name = f"{service} {period} revision {revision}"
        expected = replay.returns.get(uuid)
        if expected is None:
            findings.append((uuid, f"return {name} has no history: it was added outside the app"))
        elif expected != (service, period, revision, state):
            findings.append(
                (
                    uuid,
                    f"return {name} is '{state}' but its history says "
                    f"{expected[0]} {expected[1]} revision {expected[2]} '{expected[3]}'",
                )
            )
    for uuid, (service_code, period_code, revision_number, _state) in replay.returns.items():
        if uuid not in held_returns:
            findings.append(
                (
                    None,
                    f"return {service_code} {period_code} revision {revision_number} is in "
                    "the history but missing from the database: it was deleted outside the app",
                )
            )

    values_checked = 0
    seen = set()
    for row, uuid, service, period, revision, code in session.execute(
        select(Value, Return.uuid, Service.code, Return.period, Return.revision, Indicator.code)
        .join(Return, Return.id == Value.return_id)
        .join(Service, Service.id == Return.service_id)
        .join(Indicator, Indicator.id == Value.indicator_id)
    ):
        values_checked += 1
        key = (uuid, code)
        seen.add(key)
        where = f"value of {code} in {service} {period} revision {revision}"
        if key not in replay.values:
            findings.append((uuid, f"{where} has no history: it was added outside the app"))
        elif replay.values[key] != value_json(row):
            findings.append(
                (
                    uuid,
                    f"{where} differs from its history: it was changed outside the app "
                    f"(held {value_json(row)}, recorded {replay.values[key]})",
                )
            )
    for key, recorded in replay.values.items():
        if key not in seen and recorded is not None and key[0] in held_returns:
            findings.append(
                (
                    key[0],
                    f"value of {key[1]} in return {key[0]} is in the history but missing from "
                    "the database: it was deleted outside the app",
                )
            )
    return findings, values_checked


def unbacked_returns(session: Session) -> dict[int, UnbackedReturn]:
    """In the caller's session: every return revision whose state or values its audit history
    does not back (changed, added or with its events altered outside the app), by return id.

    For whatever publishes figures (merge, board pack, assessments): leave these out and say
    why. It replays the whole chain, as verify does; works on SQLite and PostgreSQL alike.
    """
    replay = _Replay(returns={}, values={})
    broken = verify_chain(session, replay.feed(iter_event_tuples(session)))
    reasons: dict[str, list[str]] = {}
    altered = {p.event_id: p.message for p in broken if p.event_id is not None}
    if altered:
        for event_id, uuid in session.execute(
            select(AuditEvent.id, AuditEvent.return_uuid).where(AuditEvent.id.in_(list(altered)))
        ):
            if uuid:
                reasons.setdefault(uuid, []).append(f"its history: {altered[event_id]}")
    findings, _count = _findings(session, replay)
    for uuid, message in findings:
        if uuid is not None:
            reasons.setdefault(uuid, []).append(message)
    if not reasons:
        return {}
    unbacked = {}
    for return_id, uuid, service, period, revision, state in session.execute(
        select(
            Return.id, Return.uuid, Service.code, Return.period, Return.revision, Return.state
        ).join(Service, Service.id == Return.service_id)
    ):
        if uuid in reasons:
            unbacked[return_id] = UnbackedReturn(
                service, period, revision, state, tuple(dict.fromkeys(reasons[uuid]))
            )
    return unbacked


_STATE_EVENT = (
    select(AuditEvent.id)
    .where(
        AuditEvent.return_uuid == Return.uuid,
        AuditEvent.indicator.is_(None),
        AuditEvent.action.like("return.%"),
        AuditEvent.new.in_(sorted(RETURN_STATES)),
    )
    .order_by(AuditEvent.id.desc())
    .limit(1)
    .correlate(Return)
    .scalar_subquery()
)
_VALUE_EVENT = (
    select(AuditEvent.id)
    .where(
        AuditEvent.return_uuid == Return.uuid,
        AuditEvent.indicator == Indicator.code,
        AuditEvent.action == AuditAction.VALUE_SET,
    )
    .order_by(AuditEvent.id.desc())
    .limit(1)
    .correlate(Return, Indicator)
    .scalar_subquery()
)


def _deciding_events(session: Session, ids: list[int]) -> dict[int, tuple[Any, ...]]:
    """The events `ids` (hashed fields, id, hash) with whether the event they follow is there
    and whether the event after them (if any) still follows them: a deciding event rewritten
    with a hash made anew breaks the link of the event after it."""
    previous, following = aliased(AuditEvent), aliased(AuditEvent)
    newest = session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    found: dict[int, tuple[Any, ...]] = {}
    for start in range(0, len(ids), 500):
        for row in session.execute(
            select(
                *event_columns(stored_times=True),
                previous.id.is_not(None) | (AuditEvent.prev_hash == GENESIS_HASH),
                following.id.is_not(None) | (AuditEvent.id == newest),
            )
            .outerjoin(previous, previous.hash == AuditEvent.prev_hash)
            .outerjoin(following, following.prev_hash == AuditEvent.hash)
            .where(AuditEvent.id.in_(ids[start : start + 500]))
        ):
            found[row[EVENT_ID]] = tuple(row)
    return found


def _event_problem(event: tuple[Any, ...] | None) -> str | None:
    if event is None:
        return None
    if hash_values(event[:EVENT_ID]) != event[EVENT_HASH]:
        return (
            f"its history: event {event[EVENT_ID]} ({event[_AT['action']]}) was altered after "
            "it was recorded"
        )
    if not event[EVENT_HASH + 1]:
        return (
            f"its history: event {event[EVENT_ID]} does not follow the event before it: an "
            "event was removed or inserted here"
        )
    if not event[EVENT_HASH + 2]:
        return (
            f"its history: the event after event {event[EVENT_ID]} does not follow it: an "
            "event was altered, removed or inserted here"
        )
    return None


def unbacked_published(session: Session, since: date | None = None) -> dict[int, UnbackedReturn]:
    """In the caller's session: the return revisions (of periods starting on or after `since`,
    or all) whose state or values are not what their newest audit events say, or whose deciding
    events were altered or lost the event before them; by return id.

    What merge and the board pack use to leave out what the history does not back. Unlike
    unbacked_returns it does not replay the whole chain: it reads, through an index, only the
    newest event of each return's state and of each value (and, for a value removed outside
    the app, which indicators those returns' value events name), so its cost follows the
    returns published, not the years of history (verify still checks every event).
    """
    held: dict[int, tuple[str, str, str, int, str]] = {}
    state_event: dict[int, int | None] = {}
    returns = select(
        Return.id,
        Return.uuid,
        Service.code,
        Return.period,
        Return.revision,
        Return.state,
        _STATE_EVENT,
    ).join(Service, Service.id == Return.service_id)
    if since is not None:
        # Period codes begin with their financial year ("FY2024-25-Q3"), so those from the
        # year holding `since` on sort after its code: the older years' returns are not read
        # (nor their state events looked up); the exact cut is made below.
        first_year = since.year if since.month >= 4 else since.year - 1
        returns = returns.where(Return.period >= f"FY{first_year}")
    for return_id, uuid, service, period, revision, state, event_id in session.execute(returns):
        if since is not None and parse_period(period).start < since:
            continue
        held[return_id] = (uuid, service, period, revision, state)
        state_event[return_id] = event_id
    value_event: list[tuple[int, str, str | None, int | None]] = []
    for start in range(0, len(held), 500):
        chunk = list(held)[start : start + 500]
        for row, code, event_id in session.execute(
            select(Value, Indicator.code, _VALUE_EVENT)
            .join(Return, Return.id == Value.return_id)
            .join(Indicator, Indicator.id == Value.indicator_id)
            .where(Value.return_id.in_(chunk))
        ):
            value_event.append((row.return_id, code, value_json(row), event_id))
    wanted = [i for i in state_event.values() if i is not None]
    wanted += [i for *_rest, i in value_event if i is not None]
    events = _deciding_events(session, sorted(set(wanted)))
    reasons: dict[int, list[str]] = {}
    for return_id, code in _values_removed(session, held, value_event):
        _uuid, service, period, revision, _state = held[return_id]
        reasons.setdefault(return_id, []).append(
            f"value of {code} in {service} {period} revision {revision} is in the history but "
            "missing from the database: it was deleted outside the app"
        )
    for return_id, event_id in state_event.items():
        _uuid, service, period, revision, state = held[return_id]
        name = f"{service} {period} revision {revision}"
        event = events.get(event_id) if event_id is not None else None
        if event is None:
            reasons.setdefault(return_id, []).append(
                f"return {name} has no history: it was added outside the app"
            )
            continue
        said = (event[_AT["service"]], event[_AT["period"]], event[_AT["revision"]])
        if said != (service, period, revision) or event[_AT["new"]] != state:
            reasons.setdefault(return_id, []).append(
                f"return {name} is '{state}' but its history says {said[0]} {said[1]} revision "
                f"{said[2]} '{event[_AT['new']]}'"
            )
        problem = _event_problem(event)
        if problem:
            reasons.setdefault(return_id, []).append(problem)
    for return_id, code, entry, event_id in value_event:
        _uuid, service, period, revision, _state = held[return_id]
        where = f"value of {code} in {service} {period} revision {revision}"
        event = events.get(event_id) if event_id is not None else None
        if event is None:
            reasons.setdefault(return_id, []).append(
                f"{where} has no history: it was added outside the app"
            )
        elif event[_AT["new"]] != entry:
            reasons.setdefault(return_id, []).append(
                f"{where} differs from its history: it was changed outside the app "
                f"(held {entry}, recorded {event[_AT['new']]})"
            )
        else:
            problem = _event_problem(event)
            if problem:
                reasons.setdefault(return_id, []).append(problem)
    return {
        return_id: UnbackedReturn(
            held[return_id][1],
            held[return_id][2],
            held[return_id][3],
            held[return_id][4],
            tuple(dict.fromkeys(found)),
        )
        for return_id, found in reasons.items()
    }


def _values_removed(
    session: Session,
    held: dict[int, tuple[str, str, str, int, str]],
    value_event: list[tuple[int, str, str | None, int | None]],
) -> list[tuple[int, str]]:
    """The (return id, indicator) of `held` returns whose newest value.set event records a
    value that is not held: removed outside the app (the app never removes a value)."""
    present = {(return_id, code) for return_id, code, *_rest in value_event}
    by_uuid = {fields[0]: return_id for return_id, fields in held.items()}
    uuids = list(by_uuid)
    # First the indicators each return's events name at all, from the index alone (return
    # uuid, indicator, id): no event row is read. Only those with no value held are looked at
    # again for their newest value.set event. Asking for that of every pair at once read every
    # value event of every return (a second at ten years, in each board pack).
    missing: list[tuple[str, str]] = []
    for start in range(0, len(uuids), 500):
        for uuid, code in session.execute(
            select(AuditEvent.return_uuid, AuditEvent.indicator)
            .where(
                AuditEvent.return_uuid.in_(uuids[start : start + 500]),
                AuditEvent.indicator.is_not(None),
            )
            .distinct()
        ):
            if uuid is not None and code is not None and (by_uuid[uuid], code) not in present:
                missing.append((uuid, code))
    newest: dict[int, tuple[int, str]] = {}
    for uuid, code in missing:
        event_id = session.scalar(
            select(func.max(AuditEvent.id)).where(
                AuditEvent.return_uuid == uuid,
                AuditEvent.indicator == code,
                AuditEvent.action == AuditAction.VALUE_SET,
            )
        )
        if event_id is not None:
            newest[event_id] = (by_uuid[uuid], code)
    if not newest:
        return []
    recorded = select(AuditEvent.id).where(
        AuditEvent.id.in_(list(newest)), AuditEvent.new.is_not(None)
    )
    return sorted(newest[event_id] for event_id in session.scalars(recorded))


def returns_not_backed(db: Database) -> tuple[UnbackedReturn, ...]:
    """unbacked_returns in a reading transaction of its own, in service and period order."""
    with db.reading() as session:
        found = unbacked_returns(session).values()
    return tuple(sorted(found, key=lambda r: (r.service, r.period, r.revision)))


def _trust_problems(session: Session, replay: _Replay) -> list[str]:
    """The keys held, and what each may sign, against what the trust events say."""
    problems = []
    held = trust.held_trust(session)
    for fp in sorted(set(held) | set(replay.keys)):
        now, recorded = held.get(fp), replay.keys.get(fp)
        if now == recorded:
            continue
        if recorded is None:
            problems.append(f"the key {fp} has no history: it was added outside the app")
        elif now is None:
            problems.append(f"the key {fp} is in the history but missing: deleted outside the app")
        else:
            changed = sorted(k for k in set(now) | set(recorded) if now.get(k) != recorded.get(k))
            problems.append(
                f"the key {fp} differs from its history ({', '.join(changed)}: held "
                f"{', '.join(str(now.get(k)) for k in changed)}, recorded "
                f"{', '.join(str(recorded.get(k)) for k in changed)}): it was changed outside "
                "the app"
            )
    return problems


def _kept_file_problems(session: Session) -> list[str]:
    """Each kept file's signature checked again, against the key recorded for it."""
    keys = trust.public_keys(session)
    signatures = session.execute(
        select(ReturnSignature.return_id, ReturnSignature.signed_by, ReturnSignature.status)
    ).all()
    recorded = {return_id: signed_by for return_id, signed_by, _ in signatures}
    statuses = {return_id: status for return_id, _, status in signatures}
    problems = []
    rows = session.execute(
        select(ImportedFile.id, ImportedFile.file_name, ImportedFile.return_id).order_by(
            ImportedFile.id
        )
    ).all()
    # a revision's signature is its first file's; a later feedback file on it has its own
    first_files: dict[int | None, int] = {}
    for file_id, _name, return_id in rows:
        first_files.setdefault(return_id, file_id)
    for file_id, name, return_id in rows:
        content = session.scalar(select(ImportedFile.content).where(ImportedFile.id == file_id))
        where = f"the kept file {name} (#{file_id})"
        try:
            workbook = read_workbook(content or b"", file_name=name, wanted=(META_SHEET,))
            values = (
                meta_cells(workbook.sheets[META_SHEET]) if META_SHEET in workbook.sheets else {}
            )
        except ValidationError:
            values = {}
        signature = check_signature(values)
        first = return_id is not None and first_files.get(return_id) == file_id
        expected = recorded.get(return_id) if first and return_id is not None else None
        if signature.status == BROKEN:
            problems.append(f"{where} does not match its signature: it was changed after import")
        elif signature.valid:
            assert signature.signed_by is not None
            if keys.get(signature.signed_by) != signature.public_key:
                problems.append(
                    f"{where} is signed by {signature.signed_by}, a key this database does not hold"
                )
            elif expected is not None and expected != signature.signed_by:
                problems.append(
                    f"{where} is signed by {signature.signed_by}, but its revision was recorded "
                    f"as signed by {expected}: one of them was changed outside the app"
                )
        elif (
            first
            and return_id is not None
            and statuses.get(return_id) in (trust.SIGNED, trust.TEMPLATE)
        ):
            problems.append(
                f"{where} carries no signature, but its revision was recorded as signed: it was "
                "changed outside the app"
            )
    return problems


def _coordinator_settings(session: Session, replay: _Replay) -> list[str]:
    """Due dates and comparator figures held against what their history says."""
    problems = []
    held_due = {
        period: due_on.isoformat()
        for period, due_on in session.execute(select(DueDate.period, DueDate.due_on))
    }
    for period in sorted(set(held_due) | {p for p, d in replay.due.items() if d}):
        held, recorded = held_due.get(period), replay.due.get(period)
        if held != recorded:
            problems.append(
                f"the due date of {period} is {held or 'not set'} but its history says "
                f"{recorded or 'not set'}: it was changed outside the app"
            )
    held_comparators = {
        (code, series, period): (value, source)
        for code, series, period, value, source in session.execute(
            select(
                Indicator.code,
                ComparatorValue.series,
                ComparatorValue.period,
                ComparatorValue.value,
                ComparatorValue.source,
            ).join(Indicator, Indicator.id == ComparatorValue.indicator_id)
        )
    }
    recorded_comparators = {k: v for k, v in replay.comparators.items() if v is not None}
    for key in sorted(set(held_comparators) | set(recorded_comparators)):
        held_figure, recorded_figure = held_comparators.get(key), recorded_comparators.get(key)
        if held_figure != recorded_figure:
            code, series, period = key
            problems.append(
                f"the {series} comparator of {code} for {period} is "
                f"{held_figure[0] if held_figure else 'not held'} but its history says "
                f"{recorded_figure[0] if recorded_figure else 'not set'}: it was changed "
                "outside the app"
            )
    return problems
