"""Writes a submitted return as an Excel return file (docs/contracts.md, format version 1), and a
returned one as a feedback file: the same format with `kind` = `feedback` and the queries."""

from __future__ import annotations

from pathlib import Path

from skp_desktop.excel.file_signature import Signer
from skp_desktop.excel.payload import canonical_payload, payload_digest
from skp_desktop.excel.return_data import KIND_FEEDBACK, KIND_RETURN, ReturnFile
from skp_desktop.excel.return_layout import (
    add_meta_sheet,
    add_query_columns,
    build_workbook,
    save_atomically,
)

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
    "Who sent this file:",
    "The file is signed with the key of the copy of SKP Returns that exported it. Its hidden "
    "part names the key by a fingerprint of 30 digits (read it out over the phone when you "
    "enrol a key) and carries a signature over what the file is (service, period, revision, "
    "who exported it and when) and over its figures. The coordinator's SKP Returns accepts the "
    "file only when that key is enrolled for this service, and says so when it is not. Opening "
    "and saving the file again in Excel or LibreOffice keeps the signature; a figure or a "
    "hidden value changed afterwards breaks it, and the file is refused.",
]


ANSWERS_INSTRUCTIONS = [
    "Query and Answer:",
    "The coordinator returned the previous revision with a query on the indicators whose Query "
    "column is filled in; the Answer column holds the service's answer. The answers are also "
    "kept in the hidden, signed part of the file: an answer changed here is refused on import.",
]

FEEDBACK_NOTE = (
    "Returned with queries by the SKP performance coordinator. Import this file into SKP "
    "Returns to see each query beside its figure; then reopen the return, correct it, answer "
    "each query, submit it and export it again."
)

FEEDBACK_INSTRUCTIONS = [
    "SKP Returns: feedback on a return",
    "What this file is:",
    "A service's performance return that the SKP performance coordinator has returned with "
    "queries, exported from the partnership's copy of SKP Returns. It can be opened, read and "
    "printed in Excel or LibreOffice.",
    "What to do with it:",
    "Import it into the service's copy of SKP Returns (the Import place, or `skp-returns import` "
    "on the command line): the return is then shown as returned, with each query beside its "
    "figure. Reopen the return, correct what needs correcting, answer every query, submit the "
    "next revision and export it to send back. The answers travel in that file.",
    "The Query column:",
    "The coordinator's question on an indicator, at the right end of its row and highlighted. "
    "Rows with nothing in the Query column have no query.",
    "Changing this file:",
    "Do not change figures or queries in this file. They are also kept in a hidden, signed part "
    "of the file, and a cell that no longer matches is refused on import, naming the cell.",
    *RETURN_INSTRUCTIONS[7:],
]


def write_return_file(data: ReturnFile, out: Path, signer: Signer | None = None) -> str:
    """Write the return file to `out` (atomically); returns the payload's SHA-256.

    When `data.answers` is given (the revision answers the coordinator's queries on the one
    before), they are signed into `_meta` and shown in Query and Answer columns.
    """
    if data.header.kind != KIND_RETURN:
        raise ValueError("write_return_file writes returns; use write_template_file for templates")
    instructions = RETURN_INSTRUCTIONS + (ANSWERS_INSTRUCTIONS if data.answers else [])
    return _write(data, out, note=RETURN_NOTE, instructions=instructions, signer=signer)


def write_feedback_file(data: ReturnFile, out: Path, signer: Signer | None = None) -> str:
    """Write a returned revision with its queries as a feedback file; returns the payload's
    SHA-256."""
    if data.header.kind != KIND_FEEDBACK or data.queries is None:
        raise ValueError("write_feedback_file writes a returned revision with its queries")
    note = FEEDBACK_NOTE
    if data.queries.reason:
        note = f"{note} The coordinator says: {data.queries.reason}"
    return _write(data, out, note=note, instructions=FEEDBACK_INSTRUCTIONS, signer=signer)


def _write(
    data: ReturnFile,
    out: Path,
    *,
    note: str,
    instructions: list[str],
    signer: Signer | None,
) -> str:
    payload = canonical_payload(line.entry for line in data.lines)
    digest = payload_digest(payload)
    layout = build_workbook(data, note=note, instructions=instructions)
    add_query_columns(layout, data)
    add_meta_sheet(layout.workbook, data, payload, digest, signer)
    save_atomically(layout.workbook, out)
    return digest
