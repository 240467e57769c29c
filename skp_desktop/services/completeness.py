"""Completeness: which service has sent which quarter's return, what is due when, who to chase.

A quarter's returns are due by the date the coordinator set for it (services/due_dates.py), else
by the usual date: the last day of the month after the quarter ends (2024/25 Q1, April to June,
is due by 31 July 2024). A return the service still owes after that date is overdue.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from skp_desktop.domain.definitions import Frequency, is_due
from skp_desktop.domain.errors import NotFoundError, ValidationError
from skp_desktop.domain.periods import (
    Period,
    PeriodKind,
    latest_due_period,
    parse_period,
    period_range,
)
from skp_desktop.domain.vocabulary import MISSING, NOT_DUE, ReturnState
from skp_desktop.services.catalogue import definitions_version_for, service_info
from skp_desktop.services.database import Database
from skp_desktop.services.dto import ServiceInfo
from skp_desktop.services.due_dates import DueDateInfo, due_dates_in, usual_due_date
from skp_desktop.services.partnership import is_retired
from skp_desktop.store.models import (
    Indicator,
    IndicatorDefinition,
    Organisation,
    Return,
    Service,
)

STATES = (
    MISSING,
    ReturnState.DRAFT,
    ReturnState.SUBMITTED,
    ReturnState.ACCEPTED,
    ReturnState.RETURNED,
)
# States in which the service owes the coordinator something; past the due date they are overdue.
OWED = {
    MISSING: "the return",
    ReturnState.DRAFT: "the return (a draft is started)",
    ReturnState.RETURNED: "an answer to a query",
}
DEFAULT_QUARTERS = 4
MAX_QUARTERS = 80  # twenty years: a longer range is a typing slip
CHASE_COLUMNS = (
    "Service",
    "Organisation",
    "Period",
    "Owes",
    "State",
    "Revision",
    "Due",
    "Days overdue",
)


def due_date(period: Period) -> date:
    """When a return for `period` is due unless the coordinator set another date: the last day
    of the month after the period ends."""
    return usual_due_date(period)


@dataclass(frozen=True)
class CompletenessCell:
    """One service's return for one quarter: its latest revision's state, and whether late."""

    service: ServiceInfo
    period: Period
    state: str  # one of STATES, or NOT_DUE
    revision: int | None
    due: date
    days_overdue: int  # 0 unless overdue
    updated_at: datetime | None = None
    due_set: bool = False  # the coordinator set the due date (else the usual rule gave it)

    @property
    def overdue(self) -> bool:
        return self.days_overdue > 0

    @property
    def expected(self) -> bool:
        """Whether a return is asked for at all (some indicator of the service is due)."""
        return self.state != NOT_DUE

    @property
    def owes(self) -> str | None:
        """What the service owes the coordinator, in words, or None."""
        return OWED.get(self.state)

    def as_dict(self) -> dict[str, object]:
        """The cell as `completeness --json` prints it (docs/contracts.md)."""
        return {
            "service": self.service.code,
            "period": self.period.code,
            "state": self.state,
            "revision": self.revision,
            "due": self.due.isoformat(),
            "overdue": self.overdue,
            "days_overdue": self.days_overdue,
            "due_set": self.due_set,
        }


@dataclass(frozen=True)
class Completeness:
    """Services × quarters, as of `today`."""

    services: tuple[ServiceInfo, ...]
    periods: tuple[Period, ...]
    cells: tuple[tuple[CompletenessCell, ...], ...]  # one row per service, a cell per period
    today: date
    due_dates: tuple[DueDateInfo, ...] = ()  # one per period, in the same order

    def cell(self, service: str, period: str) -> CompletenessCell:
        for row in self.cells:
            for cell in row:
                if cell.service.code == service and cell.period.code == period:
                    return cell
        raise KeyError((service, period))

    def expected_cells(self) -> list[CompletenessCell]:
        """Every cell for which a return is asked, service by service."""
        return [cell for row in self.cells for cell in row if cell.expected]

    def chase_list(self) -> list[CompletenessCell]:
        """Who owes what and since when: overdue returns, longest overdue first."""
        owing = [cell for cell in self.expected_cells() if cell.overdue]
        return sorted(owing, key=lambda c: (-c.days_overdue, c.service.name, c.period.start))

    def counts(self) -> dict[str, int]:
        """How many expected returns are in each state."""
        counts = dict.fromkeys(STATES, 0)
        for cell in self.expected_cells():
            counts[cell.state] += 1
        return counts

    def summary(self) -> str:
        """One sentence for people: how many returns are in, how many are overdue."""
        expected = self.expected_cells()
        counts = self.counts()
        received = len(expected) - counts[MISSING]
        overdue = sum(1 for cell in expected if cell.overdue)
        accepted, submitted = counts[ReturnState.ACCEPTED], counts[ReturnState.SUBMITTED]
        returned, draft = counts[ReturnState.RETURNED], counts[ReturnState.DRAFT]
        return (
            f"{received} of {len(expected)} returns received ({accepted} accepted, "
            f"{submitted} awaiting review, {returned} returned with a query, "
            f"{draft} in draft); {overdue} overdue."
        )


def default_range(today: date) -> tuple[Period, Period]:
    """The last four quarters, up to the one whose return is due now."""
    last = latest_due_period(PeriodKind.QUARTER, today)
    first = last
    for _ in range(DEFAULT_QUARTERS - 1):
        first = first.previous()
    return first, last


def _quarter(code: str, option: str) -> Period:
    try:
        period = parse_period(code)
    except ValidationError as exc:  # on the command line a bad period code is a usage error
        raise NotFoundError(f"{option} {code}: {exc.message}") from None
    if period.kind is not PeriodKind.QUARTER:
        raise NotFoundError(
            f"{option} {code}: returns are counted per quarter; give a quarter such as "
            f"{period.financial_year().code}-Q1."
        )
    return period


def quarter_range(first: str | None, last: str | None, today: date) -> list[Period]:
    """The quarters from `first` to `last`; either left out falls back to the default range."""
    default_first, default_last = default_range(today)
    end = _quarter(last, "--to") if last else None
    start = _quarter(first, "--from") if first else None
    if start is None and end is None:
        start, end = default_first, default_last
    elif start is None:
        assert end is not None
        start = end
        for _ in range(DEFAULT_QUARTERS - 1):
            start = start.previous()
    elif end is None:
        end = max(start, default_last)
    assert start is not None and end is not None
    if end < start:
        raise NotFoundError(
            f"--from {start.code} is after --to {end.code}: the first quarter comes first."
        )
    quarters = period_range(start, end)
    if len(quarters) > MAX_QUARTERS:
        raise NotFoundError(
            f"{start.code} to {end.code} is {len(quarters)} quarters; choose at most "
            f"{MAX_QUARTERS}."
        )
    return quarters


def services_in_order(session: Session) -> list[Service]:
    """Every service, by organisation then name, as the services list shows them."""
    return list(
        session.scalars(
            select(Service).join(Service.organisation).order_by(Organisation.id, Service.name)
        )
    )


def due_services(session: Session, periods: Sequence[Period]) -> dict[str, set[int]]:
    """For each period code, the ids of services whose return for it asks for something."""
    by_version: dict[int, list[tuple[int, str]]] = {}
    result: dict[str, set[int]] = {}
    for period in periods:
        version = definitions_version_for(session, period)
        if version.id not in by_version:  # frequencies change only with the definitions
            by_version[version.id] = _frequencies(session, version.id)
        result[period.code] = {
            service_id
            for service_id, frequency in by_version[version.id]
            if is_due(Frequency(frequency), period)
        }
    return result


def _frequencies(session: Session, version_id: int) -> list[tuple[int, str]]:
    """(service id, frequency) of each indicator as the definitions up to `version_id` define
    it (its newest definition): one query, where indicator_infos read each indicator's baseline
    and target too, three queries an indicator that the Completeness page never shows."""
    newest: dict[int, tuple[int, str]] = {}
    for indicator_id, service_id, frequency in session.execute(
        select(Indicator.id, Indicator.service_id, IndicatorDefinition.frequency)
        .join(IndicatorDefinition, IndicatorDefinition.indicator_id == Indicator.id)
        .where(
            IndicatorDefinition.definitions_version_id <= version_id,
            Indicator.kind == "indicator",
        )
        .order_by(IndicatorDefinition.definitions_version_id)
    ):
        if service_id is not None:  # an indicator of no service is in no return
            newest[indicator_id] = (service_id, frequency)  # later versions overwrite earlier
    return list(newest.values())


def latest_states(
    session: Session, periods: Sequence[Period]
) -> dict[tuple[int, str], tuple[int, str, datetime]]:
    """{(service id, period code): (revision, state, updated at)} of each latest revision."""
    rows = session.execute(
        select(Return.service_id, Return.period, Return.revision, Return.state, Return.updated_at)
        .where(Return.period.in_([p.code for p in periods]))
        .order_by(Return.revision)
    )
    latest: dict[tuple[int, str], tuple[int, str, datetime]] = {}
    for service_id, period, revision, state, updated_at in rows:
        latest[(service_id, period)] = (revision, state, updated_at)  # later revisions win
    return latest


def completeness_in(session: Session, periods: Sequence[Period], today: date) -> Completeness:
    """The matrix for the given quarters, inside the caller's session."""
    services = services_in_order(session)
    due = due_services(session, periods)
    deadlines = due_dates_in(session, periods)
    latest = latest_states(session, periods)
    rows = []
    for service in services:
        info = service_info(service)
        cells = []
        for period in periods:
            deadline = deadlines[period.code].due
            held = latest.get((service.id, period.code))
            # a retired service is not asked for returns from its retirement on
            retired = is_retired(service.retired_from, period)
            if (service.id not in due[period.code] or retired) and held is None:
                state, revision, updated = NOT_DUE, None, None
            elif held is None:
                state, revision, updated = MISSING, None, None
            else:
                revision, state, updated = held
            late = state in OWED and today > deadline
            cells.append(
                CompletenessCell(
                    service=info,
                    period=period,
                    state=state,
                    revision=revision,
                    due=deadline,
                    days_overdue=(today - deadline).days if late else 0,
                    updated_at=updated,
                    due_set=deadlines[period.code].is_set,
                )
            )
        rows.append(tuple(cells))
    return Completeness(
        services=tuple(service_info(s) for s in services),
        periods=tuple(periods),
        cells=tuple(rows),
        today=today,
        due_dates=tuple(deadlines[p.code] for p in periods),
    )


