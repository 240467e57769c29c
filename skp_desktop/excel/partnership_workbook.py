"""The partnership workbook (docs/contracts.md, `merge-export`): Summary, Data, Wide, Completeness,
Definitions, each a real Excel Table with number formats, a frozen header and print settings.

The same content always makes the same file, byte for byte: nothing in it depends on when it
was written (the zip entries carry a fixed date; the document properties carry `as_at`, the
time of the newest change to the returns it holds).
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Sequence
from copy import copy
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.xml.functions import tostring

from skp_desktop.domain.values import canonical_text
from skp_desktop.domain.vocabulary import MISSING, ReturnState
from skp_desktop.excel.return_layout import (
    BOLD,
    RAG_FILLS,
    TITLE_FONT,
    number_format,
    put_text,
    write_atomically,
)

SUMMARY_SHEET, DATA_SHEET, WIDE_SHEET = "Summary", "Data", "Wide"
COMPLETENESS_SHEET, DEFINITIONS_SHEET = "Completeness", "Definitions"
SHEETS = (SUMMARY_SHEET, DATA_SHEET, WIDE_SHEET, COMPLETENESS_SHEET, DEFINITIONS_SHEET)

SUMMARY_COLUMNS = (
    ("Code", 13),
    ("Indicator", 52),
    ("Service", 30),
    ("Unit", 11),
    ("Latest period", 24),
    ("Value", 11),
    ("Target", 10),
    ("RAG", 8),
    ("vs previous period", 17),
    ("vs a year earlier", 17),
    ("Note", 34),
)
DATA_COLUMNS = (
    ("Service", 15),
    ("Service name", 30),
    ("Code", 13),
    ("Indicator", 46),
    ("Unit", 11),
    ("Period", 14),
    ("Period name", 24),
    ("Numerator", 12),
    ("Denominator", 13),
    ("Value", 11),
    ("Target", 10),
    ("RAG", 8),
    ("Revision", 9),
    ("Status", 10),
    ("Source file SHA-256", 68),
    ("Signed by", 50),  # who signed the source file; UNSIGNED and why, when taken unsigned
)
WIDE_LEAD_COLUMNS = (("Code", 13), ("Indicator", 46), ("Service", 30), ("Unit", 11))
DEFINITION_COLUMNS = (
    ("Code", 13),
    ("Indicator", 46),
    ("Service", 30),
    ("Theme", 28),
    ("Unit", 14),
    ("Polarity", 17),
    ("Frequency", 11),
    ("Decimals", 9),
    ("Numerator", 26),
    ("Denominator", 26),
    ("Target", 10),
    ("Amber tolerance", 10),
    ("Small-number threshold", 12),
    ("Definition", 60),
    ("Source", 60),
)
WRAPPED = frozenset({"Indicator", "Definition", "Source", "Note", "Numerator", "Denominator"})

# A fixed date for every zip entry (the earliest a zip can hold): no clock in the file.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
DATE_FORMAT = "dd/mm/yyyy"
GENERAL = "General"
# Light fills with dark text for the completeness states; the word carries the meaning.
STATE_FILLS = {
    MISSING: PatternFill("solid", fgColor="F7CBB0"),
    ReturnState.DRAFT: PatternFill("solid", fgColor="F6EFA6"),
    ReturnState.SUBMITTED: PatternFill("solid", fgColor="C9E6F8"),
    ReturnState.RETURNED: PatternFill("solid", fgColor="EDCDE0"),
    ReturnState.ACCEPTED: PatternFill("solid", fgColor="B3E3D2"),
}
NOTE_FONT = Font(italic=True)
TOP = Alignment(vertical="top")
TOP_WRAPPED = Alignment(vertical="top", wrap_text=True)
RIGHT = Alignment(vertical="top", horizontal="right")
LINE_HEIGHT = 15  # points, for Calibri 11


@dataclass(frozen=True)
class Figure:
    """A number with the decimals it is published to, or a symbol ([x], [z], [c]) instead."""

    value: Decimal | None = None
    decimals: int = 0
    symbol: str | None = None


@dataclass(frozen=True)
class SummaryRow:
    code: str
    title: str
    service: str
    unit: str
    period: str | None
    value: Figure
    target: Figure
    rag: str | None
    direction_previous: str | None
    direction_year: str | None
    note: str | None
    comparators: tuple[Figure, ...] = ()  # one per PartnershipBook.comparator_names


@dataclass(frozen=True)
class DataRow:
    service: str
    service_name: str
    code: str
    title: str
    unit: str
    period: str
    period_name: str
    numerator: Figure
    denominator: Figure
    value: Figure
    target: Figure
    rag: str | None
    revision: int
    status: str
    source_sha256: str | None
    signed_by: str | None = None


@dataclass(frozen=True)
class WideRow:
    code: str
    title: str
    service: str
    unit: str
    figures: tuple[Figure, ...]  # one per period of the workbook


@dataclass(frozen=True)
class CompletenessRow:
    service: str
    states: tuple[tuple[str, str], ...]  # per period: (state word, text shown)


@dataclass(frozen=True)
class DefinitionRow:
    code: str
    title: str
    service: str
    theme: str
    unit: str
    polarity: str
    frequency: str
    decimals: int
    numerator: str | None
    denominator: str | None
    target: Figure
    amber_tolerance: Figure
    small_number_threshold: int | None
    definition: str | None
    source: str | None


@dataclass(frozen=True)
class PartnershipBook:
    """Everything the workbook shows, already decided (suppression included)."""

    title: str
    notes: tuple[str, ...]
    period_names: tuple[str, ...]  # column headings of Wide and Completeness
    due_dates: tuple[date, ...]
    as_at: datetime
    creator: str
    summary: tuple[SummaryRow, ...] = field(default_factory=tuple)
    data: tuple[DataRow, ...] = field(default_factory=tuple)
    wide: tuple[WideRow, ...] = field(default_factory=tuple)
    completeness: tuple[CompletenessRow, ...] = field(default_factory=tuple)
    definitions: tuple[DefinitionRow, ...] = field(default_factory=tuple)
    # Comparator series (e.g. "London", "England"): extra Summary columns at the right end.
    comparator_names: tuple[str, ...] = ()


# --- cells ---------------------------------------------------------------------------------


def _put_number(cell: Cell, value: Decimal) -> None:
    """A number cell when a double holds `value` exactly, else its digits as text (as
    return_layout.put_number, leaving the format to the caller)."""
    if value == value.to_integral_value() and abs(value) < 2**53:
        cell.value = int(value)
        return
    as_float = float(value)
    if Decimal(repr(as_float)) != value:
        put_text(cell, canonical_text(value))
    else:
        cell.value = as_float


def _put(cell: Cell, value: object) -> tuple[str, bool]:
    """Write a value the way its type asks (numbers as numbers, text as text, dates as dates);
    returns the number format it wants and whether it is aligned right, for `_Styles`."""
    if value is None:
        return GENERAL, False
    if isinstance(value, Figure):
        if value.symbol:  # a symbol standing for a number is aligned right, as numbers are
            put_text(cell, value.symbol)
            return GENERAL, True
        if value.value is None:
            return GENERAL, False
        _put_number(cell, value.value)
        return number_format(value.decimals), False
    if isinstance(value, bool):
        put_text(cell, "yes" if value else "no")
    elif isinstance(value, int):
        cell.value = value
        return "0", False
    elif isinstance(value, date):
        cell.value = value
        return DATE_FORMAT, False
    else:
        put_text(cell, str(value))
    return GENERAL, False


class _Styles:
    """Cell styles made once and copied: setting them one attribute at a time is slow."""

    def __init__(self) -> None:
        self._made: dict[tuple[int, str], StyleArray] = {}

    def apply(self, cell: Cell, alignment: Alignment, fmt: str) -> None:
        quoted = cell.quotePrefix  # put_text marks formula-like text; keep it
        key = (id(alignment), fmt)
        made = self._made.get(key)
        if made is None:
            cell.alignment = alignment
            cell.number_format = fmt
            self._made[key] = copy(cell._style)
        else:
            cell._style = copy(made)
        if quoted:
            cell.quotePrefix = True


def _lines(text: str, width: float) -> int:
    """Roughly how many lines `text` wraps to in a column `width` characters wide."""
    per_line = max(1, int(width * 1.1))
    return sum(max(1, -(-len(part) // per_line)) for part in text.split("\n"))


def _page_setup(sheet: Worksheet, header_row: int, last_column: int, last_row: int) -> None:
    """Landscape A4, fitted to the page width, the header row repeated on every page."""
    sheet.print_area = f"A1:{get_column_letter(last_column)}{max(last_row, header_row)}"
    sheet.print_title_rows = f"{header_row}:{header_row}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.oddHeader.left.text = "&A"
    sheet.oddFooter.center.text = "Page &P of &N"


def _table(
    sheet: Worksheet,
    name: str,
    columns: Sequence[tuple[str, float]],
    rows: Sequence[Sequence[object]],
    *,
    header_row: int = 1,
    frozen_columns: int = 0,
) -> int:
    """Headers and rows as an Excel Table at `header_row`; returns the last row written."""
    for column, (heading, width) in enumerate(columns, start=1):
        cell = sheet.cell(header_row, column)
        put_text(cell, heading)
        cell.font = BOLD
        cell.alignment = TOP_WRAPPED
        sheet.column_dimensions[get_column_letter(column)].width = width
    wrapped = {i for i, (heading, _) in enumerate(columns) if heading in WRAPPED}
    styles = _Styles()
    for offset, values in enumerate(rows, start=1):
        lines = 1
        for column, value in enumerate(values):
            cell = sheet.cell(header_row + offset, column + 1)
            fmt, right = _put(cell, value)
            styles.apply(cell, RIGHT if right else TOP_WRAPPED if column in wrapped else TOP, fmt)
            if column in wrapped and isinstance(value, str):
                lines = max(lines, _lines(value, columns[column][1]))
        if lines > 1:  # spreadsheets do not grow rows for wrapped text written by a program
            sheet.row_dimensions[header_row + offset].height = LINE_HEIGHT * min(lines, 12)
    # A Table needs a body: an empty one keeps one blank row, so it opens without a repair.
    last_row = header_row + max(1, len(rows))
    last = get_column_letter(len(columns))
    table = Table(displayName=f"{name}Table", ref=f"A{header_row}:{last}{last_row}")
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    sheet.add_table(table)
    sheet.freeze_panes = sheet.cell(header_row + 1, frozen_columns + 1).coordinate
    _page_setup(sheet, header_row, len(columns), last_row)
    return last_row


def _heading(sheet: Worksheet, title: str, notes: Sequence[str], width_columns: int) -> int:
    """A title and notes above a table; returns the row for the table's header."""
    put_text(sheet.cell(1, 1), title)
    sheet.cell(1, 1).font = TITLE_FONT
    for offset, note in enumerate(notes, start=2):
        cell = sheet.cell(offset, 1)
        put_text(cell, note)
        cell.font = NOTE_FONT
        sheet.merge_cells(
            start_row=offset, start_column=1, end_row=offset, end_column=width_columns
        )
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.row_dimensions[offset].height = LINE_HEIGHT * _lines(note, 150)
    return len(notes) + 3


