"""Changing indicator definitions: each field read and checked, then the whole publication.

The coordinator's form, the command line and a definitions pack from elsewhere all give
fields as text (or as TOML/JSON values); everything here turns them into an `IndicatorSpec`
and names the indicator and field of every problem, so a refusal says exactly what to fix.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from decimal import Decimal
from typing import Any

from skp_desktop.domain.definitions import Frequency, Level, Polarity, Unit
from skp_desktop.domain.errors import ValidationError
from skp_desktop.domain.periods import Period, PeriodKind, parse_period
from skp_desktop.domain.values import canonical_text, format_decimal, parse_number

KINDS = ("indicator", "context")
MAX_DECIMALS = 6
CODE_LENGTH = 32  # indicators.code is String(32)
# Upper-case letters and digits in parts joined by hyphens: SAFER-P4-S1, CTX-VSO.
CODE_PATTERN = re.compile(r"[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*")
TEXT_LIMITS = {
    "title": 400,
    "numerator_label": 200,
    "denominator_label": 200,
    "source_document": 200,
    "definition": 8000,
    "source": 8000,
}
NOTE_LIMIT = 2000

# Fields a published change may set on an indicator that returns already hold values for.
EDITABLE_FIELDS = (
    "title",
    "level",
    "unit",
    "polarity",
    "decimals",
    "numerator_label",
    "denominator_label",
    "min_value",
    "max_value",
    "amber_tolerance",
    "change_warning_percent",
    "small_number_threshold",
    "definition",
    "source",
    "source_document",
)
# Set once, when an indicator is added: changing them would change what stored values mean.
IDENTITY_FIELDS = ("code", "kind", "theme", "service", "frequency", "has_fraction")
ALL_FIELDS = IDENTITY_FIELDS + EDITABLE_FIELDS
REQUIRED_NEW_FIELDS = ("code", "theme", "title", "unit", "polarity", "frequency")

# How each field is named to people, in messages and on the form.
FIELD_LABELS = {
    "code": "code",
    "kind": "kind",
    "theme": "theme",
    "service": "service",
    "frequency": "frequency",
    "has_fraction": "entered as numerator and denominator",
    "title": "title",
    "level": "level",
    "unit": "unit",
    "polarity": "polarity",
    "decimals": "decimals",
    "numerator_label": "numerator label",
    "denominator_label": "denominator label",
    "min_value": "minimum",
    "max_value": "maximum",
    "amber_tolerance": "amber tolerance",
    "change_warning_percent": "change warning %",
    "small_number_threshold": "small-number threshold",
    "definition": "definition",
    "source": "source",
    "source_document": "source document",
}


@dataclass(frozen=True)
class IndicatorSpec:
    """Everything one definitions version says about one indicator, in proper types."""

    code: str
    kind: str
    theme: str
    service: str | None
    title: str
    level: Level
    unit: Unit
    polarity: Polarity
    frequency: Frequency
    decimals: int
    has_fraction: bool = False
    numerator_label: str | None = None
    denominator_label: str | None = None
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    amber_tolerance: Decimal = Decimal(0)
    change_warning_percent: Decimal | None = Decimal(25)
    small_number_threshold: int | None = None
    definition: str | None = None
    source: str | None = None
    source_document: str | None = None

    @property
    def effective_min(self) -> Decimal | None:
        """The lowest valid value: min_value, or 0 for percentages, counts and rates."""
        if self.min_value is not None:
            return self.min_value
        return None if self.unit is Unit.SCORE else Decimal(0)

    @property
    def effective_max(self) -> Decimal | None:
        """The highest valid value: max_value, or 100 for percentages."""
        if self.max_value is not None:
            return self.max_value
        return Decimal(100) if self.unit is Unit.PERCENT else None

    def value_of(self, name: str) -> Any:
        """A field by name."""
        return getattr(self, name)


SPEC_FIELDS = tuple(f.name for f in fields(IndicatorSpec))


@dataclass(frozen=True)
class FieldProblem:
    """One thing wrong with one field, of one indicator or of the publication itself."""

    indicator: str | None  # None for applies_from and note
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.indicator} {self.field}" if self.indicator else self.field
        return f"{where}: {self.message}"


class DefinitionsRefused(ValidationError):
    """The definitions cannot be published or imported; `problems` names every field."""

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        if not problems:
            raise ValueError("a refusal needs at least one problem")
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems), field=self.problems[0].field)

    def __str__(self) -> str:
        return self.message


# --- one field -----------------------------------------------------------------------------


def _shown(value: object) -> str:
    text = str(value).strip()
    return text if len(text) <= 40 else text[:40] + "…"


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _word(name: str, value: object, choices: type[Unit | Polarity | Level | Frequency]) -> Any:
    if isinstance(value, choices):
        return value
    if isinstance(value, str):
        wanted = " ".join(value.split()).casefold()
        for choice in choices:
            if choice.value.casefold() == wanted:
                return choice
    allowed = ", ".join(f"'{c.value}'" for c in choices)
    raise ValidationError(f"'{_shown(value)}' is not a {FIELD_LABELS[name]}: use {allowed}")


def _decimal(name: str, value: object) -> Decimal:
    if isinstance(value, bool):
        raise ValidationError(f"{value} is not a number")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))  # TOML and JSON give 2.5 as a float; its shortest text
    elif isinstance(value, str):
        try:
            number = parse_number(value, field=name)
        except ValidationError as exc:
            raise ValidationError(exc.message) from None
    else:
        raise ValidationError(f"'{_shown(value)}' is not a number")
    if not number.is_finite():
        raise ValidationError(f"'{_shown(value)}' is not a number")
    return Decimal(canonical_text(number))


def _whole(name: str, value: object) -> int:
    if isinstance(value, bool):
        raise ValidationError(f"{value} is not a whole number")
    if isinstance(value, int):
        return value
    try:
        number = _decimal(name, value)
    except ValidationError:
        raise ValidationError(f"'{_shown(value)}' is not a whole number") from None
    if number != number.to_integral_value() or abs(number) > 10**9:
        raise ValidationError(f"'{_shown(value)}' is not a whole number")
    return int(number)


def _yes_no(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().casefold() in ("yes", "true", "1"):
        return True
    if isinstance(value, str) and value.strip().casefold() in ("no", "false", "0"):
        return False
    raise ValidationError(f"'{_shown(value)}' is not yes or no")


def _text(name: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(f"'{_shown(value)}' is not text")
    text = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    limit = TEXT_LIMITS.get(name)
    if limit is not None and len(text) > limit:
        raise ValidationError(f"is {len(text):,} characters long: at most {limit:,} fit")
    return text or None


def parse_code(value: object) -> str:
    """An indicator code as stored: upper case, letters and digits in hyphenated parts."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("an indicator needs a code, such as SAFER-P4-S7")
    code = value.strip().upper()
    if len(code) > CODE_LENGTH or not CODE_PATTERN.fullmatch(code):
        raise ValidationError(
            f"'{_shown(value)}' is not an indicator code: use capital letters and digits in "
            f"parts joined by hyphens, starting with a letter, at most {CODE_LENGTH} "
            "characters (such as SAFER-P4-S7)"
        )
    return code


