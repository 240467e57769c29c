"""Financial-year periods: codes, labels, dates, neighbours, parsing and the return due now."""

from __future__ import annotations

from datetime import date

import pytest

from skp_desktop.domain.errors import ValidationError
from skp_desktop.domain.periods import (
    Period,
    PeriodKind,
    latest_due_period,
    parse_period,
    period_for_date,
    period_range,
)

YEAR, QUARTER, MONTH = PeriodKind.YEAR, PeriodKind.QUARTER, PeriodKind.MONTH


def year(fy_start: int) -> Period:
    return Period(YEAR, fy_start, 0)


def quarter(fy_start: int, index: int) -> Period:
    return Period(QUARTER, fy_start, index)


def month(fy_start: int, index: int) -> Period:
    return Period(MONTH, fy_start, index)


@pytest.mark.parametrize(
    ("period", "code", "label", "short_label", "start", "end"),
    [
        (
            year(2024),
            "FY2024-25",
            "2024/25 (Apr 2024–Mar 2025)",
            "2024/25",
            date(2024, 4, 1),
            date(2025, 3, 31),
        ),
        (
            year(1999),
            "FY1999-00",
            "1999/00 (Apr 1999–Mar 2000)",
            "1999/00",
            date(1999, 4, 1),
            date(2000, 3, 31),
        ),
        (
            quarter(2024, 1),
            "FY2024-25-Q1",
            "2024/25 Q1 (Apr–Jun 2024)",
            "2024/25 Q1",
            date(2024, 4, 1),
            date(2024, 6, 30),
        ),
        (
            quarter(2024, 2),
            "FY2024-25-Q2",
            "2024/25 Q2 (Jul–Sep 2024)",
            "2024/25 Q2",
            date(2024, 7, 1),
            date(2024, 9, 30),
        ),
        (
            quarter(2024, 3),
            "FY2024-25-Q3",
            "2024/25 Q3 (Oct–Dec 2024)",
            "2024/25 Q3",
            date(2024, 10, 1),
            date(2024, 12, 31),
        ),
        # Q4 lies in the next calendar year: the label must say 2025, not 2024.
        (
            quarter(2024, 4),
            "FY2024-25-Q4",
            "2024/25 Q4 (Jan–Mar 2025)",
            "2024/25 Q4",
            date(2025, 1, 1),
            date(2025, 3, 31),
        ),
        (month(2024, 1), "2024-04", "April 2024", "Apr 2024", date(2024, 4, 1), date(2024, 4, 30)),
        (
            month(2024, 9),
            "2024-12",
            "December 2024",
            "Dec 2024",
            date(2024, 12, 1),
            date(2024, 12, 31),
        ),
        (
            month(2024, 10),
            "2025-01",
            "January 2025",
            "Jan 2025",
            date(2025, 1, 1),
            date(2025, 1, 31),
        ),
        # February in a leap year ends on the 29th.
        (
            month(2023, 11),
            "2024-02",
            "February 2024",
            "Feb 2024",
            date(2024, 2, 1),
            date(2024, 2, 29),
        ),
        (month(2024, 12), "2025-03", "March 2025", "Mar 2025", date(2025, 3, 1), date(2025, 3, 31)),
    ],
)
def test_names_and_dates(
    period: Period, code: str, label: str, short_label: str, start: date, end: date
) -> None:
    assert period.code == code
    assert str(period) == code
    assert period.label == label
    assert period.short_label == short_label
    assert (period.start, period.end) == (start, end)


def test_labels_use_an_en_dash() -> None:
    assert "\u2013" in quarter(2024, 1).label
    assert "-" not in quarter(2024, 1).label


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("FY2024-25", year(2024)),
        ("FY2024-25-Q1", quarter(2024, 1)),
        ("FY2024-25-Q4", quarter(2024, 4)),
        ("fy2024-25-q1", quarter(2024, 1)),
        ("  FY2024-25-Q2\t", quarter(2024, 2)),
        ("FY1999-00", year(1999)),
        ("FY1990-91", year(1990)),
        ("FY2100-01", year(2100)),
        ("2024-04", month(2024, 1)),
        ("2024-12", month(2024, 9)),
        ("2025-01", month(2024, 10)),
        ("2025-03", month(2024, 12)),
        ("1990-01", month(1989, 10)),
    ],
)
def test_parse_period(code: str, expected: Period) -> None:
    assert parse_period(code) == expected


@pytest.mark.parametrize("code", ["FY2024-25", "FY2024-25-Q3", "2024-11", "2025-02", "FY1999-00"])
def test_code_round_trips(code: str) -> None:
    assert parse_period(code).code == code


