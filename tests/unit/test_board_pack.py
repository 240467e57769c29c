"""The board pack: the pages it plans, the text on its figures, and the PDF it writes."""

from __future__ import annotations

import itertools
import re
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from matplotlib.figure import Figure
from matplotlib.path import Path as DrawnPath
from matplotlib.text import Text

from skp_desktop.charts.board_pack import (
    HEIGHT,
    MARGIN,
    MAX_CONTINUED_PAGES,
    PACK_TITLE,
    WIDTH,
    BoardPack,
    PackIndicator,
    TextMeasure,
    board_pack_figures,
    plan_pages,
    write_board_pack,
)
from skp_desktop.charts.dashboard import dashboard_figure
from skp_desktop.charts.series import DashboardTile, TrendPoint, TrendSeries
from skp_desktop.domain.definitions import Polarity, Unit
from skp_desktop.domain.errors import NotFoundError
from skp_desktop.domain.periods import Period, parse_period
from skp_desktop.domain.rag import Rag
from skp_desktop.services.board_pack import board_pack, export_board_pack
from skp_desktop.services.database import Database
from skp_desktop.services.entries import EntryChange
from skp_desktop.services.returns import record_entries, submit_return

D = Decimal
PERIOD = parse_period("FY2026-27-Q1")
MADE = date(2026, 7, 14)
PDF_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


def quarters(count: int, last: Period = PERIOD) -> list[Period]:
    periods = [last]
    while len(periods) < count:
        periods.insert(0, periods[0].previous())
    return periods


def indicator(
    code: str,
    values: list[str | None],
    *,
    commentary: str | None = "Repairs kept pace with reports.",
    explanation: str | None = None,
    rags: list[Rag | None] | None = None,
    target: str | None = None,
    due: bool = True,
    frequency: str = "quarterly",
    last: Period = PERIOD,
) -> PackIndicator:
    """A pack indicator whose series ends at `last` (quarterly), values as texts."""
    periods = quarters(len(values), last)
    rags = rags or [None] * len(values)
    points = tuple(
        TrendPoint(p, None if v is None else D(v), rag=None if v is None else r)
        for p, v, r in zip(periods, values, rags, strict=True)
    )
    series = TrendSeries(
        code=code,
        title=f"Share of {code} repairs done on time",
        unit=Unit.PERCENT,
        polarity=Polarity.HIGHER_IS_BETTER,
        decimals=1,
        points=points,
        targets=((periods[0], D(target)),) if target else (),
    )
    return PackIndicator(
        tile=DashboardTile(series, direction_label="↑ improving"),
        theme_name="Taking care of our borough",
        service_name="Highways",
        frequency=frequency,
        due=due,
        definition=f"Of the {code} defects due in the quarter, the share repaired in time.",
        source=f"{code}: 100% of defects repaired on time",
        source_document="The Council Plan",
        commentary=commentary,
        explanation=explanation,
        return_note="from the Highways return for 2026/27 Q1, revision 1, submitted",
    )


def pack(*items: PackIndicator) -> BoardPack:
    return BoardPack(period=PERIOD, scope="Every indicator", made=MADE, indicators=items)


def texts(fig: Figure, gid: str | None = None) -> list[str]:
    found = [t for t in fig.findobj(Text) if t.get_text()]
    return [t.get_text() for t in found if gid is None or t.get_gid() == gid]


def joined(fig: Figure, gid: str) -> str:
    return " ".join(texts(fig, gid))


CAT1 = indicator(
    "CAT1",
    ["90.0", "96.0", "99.5"],
    rags=[Rag.RED, Rag.AMBER, Rag.AMBER],
    target="100",
    commentary="Two crews were off sick in May; the backlog was cleared in June.",
    explanation="The fall in April was a one-off.",
)
ROADS = indicator(
    "ROADS",
    ["71.9", "78.3"],
    commentary=None,
    due=False,
    frequency="annual",
    last=parse_period("FY2025-26-Q4"),
)


