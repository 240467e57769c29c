"""Excel exchange on the same 200 generated return files.

- our import (read + validate + store) against a pandas read_excel + concat script that does
  no checking at all (goal: ratio ≤ 0.5), with a raw python-calamine read beside it as the
  practical lower bound for reading;
- our export of one return against an openpyxl write-only workbook with the same four sheets
  and cells (goal ≤ 1.5×): the file's content without its styles, widths and validations.
"""

from __future__ import annotations

import atexit
import os
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from bench.results import Result

RETURNS = 200
FIRST = "FY2019-20-Q1"


def _make_returns(db_path: Path, folder: Path) -> list[tuple[str, str]]:
    from skp_desktop.domain.definitions import is_due
    from skp_desktop.domain.periods import parse_period
    from skp_desktop.services import exchange
    from skp_desktop.services.catalogue import list_indicators, list_services
    from skp_desktop.services.database import open_database
    from skp_desktop.services.entries import EntryChange
    from skp_desktop.services.returns import get_return, record_entries, submit_return
    from skp_desktop.services.setup import _demo_value

    db = open_database(db_path)
    made: list[tuple[str, str]] = []
    services = [(s.code, list_indicators(db, service=s.code)) for s in list_services(db)]
    rngs = {code: random.Random(code) for code, _ in services}
    period, step = parse_period(FIRST), 0
    while len(made) < RETURNS:
        for code, infos in services:
            due = [i for i in infos if is_due(i.rules.frequency, period)]
            if not due or len(made) == RETURNS:
                continue  # Parks reports once a year: its Q1 to Q3 returns ask for nothing
            changes = [EntryChange(i.code, _demo_value(i, step, rngs[code])) for i in due]
            changes += [EntryChange(i.code, {"commentary": "bench " * 40}) for i in due]
            record_entries(db, service=code, period=period.code, changes=changes, actor="bench")
            view = get_return(db, code, period.code)
            explain = {r.code: "bench" for r in view.rows if r.needs_explanation}
            submit_return(db, service=code, period=period.code, actor="bench", explanations=explain)
            out = folder / f"{code}-{period.code}.xlsx"
            exchange.export_return(db, service=code, period=period.code, out=out, actor="bench")
            made.append((code, period.code))
        period, step = period.next(), step + 1
    db.dispose()
    return made


# The files made once per run (and signing key): bench/signatures.py imports the same ones.
_MADE: dict[Path, tuple[Path, list[tuple[str, str]]]] = {}


def shared_returns() -> tuple[Path, Path, list[tuple[str, str]]]:
    """The folder of the RETURNS files, the database they were exported from, and (service,
    period) of each; made the first time a run asks, removed when it ends."""
    from skp_desktop.services.trust import key_folder

    key = key_folder()
    if key not in _MADE:
        work = Path(tempfile.mkdtemp(prefix="skp-bench-returns-"))
        atexit.register(shutil.rmtree, work, ignore_errors=True)
        (work / "returns").mkdir()
        _MADE[key] = work, _make_returns(work / "source.sqlite3", work / "returns")
    work, made = _MADE[key]
    return work / "returns", work / "source.sqlite3", made


def run() -> list[Result]:
    from skp_desktop.services import exchange
    from skp_desktop.services.database import open_database

    work = Path(tempfile.mkdtemp())
    try:
        files, source_path, made = shared_returns()
        paths = sorted(files.glob("*.xlsx"))
        assert len(paths) == RETURNS == len(made)

        target = open_database(work / "target.sqlite3")
        start = time.perf_counter()
        outcomes = exchange.import_files(target, [files], actor="bench")
        ours_import = time.perf_counter() - start
        target.dispose()
        assert {o.status for o in outcomes} == {"ACCEPTED"}, {o.reason for o in outcomes}

        results: list[Result] = []
        try:
            import pandas as pd

            start = time.perf_counter()
            frames = [
                pd.read_excel(p, sheet_name="Return", header=None, engine="openpyxl") for p in paths
            ]
            pd.concat(frames)
            pandas_time = time.perf_counter() - start
            results.append(Result("import 200 returns vs pandas", ours_import, pandas_time, 0.5))
        except ImportError:
            print("pandas is not installed (pip install '.[bench]'): no pandas baseline")
        try:
            from python_calamine import CalamineWorkbook

            start = time.perf_counter()
            for p in paths:
                CalamineWorkbook.from_path(str(p)).get_sheet_by_name("Return").to_python()
            calamine = time.perf_counter() - start
            results.append(
                Result(
                    "import 200 vs calamine raw read",
                    ours_import,
                    calamine,
                    float("inf"),
                    "lower bound for reading alone",
                )
            )
        except ImportError:
            print("python-calamine is not installed: no raw-read lower bound")

        source = open_database(source_path)
        service, period = made[len(made) // 2]
        ours, bare = [], []
        from openpyxl import Workbook, load_workbook

        # The fair baseline: every sheet of the file we write (Return, Instructions,
        # Definitions, _meta) with the same cells, as a write-only openpyxl workbook.
        sample = work / "sample.xlsx"
        exchange.export_return(source, service=service, period=period, out=sample, actor="b")
        written = load_workbook(sample, read_only=True)
        sheets = {name: [list(r) for r in written[name].values] for name in written.sheetnames}
        written.close()
        for number in range(15):
            out = work / f"export-{number}.xlsx"
            start = time.perf_counter()
            exchange.export_return(source, service=service, period=period, out=out, actor="b")
            ours.append(time.perf_counter() - start)
            start = time.perf_counter()
            book = Workbook(write_only=True)
            for name, rows in sheets.items():
                sheet = book.create_sheet(name)
                for row in rows:
                    sheet.append(row)
            book.save(work / f"bare-{number}.xlsx")
            bare.append(time.perf_counter() - start)
        source.dispose()
        results.append(
            Result(
                "export one return vs 4 sheets",
                statistics.median(ours),
                statistics.median(bare),
                1.5,
            )
        )
        return results
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("SKP_LOG_DIR", tempfile.mkdtemp())
    for row in run():
        print(row.name, f"{row.ours:.3f}", f"{row.baseline:.3f}", f"{row.ratio:.2f}", row.goal)
