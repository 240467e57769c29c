"""The partnership workbook: returns from services' laptops, imported, accepted and merged."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from exchange_support import ACTOR, COMMSAFETY, REPEAT_VICTIMS, TRAINED, do_import, open_copy
from sqlalchemy import select

from skp_desktop.domain.errors import NotFoundError, StoreUnavailable
from skp_desktop.services import audit, exchange, review, trust
from skp_desktop.services.database import Database
from skp_desktop.services.merge import MergeCancelled, merge_export
from skp_desktop.services.returns import (
    EntryChange,
    get_return,
    record_entries,
    reopen_return,
    submit_return,
)
from skp_desktop.store.models import Indicator, IndicatorDefinition

HIGHWAYS, CAT1 = "HIGHWAYS", "SAFER-P4-S1"  # % of Category 1 defects repaired on time
YEAR_AGO, Q1, Q2 = "FY2025-26-Q2", "FY2026-27-Q1", "FY2026-27-Q2"
TODAY = date(2026, 11, 23)
SHEETS = ["Summary", "Data", "Wide", "Completeness", "Definitions"]
DATA_HEADERS = [
    "Service",
    "Service name",
    "Code",
    "Indicator",
    "Unit",
    "Period",
    "Period name",
    "Numerator",
    "Denominator",
    "Value",
    "Target",
    "RAG",
    "Revision",
    "Status",
    "Source file SHA-256",
    "Signed by",
]

# What each service enters on its own laptop: {(service, period): {code: fields}}.
ENTERED: dict[tuple[str, str], dict[str, dict[str, str]]] = {
    (HIGHWAYS, YEAR_AGO): {CAT1: {"numerator": "45", "denominator": "50"}},  # 90.0: Red
    (HIGHWAYS, Q1): {CAT1: {"numerator": "48", "denominator": "50"}},  # 96.0: Amber
    (HIGHWAYS, Q2): {CAT1: {"numerator": "50", "denominator": "50"}},  # 100.0: Green
    (COMMSAFETY, Q1): {
        REPEAT_VICTIMS: {"numerator": "12", "denominator": "80"},  # 15.0
        TRAINED: {"value": "40"},
    },
    (COMMSAFETY, Q2): {
        REPEAT_VICTIMS: {"numerator": "11", "denominator": "80"},  # 13.8 (13.75 rounded up)
        TRAINED: {"value": "44"},
    },
}


@dataclass
class Partnership:
    """Two services' laptops and the coordinator's database, with the files sent between."""

    laptops: dict[str, Database]
    coordinator: Database
    folder: Path
    files: dict[tuple[str, str, int], Path] = field(default_factory=dict)

    def send(self, service: str, period: str, revision: int = 1) -> Path:
        out = self.folder / f"{service}-{period}-r{revision}.xlsx"
        exchange.export_return(
            self.laptops[service], service=service, period=period, out=out, actor=ACTOR
        )
        self.files[(service, period, revision)] = out
        return out

    def merge(self, out: Path, **options: Any) -> Any:
        options = {"first": Q1, "last": Q2, "today": TODAY} | options
        return merge_export(self.coordinator, out=out, **options)


def submit_with_explanations(db: Database, service: str, period: str) -> None:
    """Submit the draft, explaining any warning (an unusual change) as a service would."""
    view = get_return(db, service, period)
    explanations = {row.code: "checked" for row in view.rows if row.needs_explanation}
    submit_return(db, service=service, period=period, actor=ACTOR, explanations=explanations)


@pytest.fixture(scope="module")
def sent(
    template_database: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Partnership]:
    """Each service's returns entered, submitted and exported on its own laptop (once)."""
    root = tmp_path_factory.mktemp("laptops")
    laptops = {
        service: open_copy(template_database, root / service / "skp.sqlite3")
        for service in (HIGHWAYS, COMMSAFETY)
    }
    world = Partnership(laptops, None, root / "files")  # type: ignore[arg-type]
    world.folder.mkdir()
    for (service, period), entries in ENTERED.items():
        db = laptops[service]
        changes = [EntryChange(code, fields) for code, fields in entries.items()]
        record_entries(db, service=service, period=period, changes=changes, actor=ACTOR)
        submit_with_explanations(db, service, period)
        world.send(service, period)
    yield world
    for db in laptops.values():
        db.dispose()


