"""The layout shared by return files and blank templates: sheets, header block, table, _meta."""

from __future__ import annotations

import io
import os
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from skp_desktop.domain.definitions import Unit
from skp_desktop.domain.errors import ValidationError
from skp_desktop.domain.values import canonical_text
from skp_desktop.excel.cell_styles import CellStyles
from skp_desktop.excel.cell_text import cell_text, starts_like_formula
from skp_desktop.excel.file_signature import Signer, signature_pairs
from skp_desktop.excel.payload import payload_digest, split_payload
from skp_desktop.excel.query_payload import canonical_answers, canonical_queries
from skp_desktop.excel.return_data import (
    ANSWER_COLUMN,
    CELL_CHARACTER_LIMIT,
    COLUMNS,
    DEFINITIONS_SHEET,
    FORMAT,
    FORMAT_VERSION,
    INSTRUCTIONS_SHEET,
    KIND_TEMPLATE,
    META_SHEET,
    QUERY_COLUMN,
    RETURN_SHEET,
    ReturnFile,
    ReturnLine,
)

# Header block on rows 1–9, a blank row, then the table's header row and one row per indicator.
HEADER_ROW = 11
FIRST_LINE_ROW = HEADER_ROW + 1
COLUMN_OF = {name: index + 1 for index, name in enumerate(COLUMNS)}
COLUMN_WIDTHS = {
    "Code": 14,
    "Indicator": 46,
    "Unit": 15,
    "Numerator": 12,
    "Denominator": 13,
    "Value": 11,
    "Target": 10,
    "RAG": 8,
    "Direction": 16,
    "Commentary": 60,
    "Explanation": 40,
}
WRAPPED = frozenset({"Indicator", "Commentary", "Explanation"})
QUERY_WIDTH = 45

BOLD = Font(bold=True)
ITALIC = Font(italic=True)
TITLE_FONT = Font(bold=True, size=14)
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
LOCKED_FILL = PatternFill("solid", fgColor="EDEDED")
# A queried indicator's Query and Answer cells; the words say it, the colour draws the eye.
QUERY_FILL = PatternFill("solid", fgColor="F8CBAD")
# Light fills with dark text; the word carries the meaning, the colour only helps.
RAG_FILLS = {
    "Green": PatternFill("solid", fgColor="C6EFCE"),
    "Amber": PatternFill("solid", fgColor="FFEB9C"),
    "Red": PatternFill("solid", fgColor="FFC7CE"),
}
THIN = Side(style="thin", color="A6A6A6")
GRID = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
TOP = Alignment(vertical="top")
TOP_WRAPPED = Alignment(vertical="top", wrap_text=True)
TOP_RIGHT = Alignment(vertical="top", horizontal="right")  # a symbol where a number would be
LEFT = Alignment(horizontal="left")

UNIT_LABELS = {
    Unit.PERCENT: "%",
    Unit.COUNT: "count",
    Unit.RATE_PER_1000: "per 1,000",
    Unit.RATE_PER_10000: "per 10,000",
    Unit.SCORE: "score",
}


@dataclass(frozen=True)
class Layout:
    """Where things landed: the sheet and the row of each indicator; the workbook's styles."""

    workbook: Workbook
    sheet: Worksheet
    rows: dict[str, int]
    last_row: int
    styles: CellStyles


def put_text(cell: Cell, text: str | None, *, what: str = "text") -> None:
    """Write `text` as a text cell: never a formula or an error code, whatever it starts with."""
    if text is None or text == "":
        cell.value = None
        return
    written = cell_text(text)
    if len(written) > CELL_CHARACTER_LIMIT:
        raise ValidationError(
            f"{what} is {len(written):,} characters long: an Excel cell holds at most "
            f"{CELL_CHARACTER_LIMIT:,}; shorten it and export again",
            sheet=cell.parent.title,
            cell=cell.coordinate,
        )
    cell.value = written
    cell.data_type = "s"  # openpyxl makes "=…" a formula and "#N/A" an error; this is text
    if starts_like_formula(written):
        cell.quotePrefix = True  # and stays text when someone edits the cell in Excel


def number_format(decimals: int) -> str:
    """An en-GB style number format with `decimals` places: "#,##0.0"."""
    return "#,##0" if decimals <= 0 else "#,##0." + "0" * decimals


