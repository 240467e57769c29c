"""`publish`, `definitions-export` and `definitions-import` through the real console script."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest

from .support import Call, Cli, Result, copy_database

pytestmark = pytest.mark.e2e

FROM = "FY2025-26-Q1"
NEW_TITLE = "% of Category 1 defects made safe within 24 hours"
CHANGES_TOML = f"""
note = "Highways measures for 2025/26"

[changes.SAFER-P4-S1]
title = "{NEW_TITLE}"
amber_tolerance = 2.5

[targets.SAFER-P4-S1]
FY2025-26 = 95

[[new]]
code = "SAFER-P4-S7"
theme = "SAFER-P4"
service = "HIGHWAYS"
title = "Potholes filled within five working days"
unit = "count"
polarity = "higher is better"
frequency = "quarterly"
"""


@dataclass(frozen=True)
class Packs:
    cli: Cli
    blank: Path  # a catalogue-only database, copied for each import
    source: Path  # the coordinator's database, at version 2
    old: Path  # version 1's pack
    new: Path  # version 2's pack
    runs: dict[str, Result]


@pytest.fixture(scope="module")
def packs(module_cli: Cli, blank_template: Path) -> Packs:
    """Version 1 exported, version 2 published from a TOML file and exported."""
    root = module_cli.root
    source = copy_database(blank_template, root / "coordinator.sqlite3")
    changes = root / "changes.toml"
    changes.write_text(CHANGES_TOML, encoding="utf-8")
    old, new = root / "v1.xlsx", root / "v2.xlsx"
    runs = {"export_old": module_cli.run(source, "definitions-export", "--out", str(old))}
    runs["publish"] = module_cli.run(
        source, "publish", "--from-file", str(changes), "--applies-from", FROM
    )
    runs["export_new"] = module_cli.run(source, "definitions-export", "--out", str(new))
    for result in runs.values():
        assert result.returncode == 0, str(result)
    return Packs(module_cli, blank_template, source, old, new, runs)


def test_publish_from_a_file_says_what_it_changed(packs: Packs) -> None:
    out = packs.runs["publish"].stdout
    assert out.startswith(
        "Published definitions version 2, in force from 2025/26 Q1 (Apr–Jun 2025)."
    )
    assert "SAFER-P4-S1 amber tolerance: 5 → 2.5" in out
    assert "New: SAFER-P4-S7 (Potholes filled within five working days)" in out
    assert "SAFER-P4-S1 FY2025-26 target: blank → 95" in out
    assert packs.runs["export_old"].stdout.startswith(
        f"Wrote {packs.old}: definitions version 1 from FY2024-25-Q1, 25 indicators"
    )
    assert packs.runs["export_new"].stdout.startswith(
        f"Wrote {packs.new}: definitions version 2 from {FROM}, 26 indicators"
    )


def test_a_pack_moves_to_another_database_and_an_older_one_is_refused(
    packs: Packs, cli: Cli
) -> None:
    target = copy_database(packs.blank, cli.root / "service.sqlite3")
    dry = cli.run(target, "definitions-import", "--dry-run", str(packs.new))
    done = cli.run(target, "definitions-import", str(packs.new))
    again = cli.run(target, "definitions-import", str(packs.new))
    older = cli.run(target, "definitions-import", str(packs.old))
    catalogue = cli.run(target, "catalogue", "--service", "HIGHWAYS", "--json")
    history = cli.run(target, "history", "--json")
    verify = cli.run(target, "verify")

    assert dry.returncode == 0 and dry.stdout == f"IMPORTED\tv2.xlsx\tversion 2 from {FROM}\n"
    assert "Dry run: nothing was written." in dry.stderr
    assert done.returncode == 0, str(done)
    assert done.stdout == f"IMPORTED\tv2.xlsx\tversion 2 from {FROM}\n"
    assert again.returncode == 0 and again.stdout.startswith("UP TO DATE\tv2.xlsx")
    assert older.returncode == 1, str(older)
    assert older.stdout.startswith(
        "REFUSED\tv1.xlsx\tthe pack is definitions version 1, older than version 2 which this "
        "database already holds"
    )
    rows = {row["code"]: row for row in catalogue.json()}
    assert rows["SAFER-P4-S1"]["title"] == NEW_TITLE
    assert rows["SAFER-P4-S1"]["target"] == 95
    assert "SAFER-P4-S7" in rows
    actions = [event["action"] for event in history.json()]
    assert actions.count("definitions.import") == 1  # the dry run and the repeat wrote nothing
    assert verify.returncode == 0, str(verify)


def test_a_tampered_pack_is_refused_naming_the_cell(packs: Packs, cli: Cli) -> None:
    book = openpyxl.load_workbook(packs.new)
    sheet = book["Definitions"]
    header = next(row for row in sheet.iter_rows() if row[0].value == "Code")
    column = next(c.column for c in header if c.value == "Amber tolerance")
    row = next(r[0].row for r in sheet.iter_rows() if r[0].value == "SAFER-P4-S1")
    sheet.cell(row, column).value = 10
    tampered = cli.root / "tampered.xlsx"
    book.save(tampered)
    target = copy_database(packs.blank, cli.root / "service.sqlite3")

    result = cli.run(target, "definitions-import", str(tampered))

    assert result.returncode == 1, str(result)
    cell = f"{openpyxl.utils.get_column_letter(column)}{row}"
    assert (
        f"refused: sheet Definitions, cell {cell}: Amber tolerance of SAFER-P4-S1 shows 10, "
        "but the signed definitions have 2.5: it was changed after export"
    ) in result.stderr
    titles = {r["code"]: r["title"] for r in cli.run(target, "catalogue", "--json").json()}
    assert titles["SAFER-P4-S1"] == "% of Category 1 defects repaired on time"
    history = cli.run(target, "history", "--json").json()
    # a fresh database: its catalogue, and this installation's key enrolled
    assert [e["action"] for e in history] == ["key.trust", "catalogue.load"]


def test_publish_one_indicator_from_the_command_line(packs: Packs, cli: Cli) -> None:
    good = copy_database(packs.blank, cli.root / "good.sqlite3")
    bad = copy_database(packs.blank, cli.root / "bad.sqlite3")
    one = (
        "publish",
        "--indicator",
        "SAFER-P4-S1",
        "--set",
        "decimals=0",
        "--target",
        "FY2026-27=98",
        "--applies-from",
        "FY2026-27-Q1",
        "--note",
        "whole percentages from 2026/27",
    )
    wrong = (
        "publish",
        "--indicator",
        "SAFER-P4-S1",
        "--set",
        "polarity=up",
        "--set",
        "amber_tolerance=-1",
        "--applies-from",
        "FY2020-21-Q1",
    )
    done, refused, usage = cli.run_many(
        [
            Call(good, one),
            Call(bad, wrong),
            Call(bad, ("publish", "--set", "title=x", "--applies-from", FROM, "--note", "n")),
        ]
    )

    assert done.returncode == 0, str(done)
    assert "SAFER-P4-S1 decimals: 1 → 0" in done.stdout
    assert "SAFER-P4-S1 FY2026-27 target: blank → 98" in done.stdout
    assert refused.returncode == 1, str(refused)
    for expected in (
        "applies_from: 2020/21 Q1 (Apr–Jun 2020) is earlier than 2024/25 Q1",
        "note: say why the definitions change",
        "SAFER-P4-S1 polarity: 'up' is not a polarity",
        "SAFER-P4-S1 amber_tolerance: -1 is negative",
    ):
        assert expected in refused.stderr, str(refused)
    assert usage.returncode == 2 and "--set and --target need --indicator CODE" in usage.stderr
