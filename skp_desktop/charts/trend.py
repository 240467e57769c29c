"""An indicator's values over time, with RAG shapes, target, baseline and comparators."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, TypeVar, cast

from matplotlib import rcParams
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backend_bases import RendererBase
from matplotlib.cbook import STEP_LOOKUP_MAP
from matplotlib.figure import Figure, SubFigure
from matplotlib.lines import Line2D
from matplotlib.markers import TICKDOWN
from matplotlib.path import Path
from matplotlib.text import Annotation, Text
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator
from matplotlib.transforms import blended_transform_factory, offset_copy

from skp_desktop.charts.series import TrendSeries
from skp_desktop.charts.styling import (
    COMPACT_FONTS,
    FULL_FONTS,
    TICK_LENGTH,
    TICK_PAD,
    TICK_WIDTH,
    FontSizes,
    fonts_for,
    measure_in,
    new_figure,
    style_axes,
    wrap,
)
from skp_desktop.charts.theme import (
    NEUTRAL_MARKER,
    RAG_MARKERS,
    ChartTheme,
    get_theme,
)
from skp_desktop.domain.definitions import Polarity, Unit
from skp_desktop.domain.rag import Rag

NAN = float("nan")
LINE_LABEL_GAP = 2.5  # points between a line and the name written along it

# Units that cannot go below zero, so their axis never does either.
_NON_NEGATIVE = frozenset({Unit.PERCENT, Unit.COUNT, Unit.RATE_PER_1000, Unit.RATE_PER_10000})

_AXIS_LABELS = {
    Unit.PERCENT: "Percentage (%)",
    Unit.COUNT: "Count",
    Unit.RATE_PER_1000: "Rate per 1,000",
    Unit.RATE_PER_10000: "Rate per 10,000",
    Unit.SCORE: "Score",
}

_POLARITY_TEXT = {
    Polarity.HIGHER_IS_BETTER: "higher is better",
    Polarity.LOWER_IS_BETTER: "lower is better",
    Polarity.NEUTRAL: "neutral: neither higher nor lower is better",
}

# Legend words: the legend's handle shows the shape (◆, ○, and ● ▲ ■ for RAG), so the words
# do not repeat it.
REVISED_LABEL = "Revised figure"
NOT_RATED_LABEL = "Not rated"


def unit_axis_label(unit: Unit) -> str:
    """The y-axis label for a unit: "Percentage (%)", "Count", "Rate per 10,000", "Score"."""
    return _AXIS_LABELS[Unit(unit)]


def polarity_text(polarity: Polarity) -> str:
    """The polarity in words for a subtitle: "higher is better"."""
    return _POLARITY_TEXT[Polarity(polarity)]


_T = TypeVar("_T")
HorizontalAlignment = Literal["left", "center", "right"]
VerticalAlignment = Literal["bottom", "baseline", "center", "center_baseline", "top"]
# A label's place beside its point: offset in points (x, y) and its alignments.
_Place = tuple[float, float, HorizontalAlignment, VerticalAlignment]


@dataclass
class LegendEntries:
    """Handles and labels for a legend, in the order they should be read."""

    # an entry of two artists drawn over each other is a tuple (matplotlib's HandlerTuple)
    handles: list[Artist | tuple[Artist, ...]] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    colours: list[str | None] = field(default_factory=list)  # a word's own colour, e.g. RAG

    def add(
        self, handle: Artist | tuple[Artist, ...], label: str, colour: str | None = None
    ) -> None:
        """Add one entry unless the same label, in the same colour, is already there."""
        if (label, colour) not in zip(self.labels, self.colours, strict=True):
            self.handles.append(handle)
            self.labels.append(label)
            self.colours.append(colour)

    def add_rag(self, handle: Artist, rag: Rag, theme: ChartTheme) -> None:
        """A RAG level: its shape in the handle, its word in its own colour beside it."""
        self.add(handle, rag.value, theme.rag_text[rag])


def _as_float(value: Decimal | None) -> float:
    return NAN if value is None else float(value)


def draw_trend(
    ax: Axes,
    series: TrendSeries,
    theme: ChartTheme,
    *,
    compact: bool,
    fonts: FontSizes | None = None,
) -> LegendEntries:
    """Draw `series` on `ax` and return the legend entries naming everything drawn."""
    fonts = fonts or (COMPACT_FONTS if compact else FULL_FONTS)
    style_axes(ax, theme, fonts)
    legend = LegendEntries()
    points = series.points
    xs = list(range(len(points)))
    ys = [_as_float(point.value) for point in points]
    scale = 0.65 if compact else (1.0 if fonts is FULL_FONTS else 0.8)

    values_line = ax.plot(
        xs,
        ys,
        color=theme.values,
        linewidth=2.2 * scale + 0.3,
        solid_capstyle="round",
        zorder=3,
        gid="values",
        label="Value",
    )[0]

    # Every value gets a marker: its RAG shape, or a neutral diamond when it has no rating.
    rated = [p for p in points if not p.is_gap and p.rag is not None]
    unrated_x = [x for x, p in zip(xs, points, strict=True) if not p.is_gap and p.rag is None]
    neutral = None
    if unrated_x:
        neutral = ax.plot(
            unrated_x,
            [ys[x] for x in unrated_x],
            linestyle="none",
            marker=NEUTRAL_MARKER,
            markersize=6.5 * scale,
            markerfacecolor=theme.values,
            markeredgecolor=theme.values,
            zorder=4,
            clip_on=False,
            gid="rag:none",
            label=NOT_RATED_LABEL,
        )[0]
    if rated or neutral is None:
        legend.add(values_line, "Value")
    else:
        # Nothing is rated: the value line and its diamonds are one legend entry.
        legend.add((values_line, neutral), "Value")

    for rag in Rag:
        at = [x for x, p in zip(xs, points, strict=True) if not p.is_gap and p.rag is rag]
        if not at:
            continue
        size = 10 if rag is Rag.AMBER else 9  # a triangle looks smaller than a circle or square
        line = ax.plot(
            at,
            [ys[x] for x in at],
            linestyle="none",
            marker=RAG_MARKERS[rag],
            markersize=size * scale,
            markerfacecolor=theme.rag_fill[rag],
            markeredgecolor=theme.marker_edge,
            markeredgewidth=0.9 * scale,
            zorder=5,
            clip_on=False,
            gid=f"rag:{rag.value}",
            label=rag.value,
        )[0]
        legend.add_rag(line, rag, theme)
    if rated and neutral is not None:
        legend.add(neutral, NOT_RATED_LABEL)

    revised_x = [x for x, p in zip(xs, points, strict=True) if not p.is_gap and p.revised]
    if revised_x:
        ring = ax.plot(
            revised_x,
            [ys[x] for x in revised_x],
            linestyle="none",
            marker="o",
            markersize=17 * scale,
            markerfacecolor="none",
            markeredgecolor=theme.text,
            markeredgewidth=1.4 * scale,
            zorder=6,
            clip_on=False,
            gid="revised",
            label=REVISED_LABEL,
        )[0]
        # The legend shows a smaller ring: the full-size one would crowd its row.
        legend.add(
            Line2D(
                [],
                [],
                linestyle="none",
                marker="o",
                markersize=11,
                markerfacecolor="none",
                markeredgecolor=theme.text,
                markeredgewidth=1.3,
            ),
            str(ring.get_label()),
        )

    _draw_target(ax, series, theme, scale, legend)
    _draw_baseline(ax, series, theme, fonts, compact, legend)
    _draw_comparators(ax, series, theme, scale, legend)
    _draw_gaps(ax, series, theme, fonts, compact)

    ax.set_xlim(-0.6, max(len(points) - 0.4, 0.6))
    _set_x_ticks(ax, series, theme, fonts, compact)
    _set_y_axis(ax, series, compact, fonts)
    if not compact:
        ax.set_ylabel(unit_axis_label(series.unit), fontsize=fonts.label, color=theme.text)
        _label_target(ax, series, theme, fonts)
        _label_latest(ax, series, theme, fonts)
    if not series.has_values:
        ax.text(
            0.5,
            0.5,
            "No figures for these periods",
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=fonts.label,
            color=theme.muted_text,
            gid="no-values",
        )
    return legend


def _draw_target(
    ax: Axes, series: TrendSeries, theme: ChartTheme, scale: float, legend: LegendEntries
) -> None:
    """The target in force in each period, as steps that change at the period boundaries."""
    if not series.targets or not series.points:
        return
    in_force = [series.target_for(point.period) for point in series.points]
    if all(target is None for target in in_force):
        return
    # Each period's target spans its column (x - 0.5 to x + 0.5); the last step runs to the end.
    edges = [x - 0.5 for x in range(len(in_force))] + [len(in_force) - 0.5]
    levels = [_as_float(t) for t in in_force] + [_as_float(in_force[-1])]
    shown: list[Decimal] = []
    for target in in_force:
        if target is not None and (not shown or shown[-1] != target):
            shown.append(target)
    label = "Target: " + " → ".join(series.format_value(t) for t in shown[-3:])
    line = ax.plot(
        edges,
        levels,
        drawstyle="steps-post",
        color=theme.target,
        linewidth=1.8 * scale,
        zorder=2,
        gid="target",
        label=label,
    )[0]
    legend.add(line, label)


def _draw_baseline(
    ax: Axes,
    series: TrendSeries,
    theme: ChartTheme,
    fonts: FontSizes,
    compact: bool,
    legend: LegendEntries,
) -> None:
    """The baseline as a dashed line across the chart, named on the line itself."""
    if series.baseline is None:
        return
    label = f"{series.baseline_label}: {series.format_value(series.baseline)}"
    line = ax.axhline(
        float(series.baseline),
        color=theme.baseline,
        linestyle=(0, (5, 3)),
        linewidth=1.6 if not compact else 1.0,
        zorder=1,
        gid="baseline",
        label=label,
    )
    legend.add(line, label)
    if not compact:
        level = float(series.baseline)
        place = _line_label_place(series, level, level)
        _name_line(
            ax,
            series.baseline_label,
            level,
            place,
            fonts,
            theme,
            colour=theme.muted_text,
            zorder=1,
            gid="baseline-label",
        )


def _line_label_place(
    series: TrendSeries, left_level: float | None, right_level: float | None
) -> tuple[float, str, str]:
    """Where a line's name goes: the end, and the side of the line, with fewer points.

    `left_level` and `right_level` are the line's height at each end (None: not drawn there).
    """
    values = [float(p.value) if p.value is not None else None for p in series.points]

    def nearest(ends: list[float | None], level: float | None) -> float:
        if level is None:
            return -math.inf
        found = [abs(v - level) for v in ends if v is not None]
        return min(found, default=math.inf)

    left, right = values[:2], values[-2:]
    use_left = nearest(left, left_level) >= nearest(right, right_level)
    end = [v for v in (left if use_left else right) if v is not None]
    level = left_level if use_left else right_level
    level = level if level is not None else 0.0
    # Write on the side of the line away from the points at that end.
    va = "top" if end and sum(v >= level for v in end) * 2 >= len(end) else "bottom"
    return (0.005, "left", va) if use_left else (0.995, "right", va)


def _label_target(ax: Axes, series: TrendSeries, theme: ChartTheme, fonts: FontSizes) -> None:
    """The word "Target" on the target line, at the end and on the side with fewer points.

    A target at the edge of the range could be read as the plot's frame: named, it cannot.
    """
    if not series.targets or not series.points:
        return
    first = series.target_for(series.points[0].period)
    last = series.target_for(series.points[-1].period)
    if first is None and last is None:
        return
    left, right = (None if t is None else float(t) for t in (first, last))
    place = _line_label_place(series, left, right)
    level = left if place[1] == "left" else right
    assert level is not None  # _line_label_place picks an end where the line is drawn
    _name_line(
        ax, "Target", level, place, fonts, theme, colour=theme.text, zorder=2, gid="target-label"
    )


def _name_line(
    ax: Axes,
    name: str,
    level: float,
    place: tuple[float, str, str],
    fonts: FontSizes,
    theme: ChartTheme,
    *,
    colour: str,
    zorder: int,
    gid: str,
) -> None:
    """A line's name at `place` (from _line_label_place), at its height `level`."""
    x, ha, va = place
    ax.annotate(
        f" {name} ",
        (x, level),
        xycoords=blended_transform_factory(ax.transAxes, ax.transData),
        # Clear of the line, so that the label's backing does not hide it.
        xytext=(0, -LINE_LABEL_GAP if va == "top" else LINE_LABEL_GAP),
        textcoords="offset points",
        ha=ha,
        va=va,
        fontsize=fonts.note,
        color=colour,
        zorder=zorder,
        bbox={
            "boxstyle": "square,pad=0.1",
            "facecolor": theme.axes_background,
            "edgecolor": "none",
            "alpha": 0.8,
        },
        gid=gid,
    )