def put_number(cell: Cell, value: Decimal | None, fmt: str | None = None) -> None:
    """A number cell when a double holds `value` exactly, otherwise the digits as text."""
    if value is None:
        return
    if value == value.to_integral_value() and abs(value) < 2**53:
        cell.value = int(value)
    else:
        as_float = float(value)
        if Decimal(repr(as_float)) != value:
            put_text(cell, canonical_text(value))  # more digits than Excel keeps: exact as text
            return
        cell.value = as_float
    if fmt is None:
        places = max(0, -int(value.as_tuple().exponent)) if value != int(value) else 0
        fmt = number_format(min(places, 10))
    cell.number_format = fmt


def build_workbook(data: ReturnFile, *, note: str, instructions: list[str]) -> Layout:
    """The workbook with its four sheets; the writers add what is particular to them."""
    workbook = Workbook()
    styles = CellStyles()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = RETURN_SHEET
    rows = _return_sheet(sheet, styles, data, note)
    last_row = max(HEADER_ROW, *rows.values()) if rows else HEADER_ROW
    _instructions_sheet(workbook.create_sheet(INSTRUCTIONS_SHEET), styles, instructions)
    _definitions_sheet(workbook.create_sheet(DEFINITIONS_SHEET), styles, data)
    workbook.active = 0
    workbook.properties.creator = f"SKP Returns {data.header.app_version}"
    workbook.properties.title = f"{data.header.service_name}, {data.header.period_label}"
    return Layout(workbook=workbook, sheet=sheet, rows=rows, last_row=last_row, styles=styles)


def _return_sheet(
    sheet: Worksheet, styles: CellStyles, data: ReturnFile, note: str
) -> dict[str, int]:
    header = data.header
    title = sheet.cell(1, 1)
    put_text(title, f"{header.service_name}: performance return for {header.period_label}")
    styles.set(title, font=TITLE_FONT)
    put_text(sheet.cell(2, 1), note)
    styles.set(sheet.cell(2, 1), font=ITALIC)
    revision = header.revision if header.revision is not None else "new: numbered when imported"
    block: list[tuple[str, str | int]] = [
        ("Service", f"{header.service_name} ({header.service})"),
        ("Period", header.period_label),
        ("Status", header.status),
        ("Revision", revision),
        ("Exported by", header.exported_by),
        ("Exported at", header.exported_at.strftime("%Y-%m-%d %H:%M UTC")),
        ("Definitions version", header.definitions_version),
    ]
    for offset, (label, value) in enumerate(block):
        row = 3 + offset
        put_text(sheet.cell(row, 1), label)
        styles.set(sheet.cell(row, 1), font=BOLD)
        target = sheet.cell(row, 2)
        if isinstance(value, int):
            target.value = value
            styles.set(target, alignment=LEFT)
        else:
            put_text(target, value)

    for name, column in COLUMN_OF.items():
        cell = sheet.cell(HEADER_ROW, column)
        put_text(cell, name)
        styles.set(cell, font=BOLD, fill=HEADER_FILL, border=GRID, alignment=TOP_WRAPPED)
        sheet.column_dimensions[get_column_letter(column)].width = COLUMN_WIDTHS[name]

    rows: dict[str, int] = {}
    for index, line in enumerate(data.lines):
        row = FIRST_LINE_ROW + index
        rows[line.code] = row
        _line(sheet, styles, row, line)

    last = max(rows.values(), default=HEADER_ROW)
    last_column = get_column_letter(len(COLUMNS))
    sheet.freeze_panes = sheet.cell(FIRST_LINE_ROW, 1).coordinate
    sheet.print_area = f"A1:{last_column}{last}"
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.gridLines = False
    sheet.oddFooter.center.text = "Page &P of &N"
    return rows


