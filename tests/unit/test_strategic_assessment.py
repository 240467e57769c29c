"""The annual strategic assessment (issue 18): every indicator and context measure once, with
the figures the database holds, by duty and priority, with a data-quality section."""

from __future__ import annotations

import re
import shutil
import zlib
from collections.abc import Iterator
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import openpyxl
import pytest

from skp_desktop.domain.errors import NotFoundError
from skp_desktop.services import review
from skp_desktop.services.catalogue import list_indicators, list_themes
from skp_desktop.services.database import Database, open_database
from skp_desktop.services.definitions import Publication, publish_definitions
from skp_desktop.services.partnership import rename_service, set_context_figure
from skp_desktop.services.returns import (
    EntryChange,
    get_return,
    record_entries,
    reopen_return,
    submit_return,
)
from skp_desktop.services.setup import initialise
from skp_desktop.services.strategic_assessment import (
    AssessmentCancelled,
    strategic_assessment,
    write_assessment,
)

YEAR = "FY2025-26"
QUARTERS = [f"{YEAR}-Q{n}" for n in range(1, 5)]
MADE = date(2026, 12, 1)
CAT1 = "SAFER-P4-S1"  # Highways, quarterly percentage
TRAINED = "SAFER-P3-S2"  # Community Safety, quarterly count


