"""The audit chain: each event carries the SHA-256 of the one before it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import Any

from sqlalchemy import Row, String, insert, select, type_coerce
from sqlalchemy.orm import Session

from skp_desktop.store.models import AuditEvent

GENESIS_HASH = "0" * 64

# The fields an event's hash covers, in a fixed order; `id` and `hash` are not part of it.
HASHED_FIELDS = (
    "prev_hash",
    "at",
    "actor",
    "action",
    "service",
    "period",
    "revision",
    "return_uuid",
    "indicator",
    "old",
    "new",
    "reason",
    "source",
    "file_sha256",
)


def _timestamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


# One encoder, made once: sorted keys and no spaces make the text canonical. The hashing below
# writes the same text faster for the values events hold; this is the definition it follows,
# and what it falls back to for any other value.
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _stored_timestamp(text: str) -> str:
    """The canonical form of a time as SQLite holds it (naive UTC text, see types.py)."""
    if len(text) == 26 and text[10] == " ":  # "YYYY-MM-DD HH:MM:SS.ffffff", SQLAlchemy's form
        return f"{text[:10]}T{text[11:]}+00:00"
    return _timestamp(datetime.fromisoformat(text).replace(tzinfo=UTC))


def canonical_time(at: object) -> object:
    """An event's time as its hash takes it: a datetime, or the text SQLite stored."""
    if isinstance(at, datetime):
        return _timestamp(at)
    if isinstance(at, str):
        return _stored_timestamp(at)
    return at


def hash_values(values: Sequence[object]) -> str:
    """SHA-256 of the canonical JSON of an event's hashed fields, given in HASHED_FIELDS order.

    The time may be a datetime or, read straight from SQLite (iter_event_tuples), its
    stored text: both give the same hash.
    """
    if len(values) != len(HASHED_FIELDS):
        raise ValueError(f"an event has {len(HASHED_FIELDS)} hashed fields, not {len(values)}")
    return hash_in_order(values, canonical_time(values[_AT]))


# The canonical text's keys in sorted order, each as the text before its value, with the
# value's position in HASHED_FIELDS.
_KEY_ORDER = sorted(range(len(HASHED_FIELDS)), key=HASHED_FIELDS.__getitem__)
_TEXT_PLAN = tuple(
    (("{" if n == 0 else ",") + _CANONICAL.encode(HASHED_FIELDS[i]) + ":", i)
    for n, i in enumerate(_KEY_ORDER)
)
_AT = HASHED_FIELDS.index("at")


def hash_in_order(values: Sequence[object], at: object) -> str:
    """hash_values of `values` (at least the hashed fields, in order) with the time `at`
    already canonical (canonical_time): what verify calls once per event.

    The text is _CANONICAL's, written key by key: verify hashes millions of events, and
    the encoder sorting each event's keys was a third of its work. Values other than text,
    whole numbers and None go to the encoder itself.
    """
    parts: list[str] = []
    append = parts.append
    for prefix, index in _TEXT_PLAN:
        value = at if index == _AT else values[index]
        append(prefix)
        if value is None:
            append("null")
        elif isinstance(value, str):  # an enum's text too, as the encoder writes it
            append(encode_basestring(value))
        elif type(value) is int:  # not bool, which the encoder writes as true/false
            append(repr(value))
        else:
            material = dict(zip(HASHED_FIELDS, values))  # noqa: B905 (values may run on)
            material["at"] = at
            return hashlib.sha256(_CANONICAL.encode(material).encode("utf-8")).hexdigest()
    append("}")
    return hashlib.sha256("".join(parts).encode("utf-8")).hexdigest()


def event_hash(fields: dict[str, object]) -> str:
    """SHA-256 of the canonical JSON of an event's hashed fields."""
    return hash_values([fields.get(name) for name in HASHED_FIELDS])


_HEAD_KEY = "skp_audit_head"
_ACTOR_KEY = "skp_server_actor"


def recorded_actor(session: Session, actor: str) -> str:
    """The name an event is recorded under: `actor`, except on a shared (PostgreSQL) database,
    where it is the server's name for the login (skp_actor(), migration 0006) whatever the
    program was told: the server refuses an event in any other name.
    """
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return actor
    name = session.info.get(_ACTOR_KEY)
    if name is None:
        name = str(connection.exec_driver_sql("SELECT skp_actor()").scalar())
        session.info[_ACTOR_KEY] = name
    return str(name)


