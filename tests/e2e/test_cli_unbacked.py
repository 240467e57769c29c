"""Someone edits a laptop's file with sqlite3 and makes a submitted return "accepted": the
command line publishes the rest, names the return it left out and why, and exits 1."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from .support import Cli, Scenario, copy_database

pytestmark = pytest.mark.e2e

Q1 = "FY2024-25-Q1"


def test_merge_and_board_pack_leave_out_a_return_accepted_outside_the_app(
    cli: Cli, scenario: Scenario
) -> None:
    db = copy_database(scenario.path, cli.root / "edited.sqlite3")
    with sqlite3.connect(db) as raw:  # Community Safety's Q1 was only submitted
        raw.execute(
            "UPDATE returns SET state = 'accepted' WHERE period = ? AND service_id = "
            "(SELECT id FROM services WHERE code = 'COMMSAFETY')",
            [Q1],
        )
    said = f"COMMSAFETY {Q1} revision 1 (accepted) left out: return COMMSAFETY {Q1} revision 1"

    merged = cli.run(
        db, "merge-export", "--out", str(cli.root / "m.xlsx"), "--from", Q1, "--to", Q1
    )
    assert merged.returncode == 1, str(merged)
    assert "Wrote " in merged.stdout and "0 accepted returns" in merged.stdout
    assert f"not published, its history does not back it: {said}" in merged.stderr
    assert "its history says COMMSAFETY" in merged.stderr and "'submitted'" in merged.stderr
    assert Path(cli.root / "m.xlsx").exists()

    pack = cli.run(db, "board-pack", "--period", Q1, "--out", str(cli.root / "p.pdf"))
    assert pack.returncode == 1, str(pack)
    assert "Wrote " in pack.stdout and said in pack.stderr and "Traceback" not in pack.stderr

    out = cli.root / "a.xlsx"
    assessment = cli.run(db, "strategic-assessment", "--year", "FY2024-25", "--out", str(out))
    assert assessment.returncode == 1, str(assessment)
    assert "Wrote " in assessment.stdout and out.exists()
    assert f"not published, its history does not back it: {said}" in assessment.stderr
