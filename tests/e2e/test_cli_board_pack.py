"""`board-pack`: one PDF for a quarter, with a cover, the dashboard and a page per indicator."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from .support import Call, Cli, copy_database

pytestmark = pytest.mark.e2e

PDF_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


def test_board_pack_writes_a_pdf_with_a_page_per_indicator(
    cli: Cli, demo_template: Any, tmp_path: Path
) -> None:
    db = copy_database(demo_template.path, tmp_path / "pack.sqlite3")
    folder = tmp_path / "board"
    folder.mkdir()
    out = folder / "highways.pdf"
    result = cli.run(
        db, "board-pack", "--period", "FY2026-27-Q1", "--service", "HIGHWAYS", "--out", str(out)
    )
    assert result.returncode == 0, str(result)
    assert result.stdout == (
        f"Wrote {out}: board pack for 2026/27 Q1 (Apr–Jun 2026) (Service: Highways), "
        "2 indicators on 4 pages\n"
    )
    data = out.read_bytes()
    assert data.startswith(b"%PDF-")
    assert len(PDF_PAGE.findall(data)) == 1 + 1 + 2  # cover, dashboard, two indicators
    assert [p.name for p in folder.iterdir()] == ["highways.pdf"]  # no temporary file left


def test_board_pack_refuses_bad_arguments_with_exit_2(
    cli: Cli, demo_template: Any, tmp_path: Path
) -> None:
    cases = {
        "a year": (("--period", "FY2026-27", "--out", "p.pdf"), "made for a quarter"),
        "not a pdf": (("--period", "FY2026-27-Q1", "--out", "p.png"), "must end in .pdf"),
        "no folder": (("--period", "FY2026-27-Q1", "--out", "none/p.pdf"), "does not exist"),
    }
    calls = []
    for name, (args, _) in cases.items():
        db = copy_database(demo_template.path, tmp_path / f"{name}.sqlite3")
        fixed = [str(tmp_path / a) if a.endswith((".pdf", ".png")) else a for a in args]
        calls.append(Call(db, ("board-pack", *fixed)))
    for (name, (_, words)), result in zip(cases.items(), cli.run_many(calls), strict=True):
        assert result.returncode == 2, f"{name}: {result}"
        assert words in result.stderr, f"{name}: {result}"
        assert result.stdout == ""
    assert not list(tmp_path.glob("*.pdf")) and not list(tmp_path.glob("*.png"))
