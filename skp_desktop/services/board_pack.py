"""The board pack: one PDF for a quarter, with the dashboard and a page per indicator."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from skp_desktop.charts.series import DashboardTile
from skp_desktop.domain.definitions import is_due
from skp_desktop.domain.errors import NotFoundError, ValidationError
from skp_desktop.domain.periods import Period, PeriodKind, parse_period
from skp_desktop.services.audit import UnbackedReturn, unbacked_published
from skp_desktop.services.catalogue import get_service, indicator_infos
from skp_desktop.services.database import Database
from skp_desktop.services.dto import IndicatorInfo
from skp_desktop.services.output_files import check_output, writing
from skp_desktop.services.returns import latest_return
from skp_desktop.services.trends import context_series, context_tile, series_through
from skp_desktop.store.models import Indicator, Return, Service, Theme, Value

if TYPE_CHECKING:
    from skp_desktop.charts.board_pack import BoardPack


@dataclass(frozen=True)
class BoardPackFile:
    """A board pack written to disk."""

    path: str
    period: str
    period_label: str
    scope: str
    indicators: int
    pages: int
    # returns whose audit history does not back them, left out of the pack, one line each
    left_out: tuple[str, ...] = ()


def pack_period(code: str) -> Period:
    """The quarter a board pack is for; anything else is a usage error that says what to give."""
    try:
        period = parse_period(code)
    except ValidationError as exc:
        raise NotFoundError(str(exc.message)) from exc
    if period.kind is not PeriodKind.QUARTER:
        raise NotFoundError(
            f"A board pack is made for a quarter, e.g. {period.financial_year().code}-Q1; "
            f"'{code}' is not one."
        )
    return period


def _words(
    session: Session, service: Service, indicator: Indicator, period: Period
) -> tuple[Value | None, Return | None]:
    """What the service's newest revision for `period` holds for the indicator, if anything."""
    ret = latest_return(session, service, period)
    if ret is None:
        return None, None
    value = session.scalar(
        select(Value).where(Value.return_id == ret.id, Value.indicator_id == indicator.id)
    )
    return value, ret


def _return_note(
    service: Service, period: Period, ret: Return | None, unbacked: UnbackedReturn | None = None
) -> str:
    if unbacked is not None:
        return (
            f"the {service.name} return for {period.short_label}, revision {unbacked.revision}, "
            f"is left out: its audit history does not back it ({'; '.join(unbacked.reasons)})"
        )
    if ret is None:
        return f"{service.name} has made no return for {period.short_label} yet"
    return (
        f"from the {service.name} return for {period.short_label}, revision {ret.revision}, "
        f"{ret.state}"
    )


CONTEXT_SERVICE = "Context measure (no return)"


def _add_context_measures(
    session: Session, items: list[Any], infos: list[IndicatorInfo], period: Period
) -> None:
    """Each context measure of the themes in the pack, after its theme's indicators: its
    baseline and the figures the coordinator recorded up to the pack's period."""
    from skp_desktop.charts.board_pack import PackIndicator

    themes = {i.theme for i in infos}
    theme_names = [item.theme_name for item in items]
    for info in indicator_infos(session, period=period, include_context=True):
        if info.kind != "context" or info.theme not in themes:
            continue
        series = context_series(session, info, period)
        latest = series.latest_point
        note = (
            f"recorded by the coordinator for {latest.period.short_label}"
            if latest is not None
            else "the Council Plan's baseline; no later figure recorded"
        )
        at = max(
            (n + 1 for n, name in enumerate(theme_names) if name == info.theme_name),
            default=len(items),
        )
        theme_names.insert(at, info.theme_name)
        items.insert(
            at,
            PackIndicator(
                tile=context_tile(series, info),
                theme_name=info.theme_name,
                service_name=CONTEXT_SERVICE,
                frequency=info.rules.frequency.value,
                due=True,
                definition=info.definition_text,
                source=info.source,
                source_document=info.source_document,
                return_note=note,
            ),
        )