@pytest.fixture(scope="module")
def two_indicator_pages() -> list[Figure]:
    return list(board_pack_figures(pack(CAT1, ROADS)))


def test_the_pack_is_a_cover_the_dashboard_and_a_page_per_indicator(two_indicator_pages) -> None:
    pages = two_indicator_pages
    assert len(pages) == 1 + 1 + 2
    assert [texts(p, "page-number") for p in pages] == [[f"Page {n} of 4"] for n in range(1, 5)]
    assert all(tuple(p.get_size_inches()) == (WIDTH, HEIGHT) for p in pages)  # A4 landscape
    assert "Dashboard · 2026/27 Q1 (Apr–Jun 2026)" in texts(pages[1], "page-title")
    assert {ax.get_gid() for ax in pages[1].findobj(lambda a: hasattr(a, "get_gid"))} >= {
        "tile:CAT1",
        "tile:ROADS",
    }


def test_the_cover_names_the_period_and_says_how_to_read_the_pack(two_indicator_pages) -> None:
    cover = two_indicator_pages[0]
    assert texts(cover, "cover-title") == [PACK_TITLE]
    assert texts(cover, "cover-period") == ["2026/27 Q1 (Apr–Jun 2026)"]
    assert "made 14 July 2026" in joined(cover, "cover-scope")
    key = joined(cover, "key")
    for words in (
        "● Green: the target is met",
        "▲ Amber: short of the target",
        "■ Red:",
        "Not rated",
        "↓ improving",
        "[x] not available",
    ):
        assert words in key
    # Contents: each indicator with the page it starts on, and its RAG word for the period.
    assert texts(cover, "contents-code") == ["Dashboard", "CAT1", "ROADS"]
    assert texts(cover, "contents-page") == ["2", "3", "4"]
    assert texts(cover, "contents-rag") == ["▲ Amber"]
    assert "Amber 1" in texts(cover, "glance:Amber")


def test_an_indicator_page_has_its_chart_table_definition_and_words(two_indicator_pages) -> None:
    page = two_indicator_pages[2]
    assert joined(page, "page-title") == "CAT1 Share of CAT1 repairs done on time"
    headline = texts(page, "headline")
    assert headline[:3] == ["2026/27 Q1: 99.5%", "▲ Amber", "↑ improving since 2025/26 Q4"]
    assert "target 100.0%" in headline
    # The table: a row per period with value, target, RAG word and direction of travel.
    assert texts(page, "table-header") == ["Period", "Value", "Target", "RAG", "Direction"]
    assert texts(page, "table") == [
        "2025/26 Q3", "90.0", "100.0", "■ Red", "—",
        "2025/26 Q4", "96.0", "100.0", "▲ Amber", "↑ improving",
    ]  # fmt: skip
    assert texts(page, "table-current") == ["2026/27 Q1", "99.5", "100.0", "▲ Amber", "↑ improving"]
    assert "Of the CAT1 defects due in the quarter" in joined(page, "definition")
    assert joined(page, "source") == "“CAT1: 100% of defects repaired on time”"
    assert joined(page, "commentary") == CAT1.commentary
    assert joined(page, "explanation") == "The fall in April was a one-off."
    assert "revision 1, submitted" in joined(page, "commentary-heading")
    trend = [a for a in page.findobj(lambda a: getattr(a, "get_gid", lambda: None)() == "values")]
    assert list(trend[0].get_ydata()) == [90.0, 96.0, 99.5]


def _trend_axes(page: Figure, code: str):  # type: ignore[no-untyped-def]
    (ax,) = page.findobj(lambda a: getattr(a, "get_gid", lambda: None)() == f"trend:{code}")
    return ax


def test_a_100_per_cent_target_is_drawn_inside_the_chart_and_named(two_indicator_pages) -> None:
    # On paper a target on the plot's top edge read as the frame of the chart.
    page = two_indicator_pages[2]
    page.canvas.draw()
    ax = _trend_axes(page, "CAT1")
    top = ax.get_window_extent().y1
    line_y = ax.transData.transform((0, 100))[1]
    assert (top - line_y) * 72 / page.dpi >= 6
    assert texts(page, "target-label") == [" Target "]


