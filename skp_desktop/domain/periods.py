"""Reporting periods on the UK financial year, which runs from 1 April to 31 March."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import lru_cache, total_ordering

from skp_desktop.domain.errors import ValidationError

FIRST_YEAR = 1990
LAST_YEAR = 2100

# Fixed English names: calendar.month_name follows the process locale, the app always shows en-GB.
_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_MONTH_ABBREVIATIONS = tuple(name[:3] for name in _MONTH_NAMES)

_EXPECTED = "expected a code like FY2024-25, FY2024-25-Q1 or 2024-04"

# [0-9] rather than \d: \d also matches Arabic-Indic and other non-ASCII digits.
_YEAR_CODE = re.compile(r"FY([0-9]{4})-([0-9]{2})")
_QUARTER_CODE = re.compile(r"FY([0-9]{4})-([0-9]{2})-Q([0-9])")
_MONTH_CODE = re.compile(r"([0-9]{4})-([0-9]{2})")


class PeriodKind(StrEnum):
    """How long a period is."""

    YEAR = "year"
    QUARTER = "quarter"
    MONTH = "month"


_STEPS_PER_YEAR = {PeriodKind.YEAR: 1, PeriodKind.QUARTER: 4, PeriodKind.MONTH: 12}


def _calendar_month(index: int) -> int:
    """Calendar month (1 = January) of financial month `index` (1 = April)."""
    return (index + 2) % 12 + 1


def _calendar_year(fy_start: int, index: int) -> int:
    """Calendar year of financial month `index`: January to March fall in the year after."""
    return fy_start if index <= 9 else fy_start + 1


def _fy_text(fy_start: int) -> str:
    """The financial year as people write it, e.g. 2024/25 for the year starting in 2024."""
    return f"{fy_start}/{(fy_start + 1) % 100:02d}"


@total_ordering
@dataclass(frozen=True)
class Period:
    """A financial year, a quarter of one (Q1 = April to June) or a month."""

    kind: PeriodKind
    fy_start: int  # calendar year in which the financial year starts (FY2024-25 -> 2024)
    index: int  # 0 for YEAR; 1..4 for QUARTER; 1..12 for MONTH (1 = April ... 12 = March)

    def __post_init__(self) -> None:
        # Accept "quarter" as well as PeriodKind.QUARTER so rows read from storage just work.
        object.__setattr__(self, "kind", PeriodKind(self.kind))
        highest = {PeriodKind.YEAR: 0, PeriodKind.QUARTER: 4, PeriodKind.MONTH: 12}[self.kind]
        lowest = 0 if self.kind is PeriodKind.YEAR else 1
        if not lowest <= self.index <= highest:
            raise ValueError(f"a {self.kind} period needs an index from {lowest} to {highest}")

    # -- names -----------------------------------------------------------------------------

    @property
    def code(self) -> str:
        """Stable code used in files and on the command line: FY2024-25, FY2024-25-Q1, 2024-04."""
        year_code = f"FY{self.fy_start}-{(self.fy_start + 1) % 100:02d}"
        if self.kind is PeriodKind.YEAR:
            return year_code
        if self.kind is PeriodKind.QUARTER:
            return f"{year_code}-Q{self.index}"
        month = _calendar_month(self.index)
        return f"{_calendar_year(self.fy_start, self.index)}-{month:02d}"

    @property
    def label(self) -> str:
        """Shown to people: "2024/25 Q1 (Apr–Jun 2024)", "2024/25 (Apr 2024–Mar 2025)"."""
        if self.kind is PeriodKind.YEAR:
            return f"{_fy_text(self.fy_start)} (Apr {self.fy_start}–Mar {self.fy_start + 1})"
        if self.kind is PeriodKind.QUARTER:
            first = (self.index - 1) * 3 + 1
            months = (
                f"{_MONTH_ABBREVIATIONS[_calendar_month(first) - 1]}–"
                f"{_MONTH_ABBREVIATIONS[_calendar_month(first + 2) - 1]}"
            )
            year = _calendar_year(self.fy_start, first)
            return f"{_fy_text(self.fy_start)} Q{self.index} ({months} {year})"
        month = _calendar_month(self.index)
        return f"{_MONTH_NAMES[month - 1]} {_calendar_year(self.fy_start, self.index)}"

    @property
    def short_label(self) -> str:
        """A label short enough for a chart axis: "2024/25 Q1", "2024/25", "Apr 2024"."""
        if self.kind is PeriodKind.YEAR:
            return _fy_text(self.fy_start)
        if self.kind is PeriodKind.QUARTER:
            return f"{_fy_text(self.fy_start)} Q{self.index}"
        month = _calendar_month(self.index)
        return f"{_MONTH_ABBREVIATIONS[month - 1]} {_calendar_year(self.fy_start, self.index)}"

    def __str__(self) -> str:
        return self.code

    # -- dates -----------------------------------------------------------------------------

    def _first_and_last_month(self) -> tuple[int, int]:
        """Financial months (1 = April) that the period starts and ends in."""
        if self.kind is PeriodKind.YEAR:
            return 1, 12
        if self.kind is PeriodKind.QUARTER:
            return (self.index - 1) * 3 + 1, self.index * 3
        return self.index, self.index

    @property
    def start(self) -> date:
        """First day of the period."""
        first, _ = self._first_and_last_month()
        return date(_calendar_year(self.fy_start, first), _calendar_month(first), 1)

    @property
    def end(self) -> date:
        """Last day of the period (inclusive)."""
        _, last = self._first_and_last_month()
        year, month = _calendar_year(self.fy_start, last), _calendar_month(last)
        return date(year, month, calendar.monthrange(year, month)[1])

    def contains(self, d: date) -> bool:
        """Whether the day `d` falls in this period."""
        return self.start <= d <= self.end

    # -- neighbours ------------------------------------------------------------------------

    def _step(self, steps: int) -> Period:
        """The period of the same kind `steps` away (negative goes back)."""
        per_year = _STEPS_PER_YEAR[self.kind]
        if self.kind is PeriodKind.YEAR:
            return Period(self.kind, self.fy_start + steps, 0)
        ordinal = self.fy_start * per_year + (self.index - 1) + steps
        return Period(self.kind, ordinal // per_year, ordinal % per_year + 1)

    def previous(self) -> Period:
        """The period of the same kind just before this one (Q1 -> Q4 of the year before)."""
        return self._step(-1)

    def next(self) -> Period:
        """The period of the same kind just after this one (Q4 -> Q1 of the year after)."""
        return self._step(1)

    def year_earlier(self) -> Period:
        """The same period one year earlier, for year-on-year comparison."""
        return Period(self.kind, self.fy_start - 1, self.index)

    def financial_year(self) -> Period:
        """The financial year containing this period."""
        return Period(PeriodKind.YEAR, self.fy_start, 0)

    def quarter(self) -> Period:
        """The quarter containing this period; a year has no single quarter (ValueError)."""
        if self.kind is PeriodKind.YEAR:
            raise ValueError("a financial year is not inside one quarter")
        if self.kind is PeriodKind.QUARTER:
            return self
        return Period(PeriodKind.QUARTER, self.fy_start, (self.index - 1) // 3 + 1)

    # -- ordering --------------------------------------------------------------------------

    @property
    def sort_key(self) -> tuple[date, date]:
        """Periods sort by start, then end: April 2024 < 2024/25 Q1 < 2024/25."""
        return (self.start, self.end)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        return self.sort_key < other.sort_key


def _bad_code(text: str, hint: str = _EXPECTED) -> ValidationError:
    """The error for a code that is not a period, naming what was typed."""
    # Hostile files can hold megabytes in one cell; the message only needs the start of it.
    shown = text if len(text) <= 40 else text[:40] + "…"
    return ValidationError(f"'{shown}' is not a period: {hint}", field="period")


def _check_year(text: str, year: int) -> None:
    """Refuse years the app cannot sensibly hold (typing slips such as 2204)."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise _bad_code(text, f"the year {year} is not between {FIRST_YEAR} and {LAST_YEAR}")


