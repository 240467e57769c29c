"""The definitions pack: one definitions version as an .xlsx people can read, signed like a return.

The `Definitions` sheet shows every indicator (code, title, unit, polarity, decimals, targets
per year, tolerance, thresholds, definition, source); the very hidden `_meta` sheet carries
`format` = `skp-definitions`, the version, `applies_from` and the canonical JSON `payload` with
its SHA-256. A pack comes from elsewhere, so it is read by the guarded reader and every cell of
the sheet must agree with the signed payload: a changed cell is named and the pack refused.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from skp_desktop.domain.definition_edits import SPEC_FIELDS, IndicatorSpec, parse_field
from skp_desktop.domain.errors import ValidationError
from skp_desktop.domain.periods import parse_period
from skp_desktop.domain.values import canonical_text, format_decimal
from skp_desktop.excel.cell_text import comparable_text
from skp_desktop.excel.file_signature import (
    UNSIGNED_FILE,
    FileSignature,
    Signer,
    check_signature,
    signature_pairs,
)
from skp_desktop.excel.pack_services import (
    PackForm,
    PackService,
    parse_services,
    services_content,
)
from skp_desktop.excel.payload import payload_digest
from skp_desktop.excel.rejection import RejectedFile, problem, reject
from skp_desktop.excel.return_data import META_SHEET
from skp_desktop.excel.return_layout import (
    BOLD,
    GRID,
    HEADER_FILL,
    TITLE_FONT,
    TOP,
    TOP_WRAPPED,
    fill_meta_sheet,
    number_format,
    payload_pairs,
    put_number,
    put_text,
    save_atomically,
)
from skp_desktop.excel.return_reader import joined_payload, meta_cells, whole_number
from skp_desktop.excel.safe_reader import RawCell, RawSheet, column_letter, read_workbook

FORMAT = "skp-definitions"
FORMAT_VERSION = "2"  # 2: signed by the coordinator; 1 is still read, as unsigned
READABLE_FORMAT_VERSIONS = (1, 2)
SHEET = "Definitions"
HEADER_ROW = 6
HEADER_SEARCH_ROWS = 40
TARGET_PREFIX = "Target "


@dataclass(frozen=True)
class PackTarget:
    """A yearly target the pack sets."""

    code: str
    year: str  # FY2025-26
    value: Decimal


@dataclass(frozen=True)
class DefinitionsPack:
    """One definitions version: its number, the period it applies from, indicators, targets."""

    version: int
    applies_from: str
    note: str | None
    indicators: tuple[IndicatorSpec, ...]
    targets: tuple[PackTarget, ...]
    # The services and their forms, so that a new laptop can fill in any return (issue 18).
    services: tuple[PackService, ...] = ()
    forms: tuple[PackForm, ...] = ()

    def targets_of(self, code: str) -> dict[str, Decimal]:
        return {t.year: t.value for t in self.targets if t.code == code}

    @property
    def years(self) -> list[str]:
        """Every year the pack has a target for, oldest first."""
        return sorted({t.year for t in self.targets}, key=lambda y: parse_period(y).start)


@dataclass(frozen=True)
class PackFile:
    """A pack read from a file, with what `_meta` says about where it came from."""

    pack: DefinitionsPack
    exported_at: str | None
    exported_by: str | None
    app_version: str | None
    payload_sha256: str
    file_sha256: str
    signature: FileSignature = UNSIGNED_FILE


# --- the payload ---------------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return canonical_text(value)
    if hasattr(value, "value") and not isinstance(value, bool | int):
        return value.value  # the enums: their words
    return value


def pack_payload(pack: DefinitionsPack) -> str:
    """Canonical JSON of the pack's content: indicators sorted by code, numbers as text."""
    content = {
        "version": pack.version,
        "applies_from": pack.applies_from,
        "note": pack.note or None,
        "indicators": sorted(
            (
                {name: _json_value(getattr(s, name)) for name in SPEC_FIELDS}
                for s in pack.indicators
            ),
            key=lambda item: item["code"],
        ),
        "targets": sorted(
            (
                {"code": t.code, "year": t.year, "value": canonical_text(t.value)}
                for t in pack.targets
            ),
            key=lambda item: (item["code"], item["year"]),
        ),
        **services_content(pack.services, pack.forms),
    }
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _located(message: str, key: str = "payload") -> ValidationError:
    return ValidationError(f"the payload {message}", field=key)


