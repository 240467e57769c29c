"""The coordinator's desk on the command line: `completeness` and `merge-export`.

Two services enter, submit and export returns for two quarters on their own laptops; the
coordinator imports the files into another database, lists completeness and merges. Nothing is
accepted here, and the workbook says so; tests/unit/test_merge.py follows the same files through
acceptance and checks every figure in the workbook, and test_cli_desk_commands.py accepts and
returns with `accept` and `return`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest

from .support import Call, Cli, Result, copy_database

pytestmark = pytest.mark.e2e

Q1, Q2 = "FY2024-25-Q1", "FY2024-25-Q2"  # long past: a return still missing is overdue
ENTRIES = {
    ("HIGHWAYS", Q1): ("SAFER-P4-S1=48/50",),
    ("HIGHWAYS", Q2): ("SAFER-P4-S1=50/50",),
    ("COMMSAFETY", Q1): ("SAFER-P3-S1=12/80", "SAFER-P3-S2=40"),
    ("COMMSAFETY", Q2): ("SAFER-P3-S1=11/80", "SAFER-P3-S2=44"),
}
COMPLETENESS_KEYS = {
    *("service", "period", "state", "revision", "due", "overdue"),  # docs/contracts.md
    *("days_overdue", "due_set"),  # added with due dates set by the coordinator
}


@dataclass(frozen=True)
class Desk:
    cli: Cli
    coordinator: Path
    imported: Result
    runs: dict[str, Result]
    workbook: Path


def _in_turn(cli: Cli, laptops: dict[str, Path], step: tuple[str, ...], period: str) -> None:
    """The same step on every laptop, side by side (each laptop is its own database)."""
    calls = []
    for service, db in laptops.items():
        args = [*step, "--service", service, "--period", period]
        if step[0] == "enter":
            args += ENTRIES[(service, period)]
        if step[0] == "submit":  # a second quarter's change is explained, as services do
            args += [f"--explain={e.split('=')[0]}=checked" for e in ENTRIES[(service, period)]]
        calls.append(Call(db, tuple(args)))
    for result in cli.run_many(calls):
        assert result.returncode == 0, str(result)


@pytest.fixture(scope="module")
def desk(module_cli: Cli, blank_template: Path) -> Desk:
    root = module_cli.root
    laptops = {
        service: copy_database(blank_template, root / f"{service}.sqlite3")
        for service in ("HIGHWAYS", "COMMSAFETY")
    }
    for period in (Q1, Q2):
        _in_turn(module_cli, laptops, ("enter",), period)
        _in_turn(module_cli, laptops, ("submit",), period)
    files = root / "returns"
    files.mkdir()
    exports = module_cli.run_many(
        [
            Call(
                db,
                (
                    "export-return",
                    "--service",
                    s,
                    "--period",
                    p,
                    "--out",
                    str(files / f"{s}-{p}.xlsx"),
                ),
            )
            for s, db in laptops.items()
            for p in (Q1, Q2)
        ]
    )
    for result in exports:
        assert result.returncode == 0, str(result)
    coordinator = copy_database(blank_template, root / "coordinator.sqlite3")
    imported = module_cli.run(coordinator, "import", str(files))
    workbook = root / "partnership.xlsx"
    names = ("json", "text", "merge", "bad-from", "no-folder")
    args = [
        ("completeness", "--json", "--from", Q1, "--to", Q2),
        ("completeness", "--from", Q1, "--to", Q2),
        ("merge-export", "--out", str(workbook), "--from", Q1, "--to", Q2),
        ("merge-export", "--out", str(root / "x.xlsx"), "--from", "FY2024-25"),
        ("merge-export", "--out", str(root / "nowhere" / "x.xlsx")),
    ]
    runs = module_cli.run_many([Call(coordinator, a) for a in args])
    return Desk(module_cli, coordinator, imported, dict(zip(names, runs, strict=True)), workbook)


def test_the_files_arrive_as_submitted_returns(desk: Desk) -> None:
    assert desk.imported.returncode == 0, str(desk.imported)
    lines = desk.imported.stdout.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["ACCEPTED"] * 4


def test_completeness_json_lists_each_return_asked_for(desk: Desk) -> None:
    cells = desk.runs["json"].json()
    assert all(set(cell) == COMPLETENESS_KEYS for cell in cells)
    got = {(c["service"], c["period"]): c for c in cells}
    assert len(cells) == 18  # nine services report quarterly; Parks only with Q4
    assert not any(service == "PARKS" for service, _ in got)
    for service in ("HIGHWAYS", "COMMSAFETY"):
        for period in (Q1, Q2):
            cell = got[(service, period)]
            assert (cell["state"], cell["revision"], cell["overdue"]) == ("submitted", 1, False)
    assert got[("ASC", Q1)] == {
        "service": "ASC",
        "period": Q1,
        "state": "missing",
        "revision": None,
        "due": "2024-07-31",
        "overdue": True,
        "days_overdue": got[("ASC", Q1)]["days_overdue"],
        "due_set": False,
    }
    assert got[("ASC", Q1)]["days_overdue"] > 365
    assert got[("ASC", Q2)]["due"] == "2024-10-31"


def test_completeness_as_a_table_with_a_summary(desk: Desk) -> None:
    result = desk.runs["text"]
    assert result.returncode == 0, str(result)
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["SERVICE", "PERIOD", "STATE", "REVISION", "DUE", "OVERDUE"]
    highways = [line.split() for line in lines if line.startswith("HIGHWAYS ")]
    assert highways == [
        ["HIGHWAYS", Q1, "submitted", "1", "2024-07-31"],
        ["HIGHWAYS", Q2, "submitted", "1", "2024-10-31"],
    ]
    asc = next(line for line in lines if line.startswith("ASC "))
    assert asc.split()[2] == "missing" and asc.endswith(" days")
    assert result.stderr.startswith("4 of 18 returns received (0 accepted, 4 awaiting review")


def test_merge_export_counts_only_accepted_returns(desk: Desk) -> None:
    result = desk.runs["merge"]
    assert result.returncode == 0, str(result)
    assert result.stdout.startswith(f"Wrote {desk.workbook}: 0 accepted returns")
    assert "Not counted: 4 awaiting review, 14 missing." in result.stdout
    book = openpyxl.load_workbook(desk.workbook)
    assert book.sheetnames == ["Summary", "Data", "Wide", "Completeness", "Definitions"]
    summary = book["Summary"]
    assert summary["A2"].value.startswith(
        "Only accepted returns are counted: 0 here. Not counted: 4 submitted and awaiting review"
    )
    data = list(book["Data"].iter_rows(min_row=2, values_only=True))
    assert all(value is None for row in data for value in row)  # no accepted figure yet
    matrix = book["Completeness"]
    rows = {r[0]: r[1:] for r in matrix.iter_rows(min_row=6, values_only=True) if r[0]}
    assert rows["Highways"] == ("➤ submitted", "➤ submitted")
    assert rows["Adult Social Care"] == ("✗ missing", "✗ missing")


def test_bad_ranges_and_folders_are_usage_errors(desk: Desk) -> None:
    for name, says in (
        ("bad-from", "returns are counted per quarter"),
        ("no-folder", "does not exist"),
    ):
        result = desk.runs[name]
        assert result.returncode == 2, str(result)
        assert says in result.stderr and result.stdout == ""