def test_the_latest_value_label_on_a_page_hides_no_line_and_stays_in_the_chart() -> None:
    # SAFER-P3-B1: "722.7 per 10,000" covered the last segment and ran past the plot's edge.
    crime = ["714.2", "757.8", "742.3", "787.2", "737.6", "731.4", "763.0", "733.9", "722.7"]
    item = indicator("CRIME", crime)
    series = replace(
        item.series,
        unit=Unit.RATE_PER_10000,
        polarity=Polarity.LOWER_IS_BETTER,
        baseline=D("751.0"),
        baseline_label="Baseline (Council Plan)",
    )
    item = replace(item, tile=DashboardTile(series))
    page = list(board_pack_figures(pack(item)))[2]
    page.canvas.draw()
    ax = _trend_axes(page, "CRIME")
    (label,) = [t for t in page.findobj(Text) if t.get_gid() == "latest-label"]
    assert label.get_text() == "722.7 per 10,000"
    box, plot = label.get_window_extent(), ax.get_window_extent()
    assert plot.x0 <= box.x0 and box.x1 <= plot.x1 and plot.y0 <= box.y0 and box.y1 <= plot.y1
    values = next(line for line in ax.get_lines() if line.get_gid() == "values")
    shown = ax.transData.transform(values.get_xydata())
    for a, b in itertools.pairwise(shown):
        assert not DrawnPath([a, b]).intersects_bbox(box), f"the label covers {a}–{b}"


def test_an_annual_indicator_says_when_its_next_figure_comes(two_indicator_pages) -> None:
    page = two_indicator_pages[3]
    headline = texts(page, "headline")
    assert headline[0] == "Latest figure, 2025/26 Q4: 78.3%"
    assert "annual indicator: next figure with the 2026/27 Q4 return" in headline
    assert texts(page, "commentary") == ["No commentary was entered."]
    # No target in any period: no columns of dashes for Target and RAG, a note says why.
    assert texts(page, "table-header") == ["Period", "Value", "Direction"]
    assert "No RAG rating: no target is set" in texts(page, "table-note")


def test_the_table_shows_target_and_rag_columns_only_where_some_period_has_them() -> None:
    # A target set from the second period: the first row is not rated and says so with a dash.
    late = indicator("LATE", ["80.0", "90.0", "99.0"], rags=[None, Rag.RED, Rag.GREEN])
    late = replace(
        late,
        tile=DashboardTile(
            replace(late.series, targets=((late.series.points[1].period, D("95")),))
        ),
    )
    # Neither higher nor lower is better: a target, but never a rating.
    level = indicator("LEVEL", ["5.0", "6.0"], target="5")
    level = replace(level, tile=DashboardTile(replace(level.series, polarity=Polarity.NEUTRAL)))
    pages = list(board_pack_figures(pack(late, level)))
    late_page, level_page = pages[2], pages[3]
    assert texts(late_page, "table-header") == ["Period", "Value", "Target", "RAG", "Direction"]
    assert texts(late_page, "table")[:4] == ["2025/26 Q3", "80.0", "—", "—"]
    assert "RAG —: not rated, no target is set" in texts(late_page, "table-note")
    assert texts(level_page, "table-header") == ["Period", "Value", "Target", "Direction"]
    assert texts(level_page, "table-current")[:3] == ["2026/27 Q1", "6.0", "5.0"]
    assert "No RAG rating: neither higher nor lower is better" in texts(level_page, "table-note")


