"""Synchronising returns between two databases: a laptop's SQLite file and the shared database.

`synchronise(source, target)` copies every return revision of the chosen services that the
target lacks, with its values and its audit events re-appended to the target's chain (same
actor, time, old and new values and reason; the source says "synchronised from <database>"),
plus one `return.sync` event naming who synchronised. Push is laptop → shared, pull is shared
→ laptop (before going offline); it is the same use case with the two databases swapped.

Each revision gets the statuses of importing return files (docs/contracts.md, "Importing"), and is
stored in its own transaction, all or nothing:

| status    | when                                                                          |
|-----------|-------------------------------------------------------------------------------|
| ACCEPTED  | a revision the target lacks and newer than any it holds; or the target holds |
|           | the same revision (same return id) with fewer changes: the rest are added     |
| DUPLICATE | the target holds the same revision with the same history or the same values |
| STALE     | the target holds a newer revision, or the same one with later changes         |
| CONFLICT  | the target holds that revision with different values or a different history   |
| REJECTED  | not usable: the source's history does not verify, or the target lacks its     |
|           | service, indicators or definitions version                                    |
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from skp_desktop.domain.errors import NotFoundError
from skp_desktop.domain.vocabulary import AuditAction, ImportStatus, ReturnState
from skp_desktop.services.database import Database
from skp_desktop.services.entries import VALUE_FIELDS, describe_value_json, value_json
from skp_desktop.services.exchange_outcomes import ImportOutcome, ValueChange
from skp_desktop.store.audit import (
    HASHED_FIELDS,
    append_event,
    forget_chain_head,
    iter_events,
    recorded_actor,
    verify_chain,
)
from skp_desktop.store.engine import PermissionRefused, lock_return
from skp_desktop.store.models import (
    ACTOR_LENGTH,
    AuditEvent,
    DefinitionsVersion,
    Indicator,
    Return,
    Service,
    Value,
)

# What makes two copies of an event the same change (the chain's links and the source differ).
# Not the actor: a shared database records every event in the name of the login that put it
# there (migration 0006), so a laptop's "Hana" is the server's "hana" or her coordinator's.
SAME_CHANGE = ("at", "action", "indicator", "old", "new", "reason", "file_sha256")
RETURN_FIELDS = (
    "state",
    "created_at",
    "created_by",
    "updated_at",
    "submitted_at",
    "submitted_by",
    "reopen_reason",
    "payload_sha256",
)
VALUE_ROW_FIELDS = (*VALUE_FIELDS, "updated_at", "updated_by")

__all__ = [
    "SyncOutcome",
    "SyncRefused",
    "synchronise",
]


class SyncRefused(Exception):
    """This revision cannot be copied (REJECTED); the message says why."""


@dataclass(frozen=True)
class SyncOutcome(ImportOutcome):
    """What happened to one revision (or would, in a dry run); `file` names the source."""

    # REJECTED because the target server's roles refused this login the change (exit 3).
    refused_by_server: bool = False

    @property
    def detail(self) -> str:
        """Why, for people: the reason, or what an accepted revision changes."""
        if self.reason:
            return self.reason
        count = len(self.changes)
        return f"new revision: {count} value{'' if count == 1 else 's'} changed"

    @property
    def line(self) -> str:
        """`STATUS<TAB>service period revision<TAB>detail`."""
        return f"{self.status}\t{self.service} {self.period} {self.revision}\t{self.detail}"

    def as_dict(self) -> dict[str, Any]:
        """The outcome as `sync --json` shows it."""
        return {
            "service": self.service,
            "period": self.period,
            "revision": self.revision,
            "status": self.status,
            "detail": self.detail,
            "changes": [{"code": c.code, "old": c.old, "new": c.new} for c in self.changes],
            "source": self.file,
            "refused_by_server": self.refused_by_server,
        }


@dataclass(frozen=True)
class _Revision:
    """One return revision as the source holds it, with its values and its history."""

    uuid: str
    service: str
    period: str
    revision: int
    definitions_version: int
    fields: Mapping[str, Any]
    values: Mapping[str, Mapping[str, Any]]  # indicator code -> VALUE_ROW_FIELDS
    events: tuple[Mapping[str, Any], ...]  # HASHED_FIELDS, in chain order

    @property
    def history(self) -> tuple[tuple[Any, ...], ...]:
        return _history(self.events)

    @property
    def digest(self) -> str:
        return _digest({code: _value_json(fields) for code, fields in self.values.items()})


def _history(events: Iterable[Mapping[str, Any]]) -> tuple[tuple[Any, ...], ...]:
    return tuple(
        tuple(_comparable(event[name]) for name in SAME_CHANGE)
        for event in events
        if event["action"] != AuditAction.RETURN_SYNC
    )


def _comparable(value: object) -> object:
    return value.astimezone(UTC) if isinstance(value, datetime) else value


def _value_json(fields: Mapping[str, Any]) -> str | None:
    return value_json(_Row(fields))


class _Row:
    """A value's fields as attributes, the shape value_json reads."""

    def __init__(self, fields: Mapping[str, Any]) -> None:
        self.__dict__.update({name: fields.get(name) for name in VALUE_FIELDS})


