"""A return's view, built from the rows of store/return_reads.py: the one builder behind
get_return, the view each change hands back, and the window's quick first read.

It imports no SQLAlchemy: the rows come through a Fetch, over a SQLAlchemy connection
(store/engine.connection_fetch) or over the standard library's sqlite3
(services/quick_open.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple, Protocol, TypeVar

from skp_desktop.domain.definitions import Definition, Frequency, Level, Polarity, Unit, is_due
from skp_desktop.domain.errors import NotFoundError, ValidationError
from skp_desktop.domain.periods import Period, PeriodKind, parse_period
from skp_desktop.domain.rag import direction_of_travel, rag_status
from skp_desktop.domain.validation import History, validate_entry
from skp_desktop.domain.values import from_canonical
from skp_desktop.domain.vocabulary import NOT_STARTED, AuditAction, ReturnState
from skp_desktop.services.dto import (
    BaselineInfo,
    IndicatorInfo,
    QueryInfo,
    ReturnQueries,
    ReturnRow,
    ReturnView,
    ServiceInfo,
)
from skp_desktop.services.entries import EntryText
from skp_desktop.services.forms import FormLayout, form_for, layout_from_json
from skp_desktop.store import return_reads as reads
from skp_desktop.store.return_reads import Fetch, RevisionRow, ServiceRow, VersionRow

# A range says something once there is a year of values; with one or two, every new figure is
# "outside the range" and the change against the previous period already warns.
RANGE_NEEDS_VALUES = 4


class _Named(Protocol):
    # read-only, so that a NamedTuple row and an ORM object both fit
    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...


class _Theme(NamedTuple):
    code: str
    name: str


# --- periods, services and definitions versions ------------------------------------------


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


def unknown_service(code: str, known: Iterable[str]) -> NotFoundError:
    """The error for a service code the database does not have, listing the codes it has."""
    return NotFoundError(f"There is no service '{code}'. Known services: {', '.join(known)}.")


def find_service(fetch: Fetch, code: str) -> ServiceRow:
    """The service with this code, or a NotFoundError listing the known codes."""
    service = reads.service_by_code(fetch, code.strip().upper())
    if service is None:
        raise unknown_service(code, reads.service_codes(fetch))
    return service


def service_info_of(service: ServiceRow) -> ServiceInfo:
    return ServiceInfo(
        code=service.code,
        name=service.name,
        organisation=service.organisation,
        organisation_code=service.organisation_code,
    )


def services_of(fetch: Fetch) -> list[ServiceInfo]:
    """Every service with its organisation, by organisation then name."""
    return [service_info_of(service) for service in reads.all_services(fetch)]


def themes_of(fetch: Fetch) -> list[tuple[str, str, str]]:
    """Themes that have indicators, as (code, kind, name), in catalogue order."""
    return reads.themes_with_indicators(fetch)


class _Version(Protocol):
    @property
    def applies_from(self) -> str: ...


V = TypeVar("V", bound=_Version)


def version_in_force(versions: Iterable[V], period: Period | None) -> V:
    """The definitions in force for a period, from versions in number order: the newest
    applying from it or before (the first when none does yet)."""
    chosen = None
    for version in versions:
        in_force = period is None or parse_period(version.applies_from).start <= period.start
        if chosen is None or in_force:
            chosen = version
    if chosen is None:
        raise NotFoundError("This database has no indicator definitions yet: run init.")
    return chosen


def version_for(fetch: Fetch, period: Period | None) -> VersionRow:
    """definitions_version_for over a Fetch."""
    return version_in_force(reads.definitions_versions(fetch), period)


# --- indicator definitions ---------------------------------------------------------------


def target_in_force(rows: Iterable[tuple[str, str]], period: Period | None) -> Decimal | None:
    """The target in force for a period from an indicator's (applies_from, value) in that
    order (the newest when no period is given)."""
    chosen = None
    for applies_from, value in rows:
        if period is None or parse_period(applies_from).start <= period.start:
            chosen = value
    return from_canonical(chosen) if chosen is not None else None


def rule_fields(row: Any) -> dict[str, Any]:
    """A stored definition's rules as domain values (words as enums, decimals from text)."""
    return {
        "title": row.title,
        "unit": Unit(row.unit),
        "polarity": Polarity(row.polarity),
        "frequency": Frequency(row.frequency),
        "level": Level(row.level),
        "decimals": row.decimals,
        "has_fraction": row.has_fraction,
        "numerator_label": row.numerator_label,
        "denominator_label": row.denominator_label,
        "min_value": from_canonical(row.min_value),
        "max_value": from_canonical(row.max_value),
        "amber_tolerance": from_canonical(row.amber_tolerance) or Decimal(0),
        "change_warning_percent": from_canonical(row.change_warning_percent),
        "small_number_threshold": row.small_number_threshold,
    }


