"""Small factories for the Excel exchange tests: returns, files, hostile zips, measurements.

Every file is built by the test that uses it; nothing binary is committed.
"""

from __future__ import annotations

import io
import shutil
import sqlite3
import time
import tracemalloc
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import openpyxl

from skp_desktop.services import exchange
from skp_desktop.services.database import Database, open_database
from skp_desktop.services.returns import EntryChange, record_entries, submit_return

T = TypeVar("T")

ACTOR = "tester"
PERIOD = "FY2026-27-Q1"
# Community Safety's quarterly return: a percentage worked out from a fraction, and a count.
COMMSAFETY = "COMMSAFETY"
REPEAT_VICTIMS = "SAFER-P3-S1"  # % of high risk victims with a further incident (fraction)
TRAINED = "SAFER-P3-S2"  # number of professionals trained (count)
# Children's Services: a count and two percentages.
CHILDRENS = "CHILDRENS"
LOOKED_AFTER = "SAFER-P1-B2"
CARE_LEAVERS = "SAFER-P1-S3"
SIXTEEN_17 = "SAFER-P1-S4"

# Where the writer puts things (the reader finds them by header text, not by these).
FIRST_ROW = 12
COLUMN = {"Code": "A", "Numerator": "D", "Denominator": "E", "Value": "F", "Commentary": "J"}
COLUMN |= {"Explanation": "K", "Indicator": "B", "RAG": "H"}


def submit(
    db: Database,
    service: str,
    entries: Mapping[str, Mapping[str, str]],
    *,
    period: str = PERIOD,
    explanations: Mapping[str, str] | None = None,
) -> None:
    """Enter the entries in the draft and submit it."""
    record_entries(
        db,
        service=service,
        period=period,
        changes=[EntryChange(code, dict(fields)) for code, fields in entries.items()],
        actor=ACTOR,
    )
    submit_return(db, service=service, period=period, actor=ACTOR, explanations=explanations)


def commsafety(
    db: Database, *, numerator: str = "12", denominator: str = "80", count: str = "40", **texts: str
) -> None:
    """Submit a Community Safety return; `texts` maps a code to its commentary."""
    submit(
        db,
        COMMSAFETY,
        {
            REPEAT_VICTIMS: {"numerator": numerator, "denominator": denominator}
            | ({"commentary": texts[REPEAT_VICTIMS]} if REPEAT_VICTIMS in texts else {}),
            TRAINED: {"value": count}
            | ({"commentary": texts[TRAINED]} if TRAINED in texts else {}),
        },
    )


def export(
    db: Database, folder: Path, name: str = "return.xlsx", service: str = COMMSAFETY
) -> Path:
    """Export the service's submitted return to `folder/name`."""
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / name
    exchange.export_return(db, service=service, period=PERIOD, out=out, actor=ACTOR)
    return out


def template(
    db: Database, folder: Path, service: str = COMMSAFETY, name: str = "blank.xlsx"
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / name
    exchange.write_template(db, service=service, period=PERIOD, out=out, actor=ACTOR)
    return out


def edit(source: Path, target: Path, cells: Mapping[str, Any], sheet: str = "Return") -> Path:
    """A copy of a workbook with cells changed, as someone editing it in a spreadsheet would."""
    book = openpyxl.load_workbook(source)
    for ref, value in cells.items():
        book[sheet][ref].value = value
    target.parent.mkdir(parents=True, exist_ok=True)
    book.save(target)
    return target


def row_of(path: Path, code: str) -> int:
    """The row of an indicator in a written file."""
    book = openpyxl.load_workbook(path, read_only=True)
    for row in book["Return"].iter_rows(min_row=FIRST_ROW, max_col=1):
        if row[0].value == code:
            book.close()
            return row[0].row
    raise KeyError(code)


def cell(path: Path, code: str, column: str) -> str:
    """The reference of an indicator's cell, e.g. "F12"."""
    return f"{COLUMN[column]}{row_of(path, code)}"


def do_import(db: Database, *paths: Path, **options: Any) -> list[exchange.ImportOutcome]:
    return exchange.import_files(db, paths, actor=ACTOR, **options)


def import_one(db: Database, path: Path, **options: Any) -> exchange.ImportOutcome:
    (outcome,) = do_import(db, path, **options)
    return outcome


def open_copy(template_database: Path, target: Path) -> Database:
    """Another database: a fresh copy of the catalogue-only template."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template_database, target)
    return open_database(target)


def dump(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to show a database did not change."""
    with sqlite3.connect(path) as connection:
        tables = [
            name
            for (name,) in connection.execute(
                # real tables: not the text search's index, which its events make
                "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' "
                "AND name != 'sqlite_schema' ORDER BY name"
            )
        ]
        return {
            t: connection.execute(f'SELECT * FROM "{t}" ORDER BY rowid').fetchall() for t in tables
        }


@dataclass(frozen=True)
class Measured:
    result: Any
    seconds: float
    peak_bytes: int


def measure(work: Callable[[], T]) -> Measured:
    """Run `work`, timing it and tracing the peak of Python's memory allocations."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        result = work()
    finally:
        seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return Measured(result, seconds, peak)


# --- zips ----------------------------------------------------------------------------------


def members(path_or_bytes: Path | bytes) -> dict[str, bytes]:
    data = path_or_bytes.read_bytes() if isinstance(path_or_bytes, Path) else path_or_bytes
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def zip_bytes(parts: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def rezip(
    source: Path,
    target: Path,
    *,
    replace: Mapping[str, bytes] | None = None,
    add: Mapping[str, bytes] | None = None,
) -> Path:
    """A copy of an .xlsx with some parts replaced or added."""
    parts = members(source)
    parts.update(replace or {})
    parts.update(add or {})
    target.write_bytes(zip_bytes(parts))
    return target


def sheet_part(path: Path, sheet: str = "Return") -> str:
    """The zip part of a sheet in a file openpyxl wrote (sheets are numbered in order)."""
    order = ["Return", "Instructions", "Definitions", "_meta"]
    return f"xl/worksheets/sheet{order.index(sheet) + 1}.xml"