def _draw_comparators(
    ax: Axes, series: TrendSeries, theme: ChartTheme, scale: float, legend: LegendEntries
) -> None:
    """Comparator series as thin dotted lines, at the periods the indicator has."""
    position = {point.period: x for x, point in enumerate(series.points)}
    for index, comparator in enumerate(series.comparators):
        values = dict(comparator.points)
        ys = [_as_float(values.get(point.period)) for point in series.points]
        if all(math.isnan(y) for y in ys):
            continue
        colour = theme.comparators[index % len(theme.comparators)]
        line = ax.plot(
            [position[point.period] for point in series.points],
            ys,
            color=colour,
            linestyle=":",
            linewidth=1.7 * scale,
            marker="o",
            markersize=2.5 * scale,
            zorder=2,
            gid=f"comparator:{comparator.name}",
            label=comparator.name,
        )[0]
        legend.add(line, comparator.name)


def _draw_gaps(
    ax: Axes, series: TrendSeries, theme: ChartTheme, fonts: FontSizes, compact: bool
) -> None:
    """Shade each gap's column and say in words why the line breaks there."""
    bottom = blended_transform_factory(ax.transData, ax.transAxes)
    meanings: list[str] = []
    for x, point in enumerate(series.points):
        if not point.is_gap:
            continue
        ax.axvspan(
            x - 0.5, x + 0.5, color=theme.grid, alpha=0.45, zorder=0, gid=f"gap:{point.period.code}"
        )
        ax.text(
            x,
            0.03,
            point.gap_text,
            transform=bottom,
            ha="center",
            va="bottom",
            fontsize=fonts.note,
            style="italic",
            color=theme.muted_text,
            gid=f"gap-label:{point.period.code}",
        )
        if point.gap_meaning not in meanings:
            meanings.append(point.gap_meaning)
    if meanings and not compact:
        note = "Gaps in the line: " + "; ".join(meanings)
        width = _panel_width_in(ax) - 0.6
        ax.set_xlabel(
            wrap(note, width, fonts.note, max_lines=2), fontsize=fonts.note, color=theme.muted_text
        )


