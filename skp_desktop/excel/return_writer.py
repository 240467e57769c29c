"""Writes a submitted return as an Excel return file (CONTRACTS.md, format version 1)."""

from __future__ import annotations

from pathlib import Path

from skp_desktop.excel.payload import canonical_payload, payload_digest
from skp_desktop.excel.return_data import KIND_RETURN, ReturnFile
from skp_desktop.excel.return_layout import add_meta_sheet, build_workbook, save_atomically

RETURN_NOTE = (
    "Submitted return exported from SKP Returns. Send this file as it is: figures changed "
    "here are refused when the file is imported."
)

RETURN_INSTRUCTIONS = [
    "SKP Returns: performance return file",
    "What this file is:",
    "A service's submitted performance return for one period, exported from SKP Returns for "
    "the Safer Kingston Partnership (SKP) and the Royal Borough of Kingston's Council Plan "
    "'Safer' theme. It can be opened, read and printed in Excel or LibreOffice.",
    "Who it goes to:",
    "Send it to the SKP performance coordinator, who imports it into the partnership's copy of "
    "SKP Returns. Send the file as it was exported; opening and saving it again is harmless.",
    "Changing figures:",
    "Do not change figures in this file. The figures are also kept in a hidden, signed part of "
    "the file, and a figure that no longer matches is refused on import, naming the cell. To "
    "correct a return, reopen it in SKP Returns, correct it, submit and export it again.",
    "The columns of the Return sheet:",
    "Code: the indicator's stable code. Indicator: its title. Unit: % (percentage), count, "
    "per 1,000 or per 10,000 (rates), or score.",
    "Numerator and Denominator: for percentages and rates, the two figures the value is worked "
    "out from (value = numerator ÷ denominator × 100 for a percentage).",
    "Value: the figure reported, or a symbol where there is no figure: [x] not available, "
    "[z] not applicable, [c] suppressed because the number is small.",
    "Target: the target in force for the period. RAG: performance against the target as a word "
    "(Green: met, Amber: within the tolerance, Red: missed).",
    "Direction: how the value moved since the previous period, judged by whether higher or "
    "lower is better.",
    "Commentary: what the service says about the figure. Explanation: why a figure that the "
    "checks flagged (an unusual change, for example) is right.",
    "Definitions sheet: what each indicator measures, its unit, polarity, target, baseline and "
    "the source document it comes from.",
]


def write_return_file(data: ReturnFile, out: Path) -> str:
    """Write the return file to `out` (atomically); returns the payload's SHA-256."""
    if data.header.kind != KIND_RETURN:
        raise ValueError("write_return_file writes returns; use write_template_file for templates")
    payload = canonical_payload(line.entry for line in data.lines)
    digest = payload_digest(payload)
    layout = build_workbook(data, note=RETURN_NOTE, instructions=RETURN_INSTRUCTIONS)
    add_meta_sheet(layout.workbook, data, payload, digest)
    save_atomically(layout.workbook, out)
    return digest
