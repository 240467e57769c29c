"""The board pack: one A4 landscape PDF with a cover, the dashboard and a page per indicator.

Every page is a plain `Figure` laid out by hand in inches (no layout engine), so that the
length of a commentary is known before anything is drawn: a long one continues on pages of
its own, and the page numbers in the footers and the contents are right.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Literal, cast

from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure, SubFigure
from matplotlib.font_manager import FontProperties
from matplotlib.gridspec import GridSpec
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.text import Text

from skp_desktop.charts.dashboard import dashboard_figure
from skp_desktop.charts.export import PDF_DRAWING, atomic_output
from skp_desktop.charts.series import DashboardTile, TrendPoint, TrendSeries
from skp_desktop.charts.styling import SMALL_FONTS, agg_renderer
from skp_desktop.charts.theme import (
    NEUTRAL_MARKER,
    NEUTRAL_SHAPE,
    RAG_MARKERS,
    REVISED_SHAPE,
    ChartTheme,
    get_theme,
)
from skp_desktop.charts.trend import (
    LegendEntries,
    draw_trend,
    period_labels,
    polarity_text,
    unit_axis_label,
)
from skp_desktop.domain.definitions import Polarity
from skp_desktop.domain.periods import Period, PeriodKind
from skp_desktop.domain.rag import Rag, direction_label
from skp_desktop.domain.values import Symbol, format_number

PACK_TITLE = "Safer Kingston Partnership — performance board pack"
PAGE_SIZE = (297 / 25.4, 210 / 25.4)  # A4 landscape, inches
WIDTH, HEIGHT = PAGE_SIZE
MARGIN = 0.5
FOOTER_Y = 0.3  # baseline of the footer
FLOW_BOTTOM = 0.62  # running text stops above the footer's rule
TILE_COLUMNS, TILE_ROWS = 4, 3
TILES_PER_PAGE = TILE_COLUMNS * TILE_ROWS
KEY_ESTIMATE = 0.45  # inches the dashboard's key takes, for tiles of one size on every page
MAX_TILE = (4.2, 3.2)  # inches: the largest tile a pack with only a few indicators gets
TABLE_PERIODS = 9  # the period and the two years before it, for quarterly indicators
CHART_WIDTH = 6.7
UPPER_HEIGHT = 3.75  # the chart, and the table beside it
MAX_CONTINUED_PAGES = 3  # a commentary longer than this is cut, saying so
LINE_SPACING = 1.32

# Font sizes in points.
TITLE_SIZE, CONTEXT_SIZE, HEADLINE_SIZE = 15.0, 9.5, 12.0
HEADING_SIZE, BODY_SIZE, NOTE_SIZE, TABLE_SIZE, FOOTER_SIZE = 10.0, 9.5, 8.5, 8.5, 8.0

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class PackIndicator:
    """One indicator's page: its trend up to the period, what it is, and what was said of it."""

    tile: DashboardTile  # the series runs up to the pack's period
    theme_name: str
    service_name: str
    frequency: str  # "quarterly", "annual" or "monthly"
    due: bool  # whether the period's return asks for it (annual ones come with Q4)
    definition: str | None = None
    source: str | None = None
    source_document: str | None = None
    commentary: str | None = None
    explanation: str | None = None
    return_note: str = ""  # which return the words come from, e.g. "Highways, revision 1, …"

    @property
    def series(self) -> TrendSeries:
        return self.tile.series


@dataclass(frozen=True)
class BoardPack:
    """Everything a board pack shows, read from the database in one go."""

    period: Period
    scope: str  # "Every indicator", "Service: Highways", "Priority: Keeping the borough safe"
    made: date
    indicators: tuple[PackIndicator, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class TextLine:
    """A line of running text: a heading, body text, a quotation or a muted note."""

    text: str
    kind: str  # "heading" | "body" | "quote" | "note" | "space"
    gid: str = ""

    @property
    def height(self) -> float:
        return _STYLES[self.kind][0] * LINE_SPACING / 72


# kind -> (size, weight, style, muted)
_STYLES: dict[str, tuple[float, str, str, bool]] = {
    "heading": (HEADING_SIZE, "bold", "normal", False),
    "body": (BODY_SIZE, "normal", "normal", False),
    "quote": (BODY_SIZE, "normal", "italic", False),
    "note": (NOTE_SIZE, "normal", "italic", True),
    "space": (BODY_SIZE * 0.5, "normal", "normal", False),
    "guide": (CONTEXT_SIZE, "normal", "normal", True),
}


@dataclass(frozen=True)
class PlannedPage:
    """One page of the plan: what it shows, with the running text that falls on it."""

    kind: str  # "cover" | "dashboard" | "indicator" | "continued"
    index: int = 0  # which dashboard page, or which indicator
    lines: tuple[TextLine, ...] = ()
    part: int = 0  # for "continued": 2 for the second page of an indicator, and so on
    parts: int = 1  # how many pages the indicator takes


FontStyle = Literal["normal", "italic", "oblique"]


class TextMeasure:
    """Text widths in inches, from an Agg renderer, remembered for this pack."""

    def __init__(self) -> None:
        self._figure = Figure(figsize=PAGE_SIZE)
        self._renderer = FigureCanvasAgg(self._figure).get_renderer()
        self._widths: dict[tuple[str, float, str, str], float] = {}

    def __call__(
        self, text: str, size: float, weight: str = "normal", style: FontStyle = "normal"
    ) -> float:
        key = (text, size, weight, style)
        width = self._widths.get(key)
        if width is None:
            properties = FontProperties(size=size, weight=weight, style=style)
            pixels, _, _ = self._renderer.get_text_width_height_descent(
                text, properties, ismath=False
            )
            width = pixels / self._figure.dpi
            self._widths[key] = width
        return width

    def wrap(
        self,
        text: str,
        width: float,
        size: float,
        weight: str = "normal",
        style: FontStyle = "normal",
    ) -> list[str]:
        """`text` in lines no wider than `width` inches; paragraphs kept, long words split."""
        space = self(" ", size, weight, style)
        lines: list[str] = []
        for paragraph in _paragraphs(text):
            if not paragraph:
                lines.append("")
                continue
            line, used = "", 0.0
            for word in paragraph.split(" "):
                for piece in self._pieces(word, width, size, weight, style):
                    wide = self(piece, size, weight, style)
                    if line and used + space + wide <= width:
                        line, used = f"{line} {piece}", used + space + wide
                    else:
                        if line:
                            lines.append(line)
                        line, used = piece, wide
            lines.append(line)
        return lines

    def _pieces(
        self, word: str, width: float, size: float, weight: str, style: FontStyle
    ) -> list[str]:
        """A word that is wider than a line, cut into pieces that fit (a long web address)."""
        if not word or self(word, size, weight, style) <= width:
            return [word] if word else []
        pieces, rest = [], word
        while rest:
            count = max(1, int(len(rest) * width / self(rest, size, weight, style) * 0.95))
            while count > 1 and self(rest[:count], size, weight, style) > width:
                count -= 1
            pieces.append(rest[:count])
            rest = rest[count:]
        return pieces

    def fit(self, text: str, width: float, size: float, weight: str = "normal") -> str:
        """`text` on one line, cut with "…" when it is wider than `width` inches."""
        if self(text, size, weight) <= width:
            return text
        words = text.split(" ")
        while len(words) > 1 and self(" ".join(words) + " …", size, weight) > width:
            words.pop()
        return " ".join(words) + " …"


def _paragraphs(text: str) -> list[str]:
    """Paragraphs of typed text, one blank line between them, control characters removed."""
    text = _CONTROL.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " "))
    result: list[str] = []
    for raw in text.split("\n"):
        paragraph = " ".join(raw.split())
        if paragraph or (result and result[-1]):
            result.append(paragraph)
    while result and not result[-1]:
        result.pop()
    return result


