"""The dashboard of every indicator, against the same number of bare matplotlib line plots.

Ours: `dashboard_tiles` (read from a demo database), `dashboard_figure` and rendering it to
PNG bytes, as the Dashboard place and the board pack do. The baseline, drawn in the same run:
one bare `Figure()` per indicator, `add_subplot`, `plot` of the same number of points and
`savefig` to PNG at the same dpi and the same area in total. Goal ≤ 1.5×.

Runs alternate between the two sides and each side's fastest run is compared: the machine's
other work only ever adds time, so the fastest run is the closest to the cost of the drawing.
"""

from __future__ import annotations

import io
import os
import statistics
import tempfile
import time
from collections.abc import Callable

from bench.results import Result

RUNS = int(os.environ.get("SKP_BENCH_CHART_RUNS", "4"))  # minima; 7 runs cost 45 s CPU


def _time(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run() -> list[Result]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from skp_desktop.charts.dashboard import TILE_SIZE, dashboard_figure
    from skp_desktop.charts.export import PNG_DPI, figure_png_bytes
    from skp_desktop.services.database import open_database
    from skp_desktop.services.setup import initialise
    from skp_desktop.services.trends import dashboard_tiles

    with tempfile.TemporaryDirectory() as folder:
        db = open_database(os.path.join(folder, "bench.sqlite3"))
        try:
            initialise(db, actor="bench", demo=True)
            tiles = dashboard_tiles(db)
            count = len(tiles)
            lengths = [len(tile.series.points) for tile in tiles]

            def ours() -> None:
                drawn = dashboard_tiles(db)
                figure_png_bytes(dashboard_figure(drawn), dpi=PNG_DPI)

            def bare() -> None:
                for length in lengths:
                    fig = Figure(figsize=TILE_SIZE)
                    FigureCanvasAgg(fig)
                    ax = fig.add_subplot()
                    ax.plot(range(length), [i % 5 for i in range(length)], marker="o")
                    fig.savefig(io.BytesIO(), format="png", dpi=PNG_DPI)

            ours(), bare()  # first-use costs (font cache, imports) fall on neither side
            ours_times, bare_times = [], []
            for _ in range(RUNS):  # interleaved, so machine load falls on both sides alike
                ours_times.append(_time(ours))
                bare_times.append(_time(bare))
        finally:
            db.dispose()
    return [
        Result(
            f"dashboard of {count} indicators",
            min(ours_times),
            min(bare_times),
            1.5,
            note=f"vs {count} bare line plots; medians {statistics.median(ours_times) * 1000:.0f} "
            f"vs {statistics.median(bare_times) * 1000:.0f} ms",
        )
    ]


if __name__ == "__main__":
    for row in run():
        ours, bare = row.ours * 1000, row.baseline * 1000
        print(f"{row.name}: {ours:.0f} ms vs {bare:.0f} ms ({row.ratio:.2f}x, goal {row.goal}x)")
