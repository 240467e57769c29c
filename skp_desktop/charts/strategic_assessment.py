"""The annual strategic assessment as one A4 landscape PDF: a cover with the contents, then
each statutory duty and Council Plan priority with two measures to a page (a five-year trend
beside the year's figures), then the data-quality notes.

Pages are plain `Figure`s laid out by hand in inches, as the board pack's are, so the page
count (and the contents' page numbers) is known before anything is drawn.
"""

from __future__ import annotations

import contextlib
import logging
import os
import textwrap
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import matplotlib
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backend_bases import RendererBase
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, findfont
from matplotlib.text import Text

from skp_desktop.charts.export import PDF_DRAWING, atomic_output
from skp_desktop.charts.series import TrendSeries
from skp_desktop.charts.styling import COMPACT_FONTS
from skp_desktop.charts.theme import ChartTheme, get_theme
from skp_desktop.charts.trend import LegendEntries, draw_trend
from skp_desktop.domain.assessment import (
    QUALITY_TOPICS,
    AssessedMeasure,
    Assessment,
    AssessmentSection,
    grouped_quality,
)
from skp_desktop.domain.values import format_number

TITLE = "Safer Kingston Partnership — annual strategic assessment"
PAGE_SIZE = (297 / 25.4, 210 / 25.4)  # A4 landscape, inches
WIDTH, HEIGHT = PAGE_SIZE
MARGIN = 0.5
MEASURES_PER_PAGE = 2
QUALITY_ROWS_PER_PAGE = 28
RAG_WORDS = {"Green": "● Green", "Amber": "▲ Amber", "Red": "■ Red"}
TITLE_SIZE, HEADING_SIZE, BODY_SIZE, TABLE_SIZE, FOOTER_SIZE = 16.0, 12.0, 9.5, 9.0, 8.0
LINE_SPACING = 1.6  # of the font size, between table lines
LINE = TABLE_SIZE * LINE_SPACING / 72  # inches between table lines
VALUE_CHARACTERS = 48  # of a value in a measure's table, before it is cut short
BLOCK_GAP = 0.2  # inches kept clear above the rule under a measure
MIN_LINE_SPACING = 1.3  # a crowded table's lines, as a multiple of its font size
KEY_HEIGHT = 0.25  # inches under a chart for its key
COMMITMENT_LINE = 150  # characters of a priority's commitment on one line of the page
SHAPE_SLOT = 1.1  # a leading shape or arrow and its space, in ems
ASCENT = 0.78  # from a line's top to its baseline, in ems (DejaVu Sans and Helvetica alike)
TAB_STOP = 0.6  # inches from one tab stop to the next in a table's value


@dataclass(frozen=True)
class _Page:
    kind: str  # "cover", "section", "empty", "quality"
    section: AssessmentSection | None = None
    measures: tuple[AssessedMeasure, ...] = ()
    first_of_section: bool = False
    quality_rows: tuple[int, int] = (0, 0)
    empty_sections: tuple[AssessmentSection, ...] = ()


def plan_pages(assessment: Assessment) -> list[_Page]:
    """Every page, in order: the cover, the sections with measures, the sections without, and
    the data-quality notes."""
    pages = [_Page("cover")]
    empty = []
    for section in assessment.sections:
        if not section.measures:
            empty.append(section)
            continue
        for start in range(0, len(section.measures), MEASURES_PER_PAGE):
            pages.append(
                _Page(
                    "section",
                    section=section,
                    measures=section.measures[start : start + MEASURES_PER_PAGE],
                    first_of_section=start == 0,
                )
            )
    if empty:
        pages.append(_Page("empty", empty_sections=tuple(empty)))
    rows = len(grouped_quality(assessment.quality, assessment.year_label))
    for start in range(0, max(rows, 1), QUALITY_ROWS_PER_PAGE):
        pages.append(
            _Page("quality", quality_rows=(start, min(rows, start + QUALITY_ROWS_PER_PAGE)))
        )
    return pages