# --- sheets --------------------------------------------------------------------------------


def _summary(sheet: Worksheet, book: PartnershipBook) -> None:
    names = book.comparator_names
    columns = _unique([*SUMMARY_COLUMNS, *((name, 11) for name in names)])
    header = _heading(sheet, book.title, book.notes, len(columns))
    rows = [
        [
            r.code,
            r.title,
            r.service,
            r.unit,
            r.period,
            r.value,
            r.target,
            r.rag,
            r.direction_previous,
            r.direction_year,
            r.note,
            *(r.comparators[i] if i < len(r.comparators) else None for i in range(len(names))),
        ]
        for r in book.summary
    ]
    _table(sheet, "Summary", columns, rows, header_row=header, frozen_columns=2)
    _fill_rag(sheet, header, 8, [r.rag for r in book.summary])


def _fill_rag(sheet: Worksheet, header_row: int, column: int, rags: Sequence[str | None]) -> None:
    for offset, rag in enumerate(rags, start=1):
        if rag in RAG_FILLS:
            sheet.cell(header_row + offset, column).fill = RAG_FILLS[rag]


def _data(sheet: Worksheet, book: PartnershipBook) -> None:
    rows = [
        [
            r.service,
            r.service_name,
            r.code,
            r.title,
            r.unit,
            r.period,
            r.period_name,
            r.numerator,
            r.denominator,
            r.value,
            r.target,
            r.rag,
            r.revision,
            r.status,
            r.source_sha256,
            r.signed_by,
        ]
        for r in book.data
    ]
    _table(sheet, "Data", DATA_COLUMNS, rows)
    _fill_rag(sheet, 1, 12, [r.rag for r in book.data])


