"""Small multiples of indicator trends, and the completeness matrix of returns received."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

from matplotlib.axes import Axes
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure, SubFigure
from matplotlib.gridspec import GridSpec
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from skp_desktop.charts.series import DashboardTile, TrendSeries
from skp_desktop.charts.styling import (
    COMPACT_FONTS,
    FULL_FONTS,
    TICK_LENGTH,
    TICK_PAD,
    agg_renderer,
    measure_in,
    new_figure,
    wrap,
)
from skp_desktop.charts.theme import (
    NEUTRAL_MARKER,
    RETURN_STATES,
    STATE_LABELS,
    STATE_MEANINGS,
    ChartTheme,
    get_theme,
)
from skp_desktop.charts.trend import (
    NOT_RATED_LABEL,
    REVISED_LABEL,
    LegendEntries,
    add_legend,
    compact_title,
    draw_trend,
    empty_figure,
    period_labels,
    rag_legend_handle,
    series_rags,
)
from skp_desktop.domain.rag import Rag
from skp_desktop.domain.vocabulary import MISSING, NOT_DUE

__all__ = ["DashboardTile", "dashboard_figure", "heatmap_figure"]

TILE_SIZE = (3.3, 2.6)  # inches: a tile's title, headline and a readable small trend
KEY_HEIGHT = 0.6  # inches under the tiles for the key
MAX_DEFAULT_COLUMNS = 4
PAD = 0.06  # inches between a tile's edge and what it holds
LINE_SPACING = 1.25  # a line of text is this many times its font size high
TITLE_PAD = 4.0  # points between the headline and the plot
HEADLINE_GAP = 0.15  # inches at least between a tile's headline and its RAG word
LABEL_MARGIN = 0.15  # inches between a heatmap's edge and its row names

# Where the key under the tiles is anchored: its top or its bottom edge.
KeyLoc = Literal["upper center", "lower center"]


def _default_columns(count: int) -> int:
    """Four tiles a row fit a landscape page; larger sets go squarer so tiles stay readable."""
    if count <= 16:
        return min(count, MAX_DEFAULT_COLUMNS)
    return math.ceil(math.sqrt(count))


def dashboard_figure(
    tiles: Sequence[DashboardTile],
    *,
    columns: int | None = None,
    theme: str = "light",
    size: tuple[float, float] | None = None,
    rows: int | None = None,
    margins: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0),
    tile_size: tuple[float, float] | None = None,
) -> Figure:
    """A grid of small trends, each headed by its latest value, RAG and direction of travel.

    `rows` fixes the grid (with `columns`); `margins` (top, right, bottom, left, in inches)
    leave room around the tiles and the key, e.g. for a page's heading and footer. Without
    `tile_size` the tiles share what the margins and the key leave; with it (inches) they
    have that size, from the top left, so that every page of a longer dashboard has tiles of
    one size. The key is centred under the tiles.
    """
    chart_theme = get_theme(theme)
    if not tiles:
        return empty_figure("No indicators to show.", theme=theme, size=size or (8, 4.5))
    if columns is not None and columns < 1:
        raise ValueError(f"a dashboard needs at least one column, got {columns}")
    if rows is None:
        columns = min(columns or _default_columns(len(tiles)), len(tiles))
        rows = math.ceil(len(tiles) / columns)
    else:
        columns = columns or _default_columns(len(tiles))
        rows = max(rows, math.ceil(len(tiles) / columns))
    top, right, bottom, left = margins
    size = size or (
        (tile_size or TILE_SIZE)[0] * columns + left + right,
        (tile_size or TILE_SIZE)[1] * rows + KEY_HEIGHT + top + bottom,
    )
    # Placed by hand: constrained layout measured every tick label of every tile again and
    # cost more than drawing the whole dashboard (bench/charts.py).
    fig = new_figure(chart_theme, size, layout=None)
    room = max(size[0] - left - right, 0.5)
    add_legend(fig, _key(tiles, chart_theme), chart_theme, COMPACT_FONTS.legend + 1, width=room)
    key_height = _key_height(fig)
    if tile_size is None:
        tile_size = (room / columns, max(size[1] - key_height - top - bottom, 0.5) / rows)
        # The key's row runs from the tiles to the bottom margin; the key stands on it.
        key_at: tuple[KeyLoc, float] = ("lower center", bottom)
    else:
        key_at = ("upper center", size[1] - top - tile_size[1] * rows)
    grid_width, grid_height = tile_size[0] * columns, tile_size[1] * rows
    if any(margins):
        _key_under_grid(fig, (left, left + grid_width), (left, size[0] - right), key_at)
    # A subfigure takes its place from the grid's ratios only: the key, and each margin, get a
    # row (or column) of their own.
    rest_height = max(size[1] - top - grid_height, 0.01)
    rest_width = size[0] - left - grid_width
    heights = [top] * (top > 0) + [tile_size[1]] * rows + [rest_height]
    widths = [left] * (left > 0) + [tile_size[0]] * columns + [rest_width] * (rest_width > 0.01)
    grid = GridSpec(
        len(heights), len(widths), figure=fig, height_ratios=heights, width_ratios=widths
    )
    first_row, first_column = int(top > 0), int(left > 0)
    for index in range(rows * columns):
        row, column = first_row + index // columns, first_column + index % columns
        cell = fig.add_subfigure(grid[row, column])
        cell.set_facecolor(chart_theme.figure_background)
        if index < len(tiles):
            _draw_tile(cell, tiles[index], chart_theme, tile_size)
    return fig


def _key_under_grid(
    fig: Figure,
    grid: tuple[float, float],
    room: tuple[float, float],
    at: tuple[KeyLoc, float],
) -> None:
    """Centre the key under the tiles' `grid` (left and right edges, inches), kept within
    `room`: a key wider than the grid moves along. `at` is the key's side that is fixed
    ("upper center" or "lower center") and its height in inches from the bottom."""
    if not fig.legends:
        return
    key = fig.legends[0]
    renderer = agg_renderer(fig)
    key_width = key.get_window_extent(renderer).width / fig.dpi
    width, height = fig.get_size_inches()
    centre = (grid[0] + grid[1]) / 2
    centre = max(min(centre, room[1] - key_width / 2), room[0] + key_width / 2)
    loc, y = at
    key.set_loc(loc)
    key.set_bbox_to_anchor((centre / width, y / height), transform=fig.transFigure)


def _key_height(fig: Figure) -> float:
    """Inches at the bottom of the figure taken by its key (the legend), with a margin."""
    if not fig.legends:
        return PAD
    renderer = agg_renderer(fig)
    return fig.legends[0].get_window_extent(renderer).height / fig.dpi + PAD


def _draw_tile(
    cell: SubFigure, tile: DashboardTile, theme: ChartTheme, size: tuple[float, float]
) -> None:
    """One tile: code and title, then the latest value, direction and RAG, then the trend."""
    series = tile.series
    fonts = COMPACT_FONTS
    width, height = size
    title = compact_title(series, width - 0.25, fonts.title)
    cell.suptitle(
        title,
        x=0.03,
        y=1 - PAD / height,
        ha="left",
        va="top",
        fontsize=fonts.title,
        fontweight="bold",
        color=theme.text,
    )
    ax = cell.add_subplot()
    ax.set_gid(f"tile:{series.code}")
    draw_trend(ax, series, theme, compact=True)
    # Two lines: the latest value (and the RAG, on the right), then the direction of travel.
    # y=1 fixes the titles just above the axes: matplotlib need not search for a free place.
    direction = tile.direction_label or ""
    headline = ax.set_title(
        f"{tile.shown_latest}\n{direction}",
        loc="left",
        y=1.0,
        pad=TITLE_PAD,
        fontsize=fonts.headline,
        fontweight="bold",
        color=theme.text,
    )
    headline.set_gid("tile-latest")
    rag = tile.shown_rag
    _place_axes(ax, cell, title.count("\n") + 1, size)
    if rag is not None:
        plot_width = ax.get_position().width * width
        first_line, size_pt = _fit_headline(cell, tile.shown_latest, direction, rag, plot_width)
        headline.set_fontsize(size_pt)
        right = ax.set_title(
            f"{rag.label}\n " if first_line else f" \n{rag.label}",
            loc="right",
            y=1.0,
            pad=TITLE_PAD,
            fontsize=size_pt,
            fontweight="bold",
            color=theme.rag_text[rag],
        )
        right.set_gid(f"tile-rag:{rag.value}")


def _fit_headline(
    cell: SubFigure, latest: str, direction: str, rag: Rag, plot_width: float
) -> tuple[bool, float]:
    """Where the RAG word goes beside the headline, and the headline's size, so that the two
    never touch: on the value's line; else on the direction's line; else on the value's line
    with both a little smaller (down to 7.5 pt)."""
    fig = cell.get_figure(root=True)

    def fits(left: str, size: float) -> bool:
        needed = measure_in(fig, left, size, bold=True)
        needed += measure_in(fig, rag.label, size, bold=True)
        return needed + HEADLINE_GAP <= plot_width

    size = COMPACT_FONTS.headline
    if fits(latest, size):
        return True, size
    if fits(direction, size):
        return False, size
    while size > 7.5 and not fits(latest, size):
        size -= 0.5
    return True, size


def _place_axes(ax: Axes, cell: SubFigure, title_lines: int, size: tuple[float, float]) -> None:
    """Put the plot where the tile's title, headline and tick labels leave room for it."""
    width, height = size
    fonts = COMPACT_FONTS
    fig = cell.get_figure(root=True)
    tick_room = (TICK_LENGTH + TICK_PAD) / 72
    # Above the plot: the tile's title, a gap, then the two-line headline and its pad.
    top = (
        PAD
        + title_lines * fonts.title * LINE_SPACING / 72
        + 0.05
        + 2 * fonts.headline * LINE_SPACING / 72
        + TITLE_PAD / 72
    )
    bottom = PAD + tick_room + fonts.ticks * LINE_SPACING / 72
    low, high = ax.get_ylim()
    formatter = ax.yaxis.get_major_formatter()
    ticks = [t for t in ax.yaxis.get_major_locator().tick_values(low, high) if low <= t <= high]
    labels = [formatter(t, i) for i, t in enumerate(ticks)]
    left = PAD + tick_room + max((measure_in(fig, text, fonts.ticks) for text in labels), default=0)
    # The latest period's label is centred on the last point and may reach past the plot.
    right = PAD
    shown = period_labels(ax)
    x_low, x_high = ax.get_xlim()
    if shown and x_high > x_low:
        last = shown[-1].get_position()[0]
        per_unit = (width - left - right) / (x_high - x_low)
        overhang = (
            measure_in(fig, shown[-1].get_text(), fonts.ticks) / 2 - (x_high - last) * per_unit
        )
        right = max(right, overhang + 0.03)
    plot_width = max(width - left - right, 0.3)
    plot_height = max(height - top - bottom, 0.3)
    ax.set_position((left / width, bottom / height, plot_width / width, plot_height / height))