class _Canvas:
    """A page in inches from its top-left corner, in the light theme."""

    def __init__(self, theme: ChartTheme) -> None:
        self.theme = theme
        self.fig = Figure(figsize=PAGE_SIZE, facecolor=theme.figure_background)
        FigureCanvasAgg(self.fig)  # text is measured while the page is laid out

    def text(
        self,
        x: float,
        y: float,
        words: str,
        *,
        size: float = BODY_SIZE,
        weight: str = "normal",
        colour: str | None = None,
        ha: str = "left",
        style: str = "normal",
        linespacing: float = 1.2,
    ) -> None:
        """`words` with its top at `y`; each line is a text of its own, `linespacing` times
        the size apart, so that lines in different fonts (see _writable_in_helvetica) stay
        level with their neighbours in the next column. A tab moves to the next TAB_STOP;
        a shape or arrow starting a piece is set apart from the words after it."""
        pitch = size * linespacing / 72
        for number, line in enumerate(words.split("\n")):
            at = x
            for piece in line.split("\t"):
                self._piece(at, y + number * pitch, piece, size, weight, colour, ha, style)
                at += TAB_STOP

    def _piece(
        self,
        x: float,
        y: float,
        words: str,
        size: float,
        weight: str,
        colour: str | None,
        ha: str,
        style: str,
    ) -> None:
        pieces = [(x, words)]
        if ha == "left" and words[1:2] == " " and not _in_winansi(words[0]):
            pieces = [(x, words[0]), (x + size * SHAPE_SLOT / 72, words[2:])]
        # Placed by the baseline, not the top: the standard fonts measure a text's top from
        # its own letters, so a line with an apostrophe would sit lower than its neighbours.
        baseline = 1 - (y + size * ASCENT / 72) / HEIGHT
        for at, text in pieces:
            self.fig.text(
                at / WIDTH,
                baseline,
                text,
                fontsize=size,
                fontweight=weight,
                fontstyle=style,
                color=colour or self.theme.text,
                ha=ha,
                va="baseline",
            )

    def rule(self, y: float) -> None:
        self.fig.add_artist(
            _line(self.fig, [MARGIN / WIDTH, 1 - MARGIN / WIDTH], [1 - y / HEIGHT] * 2, self.theme)
        )

    def footer(self, assessment: Assessment, number: int, total: int) -> None:
        self.text(
            MARGIN,
            HEIGHT - 0.35,
            f"{TITLE}, {assessment.year_label} · made {assessment.made.isoformat()}",
            size=FOOTER_SIZE,
            colour=self.theme.muted_text,
        )
        self.text(
            WIDTH - MARGIN,
            HEIGHT - 0.35,
            f"Page {number} of {total}",
            size=FOOTER_SIZE,
            colour=self.theme.muted_text,
            ha="right",
        )


