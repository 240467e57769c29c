"""The annual strategic assessment of five years × every indicator and context measure, as a
PDF, against the same number of bare matplotlib line plots saved to one PDF.

Ours: `write_assessment` on a demo database whose history runs five years back (read, every
measure's trend drawn with its table, the cover, the data-quality pages, saved to one PDF). The
baseline, drawn in the same run: one bare `Figure()` per measure, `add_subplot`, `plot` of the
same number of points, saved with `PdfPages` to one file. Goal ≤ 1.5×.

Runs alternate between the two sides and each side's fastest run is compared (the machine's
other work only ever adds time). The note also gives each side's fastest CPU time and their
ratio: on a shared machine the wall times of one module's runs move by a third, its CPU far
less.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable

from bench.results import Result

RUNS = int(os.environ.get("SKP_BENCH_CHART_RUNS", "3"))  # minima; 5 runs cost 46 s CPU
YEAR = "FY2025-26"


def _time(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU seconds of one call."""
    start, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - start, time.process_time() - cpu


def run() -> list[Result]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    from skp_desktop.services import setup
    from skp_desktop.services.database import open_database
    from skp_desktop.services.strategic_assessment import strategic_assessment, write_assessment

    with tempfile.TemporaryDirectory() as folder:
        db = open_database(os.path.join(folder, "bench.sqlite3"))
        try:
            # five years of demo history, to the end of the assessed year
            setup.DEMO_FIRST, setup.DEMO_LAST = "FY2021-22-Q1", "FY2026-27-Q1"
            setup.initialise(db, actor="bench", demo=True)
            _assessment, series = strategic_assessment(db, YEAR)
            lengths = [max(1, len(s.points)) for s in series.values()]
            ours_out = os.path.join(folder, "assessment.pdf")
            bare_out = os.path.join(folder, "bare.pdf")

            def ours() -> None:
                write_assessment(db, year=YEAR, out=ours_out)

            def bare() -> None:
                with PdfPages(bare_out) as pdf:
                    for length in lengths:
                        fig = Figure(figsize=(5.0, 3.0))
                        FigureCanvasAgg(fig)
                        ax = fig.add_subplot()
                        ax.plot(range(length), [i % 5 for i in range(length)], marker="o")
                        pdf.savefig(fig)

            ours(), bare()  # first-use costs (font cache, imports) fall on neither side
            ours_runs, bare_runs = [], []
            for _ in range(RUNS):
                ours_runs.append(_time(ours))
                bare_runs.append(_time(bare))
        finally:
            db.dispose()
    count = len(lengths)
    ours_times, bare_times = [wall for wall, _ in ours_runs], [wall for wall, _ in bare_runs]
    ours_cpu, bare_cpu = min(cpu for _, cpu in ours_runs), min(cpu for _, cpu in bare_runs)
    return [
        Result(
            f"strategic assessment, {count} measures",
            min(ours_times),
            min(bare_times),
            1.5,
            note=f"5 years; vs {count} bare line plots in one PDF; medians "
            f"{statistics.median(ours_times) * 1000:.0f} vs "
            f"{statistics.median(bare_times) * 1000:.0f} ms; CPU {ours_cpu * 1000:.0f} vs "
            f"{bare_cpu * 1000:.0f} ms ({ours_cpu / bare_cpu:.2f}x)",
        )
    ]


if __name__ == "__main__":
    for row in run():
        ours, bare = row.ours * 1000, row.baseline * 1000
        print(f"{row.name}: {ours:.0f} ms vs {bare:.0f} ms ({row.ratio:.2f}x, goal {row.goal}x)")
