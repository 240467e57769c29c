"""What a return's view reads: portable SQL text (SQLite and PostgreSQL, `:name` parameters)
and plain rows, with no SQLAlchemy.

The use cases run these through a SQLAlchemy connection (`engine.connection_fetch`); the window
runs them through the standard library's sqlite3 (`sqlite_snapshot.sqlite_fetch`) to show a
return before SQLAlchemy has loaded. Drivers hand back different raw values (SQLite: datetimes
as text and booleans as 0/1; PostgreSQL: datetime and bool), so each row is normalised here,
once, for both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol


class Fetch(Protocol):
    """Runs one SQL statement with its `:name` parameters and returns every row."""

    def __call__(self, sql: str, params: Mapping[str, Any]) -> Sequence[Sequence[Any]]: ...


def utc_datetime(value: datetime | str | None) -> datetime | None:
    """A stored time as a timezone-aware UTC datetime, as store/types.UtcDateTime reads it
    (SQLite keeps naive UTC text, PostgreSQL gives an aware datetime)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class ServiceRow(NamedTuple):
    id: int
    code: str
    name: str
    organisation: str
    organisation_code: str


class VersionRow(NamedTuple):
    """A definitions version: its id orders definitions, its number is what people see."""

    id: int
    number: int
    applies_from: str


class RevisionRow(NamedTuple):
    """One revision of a return, with the definitions version it was made with."""

    id: int
    uuid: str
    revision: int
    state: str
    updated_at: datetime | None
    version_id: int
    version_number: int


class DefinitionRow(NamedTuple):
    """An indicator with its theme and one version of its definition (names as the models')."""

    indicator_id: int
    code: str
    kind: str
    theme_code: str
    theme_name: str
    title: str
    level: str
    unit: str
    polarity: str
    frequency: str
    decimals: int
    has_fraction: bool
    numerator_label: str | None
    denominator_label: str | None
    min_value: str | None
    max_value: str | None
    amber_tolerance: str
    change_warning_percent: str | None
    small_number_threshold: int | None
    definition: str | None
    source: str | None
    source_document: str | None


class TargetRow(NamedTuple):
    indicator_id: int
    applies_from: str
    value: str


class BaselineRow(NamedTuple):
    indicator_id: int
    value: str
    unit: str
    period: str | None
    note: str | None
    comparators_note: str | None
    source: str | None


class StoredEntry(NamedTuple):
    """A revision's stored fields for one indicator (services/entries.VALUE_FIELDS)."""

    code: str
    numerator: str | None
    denominator: str | None
    value: str | None
    symbol: str | None
    commentary: str | None
    explanation: str | None


class PeriodValue(NamedTuple):
    period: str
    revision: int
    code: str
    value: str | None


class QueryEvent(NamedTuple):
    """An audit event about a coordinator's query, its answer or the return it came with."""

    action: str
    revision: int | None
    return_uuid: str | None
    indicator: str | None
    actor: str
    at: datetime
    new: str | None
    reason: str | None
    source: str | None


# "values" is a reserved word in SQL: quoted, as SQLAlchemy quotes it.
_SERVICE_BY_CODE = """
SELECT s.id, s.code, s.name, o.name, o.code
FROM services s JOIN organisations o ON o.id = s.organisation_id
WHERE s.code = :code
"""
_SERVICE_CODES = "SELECT code FROM services ORDER BY code"
_SERVICE_FORM = "SELECT layout FROM service_forms WHERE service_id = :service_id"
_SERVICES = """
SELECT s.id, s.code, s.name, o.name, o.code
FROM services s JOIN organisations o ON o.id = s.organisation_id
ORDER BY o.id, s.name
"""
_THEMES_WITH_INDICATORS = """
SELECT t.code, t.kind, t.name
FROM themes t JOIN indicators i ON i.theme_id = t.id
WHERE i.kind = 'indicator'
GROUP BY t.id, t.code, t.kind, t.name
ORDER BY t.id
"""
_VERSIONS = "SELECT id, number, applies_from FROM definitions_versions ORDER BY number"
_LATEST_REVISION = """
SELECT r.id, r.uuid, r.revision, r.state, r.updated_at, v.id, v.number
FROM returns r JOIN definitions_versions v ON v.id = r.definitions_version_id
WHERE r.service_id = :service_id AND r.period = :period
ORDER BY r.revision DESC
LIMIT 1
"""
_DEFINITIONS = """
SELECT i.id, i.code, i.kind, t.code, t.name,
       d.title, d.level, d.unit, d.polarity, d.frequency, d.decimals, d.has_fraction,
       d.numerator_label, d.denominator_label, d.min_value, d.max_value, d.amber_tolerance,
       d.change_warning_percent, d.small_number_threshold, d.definition, d.source,
       d.source_document
FROM indicator_definitions d
JOIN indicators i ON i.id = d.indicator_id
JOIN themes t ON t.id = i.theme_id
WHERE i.service_id = :service_id AND i.kind = 'indicator'
  AND d.definitions_version_id <= :version_id
ORDER BY i.position, d.definitions_version_id
"""
_TARGETS = """
SELECT t.indicator_id, t.applies_from, t.value
FROM targets t JOIN indicators i ON i.id = t.indicator_id
WHERE i.service_id = :service_id
ORDER BY t.applies_from
"""
_BASELINES = """
SELECT b.indicator_id, b.value, b.unit, b.period, b.note, b.comparators_note, b.source
FROM baselines b JOIN indicators i ON i.id = b.indicator_id
WHERE i.service_id = :service_id
"""
_STORED_ENTRIES = """
SELECT i.code, v.numerator, v.denominator, v.value, v.symbol, v.commentary, v.explanation
FROM "values" v JOIN indicators i ON i.id = v.indicator_id
WHERE v.return_id = :return_id
"""
_SERVICE_VALUES = """
SELECT r.period, r.revision, i.code, v.value
FROM returns r
JOIN "values" v ON v.return_id = r.id
JOIN indicators i ON i.id = v.indicator_id
WHERE r.service_id = :service_id
ORDER BY r.revision
"""
_LAST_RETURNED = """
SELECT revision, uuid FROM returns
WHERE service_id = :service_id AND period = :period AND state = :state
  AND revision <= :revision
ORDER BY revision DESC
LIMIT 1
"""
_QUERY_EVENTS = """
SELECT action, revision, return_uuid, indicator, actor, at, new, reason, source
FROM audit_events
WHERE service = :service AND period = :period AND action IN (:ask, :answer, :returned)
ORDER BY id
"""
_SCHEMA_REVISION = "SELECT version_num FROM alembic_version"