def parse_pack_payload(text: str) -> DefinitionsPack:
    """The pack in a payload; ValidationError when it is not the canonical shape."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise _located(f"is not valid JSON ({str(exc)[:80]})") from None
    if not isinstance(data, dict):
        raise _located("is not a definitions pack")
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _located("has no version number of 1 or more")
    applies_from = data.get("applies_from")
    if not isinstance(applies_from, str):
        raise _located("says no period the definitions apply from")
    try:
        applies_from = parse_period(applies_from).code
    except ValidationError as exc:
        raise _located(f"applies_from: {exc.message}") from None
    note = data.get("note")
    if note is not None and not isinstance(note, str):
        raise _located("has a note that is not text")
    items = data.get("indicators")
    if not isinstance(items, list) or not items:
        raise _located("has no indicators")
    indicators = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("code"), str):
            raise _located("holds an indicator without a code")
        code = item["code"]
        unknown = sorted(set(item) - set(SPEC_FIELDS))
        missing = [name for name in SPEC_FIELDS if name not in item]
        if unknown or missing:
            what = f"unknown fields {', '.join(unknown)}" if unknown else ""
            what += ("; " if what and missing else "") + (
                f"no {', '.join(missing)}" if missing else ""
            )
            raise _located(f"has {code[:40]} with {what[:200]}")
        values: dict[str, Any] = {}
        for name in SPEC_FIELDS:
            try:
                values[name] = parse_field(name, item[name])
            except ValidationError as exc:
                raise _located(f"has {code[:40]} {name}: {exc.message}") from None
        indicators.append(IndicatorSpec(**values))
    targets = []
    raw_targets = data.get("targets", [])
    if not isinstance(raw_targets, list):
        raise _located("has targets that are not a list")
    for item in raw_targets:
        if not isinstance(item, dict) or not all(
            isinstance(item.get(k), str) for k in ("code", "year", "value")
        ):
            raise _located("holds a target without code, year and value")
        try:
            year = parse_period(item["year"])
            value = Decimal(item["value"])
        except (ValidationError, InvalidOperation):
            raise _located(f"has a target of {item['code'][:40]} that cannot be read") from None
        if year.code != item["year"] or not value.is_finite():
            raise _located(f"has a target of {item['code'][:40]} that cannot be read")
        targets.append(PackTarget(item["code"], year.code, value))
    services, forms = parse_services(data)
    return DefinitionsPack(
        version=version,
        applies_from=applies_from,
        note=note,
        indicators=tuple(indicators),
        targets=tuple(targets),
        services=services,
        forms=forms,
    )


# --- the Definitions sheet's columns -------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A column of the Definitions sheet: its header, width, and the value it shows."""

    header: str
    width: int
    value: Callable[[IndicatorSpec, Mapping[str, Decimal]], object]
    number: bool = False
    wrapped: bool = False


def _target_in(year: str) -> Callable[[IndicatorSpec, Mapping[str, Decimal]], object]:
    """A target column's value: the indicator's target for `year`."""
    return lambda _spec, targets: targets.get(year)


def _yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def _word(value: object) -> str | None:
    return getattr(value, "value", None)