@pytest.fixture
def partnership(
    sent: Partnership, template_database: Path, tmp_path: Path
) -> Iterator[Partnership]:
    """The coordinator's database with every file sent imported (each return submitted)."""
    coordinator = open_copy(template_database, tmp_path / "coordinator" / "skp.sqlite3")
    outcomes = do_import(coordinator, *(sent.files[(s, p, 1)] for s, p in ENTERED))
    assert [o.status for o in outcomes] == ["ACCEPTED"] * len(ENTERED)
    yield Partnership(sent.laptops, coordinator, tmp_path / "more", dict(sent.files))
    coordinator.dispose()


def accept_all(db: Database, keys: Any = ENTERED) -> None:
    for service, period in keys:
        review.accept_return(db, service=service, period=period, actor="coordinator")


def rows(sheet: Any, header_row: int = 1) -> list[dict[str, Any]]:
    """A table's rows as {heading: value}, read back from the file."""
    values = list(sheet.iter_rows(min_row=header_row, values_only=True))
    headings = values[0]
    return [dict(zip(headings, row, strict=True)) for row in values[1:] if any(row)]


def header_row_of(sheet: Any) -> int:
    (table,) = sheet.tables.values()
    return int(table.ref.split(":")[0][1:])


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_accepted_figure_reaches_the_workbook_as_entered(
    partnership: Partnership, tmp_path: Path
) -> None:
    accept_all(partnership.coordinator)
    result = partnership.merge(tmp_path / "partnership.xlsx")
    assert (result.returns, result.figures, result.suppressed) == (4, 6, 0)
    book = openpyxl.load_workbook(result.path)
    assert book.sheetnames == SHEETS

    data = rows(book["Data"])
    assert list(data[0]) == DATA_HEADERS
    got = {(r["Service"], r["Period"], r["Code"]): r for r in data}
    assert set(got) == {
        (service, period, code)
        for (service, period), entries in ENTERED.items()
        if period != YEAR_AGO  # before the range: compared with, not listed
        for code in entries
    }
    for (service, period, code), row in got.items():
        entered = ENTERED[(service, period)][code]
        if "numerator" in entered:
            assert row["Numerator"] == int(entered["numerator"])
            assert row["Denominator"] == int(entered["denominator"])
            expected = Decimal(entered["numerator"]) * 100 / Decimal(entered["denominator"])
            assert row["Value"] == pytest.approx(float(round(expected, 1)))
        else:
            assert (row["Numerator"], row["Denominator"]) == (None, None)
            assert row["Value"] == int(entered["value"])
        assert (row["Revision"], row["Status"]) == (1, "accepted")
        assert row["Source file SHA-256"] == sha(partnership.files[(service, period, 1)])
        # each laptop here signs with the run's key, enrolled in the partnership's database
        assert row["Signed by"].endswith(f"({trust.installation_key().key.fingerprint})")
    cat1 = {period: got[(HIGHWAYS, period, CAT1)] for period in (Q1, Q2)}
    assert [(r["Value"], r["Target"], r["RAG"]) for r in cat1.values()] == [
        (96, 100, "Amber"),
        (100, 100, "Green"),
    ]
    assert got[(COMMSAFETY, Q2, REPEAT_VICTIMS)]["Value"] == pytest.approx(13.8)
    assert got[(COMMSAFETY, Q1, TRAINED)]["RAG"] is None  # no target: no RAG

    summary_sheet = book["Summary"]
    summary = {r["Code"]: r for r in rows(summary_sheet, header_row_of(summary_sheet))}
    assert (
        summary[CAT1]["Latest period"],
        summary[CAT1]["Value"],
        summary[CAT1]["Target"],
        summary[CAT1]["RAG"],
        summary[CAT1]["vs previous period"],
        summary[CAT1]["vs a year earlier"],
    ) == ("2026/27 Q2 (Jul–Sep 2026)", 100, 100, "Green", "↑ improving", "↑ improving")
    assert summary[TRAINED]["Value"] == 44 and summary[TRAINED]["vs previous period"] == (
        "↑ improving"
    )
    assert summary["SAFER-P1-S1"]["Note"] == "no accepted return in this range"

    wide = {r["Code"]: r for r in rows(book["Wide"])}
    assert (wide[CAT1]["2026/27 Q1"], wide[CAT1]["2026/27 Q2"]) == (96, 100)
    assert (wide[TRAINED]["2026/27 Q1"], wide[TRAINED]["2026/27 Q2"]) == (40, 44)
    completeness_sheet = book["Completeness"]
    matrix = {r["Service"]: r for r in rows(completeness_sheet, header_row_of(completeness_sheet))}
    assert matrix["Highways"]["2026/27 Q2"] == "✓ accepted"
    assert matrix["Adult Social Care"]["2026/27 Q1"] == "✗ missing"
    assert matrix["Parks"]["2026/27 Q1"] == "— not due"
    definitions = {r["Code"]: r for r in rows(book["Definitions"])}
    assert definitions[CAT1]["Target"] == 100 and definitions[CAT1]["Amber tolerance"] == 5
    assert audit.verify(partnership.coordinator).ok