def _label_latest(ax: Axes, series: TrendSeries, theme: ChartTheme, fonts: FontSizes) -> None:
    """The most recent value written by its point, so the headline figure needs no reading.

    Where it goes is settled when the chart is drawn and its size is known (LatestLabel).
    """
    latest = series.latest_point
    if latest is None or latest.value is None:
        return
    label = LatestLabel(
        series.format_value(latest.value),
        (series.points.index(latest), float(latest.value)),
        offset=13 if latest.revised else 9,
        fontsize=fonts.label,
        fontweight="bold",
        color=theme.text,
        # When every place is crossed by a line, the label's backing keeps it readable.
        bbox={
            "boxstyle": "round,pad=0.15",
            "facecolor": theme.axes_background,
            "edgecolor": "none",
            "alpha": 0.85,
        },
        zorder=7,
        gid="latest-label",
    )
    ax.add_artist(label)


class LatestLabel(Annotation):
    """A label beside a point that, when drawn, takes the first of its places that is inside
    the plot and clear of every line (the values, target, baseline and comparators).

    Above the point comes first, then below, then to the left or right of it; when no place
    is clear, the one crossed by the fewest lines inside the plot.
    """

    def __init__(self, text: str, xy: tuple[float, float], *, offset: float, **kwargs: object):
        super().__init__(
            text,
            xy,
            xytext=(0, offset),
            textcoords="offset points",
            ha="center",
            va="bottom",
            annotation_clip=False,
            **kwargs,  # type: ignore[arg-type]
        )
        side = 4.0  # points the label reaches past its point when it sits to one side
        self.places: tuple[_Place, ...] = (
            (0, offset, "center", "bottom"),
            (0, -offset, "center", "top"),
            (side, offset, "right", "bottom"),
            (side, -offset, "right", "top"),
            (-side, offset, "left", "bottom"),
            (-side, -offset, "left", "top"),
            (-offset, 0, "right", "center"),
            (offset, 0, "left", "center"),
        )
        # The plot keeps its room: the label finds a place inside it.
        self.set_in_layout(False)

    def draw(self, renderer: RendererBase) -> None:
        if self.get_visible() and self.axes is not None:
            self._place(renderer)
        super().draw(renderer)

    def _place(self, renderer: RendererBase) -> None:
        ax = self.axes
        assert ax is not None
        plot = ax.get_window_extent(renderer)
        # The stub says ArrayLike; a float in gives a float out (points * dpi / 72).
        pad = 2.5 * cast(float, renderer.points_to_pixels(1.0))
        segments = [s for line in ax.get_lines() if _avoided(line) for s in _segments(line)]
        best: tuple[tuple[bool, int, int], _Place] | None = None
        for index, place in enumerate(self.places):
            self._set_place(place)
            box = super().get_window_extent(renderer).padded(pad)
            inside = (
                plot.x0 <= box.x0 and box.x1 <= plot.x1 and plot.y0 <= box.y0 and box.y1 <= plot.y1
            )
            crossed = sum(Path(segment).intersects_bbox(box) for segment in segments)
            score = (not inside, crossed, index)
            if best is None or score < best[0]:
                best = (score, place)
            if inside and not crossed:
                break
        assert best is not None
        self._set_place(best[1])

    def _set_place(self, place: _Place) -> None:
        dx, dy, ha, va = place
        self.xyann = (dx, dy)
        self.set_horizontalalignment(ha)
        self.set_verticalalignment(va)


