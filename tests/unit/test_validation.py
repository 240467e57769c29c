"""Validation of a return's figures, with the definitions and errors it rests on."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from skp_desktop.domain.definitions import (
    Definition,
    Frequency,
    Level,
    Polarity,
    Unit,
    format_value,
    is_due,
)
from skp_desktop.domain.errors import ValidationError
from skp_desktop.domain.periods import parse_period
from skp_desktop.domain.validation import (
    EntryValues,
    History,
    Problem,
    Severity,
    parse_entry_texts,
    resolved_value,
    validate_entry,
    validate_return,
    validate_texts,
)
from skp_desktop.domain.values import Symbol

D = Decimal
E, W = Severity.ERROR, Severity.WARNING
SYMBOLS = "or [x] if the figure is not available, or [z] if it does not apply"
CHECK = "check it, or explain the change"


def indicator(unit: Unit = Unit.PERCENT, code: str = "HW-01", **overrides: Any) -> Definition:
    """A definition with sensible defaults; tests override what they are about."""
    settings: dict[str, Any] = {
        "title": "Victims of domestic abuse supported",
        "polarity": Polarity.HIGHER_IS_BETTER,
        "frequency": Frequency.QUARTERLY,
        "level": Level.SERVICE,
    }
    settings.update(overrides)
    return Definition(code=code, unit=unit, **settings)


def fraction(unit: Unit = Unit.PERCENT, **overrides: Any) -> Definition:
    """A definition entered as numerator and denominator, with labels."""
    return indicator(
        unit,
        has_fraction=True,
        numerator_label="victims supported",
        denominator_label="victims referred",
        **overrides,
    )


def found(problems: list[Problem]) -> list[tuple[str, Severity, str, str]]:
    """Problems as (field, severity, rule, message), what a user sees of them."""
    return [(p.field, p.severity, p.rule, p.message) for p in problems]


# -- errors ----------------------------------------------------------------------------------

ERROR_CASES = [
    pytest.param(
        fraction(),
        EntryValues(),
        [
            (
                "numerator",
                E,
                "required",
                "nothing entered: enter the numerator (victims supported) and the denominator "
                f"(victims referred), {SYMBOLS}",
            )
        ],
        id="fraction-nothing-entered",
    ),
    pytest.param(
        indicator(has_fraction=True),
        EntryValues(),
        [
            (
                "numerator",
                E,
                "required",
                f"nothing entered: enter the numerator and the denominator, {SYMBOLS}",
            )
        ],
        id="fraction-nothing-entered-no-labels",
    ),
    pytest.param(fraction(required=False), EntryValues(), [], id="fraction-optional-blank"),
    pytest.param(
        fraction(),
        EntryValues(numerator=D(12)),
        [
            (
                "denominator",
                E,
                "required",
                "the denominator (victims referred) is missing: enter it as well as the "
                f"numerator, {SYMBOLS}",
            )
        ],
        id="denominator-missing",
    ),
    pytest.param(
        fraction(required=False),
        EntryValues(denominator=D(12)),
        [
            (
                "numerator",
                E,
                "required",
                "the numerator (victims supported) is missing: enter it as well as the "
                f"denominator, {SYMBOLS}",
            )
        ],
        id="numerator-missing-even-when-optional",
    ),
    pytest.param(
        fraction(),
        EntryValues(numerator=D("12.5"), denominator=D(20)),
        [
            (
                "numerator",
                E,
                "whole_number",
                "the numerator (12.5) is not a whole number: the numerator of a percentage "
                "is a number of people or things, so it must be whole",
            )
        ],
        id="percent-numerator-not-whole",
    ),
    pytest.param(
        fraction(),
        EntryValues(numerator=D(5), denominator=D("1234.5")),
        [
            (
                "denominator",
                E,
                "whole_number",
                "the denominator (1,234.5) is not a whole number: the denominator of a "
                "percentage is a number of people or things, so it must be whole",
            )
        ],
        id="percent-denominator-not-whole",
    ),
    pytest.param(
        fraction(),
        EntryValues(numerator=D(-3), denominator=D(10)),
        [("numerator", E, "negative", "the numerator (-3) is negative: it must be 0 or more")],
        id="numerator-negative",
    ),
    pytest.param(
        fraction(),
        EntryValues(numerator=D(1), denominator=D(-5)),
        [
            (
                "denominator",
                E,
                "negative",
                "the denominator (-5) is negative: it must be more than 0",
            )
        ],
        id="denominator-negative",
    ),
    pytest.param(
        fraction(),
        EntryValues(numerator=D(0), denominator=D(0)),
        [
            (
                "denominator",
                E,
                "denominator_not_positive",
                "the denominator is 0: it must be more than 0, because the value is the "
                "numerator divided by the denominator",
            )
        ],
        id="denominator-zero",
    ),
    pytest.param(
        fraction(),
        EntryValues(numerator=D(12), denominator=D(10)),
        [
            (
                "numerator",
                E,
                "numerator_above_denominator",
                "the numerator (12) is above the denominator (10): a percentage cannot be "
                "more than 100",
            )
        ],
        id="numerator-above-denominator",
    ),
    pytest.param(
        fraction(), EntryValues(numerator=D(10), denominator=D(10)), [], id="numerator-equal-ok"
    ),
    pytest.param(
        fraction(Unit.RATE_PER_1000),
        EntryValues(numerator=D("4.5"), denominator=D(2)),
        [],
        id="rate-parts-need-not-be-whole",
    ),
    pytest.param(
        indicator(),
        EntryValues(value=D(140)),
        [
            (
                "value",
                E,
                "above_maximum",
                "140.0% is above the maximum of 100.0%: a percentage must be between 0 and 100",
            )
        ],
        id="percent-above-100",
    ),
    pytest.param(
        indicator(),
        EntryValues(value=D("100.04")),
        [
            (
                "value",
                E,
                "above_maximum",
                "100.04% is above the maximum of 100.0%: a percentage must be between 0 and 100",
            )
        ],
        id="percent-just-above-100-shows-the-typed-decimals",
    ),
    pytest.param(indicator(), EntryValues(value=D(100)), [], id="percent-100-ok"),
    pytest.param(indicator(), EntryValues(value=D(0)), [], id="percent-0-ok"),
    pytest.param(
        indicator(),
        EntryValues(value=D(-5)),
        [
            (
                "value",
                E,
                "below_minimum",
                "-5.0% is below the minimum of 0.0%: a percentage must be between 0 and 100",
            )
        ],
        id="percent-negative",
    ),
    pytest.param(
        indicator(min_value=D(50)),
        EntryValues(value=D(40)),
        [
            (
                "value",
                E,
                "below_minimum",
                "40.0% is below the minimum of 50.0%: this indicator must be between 50 and 100",
            )
        ],
        id="percent-own-minimum",
    ),
    pytest.param(
        indicator(Unit.COUNT, decimals=0),
        EntryValues(value=D("12.5")),
        [
            (
                "value",
                E,
                "whole_number",
                "12.5 is not a whole number: a count must be a whole number",
            )
        ],
        id="count-not-whole",
    ),
    pytest.param(
        indicator(Unit.COUNT, decimals=0),
        EntryValues(value=D(-3)),
        [("value", E, "below_minimum", "-3 is below the minimum of 0: a count cannot be negative")],
        id="count-negative",
    ),
    pytest.param(
        indicator(Unit.COUNT, decimals=0),
        EntryValues(value=D(1234567)),
        [],
        id="count-large-ok",
    ),
    pytest.param(
        indicator(Unit.RATE_PER_1000),
        EntryValues(value=D(-1)),
        [
            (
                "value",
                E,
                "below_minimum",
                "-1.0 per 1,000 is below the minimum of 0.0 per 1,000: a rate cannot be negative",
            )
        ],
        id="rate-negative",
    ),
    pytest.param(
        indicator(Unit.SCORE, min_value=D(1), max_value=D(10)),
        EntryValues(value=D(11)),
        [
            (
                "value",
                E,
                "above_maximum",
                "11.0 is above the maximum of 10.0: this indicator must be between 1 and 10",
            )
        ],
        id="score-own-range",
    ),
    pytest.param(
        indicator(Unit.SCORE, max_value=D(10)),
        EntryValues(value=D(11)),
        [
            (
                "value",
                E,
                "above_maximum",
                "11.0 is above the maximum of 10.0: this indicator must be 10 or less",
            )
        ],
        id="score-maximum-only",
    ),
    pytest.param(
        indicator(Unit.SCORE), EntryValues(value=D(-40)), [], id="score-has-no-default-range"
    ),
    pytest.param(
        indicator(),
        EntryValues(),
        [("value", E, "required", f"nothing entered: enter a value, {SYMBOLS}")],
        id="typed-nothing-entered",
    ),
    pytest.param(indicator(required=False), EntryValues(), [], id="typed-optional-blank"),
    pytest.param(indicator(), EntryValues(symbol=Symbol.NOT_AVAILABLE), [], id="[x]-allowed"),
    pytest.param(fraction(), EntryValues(symbol=Symbol.NOT_APPLICABLE), [], id="[z]-allowed"),
    pytest.param(
        indicator(),
        EntryValues(symbol=Symbol.SUPPRESSED),
        [
            (
                "value",
                E,
                "symbol_not_allowed",
                "[c] (suppressed) is added when figures are published: enter the number "
                "itself, or [x] if it is not available, or [z] if it does not apply",
            )
        ],
        id="[c]-refused",
    ),
]


@pytest.mark.parametrize(("defn", "entry", "expected"), ERROR_CASES)
def test_errors(
    defn: Definition, entry: EntryValues, expected: list[tuple[str, Severity, str, str]]
) -> None:
    problems = validate_entry(defn, entry)
    assert found(problems) == expected
    assert all(problem.code == "HW-01" for problem in problems)


def test_several_errors_on_one_entry_are_all_reported() -> None:
    problems = validate_entry(indicator(Unit.COUNT, decimals=0), EntryValues(value=D("-2.5")))
    assert [p.rule for p in problems] == ["whole_number", "below_minimum"]
    assert problems[1].message.startswith("-2.5 is below the minimum of 0")


# -- warnings --------------------------------------------------------------------------------

WARNING_CASES = [
    pytest.param(
        fraction(),
        EntryValues(numerator=D(62), denominator=D(100)),
        History(previous=D(90)),
        [
            (
                "change_from_previous",
                f"62.0% is 31% lower than the previous period (90.0%): {CHECK}",
            )
        ],
        id="fall-from-previous",
    ),
    pytest.param(
        indicator(),
        EntryValues(value=D(62)),
        History(previous=D(60), year_earlier=D(58)),
        [],
        id="small-changes",
    ),
    pytest.param(
        indicator(),
        EntryValues(value=D(75)),
        History(previous=D(60)),
        [],
        id="exactly-25-percent-is-not-more-than-25",
    ),
    pytest.param(
        indicator(Unit.SCORE),
        EntryValues(value=D("125.4")),
        History(previous=D(100)),
        [
            (
                "change_from_previous",
                f"125.4 is 25.4% higher than the previous period (100.0): {CHECK}",
            )
        ],
        id="just-over-25-shows-a-decimal",
    ),
    pytest.param(
        indicator(),
        EntryValues(value=D(5)),
        History(previous=D(0)),
        [("change_from_previous", f"5.0% is higher than the previous period (0.0%): {CHECK}")],
        id="any-change-from-zero",
    ),
    pytest.param(
        indicator(),
        EntryValues(value=D(0)),
        History(previous=D(0)),
        [],
        id="zero-after-zero",
    ),
    pytest.param(
        indicator(),
        EntryValues(value=D(40)),
        History(previous=D(39), year_earlier=D(20)),
        [
            (
                "change_from_year_earlier",
                f"40.0% is 100% higher than the same period last year (20.0%): {CHECK}",
            )
        ],
        id="change-from-year-earlier",
    ),
    pytest.param(
        indicator(),
        EntryValues(value=D(40)),
        History(previous=D(20), year_earlier=D(80)),
        [
            (
                "change_from_previous",
                f"40.0% is 100% higher than the previous period (20.0%): {CHECK}",
            ),
            (
                "change_from_year_earlier",
                f"40.0% is 50% lower than the same period last year (80.0%): {CHECK}",
            ),
        ],
        id="both-changes",
    ),
    pytest.param(
        indicator(frequency=Frequency.ANNUAL),
        EntryValues(value=D(40)),
        History(previous=D(20), year_earlier=D(20)),
        [("change_from_previous", f"40.0% is 100% higher than last year (20.0%): {CHECK}")],
        id="annual-warns-once-about-last-year",
    ),
    pytest.param(
        indicator(change_warning_percent=None),
        EntryValues(value=D(40)),
        History(previous=D(20), year_earlier=D(80)),
        [],
        id="change-warnings-turned-off",
    ),
    pytest.param(
        indicator(change_warning_percent=D(10)),
        EntryValues(value=D(62)),
        History(previous=D(70)),
        [("change_from_previous", f"62.0% is 11% lower than the previous period (70.0%): {CHECK}")],
        id="own-change-limit",
    ),
    pytest.param(
        indicator(Unit.COUNT, decimals=0),
        EntryValues(value=D(1500)),
        History(previous=D(1000)),
        [
            (
                "change_from_previous",
                f"1,500 is 50% higher than the previous period (1,000): {CHECK}",
            )
        ],
        id="count-with-thousands",
    ),
    pytest.param(
        fraction(Unit.RATE_PER_1000),
        EntryValues(numerator=D(3), denominator=D(1000)),
        History(previous=D(2)),
        [
            (
                "change_from_previous",
                f"3.0 per 1,000 is 50% higher than the previous period (2.0 per 1,000): {CHECK}",
            )
        ],
        id="rate-with-unit",
    ),
    pytest.param(
        indicator(),
        EntryValues(value=D(45)),
        History(seen_min=D(12), seen_max=D(40)),
        [
            (
                "outside_range_seen",
                "45.0% is outside the range seen so far (12.0–40.0%): check it, or explain it",
            )
        ],
        id="above-range-seen",
    ),
    pytest.param(
        indicator(),
        EntryValues(value=D(5)),
        History(seen_min=D(12)),
        [
            (
                "outside_range_seen",
                "5.0% is below the lowest value seen so far (12.0%): check it, or explain it",
            )
        ],
        id="below-lowest-seen",
    ),
    pytest.param(
        indicator(),
        EntryValues(value=D(41)),
        History(seen_max=D(40)),
        [
            (
                "outside_range_seen",
                "41.0% is above the highest value seen so far (40.0%): check it, or explain it",
            )
        ],
        id="above-highest-seen",
    ),
    pytest.param(
        indicator(),
        EntryValues(value=D(40)),
        History(seen_min=D(12), seen_max=D(40)),
        [],
        id="at-the-edge-of-the-range-seen",
    ),
    pytest.param(
        indicator(),
        EntryValues(value=D(140)),
        History(previous=D(10), seen_min=D(12), seen_max=D(40)),
        None,
        id="no-warnings-when-the-value-is-wrong",
    ),
    pytest.param(
        indicator(),
        EntryValues(symbol=Symbol.NOT_AVAILABLE),
        History(previous=D(10), seen_min=D(12), seen_max=D(40)),
        [],
        id="no-warnings-for-a-symbol",
    ),
]


@pytest.mark.parametrize(("defn", "entry", "history", "expected"), WARNING_CASES)
def test_warnings(
    defn: Definition,
    entry: EntryValues,
    history: History,
    expected: list[tuple[str, str]] | None,
) -> None:
    problems = validate_entry(defn, entry, history)
    if expected is None:
        assert [p.severity for p in problems] == [E]
        return
    assert [(p.rule, p.message) for p in problems] == expected
    assert all(p.severity is W and p.field == "value" for p in problems)


def test_no_history_means_no_warnings() -> None:
    assert validate_entry(indicator(), EntryValues(value=D(99))) == []


# -- a whole return --------------------------------------------------------------------------


def test_validate_return_lists_errors_first_in_form_order() -> None:
    defns = {
        "A": indicator(code="A"),
        "B": indicator(code="B"),
        "C": indicator(code="C"),
        "D": indicator(code="D", required=False),
    }
    entries = {
        "A": EntryValues(value=D(80)),
        "B": EntryValues(value=D(120)),
        "NOT-IN-FORM": EntryValues(value=D(1)),
    }
    histories = {"A": History(previous=D(40)), "C": History(previous=D(50))}
    problems = validate_return(defns, entries, histories)
    assert [(p.code, p.severity, p.rule) for p in problems] == [
        ("B", E, "above_maximum"),
        ("C", E, "required"),
        ("A", W, "change_from_previous"),
    ]


def test_validate_return_all_well() -> None:
    defns = {"A": indicator(code="A")}
    assert validate_return(defns, {"A": EntryValues(value=D(50))}, {}) == []


def test_problem_reads_with_its_place() -> None:
    problem = Problem("HW-01", "numerator", E, "negative", "the numerator (-3) is negative")
    assert str(problem) == "HW-01 numerator: the numerator (-3) is negative"


# -- resolved value and typed text -----------------------------------------------------------


@pytest.mark.parametrize(
    ("defn", "entry", "expected"),
    [
        (fraction(), EntryValues(numerator=D(1), denominator=D(3)), D("33.3")),
        (fraction(), EntryValues(numerator=D(1), denominator=D(8)), D("12.5")),
        (fraction(decimals=0), EntryValues(numerator=D(1), denominator=D(8)), D(13)),
        (fraction(Unit.RATE_PER_10000), EntryValues(numerator=D(45), denominator=D(150000)), D(3)),
        (fraction(), EntryValues(numerator=D(1)), None),
        (fraction(), EntryValues(denominator=D(3)), None),
        (fraction(), EntryValues(numerator=D(1), denominator=D(0)), None),
        (fraction(), EntryValues(numerator=D(1), denominator=D(-3)), None),
        (fraction(), EntryValues(value=D(50)), None),  # a fraction's value is never typed
        (indicator(), EntryValues(value=D("62.25")), D("62.25")),
        (indicator(), EntryValues(), None),
        (indicator(), EntryValues(value=D(5), symbol=Symbol.NOT_AVAILABLE), None),
    ],
)
def test_resolved_value(defn: Definition, entry: EntryValues, expected: Decimal | None) -> None:
    assert resolved_value(defn, entry) == expected


@pytest.mark.parametrize(
    ("defn", "texts", "entry", "expected"),
    [
        (
            fraction(),
            {"numerator": "1,234", "denominator": " 2,000 "},
            EntryValues(numerator=D(1234), denominator=D(2000)),
            [],
        ),
        (
            fraction(),
            {"numerator": "[x]", "denominator": ""},
            EntryValues(symbol=Symbol.NOT_AVAILABLE),
            [],
        ),
        (
            fraction(),
            {"numerator": "abc", "denominator": "10"},
            EntryValues(denominator=D(10)),
            [
                (
                    "numerator",
                    E,
                    "not_a_number",
                    "'abc' is not a number: expected a number such as 12.5 or 1,234",
                )
            ],
        ),
        (
            indicator(),
            {"value": "62.5%", "numerator": "ignored"},
            EntryValues(value=D("62.5")),
            [],
        ),
        (
            indicator(),
            {"value": "1e3"},
            EntryValues(),
            [
                (
                    "value",
                    E,
                    "not_a_number",
                    "'1e3' is not a number: expected a number such as 12.5 or 1,234",
                )
            ],
        ),
        (
            indicator(),
            {"value": "[c]"},
            EntryValues(symbol=Symbol.SUPPRESSED),
            [],  # parsed here; refused by validate_entry
        ),
    ],
)
def test_parse_entry_texts(
    defn: Definition,
    texts: dict[str, str],
    entry: EntryValues,
    expected: list[tuple[str, Severity, str, str]],
) -> None:
    parsed, problems = parse_entry_texts(defn, **texts)
    assert parsed == entry
    assert found(problems) == expected


@pytest.mark.parametrize(
    ("texts", "rules"),
    [
        ({"numerator": "12", "denominator": "10"}, ["numerator_above_denominator"]),
        ({"numerator": "abc", "denominator": ""}, ["not_a_number"]),  # not also "required"
        ({"numerator": "", "denominator": ""}, ["required"]),
        ({"numerator": "[c]"}, ["symbol_not_allowed"]),
        ({"numerator": "30", "denominator": "100"}, ["change_from_previous"]),
        ({"numerator": "9", "denominator": "10"}, []),
    ],
)
def test_validate_texts(texts: dict[str, str], rules: list[str]) -> None:
    _, problems = validate_texts(fraction(), history=History(previous=D(90)), **texts)
    assert [p.rule for p in problems] == rules


# -- definitions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("unit", "multiplier", "suffix", "effective_min", "effective_max", "is_count"),
    [
        (Unit.PERCENT, D(100), "%", D(0), D(100), False),
        (Unit.COUNT, None, "", D(0), None, True),
        (Unit.RATE_PER_1000, D(1000), " per 1,000", D(0), None, False),
        (Unit.RATE_PER_10000, D(10000), " per 10,000", D(0), None, False),
        (Unit.SCORE, None, "", None, None, False),
    ],
)
def test_units(
    unit: Unit,
    multiplier: Decimal | None,
    suffix: str,
    effective_min: Decimal | None,
    effective_max: Decimal | None,
    is_count: bool,
) -> None:
    defn = indicator(unit)
    assert unit.multiplier == multiplier
    assert unit.suffix == suffix
    assert defn.multiplier == (multiplier or D(1))
    assert defn.effective_min == effective_min
    assert defn.effective_max == effective_max
    assert defn.is_count is is_count


def test_own_range_overrides_the_units() -> None:
    defn = indicator(Unit.PERCENT, min_value=D(-10), max_value=D(200))
    assert (defn.effective_min, defn.effective_max) == (D(-10), D(200))


def test_definition_takes_plain_strings_and_ints_from_a_catalogue() -> None:
    defn = Definition(
        code="ASB-02",
        title="Anti-social behaviour incidents",
        unit="count",  # type: ignore[arg-type]
        polarity="lower is better",  # type: ignore[arg-type]
        frequency="quarterly",  # type: ignore[arg-type]
        level="borough",  # type: ignore[arg-type]
        target=450,  # type: ignore[arg-type]
    )
    assert defn.unit is Unit.COUNT
    assert defn.polarity is Polarity.LOWER_IS_BETTER
    assert defn.target == D(450)


@pytest.mark.parametrize(
    "overrides",
    [
        {"decimals": -1},
        {"min_value": D(10), "max_value": D(5)},
        {"target": 12.5},  # a float would bring binary rounding into every comparison
    ],
)
def test_definition_refuses_impossible_settings(overrides: dict[str, Any]) -> None:
    with pytest.raises((ValueError, TypeError)):
        indicator(**overrides)


@pytest.mark.parametrize(
    ("unit", "decimals", "value", "shown"),
    [
        (Unit.PERCENT, 1, D(75), "75.0%"),
        (Unit.COUNT, 0, D(1234), "1,234"),
        (Unit.RATE_PER_1000, 2, D("12.345"), "12.35 per 1,000"),
        (Unit.RATE_PER_10000, 1, D(3), "3.0 per 10,000"),
        (Unit.SCORE, 1, D("-2.25"), "-2.3"),
        (Unit.PERCENT, 1, Symbol.NOT_AVAILABLE, "[x]"),
        (Unit.PERCENT, 1, None, ""),
    ],
)
def test_format_value(unit: Unit, decimals: int, value: Any, shown: str) -> None:
    assert format_value(indicator(unit, decimals=decimals), value) == shown


@pytest.mark.parametrize(
    ("frequency", "period", "due"),
    [
        (Frequency.QUARTERLY, "FY2024-25-Q1", True),
        (Frequency.QUARTERLY, "FY2024-25-Q4", True),
        (Frequency.QUARTERLY, "FY2024-25", False),
        (Frequency.QUARTERLY, "2024-04", False),
        (Frequency.ANNUAL, "FY2024-25-Q4", True),
        (Frequency.ANNUAL, "FY2024-25", True),
        (Frequency.ANNUAL, "FY2024-25-Q1", False),
        (Frequency.ANNUAL, "FY2024-25-Q3", False),
        (Frequency.ANNUAL, "2025-03", False),
        (Frequency.MONTHLY, "2024-04", True),
        (Frequency.MONTHLY, "FY2024-25-Q1", False),
        (Frequency.MONTHLY, "FY2024-25", False),
    ],
)
def test_is_due(frequency: Frequency, period: str, due: bool) -> None:
    assert is_due(frequency, parse_period(period)) is due


# -- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("location", "shown"),
    [
        ({}, "expected a number, got 'abc'"),
        ({"field": "HW-01 numerator"}, "HW-01 numerator: expected a number, got 'abc'"),
        (
            {"file": "returns/a.xlsx", "sheet": "Return", "cell": "F7"},
            "returns/a.xlsx, sheet Return, cell F7: expected a number, got 'abc'",
        ),
        ({"file": "returns/a.xlsx"}, "returns/a.xlsx: expected a number, got 'abc'"),
        (
            {"file": "a.xlsx", "sheet": "Return", "cell": "F7", "field": "HW-01 numerator"},
            "a.xlsx, sheet Return, cell F7, HW-01 numerator: expected a number, got 'abc'",
        ),
    ],
)
def test_validation_error_says_where(location: dict[str, str], shown: str) -> None:
    error = ValidationError("expected a number, got 'abc'", **location)
    assert str(error) == shown
    assert error.message == "expected a number, got 'abc'"


def test_validation_error_located_adds_where_the_file_reader_found_it() -> None:
    error = ValidationError("'abc' is not a number", field="value")
    located = error.located(file="a.xlsx", sheet="Return", cell="F7", field="ignored")
    assert str(located) == "a.xlsx, sheet Return, cell F7, value: 'abc' is not a number"
