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
from decimal import Decimal
from pathlib import Path

from bench.results import Result

RETURNS = int(os.environ.get("SKP_BENCH_RETURNS", "200"))
RUNS = 3
FIRST = "FY2020-21-Q1"
ACTOR = "bench"


def _fields(rules: object, step: int) -> dict[str, str]:
    """A plausible figure for an indicator, varying a little from quarter to quarter."""
    from skp_desktop.domain.definitions import Definition, Unit

    assert isinstance(rules, Definition)
    if rules.has_fraction:
        if rules.unit is Unit.PERCENT:
            return {"numerator": str(150 + step % 20), "denominator": "200"}
        return {"numerator": str(8000 + step % 200), "denominator": "170000"}
    if rules.unit is Unit.COUNT:
        return {"value": str(100 + step % 15)}
    if rules.unit is Unit.SCORE:
        return {"value": str(Decimal(60) + Decimal(step % 5) / 2)}
    return {"value": str(70 + step % 10)}


def _build(folder: Path) -> tuple[Path, list[Path], str, str]:
    """RETURNS returns submitted and exported by services, imported and accepted centrally."""
    from skp_desktop.domain.definitions import is_due
    from skp_desktop.domain.periods import parse_period
    from skp_desktop.domain.vocabulary import ImportStatus
    from skp_desktop.services import exchange, review
    from skp_desktop.services.catalogue import list_indicators, list_services
    from skp_desktop.services.database import open_database
    from skp_desktop.services.returns import EntryChange, record_entries, submit_return

    source = open_database(folder / "services.sqlite3", actor=ACTOR)
    files = folder / "returns"
    files.mkdir()
    services = [s.code for s in list_services(source)]
    infos = {code: list_indicators(source, service=code) for code in services}
    period, made, step, last = parse_period(FIRST), 0, 0, FIRST
    while made < RETURNS:
        for service in services:
            due = [i for i in infos[service] if is_due(i.rules.frequency, period)]
            if not due or made >= RETURNS:
                continue
            changes = [EntryChange(i.code, _fields(i.rules, step)) for i in due]
            record_entries(
                source, service=service, period=period.code, changes=changes, actor=ACTOR
            )
            submit_return(
                source,
                service=service,
                period=period.code,
                actor=ACTOR,
                explanations={i.code: "bench figure" for i in due},
            )
            out = files / f"{service}-{period.code}.xlsx"
            exchange.export_return(
                source, service=service, period=period.code, out=out, actor=ACTOR
            )
            made, last = made + 1, period.code
        period, step = period.next(), step + 1
    source.dispose()

    coordinator = open_database(folder / "coordinator.sqlite3", actor=ACTOR)
    outcomes = exchange.import_files(coordinator, [files], actor=ACTOR)
    assert all(o.status == ImportStatus.ACCEPTED for o in outcomes), outcomes[:3]
    for outcome in outcomes:
        assert outcome.service and outcome.period
        review.accept_return(
            coordinator, service=outcome.service, period=outcome.period, actor=ACTOR
        )
    coordinator.dispose()
    return folder / "coordinator.sqlite3", sorted(files.iterdir()), FIRST, last


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