def _wide(sheet: Worksheet, book: PartnershipBook) -> None:
    columns = [*WIDE_LEAD_COLUMNS, *((name, 13) for name in book.period_names)]
    rows = [[r.code, r.title, r.service, r.unit, *r.figures] for r in book.wide]
    _table(sheet, "Wide", _unique(columns), rows, frozen_columns=2)


def _completeness(sheet: Worksheet, book: PartnershipBook) -> None:
    notes = (
        "Each service's return for each quarter, by the state of its latest revision. A return "
        "is due by the date under its quarter: the last day of the month after the quarter "
        "ends, unless the coordinator set another. “— not due”: the service's return for "
        "that quarter asks for nothing.",
    )
    header = _heading(sheet, "Returns received", notes, 1 + len(book.period_names)) + 1
    due_row = header - 1
    put_text(sheet.cell(due_row, 1), "Due by")
    sheet.cell(due_row, 1).font = BOLD
    for column, due in enumerate(book.due_dates, start=2):
        cell = sheet.cell(due_row, column)
        cell.number_format, _right = _put(cell, due)
        cell.alignment = Alignment(horizontal="center")
    columns = [("Service", 34), *((name, 24) for name in book.period_names)]
    rows = [[r.service, *(text for _state, text in r.states)] for r in book.completeness]
    _table(sheet, "Completeness", _unique(columns), rows, header_row=header, frozen_columns=1)
    for offset, row in enumerate(book.completeness, start=1):
        for column, (state, _text) in enumerate(row.states, start=2):
            if state in STATE_FILLS:
                sheet.cell(header + offset, column).fill = STATE_FILLS[state]


