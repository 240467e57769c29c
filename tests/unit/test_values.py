"""Typed values: numbers as people write them, symbols, rounding, storage text and display."""

from __future__ import annotations

from decimal import Decimal

import pytest

from skp_desktop.domain.errors import ValidationError
from skp_desktop.domain.values import (
    Symbol,
    canonical_text,
    compute_value,
    format_decimal,
    format_number,
    from_canonical,
    parse_entry,
    parse_number,
    parse_symbol,
    round_half_up,
)

D = Decimal
EXPECTED = "expected a number such as 12.5 or 1,234"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12.5", D("12.5")),
        (" 7 ", D(7)),
        ("1,234", D(1234)),
        ("1,234.50", D("1234.50")),
        ("12,345,678", D(12345678)),
        ("12.5%", D("12.5")),  # % is only a way of writing the number, not a division by 100
        ("100%", D(100)),
        ("12.5 %", D("12.5")),
        ("-3", D(-3)),
        ("+4", D(4)),
        ("0.5", D("0.5")),
        (".5", D("0.5")),
        ("5.", D(5)),
        ("007", D(7)),
        ("0", D(0)),
        ("-0", D(0)),
        ("\u22123", D(-3)),  # the minus sign that Word and web pages produce
        ("\xa012\xa0", D(12)),  # non-breaking spaces pasted from a web page
        ("123456789012345678901234567890", D("123456789012345678901234567890")),
    ],
)
def test_parse_number_accepts(text: str, expected: Decimal) -> None:
    parsed = parse_number(text)
    assert parsed == expected
    assert not parsed.is_signed() or parsed < 0  # never a "-0" that could be displayed


@pytest.mark.parametrize(
    "text",
    [
        "NaN",
        "nan",
        "inf",
        "Infinity",
        "-Infinity",
        "sNaN",
        "1e3",
        "1E-2",
        "12.5.1",
        "abc",
        "£5",
        "5 kg",
        "1 234",
        "1,23",
        "1,2345",
        ",123",
        "1234,567",
        "1,,234",
        "--3",
        "- 3",
        "+-3",
        "3-",
        ".",
        "%",
        "12%%",
        "%12",
        "0x1F",
        "1_000",
        "٣",  # an Arabic-Indic digit: Decimal would read it, people here would not mean it
        "[y]",
        "1234567890123456789012345678901",  # 31 digits: a paste gone wrong
    ],
)
def test_parse_number_refuses_and_names_what_was_typed(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_number(text, field="HW-01 numerator")
    error = caught.value
    assert f"'{text}'" in error.message
    assert EXPECTED in error.message
    assert error.field == "HW-01 numerator"
    assert str(error) == f"HW-01 numerator: {error.message}"


@pytest.mark.parametrize("text", ["", "   ", "\t"])
def test_parse_number_refuses_blank(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_number(text)
    assert caught.value.message == f"nothing was entered: {EXPECTED}"
    assert caught.value.field == "value"


def test_parse_number_cuts_a_huge_cell_short() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_number("9" * 1_000_000)
    assert len(caught.value.message) < 200


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[x]", Symbol.NOT_AVAILABLE),
        (" [X] ", Symbol.NOT_AVAILABLE),
        ("[z]", Symbol.NOT_APPLICABLE),
        ("[Z]", Symbol.NOT_APPLICABLE),
        ("[c]", Symbol.SUPPRESSED),
        ("x", None),
        ("z", None),
        ("[ x ]", None),
        ("(x)", None),
        ("[y]", None),
        ("", None),
        ("12", None),
    ],
)
def test_parse_symbol(text: str, expected: Symbol | None) -> None:
    assert parse_symbol(text) is expected


@pytest.mark.parametrize(
    ("symbol", "description"),
    [
        (Symbol.NOT_AVAILABLE, "not available"),
        (Symbol.NOT_APPLICABLE, "not applicable"),
        (Symbol.SUPPRESSED, "suppressed (small number)"),
    ],
)
def test_symbol_descriptions(symbol: Symbol, description: str) -> None:
    assert symbol.description == description


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("[x]", Symbol.NOT_AVAILABLE),
        (" [z]", Symbol.NOT_APPLICABLE),
        ("1,234.5", D("1234.5")),
        ("75%", D(75)),
    ],
)
def test_parse_entry(text: str | None, expected: object) -> None:
    assert parse_entry(text) == expected