def _avoided(line: Line2D) -> bool:
    """Whether the latest value's label keeps clear of `line`: every line of the chart."""
    gid = line.get_gid() or ""
    return gid in ("values", "target", "baseline") or gid.startswith("comparator:")


def _segments(line: Line2D) -> list[list[tuple[float, float]]]:
    """The straight pieces of `line` as drawn, in pixels, without the breaks at gaps."""
    # The stub says ArrayLike; a Line2D's data is always a sequence of numbers.
    xs = cast(Sequence[float], line.get_xdata())
    ys = cast(Sequence[float], line.get_ydata())
    style = line.get_drawstyle()
    if style in STEP_LOOKUP_MAP and style != "default":
        xs, ys = STEP_LOOKUP_MAP[style](xs, ys)
    shown = line.get_transform().transform(
        [(float(x), float(y)) for x, y in zip(xs, ys, strict=True)]
    )
    return [
        [tuple(a), tuple(b)]
        for a, b in itertools.pairwise(shown)
        if all(math.isfinite(v) for v in (*a, *b))
    ]


def _tick_positions(count: int, step: int) -> list[int]:
    """Every `step`-th index counted back from the last, so the latest period is labelled."""
    return sorted(range(count - 1, -1, -step))


def _compact_ticks(count: int, slot: float, needed: float) -> set[int]:
    """A small multiple names its first and latest periods, and the middle one if it fits."""
    last = count - 1
    if last == 0 or last * slot < needed:
        return {last}
    middle = last // 2
    if middle and min(middle, last - middle) * slot >= needed:
        return {0, middle, last}
    return {0, last}


