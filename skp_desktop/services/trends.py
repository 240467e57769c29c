"""Indicators over time, as the chart series the charts layer draws (no matplotlib here)."""

from __future__ import annotations

import os
from collections.abc import Container, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from skp_desktop.charts.series import ComparatorSeries, DashboardTile, TrendPoint, TrendSeries
from skp_desktop.domain.definitions import Definition, Frequency, is_due
from skp_desktop.domain.errors import NotFoundError
from skp_desktop.domain.periods import Period, PeriodKind, parse_period, period_range
from skp_desktop.domain.rag import direction_label, rag_status
from skp_desktop.domain.values import from_canonical
from skp_desktop.services.catalogue import get_service, indicator_infos
from skp_desktop.services.comparators import comparator_series, comparators_in
from skp_desktop.services.database import Database
from skp_desktop.services.dto import IndicatorInfo
from skp_desktop.services.output_files import check_output, writing
from skp_desktop.store.models import Indicator, Return, Service, Target, Value


def _held(
    session: Session, indicator: Indicator, service: Service, leave_out: Container[int] = ()
) -> dict[str, tuple[int, str | None, str | None]]:
    """Each period's figure from the newest revision not in `leave_out` (return ids):
    {period: (revision, value, symbol)}."""
    rows = session.execute(
        select(Return.id, Return.period, Return.revision, Value.value, Value.symbol)
        .join(Value, Value.return_id == Return.id)
        .where(Return.service_id == service.id, Value.indicator_id == indicator.id)
        .order_by(Return.revision)
    )
    held: dict[str, tuple[int, str | None, str | None]] = {}
    for return_id, period, revision, value, symbol in rows:
        if return_id in leave_out:
            continue
        held[period] = (revision, value, symbol)  # later revisions overwrite earlier ones
    return held


def _owner(indicator: Indicator) -> Service:
    """The service that reports an indicator (every indicator but a context measure has one)."""
    assert indicator.service is not None, indicator.code
    return indicator.service


def _series(
    session: Session,
    info: IndicatorInfo,
    indicator: Indicator,
    service: Service,
    through: Period | None,
    comparators: tuple[ComparatorSeries, ...] | None = None,
    leave_out: Container[int] = (),
) -> TrendSeries:
    """`comparators`, when the caller read them already; else they are read here."""
    held = _held(session, indicator, service, leave_out)
    rules = info.rules
    quarters = sorted(
        (p for p in map(parse_period, held) if p.kind is PeriodKind.QUARTER),
        key=lambda p: p.start,
    )
    last = through or (quarters[-1] if quarters else None)
    # The indicator's targets read once: each point takes the one in force in its period.
    target_rows = [
        (parse_period(row.applies_from), from_canonical(row.value))
        for row in session.scalars(
            select(Target).where(Target.indicator_id == indicator.id).order_by(Target.applies_from)
        )
    ]

    def target_in(period: Period) -> Decimal | None:
        chosen: Decimal | None = None
        for start, value in target_rows:
            if start.start <= period.start:
                chosen = value
        return chosen

    points: list[TrendPoint] = []
    if quarters and last is not None and quarters[0].start <= last.start:
        for period in period_range(quarters[0], last):
            if not is_due(rules.frequency, period):
                continue
            revision, text, symbol = held.get(period.code, (0, None, None))
            value = from_canonical(text)
            target = target_in(period)
            points.append(
                TrendPoint(
                    period=period,
                    value=value,
                    symbol=symbol if value is None else None,
                    rag=rag_status(value, target, rules.polarity, rules.amber_tolerance),
                    revised=revision > 1 and value is not None,
                )
            )
    targets = []
    for start, value in target_rows:
        first = next((p.period for p in points if p.period.start >= start.start), None)
        if first is not None and value is not None:
            targets.append((first, value))
    if comparators is None:
        comparators = comparator_series(comparators_in(session, [info.code]).get(info.code, ()))
    return series_of(info, rules, points, targets, comparators)


def series_of(
    info: IndicatorInfo,
    rules: Definition,
    points: Sequence[TrendPoint],
    targets: Sequence[tuple[Period, Decimal]],
    comparators: tuple[ComparatorSeries, ...],
    *,
    title: str | None = None,
) -> TrendSeries:
    """The chart's series of an indicator under `rules`: its Council Plan baseline is drawn
    only when it is in the indicator's unit."""
    baseline = info.baseline
    return TrendSeries(
        code=info.code,
        title=title or info.title,
        unit=rules.unit,
        polarity=rules.polarity,
        decimals=rules.decimals,
        points=tuple(points),
        targets=tuple(targets),
        baseline=baseline.value if baseline and baseline.unit == rules.unit.value else None,
        baseline_label="Baseline (Council Plan)",
        comparators=comparators,
    )


def _indicator(session: Session, code: str) -> Indicator:
    indicator = session.scalar(select(Indicator).where(Indicator.code == code.strip().upper()))
    if indicator is None:
        raise NotFoundError(f"There is no indicator '{code}'.")
    return indicator


CONTEXT_MARK = "(context measure)"  # after a context measure's title on charts


def context_series(
    session: Session, info: IndicatorInfo, through: Period | None = None
) -> TrendSeries:
    """A context measure's trend: its baseline, then the figures the coordinator recorded
    (up to `through`), with no target or RAG."""
    from skp_desktop.services.partnership import context_figures_in

    figures = context_figures_in(session).get(info.code, [])
    points = tuple(
        TrendPoint(period=f.period, value=f.value)
        for f in figures
        if through is None or f.period.start <= through.start
    )
    comparators = comparator_series(comparators_in(session, [info.code]).get(info.code, ()))
    return series_of(
        info, info.rules, points, (), comparators, title=f"{info.title} {CONTEXT_MARK}"
    )