def test_the_pdf_has_a_page_per_planned_page_and_is_replaced_whole(tmp_path: Path) -> None:
    out = tmp_path / "pack.pdf"
    out.write_bytes(b"an older pack")
    assert write_board_pack(pack(CAT1), out) == 3
    data = out.read_bytes()
    assert data.startswith(b"%PDF")
    assert len(PDF_PAGE.findall(data)) == 3
    assert data.rstrip().endswith(b"%%EOF")
    assert [p.name for p in tmp_path.iterdir()] == ["pack.pdf"]  # no temporary file left
    with pytest.raises(ValueError, match=r"\.pdf"):
        write_board_pack(pack(CAT1), tmp_path / "pack.png")


def test_thirteen_indicators_take_two_dashboard_pages() -> None:
    items = [indicator(f"I{n}", ["50.0", "60.0"]) for n in range(13)]
    plan = plan_pages(pack(*items))
    assert [p.kind for p in plan].count("dashboard") == 2
    assert len(plan) == 1 + 2 + 13


def _lines(fig: Figure, gid: str) -> list[Text]:
    return [t for t in fig.findobj(Text) if t.get_gid() == gid and t.get_text()]


def _inside_the_page(fig: Figure) -> None:
    """Every piece of text lies on the page, inside the side margins."""
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    for text in fig.findobj(Text):
        if not text.get_text() or not text.get_visible():
            continue
        box = text.get_window_extent(renderer)
        left, right = box.x0 / fig.dpi, box.x1 / fig.dpi
        bottom, top = box.y0 / fig.dpi, box.y1 / fig.dpi
        assert left >= MARGIN - 0.15 and right <= WIDTH - MARGIN + 0.15, text.get_text()[:40]
        assert bottom >= 0 and top <= HEIGHT, text.get_text()[:40]


LONG = " ".join(
    f"Sentence {n}: repairs on the A307 cost $1,200 and took {n} days (see the contractor's note)."
    for n in range(70)
)[:5000]


def test_a_5000_character_commentary_continues_on_a_second_page() -> None:
    assert len(LONG) == 5000
    item = indicator("CAT1", ["90.0", "96.0"], commentary=LONG, explanation="Flooding.")
    pages = list(board_pack_figures(pack(item)))
    assert len(pages) == 1 + 1 + 2
    first, second = pages[2], pages[3]
    assert texts(first, "continues") == ["The commentary continues on the next page."]
    assert texts(second, "page-title") == [
        "CAT1 Share of CAT1 repairs done on time — continued (2 of 2)"
    ]
    # Nothing is lost or reordered between the pages, and "$" is drawn as typed.
    assert " ".join([joined(first, "commentary"), joined(second, "commentary")]) == LONG
    assert joined(second, "explanation") == "Flooding."
    for page in (first, second):
        page.canvas.draw()
        _inside_the_page(page)
        assert all(not t.get_parse_math() for t in _lines(page, "commentary"))
        lowest = min(t.get_window_extent().y0 for t in _lines(page, "commentary")) / page.dpi
        assert lowest > 0.5  # above the footer


def test_a_commentary_longer_than_the_pack_allows_is_cut_with_a_note() -> None:
    endless = "word " * 20_000
    item = indicator("CAT1", ["90.0"], commentary=endless)
    plan = plan_pages(pack(item))
    assert len(plan) == 1 + 1 + 1 + MAX_CONTINUED_PAGES
    note = " ".join(line.text for line in plan[-1].lines if line.gid == "cut-note")
    assert note.startswith("[Cut here: about ") and "more characters did not fit" in note
    assert "The full text is in the return (from the Highways return" in note


def test_a_word_wider_than_the_page_is_split_and_paragraphs_are_kept() -> None:
    measure = TextMeasure()
    url = "https://example.org/" + "x" * 400
    lines = measure.wrap(f"First paragraph.\n\n\n{url} end\r\nthird\x07line", 5.0, 9.5)
    assert lines[0] == "First paragraph." and lines[1] == ""
    assert "".join(lines[2:-2]) + lines[-2].removesuffix(" end") == url
    assert lines[-1] == "third line"
    assert all(measure(line, 9.5) <= 5.0 for line in lines)