def completeness(
    db: Database,
    *,
    first: str | None = None,
    last: str | None = None,
    today: date | None = None,
) -> Completeness:
    """Each service × quarter from `first` to `last` (default: the last four quarters)."""
    today = today or date.today()
    periods = quarter_range(first, last, today)
    with db.reading() as session:
        return completeness_in(session, periods, today)


# --- the chase list ----------------------------------------------------------------------


def chase_rows(cells: Sequence[CompletenessCell]) -> list[list[object]]:
    """Chase-list cells as rows under CHASE_COLUMNS (dates as dates, days as numbers)."""
    return [
        [
            cell.service.name,
            cell.service.organisation,
            cell.period.label,
            cell.owes or "",
            cell.state,
            cell.revision,
            cell.due,
            cell.days_overdue,
        ]
        for cell in cells
    ]


def chase_text(report: Completeness) -> str:
    """The chase list as tab-separated text with a header line, to paste into an email."""
    lines = ["\t".join(CHASE_COLUMNS)]
    for row in chase_rows(report.chase_list()):
        lines.append(
            "\t".join(
                value.strftime("%d/%m/%Y") if isinstance(value, date) else str(value or "")
                for value in row
            )
        )
    return "\n".join(lines)


def export_chase_list(
    report: Completeness,
    path: str | os.PathLike[str],
    cells: Sequence[CompletenessCell] | None = None,
) -> int:
    """Write the chase list (or the given part of it) to .csv or .xlsx, atomically; returns
    how many returns it lists."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise NotFoundError(f"{target.name}: the chase list is exported as .csv or .xlsx.")
    rows = chase_rows(report.chase_list() if cells is None else cells)
    temporary = target.with_name(f".{target.name}.part")
    try:
        if suffix == ".csv":
            with temporary.open("w", newline="", encoding="utf-8-sig") as handle:
                writer = csv.writer(handle)
                writer.writerow(CHASE_COLUMNS)
                for row in rows:
                    writer.writerow(
                        [
                            v.strftime("%d/%m/%Y")
                            if isinstance(v, date)
                            else (f"'{v}" if isinstance(v, str) and v[:1] in "=+-@" else v)
                            for v in row
                        ]
                    )
        else:
            from skp_desktop.excel.table_writer import write_table

            periods = report.periods
            note = (
                f"Overdue returns as at {report.today.strftime('%d/%m/%Y')}, "
                f"{periods[0].short_label} to {periods[-1].short_label}"
                if periods
                else ""
            )
            write_table(temporary, "Chase list", list(CHASE_COLUMNS), rows, note=note)
        temporary.replace(target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return len(rows)