def parse_field(name: str, value: object) -> Any:
    """The field's value in its proper type; ValidationError (field named) when it is wrong."""
    try:
        return _parse(name, value)
    except ValidationError as exc:
        raise ValidationError(exc.message, field=name) from None


def _parse(name: str, value: object) -> Any:
    if name == "code":
        return parse_code(value)
    if name == "kind":
        word = str(value or "").strip().casefold()
        if word not in KINDS:
            raise ValidationError(f"'{_shown(value)}' is not a kind: use 'indicator' or 'context'")
        return word
    if name in ("theme", "service"):
        if _blank(value):
            if name == "theme":
                raise ValidationError("every indicator has a theme")
            return None
        if not isinstance(value, str):
            raise ValidationError(f"'{_shown(value)}' is not a {name} code")
        return value.strip().upper()
    if name == "unit":
        return _word(name, value, Unit)
    if name == "polarity":
        return _word(name, value, Polarity)
    if name == "level":
        return _word(name, value, Level)
    if name == "frequency":
        return _word(name, value, Frequency)
    if name == "has_fraction":
        return _yes_no(value)
    if name == "decimals":
        if _blank(value):
            raise ValidationError(f"give the number of decimal places, 0 to {MAX_DECIMALS}")
        decimals = _whole(name, value)
        if not 0 <= decimals <= MAX_DECIMALS:
            raise ValidationError(
                f"{decimals} decimal places is out of range: use a whole number from 0 to "
                f"{MAX_DECIMALS}"
            )
        return decimals
    if name in ("min_value", "max_value"):
        return None if _blank(value) else _decimal(name, value)
    if name == "amber_tolerance":
        tolerance = Decimal(0) if _blank(value) else _decimal(name, value)
        if tolerance < 0:
            raise ValidationError(
                f"{format_decimal(tolerance)} is negative: the amber tolerance is how far from "
                "the target still counts as amber, 0 or more"
            )
        return tolerance
    if name == "change_warning_percent":
        if _blank(value):
            return None
        percent = _decimal(name, value)
        if percent <= 0:
            raise ValidationError(
                f"{format_decimal(percent)} is not above 0: give the % change that needs an "
                "explanation, or leave it blank for no warning"
            )
        return percent
    if name == "small_number_threshold":
        if _blank(value):
            return None
        threshold = _whole(name, value)
        if threshold < 0:
            raise ValidationError(f"{threshold} is negative: use a whole number, 0 or more")
        return threshold
    if name == "title":
        title = _text(name, value)
        if title is None:
            raise ValidationError("every indicator needs a title")
        return title
    if name in TEXT_LIMITS:
        return _text(name, value)
    raise ValidationError(
        f"there is no field '{_shown(name)}': the fields are {', '.join(ALL_FIELDS)}"
    )


