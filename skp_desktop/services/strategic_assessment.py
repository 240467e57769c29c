"""The annual strategic assessment: the partnership's statutory duty "to share data and
intelligence and produce an annual strategic assessment", for one financial year.

For every indicator and context measure, once: the year's figures by quarter, five years of
trend, change on the year, target and RAG, comparators where held; a section per statutory
duty and per Council Plan priority (catalogue order); and a data-quality section (returns late,
revised after submission, taken unsigned or modified, [x] not available, not accepted).

Figures follow the partnership workbook's rules (services/merge.py): only the latest accepted
revision of each return counts, and a small number is published as [c].
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from skp_desktop.domain.assessment import (
    AssessedFigure,
    AssessedMeasure,
    Assessment,
    AssessmentSection,
    QualityNote,
)
from skp_desktop.domain.definitions import Definition, is_due
from skp_desktop.domain.errors import NotFoundError, SkpError, ValidationError
from skp_desktop.domain.periods import Period, PeriodKind, parse_period, period_range
from skp_desktop.domain.rag import direction_label, rag_status
from skp_desktop.domain.vocabulary import AuditAction, ReturnState
from skp_desktop.services.audit import unbacked_returns
from skp_desktop.services.catalogue import indicator_infos
from skp_desktop.services.comparators import STANDARD_SERIES, comparators_in
from skp_desktop.services.completeness import completeness_in
from skp_desktop.services.database import Database
from skp_desktop.services.dto import IndicatorInfo
from skp_desktop.services.due_dates import due_dates_in
from skp_desktop.services.merge import _accepted, _Catalogue, _unit, publish
from skp_desktop.services.output_files import check_output, writing
from skp_desktop.services.partnership import context_figures_in
from skp_desktop.services.trends import context_series, series_of
from skp_desktop.store.models import AuditEvent, Return, Service, Theme

if TYPE_CHECKING:
    from skp_desktop.charts.series import TrendSeries

YEARS = 5  # of trend, the assessed year included
CONTEXT_SERVICE = "Context measure (no return)"
NOT_ASKED = AssessedFigure(symbol="[z]")  # a quarter the measure is not reported for
SUFFIXES = (".pdf", ".xlsx")


def assessment_year(code: str) -> Period:
    """The financial year an assessment is for."""
    try:
        period = parse_period(code)
    except ValidationError as exc:
        raise NotFoundError(f"--year {code}: {exc.message}") from None
    if period.kind is not PeriodKind.YEAR:
        raise NotFoundError(
            f"--year {code}: the strategic assessment is made for a financial year, e.g. "
            f"{period.financial_year().code}."
        )
    return period


def _quarters(year: Period) -> list[Period]:
    return [parse_period(f"{year.code}-Q{index}") for index in range(1, 5)]


@dataclass
class _Reader:
    """What the assessment reads once, in one session."""

    session: Session
    year: Period

    def __post_init__(self) -> None:
        self.quarters = _quarters(self.year)
        self.first = parse_period(f"{_year_code(self.year.fy_start - YEARS + 1)}-Q1")
        self.catalogue = _Catalogue(self.session)
        self.service_ids = {
            code: sid for sid, code in self.session.execute(select(Service.id, Service.code))
        }
        # a return whose state or values its history does not back is never published; those
        # of the years read (the trends go back YEARS years) are listed
        self.unbacked = unbacked_returns(self.session)
        self.left_out = sorted(
            (
                item
                for item in self.unbacked.values()
                if self.first.start <= parse_period(item.period).start <= self.quarters[-1].start
            ),
            key=lambda r: (r.service, r.period, r.revision),
        )
        held, _ = _accepted(self.session, self.quarters[-1], self.unbacked)
        # (service id, code, period code): (figure as published, number, revision)
        self.published: dict[tuple[int, str, str], tuple[AssessedFigure, Decimal | None]] = {}
        self.suppressed = 0
        self.not_available: list[tuple[int, str, Period]] = []
        for item in held:
            rules = self.catalogue.rules(item.code, item.period)
            if rules is None:
                continue
            figure = publish(rules, item.numerator, item.denominator, item.value, item.symbol)
            value = figure.value
            self.published[(item.service_id, item.code, item.period.code)] = (
                AssessedFigure(value.value, value.decimals, value.symbol),
                figure.number,
            )
            if item.period.financial_year() == self.year:
                self.suppressed += figure.suppressed
                if item.symbol == "[x]":
                    self.not_available.append((item.service_id, item.code, item.period))
        self.comparators = comparators_in(self.session)
        self.context = context_figures_in(self.session)


def _figure(number: Decimal | None, decimals: int) -> AssessedFigure:
    if number is None:
        return AssessedFigure()
    places = max(0, -int(number.as_tuple().exponent)) if number != int(number) else 0
    return AssessedFigure(number, max(decimals, places))


def _measure(reader: _Reader, info: IndicatorInfo) -> tuple[AssessedMeasure, TrendSeries | None]:
    rules = info.rules
    held: dict[str, tuple[AssessedFigure, Decimal | None]]
    if info.kind == "context":
        held = {
            f.period.code: (_figure(f.value, rules.decimals), f.value)
            for f in reader.context.get(info.code, ())
        }
        service = CONTEXT_SERVICE
    else:
        owner = reader.service_ids.get(info.service or "", -1)
        held = {
            period: found
            for (sid, code, period), found in reader.published.items()
            if sid == owner and code == info.code
        }
        service = info.service_name or ""
    quarters = tuple(
        held.get(q.code, (AssessedFigure(), None))[0] if is_due(rules.frequency, q) else NOT_ASKED
        for q in reader.quarters
    )
    latest_period = next((q for q in reversed(reader.quarters) if q.code in held), None)
    latest, number = (
        held.get(latest_period.code, (AssessedFigure(), None))
        if latest_period
        else (
            AssessedFigure(),
            None,
        )
    )
    at = latest_period or reader.quarters[-1]
    earlier, earlier_number = held.get(at.year_earlier().code, (AssessedFigure(), None))
    change = number - earlier_number if number is not None and earlier_number is not None else None
    target = None if info.kind == "context" else reader.catalogue.target(info.code, at)
    rag = rag_status(number, target, rules.polarity, rules.amber_tolerance)
    compared = {e.series: e.value for e in reader.comparators.get(info.code, ()) if e.period == at}
    names = (*STANDARD_SERIES, *sorted(set(compared) - set(STANDARD_SERIES)))
    years = []
    for offset in range(YEARS - 1, -1, -1):
        fy = parse_period(_year_code(reader.year.fy_start - offset))
        in_year = [q for q in _quarters(fy) if q.code in held]
        years.append((fy.short_label, held[in_year[-1].code][0] if in_year else AssessedFigure()))
    baseline = info.baseline
    measure = AssessedMeasure(
        code=info.code,
        title=info.title,
        kind=info.kind,
        service=service,
        unit=_unit(rules),
        polarity=rules.polarity.value,
        frequency=rules.frequency.value,
        quarters=quarters,
        latest=latest,
        latest_period=latest_period.short_label if latest_period else None,
        year_earlier=earlier,
        change=change,
        direction=direction_label(number, earlier_number, rules.polarity),
        target=_figure(target, rules.decimals),
        rag=rag.value if rag else None,
        comparators=tuple(
            (name, _figure(compared.get(name), rules.decimals))
            for name in names
            if name in compared or name in STANDARD_SERIES
        ),
        years=tuple(years),
        baseline=_figure(baseline.value, rules.decimals) if baseline else AssessedFigure(),
        note=_note(info, latest_period, latest),
    )
    return measure, _series(reader, info, rules, held)


def _year_code(fy_start: int) -> str:
    return f"FY{fy_start}-{(fy_start + 1) % 100:02d}"


def _note(info: IndicatorInfo, latest: Period | None, figure: AssessedFigure) -> str | None:
    if latest is None:
        if info.kind == "context":
            return "no figure recorded for the year: the baseline is the latest known"
        return "no accepted return for the year"
    if figure.symbol == "[c]":
        return "[c]: a small number, not published"
    if figure.symbol:
        return f"{figure.symbol} in the latest return"
    return None


def _series(
    reader: _Reader,
    info: IndicatorInfo,
    rules: Definition,
    held: dict[str, tuple[AssessedFigure, Decimal | None]],
) -> TrendSeries:
    """Five years of figures to the year's end, as the charts draw a trend."""
    if info.kind == "context":
        return context_series(reader.session, info, reader.quarters[-1])
    from skp_desktop.charts.series import TrendPoint
    from skp_desktop.services.comparators import comparator_series

    periods = [
        p for p in period_range(reader.first, reader.quarters[-1]) if is_due(rules.frequency, p)
    ]
    first_held = next((n for n, p in enumerate(periods) if p.code in held), len(periods))
    points = []
    for period in periods[first_held:]:
        figure, number = held.get(period.code, (AssessedFigure(), None))
        target = reader.catalogue.target(info.code, period)
        points.append(
            TrendPoint(
                period=period,
                value=number,
                symbol=figure.symbol if number is None else None,
                rag=rag_status(number, target, rules.polarity, rules.amber_tolerance),
            )
        )
    targets: list[tuple[Period, Decimal]] = []
    for point in points:
        target = reader.catalogue.target(info.code, point.period)
        if target is not None and (not targets or targets[-1][1] != target):
            targets.append((point.period, target))
    comparators = comparator_series(reader.comparators.get(info.code, ()))
    return series_of(info, rules, points, targets, comparators)


