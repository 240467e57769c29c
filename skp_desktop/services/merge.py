"""The partnership workbook: every service's accepted returns for a range of quarters, merged.

Rules (docs/contracts.md, "Partnership workbook"):
- Only the latest *accepted* revision of each return counts. A submitted return waiting for
  review, one returned with a query, or a draft is left out (the Summary's notes count them); an
  earlier accepted revision still counts while a newer one waits for review.
- A count below the indicator's small-number threshold is published as [c]: a count indicator's
  value, or a rate's numerator or denominator (and then the rate too, which would give the
  count away). RAG and direction of travel are left blank where the figure is suppressed.
- Direction of travel compares with the previous quarter (a year earlier for annual
  indicators) and with the same quarter a year earlier, even when those fall before the range.
- The same database and range always give the same file.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Container, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from skp_desktop import __version__
from skp_desktop.domain.definitions import Definition, Frequency
from skp_desktop.domain.errors import SkpError
from skp_desktop.domain.periods import Period, PeriodKind, parse_period
from skp_desktop.domain.rag import direction_label, rag_status
from skp_desktop.domain.values import Symbol, from_canonical
from skp_desktop.domain.vocabulary import MISSING, NOT_DUE, ImportStatus, ReturnState
from skp_desktop.excel.partnership_workbook import (
    CompletenessRow,
    DataRow,
    DefinitionRow,
    Figure,
    PartnershipBook,
    SummaryRow,
    WideRow,
    write_partnership_workbook,
)
from skp_desktop.excel.return_layout import UNIT_LABELS
from skp_desktop.services.audit import UnbackedReturn, unbacked_published
from skp_desktop.services.catalogue import definitions_version_for, indicator_infos
from skp_desktop.services.comparators import STANDARD_SERIES, ComparatorEntry, comparators_in
from skp_desktop.services.completeness import (
    Completeness,
    completeness_in,
    quarter_range,
    services_in_order,
)
from skp_desktop.services.database import Database
from skp_desktop.services.dto import IndicatorInfo
from skp_desktop.services.output_files import check_output, writing
from skp_desktop.services.partnership import context_figures_in
from skp_desktop.store.models import (
    ImportedFile,
    Indicator,
    Return,
    ReturnSignature,
    Target,
    Value,
)

STATE_TEXT = {
    MISSING: "✗ missing",
    ReturnState.DRAFT: "✎ draft",
    ReturnState.SUBMITTED: "➤ submitted",
    ReturnState.RETURNED: "↩ returned",
    ReturnState.ACCEPTED: "✓ accepted",
    NOT_DUE: "— not due",
}
_CHUNK = 500  # ids per IN (…) list: well under every engine's limit on parameters


class MergeCancelled(SkpError):
    """The coordinator cancelled the merge; nothing was written."""


@dataclass(frozen=True)
class MergeResult:
    """What a merge wrote, and what it left out."""

    path: Path
    first: str
    last: str
    returns: int  # accepted returns merged
    figures: int  # rows of the Data sheet
    suppressed: int  # figures published as [c]
    left_out: dict[str, int]  # expected returns not counted, by state of their latest revision
    newer_waiting: int  # accepted returns used while a newer revision waits for review
    sha256: str
    # "accepted" revisions left out because their audit history does not back them
    unbacked: tuple[UnbackedReturn, ...] = ()

    def describe(self) -> str:
        """The result in one or two sentences, for the status line and the command line."""
        first, last = parse_period(self.first), parse_period(self.last)
        text = (
            f"{self.returns} accepted return{'s' if self.returns != 1 else ''} from "
            f"{first.short_label} to {last.short_label}: {self.figures} figure"
            f"{'s' if self.figures != 1 else ''}"
        )
        if self.suppressed:
            text += f" ({self.suppressed} published as [c])"
        text += "."
        words = {
            ReturnState.SUBMITTED: "awaiting review",
            ReturnState.RETURNED: "returned with a query",
            ReturnState.DRAFT: "in draft",
            MISSING: "missing",
        }
        left = [f"{n} {words[state]}" for state, n in self.left_out.items() if n]
        if left:
            text += f" Not counted: {', '.join(left)}."
        if self.newer_waiting:
            text += (
                f" {self.newer_waiting} return{'s have' if self.newer_waiting != 1 else ' has'} "
                "a newer revision awaiting review; the accepted one is used."
            )
        for item in self.unbacked:
            text += f" Not merged, its history does not back it: {item.line}."
        return text


# --- suppression ---------------------------------------------------------------------------


def is_small(rules: Definition, number: Decimal | None) -> bool:
    """Whether a count is below the indicator's small-number threshold (so published as [c])."""
    threshold = rules.small_number_threshold
    if not threshold or number is None:
        return False
    return number < threshold


