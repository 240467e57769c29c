"""Reading the history as auditors do: filtered pages, one value's timeline, exports."""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnClause,
    ColumnElement,
    Connection,
    Select,
    String,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.orm import QueryableAttribute, Session

from skp_desktop.domain.errors import NotFoundError, ValidationError
from skp_desktop.domain.periods import parse_period
from skp_desktop.services.database import Database
from skp_desktop.services.dto import AuditEntry, HistoryFilter, Timeline, TimelineStep
from skp_desktop.services.entries import describe_recorded, describe_value_json
from skp_desktop.services.output_files import check_output, writing
from skp_desktop.store.engine import like_ignoring_case
from skp_desktop.store.models import (
    AuditEvent,
    DefinitionsVersion,
    ImportedFile,
    Indicator,
    IndicatorDefinition,
    Return,
    Service,
)
from skp_desktop.store.text_search import (
    RECENT_EVENTS,
    audit_search,
    has_search_index,
    matches,
    search_terms,
    unindexed,
)

PAGE_SIZE = 200
ALL_EVENTS = HistoryFilter()
EXPORT_COLUMNS = (
    "id",
    "at",
    "actor",
    "action",
    "service",
    "period",
    "revision",
    "indicator",
    "old",
    "new",
    "reason",
    "source",
)


# Plain columns, not ORM objects, and the time as stored: a page of events reads several
# times faster this way (SQLAlchemy's SQLite datetime parsing costs more than the query).
ENTRY_COLUMNS = (
    AuditEvent.id,
    type_coerce(AuditEvent.at, String).label("at"),
    AuditEvent.actor,
    AuditEvent.action,
    AuditEvent.service,
    AuditEvent.period,
    AuditEvent.revision,
    AuditEvent.indicator,
    AuditEvent.old,
    AuditEvent.new,
    AuditEvent.reason,
    AuditEvent.source,
    AuditEvent.file_sha256,
    AuditEvent.return_uuid,
)


def _utc(value: object) -> datetime:
    """A stored time as an aware UTC datetime (SQLite text, or a driver's datetime)."""
    if isinstance(value, str):
        try:
            # SQLite's text is naive UTC: parsed with its offset, not replace()d after (a
            # fifth of the cost, per event of every page)
            return datetime.fromisoformat(value + "+00:00")
        except ValueError:
            pass  # text with an offset of its own
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(at, datetime)
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _check_codes(session: Session | Connection, flt: HistoryFilter) -> None:
    """An unknown service or indicator code is a mistake to report, not an empty history."""
    if flt.service:
        code = flt.service.strip().upper()
        if session.scalar(select(func.count()).where(Service.code == code)) == 0:
            raise NotFoundError(f"There is no service '{flt.service}'.")
    if flt.indicator:
        code = flt.indicator.strip().upper()
        if session.scalar(select(func.count()).where(Indicator.code == code)) == 0:
            raise NotFoundError(f"There is no indicator '{flt.indicator}'.")


# Each filter as a condition on a bound parameter of the same name: a statement depends only
# on which filters are set, so it is built once and reused (building costs more than the query).
_CONDITIONS: dict[str, Callable[[], ColumnElement[bool]]] = {
    "service": lambda: AuditEvent.service == bindparam("service"),
    "period": lambda: AuditEvent.period == bindparam("period"),
    "indicator": lambda: AuditEvent.indicator == bindparam("indicator"),
    "actor": lambda: AuditEvent.actor == bindparam("actor"),
    "action": lambda: AuditEvent.action == bindparam("action"),
    "since": lambda: AuditEvent.at >= bindparam("since"),
    "until": lambda: AuditEvent.at < bindparam("until"),
    # SQLite's LIKE ignores case and PostgreSQL's does not; people expect the former
    "pattern": lambda: or_(
        *(
            like_ignoring_case(column, bindparam("pattern"))
            for column in (AuditEvent.new, AuditEvent.old, AuditEvent.reason, AuditEvent.source)
        )
    ),
    "before_id": lambda: AuditEvent.id < bindparam("before_id"),
    # SQLite's text index (store/text_search.py): the candidates "pattern" then tests
    "search": lambda: matches("search"),
    # "pattern" that PostgreSQL's trigram index cannot serve (store/text_search.py)
    "pattern_scan": lambda: or_(
        *(
            like_ignoring_case(unindexed(column), bindparam("pattern_scan"))
            for column in (AuditEvent.new, AuditEvent.old, AuditEvent.reason, AuditEvent.source)
        )
    ),
    "recent_from": lambda: AuditEvent.id >= bindparam("recent_from"),
}
# Filters with an index of their own on audit_events: with one of them set, a text search reads
# that filter's events newest first (as it always did) rather than the text index's matches,
# which for a common word could be most of the history.
_NARROWING_FILTERS = frozenset(("service", "period", "indicator", "actor"))


