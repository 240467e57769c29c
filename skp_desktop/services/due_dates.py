"""When each quarter's returns are due: the usual rule, or the date the coordinator set.

The usual rule: a quarter's return is due by the last day of the month after the quarter ends
(2024/25 Q1, April to June, is due by 31 July 2024). The coordinator may set another date for a
quarter, or clear it to go back to the usual one; each change is an audit event `period.due`
whose `old` and `new` are the dates set (ISO text, or empty for the usual date).
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from skp_desktop.domain.errors import NotFoundError, ValidationError
from skp_desktop.domain.periods import Period, PeriodKind, parse_period
from skp_desktop.domain.vocabulary import AuditAction
from skp_desktop.services.database import Database
from skp_desktop.store.audit import append_event
from skp_desktop.store.models import DueDate

LATEST_AFTER_END = timedelta(days=366)  # a due date more than a year after the quarter: a slip


def usual_due_date(period: Period) -> date:
    """When a return for `period` is due unless the coordinator says otherwise: the last day
    of the month after the period ends."""
    end = period.end
    year, month = (end.year + 1, 1) if end.month == 12 else (end.year, end.month + 1)
    return date(year, month, calendar.monthrange(year, month)[1])


@dataclass(frozen=True)
class DueDateInfo:
    """A quarter's due date, and whether the coordinator set it (else the usual rule)."""

    period: Period
    due: date
    usual: date
    set_by: str | None = None
    set_at: datetime | None = None

    @property
    def is_set(self) -> bool:
        """Whether the coordinator set this date (rather than the usual rule giving it)."""
        return self.set_by is not None


def due_dates_in(session: Session, periods: Sequence[Period]) -> dict[str, DueDateInfo]:
    """Each period's due date, by period code, inside the caller's session."""
    codes = [p.code for p in periods]
    held = {
        row.period: row for row in session.scalars(select(DueDate).where(DueDate.period.in_(codes)))
    }
    result = {}
    for period in periods:
        usual = usual_due_date(period)
        row = held.get(period.code)
        result[period.code] = (
            DueDateInfo(period, row.due_on, usual, row.set_by, row.set_at)
            if row is not None
            else DueDateInfo(period, usual, usual)
        )
    return result


def due_quarter(code: str) -> Period:
    """The quarter a due date is for; anything else is a usage error."""
    try:
        period = parse_period(code)
    except ValidationError as exc:
        raise NotFoundError(f"--period {code}: {exc.message}") from None
    if period.kind is not PeriodKind.QUARTER:
        raise NotFoundError(
            f"--period {code}: returns are due per quarter; give a quarter such as "
            f"{period.financial_year().code}-Q1."
        )
    return period


def check_due_on(period: Period, due_on: date) -> None:
    """Refuse a date on which the quarter's returns cannot sensibly be due."""
    if due_on < period.end:
        raise ValidationError(
            f"{due_on.strftime('%d/%m/%Y')} is before {period.label} ends "
            f"({period.end.strftime('%d/%m/%Y')}): a return cannot be due before its quarter "
            "is over.",
            field="due date",
        )
    if due_on > period.end + LATEST_AFTER_END:
        raise ValidationError(
            f"{due_on.strftime('%d/%m/%Y')} is more than a year after {period.label} ends: "
            "check the year.",
            field="due date",
        )


def set_due_date(
    db: Database,
    period: str,
    due_on: date | None,
    actor: str,
    *,
    reason: str | None = None,
) -> DueDateInfo:
    """Set the date a quarter's returns are due by (None: back to the usual date); audited.

    Setting the date it already has changes nothing and records nothing.
    """
    quarter = due_quarter(period)
    if due_on is not None:
        check_due_on(quarter, due_on)
    now = datetime.now(UTC)
    with db.transaction() as session:
        row = session.get(DueDate, quarter.code)
        old = row.due_on if row is not None else None
        if old != due_on:
            if due_on is None:
                assert row is not None
                session.delete(row)
            elif row is None:
                session.add(DueDate(period=quarter.code, due_on=due_on, set_at=now, set_by=actor))
            else:
                row.due_on, row.set_at, row.set_by = due_on, now, actor
            append_event(
                session,
                actor=actor,
                action=AuditAction.PERIOD_DUE,
                period=quarter.code,
                old=old.isoformat() if old else None,
                new=due_on.isoformat() if due_on else None,
                reason=reason.strip() if reason and reason.strip() else None,
                at=now,
            )
            session.flush()
        return due_dates_in(session, [quarter])[quarter.code]