def columns_for(years: list[str]) -> list[Column]:
    """The columns in order: the definition's fields, a target per year, then the texts."""
    fixed = [
        Column("Code", 16, lambda s, t: s.code),
        Column("Title", 46, lambda s, t: s.title, wrapped=True),
        Column("Service", 15, lambda s, t: s.service),
        Column("Theme", 11, lambda s, t: s.theme),
        Column("Kind", 10, lambda s, t: s.kind),
        Column("Level", 9, lambda s, t: _word(s.level)),
        Column("Unit", 15, lambda s, t: _word(s.unit)),
        Column("Polarity", 17, lambda s, t: _word(s.polarity)),
        Column("Frequency", 11, lambda s, t: _word(s.frequency)),
        Column("Decimals", 9, lambda s, t: Decimal(s.decimals), number=True),
        Column("Numerator and denominator", 13, lambda s, t: _yes_no(s.has_fraction)),
        Column("Numerator", 28, lambda s, t: s.numerator_label, wrapped=True),
        Column("Denominator", 28, lambda s, t: s.denominator_label, wrapped=True),
        Column("Minimum", 10, lambda s, t: s.min_value, number=True),
        Column("Maximum", 10, lambda s, t: s.max_value, number=True),
        Column("Amber tolerance", 10, lambda s, t: s.amber_tolerance, number=True),
        Column("Change warning %", 10, lambda s, t: s.change_warning_percent, number=True),
        Column(
            "Small-number threshold",
            11,
            lambda s, t: (
                None if s.small_number_threshold is None else Decimal(s.small_number_threshold)
            ),
            number=True,
        ),
    ]
    targets = [
        Column(f"{TARGET_PREFIX}{year}", 11, _target_in(year), number=True) for year in years
    ]
    texts = [
        Column("Definition", 60, lambda s, t: s.definition, wrapped=True),
        Column("Source", 50, lambda s, t: s.source, wrapped=True),
        Column("Source document", 30, lambda s, t: s.source_document, wrapped=True),
    ]
    return fixed + targets + texts


# --- writing -------------------------------------------------------------------------------


def write_definitions_pack(
    pack: DefinitionsPack,
    out: Path,
    *,
    applies_from_label: str,
    exported_at: datetime,
    exported_by: str,
    app_version: str,
    signer: Signer | None = None,
) -> str:
    """Write the pack to `out` (atomically), signed by `signer` when given; returns the
    payload's SHA-256."""
    payload = pack_payload(pack)
    digest = payload_digest(payload)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = SHEET
    put_text(sheet["A1"], f"SKP Returns: indicator definitions, version {pack.version}")
    sheet["A1"].font = TITLE_FONT
    put_text(
        sheet["A2"],
        f"Applies from {applies_from_label}: returns for that period and later use these "
        "definitions. Import this file in SKP Returns (Definitions, Import pack…) as it is: "
        "a changed cell is refused.",
    )
    sheet["A2"].font = Font(italic=True)
    put_text(
        sheet["A3"],
        f"Exported by {exported_by} at {exported_at.strftime('%Y-%m-%d %H:%M UTC')}, "
        f"SKP Returns {app_version}.",
    )
    put_text(sheet["A4"], f"Note: {pack.note}" if pack.note else None)
    columns = columns_for(pack.years)
    for index, column in enumerate(columns, start=1):
        cell = sheet.cell(HEADER_ROW, index)
        put_text(cell, column.header)
        cell.font = BOLD
        cell.fill = HEADER_FILL
        cell.border = GRID
        cell.alignment = TOP_WRAPPED
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    for row, spec in enumerate(pack.indicators, start=HEADER_ROW + 1):
        targets = pack.targets_of(spec.code)
        for index, column in enumerate(columns, start=1):
            cell = sheet.cell(row, index)
            cell.border = GRID
            cell.alignment = TOP_WRAPPED if column.wrapped else TOP
            value = column.value(spec, targets)
            if column.number:
                decimals = spec.decimals if column.header.startswith(TARGET_PREFIX) else None
                put_number(
                    cell,
                    value,  # type: ignore[arg-type]
                    number_format(decimals) if decimals is not None else None,
                )
            else:
                put_text(cell, value, what=f"the {column.header.lower()} of {spec.code}")  # type: ignore[arg-type]
    sheet.freeze_panes = sheet.cell(HEADER_ROW + 1, 3).coordinate
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    for row in range(2, 5):
        sheet.cell(row, 1).alignment = Alignment(wrap_text=False, vertical="top")

    pairs = [
        ("format", FORMAT),
        ("format_version", FORMAT_VERSION),
        ("definitions_version", str(pack.version)),
        ("applies_from", pack.applies_from),
        ("exported_at", exported_at.strftime("%Y-%m-%dT%H:%M:%SZ")),
        ("exported_by", exported_by),
        ("app_version", app_version),
        *payload_pairs(payload, digest),
    ]
    if signer is not None:
        pairs += signature_pairs(pairs, signer)
    fill_meta_sheet(workbook.create_sheet(META_SHEET), pairs)
    workbook.active = 0
    workbook.properties.creator = f"SKP Returns {app_version}"
    workbook.properties.title = f"SKP Returns definitions version {pack.version}"
    save_atomically(workbook, out)
    return digest