@dataclass(frozen=True)
class _Published:
    """One held figure as the workbook publishes it."""

    numerator: Figure
    denominator: Figure
    value: Figure
    number: Decimal | None  # the value when published as a number (for RAG and direction)
    suppressed: bool


def publish(
    rules: Definition,
    numerator: Decimal | None,
    denominator: Decimal | None,
    value: Decimal | None,
    symbol: str | None,
) -> _Published:
    """Apply the small-number rule to one held figure."""
    count_places = 0
    suppressed = Figure(symbol=Symbol.SUPPRESSED.value)
    if symbol:
        return _Published(Figure(), Figure(), Figure(symbol=symbol), None, False)
    hide_numerator = rules.has_fraction and is_small(rules, numerator)
    hide_denominator = rules.has_fraction and is_small(rules, denominator)
    hide_value = hide_numerator or hide_denominator or (rules.is_count and is_small(rules, value))
    return _Published(
        numerator=suppressed if hide_numerator else _figure(numerator, count_places),
        denominator=suppressed if hide_denominator else _figure(denominator, count_places),
        value=suppressed if hide_value else _figure(value, rules.decimals),
        number=None if hide_value else value,
        suppressed=hide_value,
    )


def _figure(number: Decimal | None, decimals: int) -> Figure:
    if number is None:
        return Figure()
    places = max(0, -int(number.as_tuple().exponent)) if number != int(number) else 0
    return Figure(value=number, decimals=max(decimals, places))


# --- gathering -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Held:
    """One figure of the latest accepted revision of a service's return."""

    service_id: int
    code: str
    period: Period
    revision: int
    numerator: Decimal | None
    denominator: Decimal | None
    value: Decimal | None
    symbol: str | None
    source_sha256: str | None
    signature: str | None = None  # who signed the file, in words (Data sheet's Signed by)


def _signature_text(status: str, signed_by: str | None, name: str | None, note: str | None) -> str:
    if status == "signed":
        return f"{name} ({signed_by})"
    if status == "template":
        return f"a template issued here (signed by {signed_by}), not signed by the service"
    return f"UNSIGNED, taken because: {note}"


