"""A figure rendered to pixels in memory, with where its clickable axes landed.

For a window that shows a large figure as a picture: the drawing (the slow part) happens in
whichever thread calls `rasterise`, and the window only copies pixels. Only that thread may
touch the figure while it draws.
"""

from __future__ import annotations

from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

# matplotlib's default: a figure of w inches is w * 100 pixels on a screen at scale 1.
SCREEN_DPI = 100


@dataclass(frozen=True)
class Target:
    """An axes' rectangle in pixels from the picture's top-left corner, and its gid."""

    gid: str
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Raster:
    """RGBA pixels, row by row from the top (width * height * 4 bytes), and the targets."""

    width: int
    height: int
    rgba: bytes
    scale: float
    targets: tuple[Target, ...]


def rasterise(fig: Figure, *, scale: float = 1.0, gid_prefix: str = "") -> Raster:
    """Draw `fig` with Agg at `scale` times the screen's 100 dpi (2 on a high-DPI screen).

    Targets are the axes whose gid starts with `gid_prefix`, in the pixels drawn (so divide by
    `scale` for a window's logical pixels). An axes in a subfigure of its own (a dashboard
    tile) targets the whole subfigure: its title and headline are part of what people click.
    """
    if not scale > 0:
        raise ValueError(f"a picture needs a positive scale, got {scale}")
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    fig.set_dpi(SCREEN_DPI * scale)
    canvas.draw()
    width, height = canvas.get_width_height(physical=True)
    targets = []
    for ax in fig.findobj(Axes):
        gid = ax.get_gid()
        if not isinstance(gid, str) or not gid.startswith(gid_prefix):
            continue
        holder = ax.get_figure(root=False)
        # display pixels, origin at the bottom left
        box = holder.bbox if holder is not None and holder is not fig else ax.get_window_extent()
        targets.append(
            Target(gid, float(box.x0), height - float(box.y1), float(box.width), float(box.height))
        )
    return Raster(width, height, bytes(canvas.buffer_rgba()), scale, tuple(targets))