# --- one indicator -------------------------------------------------------------------------


def check_spec(
    spec: IndicatorSpec, *, services: Collection[str], themes: Collection[str]
) -> list[FieldProblem]:
    """What is wrong with an indicator as a whole: fields that do not fit together."""
    found: list[FieldProblem] = []

    def problem(name: str, message: str) -> None:
        found.append(FieldProblem(spec.code, name, message))

    if spec.theme not in themes:
        problem("theme", f"there is no theme '{_shown(spec.theme)}': use {', '.join(themes)}")
    if spec.service is not None and spec.service not in services:
        problem(
            "service", f"there is no service '{_shown(spec.service)}': use {', '.join(services)}"
        )
    if spec.kind == "indicator" and spec.service is None:
        problem("service", "an indicator belongs to the service that reports it: choose one")
    if spec.unit is Unit.COUNT and spec.decimals != 0:
        problem("decimals", "a count is a whole number: decimals must be 0")
    if spec.has_fraction:
        if spec.unit.multiplier is None:
            problem(
                "unit",
                f"'{spec.unit.value}' is not worked out from a numerator and denominator: use "
                "a percentage or a rate, or enter the value itself",
            )
        for name in ("numerator_label", "denominator_label"):
            if not spec.value_of(name):
                problem(
                    name,
                    f"say what the {name.split('_')[0]} counts: the indicator is entered as "
                    "numerator and denominator",
                )
    lowest, highest = spec.effective_min, spec.effective_max
    if lowest is not None and highest is not None and lowest > highest:
        field = "min_value" if spec.min_value is not None else "max_value"
        problem(
            field,
            f"the minimum {format_decimal(lowest)} is above the maximum {format_decimal(highest)}",
        )
    return found


def build_spec(
    base: IndicatorSpec | None,
    changes: Mapping[str, object],
    *,
    services: Collection[str],
    themes: Collection[str],
    code: str | None = None,
) -> tuple[IndicatorSpec | None, list[FieldProblem]]:
    """`base` with `changes` applied (a new indicator when `base` is None), and its problems.

    The spec is None when a field could not be read at all.
    """
    label = base.code if base is not None else code
    found: list[FieldProblem] = []
    parsed: dict[str, Any] = {}
    for name, raw in changes.items():
        if base is not None and name in IDENTITY_FIELDS:
            current = base.value_of(name)
            try:
                same = parse_field(name, raw) == current
            except ValidationError:
                same = False
            if not same:
                found.append(
                    FieldProblem(
                        label,
                        name,
                        f"the {FIELD_LABELS[name]} of an indicator that returns already use "
                        "cannot change: add a new indicator instead",
                    )
                )
            continue
        if base is None and name in REQUIRED_NEW_FIELDS and _blank(raw):
            continue  # said once below: "a new indicator needs a …"
        try:
            parsed[name] = parse_field(name, raw)
        except ValidationError as exc:
            found.append(FieldProblem(label if name != "code" else code, name, exc.message))
    if base is None:
        missing = [n for n in REQUIRED_NEW_FIELDS if _blank(changes.get(n))]
        for name in missing:
            if not any(p.field == name for p in found):
                found.append(FieldProblem(label, name, f"a new indicator needs a {name}"))
        if found:
            return None, found
        unit = parsed["unit"]
        base = IndicatorSpec(
            code=parsed["code"],
            kind=parsed.get("kind", "indicator"),
            theme=parsed["theme"],
            service=parsed.get("service"),
            title=parsed["title"],
            level=parsed.get("level", Level.SERVICE),
            unit=unit,
            polarity=parsed["polarity"],
            frequency=parsed["frequency"],
            decimals=parsed.get("decimals", 0 if unit is Unit.COUNT else 1),
        )
    if found:
        return None, found
    spec = replace(base, **{k: v for k, v in parsed.items() if k in SPEC_FIELDS})
    return spec, check_spec(spec, services=services, themes=themes)


