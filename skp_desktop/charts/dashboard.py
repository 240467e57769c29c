"""Small multiples of indicator trends, and the completeness matrix of returns received."""

from __future__ import annotations

import math
from collections.abc import Sequence

from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from skp_desktop.charts.series import DashboardTile, TrendSeries
from skp_desktop.charts.styling import COMPACT_FONTS, FULL_FONTS, new_figure, wrap
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
    rag_legend_handle,
    series_rags,
)
from skp_desktop.domain.rag import Rag

__all__ = ["DashboardTile", "dashboard_figure", "heatmap_figure"]

TILE_SIZE = (3.3, 2.6)  # inches: a tile's title, headline and a readable small trend
MAX_DEFAULT_COLUMNS = 4


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
) -> Figure:
    """A grid of small trends, each headed by its latest value, RAG and direction of travel."""
    chart_theme = get_theme(theme)
    if not tiles:
        return empty_figure("No indicators to show.", theme=theme, size=size or (8, 4.5))
    if columns is not None and columns < 1:
        raise ValueError(f"a dashboard needs at least one column, got {columns}")
    columns = min(columns or _default_columns(len(tiles)), len(tiles))
    rows = math.ceil(len(tiles) / columns)
    key_height = 0.6
    size = size or (TILE_SIZE[0] * columns, TILE_SIZE[1] * rows + key_height)
    fig = new_figure(chart_theme, size)
    fig.get_layout_engine().set(w_pad=0.06, h_pad=0.06, wspace=0.04, hspace=0.04)
    tile_width = size[0] / columns
    cells = fig.subfigures(rows, columns, squeeze=False)
    for index, tile in enumerate(tiles):
        _draw_tile(cells[index // columns][index % columns], tile, chart_theme, tile_width)
    for index in range(len(tiles), rows * columns):
        cells[index // columns][index % columns].set_facecolor(chart_theme.figure_background)
    add_legend(fig, _key(tiles, chart_theme), chart_theme, COMPACT_FONTS.legend + 1)
    return fig


def _draw_tile(cell: Figure, tile: DashboardTile, theme: ChartTheme, width_in: float) -> None:
    """One tile: code and title, then the latest value, direction and RAG, then the trend."""
    series = tile.series
    fonts = COMPACT_FONTS
    cell.set_facecolor(theme.figure_background)
    cell.suptitle(
        compact_title(series, width_in - 0.25, fonts.title),
        x=0.03,
        ha="left",
        fontsize=fonts.title,
        fontweight="bold",
        color=theme.text,
    )
    ax = cell.add_subplot()
    ax.set_gid(f"tile:{series.code}")
    draw_trend(ax, series, theme, compact=True)
    # Two lines: the latest value (and the RAG, on the right), then the direction of travel.
    direction = tile.direction_label or ""
    ax.set_title(
        f"{tile.shown_latest}\n{direction}",
        loc="left",
        fontsize=fonts.headline,
        fontweight="bold",
        color=theme.text,
    ).set_gid("tile-latest")
    rag = tile.shown_rag
    if rag is not None:
        right = ax.set_title(
            f"{rag.label}\n ",
            loc="right",
            fontsize=fonts.headline,
            fontweight="bold",
            color=theme.rag_text[rag],
        )
        right.set_gid(f"tile-rag:{rag.value}")


def _key(tiles: Sequence[DashboardTile], theme: ChartTheme) -> LegendEntries:
    """One key for the whole dashboard, naming only what some tile shows."""
    series: list[TrendSeries] = [tile.series for tile in tiles]
    entries = LegendEntries()
    entries.add(Line2D([], [], color=theme.values, linewidth=1.7), "Value")
    present = set(series_rags(series)) | {tile.shown_rag for tile in tiles}
    for rag in (rag for rag in Rag if rag in present):
        entries.add(rag_legend_handle(rag, theme, size=7), rag.label)
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

    Each cell says its state in words with a symbol ("✓ accepted") as well as by colour.
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
    ax = fig.add_subplot()
    ax.set_gid("heatmap")
    index = {state: i for i, state in enumerate(RETURN_STATES)}
    matrix = [[index[state.strip().lower()] for state in row] for row in cells]
    colours = ListedColormap([chart_theme.state_fill[s] for s in RETURN_STATES])
    norm = BoundaryNorm([i - 0.5 for i in range(len(RETURN_STATES) + 1)], len(RETURN_STATES))
    ax.imshow(matrix, cmap=colours, norm=norm, aspect="auto", interpolation="nearest")
    for r, row in enumerate(cells):
        for c, state in enumerate(row):
            ax.text(
                c,
                r,
                STATE_LABELS[state.strip().lower()],
                ha="center",
                va="center",
                fontsize=cell_font,
                # Missing returns are the ones a coordinator chases: they stand out in bold.
                fontweight="bold" if state.strip().lower() == "missing" else "normal",
                color=chart_theme.text,
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
    for state in RETURN_STATES:
        entries.add(
            Patch(facecolor=chart_theme.state_fill[state], edgecolor=chart_theme.spine),
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
                    f"expected one of {', '.join(RETURN_STATES)}"
                )