def _line(fig: Figure, xs: list[float], ys: list[float], theme: ChartTheme):
    from matplotlib.lines import Line2D

    return Line2D(xs, ys, transform=fig.transFigure, color=theme.grid, linewidth=0.8)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _cover(assessment: Assessment, plan: Sequence[_Page], theme: ChartTheme) -> Figure:
    page = _Canvas(theme)
    page.text(MARGIN, MARGIN, f"{TITLE}, {assessment.year_label}", size=TITLE_SIZE, weight="bold")
    measures = assessment.measures
    context = sum(1 for m in measures if m.kind == "context")
    page.text(
        MARGIN,
        MARGIN + 0.45,
        f"{len(measures) - context} indicators and {context} context measures, each once, "
        f"in {len(assessment.sections)} sections: the partnership's statutory duties, then the "
        "Council Plan's priorities.",
    )
    page.text(
        MARGIN,
        MARGIN + 0.75,
        "Figures are the latest accepted revision of each return, as in the partnership "
        "workbook; counts below an indicator's small-number threshold are published as [c].",
        size=BODY_SIZE - 0.5,
        colour=theme.muted_text,
    )
    page.text(
        MARGIN,
        MARGIN + 0.95,
        "[x] not available, [z] not asked for that quarter, – nothing held.",
        size=BODY_SIZE - 0.5,
        colour=theme.muted_text,
    )
    page.text(
        MARGIN,
        MARGIN + 1.15,
        "Change on the year compares the latest figure with the same period a year earlier. "
        "RAG is shape, word and colour:",
        size=BODY_SIZE - 0.5,
        colour=theme.muted_text,
    )
    page.text(  # each shape leads its word, so the words stay in the text's own font
        MARGIN + 6.75,
        MARGIN + 1.15,
        "● Green\t▲ Amber\t■ Red",
        size=BODY_SIZE - 0.5,
        colour=theme.muted_text,
    )
    page.rule(MARGIN + 1.5)
    page.text(MARGIN, MARGIN + 1.65, "Contents", size=HEADING_SIZE, weight="bold")
    y = MARGIN + 2.05
    first_pages: dict[str, int] = {}
    for number, planned in enumerate(plan, start=1):
        if planned.section is not None and planned.first_of_section:
            first_pages[planned.section.code] = number
    empty_page = next((n for n, p in enumerate(plan, start=1) if p.kind == "empty"), None)
    quality_page = next(n for n, p in enumerate(plan, start=1) if p.kind == "quality")
    column_x = (MARGIN, WIDTH / 2 + 0.2)
    lines = []
    for section in assessment.sections:
        where = first_pages.get(section.code, empty_page)
        count = len(section.measures)
        lines.append(
            (
                f"{section.kind.capitalize()}: {_shorten(section.name, 36)} "
                f"({count} measure{'s' if count != 1 else ''})",
                where,
            )
        )
    lines.append(("Data quality", quality_page))
    half = (len(lines) + 1) // 2
    for index, (words, where) in enumerate(lines):
        x = column_x[0 if index < half else 1]
        row_y = y + (index if index < half else index - half) * 0.28
        page.text(x, row_y, words)
        page.text(x + WIDTH / 2 - 0.7, row_y, f"page {where}", ha="right", colour=theme.muted_text)
    y += half * 0.28 + 0.3
    page.rule(y)
    page.text(MARGIN, y + 0.15, "Data quality at a glance", size=HEADING_SIZE, weight="bold")
    glance = [f"{topic}: {assessment.quality_count(topic)}" for topic in QUALITY_TOPICS]
    glance.append(f"Published as [c]: {assessment.suppressed}")
    page.text(MARGIN, y + 0.55, " · ".join(glance))
    return page.fig