class _Catalogue:
    """Definitions in force for each period, and targets by financial year, read once."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._by_version: dict[int, dict[str, IndicatorInfo]] = {}
        self._by_period: dict[str, dict[str, IndicatorInfo]] = {}
        self._targets: dict[int, list[tuple[date, Decimal]]] = {}
        for indicator_id, applies_from, text in session.execute(
            select(Target.indicator_id, Target.applies_from, Target.value).order_by(
                Target.applies_from
            )
        ):
            number = from_canonical(text)
            if number is not None:
                start = parse_period(applies_from).start
                self._targets.setdefault(indicator_id, []).append((start, number))
        self.ids: dict[str, int] = {}
        self.position: dict[str, int] = {}
        for indicator_id, code, position in session.execute(
            select(Indicator.id, Indicator.code, Indicator.position)
        ):
            self.ids[code], self.position[code] = indicator_id, position

    def infos(self, period: Period) -> dict[str, IndicatorInfo]:
        found = self._by_period.get(period.code)
        if found is None:
            version = definitions_version_for(self._session, period)
            if version.id not in self._by_version:
                infos = indicator_infos(self._session, period=period)
                self._by_version[version.id] = {info.code: info for info in infos}
            found = self._by_period[period.code] = self._by_version[version.id]
        return found

    def rules(self, code: str, period: Period) -> Definition | None:
        info = self.infos(period).get(code)
        if info is None:
            return None
        return replace(info.rules, target=self.target(code, period))

    def target(self, code: str, period: Period) -> Decimal | None:
        chosen = None
        for start, number in self._targets.get(self.ids.get(code, -1), ()):
            if start <= period.start:
                chosen = number
        return chosen


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _accepted(
    session: Session, last: Period, leave_out: Container[int] = (), since: date | None = None
) -> tuple[list[_Held], dict[tuple[int, str], datetime]]:
    """Every figure of the latest accepted revision of each return up to `last` (and from
    `since`, when given), leaving out the revisions (ids) in `leave_out`."""
    chosen: dict[tuple[int, str], tuple[int, int, datetime]] = {}
    for return_id, service_id, code, revision, updated in session.execute(
        select(Return.id, Return.service_id, Return.period, Return.revision, Return.updated_at)
        .where(Return.state == ReturnState.ACCEPTED)
        .order_by(Return.revision)
    ):
        if return_id in leave_out:
            continue
        chosen[(service_id, code)] = (return_id, revision, updated)  # later revisions win
    returns: dict[int, tuple[int, Period, int]] = {}
    updated_at: dict[tuple[int, str], datetime] = {}  # (service id, period code): accepted at
    for (service_id, code), (return_id, revision, updated) in chosen.items():
        period = parse_period(code)
        if (
            period.kind is not PeriodKind.YEAR
            and period.start <= last.end
            and (since is None or since <= period.start)
        ):
            returns[return_id] = (service_id, period, revision)
            updated_at[(service_id, code)] = updated
    ids = sorted(returns)
    files: dict[int, str] = {}
    signatures: dict[int, str] = {}
    held: list[_Held] = []
    for chunk in _chunks(ids):
        for file_return_id, sha in session.execute(
            select(ImportedFile.return_id, ImportedFile.sha256).where(
                ImportedFile.return_id.in_(chunk), ImportedFile.status == ImportStatus.ACCEPTED
            )
        ):
            if file_return_id is not None:  # always: the query asks for these ids
                files[file_return_id] = sha
        for return_id, status, signed_by, name, note in session.execute(
            select(
                ReturnSignature.return_id,
                ReturnSignature.status,
                ReturnSignature.signed_by,
                ReturnSignature.signer_name,
                ReturnSignature.note,
            ).where(ReturnSignature.return_id.in_(chunk))
        ):
            signatures[return_id] = _signature_text(status, signed_by, name, note)
        for return_id, code, numerator, denominator, value, symbol in session.execute(
            select(
                Value.return_id,
                Indicator.code,
                Value.numerator,
                Value.denominator,
                Value.value,
                Value.symbol,
            )
            .join(Indicator, Indicator.id == Value.indicator_id)
            .where(Value.return_id.in_(chunk))
        ):
            service_id, period, revision = returns[return_id]
            held.append(
                _Held(
                    service_id=service_id,
                    code=code,
                    period=period,
                    revision=revision,
                    numerator=from_canonical(numerator),
                    denominator=from_canonical(denominator),
                    value=from_canonical(value),
                    symbol=symbol,
                    source_sha256=files.get(return_id),
                    signature=signatures.get(return_id),
                )
            )
    return held, updated_at


def _unit(rules: Definition) -> str:
    return UNIT_LABELS.get(rules.unit, rules.unit.value)


def _earlier(rules: Definition, period: Period) -> tuple[Period, Period]:
    """The periods a figure is compared with: the previous one and the same one a year earlier."""
    year = period.year_earlier()
    return (year if rules.frequency is Frequency.ANNUAL else period.previous()), year


@dataclass
class _Book:
    """What `_gather` found, before it becomes a PartnershipBook."""

    book: PartnershipBook
    returns: int
    suppressed: int
    left_out: dict[str, int]
    newer_waiting: int
    unbacked: tuple[UnbackedReturn, ...]


def _gather(session: Session, quarters: Sequence[Period], today: date) -> _Book:
    first, last = quarters[0], quarters[-1]
    catalogue = _Catalogue(session)
    services = services_in_order(session)
    service_order = {s.id: i for i, s in enumerate(services)}
    names = {s.id: (s.code, s.name) for s in services}
    # A return whose state or values its history does not back is never published as it is.
    # Only the returns it can show: the range, and the year before it (direction of travel
    # compares with the previous period and the same one a year earlier). Not the years
    # before: reading and publishing them made a year's merge 1.7x slower at ten years.
    since = first.year_earlier().start
    unbacked = unbacked_published(session, since=since)
    held, updated_at = _accepted(session, last, unbacked, since=since)
    refused = tuple(
        sorted(
            (r for r in unbacked.values() if r.state == ReturnState.ACCEPTED),
            key=lambda r: (r.service, r.period, r.revision),
        )
    )
    in_range = [h for h in held if first.start <= h.period.start]

    # Every held figure, as published, by (service, code, period): for direction of travel.
    published: dict[tuple[int, str, str], tuple[_Held, Definition, _Published]] = {}
    for item in held:
        rules = catalogue.rules(item.code, item.period)
        if rules is None:  # an indicator no longer in the definitions: not published
            continue
        figure = publish(rules, item.numerator, item.denominator, item.value, item.symbol)
        published[(item.service_id, item.code, item.period.code)] = (item, rules, figure)

    in_range_keys = {(h.service_id, h.code, h.period.code) for h in in_range}
    ordered = sorted(
        (key for key in published if key in in_range_keys),
        key=lambda k: (
            published[k][0].period.sort_key,
            service_order.get(k[0], len(service_order)),
            catalogue.position.get(k[1], 0),
            k[1],
        ),
    )
    data: list[DataRow] = []
    suppressed = 0
    for key in ordered:
        item, rules, figure = published[key]
        suppressed += figure.suppressed
        target = catalogue.target(item.code, item.period)
        rag = rag_status(figure.number, target, rules.polarity, rules.amber_tolerance)
        code, name = names[item.service_id]
        data.append(
            DataRow(
                service=code,
                service_name=name,
                code=item.code,
                title=rules.title,
                unit=_unit(rules),
                period=item.period.code,
                period_name=item.period.label,
                numerator=figure.numerator,
                denominator=figure.denominator,
                value=figure.value,
                target=_figure(target, rules.decimals),
                rag=rag.value if rag else None,
                revision=item.revision,
                status=ReturnState.ACCEPTED,
                source_sha256=item.source_sha256,
                signed_by=item.signature,
            )
        )

    # Wide and Summary: one row per indicator in force at the end of the range.
    columns = sorted(
        {*quarters, *(h.period for h in in_range if h.period.kind is PeriodKind.MONTH)},
        key=lambda p: p.sort_key,
    )
    service_ids = {code: sid for sid, (code, _name) in names.items()}
    comparators = comparators_in(session)
    series_names = (
        *STANDARD_SERIES,
        *sorted({e.series for held in comparators.values() for e in held} - set(STANDARD_SERIES)),
    )
    wide: list[WideRow] = []
    summary: list[SummaryRow] = []
    definitions: list[DefinitionRow] = []
    for info in catalogue.infos(last).values():
        rules = info.rules
        owner = service_ids.get(info.service or "")
        service_name = info.service_name or ""
        figures = []
        latest: Period | None = None
        for period in columns:
            entry = published.get((owner or -1, info.code, period.code))
            figures.append(entry[2].value if entry else Figure())
            if entry is not None:
                latest = period
        wide.append(WideRow(info.code, info.title, service_name, _unit(rules), tuple(figures)))
        row = _summary_row(info, owner, latest, published, catalogue)
        summary.append(
            replace(
                row,
                comparators=_comparators_at(
                    comparators.get(info.code, ()), series_names, latest, rules.decimals
                ),
            )
        )
        definitions.append(_definition_row(info, catalogue.target(info.code, last)))
    context = _context_rows(session, columns, last)
    summary += context.summary
    wide += context.wide
    definitions += context.definitions

    report = completeness_in(session, quarters, today)
    left_out = {ReturnState.SUBMITTED: 0, ReturnState.RETURNED: 0, ReturnState.DRAFT: 0, MISSING: 0}
    newer_waiting = 0
    accepted_keys = {(h.service_id, h.period.code) for h in in_range}
    ids_by_code = {s.code: s.id for s in services}
    for cell in report.expected_cells():
        taken = (ids_by_code[cell.service.code], cell.period.code) in accepted_keys
        if cell.state in left_out and not taken:
            left_out[cell.state] += 1
        elif cell.state != ReturnState.ACCEPTED and taken:
            newer_waiting += 1
    merged = {(h.service_id, h.period.code) for h in in_range}
    # The newest acceptance among the returns merged: "as held on", with no clock involved.
    as_at = max(
        (when for (sid, code), when in updated_at.items() if (sid, code) in merged),
        default=datetime(last.end.year, last.end.month, last.end.day, tzinfo=UTC),
    )
    book = PartnershipBook(
        title=(
            f"Safer Kingston Partnership: performance summary, {first.short_label} to "
            f"{last.short_label}"
        ),
        notes=_notes(len(merged), left_out, newer_waiting, suppressed, as_at)
        + tuple(f"Not counted, its history does not back it: {r.line}." for r in refused),
        period_names=tuple(p.short_label for p in columns),
        due_dates=tuple(due.due for due in report.due_dates),
        as_at=as_at,
        creator=f"SKP Returns {__version__}",
        summary=tuple(summary),
        data=tuple(data),
        wide=tuple(wide),
        completeness=_completeness_rows(report),
        definitions=tuple(definitions),
        comparator_names=series_names,
    )
    return _Book(book, len(merged), suppressed, left_out, newer_waiting, refused)


CONTEXT_SERVICE = "Context measure (no return)"  # the Service cell of a context measure's rows


@dataclass
class _ContextRows:
    summary: list[SummaryRow]
    wide: list[WideRow]
    definitions: list[DefinitionRow]


def _context_rows(session: Session, columns: Sequence[Period], last: Period) -> _ContextRows:
    """The context measures' own rows, after the indicators', marked as context: their
    figures the coordinator recorded in the range (Wide), the latest up to the range's end or
    else the baseline (Summary)."""
    rows = _ContextRows([], [], [])
    figures = context_figures_in(session)
    for info in indicator_infos(session, period=last, include_context=True):
        if info.kind != "context":
            continue
        rules = info.rules
        held = {f.period.code: f.value for f in figures.get(info.code, ())}
        rows.wide.append(
            WideRow(
                info.code,
                info.title,
                CONTEXT_SERVICE,
                _unit(rules),
                tuple(_figure(held.get(p.code), rules.decimals) for p in columns),
            )
        )
        latest = [f for f in figures.get(info.code, ()) if f.period.start <= last.start]
        if latest:
            figure = latest[-1]
            period, value = figure.period.label, figure.value
            note = (
                f"context measure; baseline {info.baseline.value}"
                if info.baseline
                else ("context measure")
            )
            if figure.source:
                note += f"; source: {figure.source}"
        elif info.baseline is not None:
            period = info.baseline.period or "baseline"
            value = info.baseline.value
            note = "context measure: the baseline, no later figure recorded"
        else:
            period, value, note = None, None, "context measure: no figure recorded"
        rows.summary.append(
            SummaryRow(
                code=info.code,
                title=info.title,
                service=CONTEXT_SERVICE,
                unit=_unit(rules),
                period=period,
                value=_figure(value, rules.decimals),
                target=Figure(),
                rag=None,
                direction_previous=None,
                direction_year=None,
                note=note,
            )
        )
        definition = _definition_row(info, None)
        rows.definitions.append(replace(definition, service=CONTEXT_SERVICE))
    return rows


def _summary_row(
    info: IndicatorInfo,
    owner: int | None,
    latest: Period | None,
    published: dict[tuple[int, str, str], tuple[_Held, Definition, _Published]],
    catalogue: _Catalogue,
) -> SummaryRow:
    rules = info.rules
    if latest is None or owner is None:
        return SummaryRow(
            code=info.code,
            title=info.title,
            service=info.service_name or "",
            unit=_unit(rules),
            period=None,
            value=Figure(),
            target=_figure(rules.target, rules.decimals),
            rag=None,
            direction_previous=None,
            direction_year=None,
            note="no accepted return in this range",
        )
    item, held_rules, figure = published[(owner, info.code, latest.code)]
    target = catalogue.target(info.code, latest)
    rag = rag_status(figure.number, target, held_rules.polarity, held_rules.amber_tolerance)
    directions = []
    for earlier in _earlier(held_rules, latest):
        before = published.get((owner, info.code, earlier.code))
        directions.append(
            direction_label(figure.number, before[2].number, held_rules.polarity)
            if before
            else None
        )
    notes = []
    if figure.suppressed:
        notes.append("[c]: a small number, not published")
    elif figure.value.symbol:
        notes.append(f"{figure.value.symbol}: {Symbol(figure.value.symbol).description}")
    if item.revision > 1:
        notes.append(f"revision {item.revision}")
    return SummaryRow(
        code=info.code,
        title=info.title,
        service=info.service_name or "",
        unit=_unit(held_rules),
        period=latest.label,
        value=figure.value,
        target=_figure(target, held_rules.decimals),
        rag=rag.value if rag else None,
        direction_previous=directions[0],
        direction_year=directions[1],
        note="; ".join(notes) or None,
    )


def _comparators_at(
    entries: Sequence[ComparatorEntry], names: Sequence[str], latest: Period | None, decimals: int
) -> tuple[Figure, ...]:
    """Each series' comparator for the Summary's latest period (blank where there is none)."""
    if latest is None:
        return tuple(Figure() for _ in names)
    held = {e.series: e.value for e in entries if e.period == latest}
    return tuple(_figure(held.get(name), decimals) for name in names)


def _definition_row(info: IndicatorInfo, target: Decimal | None) -> DefinitionRow:
    rules = info.rules
    return DefinitionRow(
        code=info.code,
        title=info.title,
        service=info.service_name or "",
        theme=info.theme_name,
        unit=rules.unit.value,
        polarity=rules.polarity.value,
        frequency=rules.frequency.value,
        decimals=rules.decimals,
        numerator=rules.numerator_label if rules.has_fraction else None,
        denominator=rules.denominator_label if rules.has_fraction else None,
        target=_figure(target, rules.decimals),
        amber_tolerance=_figure(rules.amber_tolerance, rules.decimals)
        if rules.amber_tolerance
        else Figure(),
        small_number_threshold=rules.small_number_threshold,
        definition=info.definition_text,
        source=info.source or info.source_document,
    )


def _completeness_rows(report: Completeness) -> tuple[CompletenessRow, ...]:
    rows = []
    for service, cells in zip(report.services, report.cells, strict=True):
        states = []
        for cell in cells:
            text = STATE_TEXT[cell.state]
            if cell.revision and cell.revision > 1:
                text += f" (revision {cell.revision})"
            states.append((cell.state, text))
        rows.append(CompletenessRow(service.name, tuple(states)))
    return tuple(rows)


def _notes(
    merged: int, left_out: dict[str, int], newer_waiting: int, suppressed: int, as_at: datetime
) -> tuple[str, ...]:
    submitted, returned = left_out[ReturnState.SUBMITTED], left_out[ReturnState.RETURNED]
    left = (
        f"{submitted} submitted and awaiting review, {returned} returned "
        f"with a query, {left_out[ReturnState.DRAFT]} in draft and {left_out[MISSING]} missing"
    )
    notes = [
        f"Only accepted returns are counted: {merged} here. Not counted: {left}"
        + (
            f"; {newer_waiting} newer revision{'s' if newer_waiting != 1 else ''} awaiting "
            "review (the accepted revision before each is used)."
            if newer_waiting
            else "."
        ),
        "RAG is against the target in force for the period (Green met, Amber within the "
        "tolerance, Red missed). Direction of travel compares with the previous quarter (a year "
        "earlier for annual indicators) and with the same quarter a year earlier: ↑ and ↓ "
        "follow the number, the word says whether that is an improvement.",
        "Symbols: [x] not available, [z] not applicable, [c] suppressed because the number is "
        f"small ({suppressed} figure{'s' if suppressed != 1 else ''} in this workbook).",
        "The columns after Note compare each indicator with other areas (the London and England "
        "averages, and any other series the coordinator entered), in the indicator's unit, for "
        "its latest period; blank where no figure was entered.",
        f"Figures as held on {as_at.astimezone(UTC).strftime('%d/%m/%Y %H:%M')} UTC "
        "(when the newest of these returns was accepted).",
    ]
    return tuple(notes)


# --- the use case ----------------------------------------------------------------------------


def merge_export(
    db: Database,
    *,
    out: str | os.PathLike[str],
    first: str | None = None,
    last: str | None = None,
    today: date | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> MergeResult:
    """Write the partnership workbook for the quarters `first` to `last` (default: the last
    four, up to the one due now); all or nothing."""
    target = Path(out)
    check_output(target, suffixes=(".xlsx",), what="partnership workbook")
    quarters = quarter_range(first, last, today or date.today())

    def step(done: int, text: str) -> None:
        if cancelled is not None and cancelled():
            raise MergeCancelled("Merge cancelled: nothing was written.")
        if progress is not None:
            progress(done, 3, text)

    step(0, "Reading the accepted returns…")
    with db.reading() as session:
        gathered = _gather(session, quarters, today or date.today())
    step(1, "Writing the workbook…")
    with writing(target, "workbook"):
        digest = write_partnership_workbook(gathered.book, target)
    if progress is not None:
        progress(3, 3, "Done.")
    return MergeResult(
        path=target,
        first=quarters[0].code,
        last=quarters[-1].code,
        returns=gathered.returns,
        figures=len(gathered.book.data),
        suppressed=gathered.suppressed,
        left_out=gathered.left_out,
        newer_waiting=gathered.newer_waiting,
        sha256=digest,
        unbacked=gathered.unbacked,
    )
