"""The guarded reader on workbooks written by other programs, built by hand here.

Excel, LibreOffice and other tools write the same cells in different ways: shared or inline
strings, rich text runs, phonetic guides, namespace prefixes, cells without references. The
reader sees through all of them and says which cell each value came from.
"""

from __future__ import annotations

import pytest
from exchange_support import zip_bytes

from skp_desktop.excel.rejection import RejectedFile
from skp_desktop.excel.safe_reader import Limits, read_workbook

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
SHEET_TYPE = f"{RELS}/worksheet"


def workbook(sheets: dict[str, str], shared: list[str] | None = None, prefix: str = "") -> bytes:
    """A minimal .xlsx: `sheets` maps a sheet name to its <sheetData> content."""
    p = f"{prefix}:" if prefix else ""
    ns = f'xmlns{":" + prefix if prefix else ""}="{MAIN}"'
    names = list(sheets)
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.sheet.main+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{PACKAGE_RELS}"><Relationship Id="r1" '
            f'Type="{RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<{p}workbook {ns} xmlns:r="{RELS}"><{p}sheets>'
            + "".join(
                f'<{p}sheet name="{name}" sheetId="{i + 1}" r:id="s{i + 1}"/>'
                for i, name in enumerate(names)
            )
            + f"</{p}sheets></{p}workbook>"
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{PACKAGE_RELS}">'
            + "".join(
                f'<Relationship Id="s{i + 1}" Type="{SHEET_TYPE}" '
                f'Target="/xl/worksheets/sheet{i + 1}.xml"/>'
                for i in range(len(names))
            )
            + f'<Relationship Id="t" Type="{RELS}/sharedStrings" Target="sharedStrings.xml"/>'
            + "</Relationships>"
        ),
        "xl/sharedStrings.xml": (f"<{p}sst {ns}>" + "".join(shared or []) + f"</{p}sst>"),
    }
    for i, content in enumerate(sheets.values()):
        parts[f"xl/worksheets/sheet{i + 1}.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8"?><{p}worksheet {ns}>'
            f"<{p}sheetData>{content}</{p}sheetData></{p}worksheet>"
        )
    return zip_bytes({name: text.encode("utf-8") for name, text in parts.items()})


def read(data: bytes, *wanted: str, limits: Limits | None = None):
    return read_workbook(
        data, file_name="x.xlsx", wanted=wanted or ("Return",), limits=limits or Limits()
    )


def test_shared_rich_and_inline_strings_read_as_people_see_them() -> None:
    shared = [
        "<si><t>Code</t></si>",
        "<si><r><t>Rich </t></r><r><rPr><b/></rPr><t>text</t></r></si>",
        "<si><t>漢字</t><rPh sb='0' eb='2'><t>かんじ</t></rPh></si>",  # phonetic guide dropped
        "<si><t>a_x000D_b _x005F_x0041_</t></si>",
    ]
    data = workbook(
        {
            "Return": (
                '<row r="3"><c r="A3" t="s"><v>0</v></c><c r="B3" t="s"><v>1</v></c>'
                '<c r="C3" t="s"><v>2</v></c><c r="D3" t="s"><v>3</v></c>'
                '<c r="E3" t="inlineStr"><is><t xml:space="preserve"> =1+1 </t></is></c>'
                '<c r="F3"><v>0.10000000000000001</v></c><c r="G3" t="b"><v>1</v></c>'
                '<c r="H3" t="e"><v>#REF!</v></c><c r="I3"><f>SUM(F3)</f><v>0.1</v></c></row>'
            )
        },
        shared,
    )
    sheet = read(data).sheets["Return"]
    texts = {cell.ref: (cell.kind, cell.text) for cell in sheet.cells.values()}
    assert texts["A3"] == ("text", "Code")
    assert texts["B3"] == ("text", "Rich text")
    assert texts["C3"] == ("text", "漢字")
    assert texts["D3"] == ("text", "a\rb _x0041_")
    assert texts["E3"] == ("text", " =1+1 ")
    assert texts["F3"] == ("number", "0.10000000000000001")  # exact digits, no float
    assert texts["G3"][0] == "bool" and texts["H3"] == ("error", "#REF!")
    formula = sheet.get(3, 9)
    assert formula is not None and formula.formula == "SUM(F3)" and formula.where == "Return!I3"


def test_prefixed_namespaces_and_cells_without_references_are_read() -> None:
    data = workbook(
        {"Return": "<x:row><x:c><x:v>1</x:v></x:c><x:c><x:v>2</x:v></x:c></x:row><x:row/>"},
        prefix="x",
    )
    sheet = read(data).sheets["Return"]
    assert {(c.where, c.text) for c in sheet.cells.values()} == {
        ("Return!A1", "1"),
        ("Return!B1", "2"),
    }


def test_only_the_sheets_asked_for_are_read() -> None:
    data = workbook({"Notes": "<row><c><v>1</v></c></row>", "Return": ""})
    book = read(data, "Return", "_meta")
    assert book.sheet_names == ("Notes", "Return") and set(book.sheets) == {"Return"}


def test_cells_far_to_the_right_are_ignored_but_rows_far_down_refuse_the_file() -> None:
    right = workbook({"Return": '<row r="1"><c r="ZZ1"><v>5</v></c></row>'})
    assert read(right).sheets["Return"].cells == {}
    down = workbook({"Return": '<row r="70"><c r="B70"><v>5</v></c></row>'})
    with pytest.raises(RejectedFile) as refused:
        read(down, limits=Limits(rows=60))
    assert (refused.value.sheet, refused.value.cell) == ("Return", "B70")


def test_a_text_cell_pointing_at_no_text_is_damage_named_by_cell() -> None:
    data = workbook({"Return": '<row r="2"><c r="C2" t="s"><v>7</v></c></row>'}, ["<si/>"])
    with pytest.raises(RejectedFile, match="not in the file") as refused:
        read(data)
    assert refused.value.cell == "C2"


def test_a_zip_whose_headers_disagree_is_refused_as_damaged() -> None:
    data = workbook({"Return": ""})
    broken = data.replace(b"sheet1.xml", b"sheet9.xml", 1)  # the local header only
    with pytest.raises(RejectedFile, match="damaged"):
        read(broken)