@pytest.fixture(scope="module")
def demo_file(template_database: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    shutil.copyfile(template_database, path)
    db = open_database(path)
    initialise(db, actor="tester", demo=True)
    set_context_figure(db, code="CTX-ASB", period=YEAR, value="18.7", actor="c", source="MPS")
    db.dispose()
    return path


@pytest.fixture
def demo(demo_file: Path, tmp_path: Path) -> Iterator[Database]:
    copy = tmp_path / "demo.sqlite3"
    shutil.copyfile(demo_file, copy)
    db = open_database(copy)
    yield db
    db.dispose()


def test_every_indicator_and_context_measure_is_listed_once_by_duty_and_priority(
    demo: Database,
) -> None:
    assessment, series = strategic_assessment(demo, YEAR, made=MADE)
    codes = [m.code for m in assessment.measures]
    expected = {i.code for i in list_indicators(demo, include_context=True)}
    assert sorted(codes) == sorted(expected)  # once each
    assert {"CTX-VSO", "CTX-ASB", "CTX-NOT-BELIEVED", "DEMO-LFB-1"} <= set(codes)
    kinds = [s.kind for s in assessment.sections]
    assert kinds == sorted(kinds, key=lambda k: k != "statutory duty")  # duties first
    assert {s.code for s in assessment.sections} >= {code for code, _k, _n in list_themes(demo)}
    assert set(series) == set(codes)


def test_the_figures_are_those_the_database_holds(demo: Database) -> None:
    assessment, series = strategic_assessment(demo, YEAR, made=MADE)
    cat1 = next(m for m in assessment.measures if m.code == CAT1)
    held = [get_return(demo, "HIGHWAYS", q).row(CAT1).value for q in QUARTERS]
    assert [q.value for q in cat1.quarters] == held
    assert cat1.latest.value == held[-1] and cat1.latest_period == "2025/26 Q4"
    year_ago = get_return(demo, "HIGHWAYS", "FY2024-25-Q4").row(CAT1).value
    assert cat1.year_earlier.value == year_ago and cat1.change == held[-1] - year_ago
    assert cat1.target.value == D(100) and cat1.rag in {"Green", "Amber", "Red"}
    assert [label for label, _ in cat1.years] == [
        "2021/22",
        "2022/23",
        "2023/24",
        "2024/25",
        "2025/26",
    ]
    assert cat1.years[-1][1].value == held[-1] and cat1.years[0][1].value is None
    # five years of trend run to the year's end
    assert series[CAT1].points[-1].period.code == QUARTERS[-1]
    asb = next(m for m in assessment.measures if m.code == "CTX-ASB")
    assert (asb.kind, asb.latest.value, asb.baseline.value) == ("context", D("18.7"), D("19.3"))
    assert asb.quarters[-1].value == D("18.7") and asb.quarters[0].symbol == "[z]"  # annual


def test_small_numbers_are_published_as_c_and_the_quality_section_names_what_to_know(
    demo: Database,
) -> None:
    publish_definitions(
        demo,
        Publication(
            applies_from=QUARTERS[0],
            note="publish counts under 10 as [c]",
            changes={TRAINED: {"small_number_threshold": "10"}},
        ),
        actor="cora",
    )
    # Community Safety 2025/26 Q4 revised to a small count, and an [x], then accepted
    reopen_return(demo, service="COMMSAFETY", period=QUARTERS[-1], reason="recount", actor="c")
    record_entries(
        demo,
        service="COMMSAFETY",
        period=QUARTERS[-1],
        changes=[
            EntryChange(TRAINED, {"value": "4"}),
            EntryChange("SAFER-P3-S1", {"symbol": "[x]"}),
        ],
        actor="c",
    )
    view = get_return(demo, "COMMSAFETY", QUARTERS[-1])
    explanations = {r.code: "checked" for r in view.rows if r.needs_explanation}
    submit_return(
        demo, service="COMMSAFETY", period=QUARTERS[-1], actor="c", explanations=explanations
    )
    review.accept_return(demo, service="COMMSAFETY", period=QUARTERS[-1], actor="cora")
    assessment, _ = strategic_assessment(demo, YEAR, made=MADE)
    trained = next(m for m in assessment.measures if m.code == TRAINED)
    assert trained.quarters[-1].symbol == "[c]" and trained.quarters[-1].value is None
    assert trained.rag is None and trained.change is None
    assert assessment.suppressed >= 1
    revised = [n for n in assessment.quality if n.topic == "Revised after submission"]
    assert [(n.service, n.period) for n in revised] == [("Community Safety", "2025/26 Q4")]
    assert "recount" in revised[0].detail
    missing = [n for n in assessment.quality if n.topic == "Not available [x]"]
    assert [(n.service, n.detail) for n in missing] == [("Community Safety", "SAFER-P3-S1")]


def test_the_pdf_has_the_planned_pages_and_the_workbook_real_tables(
    demo: Database, tmp_path: Path
) -> None:
    from skp_desktop.charts.strategic_assessment import assessment_figures, plan_pages

    assessment, series = strategic_assessment(demo, YEAR, made=MADE)
    pdf = write_assessment(demo, year=YEAR, out=tmp_path / "sa.pdf", made=MADE)
    assert pdf.pages == len(plan_pages(assessment))
    assert pdf.measures == len(assessment.measures)
    data = (tmp_path / "sa.pdf").read_bytes()
    assert data.count(b"/Type /Page") - data.count(b"/Type /Pages") == pdf.pages
    # each page renders to an image of an A4 landscape page
    for fig in list(assessment_figures(assessment, series))[:3]:
        out = tmp_path / "page.png"
        fig.savefig(out, dpi=30)
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    book = write_assessment(demo, year=YEAR, out=tmp_path / "sa.xlsx", made=MADE)
    assert book.pages is None
    workbook = openpyxl.load_workbook(tmp_path / "sa.xlsx")
    sheet = workbook["Assessment"]
    (table,) = sheet.tables.values()
    header = int(table.ref.split(":")[0][1:])
    headings = [c.value for c in sheet[header]]
    assert headings[:4] == ["Section", "Duty or priority", "Code", "Measure"]
    assert "2025/26 Q4" in headings and "Change on the year" in headings
    rows = list(sheet.iter_rows(min_row=header + 1, values_only=True))
    assert sorted(r[2] for r in rows) == sorted(m.code for m in assessment.measures)
    cat1 = next(r for r in rows if r[2] == CAT1)
    assert isinstance(cat1[headings.index("2025/26 Q4")], (int, float))  # numbers as numbers
    assert list(workbook["Data quality"].tables) == ["QualityTable"]


def test_the_writing_reports_each_page_and_a_cancel_leaves_the_old_file(
    demo: Database, tmp_path: Path
) -> None:
    folder = tmp_path / "board"
    folder.mkdir()
    out = folder / "sa.pdf"
    out.write_bytes(b"last year's assessment")
    said: list[tuple[int, str]] = []

    def cancelled() -> bool:  # the coordinator presses Cancel once the third page is out
        return any(text == "Page 3 written" for _done, text in said)

    with pytest.raises(AssessmentCancelled, match="not saved"):
        write_assessment(
            demo,
            year=YEAR,
            out=out,
            made=MADE,
            progress=lambda done, _total, text: said.append((done, text)),
            cancelled=cancelled,
        )
    assert said[0][1].startswith("Reading five years of returns")
    assert [done for done, text in said if text.startswith("Page")] == [1, 2, 3]
    assert out.read_bytes() == b"last year's assessment"
    assert [f.name for f in folder.iterdir()] == ["sa.pdf"]  # no half-written file left


@pytest.mark.parametrize(
    ("year", "out", "words"),
    [
        ("FY2025-26-Q1", "sa.pdf", "made for a financial year"),
        ("nope", "sa.pdf", "'nope' is not a period"),
        (YEAR, "sa.png", ".pdf"),
        (YEAR, "missing/sa.pdf", "does not exist"),
    ],
)
def test_the_assessment_refuses_what_it_cannot_make(
    demo: Database, tmp_path: Path, year: str, out: str, words: str
) -> None:
    with pytest.raises(NotFoundError, match=words.replace(".", r"\.")):
        write_assessment(demo, year=year, out=tmp_path / out)
    assert not (tmp_path / "sa.pdf").exists()


def test_the_board_reads_data_quality_one_row_per_topic_and_service() -> None:
    from skp_desktop.domain.assessment import QualityNote, grouped_quality

    notes = [
        QualityNote("Late", "Highways", "2025/26 Q1", "submitted …", days_late=3),
        QualityNote("Not available [x]", "Parks", "2025/26 Q2", "SAFER-P4-S2"),
        QualityNote("Late", "Parks", "2025/26 Q1", "submitted …", days_late=1),
        QualityNote("Late", "Highways", "2025/26 Q3", "submitted …", days_late=40),
        QualityNote("Revised after submission", "Parks", "2025/26 Q1", "revision 2: typo"),
        QualityNote("Revised after submission", "Parks", "2025/26 Q4", "revision 3: recount"),
        QualityNote("Not available [x]", "Parks", "2025/26 Q3", "SAFER-P4-S2"),
    ]
    rows = [
        (g.topic, g.service, g.periods, g.detail, g.returns)
        for g in grouped_quality(notes, "2025/26")
    ]
    assert rows == [
        ("Late", "Highways", "Q1, Q3", "3 to 40 days after the due date", 2),
        ("Late", "Parks", "Q1", "1 day after the due date", 1),
        (
            "Revised after submission",
            "Parks",
            "Q1, Q4",
            "Q1: revision 2: typo; Q4: revision 3: recount",
            2,
        ),
        ("Not available [x]", "Parks", "Q2, Q3", "SAFER-P4-S2", 2),
    ]


def _page_words(fig) -> str:  # type: ignore[no-untyped-def]
    return " ".join(t.get_text().replace("\n", " ") for t in fig.texts)


def test_the_pdf_pages_say_each_thing_whole_and_once(demo: Database) -> None:
    from skp_desktop.charts.strategic_assessment import assessment_figures, plan_pages

    assessment, series = strategic_assessment(demo, YEAR, made=MADE)
    plan = plan_pages(assessment)
    pages = list(assessment_figures(assessment, series))
    # a priority's commitment is printed whole, not cut off in mid-word
    care = next(s for s in assessment.sections if s.code == "SAFER-P1")
    assert care.commitment and len(care.commitment) > 150
    first = next(
        fig for fig, p in zip(pages, plan, strict=True) if p.section == care and p.first_of_section
    )
    assert " ".join(care.commitment.split()) in " ".join(_page_words(first).split())
    # a context measure is called one once, not "Context measure (no return) · context measure"
    context_lines = [
        t.get_text() for fig in pages for t in fig.texts if "Context measure" in t.get_text()
    ]
    assert context_lines and not any("context measure ·" in t for t in context_lines)
    # a chart's dashed baseline and target line are named in a key under it
    crime_page, target_page = (
        next(
            fig for fig, p in zip(pages, plan, strict=True) if code in [m.code for m in p.measures]
        )
        for code in ("SAFER-P3-B1", CAT1)
    )
    keys = [
        [t.get_text() for t in ax.get_legend().get_texts()]
        for fig in (crime_page, target_page)
        for ax in fig.axes
        if ax.get_legend() is not None
    ]
    assert any(any(k.startswith("Baseline") for k in key) for key in keys), keys
    assert any(any(k.startswith("Target") for k in key) for key in keys), keys
    # the demo's every late return (one per service and quarter) fits one page, by service
    quality = [fig for fig, p in zip(pages, plan, strict=True) if p.kind == "quality"]
    late = assessment.quality_count("Late")
    assert late > 20 and len(quality) == 1
    words = _page_words(quality[0])
    assert "Highways" in words and "Q1, Q2, Q3, Q4" in words and f"{late} notes" in words


def test_comparators_and_a_filled_template_show_where_the_board_looks(
    template_database: Path, tmp_path: Path
) -> None:
    from exchange_support import (
        COLUMN,
        COMMSAFETY,
        PERIOD,
        REPEAT_VICTIMS,
        TRAINED,
        edit,
        import_one,
        open_copy,
        row_of,
        template,
    )

    from skp_desktop.services.comparators import set_comparator

    db = open_copy(template_database, tmp_path / "coordinator.sqlite3")
    try:
        blank = template(db, tmp_path / "out")
        cells = {
            (REPEAT_VICTIMS, "Numerator"): 9,
            (REPEAT_VICTIMS, "Denominator"): 60,
            (TRAINED, "Value"): 35,
        }
        filled = edit(
            blank,
            tmp_path / "filled.xlsx",
            {f"{COLUMN[col]}{row_of(blank, code)}": v for (code, col), v in cells.items()},
        )
        assert import_one(db, filled).status == "ACCEPTED"
        review.accept_return(db, service=COMMSAFETY, period=PERIOD, actor="cora")
        set_comparator(db, REPEAT_VICTIMS, "London", PERIOD, "17.5", "cora", source="MOPAC")
        year = PERIOD.rsplit("-", 1)[0]
        assessment, _ = strategic_assessment(db, year, made=date(2026, 12, 7))
        victims = next(m for m in assessment.measures if m.code == REPEAT_VICTIMS)
        assert victims.quarters[0].value == 15 and victims.latest_period == "2026/27 Q1"
        assert [(name, f.text) for name, f in victims.comparators] == [
            ("London", "17.5"),
            ("England", "–"),
        ]
        quality = {(n.topic, n.service, n.period): n.detail for n in assessment.quality}
        taken = quality[("Taken unsigned or modified", "Community Safety", "2026/27 Q1")]
        assert "filled template" in taken
        # filled in after the due date (31 July 2026): late
        assert ("Late", "Community Safety", "2026/27 Q1") in quality
        assert ("Not accepted", "Highways", "2026/27 Q1") in quality
        write_assessment(db, year=year, out=tmp_path / "sa.xlsx", made=date(2026, 12, 7))
        sheet = openpyxl.load_workbook(tmp_path / "sa.xlsx")["Assessment"]
        (table,) = sheet.tables.values()
        header = int(table.ref.split(":")[0][1:])
        headings = [c.value for c in sheet[header]]
        row = next(
            r
            for r in sheet.iter_rows(min_row=header + 1, values_only=True)
            if r[2] == REPEAT_VICTIMS
        )
        assert row[headings.index("London")] == 17.5
    finally:
        db.dispose()


def test_a_measure_with_many_comparators_stays_above_the_next_one(demo: Database) -> None:
    from matplotlib.lines import Line2D

    from skp_desktop.charts.strategic_assessment import assessment_figures, plan_pages
    from skp_desktop.services.comparators import set_comparator

    crime = "SAFER-P3-B1"  # the first of its page: the measure below is drawn under a rule
    for series in ("London", "England", "Family group", "Inner London", "Met average", "Surrey"):
        set_comparator(demo, crime, series, QUARTERS[-1], "801.5", "cora")
    assessment, series_of = strategic_assessment(demo, YEAR, made=MADE)
    measure = next(m for m in assessment.measures if m.code == crime)
    assert len([f for _, f in measure.comparators if f.value is not None]) == 6
    plan = plan_pages(assessment)
    number = next(n for n, p in enumerate(plan) if p.measures and p.measures[0].code == crime)
    page = list(assessment_figures(assessment, series_of))[number]
    (rule,) = [a for a in page.artists if isinstance(a, Line2D)]
    rule_y = rule.get_ydata()[0]  # in figure fractions, from the bottom
    renderer = page.canvas.get_renderer()  # type: ignore[attr-defined]
    height = page.bbox.height
    above = [t for t in page.texts if t.get_position()[1] > rule_y]
    words = " ".join(t.get_text() for t in above)
    assert "Surrey" in words and "Year ends" in words
    for text in above:
        bottom = text.get_window_extent(renderer).y0 / height
        assert bottom > rule_y, f"{text.get_text()[:40]!r} runs into the measure below"


def _pdf_streams(path: Path) -> bytes:
    """Every stream of a PDF written by matplotlib, uncompressed, one after the other."""
    data = path.read_bytes()
    found = []
    for match in re.finditer(rb"(?<!end)stream\r?\n", data):
        start = match.end()
        end = data.index(b"endstream", start)
        try:
            found.append(zlib.decompress(data[start:end]))
        except zlib.error:
            found.append(data[start:end])
    return b"\n".join(found)


def test_the_pdf_writes_its_words_in_the_readers_own_helvetica_and_keeps_every_shape(
    demo: Database, tmp_path: Path
) -> None:
    # A PDF reader has Helvetica: words in it are written whole, not glyph by glyph.
    rename_service(demo, code="HIGHWAYS", name="Highways and Łódź twinning", actor="tester")
    write_assessment(demo, year=YEAR, out=tmp_path / "sa.pdf", made=MADE)
    data = (tmp_path / "sa.pdf").read_bytes()
    streams = _pdf_streams(tmp_path / "sa.pdf")
    assert b"/BaseFont /Helvetica" in data and b"/BaseFont /Helvetica-Bold" in data
    assert b"(Change on the year)" in streams and b"(Data quality at a glance)" in streams
    # What Windows-1252 lacks keeps DejaVu Sans, embedded with a map back to the characters:
    # the RAG shapes, the arrows, and a service's name in another script, whole.
    assert b"DejaVuSans" in data
    to_unicode = streams.lower()
    for character in "●▲■↑Łź":
        assert f"<{ord(character):04x}>".encode() in to_unicode, character
    assert b"(Highways and " not in streams  # that line is not split between two fonts


def test_without_the_standard_fonts_the_pdf_is_written_all_in_dejavu(
    demo: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import matplotlib

    from skp_desktop.charts import strategic_assessment as pages

    # as where matplotlib's font cache does not list its pdfcorefonts folder
    real = pages.findfont

    def no_standard_fonts(*args: object, **kwargs: object) -> str:
        if kwargs.get("fontext") == "afm":
            raise ValueError("Failed to find font Helvetica")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pages, "findfont", no_standard_fonts)
    written = write_assessment(demo, year=YEAR, out=tmp_path / "sa.pdf", made=MADE)
    data = (tmp_path / "sa.pdf").read_bytes()
    assert written.pages and b"/BaseFont /Helvetica" not in data
    assert b"(Change on the year)" not in _pdf_streams(tmp_path / "sa.pdf")
    assert matplotlib.rcParams["pdf.use14corefonts"] is False  # nothing left switched on


def test_no_other_pdf_is_drawn_while_the_assessment_has_the_standard_fonts_on(
    demo: Database, tmp_path: Path
) -> None:
    # matplotlib's switch is global: a board pack drawn meanwhile in another thread would lose
    # its RAG shapes. Each page written, another thread tries to start a PDF of its own.
    import threading

    import matplotlib

    from skp_desktop.charts.export import PDF_DRAWING

    seen: list[tuple[bool, bool]] = []

    def another_thread_tries() -> None:
        got = PDF_DRAWING.acquire(blocking=False)
        if got:
            PDF_DRAWING.release()
        seen.append((got, matplotlib.rcParams["pdf.use14corefonts"]))

    def after_page(_done: int, _total: int, _text: str) -> None:
        thread = threading.Thread(target=another_thread_tries)
        thread.start()
        thread.join()

    write_assessment(demo, year=YEAR, out=tmp_path / "sa.pdf", made=MADE, progress=after_page)
    during = [got for got, _on in seen[2:]]  # after the reading, while pages are written
    assert during and not any(during)
    assert any(on for _got, on in seen)  # the fonts were on then
    another_thread_tries()
    assert seen[-1] == (True, False)  # and both are given back at the end