def _key(tiles: Sequence[DashboardTile], theme: ChartTheme) -> LegendEntries:
    """One key for the whole dashboard, naming only what some tile shows."""
    series: list[TrendSeries] = [tile.series for tile in tiles]
    entries = LegendEntries()
    entries.add(Line2D([], [], color=theme.values, linewidth=1.7), "Value")
    present = set(series_rags(series)) | {tile.shown_rag for tile in tiles}
    for rag in (rag for rag in Rag if rag in present):
        entries.add_rag(rag_legend_handle(rag, theme, size=7), rag, theme)
    if any(not p.is_gap and p.rag is None for s in series for p in s.points):
        entries.add(
            Line2D(
                [],
                [],
                linestyle="none",
                marker=NEUTRAL_MARKER,
                markersize=4.5,
                color=theme.values,
            ),
            NOT_RATED_LABEL,
        )
    if any(not p.is_gap and p.revised for s in series for p in s.points):
        entries.add(
            Line2D(
                [],
                [],
                linestyle="none",
                marker="o",
                markersize=10,
                markerfacecolor="none",
                markeredgecolor=theme.text,
            ),
            REVISED_LABEL,
        )
    if any(s.targets for s in series):
        entries.add(Line2D([], [], color=theme.target, linewidth=1.3), "Target")
    if any(s.baseline is not None for s in series):
        entries.add(
            Line2D([], [], color=theme.baseline, linestyle=(0, (5, 3)), linewidth=1.1),
            "Baseline",
        )
    names: list[str] = []
    for s in series:
        names += [c.name for c in s.comparators if c.name not in names]
    for index, name in enumerate(names):
        colour = theme.comparators[index % len(theme.comparators)]
        entries.add(Line2D([], [], color=colour, linestyle=":", linewidth=1.4), name)
    if any(p.is_gap for s in series for p in s.points):
        entries.add(Patch(facecolor=theme.grid, alpha=0.6), "Gap: no figure")
    return entries