def _line(sheet: Worksheet, styles: CellStyles, row: int, line: ReturnLine) -> None:
    rules, entry = line.rules, line.entry
    cells = {name: sheet.cell(row, column) for name, column in COLUMN_OF.items()}
    for name, cell in cells.items():
        styles.set(cell, border=GRID, alignment=TOP_WRAPPED if name in WRAPPED else TOP)
    put_text(cells["Code"], rules.code)
    put_text(cells["Indicator"], rules.title)
    put_text(cells["Unit"], UNIT_LABELS.get(rules.unit, rules.unit.value))
    put_number(cells["Numerator"], entry.numerator)
    put_number(cells["Denominator"], entry.denominator)
    if entry.symbol:
        put_text(cells["Value"], entry.symbol)
        styles.set(cells["Value"], alignment=TOP_RIGHT)
    else:
        put_number(cells["Value"], entry.value, number_format(rules.decimals))
    put_number(cells["Target"], rules.target, number_format(rules.decimals))
    if line.rag:
        put_text(cells["RAG"], line.rag)
        styles.set(cells["RAG"], fill=RAG_FILLS.get(line.rag))
    put_text(cells["Direction"], line.direction)
    put_text(cells["Commentary"], entry.commentary, what=f"the commentary on {rules.code}")
    put_text(cells["Explanation"], entry.explanation, what=f"the explanation of {rules.code}")


def _instructions_sheet(sheet: Worksheet, styles: CellStyles, lines: list[str]) -> None:
    sheet.column_dimensions["A"].width = 110
    for index, text in enumerate(lines, start=1):
        cell = sheet.cell(index, 1)
        put_text(cell, text)
        heading = text.endswith(":") and len(text) < 60
        font = TITLE_FONT if index == 1 else BOLD if heading else None
        styles.set(cell, font=font, alignment=TOP_WRAPPED)


DEFINITION_COLUMNS = (
    ("Code", 14),
    ("Title", 46),
    ("Unit", 15),
    ("Polarity", 18),
    ("Frequency", 11),
    ("Decimals", 9),
    ("Numerator", 24),
    ("Denominator", 24),
    ("Target", 10),
    ("Baseline", 22),
    ("Definition", 60),
    ("Source", 60),
)


def _definitions_sheet(sheet: Worksheet, styles: CellStyles, data: ReturnFile) -> None:
    for column, (name, width) in enumerate(DEFINITION_COLUMNS, start=1):
        cell = sheet.cell(1, column)
        put_text(cell, name)
        styles.set(cell, font=BOLD, fill=HEADER_FILL)
        sheet.column_dimensions[get_column_letter(column)].width = width
    for row, line in enumerate(data.lines, start=2):
        rules = line.rules
        texts = [
            rules.code,
            rules.title,
            rules.unit.value,
            rules.polarity.value,
            rules.frequency.value,
            None,
            rules.numerator_label if rules.has_fraction else None,
            rules.denominator_label if rules.has_fraction else None,
            None,
            line.baseline,
            line.definition_text,
            line.source,
        ]
        for column, text in enumerate(texts, start=1):
            cell = sheet.cell(row, column)
            put_text(cell, text)
            styles.set(cell, alignment=TOP_WRAPPED)
        sheet.cell(row, 6).value = rules.decimals
        put_number(sheet.cell(row, 9), rules.target, number_format(rules.decimals))
    sheet.freeze_panes = "A2"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True


def add_meta_sheet(
    workbook: Workbook,
    data: ReturnFile,
    payload: str | None,
    digest: str | None,
    signer: Signer | None = None,
) -> Worksheet:
    """The very hidden `_meta` sheet: key and value, every value written as text; signed by
    `signer` when given (format version 2)."""
    header = data.header
    sheet = workbook.create_sheet(META_SHEET)
    pairs = [
        ("format", FORMAT),
        ("format_version", FORMAT_VERSION),
        ("kind", header.kind),
        ("return_id", header.return_id or ""),
        ("service", header.service),
        ("period", header.period),
        ("revision", "" if header.revision is None else str(header.revision)),
        ("definitions_version", str(header.definitions_version)),
        ("exported_at", header.exported_at.strftime("%Y-%m-%dT%H:%M:%SZ")),
        ("exported_by", header.exported_by),
        ("app_version", header.app_version),
    ]
    if payload is not None and header.kind != KIND_TEMPLATE:
        pairs += payload_pairs(payload, digest or "")
        if data.queries is not None:
            pairs += _signed("queries", canonical_queries(data.queries))
        if data.answers is not None:
            pairs += _signed("answers", canonical_answers(data.answers))
    if signer is not None:
        pairs += signature_pairs(pairs, signer)
    fill_meta_sheet(sheet, pairs)
    return sheet


def payload_pairs(payload: str, digest: str) -> list[tuple[str, str]]:
    """`payload`, `payload_2`, … in cell-sized pieces, then `payload_sha256`."""
    return _signed("payload", payload, digest)


