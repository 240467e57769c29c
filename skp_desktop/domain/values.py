"""What people type into a return, held as Decimal (never float) or as a statistical symbol."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from enum import StrEnum
from typing import TypeAlias

from skp_desktop.domain.errors import ValidationError

# Enough digits that a division of two large counts, times 10,000, still rounds exactly.
_PRECISION = 60

# More digits than any real count or rate has: longer text is a paste gone wrong.
MAX_DIGITS = 30

_EXPECTED_NUMBER = "expected a number such as 12.5 or 1,234"

# An optional sign; digits either plain or with commas every three; an optional fraction;
# an optional trailing %, which is only a way of writing the number (12.5% is 12.5).
# [0-9], not \d: \d accepts non-ASCII digits that Decimal would read but people would not.
_NUMBER = re.compile(
    r"(?P<sign>[+-]?)"
    r"(?P<whole>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)?"
    r"(?:\.(?P<fraction>[0-9]*))?"
    r"\s*(?P<percent>%?)"
)

# Minus signs that word processors and web pages put in place of the hyphen-minus.
_MINUS_SIGNS = str.maketrans({"\u2212": "-", "\u2013": "-", "\ufe63": "-", "\uff0d": "-"})


class Symbol(StrEnum):
    """Statistical symbols used instead of a number (Government Statistical Service style)."""

    NOT_AVAILABLE = "[x]"
    NOT_APPLICABLE = "[z]"
    SUPPRESSED = "[c]"

    @property
    def description(self) -> str:
        """What the symbol means, in words."""
        return _SYMBOL_DESCRIPTIONS[self]


_SYMBOL_DESCRIPTIONS = {
    Symbol.NOT_AVAILABLE: "not available",
    Symbol.NOT_APPLICABLE: "not applicable",
    Symbol.SUPPRESSED: "suppressed (small number)",
}

Entry: TypeAlias = Decimal | Symbol | None


def parse_symbol(text: str) -> Symbol | None:
    """The symbol written in `text` ("[x]", " [Z] "), or None if it is not a bracketed symbol."""
    try:
        return Symbol(text.strip().lower())
    except ValueError:
        return None


def _shown(text: str) -> str:
    """Typed text as quoted in a message, cut short when a hostile file holds a huge cell."""
    return text if len(text) <= 40 else text[:40] + "…"


def parse_number(text: str, *, field: str = "value") -> Decimal:
    """The number in `text` as people write it: "1,234.5", " 7 ", "12.5%" (which is 12.5)."""
    stripped = text.strip()
    if not stripped:
        raise ValidationError(f"nothing was entered: {_EXPECTED_NUMBER}", field=field)
    match = _NUMBER.fullmatch(stripped.translate(_MINUS_SIGNS))
    if match is None or not (match["whole"] or match["fraction"]):
        raise ValidationError(
            f"'{_shown(stripped)}' is not a number: {_EXPECTED_NUMBER}", field=field
        )
    whole = (match["whole"] or "0").replace(",", "")
    fraction = match["fraction"] or ""
    if len(whole.lstrip("0")) + len(fraction) > MAX_DIGITS:
        raise ValidationError(
            f"'{_shown(stripped)}' has too many digits to be a figure in a return: "
            f"{_EXPECTED_NUMBER}",
            field=field,
        )
    value = Decimal(f"{match['sign']}{whole}.{fraction}" if fraction else f"{match['sign']}{whole}")
    # "-0" and "0" are the same figure; keep the sign out so it is never displayed.
    return value.copy_abs() if value.is_zero() else value


def parse_entry(text: str | None, *, field: str = "value") -> Entry:
    """A typed cell: None when blank, a Symbol such as [x], otherwise a number."""
    if text is None or not text.strip():
        return None
    symbol = parse_symbol(text)
    if symbol is not None:
        return symbol
    return parse_number(text, field=field)


def round_half_up(value: Decimal, decimals: int) -> Decimal:
    """`value` rounded to `decimals` places, halves away from zero: 2.345 -> 2.35, -2.5 -> -3."""
    if decimals < 0:
        raise ValueError("decimals cannot be negative")
    with localcontext() as context:
        # Enough precision that quantize never fails on a large value with many decimals.
        context.prec = max(_PRECISION, value.adjusted() + decimals + 2)
        rounded = value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    # -0.04 rounds to -0.0, which people would read as a negative figure.
    return rounded.copy_abs() if rounded.is_zero() else rounded


def canonical_text(value: Decimal) -> str:
    """The text a value is stored and sent as: no exponent, no trailing zeros, "-0" is "0"."""
    if not value.is_finite():
        raise ValueError(f"{value} cannot be stored: only finite numbers can")
    # Format "f" without a precision writes the exact value, whatever the context's precision.
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "0", "") else text


_CANONICAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def from_canonical(text: str | None) -> Decimal | None:
    """The Decimal for stored text written by canonical_text; None for None or blank."""
    if text is None or not text.strip():
        return None
    stripped = text.strip()
    if not _CANONICAL.fullmatch(stripped):
        raise ValidationError(
            f"'{_shown(stripped)}' is not a stored number: expected digits such as 12.5 or -3",
            field="value",
        )
    return Decimal(stripped)


def compute_value(
    numerator: Decimal, denominator: Decimal, multiplier: Decimal, decimals: int
) -> Decimal:
    """numerator / denominator × multiplier, rounded half-up to `decimals` places."""
    if denominator <= 0:
        raise ValidationError("the denominator must be more than 0", field="denominator")
    with localcontext() as context:
        context.prec = _PRECISION
        try:
            # Multiply first so that exact results (1/8 × 100 = 12.5) stay exact before rounding.
            raw = numerator * multiplier / denominator
        except InvalidOperation as error:
            raise ValueError(f"cannot compute {numerator} / {denominator}") from error
    return round_half_up(raw, decimals)


def format_number(value: Decimal, decimals: int) -> str:
    """en-GB display with thousands commas and fixed decimals: 1234.5 at 1dp -> "1,234.5"."""
    return f"{round_half_up(value, decimals):,.{decimals}f}"


def format_decimal(value: Decimal) -> str:
    """en-GB display keeping the decimals the value has: 1234 -> "1,234", 12.50 -> "12.5"."""
    text = canonical_text(value)
    whole, _, fraction = text.partition(".")
    whole_text = f"{int(whole):,}" if whole != "-0" else "-0"
    return f"{whole_text}.{fraction}" if fraction else whole_text
