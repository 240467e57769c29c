"""Indicator definitions: what each indicator measures, in what unit, and what counts as good."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from skp_desktop.domain.periods import Period, PeriodKind
from skp_desktop.domain.values import Entry, Symbol, format_number


class Unit(StrEnum):
    """The unit an indicator's value is expressed in."""

    PERCENT = "percent"
    COUNT = "count"
    RATE_PER_1000 = "rate per 1,000"
    RATE_PER_10000 = "rate per 10,000"
    SCORE = "score"

    @property
    def multiplier(self) -> Decimal | None:
        """What numerator / denominator is multiplied by, or None for units not computed so."""
        return _MULTIPLIERS[self]

    @property
    def suffix(self) -> str:
        """Text written after a formatted value: "%", " per 1,000", or nothing."""
        return _SUFFIXES[self]


_MULTIPLIERS: dict[Unit, Decimal | None] = {
    Unit.PERCENT: Decimal(100),
    Unit.COUNT: None,
    Unit.RATE_PER_1000: Decimal(1000),
    Unit.RATE_PER_10000: Decimal(10000),
    Unit.SCORE: None,
}

_SUFFIXES = {
    Unit.PERCENT: "%",
    Unit.COUNT: "",
    Unit.RATE_PER_1000: " per 1,000",
    Unit.RATE_PER_10000: " per 10,000",
    Unit.SCORE: "",
}

# Units that cannot go below zero: shares, counts and rates of things that happened.
_NEVER_NEGATIVE = frozenset({Unit.PERCENT, Unit.COUNT, Unit.RATE_PER_1000, Unit.RATE_PER_10000})


class Polarity(StrEnum):
    """Which way a change is good news."""

    HIGHER_IS_BETTER = "higher is better"
    LOWER_IS_BETTER = "lower is better"
    NEUTRAL = "neutral"


class Level(StrEnum):
    """Whether an indicator describes the whole borough or one service's work."""

    BOROUGH = "borough"
    SERVICE = "service"


class Frequency(StrEnum):
    """How often an indicator is reported."""

    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    ANNUAL = "annual"


def _as_decimal(value: object) -> Decimal | None:
    """Decimal for the optional numeric settings; float is refused because it is inexact."""
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"expected a Decimal, got {type(value).__name__} {value!r}")
    return Decimal(value)


@dataclass(frozen=True)
class Definition:
    """One version of an indicator's definition, as the validator and the charts need it."""

    code: str
    title: str
    unit: Unit
    polarity: Polarity
    frequency: Frequency
    level: Level
    decimals: int = 1
    # True: entered as numerator and denominator, and the value is computed (never typed).
    has_fraction: bool = False
    numerator_label: str | None = None
    denominator_label: str | None = None
    min_value: Decimal | None = None  # valid range of the value
    max_value: Decimal | None = None
    target: Decimal | None = None
    amber_tolerance: Decimal = Decimal(0)  # absolute, in the indicator's unit
    # Warn when the value moves more than this % from the previous period or a year earlier.
    change_warning_percent: Decimal | None = Decimal(25)
    small_number_threshold: int | None = None
    required: bool = True

    def __post_init__(self) -> None:
        # Catalogue loaders pass plain strings and ints; hold the proper types from here on.
        object.__setattr__(self, "unit", Unit(self.unit))
        object.__setattr__(self, "polarity", Polarity(self.polarity))
        object.__setattr__(self, "frequency", Frequency(self.frequency))
        object.__setattr__(self, "level", Level(self.level))
        for name in ("min_value", "max_value", "target", "change_warning_percent"):
            object.__setattr__(self, name, _as_decimal(getattr(self, name)))
        object.__setattr__(self, "amber_tolerance", _as_decimal(self.amber_tolerance))
        if self.decimals < 0:
            raise ValueError(f"{self.code}: decimals cannot be negative")
        lowest, highest = self.effective_min, self.effective_max
        if lowest is not None and highest is not None and lowest > highest:
            raise ValueError(f"{self.code}: the minimum {lowest} is above the maximum {highest}")

    @property
    def multiplier(self) -> Decimal:
        """What numerator / denominator is multiplied by: 100 for a percentage, else 1."""
        return self.unit.multiplier or Decimal(1)

    @property
    def effective_min(self) -> Decimal | None:
        """The lowest valid value: min_value, or 0 for percentages, counts and rates."""
        if self.min_value is not None:
            return self.min_value
        return Decimal(0) if self.unit in _NEVER_NEGATIVE else None

    @property
    def effective_max(self) -> Decimal | None:
        """The highest valid value: max_value, or 100 for percentages."""
        if self.max_value is not None:
            return self.max_value
        return Decimal(100) if self.unit is Unit.PERCENT else None

    @property
    def is_count(self) -> bool:
        """Whether the value is a count, which must be a whole number."""
        return self.unit is Unit.COUNT


def format_value(defn: Definition, value: Entry) -> str:
    """A value as shown in the app: "75.0%", "12.3 per 1,000", "[x]", or "" when blank."""
    if value is None:
        return ""
    if isinstance(value, Symbol):
        return value.value
    return f"{format_number(value, defn.decimals)}{defn.unit.suffix}"


def is_due(frequency: Frequency, period: Period) -> bool:
    """Whether a return for `period` asks for indicators reported at `frequency`."""
    frequency = Frequency(frequency)
    if frequency is Frequency.MONTHLY:
        return period.kind is PeriodKind.MONTH
    if frequency is Frequency.QUARTERLY:
        return period.kind is PeriodKind.QUARTER
    # Annual figures come with the year-end (Q4) return, or with a return for the whole year.
    return period.kind is PeriodKind.YEAR or (
        period.kind is PeriodKind.QUARTER and period.index == 4
    )