# --- what the pages say ------------------------------------------------------------------


def long_date(day: date) -> str:
    """A date as people write it in the UK: "14 March 2026"."""
    return f"{day.day} {day:%B %Y}"


def table_series(series: TrendSeries, periods: int = TABLE_PERIODS) -> TrendSeries:
    """The series cut to its last `periods` points, with the targets in force over them."""
    if len(series.points) <= periods:
        return series
    points = series.points[-periods:]
    first = points[0].period
    targets: dict[Period, object] = {}
    for start, target in series.targets:
        targets[max(start, first)] = target  # later targets overwrite earlier ones
    return replace(series, points=points, targets=tuple(targets.items()))  # type: ignore[arg-type]


def _value_text(series: TrendSeries, point: TrendPoint, *, unit: bool = False) -> str:
    """A value for the table ("98.9 ○" when revised) or, with its unit, for the headline."""
    if point.value is None:
        return point.gap_text
    if unit:
        text = series.format_value(point.value)
        return f"{text} (revised)" if point.revised else text
    text = format_number(point.value, series.decimals)
    return f"{text} {REVISED_SHAPE}" if point.revised else text


def _direction(series: TrendSeries, index: int) -> str | None:
    """How the figure moved since the point before it (a year earlier for annual ones)."""
    if index == 0:
        return None
    before, point = series.points[index - 1], series.points[index]
    return direction_label(point.value, before.value, series.polarity)


def _point_at(series: TrendSeries, period: Period) -> int | None:
    return next((i for i, p in enumerate(series.points) if p.period == period), None)


def _gap_words(point: TrendPoint) -> str:
    """A gap in words: "[x] not available", "no figure returned"."""
    if not point.symbol:
        return "no figure returned"
    try:
        return f"{point.symbol} {Symbol(point.symbol.strip().lower()).description}"
    except ValueError:
        return point.symbol


def _headline(item: PackIndicator, period: Period) -> list[tuple[str, str, bool]]:
    """The figure for the period as (text, colour key, bold) pieces: value, RAG, direction."""
    series = item.series
    index = _point_at(series, period)
    pieces: list[tuple[str, str, bool]] = []
    if index is None:
        latest = series.latest_point
        if latest is None or latest.value is None:
            pieces.append((f"No figure yet for {period.short_label} or before", "text", True))
            return pieces
        index = series.points.index(latest)
        value = _value_text(series, latest, unit=True)
        pieces.append((f"Latest figure, {latest.period.short_label}: {value}", "text", True))
    else:
        point = series.points[index]
        if point.value is None:
            pieces.append((f"{period.short_label}: {_gap_words(point)}", "text", True))
            return pieces
        value = _value_text(series, point, unit=True)
        pieces.append((f"{period.short_label}: {value}", "text", True))
    point = series.points[index]
    if point.rag is not None:
        pieces.append((point.rag.label, f"rag:{point.rag.value}", True))
    direction = _direction(series, index)
    if direction:
        before = series.points[index - 1].period.short_label
        pieces.append((f"{direction} since {before}", "text", False))
    target = series.target_for(point.period)
    if target is not None:
        pieces.append((f"target {series.format_value(target)}", "muted", False))
    if not item.due:
        year_end = Period(PeriodKind.QUARTER, period.fy_start, 4).short_label
        pieces.append(
            (f"{item.frequency} indicator: next figure with the {year_end} return", "note", False)
        )
    return pieces


def _context(item: PackIndicator) -> str:
    series = item.series
    polarity = polarity_text(series.polarity)
    return " · ".join(
        [
            item.theme_name,
            f"reported by {item.service_name}",
            item.frequency,
            unit_axis_label(series.unit),
            polarity[0].upper() + polarity[1:],
        ]
    )