def fill_meta_sheet(sheet: Worksheet, pairs: list[tuple[str, str]]) -> None:
    """Key and value pairs down two columns, every value as text; the sheet very hidden."""
    for row, (key, value) in enumerate(pairs, start=1):
        put_text(sheet.cell(row, 1), key)
        put_text(sheet.cell(row, 2), value)
    sheet.column_dimensions["A"].width = 22
    sheet.column_dimensions["B"].width = 80
    sheet.sheet_state = "veryHidden"


def _signed(key: str, text: str, digest: str | None = None) -> list[tuple[str, str]]:
    """`key`, `key_2`, … holding `text` in cell-sized pieces, then `key_sha256`."""
    pairs = [
        (key if index == 1 else f"{key}_{index}", chunk)
        for index, chunk in enumerate(split_payload(text), start=1)
    ]
    pairs.append((f"{key}_sha256", digest or payload_digest(text)))
    return pairs


def add_query_columns(layout: Layout, data: ReturnFile) -> None:
    """Query (and Answer) columns at the right end of the table, each queried row highlighted.

    A feedback file shows the coordinator's queries; the next revision's return file shows
    them with the service's answers. Readers of format version 1 find their columns by header
    text, so these extra columns change nothing for them.
    """
    queries = data.answers if data.answers is not None else data.queries
    if queries is None:
        return
    sheet, styles = layout.sheet, layout.styles
    names = [QUERY_COLUMN] + ([ANSWER_COLUMN] if data.answers is not None else [])
    first = len(COLUMNS) + 1
    for offset, name in enumerate(names):
        column = first + offset
        cell = sheet.cell(HEADER_ROW, column)
        put_text(cell, name)
        styles.set(cell, font=BOLD, fill=QUERY_FILL, border=GRID, alignment=TOP_WRAPPED)
        sheet.column_dimensions[get_column_letter(column)].width = QUERY_WIDTH
    for code, row in layout.rows.items():
        line = queries.line(code)
        texts = [line.question if line else None]
        if data.answers is not None:
            texts.append(line.answer if line else None)
        for offset, text in enumerate(texts):
            cell = sheet.cell(row, first + offset)
            put_text(cell, text, what=f"the {names[offset].lower()} on {code}")
            fill = QUERY_FILL if line is not None else None
            styles.set(cell, fill=fill, border=GRID, alignment=TOP_WRAPPED)
    last_column = get_column_letter(first + len(names) - 1)
    sheet.print_area = f"A1:{last_column}{layout.last_row}"


def save_atomically(workbook: Workbook, out: Path) -> None:
    """Save to a temporary file beside `out`, then rename: never a half-written file."""
    write_atomically(out, lambda stream: save_workbook(workbook, stream))


class _InMemoryExcelWriter(ExcelWriter):  # type: ignore[misc]  # openpyxl is untyped
    """openpyxl's writer with each sheet's XML made in memory. openpyxl passes every sheet
    through a temporary file of its own (created, read back, deleted): about 1 ms a sheet on
    Linux, more where a virus scanner looks at each new file. Mirrors
    `ExcelWriter.write_worksheet` of openpyxl 3.1 for workbooks that are not write-only
    (tests/unit/test_excel_writer.py compares the two)."""

    def write_worksheet(self, ws: Worksheet) -> None:
        ws._drawing = SpreadsheetDrawing()
        ws._drawing.charts = ws._charts
        ws._drawing.images = ws._images
        writer = WorksheetWriter(ws, out=io.BytesIO())
        writer.write()
        ws._rels = writer._rels
        self._archive.writestr(ws.path[1:], writer.read())
        self.manifest.append(ws)


def save_workbook(workbook: Workbook, stream: BinaryIO) -> None:
    """Write `workbook` as .xlsx to `stream`, as `Workbook.save` does but without its
    temporary files."""
    if workbook.write_only:
        raise ValueError("save_workbook saves ordinary workbooks; use Workbook.save")
    archive = zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
    workbook.properties.modified = datetime.now(UTC).replace(tzinfo=None)
    _InMemoryExcelWriter(workbook, archive).save()


def write_atomically(out: Path, write: Callable[[BinaryIO], object]) -> None:
    """Call `write(stream)` on a temporary file beside `out`, sync it, then rename it to `out`."""
    descriptor, temporary = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