@lru_cache(maxsize=4096)  # periods are immutable, and an import parses the same few per file
def parse_period(code: str) -> Period:
    """The period for a code such as FY2024-25, FY2024-25-Q1 or 2024-04 (any letter case)."""
    text = code.strip()
    upper = text.upper()
    if match := _YEAR_CODE.fullmatch(upper):
        return _parse_year(text, int(match[1]), int(match[2]))
    if match := _QUARTER_CODE.fullmatch(upper):
        year = _parse_year(text, int(match[1]), int(match[2]))
        quarter = int(match[3])
        if not 1 <= quarter <= 4:
            raise _bad_code(text, f"{_EXPECTED} (quarters are Q1 to Q4)")
        return Period(PeriodKind.QUARTER, year.fy_start, quarter)
    if match := _MONTH_CODE.fullmatch(upper):
        calendar_year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            raise _bad_code(text, f"{_EXPECTED} (months are 01 to 12)")
        _check_year(text, calendar_year)
        return period_for_date(PeriodKind.MONTH, date(calendar_year, month, 1))
    raise _bad_code(text)


def _parse_year(text: str, first: int, second: int) -> Period:
    """The financial year FY<first>-<second>, checking that the two parts are consecutive."""
    _check_year(text, first)
    if second != (first + 1) % 100:
        raise _bad_code(
            text,
            f"{_EXPECTED} (a financial year runs into the next calendar year, so a year "
            f"starting in {first} is FY{first}-{(first + 1) % 100:02d})",
        )
    return Period(PeriodKind.YEAR, first, 0)


def period_for_date(kind: PeriodKind, d: date) -> Period:
    """The period of the given kind that contains the day `d`."""
    kind = PeriodKind(kind)
    fy_start = d.year if d.month >= 4 else d.year - 1
    month_index = (d.month - 4) % 12 + 1
    if kind is PeriodKind.YEAR:
        return Period(kind, fy_start, 0)
    if kind is PeriodKind.QUARTER:
        return Period(kind, fy_start, (month_index - 1) // 3 + 1)
    return Period(kind, fy_start, month_index)


def period_range(first: Period, last: Period) -> list[Period]:
    """Every period from `first` to `last` inclusive; both must be of the same kind."""
    if first.kind is not last.kind:
        raise ValidationError(
            f"{first.label} is a {first.kind} and {last.label} is a {last.kind}: "
            "choose two periods of the same kind",
            field="period",
        )
    if last < first:
        raise ValidationError(
            f"{first.label} is after {last.label}: the first period must come before the last",
            field="period",
        )
    periods = [first]
    while periods[-1] != last:
        periods.append(periods[-1].next())
    return periods


def latest_due_period(kind: PeriodKind, today: date) -> Period:
    """The most recent period of the given kind that has ended on or before `today`."""
    current = period_for_date(kind, today)
    # A period ends at the close of its last day, and that day counts as ended for returns.
    return current if current.end == today else current.previous()