def _about_lines(item: PackIndicator, measure: TextMeasure, width: float) -> list[TextLine]:
    """What the indicator measures and the sentence of the source document it comes from."""
    lines = [TextLine("What it measures", "heading", "definition-heading")]
    definition = item.definition or "No definition has been recorded for this indicator."
    lines += [TextLine(t, "body", "definition") for t in measure.wrap(definition, width, BODY_SIZE)]
    if item.source:
        heading = "Source" + (f": {item.source_document}" if item.source_document else "")
        lines.append(TextLine("", "space"))
        lines += [
            TextLine(t, "heading", "source-heading")
            for t in measure.wrap(heading, width, HEADING_SIZE, "bold")
        ]
        quoted = f"“{item.source.strip()}”"
        lines += [
            TextLine(t, "quote", "source")
            for t in measure.wrap(quoted, width, BODY_SIZE, style="italic")
        ]
    return lines


def _words_lines(item: PackIndicator, measure: TextMeasure, width: float) -> list[TextLine]:
    """The commentary and the explanation of warnings, as the service entered them."""
    lines = [TextLine(f"Commentary · {item.return_note}", "heading", "commentary-heading")]
    if item.commentary and item.commentary.strip():
        lines += [
            TextLine(t, "body", "commentary")
            for t in measure.wrap(item.commentary, width, BODY_SIZE)
        ]
    else:
        lines.append(TextLine("No commentary was entered.", "note", "commentary"))
    lines.append(TextLine("", "space"))
    lines.append(TextLine("Explanation of warnings", "heading", "explanation-heading"))
    if item.explanation and item.explanation.strip():
        lines += [
            TextLine(t, "body", "explanation")
            for t in measure.wrap(item.explanation, width, BODY_SIZE)
        ]
    else:
        lines.append(TextLine("None: no explanation was needed or entered.", "note", "explanation"))
    return lines


# --- planning the pages --------------------------------------------------------------------


@dataclass(frozen=True)
class _IndicatorLayout:
    """Where an indicator page's parts go, in inches from the bottom of the page."""

    title: tuple[str, ...]
    context_top: float
    headline_top: float
    rule_y: float
    upper_top: float
    upper_bottom: float
    flow_top: float


def _indicator_layout(item: PackIndicator, measure: TextMeasure) -> _IndicatorLayout:
    title = f"{item.series.code} {item.series.title}"
    lines = measure.wrap(title, WIDTH - 2 * MARGIN, TITLE_SIZE, "bold")
    if len(lines) > 2:
        lines = [lines[0], measure.fit(" ".join(lines[1:]), WIDTH - 2 * MARGIN, TITLE_SIZE, "bold")]
    top = HEIGHT - 0.45
    context_top = top - len(lines) * TITLE_SIZE * 1.25 / 72 - 0.05
    headline_top = context_top - CONTEXT_SIZE * LINE_SPACING / 72 - 0.06
    rule_y = headline_top - HEADLINE_SIZE * LINE_SPACING / 72 - 0.08
    upper_top = rule_y - 0.1
    upper_bottom = upper_top - UPPER_HEIGHT
    return _IndicatorLayout(
        title=tuple(lines),
        context_top=context_top,
        headline_top=headline_top,
        rule_y=rule_y,
        upper_top=upper_top,
        upper_bottom=upper_bottom,
        flow_top=upper_bottom - 0.12,
    )


TABLE_LEFT = MARGIN + CHART_WIDTH + 0.35


def _table_columns(series: TrendSeries) -> tuple[str, ...]:
    """The table's columns: Target and RAG only where some period has a target or a rating
    (two columns of dashes say less than the note that says why there are none)."""
    points = table_series(series).points
    columns = ["Period", "Value"]
    if any(series.target_for(p.period) is not None for p in points):
        columns.append("Target")
    if any(p.value is not None and p.rag is not None for p in points):
        columns.append("RAG")
    return (*columns, "Direction")


def _table_notes(series: TrendSeries) -> list[str]:
    """What the marks in the table mean, when it has them."""
    points = table_series(series).points
    notes = []
    if any(p.revised for p in points):
        notes.append(f"{REVISED_SHAPE} revised after the return was first submitted")
    if any(p.value is not None and p.rag is None for p in points):
        reason = (
            "neither higher nor lower is better"
            if series.polarity is Polarity.NEUTRAL
            else "no target is set"
        )
        if "RAG" in _table_columns(series):
            notes.append(f"RAG —: not rated, {reason}")
        else:
            notes.append(f"No RAG rating: {reason}")
    return notes


_ROW_HEIGHT = TABLE_SIZE * 1.75 / 72


def _continued_flow_top() -> float:
    return HEIGHT - 0.45 - TITLE_SIZE * 1.25 / 72 - 0.3