def _digest(values: Mapping[str, str | None]) -> str:
    held = {code: text for code, text in values.items() if text is not None}
    return hashlib.sha256(json.dumps(held, sort_keys=True).encode("utf-8")).hexdigest()


# --- reading the source ------------------------------------------------------------------------


def _read_source(db: Database, services: Sequence[str] | None) -> tuple[list[_Revision], str]:
    """Every revision of the chosen services, and what is wrong with the source's chain."""
    with db.reading() as session:
        if services:
            wanted = [code.strip().upper() for code in services]
            known = set(session.scalars(select(Service.code).where(Service.code.in_(wanted))))
            missing = [code for code in wanted if code not in known]
            if missing:
                raise NotFoundError(
                    f"There is no service {', '.join(missing)} in {db.display_name}."
                )
        events_by_return: dict[str, list[Mapping[str, Any]]] = {}
        chosen = set(wanted) if services else None
        problems = verify_chain(session, _collect(iter_events(session), events_by_return, chosen))
        query = (
            select(Return, Service.code, DefinitionsVersion.number)
            .join(Service, Service.id == Return.service_id)
            .join(DefinitionsVersion, DefinitionsVersion.id == Return.definitions_version_id)
            .order_by(Service.code, Return.period, Return.revision)
        )
        if services:
            query = query.where(Service.code.in_(wanted))
        values: dict[int, dict[str, Mapping[str, Any]]] = {}
        value_query = (
            select(Value, Indicator.code)
            .join(Indicator, Indicator.id == Value.indicator_id)
            .join(Return, Return.id == Value.return_id)
            .join(Service, Service.id == Return.service_id)
        )
        if services:
            value_query = value_query.where(Service.code.in_(wanted))
        for row, code in session.execute(value_query):
            values.setdefault(row.return_id, {})[code] = {
                name: getattr(row, name) for name in VALUE_ROW_FIELDS
            }
        revisions = [
            _Revision(
                uuid=ret.uuid,
                service=code,
                period=ret.period,
                revision=ret.revision,
                definitions_version=number,
                fields={name: getattr(ret, name) for name in RETURN_FIELDS},
                values=values.get(ret.id, {}),
                events=tuple(events_by_return.get(ret.uuid, ())),
            )
            for ret, code, number in session.execute(query)
        ]
    reason = ""
    if problems:
        reason = (
            f"the history in {db.display_name} does not verify ({problems[0].message}"
            + (f", and {len(problems) - 1} more" if len(problems) > 1 else "")
            + "): run verify on it"
        )
    return revisions, reason


def _collect(
    events: Iterable[Any],
    by_return: dict[str, list[Mapping[str, Any]]],
    services: set[str] | None,
) -> Iterator[Any]:
    """Pass the events on to be verified, keeping those of the chosen services' returns."""
    for event in events:
        if event.return_uuid and (services is None or event.service in services):
            by_return.setdefault(event.return_uuid, []).append(
                {name: getattr(event, name) for name in HASHED_FIELDS}
            )
        yield event


