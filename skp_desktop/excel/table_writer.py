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
