"""Issue 16, point 7: a folder's spreadsheets that are not .xlsx are reported, never skipped.

A return sent as .xls, .xlsm, .xlsb, .ods or .csv used to be passed over without a word, so it
looked "missing"; now each is REJECTED with the reason the same file gets when given alone.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from exchange_support import commsafety, export

from skp_desktop.services import exchange
from skp_desktop.services.database import Database

OLE_HEADER = bytes.fromhex("D0CF11E0A1B11AE1")


def _zip(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _types(main: str) -> bytes:
    return (
        '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        f'content-types"><Override PartName="/xl/workbook.bin" ContentType="{main}"/></Types>'
    ).encode()


def test_every_spreadsheet_in_a_folder_is_reported(db: Database, tmp_path: Path) -> None:
    commsafety(db)
    folder = tmp_path / "returns"
    export(db, folder, name="community safety.xlsx")
    (folder / "highways.xls").write_bytes(OLE_HEADER + bytes(504))
    (folder / "parks.ods").write_bytes(
        _zip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet"})
    )
    (folder / "children.xlsm").write_bytes(
        _zip(
            {"[Content_Types].xml": _types("application/vnd.ms-excel.sheet.macroEnabled.main+xml")}
        )
    )
    (folder / "asc.xlsb").write_bytes(
        _zip(
            {
                "[Content_Types].xml": _types(
                    "application/vnd.ms-excel.sheet.binary.macroEnabled.main"
                )
            }
        )
    )
    (folder / "probation.csv").write_text("Code,Value\nSAFER-P3-S2,40\n")
    (folder / "notes.txt").write_text("not a spreadsheet: not reported")
    outcomes = {Path(o.file).name: o for o in exchange.import_files(db, [folder], actor="tester")}
    assert sorted(outcomes) == [
        "asc.xlsb",
        "children.xlsm",
        "community safety.xlsx",
        "highways.xls",
        "parks.ods",
        "probation.csv",
    ]
    expected = {
        "highways.xls": "legacy Excel 97–2003 (.xls)",
        "parks.ods": "OpenDocument spreadsheet (.ods)",
        "children.xlsm": "macro-enabled workbook",
        "asc.xlsb": "Excel Binary Workbook (.xlsb)",
        "probation.csv": "CSV file (.csv)",
    }
    for name, words in expected.items():
        outcome = outcomes[name]
        assert outcome.status == "REJECTED", outcome
        assert words in (outcome.reason or ""), outcome.reason
        assert "save it as an Excel Workbook (.xlsx)" in (outcome.reason or "") or name.endswith(
            ".xlsm"
        )
        # the same reason as the file gets given on its own
        (alone,) = exchange.import_files(db, [folder / name], actor="tester", dry_run=True)
        assert alone.reason == outcome.reason
    assert outcomes["community safety.xlsx"].status == "DUPLICATE"  # db exported it itself