def heatmap_figure(
    rows: Sequence[str],
    columns: Sequence[str],
    cells: Sequence[Sequence[str]],
    theme: str = "light",
    *,
    title: str = "Returns received, by service and period",
    size: tuple[float, float] | None = None,
) -> Figure:
    """A completeness matrix: one row per service, one column per period, a state per cell.

    Each cell says its state in words with a symbol ("✓ accepted") as well as by colour; a
    "not due" cell is left blank but for its muted words, and the key names it when it is there.
    """
    chart_theme = get_theme(theme)
    _check_cells(rows, columns, cells)
    if not rows or not columns:
        return empty_figure("No returns to show.", theme=theme, size=size or (8, 4.5))
    fonts = FULL_FONTS
    cell_font = 8.5
    label_width = max(len(row) for row in rows) * fonts.ticks * 0.6 / 72
    label_width = min(label_width, 2.6)
    column_width = max(1.0, max(len(c) for c in columns) * fonts.ticks * 0.6 / 72 + 0.2)
    width = max(6.0, label_width + 0.5 + column_width * len(columns))
    height = 1.5 + 0.38 * len(rows) + 0.55
    size = size or (width, height)
    fig = new_figure(chart_theme, size)
    # Room between the figure's left edge and the longest service name.
    engine = fig.get_layout_engine()
    assert isinstance(engine, ConstrainedLayoutEngine)  # new_figure's default layout
    engine.set(w_pad=LABEL_MARGIN)
    ax = fig.add_subplot()
    ax.set_gid("heatmap")
    states = (*RETURN_STATES, NOT_DUE)
    fills = {**chart_theme.state_fill, NOT_DUE: chart_theme.figure_background}
    index = {state: i for i, state in enumerate(states)}
    matrix = [[index[state.strip().lower()] for state in row] for row in cells]
    colours = ListedColormap([fills[s] for s in states])
    norm = BoundaryNorm([i - 0.5 for i in range(len(states) + 1)], len(states))
    ax.imshow(matrix, cmap=colours, norm=norm, aspect="auto", interpolation="nearest")
    for r, row in enumerate(cells):
        for c, state in enumerate(row):
            state = state.strip().lower()
            ax.text(
                c,
                r,
                STATE_LABELS[state],
                ha="center",
                va="center",
                fontsize=cell_font,
                # Missing returns are the ones a coordinator chases: they stand out in bold.
                fontweight="bold" if state == MISSING else "normal",
                color=chart_theme.muted_text if state == NOT_DUE else chart_theme.text,
                gid=f"cell:{r}:{c}",
            )
    # Cells separated by lines of the background colour, like a table.
    ax.set_xticks([c - 0.5 for c in range(len(columns) + 1)], minor=True)
    ax.set_yticks([r - 0.5 for r in range(len(rows) + 1)], minor=True)
    ax.grid(which="minor", color=chart_theme.figure_background, linewidth=2.5)
    ax.tick_params(which="minor", length=0)
    ax.set_xticks(range(len(columns)), list(columns))
    ax.set_yticks(range(len(rows)), [wrap(row, 2.6, fonts.ticks, max_lines=2) for row in rows])
    ax.xaxis.tick_top()
    ax.tick_params(which="major", length=0, labelsize=fonts.ticks, labelcolor=chart_theme.text)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_facecolor(chart_theme.figure_background)
    fig.suptitle(
        wrap(title, size[0] - 0.4, fonts.title, bold=True),
        x=0.015,
        ha="left",
        fontsize=fonts.title,
        fontweight="bold",
        color=chart_theme.text,
    )
    entries = LegendEntries()
    shown = {state.strip().lower() for row in cells for state in row}
    for state in states:
        if state in RETURN_STATES or state in shown:
            entries.add(
                Patch(facecolor=fills[state], edgecolor=chart_theme.spine),
                f"{STATE_LABELS[state]}: {STATE_MEANINGS[state]}",
            )
    add_legend(fig, entries, chart_theme, fonts.legend)
    return fig


def _check_cells(
    rows: Sequence[str], columns: Sequence[str], cells: Sequence[Sequence[str]]
) -> None:
    """Refuse a matrix whose shape or states do not match, saying where."""
    if len(cells) != len(rows):
        raise ValueError(f"the heatmap has {len(rows)} row names but {len(cells)} rows of cells")
    for r, row in enumerate(cells):
        if len(row) != len(columns):
            raise ValueError(
                f"row {r + 1} ({rows[r]}) has {len(row)} cells; expected one per column "
                f"({len(columns)})"
            )
        for c, state in enumerate(row):
            if not isinstance(state, str) or state.strip().lower() not in STATE_LABELS:
                raise ValueError(
                    f"{rows[r]}, {columns[c]}: {state!r} is not a return state; "
                    f"expected one of {', '.join((*RETURN_STATES, NOT_DUE))}"
                )
