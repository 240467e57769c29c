"""The return file and the blank template as a person and Excel see them (docs/contracts.md)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import openpyxl
import pytest
from exchange_support import (
    CHILDRENS,
    COMMSAFETY,
    LOOKED_AFTER,
    PERIOD,
    REPEAT_VICTIMS,
    TRAINED,
    cell,
    commsafety,
    export,
    members,
    sheet_part,
    submit,
    template,
)

from skp_desktop.domain.errors import StateError, StoreUnavailable, ValidationError
from skp_desktop.excel import return_layout
from skp_desktop.excel.payload import split_payload
from skp_desktop.excel.return_data import ReturnFile
from skp_desktop.services import return_export
from skp_desktop.services.database import Database
from skp_desktop.services.returns import EntryChange, record_entries, submit_return

HEADERS = [
    "Code",
    "Indicator",
    "Unit",
    "Numerator",
    "Denominator",
    "Value",
    "Target",
    "RAG",
    "Direction",
    "Commentary",
    "Explanation",
]


def meta_of(path: Path) -> dict[str, str]:
    book = openpyxl.load_workbook(path)
    return {row[0].value: row[1].value for row in book["_meta"].iter_rows() if row[0].value}


def test_a_return_file_has_its_four_sheets_in_order(db: Database, tmp_path: Path) -> None:
    commsafety(db)
    book = openpyxl.load_workbook(export(db, tmp_path))
    assert book.sheetnames == ["Return", "Instructions", "Definitions", "_meta"]
    assert book.active.title == "Return"
    assert book["_meta"].sheet_state == "veryHidden"
    assert book["Instructions"].sheet_state == "visible"


def test_the_return_sheet_reads_and_prints_like_a_report(db: Database, tmp_path: Path) -> None:
    commsafety(db, numerator="12", denominator="80", count="40")
    path = export(db, tmp_path)
    sheet = openpyxl.load_workbook(path)["Return"]
    header_row = next(r for r in sheet.iter_rows() if r[0].value == "Code")[0].row
    assert [c.value for c in sheet[header_row]][: len(HEADERS)] == HEADERS
    labels = {sheet.cell(r, 1).value: sheet.cell(r, 2).value for r in range(3, 10)}
    assert labels["Service"] == "Community Safety (COMMSAFETY)"
    assert labels["Period"] == "2026/27 Q1 (Apr–Jun 2026)"
    assert (labels["Status"], labels["Revision"], labels["Exported by"]) == (
        "submitted",
        1,
        "tester",
    )
    assert labels["Exported at"].endswith("UTC")

    rate = sheet[cell(path, REPEAT_VICTIMS, "Value")]
    assert rate.value == 15 and rate.number_format == "#,##0.0"  # 12 / 80 = 15.0%, 1 decimal
    count = sheet[cell(path, TRAINED, "Value")]
    assert count.value == 40 and count.number_format == "#,##0"
    assert sheet.freeze_panes == f"A{header_row + 1}"
    assert sheet.print_area == f"'Return'!$A$1:$K${header_row + 2}"
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.fitToWidth == 1 and sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.column_dimensions["J"].width >= 40  # commentary has room to be read


def test_rag_is_a_word_and_a_symbol_stands_in_the_value_cell(db: Database, tmp_path: Path) -> None:
    submit(db, "HIGHWAYS", {"SAFER-P4-S1": {"numerator": "45", "denominator": "50"}})
    sheet = openpyxl.load_workbook(export(db, tmp_path, service="HIGHWAYS"))["Return"]
    assert sheet["H12"].value == "Red" and sheet["H12"].fill.fgColor.rgb.endswith("FFC7CE")
    submit(
        db,
        CHILDRENS,
        {LOOKED_AFTER: {"symbol": "[x]"}, "SAFER-P1-S3": {"symbol": "[z]"}}
        | {"SAFER-P1-S4": {"numerator": "1", "denominator": "2"}},
    )
    path = export(db, tmp_path, "children.xlsx", service=CHILDRENS)
    sheet = openpyxl.load_workbook(path)["Return"]
    assert sheet[cell(path, LOOKED_AFTER, "Value")].value == "[x]"
    assert sheet[cell(path, "SAFER-P1-S3", "Value")].value == "[z]"


@pytest.mark.parametrize("text", ["=1+1", "+44 20 7946 0000", "-5 on last year", "@team", "#N/A"])
def test_text_that_looks_like_a_formula_stays_text(db: Database, tmp_path: Path, text: str) -> None:
    commsafety(db, **{TRAINED: text})
    path = export(db, tmp_path)
    sheet_xml = members(path)[sheet_part(path)].decode("utf-8")
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml
    ref = cell(path, TRAINED, "Commentary")
    match = re.search(rf'<c r="{ref}"[^>]*>', sheet_xml)
    assert match and 't="inlineStr"' in match[0]
    value = openpyxl.load_workbook(path)["Return"][ref]
    assert value.value == text and value.data_type == "s"
    if text[0] in "=+-@":
        assert value.quotePrefix  # still text when someone edits the cell in Excel


def test_the_payload_is_canonical_json_signed_with_its_sha256(db: Database, tmp_path: Path) -> None:
    commsafety(db, numerator="12", denominator="80", count="40", **{TRAINED: "Up on Q4"})
    meta = meta_of(export(db, tmp_path))
    assert (meta["format"], meta["format_version"], meta["kind"]) == ("skp-return", "2", "return")
    assert (meta["service"], meta["period"], meta["revision"]) == (COMMSAFETY, PERIOD, "1")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", meta["exported_at"])
    assert meta["payload_sha256"] == hashlib.sha256(meta["payload"].encode()).hexdigest()
    payload = json.loads(meta["payload"])
    assert [item["code"] for item in payload] == sorted([REPEAT_VICTIMS, TRAINED])
    assert payload[0] == {
        "code": REPEAT_VICTIMS,
        "numerator": "12",
        "denominator": "80",
        "value": "15",
        "symbol": None,
        "commentary": None,
        "explanation": None,
    }
    assert payload[1]["value"] == "40" and payload[1]["commentary"] == "Up on Q4"
    assert meta["payload"] == json.dumps(
        payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )


def test_a_long_payload_continues_in_numbered_rows(db: Database, tmp_path: Path) -> None:
    long_text = "Lorem ipsum dolor sit amet. " * 700  # 19,600 characters
    record_entries(
        db,
        service=COMMSAFETY,
        period=PERIOD,
        changes=[
            EntryChange(REPEAT_VICTIMS, {"numerator": "1", "denominator": "8"}),
            EntryChange(REPEAT_VICTIMS, {"commentary": long_text, "explanation": long_text}),
            EntryChange(TRAINED, {"value": "3", "commentary": long_text + "🙂" * 5000}),
        ],
        actor="tester",
    )
    submit_return(db, service=COMMSAFETY, period=PERIOD, actor="tester")
    meta = meta_of(export(db, tmp_path))
    pieces = [meta["payload"]] + [
        meta[f"payload_{n}"] for n in range(2, 10) if f"payload_{n}" in meta
    ]
    assert len(pieces) >= 3
    # Excel counts UTF-16 units: an emoji is two of them.
    assert all(len(p.encode("utf-16-le")) // 2 <= 32_767 for p in pieces)
    joined = "".join(pieces)
    assert hashlib.sha256(joined.encode()).hexdigest() == meta["payload_sha256"]


def test_split_payload_keeps_every_character() -> None:
    text = "a" * 70_000 + "😀" * 40_000
    chunks = split_payload(text)
    assert "".join(chunks) == text
    assert all(len(c.encode("utf-16-le")) // 2 <= 32_767 for c in chunks)


def test_definitions_and_instructions_are_there_to_read(db: Database, tmp_path: Path) -> None:
    commsafety(db)
    book = openpyxl.load_workbook(export(db, tmp_path))
    definitions = book["Definitions"]
    header = [c.value for c in definitions[1]]
    assert {"Code", "Title", "Unit", "Polarity", "Target", "Baseline", "Source"} <= set(header)
    codes = [definitions.cell(r, 1).value for r in range(2, definitions.max_row + 1)]
    assert codes == [REPEAT_VICTIMS, TRAINED]
    instructions = " ".join(str(c.value) for c in book["Instructions"]["A"] if c.value)
    assert "coordinator" in instructions and "[x]" in instructions and "Commentary" in instructions


def test_a_draft_is_not_exported(db: Database, tmp_path: Path) -> None:
    record_entries(
        db,
        service=COMMSAFETY,
        period=PERIOD,
        changes=[EntryChange(TRAINED, {"value": "3"})],
        actor="tester",
    )
    with pytest.raises(StateError, match=r"draft.*only a submitted return can be exported"):
        export(db, tmp_path)
    assert not (tmp_path / "return.xlsx").exists()


def test_a_failed_save_leaves_no_file_behind(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    commsafety(db)
    target = tmp_path / "out"
    target.mkdir()
    (target / "return.xlsx").write_bytes(b"the previous export")

    def broken_save(workbook: object, handle: object) -> None:
        handle.write(b"PK\x03\x04 half a file")  # type: ignore[attr-defined]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(return_layout, "save_workbook", broken_save)
    with pytest.raises(StoreUnavailable, match=r"the disk is full\. Free some space"):
        export(db, target)
    assert [p.name for p in target.iterdir()] == ["return.xlsx"]
    assert (target / "return.xlsx").read_bytes() == b"the previous export"


@pytest.mark.parametrize("writer", ["write_return_file", "write_template_file"])
def test_files_are_saved_as_openpyxl_saves_them(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, writer: str
) -> None:
    # save_workbook mirrors Workbook.save without its temporary files; an openpyxl upgrade
    # that changes how a sheet is written shows here.
    commsafety(db, **{TRAINED: "=1+1"})
    write = getattr(return_export, writer)
    given: list[tuple[ReturnFile, object]] = []

    def keep(data: ReturnFile, out: Path, signer: object = None) -> object:
        given.append((data, signer))
        return write(data, out, signer)

    monkeypatch.setattr(return_export, writer, keep)
    ours = members(
        export(db, tmp_path) if writer == "write_return_file" else template(db, tmp_path)
    )
    monkeypatch.setattr(return_layout, "save_workbook", lambda book, stream: book.save(stream))
    write(given[0][0], tmp_path / "by-openpyxl.xlsx", given[0][1])
    expected = members(tmp_path / "by-openpyxl.xlsx")
    assert list(ours) == list(expected)
    for name, data in ours.items():
        if name != "docProps/core.xml":  # it holds the time of saving
            assert data == expected[name], name


def test_a_commentary_longer_than_a_cell_is_refused_on_export(db: Database, tmp_path: Path) -> None:
    commsafety(db, **{TRAINED: "x" * 40_000})
    with pytest.raises(ValidationError, match="32,767"):
        export(db, tmp_path)


def test_a_template_is_blank_protected_and_validated(db: Database, tmp_path: Path) -> None:
    commsafety(db)  # values held must not leak into a blank template
    path = template(db, tmp_path)
    book = openpyxl.load_workbook(path)
    meta = {row[0].value: row[1].value for row in book["_meta"].iter_rows()}
    assert meta["kind"] == "template" and "payload" not in meta and not meta["revision"]
    sheet = book["Return"]
    assert sheet.protection.sheet and not sheet.protection.password
    rate_row, count_row = (int(cell(path, c, "Value")[1:]) for c in (REPEAT_VICTIMS, TRAINED))
    for ref in (f"D{rate_row}", f"E{rate_row}", f"F{count_row}", f"J{rate_row}", f"K{count_row}"):
        assert sheet[ref].value is None
        assert sheet[ref].protection.locked is False, ref
    for ref in (f"A{rate_row}", f"B{rate_row}", f"G{rate_row}", f"D{count_row}", "B3"):
        assert sheet[ref].protection.locked is not False, ref

    validations = {str(v.sqref): v for v in sheet.data_validations.dataValidation}
    numerator = validations[f"D{rate_row}"]
    assert (numerator.type, numerator.operator, numerator.formula1) == (
        "whole",
        "greaterThanOrEqual",
        "0",
    )
    assert validations[f"F{rate_row}"].formula1 == '"[x],[z]"'
    count = validations[f"F{count_row}"]
    assert count.type == "custom" and "INT(" in count.formula1 and '"[x]"' in count.formula1
    for validation in validations.values():
        assert validation.showInputMessage and validation.prompt
        assert len(validation.prompt) <= 255 and len(validation.promptTitle) <= 32
        assert len(validation.error) <= 225
    assert "Number of professionals" in count.prompt


def test_a_template_has_no_formulas_and_no_values(db: Database, tmp_path: Path) -> None:
    path = template(db, tmp_path, service=CHILDRENS)
    parts = members(path)
    assert b"<f>" not in parts[sheet_part(path)]
    assert return_layout.HEADER_ROW == 11