def plan_pages(pack: BoardPack, measure: TextMeasure | None = None) -> list[PlannedPage]:
    """Every page of the pack in order, with the running text that falls on each."""
    measure = measure or TextMeasure()
    pages = [PlannedPage("cover")]
    chunks = max(1, -(-len(pack.indicators) // TILES_PER_PAGE))
    pages += [PlannedPage("dashboard", i) for i in range(chunks)]
    full_width = WIDTH - 2 * MARGIN
    for index, item in enumerate(pack.indicators):
        layout = _indicator_layout(item, measure)
        # Under the chart and table, in this order on every page: what it measures, where it
        # comes from, then what the service said about the period.
        flow = [
            *_about_lines(item, measure, full_width),
            TextLine("", "space"),
            *_words_lines(item, measure, full_width),
        ]
        room = layout.flow_top - FLOW_BOTTOM
        first, rest = _take(flow, room)
        parts = [first]
        continued_room = _continued_flow_top() - FLOW_BOTTOM
        while rest and len(parts) <= MAX_CONTINUED_PAGES:
            taken, rest = _take(rest, continued_room)
            parts.append(taken)
        if rest:
            parts[-1] = _cut(parts[-1], rest, item, measure, continued_room)
        for part, lines in enumerate(parts):
            if part < len(parts) - 1:
                lines = [
                    *lines,
                    TextLine("The commentary continues on the next page.", "note", "continues"),
                ]
            pages.append(
                PlannedPage(
                    "indicator" if part == 0 else "continued",
                    index,
                    tuple(lines),
                    part=part + 1,
                    parts=len(parts),
                )
            )
    return pages


def _take(lines: list[TextLine], room: float) -> tuple[list[TextLine], list[TextLine]]:
    """The lines that fit in `room` inches (keeping a note's line free), and the rest."""
    reserve = NOTE_SIZE * LINE_SPACING / 72
    used, count = 0.0, 0
    for line in lines:
        if used + line.height > room - reserve:
            break
        used += line.height
        count += 1
    if count < len(lines) and count and lines[count - 1].kind == "heading":
        count -= 1  # a heading goes with its first line
    taken, rest = lines[:count], lines[count:]
    while rest and rest[0].kind == "space":
        rest = rest[1:]
    return taken, rest


def _cut(
    lines: list[TextLine],
    rest: list[TextLine],
    item: PackIndicator,
    measure: TextMeasure,
    room: float,
) -> list[TextLine]:
    """The last page's lines, ending with a note that says what was left out and where it is."""
    hidden = sum(len(line.text) + 1 for line in rest if line.kind == "body")
    note = (
        f"[Cut here: about {hidden:,} more characters did not fit in this pack. "
        f"The full text is in the return ({item.return_note}).]"
    )
    notes = [
        TextLine(t, "note", "cut-note")
        for t in measure.wrap(note, WIDTH - 2 * MARGIN, NOTE_SIZE, style="italic")
    ]
    while lines and sum(line.height for line in lines + notes) > room:
        lines = lines[:-1]
    return [*lines, *notes]


# --- drawing -------------------------------------------------------------------------------


class _Canvas:
    """Text, lines and markers placed in inches from the bottom-left corner of a page."""

    def __init__(self, theme: ChartTheme, figure: Figure | None = None) -> None:
        self.theme = theme
        if figure is None:
            figure = Figure(figsize=PAGE_SIZE, facecolor=theme.figure_background)
            FigureCanvasAgg(figure)
        self.figure = figure

    def colour(self, key: str) -> str:
        if key == "muted":
            return self.theme.muted_text
        if key.startswith("rag:"):
            return self.theme.rag_text[Rag(key.removeprefix("rag:"))]
        return self.theme.text

    def text(
        self,
        x: float,
        y: float,
        text: str,
        *,
        size: float,
        weight: str = "normal",
        style: str = "normal",
        colour: str = "text",
        ha: str = "left",
        va: str = "top",
        gid: str = "",
    ) -> Text:
        return self.figure.text(
            x,
            y,
            text,
            transform=self.figure.dpi_scale_trans,
            fontsize=size,
            fontweight=weight,
            fontstyle=style,
            color=self.colour(colour),
            ha=ha,
            va=va,
            parse_math=False,  # typed text: a "$" is money, not mathematics
            gid=gid or None,
        )

    def rule(self, y: float, x0: float = MARGIN, x1: float = WIDTH - MARGIN) -> None:
        self.figure.add_artist(
            Line2D(
                [x0, x1],
                [y, y],
                color=self.theme.grid,
                linewidth=1.0,
                transform=self.figure.dpi_scale_trans,
            )
        )

    def marker(self, x: float, y: float, marker: str, fill: str, size: float = 8) -> None:
        self.figure.add_artist(
            Line2D(
                [x],
                [y],
                linestyle="none",
                marker=marker,
                markersize=size,
                markerfacecolor=fill,
                markeredgecolor=self.theme.marker_edge,
                markeredgewidth=0.8,
                transform=self.figure.dpi_scale_trans,
            )
        )

    def lines(self, lines: Sequence[TextLine], top: float, x: float = MARGIN) -> float:
        """Running text from `top` down; returns where it ended."""
        y = top
        for line in lines:
            size, weight, style, muted = _STYLES[line.kind]
            if line.text:
                self.text(
                    x,
                    y,
                    line.text,
                    size=size,
                    weight=weight,
                    style=style,
                    colour="muted" if muted else "text",
                    gid=line.gid,
                )
            y -= line.height
        return y

    def footer(self, pack: BoardPack, number: int, total: int, measure: TextMeasure) -> None:
        self.rule(FOOTER_Y + 0.2)
        pages = f"Page {number} of {total}"
        room = WIDTH - 2 * MARGIN - measure(pages, FOOTER_SIZE) - 0.3
        about = f"{PACK_TITLE} · {pack.period.label} · {pack.scope} · made {long_date(pack.made)}"
        about = measure.fit(about, room, FOOTER_SIZE)
        self.text(
            MARGIN, FOOTER_Y, about, size=FOOTER_SIZE, colour="muted", va="baseline", gid="footer"
        )
        self.text(
            WIDTH - MARGIN,
            FOOTER_Y,
            pages,
            size=FOOTER_SIZE,
            colour="muted",
            ha="right",
            va="baseline",
            gid="page-number",
        )


def _cover(
    pack: BoardPack, plan: list[PlannedPage], theme: ChartTheme, measure: TextMeasure
) -> Figure:
    page = _Canvas(theme)
    y = HEIGHT - 0.55
    for line in measure.wrap(PACK_TITLE, WIDTH - 2 * MARGIN, 24, "bold"):
        page.text(MARGIN, y, line, size=24, weight="bold", gid="cover-title")
        y -= 24 * 1.2 / 72
    y -= 0.08
    page.text(
        MARGIN, y, pack.period.label, size=18, weight="bold", colour="text", gid="cover-period"
    )
    y -= 18 * 1.3 / 72 + 0.04
    count = len(pack.indicators)
    page.text(
        MARGIN,
        y,
        f"{pack.scope} · {count} indicator{'' if count == 1 else 's'} · "
        f"made {long_date(pack.made)}",
        size=11,
        colour="muted",
        gid="cover-scope",
    )
    y -= 11 * 1.4 / 72 + 0.18
    y = _glance(page, pack, y, measure)
    page.rule(y + 0.08)
    top = y - 0.12
    _key_column(page, top, measure)
    _contents(page, pack, plan, top, measure)
    return page.figure


def _glance(page: _Canvas, pack: BoardPack, y: float, measure: TextMeasure) -> float:
    """How many indicators are Green, Amber, Red or not rated for the period, in one line."""
    counts: dict[str, int] = {"Green": 0, "Amber": 0, "Red": 0, "not rated": 0, "no figure": 0}
    for item in pack.indicators:
        index = _point_at(item.series, pack.period)
        point = item.series.points[index] if index is not None else None
        if point is None or point.value is None:
            counts["no figure"] += 1
        elif point.rag is None:
            counts["not rated"] += 1
        else:
            counts[point.rag.value] += 1
    page.text(
        MARGIN,
        y,
        f"At a glance: {pack.period.short_label}",
        size=HEADING_SIZE + 1,
        weight="bold",
        gid="glance-heading",
    )
    y -= 0.3
    x = MARGIN + 0.1
    for rag in Rag:
        page.marker(x, y - 0.07, RAG_MARKERS[rag], page.theme.rag_fill[rag], 9)
        text = f"{rag.value} {counts[rag.value]}"
        page.text(
            x + 0.15,
            y,
            text,
            size=11,
            weight="bold",
            colour=f"rag:{rag.value}",
            gid=f"glance:{rag.value}",
        )
        x += 0.15 + measure(text, 11, "bold") + 0.45
    page.marker(x, y - 0.07, NEUTRAL_MARKER, page.theme.values, 6.5)
    text = f"Not rated {counts['not rated']}"
    page.text(x + 0.15, y, text, size=11, gid="glance:not-rated")
    x += 0.15 + measure(text, 11) + 0.45
    text = f"No figure for {pack.period.short_label}: {counts['no figure']}"
    page.text(x, y, text, size=11, colour="muted", gid="glance:no-figure")
    return y - 0.32


_KEY_ROWS: tuple[tuple[str, str], ...] = (
    ("rag:Green", "Green: the target is met."),
    ("rag:Amber", "Amber: short of the target, but within the agreed tolerance."),
    ("rag:Red", "Red: short of the target by more than the tolerance."),
    ("neutral", "Not rated: no target is set, or neither higher nor lower is better."),
    (
        "arrow",
        "Direction of travel: the arrow shows whether the figure went up (↑) or down (↓) since the "
        "period before (a year before, for annual indicators); the word says whether that is "
        "better or worse for this indicator, so a fall in crime reads “↓ improving”.",
    ),
    ("revised", "Revised: the figure was changed after its return was first submitted."),
    ("target", "Target: the black step line on a chart; it can change from one year to the next."),
    ("baseline", "Baseline: the dashed line, where the Council Plan started from."),
    (
        "gap",
        "Gaps: [x] not available, [z] not applicable, [c] suppressed to protect people "
        "(small numbers); “no data” when no figure was returned.",
    ),
)


def _key_column(page: _Canvas, top: float, measure: TextMeasure) -> None:
    """How to read the pack: RAG shapes and words, arrows, and the lines on a chart."""
    theme = page.theme
    page.text(
        MARGIN,
        top,
        "How to read this pack",
        size=HEADING_SIZE + 1,
        weight="bold",
        gid="key-heading",
    )
    y = top - 0.32
    text_x, width = MARGIN + 0.42, 5.2 - 0.42
    for symbol, words in _KEY_ROWS:
        mid = y - 0.06
        if symbol.startswith("rag:"):
            rag = Rag(symbol.removeprefix("rag:"))
            page.marker(MARGIN + 0.15, mid, RAG_MARKERS[rag], theme.rag_fill[rag], 9)
        elif symbol == "neutral":
            page.marker(MARGIN + 0.15, mid, NEUTRAL_MARKER, theme.values, 6.5)
        elif symbol == "revised":
            page.figure.add_artist(
                Line2D(
                    [MARGIN + 0.15],
                    [mid],
                    linestyle="none",
                    marker="o",
                    markersize=12,
                    markerfacecolor="none",
                    markeredgecolor=theme.text,
                    markeredgewidth=1.2,
                    transform=page.figure.dpi_scale_trans,
                )
            )
        elif symbol == "target":
            page.figure.add_artist(
                Line2D(
                    [MARGIN, MARGIN + 0.3],
                    [mid, mid],
                    color=theme.target,
                    linewidth=1.8,
                    transform=page.figure.dpi_scale_trans,
                )
            )
        elif symbol == "baseline":
            page.figure.add_artist(
                Line2D(
                    [MARGIN, MARGIN + 0.3],
                    [mid, mid],
                    color=theme.baseline,
                    linewidth=1.5,
                    linestyle=(0, (5, 3)),
                    transform=page.figure.dpi_scale_trans,
                )
            )
        elif symbol == "arrow":
            page.text(MARGIN + 0.15, y, "↑↓", size=11, weight="bold", ha="center", gid="key-symbol")
        elif symbol == "gap":
            page.figure.add_artist(
                Rectangle(
                    (MARGIN + 0.02, mid - 0.08),
                    0.26,
                    0.16,
                    facecolor=theme.grid,
                    alpha=0.6,
                    transform=page.figure.dpi_scale_trans,
                )
            )
        word, _, rest = words.partition(":")
        colour = symbol if symbol.startswith("rag:") else "text"
        shape = Rag(symbol.removeprefix("rag:")).shape + " " if symbol.startswith("rag:") else ""
        shape = NEUTRAL_SHAPE + " " if symbol == "neutral" else shape
        lines = measure.wrap(f"{shape}{word}:{rest}", width, BODY_SIZE)
        for number, line in enumerate(lines):
            page.text(
                text_x,
                y - number * BODY_SIZE * LINE_SPACING / 72,
                line,
                size=BODY_SIZE,
                colour=colour if number == 0 and colour != "text" else "text",
                gid="key",
            )
        y -= len(lines) * BODY_SIZE * LINE_SPACING / 72 + 0.09


def _contents(
    page: _Canvas, pack: BoardPack, plan: list[PlannedPage], top: float, measure: TextMeasure
) -> None:
    """Where each part of the pack starts, with each indicator's RAG for the period."""
    left, right = 6.0, WIDTH - MARGIN
    page.text(left, top, "Contents", size=HEADING_SIZE + 1, weight="bold", gid="contents-heading")
    starts: dict[tuple[str, int], int] = {}
    for number, planned in enumerate(plan, start=1):
        starts.setdefault((planned.kind, planned.index), number)
    dashboard_pages = [n for n, p in enumerate(plan, start=1) if p.kind == "dashboard"]
    entries: list[tuple[str, str, str, str]] = []  # code, title, RAG key, page
    first, last = dashboard_pages[0], dashboard_pages[-1]
    entries.append(
        (
            "Dashboard",
            "the indicators at a glance",
            "",
            f"{first}" if first == last else f"{first}–{last}",
        )
    )
    for index, item in enumerate(pack.indicators):
        at = _point_at(item.series, pack.period)
        point = item.series.points[at] if at is not None else None
        rag = point.rag if point is not None and point.value is not None else None
        entries.append(
            (
                item.series.code,
                item.series.title,
                f"rag:{rag.value}" if rag else "",
                str(starts[("indicator", index)]),
            )
        )
    available = top - 0.32 - FLOW_BOTTOM
    size = BODY_SIZE
    while size > 6.5 and len(entries) * size * LINE_SPACING / 72 > available:
        size -= 0.5
    capacity = int(available / (size * LINE_SPACING / 72))
    shown = entries if len(entries) <= capacity else entries[: capacity - 1]
    y = top - 0.32
    code_width = max(measure(code, size, "bold") for code, *_ in shown) + 0.12
    rag_width = measure("▲ Amber", size, "bold") + 0.15
    for code, title, rag_key, page_number in shown:
        page.text(left, y, code, size=size, weight="bold", gid="contents-code")
        page.text(right, y, page_number, size=size, ha="right", gid="contents-page")
        title_width = right - left - code_width - rag_width - 0.35
        page.text(
            left + code_width,
            y,
            measure.fit(title, title_width, size),
            size=size,
            gid="contents-title",
        )
        if rag_key:
            page.text(
                right - 0.3 - rag_width + 0.1,
                y,
                Rag(rag_key.removeprefix("rag:")).label,
                size=size,
                weight="bold",
                colour=rag_key,
                gid="contents-rag",
            )
        y -= size * LINE_SPACING / 72
    if len(shown) < len(entries):
        page.text(
            left,
            y,
            f"… and {len(entries) - len(shown)} more indicators, in the same order.",
            size=size,
            style="italic",
            colour="muted",
            gid="contents-more",
        )


def dashboard_grid(
    count: int, several_pages: bool, room: float
) -> tuple[int, int, tuple[float, float]]:
    """Columns, rows and tile size (inches) for a dashboard page of `count` tiles.

    `room` is the page's height between its heading and footer. A pack whose dashboard takes
    several pages gives every page tiles of one size: the size that fits twelve. A pack with
    fewer tiles gets larger ones, up to MAX_TILE (not stretched to fill the page).
    """
    full_width = (WIDTH - 2 * (MARGIN - 0.1)) / TILE_COLUMNS
    full_height = (room - KEY_ESTIMATE) / TILE_ROWS
    columns = max(1, min(TILE_COLUMNS, count))
    rows = max(1, -(-count // TILE_COLUMNS))
    if several_pages:
        return columns, rows, (full_width, full_height)
    width = min((WIDTH - 2 * (MARGIN - 0.1)) / columns, MAX_TILE[0])
    height = min((room - KEY_ESTIMATE) / rows, width * MAX_TILE[1] / MAX_TILE[0], MAX_TILE[1])
    return columns, rows, (width, max(height, full_height))


def _dashboard_page(
    pack: BoardPack, chunk: int, chunks: int, theme: ChartTheme, measure: TextMeasure
) -> Figure:
    """Small multiples, twelve to a page, under a heading that says how to read them."""
    tiles = [
        item.tile for item in pack.indicators[chunk * TILES_PER_PAGE : (chunk + 1) * TILES_PER_PAGE]
    ]
    part = f" (page {chunk + 1} of {chunks})" if chunks > 1 else ""
    guide = measure.wrap(
        f"Each panel shows an indicator's figures up to {pack.period.short_label}: its figure "
        "for the period (or its latest, with the period it is for), the RAG rating and the "
        "direction of travel. The key is at the bottom; each indicator has a page of its own "
        "after the dashboard.",
        WIDTH - 2 * MARGIN,
        CONTEXT_SIZE,
    )
    guide_top = HEIGHT - 0.45 - TITLE_SIZE * 1.35 / 72
    header = 0.45 + TITLE_SIZE * 1.35 / 72 + len(guide) * CONTEXT_SIZE * LINE_SPACING / 72 + 0.12
    side = MARGIN - 0.1  # a tile's own padding makes up the rest of the page margin
    columns, rows, tile_size = dashboard_grid(
        len(tiles), len(pack.indicators) > TILES_PER_PAGE, HEIGHT - header - FLOW_BOTTOM
    )
    fig = dashboard_figure(
        tiles,
        columns=columns,
        rows=rows,
        theme=theme.name,
        size=PAGE_SIZE,
        margins=(header, side, FLOW_BOTTOM, side),
        tile_size=tile_size,
    )
    page = _Canvas(theme, fig)
    page.text(
        MARGIN,
        HEIGHT - 0.45,
        f"Dashboard · {pack.period.label}{part}",
        size=TITLE_SIZE,
        weight="bold",
        gid="page-title",
    )
    page.lines([TextLine(line, "guide", "page-guide") for line in guide], guide_top)
    return fig


def _indicator_page(
    pack: BoardPack, planned: PlannedPage, theme: ChartTheme, measure: TextMeasure
) -> Figure:
    item = pack.indicators[planned.index]
    layout = _indicator_layout(item, measure)
    page = _Canvas(theme)
    y = HEIGHT - 0.45
    for line in layout.title:
        page.text(MARGIN, y, line, size=TITLE_SIZE, weight="bold", gid="page-title")
        y -= TITLE_SIZE * 1.25 / 72
    context = measure.fit(_context(item), WIDTH - 2 * MARGIN, CONTEXT_SIZE)
    page.text(MARGIN, layout.context_top, context, size=CONTEXT_SIZE, colour="muted", gid="context")
    x = MARGIN
    baseline = layout.headline_top - HEADLINE_SIZE * 0.95 / 72
    for text, colour, bold in _headline(item, pack.period):
        weight, size = ("bold" if bold else "normal"), HEADLINE_SIZE
        if colour == "note":  # a remark after the figures: smaller, and cut to the page
            colour, size = "muted", CONTEXT_SIZE
            text = measure.fit(text, WIDTH - MARGIN - x, size)
        page.text(
            x,
            baseline,
            text,
            size=size,
            weight=weight,
            colour=colour,
            va="baseline",
            gid="headline",
        )
        x += measure(text, size, weight) + 0.28
    page.rule(layout.rule_y)
    _chart(page, item, layout, measure)
    _table(page, item, pack.period, layout.upper_top, measure)
    page.lines(planned.lines, layout.flow_top)
    return page.figure


def _continued_page(
    pack: BoardPack, planned: PlannedPage, theme: ChartTheme, measure: TextMeasure
) -> Figure:
    item = pack.indicators[planned.index]
    page = _Canvas(theme)
    title = f"{item.series.code} {item.series.title}"
    suffix = f" — continued ({planned.part} of {planned.parts})"
    title = measure.fit(
        title, WIDTH - 2 * MARGIN - measure(suffix, TITLE_SIZE, "bold"), TITLE_SIZE, "bold"
    )
    page.text(
        MARGIN, HEIGHT - 0.45, title + suffix, size=TITLE_SIZE, weight="bold", gid="page-title"
    )
    page.rule(HEIGHT - 0.45 - TITLE_SIZE * 1.25 / 72 - 0.12)
    page.lines(planned.lines, _continued_flow_top())
    return page.figure


def _chart(
    page: _Canvas, item: PackIndicator, layout: _IndicatorLayout, measure: TextMeasure
) -> None:
    """The trend, drawn as the app draws it, with its key underneath."""
    series = table_series(item.series)
    fig = page.figure
    width, height = CHART_WIDTH, UPPER_HEIGHT
    grid = GridSpec(
        3,
        3,
        figure=fig,
        width_ratios=[MARGIN, width, WIDTH - MARGIN - width],
        height_ratios=[HEIGHT - layout.upper_top, height, layout.upper_bottom],
    )
    panel = fig.add_subfigure(grid[1, 1])
    panel.set_facecolor(page.theme.figure_background)
    if not series.points:
        panel.text(
            0.5,
            0.5,
            "No figures have been returned for this indicator yet.",
            ha="center",
            va="center",
            fontsize=BODY_SIZE + 1,
            color=page.theme.muted_text,
            gid="no-values",
        )
        return
    fonts = SMALL_FONTS
    ax = panel.add_subplot()
    ax.set_gid(f"trend:{series.code}")
    entries = draw_trend(ax, series, page.theme, compact=False, fonts=fonts)
    legend_height = _chart_legend(panel, entries, page.theme, fonts.legend, width)
    # Margins: y tick labels and the axis label on the left; period labels, the note about
    # gaps and the key below.
    low, high = ax.get_ylim()
    formatter = ax.yaxis.get_major_formatter()
    values = [t for t in ax.yaxis.get_major_locator().tick_values(low, high) if low <= t <= high]
    labels = [formatter(t, i) for i, t in enumerate(values)]
    tick_room = 6.5 / 72
    left = (
        0.05
        + fonts.label * 1.3 / 72
        + tick_room
        + max((measure(text, fonts.ticks) for text in labels), default=0)
        + 0.05
    )
    x_lines = max((t.get_text().count("\n") + 1 for t in period_labels(ax)), default=1)
    note_lines = ax.get_xlabel().count("\n") + 1 if ax.get_xlabel() else 0
    bottom = (
        legend_height
        + 0.08
        + tick_room
        + x_lines * fonts.ticks * 1.25 / 72
        + note_lines * fonts.note * 1.3 / 72
        + (0.06 if note_lines else 0)
    )
    right = 0.45  # the latest value's label and the last period's label
    top = 0.12
    ax.set_position(
        (
            left / width,
            bottom / height,
            (width - left - right) / width,
            (height - top - bottom) / height,
        )
    )


def _chart_legend(
    panel: SubFigure, entries: LegendEntries, theme: ChartTheme, size: float, width: float
) -> float:
    """A key under the chart, read left to right; returns its height in inches."""
    if not entries.labels:
        return 0.0
    figure = panel.get_figure(root=True)
    renderer = agg_renderer(figure)
    # As many columns (up to 4) as fit across the chart.
    for columns in range(min(4, len(entries.labels)), 0, -1):
        legend = panel.legend(
            # The stub wants Artists only; a tuple of them is one entry (HandlerTuple).
            cast(list[Artist], entries.handles),
            entries.labels,
            loc="lower center",
            ncols=columns,
            frameon=False,
            fontsize=size,
            labelcolor=theme.text,
            handlelength=2.4,
            columnspacing=1.4,
            borderaxespad=0.2,
        )
        if columns == 1 or legend.get_window_extent(renderer).width / figure.dpi <= width - 0.1:
            break
        legend.remove()
    legend.set_gid("legend")
    for text, colour in zip(legend.get_texts(), entries.colours, strict=True):
        if colour is not None:
            text.set_color(colour)
    return legend.get_window_extent(renderer).height / figure.dpi + 0.05


def _table(
    page: _Canvas, item: PackIndicator, period: Period, top: float, measure: TextMeasure
) -> float:
    """The figures by period beside the chart: value, target, RAG and direction of travel (the
    target and RAG where there are any)."""
    series = table_series(item.series)
    left, right = TABLE_LEFT, WIDTH - MARGIN
    page.text(
        left,
        top,
        f"Figures by period · {unit_axis_label(series.unit)}",
        size=TABLE_SIZE + 1,
        weight="bold",
        gid="table-caption",
    )
    y = top - (TABLE_SIZE + 1) * LINE_SPACING / 72 - 0.06
    offset = len(item.series.points) - len(series.points)
    headers = _table_columns(item.series)
    rows: list[tuple[list[str], str]] = []  # the cells, and the colour of the RAG word
    for index, point in enumerate(series.points):
        target = series.target_for(point.period)
        rated = point.rag if point.value is not None else None
        cell_of = {
            "Period": point.period.short_label,
            "Value": _value_text(series, point),
            "Target": "—" if target is None else format_number(target, series.decimals),
            "RAG": rated.label if rated else "—",
            "Direction": _direction(item.series, offset + index) or "—",
        }
        rows.append(([cell_of[h] for h in headers], f"rag:{rated.value}" if rated else "text"))
    widths = [
        max(
            [measure(header, TABLE_SIZE, "bold")]
            + [measure(c[i], TABLE_SIZE, "bold") for c, _ in rows]
        )
        for i, header in enumerate(headers)
    ]
    gap = max(0.12, (right - left - sum(widths)) / (len(headers) - 1))
    # Value and Target are numbers: right-aligned at their column's right edge.
    edges, x = [], left
    for width in widths:
        edges.append((x, x + width))
        x += width + gap
    numbers = {c for c, header in enumerate(headers) if header in ("Value", "Target")}
    rag_column = headers.index("RAG") if "RAG" in headers else None

    def cell(
        c: int, y: float, text: str, bold: bool, colour: str = "text", gid: str = "table"
    ) -> None:
        x0, x1 = edges[c]
        page.text(
            x1 if c in numbers else x0,
            y,
            text,
            size=TABLE_SIZE,
            weight="bold" if bold else "normal",
            colour=colour,
            ha="right" if c in numbers else "left",
            gid=gid,
        )

    for c, header in enumerate(headers):
        cell(c, y, header, True, gid="table-header")
    y -= _ROW_HEIGHT
    page.rule(y + 0.04, left, right)
    for (cells, rag_colour), point in zip(rows, series.points, strict=True):
        current = point.period == period
        if current:
            page.figure.add_artist(
                Rectangle(
                    (left - 0.05, y - _ROW_HEIGHT + 0.03),
                    right - left + 0.1,
                    _ROW_HEIGHT,
                    facecolor=page.theme.grid,
                    alpha=0.55,
                    edgecolor="none",
                    transform=page.figure.dpi_scale_trans,
                )
            )
        for c, text in enumerate(cells):
            colour = rag_colour if c == rag_column else "text"
            cell(c, y, text, current, colour, gid="table-current" if current else "table")
        y -= _ROW_HEIGHT
    y -= 0.02
    for note in _table_notes(item.series):
        page.text(left, y, note, size=NOTE_SIZE, style="italic", colour="muted", gid="table-note")
        y -= NOTE_SIZE * LINE_SPACING / 72
    return y


# --- the file ------------------------------------------------------------------------------


def board_pack_figures(pack: BoardPack, *, theme: str = "light") -> Iterator[Figure]:
    """Each page of the pack as a Figure, in order (a generator: pages are drawn one by one)."""
    chart_theme = get_theme(theme)
    measure = TextMeasure()
    plan = plan_pages(pack, measure)
    chunks = sum(1 for p in plan if p.kind == "dashboard")
    for number, planned in enumerate(plan, start=1):
        if planned.kind == "cover":
            fig = _cover(pack, plan, chart_theme, measure)
        elif planned.kind == "dashboard":
            fig = _dashboard_page(pack, planned.index, chunks, chart_theme, measure)
        elif planned.kind == "indicator":
            fig = _indicator_page(pack, planned, chart_theme, measure)
        else:
            fig = _continued_page(pack, planned, chart_theme, measure)
        _Canvas(chart_theme, fig).footer(pack, number, len(plan), measure)
        yield fig


def write_board_pack(pack: BoardPack, path: str | os.PathLike[str]) -> int:
    """Write the pack as one PDF at `path`, all or nothing; returns the number of pages."""
    target = Path(path)
    if target.suffix.lower() != ".pdf":
        raise ValueError(f"a board pack is a PDF: '{target.name}' does not end in .pdf")
    pages = 0
    with atomic_output(target, "board pack") as stream:
        metadata = {
            "Title": f"{PACK_TITLE}: {pack.period.label}",
            "Subject": pack.scope,
            "Creator": "SKP Returns",
            "Producer": "SKP Returns",
            "CreationDate": None,
        }
        with PDF_DRAWING, PdfPages(stream, metadata=metadata) as pdf:
            for fig in board_pack_figures(pack):
                pdf.savefig(fig, facecolor=fig.get_facecolor())
                pages += 1
    return pages