def _quality(reader: _Reader, today: date) -> list[QualityNote]:
    session, quarters = reader.session, reader.quarters
    codes = [q.code for q in quarters]
    labels = {q.code: q.short_label for q in quarters}
    notes: list[QualityNote] = []
    due = due_dates_in(session, quarters)
    names = {sid: name for sid, name in session.execute(select(Service.id, Service.name))}
    latest: dict[tuple[int, str], tuple[int, str, str | None]] = {}
    for service_id, period, revision, submitted_at, state, reason in session.execute(
        select(
            Return.service_id,
            Return.period,
            Return.revision,
            Return.submitted_at,
            Return.state,
            Return.reopen_reason,
        )
        .where(Return.period.in_(codes))
        .order_by(Return.period, Return.service_id, Return.revision)
    ):
        if revision == 1 and submitted_at is not None:
            deadline = due[period].due
            if submitted_at.date() > deadline:
                notes.append(
                    QualityNote(
                        "Late",
                        names[service_id],
                        labels[period],
                        f"submitted {submitted_at.date().isoformat()}, due "
                        f"{deadline.isoformat()} ({(submitted_at.date() - deadline).days} days)",
                        days_late=(submitted_at.date() - deadline).days,
                    )
                )
        latest[(service_id, period)] = (revision, state, reason)
    for (service_id, period), (revision, _state, reason) in latest.items():
        if revision > 1:
            notes.append(
                QualityNote(
                    "Revised after submission",
                    names[service_id],
                    labels[period],
                    f"revision {revision}" + (f": {reason}" if reason else ""),
                )
            )
    for event_service, event_period, reason in session.execute(
        select(AuditEvent.service, AuditEvent.period, AuditEvent.reason)
        .where(AuditEvent.action == AuditAction.RETURN_IMPORT, AuditEvent.period.in_(codes))
        .order_by(AuditEvent.id)
    ):
        text = reason or ""
        if "imported from an UNSIGNED" in text:
            detail = "an unsigned file, taken because: " + text.partition("because: ")[2]
        elif text.startswith("filled template"):
            detail = "a filled template (not signed by the service)"
        elif text.startswith("accepted as modified"):
            detail = "changed after export, accepted as modified"
        else:
            continue
        notes.append(
            QualityNote(
                "Taken unsigned or modified",
                _service_name(session, event_service),
                labels.get(event_period or "", event_period or ""),
                detail,
            )
        )
    for item in reader.left_out:
        notes.append(
            QualityNote(
                "Left out: not backed by its history",
                _service_name(session, item.service),
                labels.get(item.period) or parse_period(item.period).short_label,
                f"revision {item.revision}: " + "; ".join(item.reasons),
            )
        )
    for service_id, code, missing_period in reader.not_available:
        notes.append(
            QualityNote("Not available [x]", names[service_id], missing_period.short_label, code)
        )
    report = completeness_in(session, quarters, today)
    for cell in report.expected_cells():
        if cell.state != ReturnState.ACCEPTED:
            notes.append(
                QualityNote(
                    "Not accepted",
                    cell.service.name,
                    cell.period.short_label,
                    f"{cell.state}: its figures are not in the assessment",
                )
            )
    return notes