def _filter_params(flt: HistoryFilter) -> dict[str, Any]:
    """The filter's values as bound parameters, one per filter that is set."""
    params: dict[str, Any] = {}
    if flt.service:
        params["service"] = flt.service.strip().upper()
    if flt.period:
        try:
            params["period"] = parse_period(flt.period).code
        except ValidationError as exc:
            raise NotFoundError(exc.message) from exc
    if flt.indicator:
        params["indicator"] = flt.indicator.strip().upper()
    if flt.actor:
        params["actor"] = flt.actor.strip()
    if flt.action:
        params["action"] = flt.action.strip()
    if flt.since:
        params["since"] = datetime.combine(flt.since, time(), UTC)
    if flt.until:
        params["until"] = datetime.combine(flt.until + timedelta(days=1), time(), UTC)
    if flt.text and flt.text.strip():
        params["pattern"] = f"%{flt.text.strip()}%"
    return params


@lru_cache(maxsize=256)
def _statement(
    filters: tuple[str, ...], newest_first: bool, limit: int | None
) -> Select[*tuple[Any, ...]]:
    query = select(*ENTRY_COLUMNS)
    order: QueryableAttribute[int] | ColumnClause[Any] = AuditEvent.id
    if "search" in filters:
        # The text index drives, in the order of its rowids (the events' ids), so the first
        # page stops at its 200th match; a bound on the id goes to the index too.
        query = query.select_from(AuditEvent).join(
            audit_search, audit_search.c.rowid == AuditEvent.id
        )
        order = audit_search.c.rowid
        if "before_id" in filters:
            query = query.where(audit_search.c.rowid < bindparam("before_id"))
    query = query.where(*(_CONDITIONS[name]() for name in filters))
    query = query.order_by(order.desc() if newest_first else order)
    return query if limit is None else query.limit(limit)


def _filtered(
    flt: HistoryFilter,
    *,
    newest_first: bool = True,
    limit: int | None = None,
    before_id: int | None = None,
    text_index: bool = False,
) -> tuple[Select[Any], dict[str, Any]]:
    """The statement selecting ENTRY_COLUMNS of the filtered events, and its parameters.

    `text_index`: the database has SQLite's text index (store/text_search.py), for a text
    search to narrow its candidates by.
    """
    params = _filter_params(flt)
    if text_index and "pattern" in params and not _NARROWING_FILTERS & params.keys():
        terms = search_terms(params["pattern"])
        if terms is not None:
            params["search"] = terms
    if before_id is not None:
        params["before_id"] = before_id
    return _statement(tuple(params), newest_first, limit), params


def entry(row: Sequence[Any]) -> AuditEntry:
    """A row of ENTRY_COLUMNS as people read it (the file's digest joined to its source)."""
    source = row[11] if not row[12] else f"{row[11]} sha256:{row[12]}"
    return AuditEntry(
        row[0],
        _utc(row[1]),
        row[2],
        row[3],
        row[4],
        row[5],
        row[6],
        row[7],
        row[8],
        row[9],
        row[10],
        source,
    )


def history_page(
    db: Database,
    flt: HistoryFilter = ALL_EVENTS,
    *,
    before_id: int | None = None,
    limit: int = PAGE_SIZE,
) -> list[AuditEntry]:
    """The next `limit` events, newest first, older than `before_id` (keyset paging)."""
    if limit < 1:
        raise NotFoundError("The page size must be 1 or more.")
    with db.reading_connection() as connection:
        if flt.text and db.is_postgresql:
            page = _text_page_on_postgresql(connection, flt, before_id, limit)
        else:
            text_index = bool(flt.text) and db.is_sqlite and has_search_index(connection)
            query, params = _filtered(flt, limit=limit, before_id=before_id, text_index=text_index)
            page = [entry(row) for row in connection.execute(query, params).all()]
        if not page and before_id is None:
            _check_codes(connection, flt)  # checked only when nothing matched: pages stay fast
        return page