def _definitions(sheet: Worksheet, book: PartnershipBook) -> None:
    rows = [
        [
            r.code,
            r.title,
            r.service,
            r.theme,
            r.unit,
            r.polarity,
            r.frequency,
            r.decimals,
            r.numerator,
            r.denominator,
            r.target,
            r.amber_tolerance,
            r.small_number_threshold,
            r.definition,
            r.source,
        ]
        for r in book.definitions
    ]
    _table(sheet, "Definitions", DEFINITION_COLUMNS, rows, frozen_columns=1)


def _unique(columns: Sequence[tuple[str, float]]) -> list[tuple[str, float]]:
    """Table headings must differ; a repeated one gets " (2)"."""
    seen: dict[str, int] = {}
    result = []
    for name, width in columns:
        seen[name] = seen.get(name, 0) + 1
        result.append((name if seen[name] == 1 else f"{name} ({seen[name]})", width))
    return result


# --- the file ------------------------------------------------------------------------------


def build_partnership_workbook(book: PartnershipBook) -> Workbook:
    """The workbook in memory, its five sheets in the order of docs/contracts.md."""
    workbook = Workbook()
    first = workbook.active
    assert first is not None
    first.title = SUMMARY_SHEET
    _summary(first, book)
    _data(workbook.create_sheet(DATA_SHEET), book)
    _wide(workbook.create_sheet(WIDE_SHEET), book)
    _completeness(workbook.create_sheet(COMPLETENESS_SHEET), book)
    _definitions(workbook.create_sheet(DEFINITIONS_SHEET), book)
    workbook.active = 0
    as_at = book.as_at.astimezone(UTC).replace(tzinfo=None, microsecond=0)
    properties = workbook.properties
    properties.creator = properties.lastModifiedBy = book.creator
    properties.title = book.title
    properties.created = properties.modified = as_at
    return workbook


def workbook_bytes(workbook: Workbook) -> bytes:
    """The .xlsx bytes with no clock in them: fixed zip dates, and the properties as set."""
    properties = workbook.properties
    created = properties.created
    buffer = io.BytesIO()
    workbook.save(buffer)  # openpyxl stamps `modified` with the time of saving; undone below
    properties.modified = created
    core = tostring(properties.to_tree())
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            data = core if item.filename == "docProps/core.xml" else source.read(item)
            entry = zipfile.ZipInfo(item.filename, date_time=ZIP_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            target.writestr(entry, data)
    return out.getvalue()


def write_partnership_workbook(book: PartnershipBook, out: Path) -> str:
    """Write the workbook to `out` atomically (temporary file, then rename); returns its SHA-256."""
    data = workbook_bytes(build_partnership_workbook(book))
    write_atomically(out, lambda stream: stream.write(data))
    return hashlib.sha256(data).hexdigest()