def test_the_workbook_is_made_of_real_tables_ready_to_print(
    partnership: Partnership, tmp_path: Path
) -> None:
    accept_all(partnership.coordinator)
    book = openpyxl.load_workbook(partnership.merge(tmp_path / "p.xlsx").path)
    for sheet in book.worksheets:
        (table,) = sheet.tables.values()
        header = header_row_of(sheet)
        assert sheet.freeze_panes is not None and sheet.freeze_panes.endswith(str(header + 1))
        assert sheet.page_setup.orientation == "landscape"
        assert sheet.page_setup.fitToWidth == 1 and sheet.sheet_properties.pageSetUpPr.fitToPage
        assert sheet.print_title_rows == f"${header}:${header}"
        assert table.tableStyleInfo is not None
    data = book["Data"]
    formats = {data[f"E{row}"].value: data[f"J{row}"].number_format for row in (2, 3, 4)}
    assert formats == {"%": "#,##0.0", "count": "#,##0"}  # each indicator's decimals
    assert data["M2"].data_type == "n" and data["H2"].data_type == "n"


def test_only_accepted_revisions_count_and_a_second_revision_replaces_the_first(
    partnership: Partnership, tmp_path: Path
) -> None:
    coordinator = partnership.coordinator
    accept_all(coordinator, [(COMMSAFETY, Q1), (COMMSAFETY, Q2), (HIGHWAYS, Q1)])
    result = partnership.merge(tmp_path / "first.xlsx")
    assert result.left_out["submitted"] == 1  # Highways Q2 waits for review
    data = rows(openpyxl.load_workbook(result.path)["Data"])
    assert (HIGHWAYS, Q2) not in {(r["Service"], r["Period"]) for r in data}
    summary = openpyxl.load_workbook(result.path)["Summary"]
    assert "1 submitted and awaiting review" in summary["A2"].value

    review.accept_return(coordinator, service=HIGHWAYS, period=Q2, actor="coordinator")
    # Highways finds a mistake, reopens and sends revision 2: 49 of 50, not 50.
    laptop = partnership.laptops[HIGHWAYS]
    reopen_return(laptop, service=HIGHWAYS, period=Q2, reason="one repair was late", actor=ACTOR)
    record_entries(
        laptop,
        service=HIGHWAYS,
        period=Q2,
        changes=[EntryChange(CAT1, {"numerator": "49"})],
        actor=ACTOR,
    )
    submit_with_explanations(laptop, HIGHWAYS, Q2)
    partnership.folder.mkdir()
    second = partnership.send(HIGHWAYS, Q2, revision=2)
    (outcome,) = do_import(coordinator, second)
    assert (outcome.status, outcome.revision) == ("ACCEPTED", 2)

    waiting = partnership.merge(tmp_path / "waiting.xlsx")
    assert waiting.newer_waiting == 1
    row = _cat1_q2(waiting.path)
    assert (row["Value"], row["Revision"]) == (100, 1)  # revision 1 stands until 2 is accepted

    review.accept_return(coordinator, service=HIGHWAYS, period=Q2, actor="coordinator")
    final = partnership.merge(tmp_path / "final.xlsx")
    row = _cat1_q2(final.path)
    assert (row["Numerator"], row["Value"], row["RAG"], row["Revision"]) == (49, 98, "Amber", 2)
    assert row["Source file SHA-256"] == sha(second)
    assert final.returns == 4 and final.newer_waiting == 0
    matrix = openpyxl.load_workbook(final.path)["Completeness"]
    assert "✓ accepted (revision 2)" in [c.value for c in matrix[header_row_of(matrix) + 5]]


def _cat1_q2(path: Path) -> dict[str, Any]:
    data = rows(openpyxl.load_workbook(path)["Data"])
    (row,) = [r for r in data if (r["Code"], r["Period"]) == (CAT1, Q2)]
    return row