def context_tile(series: TrendSeries, info: IndicatorInfo) -> DashboardTile:
    """A context measure's tile: its latest figure, else its baseline, said as such."""
    latest = series.latest_point
    label = None
    if (latest is None or latest.value is None) and series.baseline is not None:
        label = f"{series.format_value(series.baseline)} (baseline)"
    return DashboardTile(
        series=series, latest_label=label, direction_label=_direction(series, info)
    )


def _context_infos(session: Session, period: Period | None = None) -> list[IndicatorInfo]:
    return [
        i
        for i in indicator_infos(session, period=period, include_context=True)
        if i.kind == "context"
    ]


def indicator_trend(
    db: Database, code: str, *, service: str | None = None, through: str | None = None
) -> TrendSeries:
    """One indicator's figures by period (for its owning service unless another is named); a
    context measure's baseline and later figures."""
    with db.reading() as session:
        indicator = _indicator(session, code)
        if indicator.kind == "context" and service is None:
            last = parse_period(through) if through else None
            measure = next(i for i in _context_infos(session, last) if i.code == indicator.code)
            return context_series(session, measure, last)
        owner = get_service(session, service) if service else indicator.service
        if owner is None:
            raise NotFoundError(f"{indicator.code} has no service that reports it.")
        last = parse_period(through) if through else None
        infos = indicator_infos(session, service=owner, period=last)
        info = next((i for i in infos if i.code == indicator.code), None)
        if info is None:
            raise NotFoundError(f"{indicator.code} is not reported by {owner.name}.")
        return _series(session, info, indicator, owner, last)


def dashboard_tiles(
    db: Database, *, service: str | None = None, theme: str | None = None
) -> list[DashboardTile]:
    """A tile per indicator (of a service, or of a theme, or all), latest value first."""
    with db.reading() as session:
        owner = get_service(session, service) if service else None
        infos: Sequence[IndicatorInfo] = indicator_infos(session, service=owner)
        if theme:
            infos = [i for i in infos if i.theme == theme.strip().upper()]
            if not infos:
                raise NotFoundError(f"There is no theme '{theme}' with indicators.")
        tiles = []
        held = comparators_in(session)  # every indicator's comparators in one query
        for info in infos:
            indicator = _indicator(session, info.code)
            compared = comparator_series(held.get(info.code, ()))
            series = _series(session, info, indicator, _owner(indicator), None, compared)
            tiles.append(DashboardTile(series=series, direction_label=_direction(series, info)))
        if owner is None:  # context measures belong to no service: beside their theme's
            wanted = theme.strip().upper() if theme else None
            theme_of = {i.code: i.theme for i in infos}
            for info in _context_infos(session):
                if wanted and info.theme != wanted:
                    continue
                theme_of[info.code] = info.theme
                at = max(
                    (n + 1 for n, t in enumerate(tiles) if theme_of[t.series.code] == info.theme),
                    default=len(tiles),
                )
                tiles.insert(at, context_tile(context_series(session, info), info))
        return tiles


def _direction(series: TrendSeries, info: IndicatorInfo) -> str | None:
    """Latest value against the one before it (a year earlier for annual indicators)."""
    valued = [p for p in series.points if p.value is not None]
    if len(valued) < 2:
        return None
    latest = valued[-1]
    step = (
        latest.period.year_earlier()
        if info.rules.frequency is Frequency.ANNUAL
        else (latest.period.previous())
    )
    earlier: Decimal | None = next((p.value for p in valued if p.period == step), None)
    return direction_label(latest.value, earlier, info.rules.polarity)


CHART_EXTENSIONS = (".png", ".svg", ".pdf")


def export_trend_chart(
    db: Database, code: str, out: str, *, service: str | None = None, theme: str = "light"
) -> str:
    """Write an indicator's trend chart, as the app draws it, to a PNG, SVG or PDF file."""
    target = Path(out)
    check_output(target, suffixes=CHART_EXTENSIONS, what="chart")
    series = indicator_trend(db, code, service=service)
    # matplotlib is imported only here, when a chart is really wanted.
    from skp_desktop.charts.trend import empty_figure, trend_figure

    figure = (
        trend_figure(series, theme=theme)
        if series.has_values
        else empty_figure(f"{series.code}: no figures have been entered yet.", theme=theme)
    )
    return save_chart(figure, target)


def save_chart(figure: Any, out: str | os.PathLike[str]) -> str:
    """Write a chart's Figure to a PNG, SVG or PDF file (whole, or not at all), refusing a
    name it cannot be and saying plainly why the disk would not take it."""
    from skp_desktop.charts.export import save_figure

    target = Path(out)
    check_output(target, suffixes=CHART_EXTENSIONS, what="chart")
    with writing(target, "chart"):
        return str(save_figure(figure, target))


def series_through(
    session: Session, info: IndicatorInfo, through: Period, leave_out: Container[int] = ()
) -> tuple[TrendSeries, str | None]:
    """In the caller's session: an indicator's series up to `through` for its owning service,
    and its direction of travel at the latest figure (as a dashboard tile shows it); the
    revisions in `leave_out` (return ids) are not used."""
    indicator = _indicator(session, info.code)
    series = _series(session, info, indicator, _owner(indicator), through, leave_out=leave_out)
    return series, _direction(series, info)