def service_by_code(fetch: Fetch, code: str) -> ServiceRow | None:
    rows = fetch(_SERVICE_BY_CODE, {"code": code})
    return ServiceRow(*rows[0]) if rows else None


def service_codes(fetch: Fetch) -> list[str]:
    return [code for (code,) in fetch(_SERVICE_CODES, {})]


def service_form(fetch: Fetch, service_id: int) -> str | None:
    """The form the coordinator set for a service (canonical JSON), or None."""
    rows = fetch(_SERVICE_FORM, {"service_id": service_id})
    return rows[0][0] if rows else None


def all_services(fetch: Fetch) -> list[ServiceRow]:
    """Every service, by organisation then name."""
    return [ServiceRow(*row) for row in fetch(_SERVICES, {})]


def themes_with_indicators(fetch: Fetch) -> list[tuple[str, str, str]]:
    """Themes that have indicators, as (code, kind, name), in catalogue order."""
    return [(code, kind, name) for code, kind, name in fetch(_THEMES_WITH_INDICATORS, {})]


def definitions_versions(fetch: Fetch) -> list[VersionRow]:
    """Every definitions version, in number order."""
    return [VersionRow(*row) for row in fetch(_VERSIONS, {})]


def latest_revision(fetch: Fetch, service_id: int, period: str) -> RevisionRow | None:
    """The newest revision of a service's return for a period."""
    rows = fetch(_LATEST_REVISION, {"service_id": service_id, "period": period})
    if not rows:
        return None
    row = RevisionRow(*rows[0])
    return row._replace(updated_at=utc_datetime(row.updated_at))


def service_definitions(fetch: Fetch, service_id: int, version_id: int) -> list[DefinitionRow]:
    """The service's indicators' definitions up to a version, by position then version (so
    a later version's row comes after the one it replaces)."""
    rows = fetch(_DEFINITIONS, {"service_id": service_id, "version_id": version_id})
    has_fraction = DefinitionRow._fields.index("has_fraction")
    return [
        DefinitionRow._make(
            (*row[:has_fraction], bool(row[has_fraction]), *row[has_fraction + 1 :])
        )
        for row in rows
    ]


def service_targets(fetch: Fetch, service_id: int) -> list[TargetRow]:
    """The targets of a service's indicators, in applies_from order."""
    return [TargetRow(*row) for row in fetch(_TARGETS, {"service_id": service_id})]


def service_baselines(fetch: Fetch, service_id: int) -> list[BaselineRow]:
    return [BaselineRow(*row) for row in fetch(_BASELINES, {"service_id": service_id})]


def stored_entries(fetch: Fetch, return_id: int) -> list[StoredEntry]:
    """A revision's values, one row per indicator."""
    return [StoredEntry(*row) for row in fetch(_STORED_ENTRIES, {"return_id": return_id})]


def service_values(fetch: Fetch, service_id: int) -> list[PeriodValue]:
    """Every value of every revision of a service's returns, in revision order."""
    return [PeriodValue(*row) for row in fetch(_SERVICE_VALUES, {"service_id": service_id})]


def last_revision_in_state(
    fetch: Fetch, service_id: int, period: str, state: str, up_to: int
) -> tuple[int, str] | None:
    """(revision, uuid) of the newest revision up to `up_to` that is in `state`."""
    rows = fetch(
        _LAST_RETURNED,
        {"service_id": service_id, "period": period, "state": state, "revision": up_to},
    )
    return (rows[0][0], rows[0][1]) if rows else None


def query_events(
    fetch: Fetch, service: str, period: str, actions: tuple[str, str, str]
) -> list[QueryEvent]:
    """A return's audit events of the three actions (ask, answer, return), in order."""
    ask, answer, returned = actions
    rows = fetch(
        _QUERY_EVENTS,
        {"service": service, "period": period, "ask": ask, "answer": answer, "returned": returned},
    )
    at = QueryEvent._fields.index("at")
    return [QueryEvent._make((*row[:at], utc_datetime(row[at]), *row[at + 1 :])) for row in rows]


def schema_revision(fetch: Fetch) -> str | None:
    """The Alembic revision the schema is at (an error when there is no alembic_version)."""
    rows = fetch(_SCHEMA_REVISION, {})
    return rows[0][0] if rows else None
