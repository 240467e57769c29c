"""Ten years of the whole partnership against one: how the costs grow.

Both databases come from bench/partnership.py (the same 15 services; one financial year,
FY2025-26, against ten, FY2016-17 to FY2025-26, with about 2.1 million audit events), built
once and cached. Each row is the big database's time against the small one's, measured in the
same run ("ours" is ten years, "baseline" one year):

- start to the return grid ready for typing (goal ≤ 1.5×), as bench/startup.py measures it;
- the dashboard's tiles of every indicator (≤ 1.5×);
- the Completeness page for one year (≤ 1.5×);
- the History's first page with each filter: service, indicator, actor, period, text (≤ 2×);
  text twice: "queried", a rare word, and "typed in", a full page at both sizes. The rare word
  finds 10 events at one year and a full page (200) at ten, and a page costs per event shown,
  so its row compares pages of the same size: the ten years' first page cut to the events the
  one year has (how deep the index must look for a rare word is what grows with the years);
  the note gives the ten years' whole first page as well. Each row's note gives the page sizes;
- the partnership workbook (merge) of one year (≤ 1.5×), and of all ten years against one
  year on the big database (≤ 10×);
- the board pack of one quarter (≤ 1.5×);
- `verify`, per event, at both sizes (linear: ≤ 1.5×; the note gives µs per event).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from bench.results import Result

YEAR = ("FY2025-26-Q1", "FY2025-26-Q4")
QUARTER = "FY2025-26-Q3"
TODAY = date(2026, 6, 1)
STARTS = int(os.environ.get("SKP_BENCH_STARTS", "5"))


def _median(work: Callable[[], object], runs: int, *, warm: bool = True) -> float:
    if warm:
        work()  # warm caches on both sides alike
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _measure(
    path: Path, folder: Path, *, big: bool, rare_page: int | None = None
) -> dict[str, float]:
    """Every figure of one database; `rare_page` cuts the rare word's page to that many events
    (the one year's page size, for a page of the same size at ten years)."""
    from skp_desktop.services.audit import verify
    from skp_desktop.services.board_pack import export_board_pack
    from skp_desktop.services.completeness import completeness
    from skp_desktop.services.database import open_database
    from skp_desktop.services.dto import HistoryFilter
    from skp_desktop.services.history import PAGE_SIZE, history_page
    from skp_desktop.services.merge import merge_export
    from skp_desktop.services.trends import dashboard_tiles

    found: dict[str, float] = {}
    db = open_database(path)
    try:
        found["dashboard"] = _median(lambda: dashboard_tiles(db), 5)
        found["completeness"] = _median(
            lambda: completeness(db, first=YEAR[0], last=YEAR[1], today=TODAY), 5
        )
        filters = {
            "service": HistoryFilter(service="HIGHWAYS"),
            "indicator": HistoryFilter(indicator="GEN-PS-1"),
            "actor": HistoryFilter(actor="coordinator.anna"),
            "period": HistoryFilter(period="FY2025-26-Q2"),
            "text": HistoryFilter(text="queried"),
            "text, full page": HistoryFilter(text="typed in"),
        }
        for name, flt in filters.items():
            limit = rare_page if name == "text" and rare_page else PAGE_SIZE
            found[f"history {name}"] = _median(
                lambda flt=flt, limit=limit: history_page(db, flt, limit=limit), 9
            )
            found[f"page {name}"] = len(history_page(db, flt, limit=limit))
        if rare_page:
            whole = HistoryFilter(text="queried")
            found["history text whole"] = _median(lambda: history_page(db, whole), 9)
            found["page text whole"] = len(history_page(db, whole))
        out = folder / "merge.xlsx"
        found["merge year"] = _median(
            lambda: merge_export(db, out=out, first=YEAR[0], last=YEAR[1], today=TODAY), 2
        )
        if big:  # ten years against one year, both on the big database
            found["merge all"] = _median(
                lambda: merge_export(db, out=out, first="FY2016-17-Q1", last=YEAR[1], today=TODAY),
                1,
            )
        pack = folder / "pack.pdf"
        # ~15 s a pack at either size, so one timed run is enough. The small database (measured
        # first) has a warm-up run too, which pays this process's first-use costs (imports,
        # fonts, matplotlib's caches); on the big one the pack's reads find its pages warm from
        # the merges above, so its warm-up would be 15 s more for little (a first-use cost
        # left over falls on the ten-year side, against it).
        found["board pack"] = _median(
            lambda: export_board_pack(db, QUARTER, str(pack), made=TODAY), 1, warm=not big
        )
        start = time.perf_counter()
        report = verify(db)
        found["verify"] = (time.perf_counter() - start) / report.events_checked
        found["events"] = report.events_checked
        assert report.ok, report.problems[:3]
    finally:
        db.dispose()
    return found


def _grid_ready(small: Path, big: Path, folder: Path) -> tuple[float, float]:
    """Start to the return grid ready, on each database, runs interleaved."""
    from bench.startup import _once

    times: dict[Path, list[float]] = {small: [], big: []}
    for path in (small, big):
        _once("grid", str(path), str(folder))  # the day's backup is made on the first start
    for _ in range(STARTS):
        for path in (small, big):
            times[path].append(_once("grid", str(path), str(folder))[0])
    return statistics.median(times[big]), statistics.median(times[small])


def run() -> list[Result]:
    from bench.partnership import partnership_file

    small, big = partnership_file(1), partnership_file(10)
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        one = _measure(small, folder, big=False)
        ten = _measure(big, folder, big=True, rare_page=int(one["page text"]))
        grid_big, grid_small = _grid_ready(small, big, folder)
    rows = [
        Result("ten years: start to grid ready", grid_big, grid_small, 1.5),
        Result("ten years: dashboard", ten["dashboard"], one["dashboard"], 1.5),
        Result("ten years: completeness 1 year", ten["completeness"], one["completeness"], 1.5),
    ]
    for name in ("service", "indicator", "actor", "period", "text", "text, full page"):
        key, page = f"history {name}", f"page {name}"
        note = f"{ten[page]:.0f} events on the page, {one[page]:.0f} at one year"
        if name == "text" and "history text whole" in ten:
            note += (
                f"; the whole first page at ten years ({ten['page text whole']:.0f} events): "
                f"{ten['history text whole'] / one[key]:.2f}x"
            )
        rows.append(Result(f"ten years: history by {name}", ten[key], one[key], 2.0, note))
    rows += [
        Result("ten years: merge 1 year", ten["merge year"], one["merge year"], 1.5),
        Result("ten years: merge 10 vs 1 year", ten["merge all"], ten["merge year"], 10.0),
        Result("ten years: board pack 1 quarter", ten["board pack"], one["board pack"], 1.5),
        Result(
            "ten years: verify per event",
            ten["verify"],
            one["verify"],
            1.5,
            f"{ten['verify'] * 1e6:.1f} µs/event at {ten['events']:,.0f}, "
            f"{one['verify'] * 1e6:.1f} at {one['events']:,.0f}",
        ),
    ]
    return rows


if __name__ == "__main__":
    os.environ.setdefault("SKP_LOG_DIR", tempfile.mkdtemp())
    for row in run():
        print(f"{row.name:<36} {row.ours:9.4f} {row.baseline:9.4f} {row.ratio:6.2f} {row.goal}")