def _replay_problem(revision: _Revision) -> str | None:
    """Why the revision's values or state disagree with its own history, if they do."""
    recorded: dict[str, str | None] = {}
    state = None
    for event in revision.events:
        if event["action"] == AuditAction.VALUE_SET and event["indicator"]:
            recorded[event["indicator"]] = event["new"]
        elif event["action"].startswith("return.") and event["new"]:
            state = event["new"]
    held = {code: _value_json(fields) for code, fields in revision.values.items()}
    for code in sorted(set(held) | set(recorded)):
        if held.get(code) != recorded.get(code):
            return f"the value of {code} differs from its history: it was changed outside the app"
    if state is not None and state != revision.fields["state"]:
        return f"its state '{revision.fields['state']}' differs from its history ('{state}')"
    if not revision.events:
        return "it has no history: it was added outside the app"
    names = [event["actor"] for event in revision.events]
    names += [revision.fields["created_by"], revision.fields["submitted_by"]]
    names += [fields["updated_by"] for fields in revision.values.values()]
    long = next((name for name in names if name and len(name) > ACTOR_LENGTH), None)
    if long:
        return (
            f"it names someone with a name of {len(long)} characters ('{long[:40]}…'); a "
            f"database records at most {ACTOR_LENGTH}"
        )
    return None


# --- deciding and writing ----------------------------------------------------------------------


@dataclass(frozen=True)
class _HeldRevision:
    uuid: str
    revision: int
    digest: str
    values: Mapping[str, str | None]
    history: tuple[tuple[Any, ...], ...]


def _held(session: Session, service: Service, period: str) -> list[_HeldRevision]:
    returns = session.scalars(
        select(Return)
        .where(Return.service_id == service.id, Return.period == period)
        .order_by(Return.revision)
    ).all()
    held = []
    for ret in returns:
        values = {row.indicator.code: value_json(row) for row in ret.values}
        events = session.execute(
            select(*(getattr(AuditEvent, name) for name in SAME_CHANGE))
            .where(AuditEvent.return_uuid == ret.uuid)
            .order_by(AuditEvent.id)
        )
        history = _history(row._asdict() for row in events)
        held.append(_HeldRevision(ret.uuid, ret.revision, _digest(values), values, history))
    return held


@dataclass(frozen=True)
class _Decision:
    status: str
    reason: str | None = None
    already: int = 0  # events of the revision the target holds already (to bring it up to date)


def _decide(session: Session, revision: _Revision, held: Sequence[_HeldRevision]) -> _Decision:
    same = next((h for h in held if h.uuid == revision.uuid), None)
    if same is None and session.scalar(select(Return.id).where(Return.uuid == revision.uuid)):
        raise SyncRefused("its return id is held here by another service's or period's return")
    if same is not None:
        if same.revision != revision.revision:
            raise SyncRefused(
                f"its return id is held as revision {same.revision}, not {revision.revision}"
            )
        ours, theirs = revision.history, same.history
        if ours == theirs:
            return _Decision(
                ImportStatus.DUPLICATE, "the same revision with the same history is held"
            )
        if ours[: len(theirs)] == theirs:
            return _Decision(
                ImportStatus.ACCEPTED, f"{len(ours) - len(theirs)} later changes added", len(theirs)
            )
        if theirs[: len(ours)] == ours:
            return _Decision(
                ImportStatus.STALE, "the revision held has later changes than this copy"
            )
        if same.digest == revision.digest:  # e.g. imported from the return file it exported
            return _Decision(
                ImportStatus.DUPLICATE, "the same values are held, recorded another way"
            )
        return _Decision(
            ImportStatus.CONFLICT,
            f"revision {revision.revision} was changed in both databases: compare the two and "
            "decide which stands (reopen the return to record a correction)",
        )
    for item in held:
        # the same revision number only: a reopened revision may rightly repeat the one before
        if item.revision == revision.revision and item.digest == revision.digest:
            return _Decision(
                ImportStatus.DUPLICATE, f"the same values are held as revision {item.revision}"
            )
    highest = max((item.revision for item in held), default=0)
    if revision.revision > highest:
        return _Decision(ImportStatus.ACCEPTED)
    if revision.revision < highest:
        return _Decision(
            ImportStatus.STALE, f"revision {highest} is already held: this copy is older"
        )
    return _Decision(
        ImportStatus.CONFLICT,
        f"revision {revision.revision} is already held with different values: compare the two "
        "and decide which stands (reopen the return to record a correction)",
    )


