"""Later figures of the context measures ("Where are we now?"): recorded or cleared for a
period (`context.set`), and read back by measure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from skp_desktop.domain.definitions import Frequency, is_due
from skp_desktop.domain.errors import NotFoundError, ValidationError
from skp_desktop.domain.periods import Period, PeriodKind, parse_period
from skp_desktop.domain.values import canonical_text, format_number, parse_number
from skp_desktop.domain.vocabulary import AuditAction
from skp_desktop.services.catalogue import indicator_infos
from skp_desktop.services.database import Database
from skp_desktop.services.dto import IndicatorInfo
from skp_desktop.services.entries import SOURCE_TYPED
from skp_desktop.services.partnership.events import canonical_json
from skp_desktop.store.audit import append_event
from skp_desktop.store.models import ContextValue, Indicator

MAX_SOURCE = 500


@dataclass(frozen=True)
class ContextFigure:
    """A context measure's figure for one period (a later "Where are we now?" figure)."""

    code: str
    period: Period
    value: Decimal
    source: str | None
    set_by: str
    set_at: datetime

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "period": self.period.code,
            "value": self.value,
            "source": self.source,
        }


def _context_info(session: Session, code: str, period: Period | None) -> tuple[Indicator, Any]:
    wanted = code.strip().upper()
    indicator = session.scalar(select(Indicator).where(Indicator.code == wanted))
    if indicator is None or indicator.kind != "context":
        known = session.scalars(
            select(Indicator.code).where(Indicator.kind == "context").order_by(Indicator.position)
        )
        what = "an indicator, not a context measure" if indicator else "not known"
        raise NotFoundError(
            f"{wanted} is {what}. Context measures: {', '.join(known)}. "
            "(An indicator's figure is entered in its service's return.)"
        )
    infos = indicator_infos(session, period=period, include_context=True)
    info = next(i for i in infos if i.code == indicator.code)
    return indicator, info


def context_period(code: str, frequency: Frequency) -> Period:
    """The period a context figure is for: a quarter (a year means its year-end quarter)."""
    try:
        period = parse_period(code)
    except ValidationError as exc:
        raise NotFoundError(f"--period {code}: {exc.message}") from None
    if period.kind is PeriodKind.YEAR:
        period = parse_period(f"{period.code}-Q4")
    if period.kind is PeriodKind.MONTH:
        raise NotFoundError(f"--period {code}: give a quarter, e.g. {period.quarter().code}.")
    if not is_due(frequency, period):
        raise NotFoundError(
            f"--period {code}: this measure is {frequency.value}; give the year-end quarter "
            f"{period.financial_year().code}-Q4."
        )
    return period


def set_context_figure(
    db: Database,
    *,
    code: str,
    period: str,
    value: str | Decimal | None,
    actor: str,
    source: str | None = None,
    audit_source: str = SOURCE_TYPED,
) -> ContextFigure | None:
    """Record (or, with None, clear) a context measure's figure for a period; `context.set`.

    `source` is where the figure comes from (kept with it); `audit_source` where the change
    was made (the app, the command line), as the audit event records it. Returns the figure
    now held (None once cleared)."""
    with db.transaction() as session:
        indicator, info = _context_info(session, code, None)
        the_period = context_period(period, info.rules.frequency)
        rules = info.rules
        row = session.scalar(
            select(ContextValue).where(
                ContextValue.indicator_id == indicator.id, ContextValue.period == the_period.code
            )
        )
        old = _context_event(row.value, row.source) if row else None
        cleaned_source = " ".join((source or "").split())[:MAX_SOURCE] or None
        if value is None:
            if row is None:
                return None
            session.delete(row)
            new = _context_event(None, None)
            result = None
        else:
            number = (
                value
                if isinstance(value, Decimal)
                else parse_number(value, field=f"{indicator.code} {the_period.code}")
            )
            low, high = rules.effective_min, rules.effective_max
            if (low is not None and number < low) or (high is not None and number > high):
                raise ValidationError(
                    f"{canonical_text(number)} is outside what {indicator.code} can be "
                    f"({rules.unit.value}"
                    + (
                        f", at least {format_number(low, rules.decimals)}"
                        if low is not None
                        else ""
                    )
                    + (
                        f", at most {format_number(high, rules.decimals)}"
                        if high is not None
                        else ""
                    )
                    + ").",
                    field=f"{indicator.code} {the_period.code}",
                )
            text = canonical_text(number)
            now = datetime.now(UTC)
            if row is None:
                row = ContextValue(
                    indicator_id=indicator.id,
                    period=the_period.code,
                    value=text,
                    source=cleaned_source,
                    set_at=now,
                    set_by=actor,
                )
                session.add(row)
            elif row.value == text and (cleaned_source is None or row.source == cleaned_source):
                return _figure(indicator.code, row)
            else:
                row.value, row.set_at, row.set_by = text, now, actor
                if cleaned_source is not None:
                    row.source = cleaned_source
            new = _context_event(row.value, row.source)
            result = row
        append_event(
            session,
            actor=actor,
            action=AuditAction.CONTEXT_SET,
            indicator=indicator.code,
            period=the_period.code,
            old=old,
            new=new,
            source=audit_source,
        )
        session.flush()
        return _figure(indicator.code, result) if result is not None else None


def _context_event(value: str | None, source: str | None) -> str:
    return canonical_json({"source": source, "value": value})


def _figure(code: str, row: ContextValue) -> ContextFigure:
    return ContextFigure(
        code=code,
        period=parse_period(row.period),
        value=Decimal(row.value),
        source=row.source,
        set_by=row.set_by,
        set_at=row.set_at,
    )


def context_figures_in(session: Session) -> dict[str, list[ContextFigure]]:
    """Every context figure held, by measure code, in period order."""
    figures: dict[str, list[ContextFigure]] = {}
    for code, row in session.execute(
        select(Indicator.code, ContextValue).join(
            Indicator, Indicator.id == ContextValue.indicator_id
        )
    ):
        figures.setdefault(code, []).append(_figure(code, row))
    for rows in figures.values():
        rows.sort(key=lambda f: f.period.start)
    return figures


def context_figures(db: Database) -> dict[str, list[ContextFigure]]:
    """Every context figure held, by measure code, in period order."""
    with db.reading() as session:
        return context_figures_in(session)


def context_measures(db: Database) -> list[IndicatorInfo]:
    """The context measures of the definitions in force, in catalogue order."""
    with db.reading() as session:
        return [i for i in indicator_infos(session, include_context=True) if i.kind == "context"]