def board_pack(
    db: Database,
    period: str,
    *,
    service: str | None = None,
    theme: str | None = None,
    made: date | None = None,
    unbacked: Mapping[int, UnbackedReturn] | None = None,
) -> BoardPack:
    """Everything the board pack for `period` shows: every indicator, a service's or a theme's.

    A return revision whose audit history does not back it (`unbacked`, by return id; found
    here when not given) is left out: its figures are not shown and its note says why.
    """
    the_period = pack_period(period)
    # matplotlib loads here, once the arguments are known to be good.
    from skp_desktop.charts.board_pack import BoardPack, PackIndicator

    with db.reading() as session:
        if unbacked is None:
            unbacked = unbacked_published(session)
        owner = get_service(session, service) if service else None
        infos = indicator_infos(session, service=owner, period=the_period)
        scope = f"Service: {owner.name}" if owner else "Every indicator"
        if theme:
            row = session.scalar(select(Theme).where(Theme.code == theme.strip().upper()))
            infos = [i for i in infos if row is not None and i.theme == row.code]
            if row is None or not infos:
                raise NotFoundError(f"There is no theme '{theme}' with indicators.")
            scope = f"{row.kind.capitalize()}: {row.name}" + (f" · {owner.name}" if owner else "")
        items, returned = [], False
        for info in infos:
            indicator = session.scalar(select(Indicator).where(Indicator.code == info.code))
            if indicator is None or indicator.service is None:
                continue
            reporter = indicator.service
            series, direction = series_through(session, info, the_period, unbacked)
            due = is_due(info.rules.frequency, the_period)
            returned = returned or latest_return(session, reporter, the_period) is not None
            # An indicator not asked for this quarter (annual ones come with Q4): the words
            # that came with its latest figure.
            latest = series.latest_point
            words_period = the_period if due or latest is None else latest.period
            value, ret = _words(session, reporter, indicator, words_period)
            left_out = ret is not None and ret.id in unbacked
            latest_label = None
            if latest is not None and latest.value is not None and latest.period != the_period:
                latest_label = f"{series.format_value(latest.value)} ({latest.period.short_label})"
            items.append(
                PackIndicator(
                    tile=DashboardTile(
                        series=series, latest_label=latest_label, direction_label=direction
                    ),
                    theme_name=info.theme_name,
                    service_name=reporter.name,
                    frequency=info.rules.frequency.value,
                    due=due,
                    definition=info.definition_text,
                    source=info.source,
                    source_document=info.source_document,
                    commentary=value.commentary if value and not left_out else None,
                    explanation=value.explanation if value and not left_out else None,
                    return_note=_return_note(
                        reporter, words_period, ret, unbacked.get(ret.id) if ret else None
                    ),
                )
            )
        if owner is None:
            _add_context_measures(session, items, infos, the_period)
        if not returned:
            raise NotFoundError(
                f"No return has been made for {the_period.label} yet"
                + (f" by {owner.name}" if owner else "")
                + ": there is nothing to put in a board pack for it."
            )
    return BoardPack(
        period=the_period, scope=scope, made=made or date.today(), indicators=tuple(items)
    )


def export_board_pack(
    db: Database,
    period: str,
    out: str,
    *,
    service: str | None = None,
    theme: str | None = None,
    made: date | None = None,
) -> BoardPackFile:
    """Write the board pack for `period` as one PDF at `out` (whole, or not at all)."""
    target = Path(out)
    check_output(target, suffixes=(".pdf",), what="board pack")
    with db.reading() as session:
        unbacked = unbacked_published(session)
    pack = board_pack(db, period, service=service, theme=theme, made=made, unbacked=unbacked)
    end = pack.period.end
    left_out = tuple(
        item.line
        for item in sorted(unbacked.values(), key=lambda r: (r.service, r.period, r.revision))
        if parse_period(item.period).start <= end
    )
    from skp_desktop.charts.board_pack import write_board_pack

    with writing(target, "board pack"):
        pages = write_board_pack(pack, target)
    return BoardPackFile(
        path=str(target),
        period=pack.period.code,
        period_label=pack.period.label,
        scope=pack.scope,
        indicators=len(pack.indicators),
        pages=pages,
        left_out=left_out,
    )