def _changes(
    before: Mapping[str, str | None] | None, after: Mapping[str, str | None]
) -> tuple[ValueChange, ...]:
    before = before or {}
    return tuple(
        ValueChange(code, describe_value_json(before.get(code)), describe_value_json(after[code]))
        for code in sorted(after)
        if before.get(code) != after[code]
    )


def _write(
    session: Session,
    revision: _Revision,
    decision: _Decision,
    *,
    service: Service,
    version: DefinitionsVersion,
    indicators: Mapping[str, Indicator],
    origin: str,
    actor: str,
) -> None:
    ret = session.scalar(select(Return).where(Return.uuid == revision.uuid))
    # The state is set last, once the values are in: a shared database lets values go only
    # into a draft, and a new revision only start as one (migration 0006).
    fields = {name: value for name, value in revision.fields.items() if name != "state"}
    if ret is None:
        ret = Return(
            uuid=revision.uuid,
            service=service,
            period=revision.period,
            revision=revision.revision,
            definitions_version=version,
            state=ReturnState.DRAFT,
            **fields,
        )
        session.add(ret)
    else:
        for name, value in fields.items():
            setattr(ret, name, value)
    session.flush()
    rows = {row.indicator.code: row for row in ret.values}
    for code, value_fields in revision.values.items():
        row = rows.get(code)
        if row is None:
            row = Value(return_=ret, indicator=indicators[code], **value_fields)
            session.add(row)
        else:
            for name, value in value_fields.items():
                setattr(row, name, value)
    session.flush()
    ret.state = revision.fields["state"]
    source = f"synchronised from {origin}"
    for event in [e for e in revision.events if e["action"] != AuditAction.RETURN_SYNC][
        decision.already :
    ]:
        fields = {name: event[name] for name in HASHED_FIELDS if name != "prev_hash"}
        said = source
        if recorded_actor(session, event["actor"]) != event["actor"]:
            # the shared database names the login that brought it; who did it there is kept
            said = f"{source}, recorded there by {event['actor']}"
        fields["source"] = f"{said}: {event['source']}" if event["source"] else said
        append_event(session, **fields)
    append_event(
        session,
        actor=actor,
        action=AuditAction.RETURN_SYNC,
        service=revision.service,
        period=revision.period,
        revision=revision.revision,
        return_uuid=revision.uuid,
        new=revision.fields["state"],
        reason=f"revision {revision.revision} synchronised from {origin}",
        source=source,
    )
    session.flush()


def _apply(
    session: Session,
    revision: _Revision,
    *,
    origin: str,
    actor: str,
) -> SyncOutcome:
    """Decide what the target does with one revision and do it in `session` (ACCEPTED only)."""
    service = session.scalar(select(Service).where(Service.code == revision.service))
    if service is None:
        raise SyncRefused(f"there is no service {revision.service} here")
    lock_return(session.connection(), service.id, revision.period)  # before it is read
    version = session.scalar(
        select(DefinitionsVersion).where(DefinitionsVersion.number == revision.definitions_version)
    )
    if version is None:
        raise SyncRefused(
            f"it was made with definitions version {revision.definitions_version}, "
            "which this database does not have: publish those definitions first"
        )
    indicators = {
        i.code: i
        for i in session.scalars(select(Indicator).where(Indicator.code.in_(list(revision.values))))
    }
    unknown = sorted(set(revision.values) - set(indicators))
    if unknown:
        raise SyncRefused(f"this database has no indicator {', '.join(unknown)}")
    held = _held(session, service, revision.period)
    decision = _decide(session, revision, held)
    latest = max(held, key=lambda h: h.revision) if held else None
    after = {code: _value_json(fields) for code, fields in revision.values.items()}
    if decision.status == ImportStatus.ACCEPTED:
        _write(
            session,
            revision,
            decision,
            service=service,
            version=version,
            indicators=indicators,
            origin=origin,
            actor=actor,
        )
    return SyncOutcome(
        status=decision.status,
        reason=decision.reason,
        changes=_changes(latest.values if latest else None, after),
        **_where(revision, origin),
    )