_HEAD = select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)  # built once


def chain_head(session: Session) -> str:
    """The hash of the newest event (the genesis hash for an empty chain), as this
    transaction sees it: after an append, the head this transaction made, remembered for its
    later events (an import of many values asks once; on SQLite the write lock held from
    BEGIN IMMEDIATE means nobody else can move it)."""
    cached = session.info.get(_HEAD_KEY)
    if cached is not None:
        return str(cached)
    # Straight from the connection: an event still pending in the session set the head above.
    head = session.connection().scalar(_HEAD)
    return head or GENESIS_HASH


def _chained_by_server(session: Session) -> bool:
    """Whether the server links each event to the chain as it is inserted: on PostgreSQL,
    migration 0006's trigger takes the chain's lock there and then, reads the head after it,
    and fills in prev_hash and hash (computed as verify computes them) when they are left
    empty. The chain is then locked from the first event's INSERT to the commit, and never
    while the program reads the head and hashes: one round trip shorter for every writer
    waiting behind it. On SQLite the program links them, under BEGIN IMMEDIATE's write lock."""
    return session.connection().dialect.name == "postgresql"


def forget_chain_head(session: Session) -> None:
    """Read the head from the database next time (after a savepoint was rolled back)."""
    session.info.pop(_HEAD_KEY, None)