def _panel(ax: Axes) -> Figure | SubFigure:
    """The figure, or the dashboard tile (subfigure), holding `ax`: every axes here has one."""
    panel = ax.get_figure(root=False)
    assert panel is not None
    return panel


def _root_figure(ax: Axes) -> Figure:
    figure = ax.get_figure(root=True)
    assert figure is not None
    return figure


def _panel_width_in(ax: Axes) -> float:
    """The width in inches of the figure, or the dashboard tile (subfigure), holding `ax`."""
    panel = _panel(ax)
    return panel.bbox.width / panel.dpi


def _set_x_ticks(
    ax: Axes, series: TrendSeries, theme: ChartTheme, fonts: FontSizes, compact: bool
) -> None:
    """A tick under every period, and its short label under as many as fit side by side.

    Labels stay horizontal. When they do not all fit on one line they go on two ("2024/25"
    over "Q1"); when that is not enough either, every 2nd, 3rd, 4th, 6th or 12th label is
    shown, counted back from the latest (a step of 3 months labels the quarter ends).
    """
    labels = [point.period.short_label for point in series.points]
    if not labels:
        ax.set_xticks([])
        return
    margin = 0.7 if compact else 0.95  # y tick labels, y-axis label and padding
    slot = max(_panel_width_in(ax) - margin, 0.5) / len(labels)
    gap = 0.25 if compact else 0.14

    fig = _root_figure(ax)

    def widest(texts: list[str]) -> float:
        lines = [line for text in texts for line in text.split("\n")]
        return max(measure_in(fig, line, fonts.ticks) for line in lines)

    one_line = widest(labels)
    two_lines = [label.replace(" ", "\n", 1) for label in labels]
    panel = _panel(ax)
    panel_height = panel.bbox.height / panel.dpi  # a short figure keeps its height for the plot
    if one_line + gap <= slot:
        texts, step = labels, 1
    elif not compact and panel_height >= 3.5 and widest(two_lines) + gap <= slot:
        texts, step = two_lines, 1
    else:
        texts = labels
        step = next(
            (s for s in (2, 3, 4, 6, 12) if s * slot >= one_line + gap),
            math.ceil((one_line + gap) / slot),
        )
    if compact:
        shown: Sequence[int] = sorted(_compact_ticks(len(labels), slot, one_line + gap))
    else:
        shown = _tick_positions(len(labels), step)
    _period_axis(ax, len(labels), {i: texts[i] for i in shown}, theme, fonts)