def _where(revision: _Revision, origin: str) -> dict[str, Any]:
    return {
        "file": origin,
        "service": revision.service,
        "period": revision.period,
        "revision": revision.revision,
    }


def _refused(revision: _Revision, origin: str, exc: Exception) -> SyncOutcome:
    return SyncOutcome(
        status=ImportStatus.REJECTED,
        reason=str(exc),
        refused_by_server=isinstance(exc, PermissionRefused),
        **_where(revision, origin),
    )


def _lock_returns(session: Session, revisions: Sequence[_Revision]) -> None:
    codes = {r.service for r in revisions}
    ids = {
        code: service_id
        for code, service_id in session.execute(
            select(Service.code, Service.id).where(Service.code.in_(codes))
        )
    }
    for service_id, period in sorted(
        {(ids[r.service], r.period) for r in revisions if r.service in ids}
    ):
        lock_return(session.connection(), service_id, period)


def _unusable(revision: _Revision, origin: str) -> SyncOutcome | None:
    """REJECTED when the revision disagrees with its own history in the source."""
    problem = _replay_problem(revision)
    if problem is None:
        return None
    return SyncOutcome(
        status=ImportStatus.REJECTED, reason=f"in {origin}, {problem}", **_where(revision, origin)
    )


def _one(target: Database, revision: _Revision, *, origin: str, actor: str) -> SyncOutcome:
    """One revision in its own transaction, all or nothing."""
    try:
        with target.transaction(locks_its_returns=True) as session:
            return _apply(session, revision, origin=origin, actor=actor)
    except SyncRefused as exc:
        return _refused(revision, origin, exc)
    except PermissionRefused as exc:  # e.g. a service manager's login, another service's return
        return _refused(revision, origin, exc)


def _rehearse(
    target: Database, session: Session, revision: _Revision, *, origin: str, actor: str
) -> SyncOutcome:
    """One revision as `_one` would store it, in a savepoint of the dry run's transaction."""
    forget_chain_head(session)  # a refused step may have appended events, now rolled back
    try:
        with target.savepoint(session):
            return _apply(session, revision, origin=origin, actor=actor)
    except SyncRefused as exc:
        return _refused(revision, origin, exc)
    except PermissionRefused as exc:
        return _refused(revision, origin, exc)


def synchronise(
    source: Database,
    target: Database,
    *,
    actor: str,
    services: Sequence[str] | None = None,
    dry_run: bool = False,
) -> list[SyncOutcome]:
    """Copy the returns of `services` (all when None) that `target` lacks; one outcome each.

    Each outcome's `file` is the source database's name. `dry_run` takes every step of the
    real run in one transaction that is rolled back: the same statuses, changes and refusals
    by the server's roles, and nothing written.
    """
    origin = source.display_name
    revisions, broken = _read_source(source, services)
    if broken:
        return [
            SyncOutcome(status=ImportStatus.REJECTED, reason=broken, **_where(r, origin))
            for r in revisions
        ]
    if not dry_run:
        return [
            _unusable(r, origin) or _one(target, r, origin=origin, actor=actor) for r in revisions
        ]
    with target.rehearsal(locks_its_returns=True) as session:
        # Every return first, in one order: a rehearsal holding the chain (after its first
        # revision's events) never then waits for a return that a save holds.
        _lock_returns(session, revisions)
        return [
            _unusable(r, origin) or _rehearse(target, session, r, origin=origin, actor=actor)
            for r in revisions
        ]