def baseline_info(baseline: Any) -> BaselineInfo:
    """A stored baseline (a model or a row with its column names) as people see it."""
    return BaselineInfo(
        value=from_canonical(baseline.value) or Decimal(0),
        unit=baseline.unit,
        period=baseline.period,
        note=baseline.note,
        comparators_note=baseline.comparators_note,
        source=baseline.source,
    )


def indicator_info(
    row: Any,
    indicator: Any,
    baseline: Any | None,
    version_number: int,
    target: Decimal | None,
    *,
    service: _Named | None,
    theme: _Named,
) -> IndicatorInfo:
    """An indicator with one version of its definition: `row` has the definition's columns,
    `indicator` a code and a kind (models or rows alike)."""
    rules = Definition(code=indicator.code, **rule_fields(row))
    return IndicatorInfo(
        code=indicator.code,
        kind=indicator.kind,
        title=row.title,
        service=service.code if service else None,
        service_name=service.name if service else None,
        theme=theme.code,
        theme_name=theme.name,
        definition_text=row.definition,
        source=row.source,
        source_document=row.source_document,
        baseline=baseline_info(baseline) if baseline else None,
        rules=replace(rules, target=target),
        definitions_version=version_number,
    )


class _Unread:
    """due_infos' default layout: not read yet (a service may have no form at all: None)."""


_UNREAD = _Unread()


def layout_of(fetch: Fetch, service_id: int, service_code: str) -> FormLayout | None:
    """A service's return form: the one the coordinator set, else forms/<CODE>.toml."""
    stored = reads.service_form(fetch, service_id)
    if stored is not None:
        return layout_from_json(service_code, stored)
    return form_for(service_code)


def due_in_form_order(
    infos: Iterable[IndicatorInfo],
    service_code: str,
    period: Period,
    layout: FormLayout | None = None,
) -> list[IndicatorInfo]:
    """The indicators due for the period, in the order the service's form lays them out
    (`layout`, else the bundled form file)."""
    due = [info for info in infos if is_due(info.rules.frequency, period)]
    layout = layout or form_for(service_code)
    if layout is not None:
        unplaced = len(layout.items)
        due.sort(key=lambda i: p if (p := layout.position(i.code)) is not None else unplaced)
    return due


class DueIndicators(NamedTuple):
    """What a return asks for: the indicators due under one definitions version, in the order
    of the service's form (`layout`, read with them so a view need not read it again)."""

    version_id: int
    infos: list[IndicatorInfo]
    layout: FormLayout | None


def read_due(
    fetch: Fetch, service: ServiceRow, period: Period, version_id: int, version_number: int
) -> DueIndicators:
    """due_infos with the form they were ordered by."""
    layout = layout_of(fetch, service.id, service.code)
    return DueIndicators(
        version_id,
        due_infos(fetch, service, period, version_id, version_number, layout=layout),
        layout,
    )


def due_infos(
    fetch: Fetch,
    service: ServiceRow,
    period: Period,
    version_id: int,
    version_number: int,
    *,
    layout: FormLayout | _Unread | None = _UNREAD,
) -> list[IndicatorInfo]:
    """The service's indicators due for the period as a definitions version has them, with the
    targets in force, in form order (`layout`, read here when not given): in three queries
    however many indicators there are."""
    latest = {}
    for row in reads.service_definitions(fetch, service.id, version_id):
        latest[row.indicator_id] = row  # later versions overwrite earlier
    targets: dict[int, Decimal | None] = {}
    for target in reads.service_targets(fetch, service.id):
        if parse_period(target.applies_from).start <= period.start:  # the newest in force
            targets[target.indicator_id] = from_canonical(target.value)
    baselines = {row.indicator_id: row for row in reads.service_baselines(fetch, service.id)}
    infos = [
        indicator_info(
            row,
            row,
            baselines.get(row.indicator_id),
            version_number,
            targets.get(row.indicator_id),
            service=service,
            theme=_Theme(row.theme_code, row.theme_name),
        )
        for row in latest.values()
    ]
    if isinstance(layout, _Unread):
        layout = layout_of(fetch, service.id, service.code)
    return due_in_form_order(infos, service.code, period, layout)


# --- earlier values and the coordinator's queries -----------------------------------------


def earlier_values(fetch: Fetch, service_id: int, before: Period) -> dict[str, dict[str, Decimal]]:
    """For each indicator code, its value in each earlier period (latest revision of each)."""
    result: dict[str, dict[str, Decimal]] = {}
    revision_seen: dict[tuple[str, str], int] = {}
    earlier: dict[str, bool] = {}  # by period code: a service's history repeats a few periods
    for period_code, revision, code, text in reads.service_values(fetch, service_id):
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


def history_of(info: IndicatorInfo, period: Period, earlier: Mapping[str, Decimal]) -> History:
    """What an indicator's earlier values say about a new one for `period`."""
    year_earlier = earlier.get(period.year_earlier().code)
    if info.rules.frequency.value == "annual":
        previous = year_earlier
    else:
        previous = earlier.get(period.previous().code)
    values = list(earlier.values())
    known = len(values) >= RANGE_NEEDS_VALUES
    return History(
        previous=previous,
        year_earlier=year_earlier,
        seen_min=min(values) if known else None,
        seen_max=max(values) if known else None,
    )