def _service_name(session: Session, code: str | None) -> str:
    name = session.scalar(select(Service.name).where(Service.code == (code or "")))
    return name or (code or "")


def strategic_assessment(
    db: Database, year: str, *, made: date | None = None
) -> tuple[Assessment, dict[str, TrendSeries]]:
    """The assessment of a financial year, and each measure's five-year trend by code."""
    the_year = assessment_year(year)
    today = made or date.today()
    with db.reading() as session:
        reader = _Reader(session, the_year)
        infos = indicator_infos(session, period=reader.quarters[-1], include_context=True)
        series: dict[str, TrendSeries] = {}
        by_theme: dict[str, list[AssessedMeasure]] = {}
        for info in infos:
            measure, trend = _measure(reader, info)
            by_theme.setdefault(info.theme, []).append(measure)
            if trend is not None:
                series[info.code] = trend
        sections = tuple(
            AssessmentSection(
                code=theme.code,
                kind=theme.kind,
                name=theme.name,
                commitment=theme.commitment,
                measures=tuple(by_theme.get(theme.code, ())),
            )
            for theme in session.scalars(select(Theme).order_by(Theme.id))
        )
        # statutory duties first: the assessment is the partnership's duty
        sections = tuple(sorted(sections, key=lambda s: 0 if s.kind == "statutory duty" else 1))
        quality = _quality(reader, today)
        names = {e.series for held in reader.comparators.values() for e in held}
    assessment = Assessment(
        year=the_year.code,
        year_label=the_year.short_label,
        quarter_labels=tuple(q.short_label for q in reader.quarters),
        sections=sections,
        quality=tuple(quality),
        made=today,
        suppressed=reader.suppressed,
        comparator_names=(*STANDARD_SERIES, *sorted(names - set(STANDARD_SERIES))),
        left_out=tuple(item.line for item in reader.left_out),
    )
    return assessment, series