# --- targets -------------------------------------------------------------------------------


def parse_target_year(text: object) -> Period:
    """A target's financial year, e.g. FY2025-26."""
    if not isinstance(text, str):
        raise ValidationError(f"'{_shown(text)}' is not a financial year such as FY2025-26")
    try:
        year = parse_period(text)
    except ValidationError:
        raise ValidationError(
            f"'{_shown(text)}' is not a financial year: targets are yearly, written like FY2025-26"
        ) from None
    if year.kind is not PeriodKind.YEAR:
        raise ValidationError(
            f"{year.code} is a {year.kind.value}: targets are yearly, written like "
            f"{year.financial_year().code}"
        )
    return year


def past_year_problem(year: Period, applies_from: Period | None) -> str | None:
    """Why a target for `year` cannot change in a version applying from `applies_from`."""
    if applies_from is None or year.start >= applies_from.start:
        return None
    return (
        f"{year.short_label} starts before {applies_from.label}: a yearly target covers the "
        f"whole year, so set it with definitions that apply from {year.code}-Q1 or earlier, "
        "or set it for a later year"
    )


def check_target(spec: IndicatorSpec, value: object) -> Decimal | None:
    """A target for the indicator (None removes it); ValidationError when it cannot be one."""
    if _blank(value):
        return None
    target = _decimal("target", value)
    lowest, highest = spec.effective_min, spec.effective_max
    if lowest is not None and target < lowest:
        raise ValidationError(
            f"{format_decimal(target)} is below the lowest valid value {format_decimal(lowest)}"
        )
    if highest is not None and target > highest:
        raise ValidationError(
            f"{format_decimal(target)} is above the highest valid value {format_decimal(highest)}"
        )
    if spec.unit is Unit.COUNT and target != target.to_integral_value():
        raise ValidationError(f"{format_decimal(target)}: a count's target is a whole number")
    return target


# --- the publication -----------------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    """One field of one indicator that the new version changes."""

    code: str
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class TargetChange:
    """One yearly target set, changed or removed."""

    code: str
    year: str  # FY2025-26
    old: Decimal | None
    new: Decimal | None


@dataclass(frozen=True)
class PlannedVersion:
    """A checked new definitions version: every indicator's spec and what changed."""

    applies_from: Period
    note: str
    specs: tuple[IndicatorSpec, ...]  # existing indicators in their order, then new ones
    changes: tuple[FieldChange, ...]
    added: tuple[str, ...]
    targets: tuple[TargetChange, ...]

    @property
    def changes_anything(self) -> bool:
        return bool(self.changes or self.added or self.targets)


def check_applies_from(text: object, latest: str | None) -> Period:
    """The period a new version applies from: a valid period, not before the latest version's."""
    if _blank(text) or not isinstance(text, str):
        raise ValidationError(
            "say which period the new definitions apply from, such as FY2025-26-Q1",
            field="applies_from",
        )
    try:
        period = parse_period(text)
    except ValidationError as exc:
        raise ValidationError(exc.message, field="applies_from") from None
    if latest is not None:
        current = parse_period(latest)
        if period.start < current.start:
            raise ValidationError(
                f"{period.label} is earlier than {current.label}, the period the newest "
                "definitions apply from: a new version applies from then or later",
                field="applies_from",
            )
    return period


