"""Checks on the figures in a return: errors block submission, warnings need an explanation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from skp_desktop.domain.definitions import Definition, Frequency, Unit
from skp_desktop.domain.errors import ValidationError
from skp_desktop.domain.values import (
    Symbol,
    compute_value,
    format_decimal,
    format_number,
    parse_entry,
    round_half_up,
)


class Severity(StrEnum):
    """An error stops a return being submitted; a warning needs checking or explaining."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One thing wrong, or worth a second look, in one field of one indicator."""

    code: str  # indicator code
    field: str  # "numerator" | "denominator" | "value" | "explanation"
    severity: Severity
    rule: str  # stable id, e.g. "required", "above_maximum", "change_from_previous"
    message: str  # what is wrong and what is expected, in plain English

    def __str__(self) -> str:
        return f"{self.code} {self.field}: {self.message}"


@dataclass(frozen=True)
class EntryValues:
    """What was entered for one indicator: numbers, or a symbol instead of them."""

    numerator: Decimal | None = None
    denominator: Decimal | None = None
    value: Decimal | None = None  # for has_fraction definitions leave None: it is computed
    symbol: Symbol | None = None  # [x] or [z]; [c] is applied on publication, never typed


@dataclass(frozen=True)
class History:
    """Earlier values of an indicator, for the warnings about unusual changes."""

    # For annual indicators the previous period is the year before, so callers pass it here too.
    previous: Decimal | None = None
    year_earlier: Decimal | None = None
    seen_min: Decimal | None = None  # range of all earlier values
    seen_max: Decimal | None = None


_SYMBOL_HINT = "or [x] if the figure is not available, or [z] if it does not apply"
_CHECK = "check it, or explain the change"


def resolved_value(defn: Definition, entry: EntryValues) -> Decimal | None:
    """The value the return holds: computed from the fraction, or as typed; None if not known."""
    if entry.symbol is not None:
        return None
    if not defn.has_fraction:
        return entry.value
    if entry.numerator is None or entry.denominator is None or entry.denominator <= 0:
        return None
    return compute_value(entry.numerator, entry.denominator, defn.multiplier, defn.decimals)


