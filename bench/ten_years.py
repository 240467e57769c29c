"""Ten years of the whole partnership against one: how the costs grow.

Both databases come from bench/partnership.py (the same 15 services; one financial year,
FY2025-26, against ten, FY2016-17 to FY2025-26, with about 2.1 million audit events), built
once and cached. Each row is the big database's time against the small one's, measured in the
same run with both databases open, each operation timed on one and the other in turn
(bench/paired.py: a slow minute of this machine falls on both alike), "ours" ten years and
"baseline" one year:

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

import functools
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from bench.paired import interleaved
from bench.results import Result

YEAR = ("FY2025-26-Q1", "FY2025-26-Q4")
QUARTER = "FY2025-26-Q3"
TODAY = date(2026, 6, 1)
STARTS = int(os.environ.get("SKP_BENCH_STARTS", "3"))
PACKS = int(os.environ.get("SKP_BENCH_PACKS", "2"))


def _measure(small: Path, big: Path, folder: Path) -> tuple[dict[str, float], dict[str, float]]:
    """Every figure of both databases, each timed in turn on one and the other (bench/paired):
    the figures of the one year, then of the ten years."""
    from skp_desktop.services.audit import verify
    from skp_desktop.services.board_pack import export_board_pack
    from skp_desktop.services.completeness import completeness
    from skp_desktop.services.database import open_database
    from skp_desktop.services.dto import HistoryFilter
    from skp_desktop.services.history import history_page
    from skp_desktop.services.merge import merge_export
    from skp_desktop.services.trends import dashboard_tiles

    one: dict[str, float] = {}
    ten: dict[str, float] = {}
    dbs = {"one": open_database(small), "ten": open_database(big)}
    found = {"one": one, "ten": ten}

    def both(name: str, work: Callable[[Any], object], runs: int, *, warm: bool = True) -> None:
        arms = {side: functools.partial(work, db) for side, db in dbs.items()}
        for side, median in interleaved(arms, runs, warm=warm).items():
            found[side][name] = median

    try:
        both("dashboard", dashboard_tiles, 9)
        both(
            "completeness", lambda db: completeness(db, first=YEAR[0], last=YEAR[1], today=TODAY), 5
        )
        filters = {
            "service": HistoryFilter(service="HIGHWAYS"),
            "indicator": HistoryFilter(indicator="GEN-PS-1"),
            "actor": HistoryFilter(actor="coordinator.anna"),
            "period": HistoryFilter(period="FY2025-26-Q2"),
            "text, full page": HistoryFilter(text="typed in"),
        }
        for name, flt in filters.items():
            both(f"history {name}", lambda db, flt=flt: history_page(db, flt), 9)
            for side, db in dbs.items():
                found[side][f"page {name}"] = len(history_page(db, flt))
        # The rare word: the ten years' page cut to the events the one year's page has.
        rare = HistoryFilter(text="queried")
        rare_page = len(history_page(dbs["one"], rare))
        one["page text"] = rare_page
        ten["page text"] = len(history_page(dbs["ten"], rare, limit=rare_page))
        ten["page text whole"] = len(history_page(dbs["ten"], rare))
        times = interleaved(
            {
                "one": lambda: history_page(dbs["one"], rare),
                "ten": lambda: history_page(dbs["ten"], rare, limit=rare_page),
                "ten whole": lambda: history_page(dbs["ten"], rare),
            },
            9,
        )
        one["history text"], ten["history text"] = times["one"], times["ten"]
        ten["history text whole"] = times["ten whole"]
        out = folder / "merge.xlsx"

        def merge(db: Any, first: str = YEAR[0]) -> object:
            return merge_export(db, out=out, first=first, last=YEAR[1], today=TODAY)

        # A year's merge (a third of a second) in five rounds; all ten years (two seconds)
        # in two, after them (its baseline is the ten years' own year).
        both("merge year", merge, 5)
        ten["merge all"] = interleaved(
            {"all": lambda: merge(dbs["ten"], "FY2016-17-Q1")}, 2, warm=False
        )["all"]
        pack = folder / "pack.pdf"

        # Six to eight seconds a pack, so PACKS (2) of each in turn after one warm-up: one
        # service's pack on each database (a few pages: this process's first use of matplotlib,
        # its fonts and caches, and each database's reads) rather than a whole pack.
        def board_pack(db: Any) -> object:
            return export_board_pack(db, QUARTER, str(pack), made=TODAY)

        for db in dbs.values():
            export_board_pack(db, QUARTER, str(pack), service="HIGHWAYS", made=TODAY)
        both("board pack", board_pack, PACKS, warm=False)
        # verify: the one year (a second or two) before and after the ten years (half a minute),
        # so a slow minute does not fall on one side only.
        spent: dict[str, list[float]] = {"one": [], "ten": []}
        for side in ("one", "ten", "one"):
            start = time.perf_counter()
            report = verify(dbs[side])
            spent[side].append((time.perf_counter() - start) / report.events_checked)
            found[side]["events"] = report.events_checked
            assert report.ok, report.problems[:3]
        for side, per_event in spent.items():
            found[side]["verify"] = statistics.mean(per_event)
    finally:
        for db in dbs.values():
            db.dispose()
    return one, ten


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
        one, ten = _measure(small, big, folder)
        grid_big, grid_small = _grid_ready(small, big, folder)
    rows = [
        Result("ten years: start to grid ready", grid_big, grid_small, 1.5),
        Result("ten years: dashboard", ten["dashboard"], one["dashboard"], 1.5),
        Result("ten years: completeness 1 year", ten["completeness"], one["completeness"], 1.5),
    ]
    for name in ("service", "indicator", "actor", "period", "text", "text, full page"):
        key, page = f"history {name}", f"page {name}"
        note = f"{ten[page]:.0f} events on the page, {one[page]:.0f} at one year"
        if name == "text":
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