def _measure_block(
    page: _Canvas,
    assessment: Assessment,
    measure: AssessedMeasure,
    series: TrendSeries | None,
    top: float,
    height: float,
) -> None:
    theme = page.theme
    page.text(
        MARGIN,
        top,
        f"{measure.code}  {_shorten(measure.title, 110)}",
        size=BODY_SIZE + 1,
        weight="bold",
    )
    page.text(
        MARGIN,
        top + 0.24,
        # a context measure's "service" already says so
        f"{measure.service} · {measure.unit} · {measure.polarity} · {measure.frequency}",
        size=BODY_SIZE - 0.5,
        colour=theme.muted_text,
    )
    chart_top, chart_width = top + 0.55, 5.6
    chart_height = height - 0.95 - KEY_HEIGHT
    ax = page.fig.add_axes(
        (
            (MARGIN + 0.55) / WIDTH,
            1 - (chart_top + chart_height) / HEIGHT,
            (chart_width - 0.6) / WIDTH,
            chart_height / HEIGHT,
        )
    )
    if series is not None and series.has_values:
        _key(ax, draw_trend(ax, series, theme, compact=True, fonts=COMPACT_FONTS), theme)
    else:
        ax.set_axis_off()
        words = "No figures held yet"
        if series is not None and series.baseline is not None:
            words += f": baseline {format_number(series.baseline, series.decimals)}"
        ax.text(0.5, 0.5, words, ha="center", va="center", color=theme.muted_text)
    x = MARGIN + chart_width + 0.3
    rows = [
        (label, figure.text)
        for label, figure in zip(assessment.quarter_labels, measure.quarters, strict=True)
    ]
    rows.append(
        (
            "Latest",
            f"{measure.latest.text}"
            + (f" ({measure.latest_period})" if measure.latest_period else ""),
        )
    )
    change = "–"
    if measure.change is not None:
        sign = "+" if measure.change > 0 else ""
        change = f"{sign}{format_number(measure.change, measure.latest.decimals)}"
        if measure.direction:
            change += f"\t{measure.direction}"  # the arrow and word at the next tab stop
    rows.append(("A year earlier", measure.year_earlier.text))
    rows.append(("Change on the year", change))
    if measure.kind != "context":
        rows.append(("Target", measure.target.text))
        rows.append(("RAG", RAG_WORDS.get(measure.rag or "", "–")))
    rows.append(("Baseline", measure.baseline.text))
    held = [f"{name}: {figure.text}" for name, figure in measure.comparators if figure.value]
    for number, packed in enumerate(_packed(held, VALUE_CHARACTERS)):
        rows.append(("Compared with" if number == 0 else "", packed))
    for start in range(0, len(measure.years), 3):
        rows.append(
            (
                "Year ends" if start == 0 else "",
                "   ".join(
                    f"{label}: {figure.text}" for label, figure in measure.years[start : start + 3]
                ),
            )
        )
    # Many comparators, or a note, could run the table into the measure below: the rows
    # close up (and, if need be, get smaller) to stay inside the block.
    lines = len(rows) + (1 if measure.note else 0)
    line = min(LINE, (height - 0.55 - BLOCK_GAP) / lines)
    size = min(TABLE_SIZE, line * 72 / MIN_LINE_SPACING)
    spacing = line * 72 / size
    # One text per column, not one per cell: a PDF's text costs most of its drawing time.
    page.text(
        x,
        chart_top,
        "\n".join(label for label, _ in rows),
        size=size,
        colour=theme.muted_text,
        linespacing=spacing,
    )
    page.text(
        x + 1.45,
        chart_top,
        "\n".join(_shorten(value, VALUE_CHARACTERS) for _, value in rows),
        size=size,
        linespacing=spacing,
    )
    if measure.note:
        page.text(
            x,
            chart_top + len(rows) * line + 0.05,
            measure.note,
            size=size - 0.5,
            style="italic",
            colour=theme.muted_text,
        )


def _packed(items: Sequence[str], width: int) -> list[str]:
    """Items side by side, three spaces apart, in lines of at most `width` characters (an
    item longer than that has a line of its own)."""
    lines: list[str] = []
    for item in items:
        if lines and len(lines[-1]) + 3 + len(item) <= width:
            lines[-1] += "   " + item
        else:
            lines.append(item)
    return lines


def _key(ax: Axes, entries: LegendEntries, theme: ChartTheme) -> None:
    """What each line and marker is, in one row under the chart (the dashed baseline, the
    target, a comparator are otherwise unnamed on paper)."""
    if len(entries.labels) < 2:
        return  # the values alone: the table beside the chart names them
    legend = ax.legend(
        # a tuple of artists is one entry (HandlerTuple); the stub wants Artists
        cast(list[Artist], entries.handles),
        entries.labels,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.1),
        ncols=min(len(entries.labels), 5),
        frameon=False,
        fontsize=COMPACT_FONTS.legend,
        labelcolor=theme.text,
        handlelength=2.0,
        columnspacing=1.2,
        borderaxespad=0.0,
    )
    for text, colour in zip(legend.get_texts(), entries.colours, strict=True):
        if colour is not None:
            text.set_color(colour)


def _section_page(
    assessment: Assessment,
    planned: _Page,
    series: Mapping[str, TrendSeries],
    theme: ChartTheme,
) -> Figure:
    page = _Canvas(theme)
    section = planned.section
    assert section is not None
    heading = f"{section.kind.capitalize()}: {section.name}"
    if not planned.first_of_section:
        heading += " (continued)"
    page.text(MARGIN, MARGIN - 0.1, heading, size=HEADING_SIZE, weight="bold")
    top = MARGIN + 0.3
    if planned.first_of_section and section.commitment:
        # the priority's whole sentence, over two lines if need be: a board reads it, so no
        # cut word
        lines = textwrap.wrap(section.commitment, COMMITMENT_LINE)
        if len(lines) > 2:
            lines = [lines[0], _shorten(" ".join(lines[1:]), COMMITMENT_LINE)]
        page.text(
            MARGIN,
            top - 0.1,
            "\n".join(lines),
            size=BODY_SIZE - 0.5,
            style="italic",
            colour=theme.muted_text,
        )
    top += 0.3
    block = (HEIGHT - top - 0.6) / MEASURES_PER_PAGE
    for index, measure in enumerate(planned.measures):
        if index:
            page.rule(top + index * block - 0.12)
        _measure_block(
            page, assessment, measure, series.get(measure.code), top + index * block, block
        )
    return page.fig