def _text_page_on_postgresql(
    connection: Connection, flt: HistoryFilter, before_id: int | None, limit: int
) -> list[AuditEntry]:
    """A text search's page on PostgreSQL, whose trigram index (migration 0009) serves a rare
    word at once but a common one slowly: it lists every match before the newest are picked.

    The server cannot tell them apart for anyone but the owner (row-level security hides the
    statistics from the planner), so: the newest RECENT_EVENTS events first, read by id without
    the index (a common word fills the page there); then, for what is missing, the older
    events through the index (a rare word has few matches to list). With a service, period,
    indicator or actor filter, that filter's own index reads its events, as before 0009.
    """

    def read(params: dict[str, Any], rows: int, *, through_index: bool = False) -> list[AuditEntry]:
        query = _statement(tuple(params), True, rows)
        if through_index:
            # Ordered by id + 0, which the id's own index cannot give: the planner would
            # otherwise walk back through every older event looking for the matches it
            # guessed (thousands, for a short word: 6 s at ten years for a word in none).
            query = query.order_by(None).order_by((AuditEvent.id + literal_column("0")).desc())
        return [entry(row) for row in connection.execute(query, params).all()]

    params = _filter_params(flt)
    if before_id is not None:
        params["before_id"] = before_id
    pattern = params.pop("pattern", None)
    if pattern is None:  # only blanks: no text filter after all
        return read(params, limit)
    if _NARROWING_FILTERS & params.keys():
        return read({**params, "pattern_scan": pattern}, limit)
    top = before_id
    if top is None:
        top = (connection.scalar(select(func.max(AuditEvent.id))) or 0) + 1
    recent_from = top - RECENT_EVENTS
    newest = {**params, "pattern_scan": pattern, "recent_from": recent_from, "before_id": top}
    page = read(newest, limit)
    if len(page) < limit and recent_from > 1:
        older = {**params, "pattern": pattern, "before_id": recent_from}
        page += read(older, limit - len(page), through_index=True)
    return page


def change_stamp(db: Database) -> str:
    """Text that changes whenever anything is saved, imported or published: every change is
    an audit event, so the newest one's id and hash (empty for a database with no events)."""
    query = select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    with db.reading_connection() as connection:
        row = connection.execute(query).first()
    return "" if row is None else f"{row.id}:{row.hash}"


def history_choices(db: Database) -> tuple[list[str], list[str]]:
    """The actors and actions found in the history, for the filter pickers."""
    with db.reading() as session:
        actors = list(
            session.scalars(select(AuditEvent.actor).distinct().order_by(AuditEvent.actor))
        )
        actions = list(
            session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action))
        )
        return actors, actions


def value_timeline(db: Database, *, service: str, period: str, indicator: str) -> Timeline:
    """The history of one value across every revision, oldest first."""
    with db.reading() as session:
        flt = HistoryFilter(service=service, period=period, indicator=indicator)
        _check_codes(session, flt)
        query, params = _filtered(flt, newest_first=False)
        versions = dict(
            session.execute(
                select(Return.uuid, DefinitionsVersion.number).join(
                    DefinitionsVersion, DefinitionsVersion.id == Return.definitions_version_id
                )
            ).all()
        )
        files = {
            sha: (name, file_id)
            for sha, name, file_id in session.execute(
                select(ImportedFile.sha256, ImportedFile.file_name, ImportedFile.id)
            )
        }
        steps = []
        for event in session.execute(query, params):
            name, file_id = files.get(event.file_sha256 or "", (None, None))
            steps.append(
                TimelineStep(
                    event=entry(event),
                    revision=event.revision,
                    old_text=describe_value_json(event.old),
                    new_text=describe_value_json(event.new),
                    definitions_version=versions.get(event.return_uuid or ""),
                    file_name=name,
                    file_sha256=event.file_sha256,
                    file_id=file_id,
                )
            )
        code = indicator.strip().upper()
        title = session.scalar(
            select(IndicatorDefinition.title)
            .join(Indicator, Indicator.id == IndicatorDefinition.indicator_id)
            .where(Indicator.code == code)
            .order_by(IndicatorDefinition.definitions_version_id.desc())
            .limit(1)
        )
        return Timeline(
            service=service.strip().upper(),
            period=parse_period(period).code,
            indicator=code,
            title=title or code,
            steps=tuple(steps),
        )


def imported_file(db: Database, file_id: int) -> tuple[str, bytes]:
    """The original bytes of an imported file, with its name, to save a copy."""
    with db.reading() as session:
        row = session.get(ImportedFile, file_id)
        if row is None:
            raise NotFoundError(f"There is no imported file {file_id}.")
        return row.file_name, row.content


def export_history(db: Database, flt: HistoryFilter, path: str | Path) -> int:
    """Write every event the filter selects to CSV (or .xlsx); returns how many."""
    target = Path(path)
    suffix = target.suffix.lower()
    check_output(target, suffixes=(".csv", ".xlsx"), what="history export")
    rows: list[list[object]] = []
    before: int | None = None
    while True:
        page = history_page(db, flt, before_id=before, limit=5000)
        if not page:
            break
        for e in page:
            rows.append(
                [
                    e.id,
                    e.at.isoformat(timespec="seconds"),
                    e.actor,
                    e.action,
                    e.service,
                    e.period,
                    e.revision,
                    e.indicator,
                    describe_recorded(e.action, e.old),
                    describe_recorded(e.action, e.new),
                    e.reason,
                    e.source,
                ]
            )
        before = page[-1].id
    temporary = target.with_name(f".{target.name}.part")
    with writing(target, "history export"):
        try:
            if suffix == ".csv":
                with temporary.open("w", newline="", encoding="utf-8-sig") as handle:
                    writer = csv.writer(handle)
                    writer.writerow(EXPORT_COLUMNS)
                    writer.writerows(_csv_safe(row) for row in rows)
            else:
                from skp_desktop.excel.table_writer import write_table

                write_table(temporary, "History", list(EXPORT_COLUMNS), rows, note=flt.describe())
            temporary.replace(target)
        except BaseException:
            temporary.unlink(missing_ok=True)  # no half-written file left beside the target
            raise
    return len(rows)