def test_a_dashboard_page_keeps_its_tiles_inside_the_margins() -> None:
    tiles = [DashboardTile(indicator(f"I{n}", ["1.0", "2.0"]).series) for n in range(5)]
    fig = dashboard_figure(
        tiles, columns=4, rows=3, size=(WIDTH, HEIGHT), margins=(1, 0.4, 0.6, 0.4)
    )
    assert len(fig.subfigs) == 12  # three rows of four, whatever the number of tiles
    fig.canvas.draw()
    for ax in fig.findobj(
        lambda a: (getattr(a, "get_gid", lambda: "")() or "").startswith("tile:")
    ):
        box = ax.get_window_extent()  # type: ignore[attr-defined]
        assert box.x0 / fig.dpi >= 0.4 and box.x1 / fig.dpi <= WIDTH - 0.4
        assert box.y1 / fig.dpi <= HEIGHT - 1
    key = fig.legends[0].get_window_extent()
    assert key.y0 / fig.dpi >= 0.6 - 0.01


def _tile_boxes(fig: Figure) -> list[tuple[float, float, float, float]]:
    """Each tile's plot as (left, bottom, right, top) in inches."""
    boxes = []
    for ax in fig.findobj(
        lambda a: (getattr(a, "get_gid", lambda: "")() or "").startswith("tile:")
    ):
        box = ax.get_window_extent()  # type: ignore[attr-defined]
        boxes.append((box.x0 / fig.dpi, box.y0 / fig.dpi, box.x1 / fig.dpi, box.y1 / fig.dpi))
    return boxes


def test_a_pack_of_two_indicators_has_readable_tiles_with_the_key_under_them() -> None:
    # HIGHWAYS has two indicators: their tiles were 0.9 in plots in a page-wide grid of four
    # columns, with the key centred on the page rather than under them.
    page = list(board_pack_figures(pack(CAT1, ROADS)))[1]
    page.canvas.draw()
    tiles = _tile_boxes(page)
    assert len(tiles) == 2
    for left, bottom, right, top in tiles:
        assert top - bottom >= 1.5  # a plot that can be read
        assert top - bottom <= 3.0 and right - left <= 4.2  # not stretched to fill the page
    grid_left = min(t[0] for t in tiles)
    grid_right = max(t[2] for t in tiles)
    grid_bottom = min(t[1] for t in tiles)
    key = page.legends[0].get_window_extent()
    key_left, key_right = key.x0 / page.dpi, key.x1 / page.dpi
    assert abs((key_left + key_right) / 2 - (grid_left + grid_right) / 2) < 0.4
    assert key.y1 / page.dpi < grid_bottom and grid_bottom - key.y1 / page.dpi < 0.6
    _inside_the_page(page)


def test_a_full_dashboard_page_keeps_twelve_tiles_of_one_size() -> None:
    items = [indicator(f"I{n}", ["50.0", "60.0"]) for n in range(13)]
    pages = list(board_pack_figures(pack(*items)))
    sizes = set()
    for page in pages[1:3]:
        page.canvas.draw()
        for cell in page.subfigs:
            box = cell.bbox
            sizes.add((round(box.width / page.dpi, 1), round(box.height / page.dpi, 1)))
    assert len(sizes) == 1  # the second page's one tile is as big as the first page's twelve
    # The lone tile on the second page has the key under it, starting at its left edge.
    lone = pages[2]
    (tile,) = _tile_boxes(lone)
    key = lone.legends[0].get_window_extent()
    assert key.x0 / lone.dpi < tile[2] and key.x1 / lone.dpi > tile[0]
    assert key.x0 / lone.dpi >= MARGIN - 0.15
    assert key.y1 / lone.dpi < tile[1]


# --- the service, on a real database -----------------------------------------------------


def enter(db: Database, period: str, fields: dict[str, str]) -> None:
    record_entries(
        db,
        service="HIGHWAYS",
        period=period,
        changes=[EntryChange("SAFER-P4-S1", fields)],
        actor="t",
    )


