"""The partnership workbook from 200 held returns, against a pandas script (goal ≤ 0.5×).

Both sides start from the same 200 return files: ours merges them from the coordinator's
database, where they were imported and accepted (as the coordinator does); the baseline is the
script a coordinator might write instead, which reads the 200 files with pandas, concatenates
their Return tables and writes one sheet. Building the files and the database is not timed.

pandas is only needed for the baseline (`pip install pandas`); without it the baseline is
skipped, saying so.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.exchange import shared_returns
from bench.results import Result

RETURNS = int(os.environ.get("SKP_BENCH_RETURNS", "200"))
RUNS = 3
ACTOR = "bench"


def _build(folder: Path) -> tuple[Path, list[Path], str, str]:
    """The RETURNS returns made for bench/exchange.py (submitted and exported by the services,
    made once per run), imported and accepted centrally."""
    from skp_desktop.domain.vocabulary import ImportStatus
    from skp_desktop.services import exchange, review
    from skp_desktop.services.database import open_database

    files, _source, made = shared_returns()
    assert len(made) >= RETURNS, f"bench/exchange.py makes {len(made)} returns"
    chosen = [files / f"{service}-{period}.xlsx" for service, period in made[:RETURNS]]
    coordinator = open_database(folder / "coordinator.sqlite3", actor=ACTOR)
    outcomes = exchange.import_files(coordinator, chosen, actor=ACTOR)
    assert all(o.status == ImportStatus.ACCEPTED for o in outcomes), outcomes[:3]
    for outcome in outcomes:
        assert outcome.service and outcome.period
        review.accept_return(
            coordinator, service=outcome.service, period=outcome.period, actor=ACTOR
        )
    coordinator.dispose()
    # made period by period, so the first and the last made are the range's ends
    return folder / "coordinator.sqlite3", sorted(chosen), made[0][1], made[RETURNS - 1][1]


def _median(work: Callable[[], object], runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _pandas_script(files: list[Path], out: Path) -> int:
    """The baseline: read every return file's table, concatenate, write one sheet."""
    import pandas as pd

    frames = []
    for path in files:
        # The table's header row is row 11 of the Return sheet (docs/contracts.md, format 1).
        frame = pd.read_excel(path, sheet_name="Return", header=10, engine="openpyxl")
        frame.insert(0, "File", path.name)
        frames.append(frame)
    merged = pd.concat(frames, ignore_index=True)
    merged.to_excel(out, sheet_name="Data", index=False)
    return len(merged)


def run() -> list[Result]:
    from skp_desktop.services.database import open_database
    from skp_desktop.services.merge import merge_export

    folder = Path(tempfile.mkdtemp())
    try:
        database, files, first, last = _build(folder)
        db = open_database(database, actor=ACTOR)
        result = merge_export(db, out=folder / "warm.xlsx", first=first, last=last)
        assert result.returns == RETURNS, result.describe()
        ours = _median(
            lambda: merge_export(db, out=folder / "partnership.xlsx", first=first, last=last)
        )
        db.dispose()
        name = f"merge {RETURNS} returns into the workbook"
        try:
            import pandas  # noqa: F401
        except ImportError:
            print(
                "bench/merge.py: pandas is not installed, so the pandas baseline is skipped "
                "(pip install pandas, or install the [bench] extra)."
            )
            return [Result(name, ours, ours, float("inf"), "no baseline: pandas missing")]
        counted: list[int] = []
        baseline = _median(
            lambda: counted.append(_pandas_script(files, folder / "pandas.xlsx")), runs=2
        )
        assert counted[-1] >= RETURNS, counted
        return [Result(name, ours, baseline, 0.5, f"pandas reads the {RETURNS} files")]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    for row in run():
        print(
            f"{row.name}: ours {row.ours:.3f} s, baseline {row.baseline:.3f} s, "
            f"ratio {row.ratio:.3f} (goal ≤ {row.goal})"
        )
