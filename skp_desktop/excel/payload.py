"""The signed payload of a return file: canonical JSON of the values and its SHA-256."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from skp_desktop.domain.errors import ValidationError
from skp_desktop.domain.values import canonical_text, from_canonical, parse_symbol
from skp_desktop.excel.return_data import EntryData

PAYLOAD_FIELDS = (
    "code",
    "numerator",
    "denominator",
    "value",
    "symbol",
    "commentary",
    "explanation",
)
# A chunk stays under Excel's 32,767-character cell limit even counted in UTF-16 units.
CHUNK_UNITS = 32_000


def _number(value: object) -> str | None:
    return None if value is None else canonical_text(value)  # type: ignore[arg-type]


def canonical_payload(entries: Iterable[EntryData]) -> str:
    """The payload text: a JSON array sorted by code, numbers as decimal strings or null."""
    items = [
        {
            "code": entry.code,
            "numerator": _number(entry.numerator),
            "denominator": _number(entry.denominator),
            "value": _number(entry.value),
            "symbol": entry.symbol or None,
            "commentary": entry.commentary or None,
            "explanation": entry.explanation or None,
        }
        for entry in entries
    ]
    items.sort(key=lambda item: item["code"] or "")
    return json.dumps(items, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def payload_digest(payload: str) -> str:
    """Hex SHA-256 of the payload's UTF-8 bytes (`payload_sha256`)."""
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _utf16_units(text: str) -> int:
    # Counted by the codec, not character by character in Python: a payload of long
    # commentaries runs to hundreds of thousands of characters. A lone surrogate counts one.
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def split_payload(payload: str, units: int = CHUNK_UNITS) -> list[str]:
    """The payload cut into cell-sized pieces (`payload`, `payload_2`, …), joined by reading."""
    chunks: list[str] = []
    start = 0
    while start < len(payload):
        end = min(len(payload), start + units)
        # Characters beyond the Basic Multilingual Plane count twice in Excel's limit.
        while _utf16_units(payload[start:end]) > units:
            end -= max(1, (end - start) // 20)
        chunks.append(payload[start:end])
        start = end
    return chunks or [""]


def _text(item: dict[str, Any], name: str) -> str | None:
    value = item.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{name} of {item.get('code')!r} is not text", field="payload")
    return value


def parse_payload(payload: str) -> list[EntryData]:
    """The entries of a payload; ValidationError when it is not the canonical shape."""
    try:
        data = json.loads(payload)
    except (ValueError, RecursionError) as exc:
        raise ValidationError(f"the payload is not valid JSON ({exc})", field="payload") from None
    if not isinstance(data, list):
        raise ValidationError("the payload is not a list of values", field="payload")
    entries = []
    for item in data:
        if not isinstance(item, dict) or not isinstance(item.get("code"), str):
            raise ValidationError("the payload holds an item without a code", field="payload")
        code = item["code"]
        numbers = {}
        for name in ("numerator", "denominator", "value"):
            raw = item.get(name)
            if raw is not None and not isinstance(raw, str):
                raise ValidationError(f"{name} of {code} is not a decimal string", field="payload")
            try:
                numbers[name] = from_canonical(raw)
            except ValidationError as exc:
                raise ValidationError(f"{name} of {code}: {exc.message}", field="payload") from None
        symbol_text = _text(item, "symbol")
        if symbol_text is not None and parse_symbol(symbol_text) is None:
            raise ValidationError(f"symbol of {code} is not [x], [z] or [c]", field="payload")
        entries.append(
            EntryData(
                code=code,
                symbol=parse_symbol(symbol_text).value if symbol_text else None,  # type: ignore[union-attr]
                commentary=_text(item, "commentary"),
                explanation=_text(item, "explanation"),
                **numbers,
            )
        )
    return entries