def test_the_service_reads_figures_and_words_for_the_period(db: Database) -> None:
    enter(db, "FY2024-25-Q1", {"numerator": "45", "denominator": "50"})
    enter(db, "FY2024-25-Q2", {"numerator": "49", "denominator": "50", "commentary": "Better."})
    submit_return(
        db,
        service="HIGHWAYS",
        period="FY2024-25-Q2",
        actor="t",
        explanations={"SAFER-P4-S1": "Fixed."},
    )
    made = board_pack(db, "FY2024-25-Q2", service="HIGHWAYS", made=MADE)
    assert made.scope == "Service: Highways" and made.made == MADE
    items = {item.series.code: item for item in made.indicators}
    assert set(items) == {"SAFER-P4-S1", "SAFER-P4-B1"}
    cat1 = items["SAFER-P4-S1"]
    assert [p.value for p in cat1.series.points] == [D(90), D(98)]
    assert cat1.commentary == "Better." and cat1.due
    assert cat1.return_note == "from the Highways return for 2024/25 Q2, revision 1, submitted"
    assert not items["SAFER-P4-B1"].due  # annual: asked for with Q4 only
    theme = board_pack(db, "FY2024-25-Q2", theme="safer-p4")
    assert theme.scope == "Priority: Taking care of our borough"
    assert len(theme.indicators) == 8


@pytest.mark.parametrize(
    ("period", "out", "words"),
    [
        ("FY2024-25", "pack.pdf", "made for a quarter"),
        ("nope", "pack.pdf", "'nope' is not a period"),
        ("FY2030-31-Q1", "pack.pdf", "No return has been made for 2030/31 Q1"),
        ("FY2024-25-Q1", "pack.png", "must end in .pdf"),
        ("FY2024-25-Q1", "missing/pack.pdf", "does not exist"),
    ],
)
def test_the_service_refuses_what_it_cannot_make(
    db: Database, tmp_path: Path, period: str, out: str, words: str
) -> None:
    enter(db, "FY2024-25-Q1", {"numerator": "45", "denominator": "50"})
    with pytest.raises(NotFoundError, match=re.escape(words)):
        export_board_pack(db, period, str(tmp_path / out))
    assert not (tmp_path / "pack.pdf").exists()


def test_context_measures_follow_their_themes_indicators_in_the_pack(
    db: Database, tmp_path: Path
) -> None:
    from skp_desktop.services.partnership import set_context_figure

    enter(db, "FY2024-25-Q4", {"numerator": "45", "denominator": "50"})
    set_context_figure(db, code="CTX-ASB", period="FY2024-25-Q4", value="18.9", actor="c")
    made = board_pack(db, "FY2024-25-Q4", made=MADE)
    codes = [item.series.code for item in made.indicators]
    assert {"CTX-VSO", "CTX-ASB", "CTX-NOT-BELIEVED"} <= set(codes)
    crime = codes.index("SAFER-P3-B1")  # the theme's indicator (Keeping the borough safe)
    themes = [item.theme_name for item in made.indicators]
    assert themes[crime] == themes[codes.index("CTX-ASB")]
    assert codes.index("CTX-ASB") > crime
    asb = made.indicators[codes.index("CTX-ASB")]
    assert asb.service_name == "Context measure (no return)"
    assert asb.series.title.endswith("(context measure)")
    assert [p.value for p in asb.series.points] == [D("18.9")]
    assert asb.series.baseline == D("19.3")
    vso = made.indicators[codes.index("CTX-VSO")]
    assert vso.tile.shown_latest.startswith("20.2") and "baseline" in vso.tile.shown_latest
    out = export_board_pack(db, "FY2024-25-Q4", str(tmp_path / "pack.pdf"), made=MADE)
    assert out.indicators == len(codes)
    # a service's pack has no context measures (they belong to no service)
    assert all(
        not i.series.code.startswith("CTX")
        for i in board_pack(db, "FY2024-25-Q4", service="HIGHWAYS", made=MADE).indicators
    )