def append_event(
    session: Session,
    *,
    actor: str,
    action: str,
    service: str | None = None,
    period: str | None = None,
    revision: int | None = None,
    return_uuid: str | None = None,
    indicator: str | None = None,
    old: str | None = None,
    new: str | None = None,
    reason: str | None = None,
    source: str | None = None,
    file_sha256: str | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Add the next event to the chain in the caller's transaction."""
    by_server = _chained_by_server(session)
    given = {
        "at": at,
        # On the server the trigger names the login (skp_actor()) when none is given: one
        # round trip fewer than asking for the name first.
        "actor": None if by_server else actor,
        "action": action,
        "service": service,
        "period": period,
        "revision": revision,
        "return_uuid": return_uuid,
        "indicator": indicator,
        "old": old,
        "new": new,
        "reason": reason,
        "source": source,
        "file_sha256": file_sha256,
    }
    if by_server:
        # In now (the insert takes the chain's lock, to the commit), and back with the id,
        # prev_hash and hash the server gave it, in the one round trip. Before the changes
        # still pending, as the session's flush put events first: a refusal names the event.
        with session.no_autoflush:
            return session.scalars(_INSERT_RETURNING, [_unchained(given)]).one()
    event = AuditEvent(**_chained(chain_head(session), given))
    session.add(event)
    session.info[_HEAD_KEY] = event.hash
    return event


def append_events(session: Session, events: Sequence[Mapping[str, Any]]) -> None:
    """Add events to the chain in the caller's transaction, in order, each given as
    append_event's keyword arguments: one INSERT of many rows, no ORM object each."""
    if not events:
        return
    session.flush()  # events still pending as objects go in first: ids follow the chain
    if _chained_by_server(session):
        # One INSERT of many rows: the trigger names the login as each one's actor and links
        # each to the one inserted before it.
        rows = [_unchained({**given, "actor": None}) for given in events]
        session.connection().execute(_INSERT, rows)
        return
    head = chain_head(session)
    rows = []
    for given in events:
        row = _chained(head, given)
        head = str(row["hash"])
        rows.append(row)
    session.connection().execute(_INSERT, rows)
    session.info[_HEAD_KEY] = head


_ARGUMENTS = frozenset(HASHED_FIELDS) - {"prev_hash"}
_INSERT = insert(AuditEvent)
_INSERT_RETURNING = insert(AuditEvent).returning(AuditEvent)


def _chained(prev_hash: str, given: Mapping[str, Any]) -> dict[str, object]:
    """An event's columns from append_event's arguments, hashed onto the event before it."""
    fields = _unchained(given)
    fields["prev_hash"] = prev_hash
    fields["hash"] = event_hash(fields)
    return fields


def _unchained(given: Mapping[str, Any]) -> dict[str, object]:
    """An event's columns from append_event's arguments, prev_hash and hash left empty."""
    unknown = set(given) - _ARGUMENTS
    if unknown or "actor" not in given or "action" not in given:
        raise TypeError(f"an audit event needs an actor and an action, and has no {unknown}")
    fields: dict[str, object] = {name: given.get(name) for name in HASHED_FIELDS}
    # Microseconds survive every engine; finer precision would not verify after a round trip.
    fields["at"] = (given.get("at") or datetime.now(UTC)).astimezone(UTC)
    fields["hash"] = None
    return fields


@dataclass(frozen=True)
class ChainProblem:
    """One place where the stored chain does not match what was recorded."""

    event_id: int | None
    message: str


# Positions in an event row: the hashed fields in HASHED_FIELDS order, then id and hash.
EVENT_ID = len(HASHED_FIELDS)
EVENT_HASH = EVENT_ID + 1
_PREV = HASHED_FIELDS.index("prev_hash")
_ACTION = HASHED_FIELDS.index("action")


def _event_columns(*, stored_times: bool) -> list[Any]:
    at = type_coerce(AuditEvent.at, String).label("at") if stored_times else AuditEvent.at
    return [
        *(at if n == "at" else getattr(AuditEvent, n) for n in HASHED_FIELDS),
        AuditEvent.id,
        AuditEvent.hash,
    ]


def event_columns(*, stored_times: bool) -> list[Any]:
    """The columns of an event row: the hashed fields in HASHED_FIELDS order, then id and hash
    (`stored_times`: the time as the database holds it, as iter_event_tuples reads it)."""
    return _event_columns(stored_times=stored_times)


def iter_events(session: Session, batch: int = 20000) -> Iterator[Row[Any]]:
    """Every event in chain order as rows, read in batches (a million fit easily)."""
    columns = _event_columns(stored_times=False)
    connection = session.connection()  # Core rows: the ORM's row loading is not needed here
    last_id = 0
    while True:
        rows = connection.execute(
            select(*columns).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id


def iter_event_tuples(session: Session, batch: int = 50000) -> Iterator[tuple[Any, ...]]:
    """As iter_events, as the driver's plain tuples with `at` as the database holds it (SQLite's
    text): for verify only.

    A million events are hashed one by one: parsing their times and formatting them again was
    half of verify's work, and making a Row object of each costs a fifth as much again. The
    columns need no conversion (text, numbers, and PostgreSQL's own datetimes, which
    hash_values takes as they come).
    """
    columns = _event_columns(stored_times=True)
    connection = session.connection()
    last_id = 0
    while True:
        result = connection.execute(
            select(*columns).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
        )
        rows = result.cursor.fetchall() if result.cursor is not None else []
        result.close()
        if not rows:
            return
        yield from rows
        last_id = rows[-1][EVENT_ID]


def verify_chain(session: Session, events: Iterator[Any] | None = None) -> list[ChainProblem]:
    """Recompute every hash and link; name each event that was changed, inserted or removed.

    `events` are rows from iter_events or iter_event_tuples (hashed fields first, then id and
    hash).
    """
    problems: list[ChainProblem] = []
    expected_prev = GENESIS_HASH
    # Events written together share their time: its canonical text is made once for them.
    last_at: object = None
    at_text: object = None  # canonical_time(last_at)
    for event in events if events is not None else iter_event_tuples(session):
        at = event[_AT]
        if at != last_at:
            last_at, at_text = at, canonical_time(at)
        if event[_PREV] != expected_prev:
            problems.append(
                ChainProblem(
                    event[EVENT_ID],
                    f"event {event[EVENT_ID]} does not follow the event before it: an event was "
                    "removed or inserted here",
                )
            )
        if hash_in_order(event, at_text) != event[EVENT_HASH]:
            problems.append(
                ChainProblem(
                    event[EVENT_ID],
                    f"event {event[EVENT_ID]} ({event[_ACTION]}) was altered after it was recorded",
                )
            )
        expected_prev = event[EVENT_HASH]
    return problems