def set_threshold(db: Database, code: str, threshold: int) -> None:
    """A test-only way to give an indicator a small-number threshold (the catalogue has none)."""
    with db.transaction() as session:
        definition = session.scalar(
            select(IndicatorDefinition)
            .join(Indicator, Indicator.id == IndicatorDefinition.indicator_id)
            .where(Indicator.code == code)
        )
        assert definition is not None
        definition.small_number_threshold = threshold


def test_counts_below_the_threshold_are_published_as_c(
    partnership: Partnership, tmp_path: Path
) -> None:
    coordinator = partnership.coordinator
    accept_all(coordinator)
    set_threshold(coordinator, TRAINED, 42)  # 40 in Q1 is below it, 44 in Q2 is not
    set_threshold(coordinator, REPEAT_VICTIMS, 12)  # 12 of 80 in Q1 is not, 11 in Q2 is
    result = partnership.merge(tmp_path / "c.xlsx")
    assert result.suppressed == 2
    book = openpyxl.load_workbook(result.path)
    data = {(r["Code"], r["Period"]): r for r in rows(book["Data"])}
    assert data[(TRAINED, Q1)]["Value"] == "[c]"
    assert data[(TRAINED, Q2)]["Value"] == 44
    victims = data[(REPEAT_VICTIMS, Q2)]
    assert (victims["Numerator"], victims["Denominator"], victims["Value"]) == ("[c]", 80, "[c]")
    assert victims["RAG"] is None
    assert data[(REPEAT_VICTIMS, Q1)]["Numerator"] == 12
    wide = {r["Code"]: r for r in rows(book["Wide"])}
    assert (wide[TRAINED]["2026/27 Q1"], wide[REPEAT_VICTIMS]["2026/27 Q2"]) == ("[c]", "[c]")
    summary_sheet = book["Summary"]
    summary = {r["Code"]: r for r in rows(summary_sheet, header_row_of(summary_sheet))}
    assert summary[REPEAT_VICTIMS]["Value"] == "[c]"
    assert summary[REPEAT_VICTIMS]["vs previous period"] is None  # would give the count away
    assert "[c]" in summary[REPEAT_VICTIMS]["Note"]
    assert summary[TRAINED]["vs previous period"] is None  # compared with a suppressed figure
    definitions = {r["Code"]: r for r in rows(book["Definitions"])}
    assert definitions[TRAINED]["Small-number threshold"] == 42


def test_the_same_returns_always_give_the_same_workbook(
    partnership: Partnership, tmp_path: Path
) -> None:
    accept_all(partnership.coordinator)
    first = partnership.merge(tmp_path / "one.xlsx")
    second = partnership.merge(tmp_path / "two.xlsx", today=date(2027, 3, 1))
    one, two = (openpyxl.load_workbook(r.path) for r in (first, second))
    for name in SHEETS:
        assert [list(r) for r in one[name].iter_rows(values_only=True)] == [
            list(r) for r in two[name].iter_rows(values_only=True)
        ], name
    assert one.properties.created == two.properties.created == one.properties.modified
    assert first.sha256 == second.sha256 == sha(first.path)  # byte for byte


def test_the_range_chooses_the_quarters(partnership: Partnership, tmp_path: Path) -> None:
    accept_all(partnership.coordinator)
    result = partnership.merge(tmp_path / "q1.xlsx", first=YEAR_AGO, last=Q1)
    book = openpyxl.load_workbook(result.path)
    periods = {r["Period"] for r in rows(book["Data"])}
    assert periods == {YEAR_AGO, Q1}
    headings = [c.value for c in book["Wide"][1]]
    assert headings[4:] == ["2025/26 Q2", "2025/26 Q3", "2025/26 Q4", "2026/27 Q1"]


def test_the_file_is_written_whole_or_not_at_all(
    partnership: Partnership, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "board.xlsx"
    out.write_bytes(b"the previous workbook")
    with pytest.raises(MergeCancelled):
        partnership.merge(out, cancelled=lambda: True)
    import skp_desktop.excel.return_layout as writer  # where the workbook is synced to disk

    def broken(*_args: Any) -> bytes:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writer.os, "fsync", broken)
    with pytest.raises(StoreUnavailable, match=r"the disk is full\. Free some space"):
        partnership.merge(out)
    assert out.read_bytes() == b"the previous workbook"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    with pytest.raises(NotFoundError, match="does not exist"):
        partnership.merge(tmp_path / "missing" / "board.xlsx")
    with pytest.raises(NotFoundError, match=r"must end in \.xlsx"):
        partnership.merge(tmp_path / "board.csv")