@pytest.mark.parametrize(
    ("code", "says"),
    [
        ("", "expected a code like FY2024-25, FY2024-25-Q1 or 2024-04"),
        ("FY2024", "expected a code like FY2024-25, FY2024-25-Q1 or 2024-04"),
        ("FY2024-26", "a year starting in 2024 is FY2024-25"),
        ("FY2024-24", "a year starting in 2024 is FY2024-25"),
        ("FY2024-25-Q5", "quarters are Q1 to Q4"),
        ("FY2024-25-Q0", "quarters are Q1 to Q4"),
        ("2024-13", "months are 01 to 12"),
        ("2024-00", "months are 01 to 12"),
        ("Q1 2024", "expected a code like FY2024-25, FY2024-25-Q1 or 2024-04"),
        ("2024/25", "expected a code like FY2024-25, FY2024-25-Q1 or 2024-04"),
        ("2024-4", "expected a code like FY2024-25, FY2024-25-Q1 or 2024-04"),
        ("FY 2024-25", "expected a code like FY2024-25, FY2024-25-Q1 or 2024-04"),
        ("FY2024-25-Q1x", "expected a code like FY2024-25, FY2024-25-Q1 or 2024-04"),
        # Arabic-Indic digits look like numbers to \d but are not a code anyone means.
        ("FY٢٠٢٤-25", "expected a code like FY2024-25, FY2024-25-Q1 or 2024-04"),
        ("FY1989-90", "the year 1989 is not between 1990 and 2100"),
        ("2101-04", "the year 2101 is not between 1990 and 2100"),
        ("FY2204-05-Q1", "the year 2204 is not between 1990 and 2100"),
    ],
)
def test_bad_codes_name_what_was_typed_and_what_is_expected(code: str, says: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_period(code)
    assert caught.value.message.startswith(f"'{code.strip()}' is not a period: ")
    assert says in caught.value.message
    assert caught.value.field == "period"


def test_a_huge_bad_code_is_cut_short_in_the_message() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_period("X" * 10_000)
    assert len(caught.value.message) < 200


@pytest.mark.parametrize(
    ("period", "previous", "following"),
    [
        (year(2024), year(2023), year(2025)),
        (quarter(2024, 1), quarter(2023, 4), quarter(2024, 2)),
        (quarter(2024, 4), quarter(2024, 3), quarter(2025, 1)),
        (month(2024, 1), month(2023, 12), month(2024, 2)),  # April -> March before
        (month(2024, 9), month(2024, 8), month(2024, 10)),  # December -> January, same FY
        (month(2024, 12), month(2024, 11), month(2025, 1)),  # March -> April of the next FY
    ],
)
def test_previous_and_next(period: Period, previous: Period, following: Period) -> None:
    assert period.previous() == previous
    assert period.next() == following
    assert period.previous().next() == period


@pytest.mark.parametrize(
    ("code", "year_earlier", "financial_year", "its_quarter"),
    [
        ("FY2024-25", "FY2023-24", "FY2024-25", None),
        ("FY2024-25-Q1", "FY2023-24-Q1", "FY2024-25", "FY2024-25-Q1"),
        ("FY2024-25-Q4", "FY2023-24-Q4", "FY2024-25", "FY2024-25-Q4"),
        ("2024-04", "2023-04", "FY2024-25", "FY2024-25-Q1"),
        ("2024-09", "2023-09", "FY2024-25", "FY2024-25-Q2"),
        ("2024-10", "2023-10", "FY2024-25", "FY2024-25-Q3"),
        ("2025-01", "2024-01", "FY2024-25", "FY2024-25-Q4"),
        ("2025-03", "2024-03", "FY2024-25", "FY2024-25-Q4"),
    ],
)
def test_year_earlier_financial_year_and_quarter(
    code: str, year_earlier: str, financial_year: str, its_quarter: str | None
) -> None:
    period = parse_period(code)
    assert period.year_earlier().code == year_earlier
    assert period.financial_year().code == financial_year
    if its_quarter is None:
        with pytest.raises(ValueError):
            period.quarter()
    else:
        assert period.quarter().code == its_quarter


@pytest.mark.parametrize(
    ("code", "day", "inside"),
    [
        ("FY2024-25-Q1", date(2024, 4, 1), True),
        ("FY2024-25-Q1", date(2024, 6, 30), True),
        ("FY2024-25-Q1", date(2024, 7, 1), False),
        ("FY2024-25-Q1", date(2024, 3, 31), False),
        ("FY2024-25", date(2025, 3, 31), True),
        ("FY2024-25", date(2025, 4, 1), False),
        ("2025-01", date(2025, 1, 15), True),
        ("2025-01", date(2024, 1, 15), False),
    ],
)
def test_contains(code: str, day: date, inside: bool) -> None:
    assert parse_period(code).contains(day) is inside


@pytest.mark.parametrize(
    ("kind", "day", "code"),
    [
        (YEAR, date(2024, 4, 1), "FY2024-25"),
        (YEAR, date(2024, 3, 31), "FY2023-24"),
        (YEAR, date(2025, 2, 14), "FY2024-25"),
        (QUARTER, date(2024, 4, 1), "FY2024-25-Q1"),
        (QUARTER, date(2024, 6, 30), "FY2024-25-Q1"),
        (QUARTER, date(2024, 7, 1), "FY2024-25-Q2"),
        (QUARTER, date(2024, 12, 31), "FY2024-25-Q3"),
        (QUARTER, date(2025, 1, 1), "FY2024-25-Q4"),
        (QUARTER, date(2025, 3, 31), "FY2024-25-Q4"),
        (MONTH, date(2024, 4, 30), "2024-04"),
        (MONTH, date(2025, 1, 1), "2025-01"),
    ],
)
def test_period_for_date(kind: PeriodKind, day: date, code: str) -> None:
    assert period_for_date(kind, day).code == code


@pytest.mark.parametrize(
    ("kind", "today", "due"),
    [
        (QUARTER, date(2024, 8, 10), "FY2024-25-Q1"),
        (QUARTER, date(2024, 6, 29), "FY2023-24-Q4"),
        # On the last day of a quarter the quarter has ended by close of business.
        (QUARTER, date(2024, 6, 30), "FY2024-25-Q1"),
        (QUARTER, date(2024, 7, 1), "FY2024-25-Q1"),
        (QUARTER, date(2025, 1, 1), "FY2024-25-Q3"),
        (QUARTER, date(2025, 4, 1), "FY2024-25-Q4"),
        (MONTH, date(2024, 5, 1), "2024-04"),
        (MONTH, date(2024, 4, 30), "2024-04"),
        (MONTH, date(2024, 4, 29), "2024-03"),
        (YEAR, date(2025, 3, 31), "FY2024-25"),
        (YEAR, date(2025, 3, 30), "FY2023-24"),
        (YEAR, date(2025, 4, 1), "FY2024-25"),
    ],
)
def test_latest_due_period(kind: PeriodKind, today: date, due: str) -> None:
    assert latest_due_period(kind, today).code == due


@pytest.mark.parametrize(
    ("first", "last", "codes"),
    [
        ("FY2024-25-Q3", "FY2025-26-Q1", ["FY2024-25-Q3", "FY2024-25-Q4", "FY2025-26-Q1"]),
        ("FY2024-25-Q2", "FY2024-25-Q2", ["FY2024-25-Q2"]),
        ("FY2022-23", "FY2024-25", ["FY2022-23", "FY2023-24", "FY2024-25"]),
        ("2025-02", "2025-05", ["2025-02", "2025-03", "2025-04", "2025-05"]),
    ],
)
def test_period_range(first: str, last: str, codes: list[str]) -> None:
    periods = period_range(parse_period(first), parse_period(last))
    assert [period.code for period in periods] == codes


@pytest.mark.parametrize(
    ("first", "last", "says"),
    [
        ("FY2024-25-Q1", "FY2024-25", "choose two periods of the same kind"),
        ("2024-04", "FY2024-25-Q1", "choose two periods of the same kind"),
        ("FY2024-25-Q3", "FY2024-25-Q1", "the first period must come before the last"),
    ],
)
def test_period_range_refuses(first: str, last: str, says: str) -> None:
    with pytest.raises(ValidationError) as caught:
        period_range(parse_period(first), parse_period(last))
    assert says in str(caught.value)
    # The message names both periods as people read them.
    assert parse_period(first).label in caught.value.message
    assert parse_period(last).label in caught.value.message


def test_periods_sort_by_start_then_end() -> None:
    codes = ["FY2024-25", "2024-05", "FY2024-25-Q1", "FY2023-24-Q4", "2024-04", "FY2024-25-Q2"]
    ordered = sorted(parse_period(code) for code in codes)
    assert [period.code for period in ordered] == [
        "FY2023-24-Q4",
        "2024-04",
        "FY2024-25-Q1",
        "FY2024-25",
        "2024-05",
        "FY2024-25-Q2",
    ]
    assert quarter(2024, 4) > quarter(2024, 3)
    assert max([quarter(2023, 4), quarter(2024, 1)]) == quarter(2024, 1)


def test_periods_are_values() -> None:
    assert parse_period("fy2024-25-q1") == Period(QUARTER, 2024, 1)
    assert len({parse_period("2024-04"), month(2024, 1), Period("month", 2024, 1)}) == 1


@pytest.mark.parametrize(
    ("kind", "index"), [(YEAR, 1), (QUARTER, 0), (QUARTER, 5), (MONTH, 0), (MONTH, 13)]
)
def test_impossible_periods_cannot_be_built(kind: PeriodKind, index: int) -> None:
    with pytest.raises(ValueError):
        Period(kind, 2024, index)