def _empty_page(planned: _Page, theme: ChartTheme) -> Figure:
    page = _Canvas(theme)
    page.text(
        MARGIN,
        MARGIN - 0.1,
        "Duties and priorities with no indicator yet",
        size=HEADING_SIZE,
        weight="bold",
    )
    page.text(
        MARGIN,
        MARGIN + 0.3,
        "No return reports on these yet: the coordinator can add services and indicators "
        "(service add, publish) so that next year's assessment has figures for them.",
        colour=theme.muted_text,
    )
    y = MARGIN + 0.8
    for section in planned.empty_sections:
        page.text(MARGIN, y, f"{section.kind.capitalize()}: {section.name}", weight="bold")
        if section.commitment:
            page.text(
                MARGIN + 0.2,
                y + 0.25,
                _shorten(section.commitment, 170),
                size=BODY_SIZE - 0.5,
                colour=theme.muted_text,
            )
        y += 0.65
    return page.fig


def _quality_page(assessment: Assessment, planned: _Page, theme: ChartTheme) -> Figure:
    page = _Canvas(theme)
    page.text(
        MARGIN,
        MARGIN - 0.1,
        f"Data quality, {assessment.year_label}",
        size=HEADING_SIZE,
        weight="bold",
    )
    start, end = planned.quality_rows
    if not assessment.quality:
        page.text(
            MARGIN,
            MARGIN + 0.4,
            "Every return was on time, accepted as signed, and never revised; no figure was [x].",
        )
        return page.fig
    page.text(
        MARGIN,
        MARGIN + 0.3,
        f"{len(assessment.quality)} notes, one row per topic and service; the workbook's Data "
        "quality sheet lists each return.",
        size=BODY_SIZE - 0.5,
        colour=theme.muted_text,
    )
    columns = (MARGIN, MARGIN + 2.1, MARGIN + 5.6, MARGIN + 6.9)
    y = MARGIN + 0.65
    for x, heading in zip(columns, ("What", "Service", "Quarters", "What happened"), strict=True):
        page.text(x, y, heading, size=TABLE_SIZE, weight="bold")
    y += LINE + 0.05
    groups = grouped_quality(assessment.quality, assessment.year_label)[start:end]
    for index, (x, limit) in enumerate(zip(columns, (30, 50, 18, 66), strict=True)):
        cells = [(g.topic, g.service, g.periods, g.detail)[index] for g in groups]
        page.text(
            x,
            y,
            "\n".join(_shorten(words, limit) for words in cells),
            size=TABLE_SIZE,
            linespacing=LINE_SPACING,
        )
    return page.fig


def assessment_figures(
    assessment: Assessment, series: Mapping[str, TrendSeries], *, theme: str = "light"
) -> Iterator[Figure]:
    """Each page as a Figure, in order (drawn one by one)."""
    chart_theme = get_theme(theme)
    plan = plan_pages(assessment)
    for number, planned in enumerate(plan, start=1):
        if planned.kind == "cover":
            fig = _cover(assessment, plan, chart_theme)
        elif planned.kind == "section":
            fig = _section_page(assessment, planned, series, chart_theme)
        elif planned.kind == "empty":
            fig = _empty_page(planned, chart_theme)
        else:
            fig = _quality_page(assessment, planned, chart_theme)
        page = _Canvas.__new__(_Canvas)
        page.theme, page.fig = chart_theme, fig
        page.footer(assessment, number, len(plan))
        yield fig