@dataclass(frozen=True)
class AssessmentFile:
    """A strategic assessment written."""

    path: str
    year: str
    measures: int
    sections: int
    pages: int | None  # a PDF's pages
    # returns whose audit history does not back them, left out of it, one line each
    left_out: tuple[str, ...] = ()

    def describe(self) -> str:
        pages = f" on {self.pages} pages" if self.pages else ""
        text = (
            f"strategic assessment for {self.year}, {self.measures} indicators and context "
            f"measures in {self.sections} sections{pages}"
        )
        for line in self.left_out:
            text += f". Not published, its history does not back it: {line}"
        return text


class AssessmentCancelled(SkpError):
    """The coordinator cancelled the strategic assessment; nothing was written."""


def write_assessment(
    db: Database,
    *,
    year: str,
    out: str | os.PathLike[str],
    made: date | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> AssessmentFile:
    """Write the assessment as a PDF (pages a board can read) or an .xlsx (Excel Tables).

    `progress(done, total, text)` says how far it is (total 0: not known ahead); when
    `cancelled()` turns true it stops with AssessmentCancelled and `out` is left as it was.
    """
    target = Path(out)
    check_output(target, suffixes=SUFFIXES, what="strategic assessment")

    def step(done: int, text: str) -> None:
        if cancelled is not None and cancelled():
            raise AssessmentCancelled("Cancelled: the strategic assessment was not saved.")
        if progress is not None:
            progress(done, 0, text)

    try:
        shown = parse_period(year).short_label
    except ValidationError:
        shown = year  # strategic_assessment says what is wrong with it
    step(0, f"Reading five years of returns for {shown}…")
    assessment, series = strategic_assessment(db, year, made=made)
    step(0, "Writing…")
    pages = None
    with writing(target, "strategic assessment"):
        if target.suffix.lower() == ".pdf":
            from skp_desktop.charts.strategic_assessment import write_assessment_pdf

            pages = write_assessment_pdf(
                assessment,
                series,
                target,
                after_page=lambda written: step(written, f"Page {written} written"),
            )
        else:
            from skp_desktop.excel.strategic_assessment import write_assessment_workbook

            write_assessment_workbook(assessment, target)
    return AssessmentFile(
        path=str(target),
        year=assessment.year_label,
        measures=len(assessment.measures),
        sections=len(assessment.sections),
        pages=pages,
        left_out=assessment.left_out,
    )
