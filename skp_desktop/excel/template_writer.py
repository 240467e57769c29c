"""Writes a blank return to fill in Excel or LibreOffice: inputs open, the rest protected."""

from __future__ import annotations

from pathlib import Path

from openpyxl.styles import Protection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from skp_desktop.domain.definitions import Definition, Unit
from skp_desktop.domain.values import canonical_text, format_decimal
from skp_desktop.excel.cell_styles import CellStyles
from skp_desktop.excel.file_signature import Signer
from skp_desktop.excel.return_data import KIND_TEMPLATE, ReturnFile, ReturnLine
from skp_desktop.excel.return_layout import (
    COLUMN_OF,
    INPUT_FILL,
    LOCKED_FILL,
    add_meta_sheet,
    build_workbook,
    save_atomically,
)

UNLOCKED = Protection(locked=False)

# Excel's limits on data validation texts.
PROMPT_LIMIT = 255
TITLE_LIMIT = 32
ERROR_LIMIT = 225

TEMPLATE_NOTE = (
    "Blank return: fill in the yellow cells, save the file as .xlsx and send it to the SKP "
    "performance coordinator. See the Instructions sheet."
)

TEMPLATE_INSTRUCTIONS = [
    "SKP Returns: blank return to fill in",
    "What this file is:",
    "A blank performance return for one service and one period, for services that do not run "
    "SKP Returns. Fill it in with Excel or LibreOffice, save it as .xlsx (keep the format) "
    "and send it to the SKP performance coordinator, who imports it.",
    "What to fill in:",
    "Only the yellow cells can be changed; the rest of the sheet is protected against slips "
    "(without a password: Review > Unprotect Sheet if you really must). Click a yellow cell to "
    "see the indicator's definition.",
    "Percentages and rates: enter the Numerator and the Denominator; the value is worked out "
    "when the file is imported (numerator ÷ denominator × 100 for a percentage).",
    "Counts and scores: enter the Value. A count is a whole number, 0 or more.",
    "No figure: type [x] in the Value cell if the figure is not available, or [z] if it does not "
    "apply. [c] (suppressed) is added when figures are published: do not type it.",
    "Commentary: anything readers should know about the figure. Explanation: why an unusual "
    "figure is right.",
    "Type figures, not formulas: a cell with a formula where a figure belongs is refused on "
    "import. Every cell that is wrong is listed at once, by its cell reference.",
    "Do not add, remove or reorder rows or sheets, and do not rename the file's sheets.",
    "The Definitions sheet says what each indicator measures, its target and its source.",
    "Who issued this template:",
    "It is signed by the coordinator's copy of SKP Returns for this one service and period, "
    "and is imported only there. Its figures are recorded as typed into a template, not as "
    "signed by the service. Do not reuse it for another service or period: ask the "
    "coordinator for that template.",
]