def queries_up_to(
    fetch: Fetch, service_id: int, service_code: str, period: str, revision: int | None
) -> ReturnQueries | None:
    """The queries of the latest returned revision up to `revision`, with the answers given
    in the revisions after it (up to `revision`); None when no such revision was returned."""
    if revision is None:
        return None
    returned = reads.last_revision_in_state(
        fetch, service_id, period, ReturnState.RETURNED, revision
    )
    if returned is None:
        return None
    asked_revision, uuid = returned
    events = reads.query_events(
        fetch,
        service_code,
        period,
        (AuditAction.QUERY_ASK, AuditAction.QUERY_ANSWER, AuditAction.RETURN_RETURN),
    )
    reason = returned_by = returned_at = source = None
    asked: dict[str, QueryInfo] = {}
    answers: dict[str, tuple[str | None, str, datetime, int]] = {}
    for event in events:
        if event.action == AuditAction.RETURN_RETURN and event.return_uuid == uuid:
            reason, returned_by, returned_at = event.reason, event.actor, event.at
            source = event.source
        elif (
            event.action == AuditAction.QUERY_ASK and event.return_uuid == uuid and event.indicator
        ):
            asked[event.indicator] = QueryInfo(
                code=event.indicator,
                question=event.reason or "",
                asked_revision=asked_revision,
                asked_by=event.actor,
                asked_at=event.at,
                source=event.source,
            )
        elif (
            event.action == AuditAction.QUERY_ANSWER
            and event.indicator
            and event.revision is not None
            and asked_revision < event.revision <= revision
        ):
            answers[event.indicator] = (event.new, event.actor, event.at, event.revision)
    queries = []
    for code, query in asked.items():
        answer = answers.get(code)
        if answer is not None and answer[0]:
            text, by, at, answer_revision = answer
            query = replace(
                query, answer=text, answered_by=by, answered_at=at, answer_revision=answer_revision
            )
        queries.append(query)
    return ReturnQueries(
        service=service_code,
        period=period,
        asked_revision=asked_revision,
        return_uuid=uuid,
        reason=reason,
        returned_by=returned_by,
        returned_at=returned_at,
        queries=tuple(queries),
        source=source,
    )


# --- the view ----------------------------------------------------------------------------


def build_view(
    fetch: Fetch,
    service: ServiceRow,
    period: Period,
    ret: RevisionRow | None,
    due: DueIndicators | None = None,
) -> ReturnView:
    """A service's return for a period as `ret` holds it (an empty one when None). `due`: the
    indicators the caller already read in this transaction, used when of the same version."""
    # A revision is read with the definitions it was made with, never a later version's.
    if ret is not None:
        version_id, version_number = ret.version_id, ret.version_number
    else:
        version = version_for(fetch, period)
        version_id, version_number = version.id, version.number
    if due is None or due.version_id != version_id:
        due = read_due(fetch, service, period, version_id, version_number)
    infos, layout = due.infos, due.layout
    stored = {row.code: row for row in reads.stored_entries(fetch, ret.id)} if ret else {}
    earlier = earlier_values(fetch, service.id, period)
    queries = queries_up_to(
        fetch, service.id, service.code, period.code, ret.revision if ret else None
    )
    rows = []
    for info in infos:
        state = EntryText.of(stored.get(info.code))
        entry = state.entry()
        history = history_of(info, period, earlier.get(info.code, {}))
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
    return ReturnView(
        service=service_info_of(service),
        period=period.code,
        period_label=period.label,
        revision=ret.revision if ret else None,
        state=ret.state if ret else NOT_STARTED,
        return_uuid=ret.uuid if ret else None,
        definitions_version=version_number,
        updated_at=ret.updated_at if ret else None,
        rows=tuple(rows),
        queries=queries,
    )


def read_return(fetch: Fetch, service: str, period: str) -> ReturnView:
    """A service's return for a period: its newest revision, or an empty one not yet started."""
    owner = find_service(fetch, service)
    the_period = return_period(period)
    view = build_view(
        fetch, owner, the_period, reads.latest_revision(fetch, owner.id, the_period.code)
    )
    if not view.rows and the_period.kind is PeriodKind.MONTH:
        raise NotFoundError(nothing_due(view.service.name, the_period))
    return view


def nothing_due(service: str, period: Period) -> str:
    """Why a return asks for nothing: a month, for a service with no monthly indicators."""
    if period.kind is PeriodKind.MONTH:
        return (
            f"{service} has no monthly indicators, so there is no return for "
            f"{period.label}: use the quarter, {period.quarter().code}."
        )
    return f"The {service} return for {period.label} asks for no indicators."
