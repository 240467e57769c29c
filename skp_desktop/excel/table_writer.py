"""A plain table as an Excel workbook: one sheet, a real Excel Table, frozen header."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table, TableStyleInfo


def write_table(
    path: Path,
    title: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    note: str = "",
) -> None:
    """Write rows under headers; every text cell stays text, never a formula."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]
    for column, header in enumerate(headers, start=1):
        sheet.cell(1, column, header)
    for row_number, row in enumerate(rows, start=2):
        for column, value in enumerate(row, start=1):
            cell = sheet.cell(row_number, column, value)
            if isinstance(value, str):
                cell.data_type = "s"  # "=1+1" typed by someone is text, not a formula
    last = get_column_letter(len(headers))
    if rows:
        name = "".join(c for c in title if c.isalnum()) or "Data"
        table = Table(displayName=f"{name}Table", ref=f"A1:{last}{len(rows) + 1}")
        table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
        sheet.add_table(table)
    sheet.freeze_panes = "A2"
    for column, header in enumerate(headers, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = max(10, min(60, len(header) + 8))
    if note:
        sheet.oddFooter.left.text = note[:250]
    workbook.save(path)


def add_key_values(path: Path, title: str, pairs: Sequence[tuple[str, str]]) -> None:
    """Add a sheet of key/value rows (hidden from casual view) to a workbook written above."""
    from openpyxl import load_workbook

    workbook = load_workbook(path)
    sheet = workbook.create_sheet(title[:31])
    for row, (key, value) in enumerate(pairs, start=1):
        sheet.cell(row, 1, key).data_type = "s"
        cell = sheet.cell(row, 2, value)
        cell.data_type = "s"
    sheet.sheet_state = "hidden"
    workbook.save(path)


def read_key_values(path: Path, title: str, *, max_rows: int = 100) -> dict[str, str]:
    """The key/value sheet of a workbook (values only; formulas are never evaluated)."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=False)
    try:
        if title not in workbook.sheetnames:
            return {}
        pairs: dict[str, str] = {}
        for row in workbook[title].iter_rows(max_row=max_rows, max_col=2, values_only=True):
            if row and row[0] is not None:
                pairs[str(row[0])] = "" if row[1] is None else str(row[1])
        return pairs
    finally:
        workbook.close()
