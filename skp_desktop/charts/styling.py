"""Figures and axes dressed in a chart theme; of matplotlib's global rcParams, only mathtext
is set (off)."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Literal

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties

from skp_desktop.charts.theme import ChartTheme

# Chart text is what people typed (titles, service and series names): "$5 to $10" is money,
# not mathematics, and a stray "$\frac{" would stop the chart drawing. Set once for every
# text, including the legends and labels matplotlib makes later.
matplotlib.rcParams["text.parse_math"] = False

# Average glyph width of DejaVu Sans as a share of the font size: enough to wrap and fit text.
TICK_LENGTH = 3.0  # points: the axes' tick marks (style_axes)
TICK_WIDTH = 0.8  # points: matplotlib's default tick width
TICK_PAD = 3.5  # points between a tick mark and its label: matplotlib's default pad
_GLYPH_WIDTH = 0.58
_BOLD_GLYPH_WIDTH = 0.68


@dataclass(frozen=True)
class FontSizes:
    """Text sizes in points; the compact set stays at 7 pt or more so small tiles stay readable."""

    title: float
    subtitle: float
    label: float
    ticks: float
    legend: float
    note: float
    headline: float  # a dashboard tile's latest value


FULL_FONTS = FontSizes(title=13, subtitle=10, label=10, ticks=9, legend=9.5, note=9, headline=12)
SMALL_FONTS = FontSizes(title=11, subtitle=8.5, label=8.5, ticks=8, legend=8, note=8, headline=10.5)
COMPACT_FONTS = FontSizes(
    title=8.5, subtitle=8, label=7.5, ticks=7, legend=7.5, note=7, headline=9.5
)


def agg_renderer(figure: Figure) -> RendererAgg:
    """The renderer that measures text on `figure`: every figure here is on an Agg canvas
    (new_figure gives it one; the Qt canvas that shows a figure is an Agg canvas too)."""
    canvas = figure.canvas
    assert isinstance(canvas, FigureCanvasAgg)
    return canvas.get_renderer()


def fonts_for(size: tuple[float, float], *, compact: bool) -> FontSizes:
    """Text sizes for a figure: smaller for a small figure, never below 7 pt."""
    if compact:
        return COMPACT_FONTS
    width, height = size
    return SMALL_FONTS if width < 6.5 or height < 4 else FULL_FONTS


def measure_in(fig: Figure, text: str, fontsize: float, *, bold: bool = False) -> float:
    """The width of one line of `text` in inches, measured by the figure's renderer."""
    root = fig.get_figure(root=True)
    # Remembered: a dashboard measures the same period labels in every tile (bench/charts.py).
    key = (root.dpi, text, fontsize, bold)
    width = _WIDTHS.get(key)
    if width is None:
        renderer = agg_renderer(root)
        properties = FontProperties(size=fontsize, weight="bold" if bold else "normal")
        pixels, _, _ = renderer.get_text_width_height_descent(text, properties, ismath=False)
        width = pixels / root.dpi
        if len(_WIDTHS) < 4096:
            _WIDTHS[key] = width
    return width


_WIDTHS: dict[tuple[float, str, float, bool], float] = {}


def new_figure(
    theme: ChartTheme,
    size: tuple[float, float],
    *,
    layout: Literal["constrained", "compressed", "tight"] | None = "constrained",
) -> Figure:
    """A Figure with the theme's background, laid out by matplotlib's constrained layout.

    `layout=None` is for figures placed by hand: with no layout engine at all (not even
    matplotlib's placeholder for "none") saving draws the figure once instead of twice.
    """
    width, height = size
    if not (width > 0 and height > 0):
        raise ValueError(f"a figure needs a positive width and height in inches, got {size}")
    fig = Figure(figsize=size, facecolor=theme.figure_background, layout=layout)
    # Agg canvas: text can be measured and the figure rendered without any GUI backend.
    FigureCanvasAgg(fig)
    return fig


def style_axes(ax: Axes, theme: ChartTheme, fonts: FontSizes) -> None:
    """Theme colours on the axes: background, spines, ticks, labels and a light grid."""
    ax.set_facecolor(theme.axes_background)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(theme.spine)
    ax.tick_params(
        axis="both",
        colors=theme.spine,
        labelcolor=theme.text,
        labelsize=fonts.ticks,
        length=TICK_LENGTH,
        width=TICK_WIDTH,
        pad=TICK_PAD,
    )
    ax.yaxis.label.set_color(theme.text)
    ax.xaxis.label.set_color(theme.muted_text)
    ax.title.set_color(theme.text)
    ax.grid(axis="y", color=theme.grid, linewidth=0.8)
    ax.set_axisbelow(True)


def chars_that_fit(width_in: float, fontsize: float, *, bold: bool = False) -> int:
    """How many characters of `fontsize`-point text fit across `width_in` inches."""
    glyph = _BOLD_GLYPH_WIDTH if bold else _GLYPH_WIDTH
    return max(8, int(width_in * 72 / (fontsize * glyph)))


def wrap(
    text: str,
    width_in: float,
    fontsize: float,
    *,
    max_lines: int | None = None,
    bold: bool = False,
) -> str:
    """`text` wrapped to lines that fit `width_in`, cut with "…" beyond `max_lines`."""
    lines = textwrap.wrap(
        " ".join(text.split()),
        chars_that_fit(width_in, fontsize, bold=bold),
        max_lines=max_lines,
        placeholder=" …",
        break_on_hyphens=False,
    )
    return "\n".join(lines)