# --- reading -------------------------------------------------------------------------------


def _plain(cell: RawCell | None) -> str:
    return "" if cell is None else cell.text.strip()


def read_definitions_pack(data: bytes, *, file_name: str) -> PackFile:
    """A checked pack, or RejectedFile naming the sheet and cell of every problem found."""
    workbook = read_workbook(data, file_name=file_name, wanted=(SHEET, META_SHEET))
    if META_SHEET not in workbook.sheets:
        raise reject(
            "the workbook has no _meta sheet, so it is not a definitions pack made by SKP "
            "Returns: ask the coordinator for the pack as SKP Returns exported it"
        )
    values = meta_cells(workbook.sheets[META_SHEET])

    def text(key: str) -> str | None:
        cell = values.get(key)
        return _plain(cell) or None

    def at(key: str, message: str) -> ValidationError:
        cell = values.get(key)
        return problem(message, sheet=META_SHEET, cell=cell.ref if cell else None)

    fmt = text("format")
    if fmt != FORMAT:
        hint = " (it is a return file: import it on the Import page)" if fmt == "skp-return" else ""
        raise RejectedFile(
            [
                at(
                    "format",
                    f"_meta says format '{(fmt or '')[:40]}', not '{FORMAT}': not a definitions "
                    f"pack{hint}",
                )
            ]
        )
    if whole_number(text("format_version")) not in READABLE_FORMAT_VERSIONS:
        raise RejectedFile(
            [
                at(
                    "format_version",
                    f"the pack is format version {(text('format_version') or '?')[:20]}, and "
                    f"this version of SKP Returns reads version {FORMAT_VERSION}: update SKP "
                    "Returns",
                )
            ]
        )
    payload, payload_problem = joined_payload(values)
    if payload_problem is not None:
        raise RejectedFile([payload_problem])
    if payload is None:
        raise RejectedFile([at("payload", "_meta has no payload: the pack was changed or damaged")])
    digest = (text("payload_sha256") or "").lower()
    if digest != payload_digest(payload):
        raise RejectedFile(
            [
                at(
                    "payload_sha256",
                    "the signed definitions in _meta do not match their SHA-256: the hidden "
                    "part of the pack was changed after export",
                )
            ]
        )
    try:
        pack = parse_pack_payload(payload)
    except ValidationError as exc:
        raise RejectedFile([at("payload", exc.message)]) from None
    problems: list[ValidationError] = []
    number = whole_number(text("definitions_version"))
    if number != pack.version:
        problems.append(
            at(
                "definitions_version",
                f"_meta says version {(text('definitions_version') or '?')[:20]} but the signed "
                f"payload is version {pack.version}: it was changed",
            )
        )
    if (text("applies_from") or "").upper() != pack.applies_from:
        problems.append(
            at(
                "applies_from",
                f"_meta says it applies from {(text('applies_from') or '?')[:20]} but the signed "
                f"payload says {pack.applies_from}: it was changed",
            )
        )
    if SHEET not in workbook.sheets:
        problems.append(
            problem(f"the workbook has no {SHEET} sheet (renamed or deleted): it was changed")
        )
    else:
        problems.extend(_sheet_differences(workbook.sheets[SHEET], pack))
    if problems:
        raise RejectedFile(problems)
    return PackFile(
        pack=pack,
        exported_at=text("exported_at"),
        exported_by=text("exported_by"),
        app_version=text("app_version"),
        payload_sha256=digest,
        file_sha256=workbook.sha256,
        signature=check_signature(values),
    )