def test_parse_entry_passes_the_field_on() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_entry("abc", field="denominator")
    assert caught.value.field == "denominator"


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        ("2.345", 2, "2.35"),
        ("2.5", 0, "3"),
        ("3.5", 0, "4"),  # half-up, not bankers' rounding (which gives 4 here but 2 for 2.5)
        ("-2.5", 0, "-3"),
        ("-2.345", 2, "-2.35"),
        ("2.344", 2, "2.34"),
        ("0.05", 1, "0.1"),
        ("0.15", 1, "0.2"),
        ("12", 1, "12.0"),
        ("-0.04", 1, "0.0"),  # never "-0.0" on screen
        ("99999999999999999999999999999.95", 1, "100000000000000000000000000000.0"),
    ],
)
def test_round_half_up(value: str, decimals: int, expected: str) -> None:
    rounded = round_half_up(D(value), decimals)
    assert str(rounded) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (D("12.50"), "12.5"),
        (D("100"), "100"),
        (D("1E+3"), "1000"),
        (D("1.20E+2"), "120"),
        (D("0.000"), "0"),
        (D("-0"), "0"),
        (D("-0.00"), "0"),
        (D("-3.10"), "-3.1"),
        (D("1E-7"), "0.0000001"),
        (D("0.5"), "0.5"),
        (D("123456789012345678901234567890.5"), "123456789012345678901234567890.5"),
    ],
)
def test_canonical_text(value: Decimal, expected: str) -> None:
    assert canonical_text(value) == expected
    assert from_canonical(expected) == value


@pytest.mark.parametrize("value", [D("NaN"), D("Infinity"), D("-Infinity")])
def test_canonical_text_refuses_what_is_not_a_number(value: Decimal) -> None:
    with pytest.raises(ValueError):
        canonical_text(value)


@pytest.mark.parametrize(
    ("text", "expected"), [(None, None), ("", None), ("12.5", D("12.5")), ("-3", D(-3))]
)
def test_from_canonical(text: str | None, expected: Decimal | None) -> None:
    assert from_canonical(text) == expected


@pytest.mark.parametrize("text", ["1E+3", "NaN", "1,234", "abc", "12.5%"])
def test_from_canonical_refuses_other_text(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        from_canonical(text)
    assert f"'{text}'" in caught.value.message


@pytest.mark.parametrize(
    ("numerator", "denominator", "multiplier", "decimals", "expected"),
    [
        ("1", "3", "100", 1, "33.3"),
        ("2", "3", "100", 1, "66.7"),
        ("1", "8", "100", 1, "12.5"),
        ("1", "8", "100", 0, "13"),  # exactly 12.5 rounds up, not to even
        ("62", "100", "100", 1, "62.0"),
        ("45", "150000", "1000", 2, "0.30"),
        ("45", "150000", "10000", 1, "3.0"),
        ("7", "7", "100", 1, "100.0"),
        ("0", "12", "100", 1, "0.0"),
        ("5", "2", "1", 0, "3"),
        ("123456789", "987654321", "100", 3, "12.500"),
    ],
)
def test_compute_value(
    numerator: str, denominator: str, multiplier: str, decimals: int, expected: str
) -> None:
    value = compute_value(D(numerator), D(denominator), D(multiplier), decimals)
    assert str(value) == expected


@pytest.mark.parametrize("denominator", ["0", "-5"])
def test_compute_value_refuses_a_denominator_that_is_not_positive(denominator: str) -> None:
    with pytest.raises(ValidationError) as caught:
        compute_value(D(1), D(denominator), D(100), 1)
    assert caught.value.message == "the denominator must be more than 0"
    assert caught.value.field == "denominator"


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (D("1234.5"), 1, "1,234.5"),
        (D("75"), 1, "75.0"),
        (D("-3"), 1, "-3.0"),
        (D("-1234.56"), 1, "-1,234.6"),
        (D("1234567"), 0, "1,234,567"),
        (D("999.95"), 1, "1,000.0"),
        (D("2.345"), 2, "2.35"),
        (D("0.25"), 1, "0.3"),
        (D("-0.04"), 1, "0.0"),
        (D("1E+3"), 0, "1,000"),
        (D("12"), 3, "12.000"),
    ],
)
def test_format_number(value: Decimal, decimals: int, expected: str) -> None:
    assert format_number(value, decimals) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (D("1234"), "1,234"),
        (D("12.50"), "12.5"),
        (D("-0.5"), "-0.5"),
        (D("-1234.125"), "-1,234.125"),
        (D("1E+6"), "1,000,000"),
    ],
)
def test_format_decimal(value: Decimal, expected: str) -> None:
    assert format_decimal(value) == expected