class _Checker:
    """Collects the problems of one entry; a class only to share the definition and formatting."""

    def __init__(self, defn: Definition) -> None:
        self.defn = defn
        self.problems: list[Problem] = []

    def add(self, field: str, severity: Severity, rule: str, message: str) -> None:
        """Record one problem."""
        self.problems.append(Problem(self.defn.code, field, severity, rule, message))

    def error(self, field: str, rule: str, message: str) -> None:
        """Record an error."""
        self.add(field, Severity.ERROR, rule, message)

    def warning(self, rule: str, message: str) -> None:
        """Record a warning on the value."""
        self.add("value", Severity.WARNING, rule, message)

    def show(self, value: Decimal) -> str:
        """A value with its unit, e.g. "140.0%"; typed extra decimals are kept so nothing hides."""
        decimals = self.defn.decimals
        exponent = value.as_tuple().exponent
        if (
            isinstance(exponent, int)
            and -exponent > decimals
            and value != round_half_up(value, decimals)
        ):
            return f"{format_decimal(value)}{self.defn.unit.suffix}"
        return f"{format_number(value, decimals)}{self.defn.unit.suffix}"

    def part_name(self, field: str) -> str:
        """The field named for people: "the numerator (victims supported)" or "the numerator"."""
        label = self.defn.numerator_label if field == "numerator" else self.defn.denominator_label
        return f"the {field} ({label})" if label else f"the {field}"

    # -- errors ----------------------------------------------------------------------------

    def check_fraction(self, numerator: Decimal | None, denominator: Decimal | None) -> None:
        """Errors in a numerator and denominator, before the value is computed from them."""
        if numerator is None and denominator is None:
            if self.defn.required:
                # One problem, on the first cell to fill, so a missing indicator counts once.
                self.error(
                    "numerator",
                    "required",
                    f"nothing entered: enter {self.part_name('numerator')} and "
                    f"{self.part_name('denominator')}, {_SYMBOL_HINT}",
                )
            return
        for field, given, other in (
            ("numerator", numerator, "denominator"),
            ("denominator", denominator, "numerator"),
        ):
            if given is None:
                self.error(
                    field,
                    "required",
                    f"{self.part_name(field)} is missing: enter it as well as the {other}, "
                    f"{_SYMBOL_HINT}",
                )
        for field, given in (("numerator", numerator), ("denominator", denominator)):
            if given is not None:
                self.check_part(field, given)
        if (
            self.defn.unit is Unit.PERCENT
            and numerator is not None
            and denominator is not None
            and not self.problems
            and numerator > denominator
        ):
            self.error(
                "numerator",
                "numerator_above_denominator",
                f"the numerator ({format_decimal(numerator)}) is above the denominator "
                f"({format_decimal(denominator)}): a percentage cannot be more than 100",
            )

    def check_part(self, field: str, given: Decimal) -> None:
        """Errors in a numerator or a denominator on its own."""
        shown = format_decimal(given)
        if given < 0:
            must = "0 or more" if field == "numerator" else "more than 0"
            self.error(field, "negative", f"the {field} ({shown}) is negative: it must be {must}")
        elif field == "denominator" and given == 0:
            self.error(
                field,
                "denominator_not_positive",
                "the denominator is 0: it must be more than 0, because the value is "
                "the numerator divided by the denominator",
            )
        if self.defn.unit is Unit.PERCENT and given != given.to_integral_value():
            self.error(
                field,
                "whole_number",
                f"the {field} ({shown}) is not a whole number: the {field} of a percentage "
                "is a number of people or things, so it must be whole",
            )

    def check_value(self, value: Decimal) -> None:
        """Errors in the value itself: whole numbers for counts, and the valid range."""
        defn = self.defn
        if defn.is_count and value != value.to_integral_value():
            self.error(
                "value",
                "whole_number",
                f"{format_decimal(value)} is not a whole number: a count must be a whole number",
            )
        lowest, highest = defn.effective_min, defn.effective_max
        if lowest is not None and value < lowest:
            self.error(
                "value",
                "below_minimum",
                f"{self.show(value)} is below the minimum of {self.show(lowest)}: "
                f"{self.range_reason(lowest, highest)}",
            )
        elif highest is not None and value > highest:
            self.error(
                "value",
                "above_maximum",
                f"{self.show(value)} is above the maximum of {self.show(highest)}: "
                f"{self.range_reason(lowest, highest)}",
            )

    def range_reason(self, lowest: Decimal | None, highest: Decimal | None) -> str:
        """Why the range is what it is, in words."""
        defn = self.defn
        low = format_decimal(lowest) if lowest is not None else ""
        high = format_decimal(highest) if highest is not None else ""
        if defn.min_value is None and defn.max_value is None:
            # The range is the unit's own, so the unit explains it.
            if defn.unit is Unit.PERCENT:
                return f"a percentage must be between {low} and {high}"
            if defn.unit is Unit.COUNT:
                return "a count cannot be negative"
            if defn.unit in (Unit.RATE_PER_1000, Unit.RATE_PER_10000):
                return "a rate cannot be negative"
        if lowest is not None and highest is not None:
            return f"this indicator must be between {low} and {high}"
        if lowest is not None:
            return f"this indicator must be {low} or more"
        return f"this indicator must be {high} or less"

    # -- warnings --------------------------------------------------------------------------

    def check_change(self, value: Decimal, earlier: Decimal | None, rule: str, when: str) -> None:
        """Warn when the value moved by more than the definition allows since `earlier`."""
        threshold = self.defn.change_warning_percent
        if earlier is None or threshold is None or value == earlier:
            return
        way = "higher" if value > earlier else "lower"
        if earlier == 0:
            # No percentage change from 0 exists, and any move away from 0 is worth a look.
            self.warning(
                rule,
                f"{self.show(value)} is {way} than {when} ({self.show(earlier)}): {_CHECK}",
            )
            return
        change = abs(value - earlier) / abs(earlier) * 100
        if change <= threshold:
            return
        shown = round_half_up(change, 0)
        # "25% higher" would read as within a 25% limit; show a decimal when rounding hides it.
        text = format_number(change, 0 if shown > threshold else 1)
        self.warning(
            rule,
            f"{self.show(value)} is {text}% {way} than {when} ({self.show(earlier)}): {_CHECK}",
        )

    def check_range_seen(self, value: Decimal, history: History) -> None:
        """Warn when the value is outside every value seen before."""
        low, high = history.seen_min, history.seen_max
        below = low is not None and value < low
        above = high is not None and value > high
        if not (below or above):
            return
        suffix = self.defn.unit.suffix
        decimals = self.defn.decimals
        if low is not None and high is not None:
            seen = f"the range seen so far ({format_number(low, decimals)}–"
            seen += f"{format_number(high, decimals)}{suffix})"
            message = f"{self.show(value)} is outside {seen}"
        elif below and low is not None:
            message = f"{self.show(value)} is below the lowest value seen so far ({self.show(low)})"
        else:
            assert high is not None  # above is only True when high is known
            message = (
                f"{self.show(value)} is above the highest value seen so far ({self.show(high)})"
            )
        self.warning("outside_range_seen", f"{message}: check it, or explain it")


