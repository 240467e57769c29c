"""Entries as people type them: parsing, checking and describing, with no database.

The GUI checks each keystroke with these same rules, so it imports this module cheaply.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from skp_desktop.domain.errors import ValidationError
from skp_desktop.domain.validation import EntryValues, Severity, resolved_value, validate_entry
from skp_desktop.domain.values import (
    Symbol,
    canonical_text,
    from_canonical,
    parse_entry,
    parse_number,
    parse_symbol,
    round_half_up,
)
from skp_desktop.domain.vocabulary import AuditAction
from skp_desktop.services.dto import IndicatorInfo, ReturnRow

VALUE_FIELDS = ("numerator", "denominator", "value", "symbol", "commentary", "explanation")
TEXT_FIELDS = ("commentary", "explanation")
SOURCE_TYPED = "typed in the app"
SOURCE_PASTED = "pasted in the app"
SOURCE_COMMAND_LINE = "command line"


@dataclass(frozen=True)
class EntryChange:
    """New text for some fields of one indicator's entry; None clears a field."""

    code: str
    fields: Mapping[str, str | None]


@dataclass(frozen=True)
class RefusedEntry:
    """One reason an entry was refused, located by indicator and field."""

    code: str
    field: str
    message: str


class EntryRefused(ValidationError):
    """Some entries were refused; nothing was written."""

    def __init__(self, refusals: Sequence[RefusedEntry]) -> None:
        self.refusals = tuple(refusals)
        lines = [f"{r.code} {r.field}: {r.message}" for r in self.refusals]
        super().__init__("Nothing was saved:\n" + "\n".join(lines))


class SubmissionRefused(EntryRefused):
    """The return cannot be submitted yet; it stays a draft."""

    def __init__(self, refusals: Sequence[RefusedEntry]) -> None:
        super().__init__(refusals)
        lines = [f"{r.code} {r.field}: {r.message}" for r in self.refusals]
        self.message = "The return was not submitted:\n" + "\n".join(lines)


@dataclass
class EntryText:
    """An entry's stored fields as canonical text (the shape audit events record)."""

    numerator: str | None = None
    denominator: str | None = None
    value: str | None = None
    symbol: str | None = None
    commentary: str | None = None
    explanation: str | None = None
    touched: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, row: Any) -> EntryText:
        if row is None:
            return cls()
        return cls(**{name: getattr(row, name) for name in VALUE_FIELDS})

    def as_json(self) -> str:
        return json.dumps(
            {name: getattr(self, name) for name in VALUE_FIELDS},
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
        )

    def entry(self) -> EntryValues:
        return EntryValues(
            numerator=from_canonical(self.numerator),
            denominator=from_canonical(self.denominator),
            value=from_canonical(self.value),
            symbol=Symbol(self.symbol) if self.symbol else None,
        )


def describe_value_json(text: str | None) -> str:
    """An audit event's recorded entry as people read it: "45/50 = 90", "[x]", "(none)"."""
    if not text:
        return "(none)"
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if not isinstance(data, dict):
        return text
    if data.get("symbol"):
        shown = str(data["symbol"])
    elif data.get("numerator") is not None or data.get("denominator") is not None:
        shown = f"{data.get('numerator') or '?'}/{data.get('denominator') or '?'}"
        if data.get("value") is not None:
            shown += f" = {data['value']}"
    elif data.get("value") is not None:
        shown = str(data["value"])
    else:
        shown = "(blank)"
    for name in TEXT_FIELDS:
        if data.get(name):
            shown += f'; {name}: "{data[name]}"'
    return shown


def describe_change(action: str, old: str | None, new: str | None) -> str:
    """An audit event's change as people read it: "45/50 = 90 → 46/50 = 92" for a value,
    "Kingston fire station (LFB)" for a service added, "19.1 (MPS data) → no figure" for a
    context figure cleared; any other action's old and new as recorded."""
    if action == AuditAction.VALUE_SET:
        return f"{describe_value_json(old)} → {describe_value_json(new)}"
    shown = [describe_recorded(action, text) for text in (old, new)]
    return " → ".join(t for t in shown if t)


def describe_recorded(action: str, text: str | None) -> str | None:
    """One side (old or new) of an audit event as people read it (see describe_change)."""
    if action == AuditAction.VALUE_SET:
        return describe_value_json(text)
    if action not in _PARTNERSHIP_WORDS:
        return text
    if text is None:
        # a form set for the first time, or reset: the bundled (or theme) form
        return "the default form" if action == AuditAction.SERVICE_FORM else None
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if not isinstance(data, dict):
        return text
    return _PARTNERSHIP_WORDS[action](data)


def _form_words(data: dict[str, Any]) -> str:
    sections = [s for s in data.get("sections") or () if isinstance(s, dict)]
    count = sum(len(s.get("indicators") or ()) for s in sections)
    return (
        f"a form of {len(sections)} section{'s' if len(sections) != 1 else ''}, "
        f"{count} indicator{'s' if count != 1 else ''}"
    )


def _context_words(data: dict[str, Any]) -> str:
    if data.get("value") is None:
        return "no figure"
    return str(data["value"]) + (f" ({data['source']})" if data.get("source") else "")