def _limited(text: str, limit: int) -> str:
    """`text` cut to `limit` characters at a word boundary, with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.") + "…"


def _range_words(rules: Definition) -> str:
    low, high = rules.effective_min, rules.effective_max
    if low is not None and high is not None:
        return f"from {format_decimal(low)} to {format_decimal(high)}"
    if low is not None:
        return f"{format_decimal(low)} or more"
    if high is not None:
        return f"{format_decimal(high)} or less"
    return ""


def _prompt(line: ReturnLine, guidance: str) -> str:
    about = f"{line.rules.title}."
    if line.definition_text:
        about += f" {line.definition_text}"
    return _limited(f"{guidance} {about}", PROMPT_LIMIT)


def _validation(line: ReturnLine, guidance: str, error: str, **kwargs: object) -> DataValidation:
    validation = DataValidation(
        allow_blank=True,
        showInputMessage=True,
        showErrorMessage=True,
        promptTitle=_limited(line.code, TITLE_LIMIT),
        prompt=_prompt(line, guidance),
        errorTitle=_limited(f"{line.code}: not accepted", TITLE_LIMIT),
        error=_limited(error, ERROR_LIMIT),
        **kwargs,
    )
    return validation


def _add(
    sheet: Worksheet, styles: CellStyles, validation: DataValidation, row: int, column: str
) -> None:
    cell = sheet.cell(row, COLUMN_OF[column])
    sheet.add_data_validation(validation)
    validation.add(cell)
    styles.set(cell, fill=INPUT_FILL, protection=UNLOCKED)


def _fraction_inputs(sheet: Worksheet, styles: CellStyles, row: int, line: ReturnLine) -> None:
    rules = line.rules
    whole = rules.unit is Unit.PERCENT  # shares count people or things; rates may not
    kind = "whole" if whole else "decimal"
    number = "a whole number" if whole else "a number"
    for column, label, operator, words in (
        ("Numerator", rules.numerator_label, "greaterThanOrEqual", "0 or more"),
        ("Denominator", rules.denominator_label, "greaterThan", "more than 0"),
    ):
        named = f"{column}" + (f" ({label})" if label else "")
        _add(
            sheet,
            styles,
            _validation(
                line,
                f"{named}: {number}, {words}.",
                f"The {column.lower()} must be {number}, {words}.",
                type=kind,
                operator=operator,
                formula1="0",
            ),
            row,
            column,
        )
    _add(
        sheet,
        styles,
        _validation(
            line,
            "Worked out from the numerator and denominator: leave blank, or type [x] if the "
            "figure is not available, [z] if it does not apply.",
            "Leave the value blank (it is worked out), or choose [x] or [z].",
            type="list",
            formula1='"[x],[z]"',
        ),
        row,
        "Value",
    )


def _value_input(sheet: Worksheet, styles: CellStyles, row: int, line: ReturnLine) -> None:
    rules = line.rules
    cell = sheet.cell(row, COLUMN_OF["Value"]).coordinate
    conditions = [f"ISNUMBER({cell})"]
    if rules.effective_min is not None:
        conditions.append(f"{cell}>={canonical_text(rules.effective_min)}")
    if rules.effective_max is not None:
        conditions.append(f"{cell}<={canonical_text(rules.effective_max)}")
    if rules.is_count:
        conditions.append(f"{cell}=INT({cell})")
    number = "a whole number" if rules.is_count else "a number"
    words = " ".join(filter(None, [number, _range_words(rules)]))
    _add(
        sheet,
        styles,
        _validation(
            line,
            f"Value: {words}; or [x] if not available, [z] if it does not apply.",
            f"Enter {words}, or [x] (not available) or [z] (not applicable).",
            type="custom",
            formula1=f'OR(AND({",".join(conditions)}),{cell}="[x]",{cell}="[z]")',
        ),
        row,
        "Value",
    )
    for column in ("Numerator", "Denominator"):
        styles.set(sheet.cell(row, COLUMN_OF[column]), fill=LOCKED_FILL)


def write_template_file(data: ReturnFile, out: Path, signer: Signer | None = None) -> None:
    """Write a blank return to `out` (atomically): `kind` template, no payload."""
    if data.header.kind != KIND_TEMPLATE:
        raise ValueError("write_template_file writes templates; use write_return_file")
    layout = build_workbook(data, note=TEMPLATE_NOTE, instructions=TEMPLATE_INSTRUCTIONS)
    sheet, styles = layout.sheet, layout.styles
    for line in data.lines:
        row = layout.rows[line.code]
        if line.rules.has_fraction:
            _fraction_inputs(sheet, styles, row, line)
        else:
            _value_input(sheet, styles, row, line)
        for column in ("Commentary", "Explanation"):
            styles.set(sheet.cell(row, COLUMN_OF[column]), fill=INPUT_FILL, protection=UNLOCKED)
    for worksheet in layout.workbook.worksheets:
        # No password: the protection stops slips, not people (the Instructions say how).
        worksheet.protection.sheet = True
        worksheet.protection.formatColumns = False
        worksheet.protection.formatRows = False
    add_meta_sheet(layout.workbook, data, None, None, signer)
    save_atomically(layout.workbook, out)