def plan_version(
    current: Sequence[IndicatorSpec],
    *,
    applies_from: object,
    latest_applies_from: str | None,
    note: object,
    changes: Mapping[str, Mapping[str, object]] | None = None,
    new_indicators: Sequence[Mapping[str, object]] = (),
    targets: Mapping[str, Mapping[str, object]] | None = None,
    current_targets: Mapping[tuple[str, str], Decimal] | None = None,
    services: Collection[str],
    themes: Collection[str],
    require_note: bool = True,
    guard_past_targets: bool = True,
) -> PlannedVersion:
    """Check a whole publication; DefinitionsRefused names every field that is wrong.

    A yearly target covers its whole year, so with `guard_past_targets` a target may change
    only for years that start at or after `applies_from`: otherwise the RAG of returns already
    made for the year's earlier quarters would change after the event.
    """
    problems: list[FieldProblem] = []
    period: Period | None = None
    try:
        period = check_applies_from(applies_from, latest_applies_from)
    except ValidationError as exc:
        problems.append(FieldProblem(None, "applies_from", exc.message))
    note_text = note.strip() if isinstance(note, str) else ""
    if require_note and not note_text:
        problems.append(
            FieldProblem(None, "note", "say why the definitions change (kept in the history)")
        )
    elif len(note_text) > NOTE_LIMIT:
        problems.append(
            FieldProblem(None, "note", f"is {len(note_text):,} characters: at most {NOTE_LIMIT:,}")
        )

    by_code = {spec.code: spec for spec in current}
    specs: dict[str, IndicatorSpec] = dict(by_code)
    field_changes: list[FieldChange] = []
    for raw_code, fields_given in (changes or {}).items():
        code = str(raw_code).strip().upper()
        base = by_code.get(code)
        if base is None:
            problems.append(
                FieldProblem(
                    code or None,
                    "code",
                    f"there is no indicator {_shown(raw_code)} to change: add it as a new one",
                )
            )
            continue
        spec, found = build_spec(base, fields_given, services=services, themes=themes)
        problems.extend(found)
        if spec is None:
            continue
        specs[code] = spec
        for name in SPEC_FIELDS:
            if base.value_of(name) != spec.value_of(name):
                field_changes.append(
                    FieldChange(code, name, base.value_of(name), spec.value_of(name))
                )

    added: list[str] = []
    for index, fields_given in enumerate(new_indicators, start=1):
        new_code = fields_given.get("code")
        try:
            label = parse_code(new_code)
        except ValidationError:
            label = f"new indicator {index}"
        spec, found = build_spec(None, fields_given, services=services, themes=themes, code=label)
        problems.extend(found)
        if spec is None:
            continue
        if spec.code in specs:
            problems.append(
                FieldProblem(
                    spec.code,
                    "code",
                    f"{spec.code} is already "
                    + ("an indicator" if spec.code in by_code else "given to another new one")
                    + ": every indicator has its own code",
                )
            )
            continue
        specs[spec.code] = spec
        added.append(spec.code)

    held_targets = dict(current_targets or {})
    target_changes: list[TargetChange] = []
    for raw_code, years in (targets or {}).items():
        code = str(raw_code).strip().upper()
        spec = specs.get(code)
        if spec is None:
            problems.append(
                FieldProblem(code or None, "target", f"there is no indicator {_shown(raw_code)}")
            )
            continue
        for raw_year, raw_value in years.items():
            try:
                year = parse_target_year(raw_year)
            except ValidationError as exc:
                problems.append(FieldProblem(code, "target", exc.message))
                continue
            try:
                value = check_target(spec, raw_value)
            except ValidationError as exc:
                problems.append(FieldProblem(code, f"target {year.code}", exc.message))
                continue
            old = held_targets.get((code, year.code))
            if old == value:
                continue
            early = past_year_problem(year, period) if guard_past_targets else None
            if early is not None:
                problems.append(FieldProblem(code, f"target {year.code}", early))
                continue
            target_changes.append(TargetChange(code, year.code, old, value))

    # A target already held must still fit an indicator whose range or unit changed.
    touched = {(t.code, t.year) for t in target_changes}
    for (code, held_year), value in sorted(held_targets.items()):
        spec = specs.get(code)
        if spec is None or (code, held_year) in touched or spec == by_code.get(code):
            continue
        try:
            check_target(spec, value)
        except ValidationError as exc:
            problems.append(
                FieldProblem(
                    code, f"target {held_year}", f"the target held no longer fits: {exc.message}"
                )
            )

    if problems:
        raise DefinitionsRefused(problems)
    assert period is not None
    plan = PlannedVersion(
        applies_from=period,
        note=note_text,
        specs=tuple(specs.values()),
        changes=tuple(field_changes),
        added=tuple(added),
        targets=tuple(target_changes),
    )
    return plan


def describe_field_value(value: Any) -> str:
    """A field's value as a message shows it: numbers plain, blanks as 'blank'."""
    if value is None or value == "":
        return "blank"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Unit | Polarity | Level | Frequency):
        return value.value
    text = str(value)
    return f"'{text}'" if len(text) <= 60 else f"'{text[:60]}…'"


def spec_problems_by_field(problems: Sequence[FieldProblem]) -> dict[str, str]:
    """The first problem of each field, for a form that shows one message per field."""
    found: dict[str, str] = {}
    for item in problems:
        found.setdefault(item.field, item.message)
    return found