def _period_axis(
    ax: Axes, count: int, labels: dict[int, str], theme: ChartTheme, fonts: FontSizes
) -> None:
    """A tick mark under each of `count` periods and, under those in `labels`, their labels.

    They look like matplotlib's own ticks as style_axes dresses them, but are one line of
    markers and a Text per label: a matplotlib Tick is five artists and its axis's upkeep, the
    largest share of drawing a small multiple (bench/charts.py), and, one a period, about an
    eighth of what a board pack's pages add when they show nine periods instead of three
    (bench/ten_years.py). period_labels(ax) reads the labels back.
    """
    ax.set_xticks([])
    ax.plot(
        range(count),
        [0.0] * count,
        transform=ax.get_xaxis_transform(),  # x in data, y on the bottom spine, as ticks are
        linestyle="none",
        marker=TICKDOWN,
        markersize=TICK_LENGTH,
        markeredgewidth=TICK_WIDTH,
        color=theme.spine,
        clip_on=False,
        gid="period-ticks",
    )
    below = offset_copy(
        ax.get_xaxis_transform(), _root_figure(ax), y=-(TICK_LENGTH + TICK_PAD), units="points"
    )
    for x, text in sorted(labels.items()):
        ax.text(
            x,
            0.0,
            text,
            transform=below,
            ha="center",
            va="top",
            fontsize=fonts.ticks,
            color=theme.text,
            clip_on=False,
            gid=f"period-label:{x}",
        )
    # The axis's own label (the note about gaps) goes below the period labels, as it would
    # below matplotlib's tick labels.
    lines = max((text.count("\n") + 1 for text in labels.values()), default=0)
    ax.xaxis.labelpad = (
        TICK_LENGTH + TICK_PAD + lines * fonts.ticks * 1.2 + rcParams["axes.labelpad"]
    )


def period_labels(ax: Axes) -> list[Text]:
    """The period labels under a trend's plot, left to right (drawn by _period_axis)."""
    found = [t for t in ax.texts if (t.get_gid() or "").startswith("period-label:")]
    return sorted(found, key=lambda t: t.get_position()[0])


def _all_values(series: TrendSeries) -> list[float]:
    """Every figure the y-axis has to show: values, targets in view, baseline, comparators."""
    found = [float(p.value) for p in series.points if p.value is not None]
    found += [float(t) for p in series.points if (t := series.target_for(p.period)) is not None]
    if series.baseline is not None:
        found.append(float(series.baseline))
    periods = {p.period for p in series.points}
    for comparator in series.comparators:
        found += [float(value) for period, value in comparator.points if period in periods]
    return found


def y_limits(series: TrendSeries, *, bins: int = 5) -> tuple[float, float]:
    """The y-axis range: the data with some room, rounded to tick steps.

    Units that cannot be negative never go below 0, and the axis starts at 0 when the data
    comes close to it anyway; percentages never go above 100 when the data does not.
    """
    found = _all_values(series)
    non_negative = series.unit in _NON_NEGATIVE
    if not found:
        return (0.0, 100.0) if series.unit is Unit.PERCENT else (0.0, 1.0)
    low, high = min(found), max(found)
    span = high - low
    pad = span * 0.12 if span > 0 else max(abs(high) * 0.1, 1.0)
    low, high = low - pad, high + pad * 1.5  # more room above for the latest value's label
    if non_negative and (low < 0 or low < high * 0.2) and min(found) >= 0:
        low = 0.0
    locator = MaxNLocator(nbins=bins, steps=[1, 2, 2.5, 5, 10], integer=series.unit is Unit.COUNT)
    ticks = locator.tick_values(low, high)
    low, high = float(ticks[0]), float(ticks[-1])
    if non_negative and min(found) >= 0:
        low = max(low, 0.0)
    if series.unit is Unit.PERCENT and max(found) <= 100:
        high = min(high, 100.0)
    return low, high