def _csv_safe(row: list[object]) -> list[object]:
    """Text that a spreadsheet would run as a formula is prefixed with an apostrophe."""
    return [f"'{v}" if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") else v for v in row]


EXTRACT_SHEET = "_extract"


@dataclass(frozen=True)
class ExtractCheck:
    """What checking an audit extract against the database found."""

    events: int
    head_event_id: int
    head_hash: str
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _extract_rows(db: Database, flt: HistoryFilter, up_to_id: int) -> list[list[object]]:
    rows: list[list[object]] = []
    before: int | None = up_to_id + 1
    while True:
        page = history_page(db, flt, before_id=before, limit=5000)
        if not page:
            return rows
        for e in page:
            rows.append(
                [
                    e.id,
                    e.at.isoformat(timespec="microseconds"),
                    e.actor,
                    e.action,
                    e.service,
                    e.period,
                    e.revision,
                    e.indicator,
                    e.old,
                    e.new,
                    e.reason,
                    e.source,
                ]
            )
        before = page[-1].id


def _rows_digest(rows: list[list[object]]) -> str:
    import hashlib
    import json

    text = json.dumps(rows, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_audit_extract(db: Database, path: str | Path, *, period: str | None = None) -> int:
    """The history (of a period, or all) as a workbook that carries the chain's head hash.

    A later check_audit_extract compares the database with it: any event up to the head that
    was changed, removed or inserted since the extract was made is found.
    """
    from skp_desktop.excel.table_writer import add_key_values, write_table
    from skp_desktop.store.audit import chain_head

    target = Path(path)
    if target.suffix.lower() != ".xlsx":
        raise NotFoundError(f"{target.name}: an audit extract is an .xlsx workbook.")
    flt = HistoryFilter(period=period)
    with db.reading() as session:
        head_hash = chain_head(session)
        head_id = session.scalar(select(func.max(AuditEvent.id))) or 0
    rows = _extract_rows(db, flt, head_id)
    temporary = target.with_name(f".{target.stem}.part.xlsx")  # openpyxl reads by extension
    write_table(temporary, "History", list(EXPORT_COLUMNS), rows, note=flt.describe())
    add_key_values(
        temporary,
        EXTRACT_SHEET,
        [
            ("format", "skp-audit-extract"),
            ("format_version", "1"),
            ("filter_period", period or ""),
            ("events", str(len(rows))),
            ("head_event_id", str(head_id)),
            ("head_hash", head_hash),
            ("rows_sha256", _rows_digest(rows)),
            ("exported_at", datetime.now(UTC).isoformat(timespec="seconds")),
        ],
    )
    temporary.replace(target)
    return len(rows)


def check_audit_extract(db: Database, path: str | Path) -> ExtractCheck:
    """Compare an earlier audit extract with the database's history now."""
    from skp_desktop.excel.table_writer import read_key_values

    meta = read_key_values(Path(path), EXTRACT_SHEET)
    if meta.get("format") != "skp-audit-extract":
        raise ValidationError(
            f"{Path(path).name} is not an SKP Returns audit extract (no {EXTRACT_SHEET} sheet).",
            file=str(path),
        )
    head_id = int(meta["head_event_id"])
    problems = []
    with db.reading() as session:
        held = session.scalar(select(AuditEvent.hash).where(AuditEvent.id == head_id))
    if head_id and held is None:
        problems.append(f"event {head_id}, the newest when the extract was made, is missing")
    elif head_id and held != meta["head_hash"]:
        problems.append(
            f"event {head_id} no longer has the hash the extract recorded: the history up to "
            "it was changed since"
        )
    rows = _extract_rows(db, HistoryFilter(period=meta.get("filter_period") or None), head_id)
    if _rows_digest(rows) != meta.get("rows_sha256"):
        problems.append(
            f"the events of the extract differ from the database now ({len(rows)} held, "
            f"{meta.get('events')} in the extract): events were changed, removed or inserted"
        )
    return ExtractCheck(len(rows), head_id, meta["head_hash"], tuple(problems))