def _sorted(problems: list[Problem]) -> list[Problem]:
    """Errors first, otherwise in the order found (the order of the form)."""
    return sorted(problems, key=lambda problem: problem.severity is not Severity.ERROR)


def validate_entry(
    defn: Definition, entry: EntryValues, history: History | None = None
) -> list[Problem]:
    """Every error and warning in one indicator's entry; an empty list when all is well."""
    checker = _Checker(defn)
    if entry.symbol is not None:
        if entry.symbol is Symbol.SUPPRESSED:
            checker.error(
                "value",
                "symbol_not_allowed",
                "[c] (suppressed) is added when figures are published: enter the number "
                "itself, or [x] if it is not available, or [z] if it does not apply",
            )
        return checker.problems

    if defn.has_fraction:
        checker.check_fraction(entry.numerator, entry.denominator)
        if checker.problems:
            return _sorted(checker.problems)
        value = resolved_value(defn, entry)
    else:
        value = entry.value
        if value is None and defn.required:
            checker.error("value", "required", f"nothing entered: enter a value, {_SYMBOL_HINT}")
    if value is None:
        return _sorted(checker.problems)

    checker.check_value(value)
    if checker.problems or history is None:
        return _sorted(checker.problems)

    annual = defn.frequency is Frequency.ANNUAL
    checker.check_change(
        value,
        history.previous,
        "change_from_previous",
        "last year" if annual else "the previous period",
    )
    # For annual indicators the previous period is the year earlier: one warning is enough.
    if not annual:
        checker.check_change(
            value, history.year_earlier, "change_from_year_earlier", "the same period last year"
        )
    checker.check_range_seen(value, history)
    return _sorted(checker.problems)


def validate_return(
    defns: Mapping[str, Definition],
    entries: Mapping[str, EntryValues],
    histories: Mapping[str, History],
) -> list[Problem]:
    """Every problem in a return, for every definition; a missing entry means nothing entered."""
    problems: list[Problem] = []
    for code, defn in defns.items():
        problems.extend(validate_entry(defn, entries.get(code, EntryValues()), histories.get(code)))
    return _sorted(problems)


def parse_entry_texts(
    defn: Definition,
    *,
    numerator: str | None = None,
    denominator: str | None = None,
    value: str | None = None,
) -> tuple[EntryValues, list[Problem]]:
    """Entry values from typed text, with a "not_a_number" error for each cell that is not one."""
    # A fraction's value is computed, and a typed value has no numerator: read only the cells used.
    texts = {"numerator": numerator, "denominator": denominator}
    if not defn.has_fraction:
        texts = {"value": value}
    checker = _Checker(defn)
    numbers: dict[str, Decimal] = {}
    symbol: Symbol | None = None
    for field, text in texts.items():
        try:
            parsed = parse_entry(text, field=field)
        except ValidationError as error:
            checker.error(field, "not_a_number", error.message)
            continue
        if isinstance(parsed, Symbol):
            symbol = symbol or parsed
        elif parsed is not None:
            numbers[field] = parsed
    entry = EntryValues(
        numerator=numbers.get("numerator"),
        denominator=numbers.get("denominator"),
        value=numbers.get("value"),
        symbol=symbol,
    )
    return entry, checker.problems


def validate_texts(
    defn: Definition,
    *,
    numerator: str | None = None,
    denominator: str | None = None,
    value: str | None = None,
    history: History | None = None,
) -> tuple[EntryValues, list[Problem]]:
    """Parse typed cells and validate them: the entry read and every problem, errors first."""
    entry, problems = parse_entry_texts(
        defn, numerator=numerator, denominator=denominator, value=value
    )
    if problems:
        # The other checks would only repeat the point ("missing") about a cell already flagged.
        return entry, problems
    return entry, validate_entry(defn, entry, history)