def test_the_summary_ends_with_the_comparators_for_each_latest_period(
    partnership: Partnership, tmp_path: Path
) -> None:
    from skp_desktop.services.comparators import ComparatorChange, set_comparators

    coordinator = partnership.coordinator
    accept_all(coordinator)
    set_comparators(
        coordinator,
        CAT1,
        [
            ComparatorChange("London", Q1, "95.5"),  # not the latest period: not in the Summary
            ComparatorChange("London", Q2, "97.25"),
            ComparatorChange("England", Q2, "93"),
        ],
        "coordinator",
    )
    set_comparators(
        coordinator, TRAINED, [ComparatorChange("Statistical neighbours", Q2, "38")], "c"
    )
    book = openpyxl.load_workbook(partnership.merge(tmp_path / "compared.xlsx").path)
    sheet = book["Summary"]
    header = header_row_of(sheet)
    headings = [c.value for c in sheet[header]]
    assert headings[: len(headings) - 3][-1] == "Note"  # the columns of before, then the new
    assert headings[-3:] == ["London", "England", "Statistical neighbours"]
    (table,) = sheet.tables.values()
    assert table.ref.split(":")[1].startswith("N")  # the Table takes the new columns in
    summary = {r["Code"]: r for r in rows(sheet, header)}
    cat1 = summary[CAT1]
    assert (cat1["Value"], cat1["London"], cat1["England"]) == (100, 97.25, 93)
    assert cat1["Statistical neighbours"] is None
    assert (summary[TRAINED]["London"], summary[TRAINED]["Statistical neighbours"]) == (None, 38)
    # No accepted figure: no latest period, so nothing to compare.
    assert summary["SAFER-P1-S1"]["London"] is None
    (row,) = [r for r in sheet.iter_rows(min_row=header + 1) if r[0].value == CAT1]
    assert row[11].number_format == "#,##0.00" and row[12].number_format == "#,##0.0"
    assert any("London and England" in (c.value or "") for c in sheet["A"][:header])
    assert audit.verify(coordinator).ok


def test_without_comparators_the_summary_has_empty_london_and_england_columns(
    partnership: Partnership, tmp_path: Path
) -> None:
    accept_all(partnership.coordinator)
    sheet = openpyxl.load_workbook(partnership.merge(tmp_path / "plain.xlsx").path)["Summary"]
    header = header_row_of(sheet)
    assert [c.value for c in sheet[header]][-2:] == ["London", "England"]
    assert all(r["London"] is None and r["England"] is None for r in rows(sheet, header))


def test_context_measures_have_their_own_rows_marked_as_context(
    partnership: Partnership, tmp_path: Path
) -> None:
    from skp_desktop.services.partnership import set_context_figure

    coordinator = partnership.coordinator
    accept_all(coordinator)
    set_context_figure(
        coordinator, code="CTX-ASB", period="FY2025-26-Q4", value="18.4", actor="c", source="MPS"
    )
    merged = partnership.merge(tmp_path / "context.xlsx", first="FY2025-26-Q4")
    book = openpyxl.load_workbook(merged.path)
    summary_sheet = book["Summary"]
    summary = rows(summary_sheet, header_row_of(summary_sheet))
    codes = [r["Code"] for r in summary]
    assert codes[-3:] == ["CTX-VSO", "CTX-ASB", "CTX-NOT-BELIEVED"]  # after the indicators
    by_code = {r["Code"]: r for r in summary}
    asb, vso = by_code["CTX-ASB"], by_code["CTX-VSO"]
    assert asb["Service"] == vso["Service"] == "Context measure (no return)"
    assert asb["Value"] == 18.4 and "baseline 19.3" in asb["Note"] and "MPS" in asb["Note"]
    assert vso["Value"] == 20.2 and "the baseline" in vso["Note"]  # nothing later recorded
    wide_sheet = book["Wide"]
    wide = {r["Code"]: r for r in rows(wide_sheet, header_row_of(wide_sheet))}
    assert 18.4 in wide["CTX-ASB"].values()
    assert wide["CTX-ASB"]["Service"] == "Context measure (no return)"
    definitions_sheet = book["Definitions"]
    definitions = rows(definitions_sheet, header_row_of(definitions_sheet))
    assert [r["Code"] for r in definitions][-3:] == codes[-3:]