def tick_decimals(ticks: Sequence[float], most: int = 3) -> int:
    """The fewest decimals (up to `most`) that write every tick exactly: 2.5 steps need one."""
    for places in range(most + 1):
        scale = 10**places
        if all(abs(t * scale - round(t * scale)) <= 1e-6 * max(1.0, abs(t * scale)) for t in ticks):
            return places
    return most


def _reference_levels(series: TrendSeries) -> list[float]:
    """The heights of the target (in force in any period shown) and the baseline."""
    levels = [float(t) for p in series.points if (t := series.target_for(p.period)) is not None]
    if series.baseline is not None:
        levels.append(float(series.baseline))
    return levels


def headroom(
    series: TrendSeries, low: float, high: float, pad_fraction: float
) -> tuple[float, float]:
    """`low`–`high` widened by `pad_fraction` of the range on a side where a target or
    baseline would otherwise lie on the plot's edge, where it reads as a frame line."""
    span = high - low
    if span <= 0:
        return low, high
    levels = _reference_levels(series)
    near = pad_fraction * span / 2
    top = high + pad_fraction * span if any(high - level < near for level in levels) else high
    bottom = low - pad_fraction * span if any(level - low < near for level in levels) else low
    return bottom, top


def _set_y_axis(ax: Axes, series: TrendSeries, compact: bool, fonts: FontSizes) -> None:
    """Limits from y_limits, tick labels in en-GB style with the unit's suffix."""
    panel = _panel(ax)
    panel_height = panel.bbox.height / panel.dpi
    bins = 3 if compact else (5 if panel_height >= 4 else 4)
    low, high = y_limits(series, bins=bins)
    locator = MaxNLocator(nbins=bins, steps=[1, 2, 2.5, 5, 10], integer=series.unit is Unit.COUNT)
    ticks = [float(t) for t in locator.tick_values(low, high) if low <= t <= high]
    # Room beyond a target or baseline at the edge: in a full chart, for the target's name too.
    room_points = 8.0 if compact else fonts.note * 1.3 + 5
    # Rough plot heights: a tile's title and headline take about an inch of it.
    plot_points = max((panel_height - 1.05 if compact else panel_height * 0.55) * 72, 36.0)
    ax.set_ylim(*headroom(series, low, high, min(room_points / plot_points, 0.25)))
    # The ticks stay those of the rounded range: no "102.5%" in the room above a 100% target.
    ax.yaxis.set_major_locator(FixedLocator(ticks))
    places = tick_decimals(ticks)
    suffix = "%" if series.unit is Unit.PERCENT else ""
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.{places}f}{suffix}"))


def _figure_title(fig: Figure, series: TrendSeries, theme: ChartTheme, fonts: FontSizes) -> None:
    """The indicator's title wrapped to the figure's width, bold, at the top left.

    A short figure allows fewer lines (cut with "…") so that the plot keeps its room.
    """
    height = fig.get_figheight()
    lines = 3 if height >= 4.5 else (2 if height >= 3.5 else 1)
    fig.suptitle(
        wrap(series.title, fig.get_figwidth() - 0.4, fonts.title, max_lines=lines, bold=True),
        x=0.015,
        ha="left",
        fontsize=fonts.title,
        fontweight="bold",
        color=theme.text,
    )


def compact_title(series: TrendSeries, width_in: float, fontsize: float) -> str:
    """Code and title shortened to two lines across `width_in`: "SKP01 Violence with …"."""
    return wrap(f"{series.code} {series.title}", width_in, fontsize, max_lines=2, bold=True)


def _row_major(items: Sequence[_T], columns: int) -> list[_T]:
    """Reorder `items` so a legend, which fills column by column, reads left to right."""
    rows = math.ceil(len(items) / columns)
    grid = [items[row * columns : (row + 1) * columns] for row in range(rows)]
    return [grid[row][col] for col in range(columns) for row in range(rows) if col < len(grid[row])]