_PARTNERSHIP_WORDS: dict[str, Callable[[dict[str, Any]], str]] = {
    AuditAction.SERVICE_ADD: lambda d: f"{d.get('name')} ({d.get('organisation')})",
    AuditAction.SERVICE_RENAME: lambda d: str(d.get("name")),
    AuditAction.SERVICE_RETIRE: lambda d: (
        f"retired from {d['retired_from']}" if d.get("retired_from") else "asked for returns"
    ),
    AuditAction.SERVICE_FORM: _form_words,
    AuditAction.CONTEXT_SET: _context_words,
}


def value_json(row: Any) -> str | None:
    """The JSON an audit event records for a stored entry (None when there is none)."""
    return None if row is None else EntryText.of(row).as_json()


def apply_entry_text(
    state: EntryText, info: IndicatorInfo, name: str, text: str | None
) -> RefusedEntry | None:
    """Put one field's new text into the entry; a refusal says why it cannot be taken."""
    rules = info.rules
    text = None if text is None or not str(text).strip() else str(text)
    state.touched.add(name)
    if name in TEXT_FIELDS:
        setattr(state, name, text.strip() if text else None)
        return None
    parsed: Decimal | Symbol | None
    if name == "symbol":
        if text is None:  # clearing the symbol leaves any numbers as they are
            state.symbol = None
            return None
        symbol = parse_symbol(text)
        if symbol is None:
            return RefusedEntry(info.code, name, f"'{text}' is not a symbol: use [x] or [z]")
        name, parsed = "value", symbol
    else:
        if name in ("numerator", "denominator") and not rules.has_fraction and text:
            return RefusedEntry(
                info.code,
                name,
                f"this indicator is a single {rules.unit.value}, not a fraction: enter one "
                "number, for example 120",
            )
        try:
            parsed = parse_entry(text, field=name) if name == "value" else _number(text, name)
        except ValidationError as exc:
            return RefusedEntry(info.code, name, exc.message)
    if isinstance(parsed, Symbol):
        if parsed is Symbol.SUPPRESSED:
            return RefusedEntry(
                info.code, name, "[c] is applied when figures are published; use [x] or [z]"
            )
        state.numerator = state.denominator = state.value = None
        state.symbol = parsed.value
        return None
    if name == "value" and rules.has_fraction and parsed is not None:
        return RefusedEntry(
            info.code,
            name,
            f"this indicator is worked out from its numerator ({rules.numerator_label}) and "
            f"denominator ({rules.denominator_label}): enter those, for example 45/60",
        )
    if name == "value" and parsed is not None and not rules.is_count:
        # The return holds the figure it shows and rates: typed 65.45 on a one-decimal indicator
        # is 65.5. A count is not rounded: 12.5 children is refused as not a whole number.
        parsed = round_half_up(parsed, rules.decimals)
    setattr(state, name, None if parsed is None else canonical_text(parsed))
    if parsed is not None:
        state.symbol = None
    return None


def _number(text: str | None, name: str) -> Decimal | None:
    return None if text is None else parse_number(text, field=name)


def finish_entry(state: EntryText, info: IndicatorInfo) -> list[RefusedEntry]:
    """Work out a rate's value and refuse hard errors other than a missing part."""
    rules = info.rules
    if rules.has_fraction and not state.symbol:
        computed = resolved_value(rules, state.entry())
        state.value = None if computed is None else canonical_text(computed)
    problems = validate_entry(rules, state.entry())
    return [
        RefusedEntry(info.code, p.field, p.message)
        for p in problems
        if p.severity is Severity.ERROR and p.rule != "required"
    ]


def entry_fields(row: ReturnRow) -> dict[str, str | None]:
    """A row's whole entry as field texts, in the order that restores it exactly."""
    fields: dict[str, str | None] = {"symbol": row.symbol}
    if row.indicator.rules.has_fraction:
        fields["numerator"] = None if row.numerator is None else canonical_text(row.numerator)
        fields["denominator"] = None if row.denominator is None else canonical_text(row.denominator)
    else:
        fields["value"] = None if row.value is None else canonical_text(row.value)
    fields["commentary"] = row.commentary
    fields["explanation"] = row.explanation
    if row.symbol:  # numbers are blank under a symbol; set them first, then the symbol
        fields = {k: v for k, v in fields.items() if k != "symbol"} | {"symbol": row.symbol}
    return fields


def preview_change(row: ReturnRow, fields: Mapping[str, str | None]) -> list[RefusedEntry]:
    """Why a change to one row would be refused (empty when it would be saved), without saving.

    The same rules `record_entries` applies, for checking as people type.
    """
    state = EntryText(
        numerator=None if row.numerator is None else canonical_text(row.numerator),
        denominator=None if row.denominator is None else canonical_text(row.denominator),
        value=None if row.value is None else canonical_text(row.value),
        symbol=row.symbol,
        commentary=row.commentary,
        explanation=row.explanation,
    )
    refusals = []
    for name, text in fields.items():
        refusal = apply_entry_text(state, row.indicator, name, text)
        if refusal:
            refusals.append(refusal)
    return refusals or finish_entry(state, row.indicator)


def parse_command_line_value(text: str) -> dict[str, str | None]:
    """`VALUE` of `enter CODE=VALUE`: a number, NUM/DEN, or a symbol, as entry fields."""
    text = text.strip()
    if parse_symbol(text) is not None:
        return {"symbol": text}
    if "/" in text:
        numerator, _, denominator = text.partition("/")
        return {"numerator": numerator, "denominator": denominator}
    return {"value": text}