def write_assessment_pdf(
    assessment: Assessment,
    series: Mapping[str, TrendSeries],
    path: str | os.PathLike[str],
    after_page: Callable[[int], None] | None = None,
) -> int:
    """Write the assessment as one PDF at `path`, all or nothing; returns the pages.
    `after_page(pages written)` is called after each page; what it raises stops the writing
    and leaves `path` as it was (how a Cancel button stops it)."""
    target = Path(path)
    pages = 0
    helvetica = _helvetica_found()
    with atomic_output(target, "strategic assessment") as stream:
        metadata = {
            "Title": f"{TITLE}: {assessment.year_label}",
            "Creator": "SKP Returns",
            "Producer": "SKP Returns",
            "CreationDate": None,
        }
        with PDF_DRAWING, _in_helvetica(helvetica), PdfPages(stream, metadata=metadata) as pdf:
            for fig in assessment_figures(assessment, series):
                if helvetica:
                    _keep_dejavu_where_needed(fig)
                pdf.savefig(fig, facecolor=fig.get_facecolor())
                pages += 1
                if after_page is not None:
                    after_page(pages)
    return pages


# The PDF's own Helvetica. matplotlib 3.11 lays a PDF's TrueType text out glyph by glyph
# (libraqm, then a FreeType load of each glyph: ~50 µs a glyph), and these pages hold ~17,500
# glyphs: about half the assessment's time. A PDF reader has the fourteen standard fonts
# itself, so text in them is written whole (Windows-1252, which every reader and pdftotext
# read as text): the whole PDF in half the time. What that encoding lacks (the RAG shapes,
# the arrows, names in other scripts) keeps DejaVu Sans, embedded.


def _in_winansi(words: str) -> bool:
    """Whether the PDF's standard fonts can write `words` (they know Windows-1252 only)."""
    try:
        words.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def _helvetica_found() -> bool:
    """Whether matplotlib finds the standard Helvetica for each weight and style the pages use:
    its `pdfcorefonts` folder must be installed and in its font cache. Where it is not, the
    pages are written all in DejaVu Sans, as before."""
    folder = os.path.join(matplotlib.get_data_path(), "fonts", "pdfcorefonts")
    with _quiet_font_log():
        try:
            for props in (
                FontProperties(family=["sans-serif"]),
                FontProperties(family=["sans-serif"], weight="bold"),
                FontProperties(family=["sans-serif"], style="italic"),
            ):
                found = findfont(props, fontext="afm", directory=folder, fallback_to_default=False)
                if not os.path.basename(found).startswith("Helvetica"):
                    return False
        except ValueError:
            return False
    return True


@contextlib.contextmanager
def _quiet_font_log() -> Iterator[None]:
    """matplotlib logs that Helvetica's weight is "medium" where "normal" was asked for: true,
    and of no interest to anyone reading the log."""
    fonts_log = logging.getLogger("matplotlib.font_manager")
    level = fonts_log.level
    fonts_log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        fonts_log.setLevel(level)


@contextlib.contextmanager
def _in_helvetica(helvetica: bool) -> Iterator[None]:
    """The standard fonts switched on for what is drawn to a PDF meanwhile (matplotlib's
    setting is global: hold PDF_DRAWING). The charts' tick labels need nothing outside
    Windows-1252: they are the app's own, a negative number with a hyphen-minus."""
    if not helvetica:
        yield
        return
    with (
        _quiet_font_log(),
        matplotlib.rc_context({"pdf.use14corefonts": True}),
    ):
        yield


def _keep_dejavu_where_needed(fig: Figure) -> None:
    """Each text of the page that Helvetica cannot write is drawn in DejaVu Sans."""
    for text in fig.findobj(Text):
        if isinstance(text, Text) and not _in_winansi(text.get_text()):
            setattr(text, "draw", _drawn_in_dejavu(text.draw))  # noqa: B010


def _drawn_in_dejavu(draw: Callable[[RendererBase], None]) -> Callable[[RendererBase], None]:
    def drawn(renderer: RendererBase) -> None:
        with matplotlib.rc_context({"pdf.use14corefonts": False}):
            draw(renderer)

    return drawn