def _legend_columns(
    fig: Figure, labels: list[str], fontsize: float, width: float | None = None
) -> int:
    """The most columns (up to 4) whose labels, read left to right, fit across `width` inches
    (the figure's width by default)."""
    available = (width if width is not None else fig.get_figwidth()) - 0.3
    # Handle (2.4 em), the gap to the text (0.8 em) and the column spacing (1.4 em).
    extra = (2.4 + 0.8 + 1.4) * fontsize / 72
    widths = [measure_in(fig, label, fontsize) + extra for label in labels]
    for columns in range(min(4, len(labels)), 1, -1):
        needed = sum(max(widths[col::columns]) for col in range(columns))
        if needed <= available:
            return columns
    return 1


def add_legend(
    fig: Figure,
    entries: LegendEntries,
    theme: ChartTheme,
    fontsize: float,
    *,
    width: float | None = None,
) -> None:
    """A legend under the plot, outside the data, read left to right in as many columns as fit
    across the figure (or `width` inches of it)."""
    if not entries.labels:
        return
    columns = _legend_columns(fig, entries.labels, fontsize, width)
    legend = fig.legend(
        # The stub wants Artists only; a tuple of them is one entry (HandlerTuple).
        cast(list[Artist], _row_major(entries.handles, columns)),
        _row_major(list(entries.labels), columns),
        loc="outside lower center",
        ncols=columns,
        frameon=False,
        fontsize=fontsize,
        labelcolor=theme.text,
        handlelength=2.4,
        columnspacing=1.4,
    )
    legend.set_gid("legend")
    # The RAG words in their own colour too, as in the return grid: word, shape and colour.
    for text, colour in zip(legend.get_texts(), _row_major(entries.colours, columns), strict=True):
        if colour is not None:
            text.set_color(colour)


def trend_figure(
    series: TrendSeries,
    *,
    theme: str = "light",
    size: tuple[float, float] = (8, 4.5),
    compact: bool = False,
) -> Figure:
    """A line chart of one indicator by period; compact=True for a small multiple."""
    chart_theme = get_theme(theme)
    if not series.points:
        return empty_figure(
            f"{series.code} {series.title}: no figures have been returned yet.",
            theme=theme,
            size=size,
        )
    fig = new_figure(chart_theme, size)
    ax = fig.add_subplot()
    ax.set_gid(f"trend:{series.code}")
    fonts = fonts_for(size, compact=compact)
    entries = draw_trend(ax, series, chart_theme, compact=compact, fonts=fonts)
    if compact:
        ax.set_title(
            compact_title(series, size[0] - 0.2, COMPACT_FONTS.title),
            loc="left",
            fontsize=COMPACT_FONTS.title,
            fontweight="bold",
            color=chart_theme.text,
        )
        # Small, but the shapes still need their names: a RAG read without colour needs a key.
        add_legend(fig, entries, chart_theme, COMPACT_FONTS.legend)
    else:
        _figure_title(fig, series, chart_theme, fonts)
        polarity = polarity_text(series.polarity)
        ax.set_title(
            f"{series.code} · {polarity[0].upper()}{polarity[1:]}",
            loc="left",
            fontsize=fonts.subtitle,
            color=chart_theme.muted_text,
        )
        add_legend(fig, entries, chart_theme, fonts.legend)
    return fig


def empty_figure(
    message: str, *, theme: str = "light", size: tuple[float, float] = (8, 4.5)
) -> Figure:
    """A figure that says in words why there is no chart (e.g. no data for the indicator)."""
    chart_theme = get_theme(theme)
    fig = new_figure(chart_theme, size)
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_facecolor(chart_theme.figure_background)
    ax.text(
        0.5,
        0.5,
        wrap(message, size[0] * 0.8, FULL_FONTS.label + 1),
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=FULL_FONTS.label + 1,
        color=chart_theme.muted_text,
        gid="empty-message",
        wrap=False,
    )
    return fig


def series_rags(series_list: Sequence[TrendSeries]) -> list[Rag]:
    """The RAG levels that appear in any of the series, in Green, Amber, Red order."""
    present = {p.rag for s in series_list for p in s.points if not p.is_gap and p.rag}
    return [rag for rag in Rag if rag in present]


def rag_legend_handle(rag: Rag, theme: ChartTheme, size: float = 8) -> Line2D:
    """A legend handle for a RAG level: its shape filled with its colour."""
    return Line2D(
        [],
        [],
        linestyle="none",
        marker=RAG_MARKERS[rag],
        markersize=size,
        markerfacecolor=theme.rag_fill[rag],
        markeredgecolor=theme.marker_edge,
        markeredgewidth=0.8,
    )