def _header(sheet: RawSheet) -> tuple[int, dict[str, int]] | None:
    for row in sheet.row_numbers():
        if row > HEADER_SEARCH_ROWS:
            break
        cells = sheet.row(row)
        if cells and cells[0].column == 1 and _plain(cells[0]).casefold() == "code":
            return row, {_plain(c): c.column for c in cells if c.kind == "text"}
    return None


def _cell_number(cell: RawCell) -> Decimal | None:
    try:
        number = Decimal(cell.text.strip().replace(",", ""))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _same(cell: RawCell | None, expected: object, number: bool) -> bool:
    if cell is not None and cell.formula is not None:
        return False
    if expected is None or expected == "":
        return cell is None or not cell.text.strip()
    if cell is None:
        return False
    if number:
        shown = _cell_number(cell)
        assert isinstance(expected, Decimal)
        return shown is not None and (shown == expected or float(shown) == float(expected))
    return comparable_text(cell.text) == comparable_text(str(expected))


def _describe(value: object) -> str:
    if value is None or value == "":
        return "blank"
    if isinstance(value, Decimal):
        return format_decimal(value)
    text = comparable_text(str(value))
    return f"'{text[:40]}…'" if len(text) > 40 else f"'{text}'"


def _shown(cell: RawCell | None, number: bool) -> str:
    if cell is not None and cell.formula is not None:
        return f"a formula (={cell.formula[:40]})"
    if cell is None or not cell.text.strip():
        return "blank"
    if number and (value := _cell_number(cell)) is not None:
        return format_decimal(value)
    return _describe(cell.text)


def _sheet_differences(sheet: RawSheet, pack: DefinitionsPack) -> list[ValidationError]:
    """Every cell of the Definitions sheet that disagrees with the signed payload."""
    found = _header(sheet)
    if found is None:
        return [
            problem(
                f"no header row starting with 'Code' in the first {HEADER_SEARCH_ROWS} rows: "
                "the table was changed",
                sheet=sheet.name,
            )
        ]
    header_row, positions = found
    columns = columns_for(pack.years)
    problems: list[ValidationError] = []
    missing = [c.header for c in columns if c.header not in positions]
    if missing:
        return [
            problem(
                f"the header row has no {', '.join(missing[:5])} column: the table was changed",
                sheet=sheet.name,
                cell=f"A{header_row}",
            )
        ]
    by_code: dict[str, int] = {}
    for row in sheet.row_numbers():
        if row <= header_row:
            continue
        cell = sheet.get(row, positions["Code"])
        code = _plain(cell).upper()
        if not code:
            if sheet.row(row):
                problems.append(
                    problem(
                        f"row {row} has no code: rows were added after export",
                        sheet=sheet.name,
                        cell=f"{column_letter(positions['Code'])}{row}",
                    )
                )
            continue
        if code in by_code:
            problems.append(problem(f"{code[:40]} is here twice", sheet=sheet.name, cell=f"A{row}"))
            continue
        by_code[code] = row
    signed = {spec.code: spec for spec in pack.indicators}
    for code, row in by_code.items():
        if code not in signed:
            problems.append(
                problem(
                    f"{code[:40]} is not in the signed definitions: the row was added after export",
                    sheet=sheet.name,
                    cell=f"{column_letter(positions['Code'])}{row}",
                )
            )
    for code, spec in signed.items():
        held_row = by_code.get(code)
        if held_row is None:
            problems.append(
                problem(
                    f"{code} is in the signed definitions but has no row: it was deleted",
                    sheet=sheet.name,
                )
            )
            continue
        row = held_row
        targets = pack.targets_of(code)
        for column in columns:
            cell = sheet.get(row, positions[column.header])
            expected = column.value(spec, targets)
            if not _same(cell, expected, column.number):
                ref = f"{column_letter(positions[column.header])}{row}"
                problems.append(
                    problem(
                        f"{column.header} of {code} shows {_shown(cell, column.number)}, but the "
                        f"signed definitions have {_describe(expected)}: it was changed after "
                        "export",
                        sheet=sheet.name,
                        cell=ref,
                    )
                )
    return problems
