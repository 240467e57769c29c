"""`chart`: an indicator's trend chart written as a real PNG, SVG or PDF."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from .support import Cli, copy_database

pytestmark = pytest.mark.e2e


def test_chart_writes_real_images(cli: Cli, demo_template: Any, tmp_path: Path) -> None:
    db = copy_database(demo_template.path, tmp_path / "chart.sqlite3")
    png, svg = tmp_path / "cat1.png", tmp_path / "crime.svg"
    first = cli.run(db, "chart", "--indicator", "SAFER-P4-S1", "--out", str(png))
    second = cli.run(db, "chart", "--indicator", "safer-p3-b1", "--out", str(svg))
    assert first.returncode == 0 and second.returncode == 0, f"{first}\n{second}"
    assert first.stdout == f"Wrote {png}\n"
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", data[16:24])
    assert width >= 800 and height >= 400
    root = ElementTree.parse(svg).getroot()
    assert root.tag.endswith("svg")
    assert "Crime rate per 10,000 population" in svg.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--indicator", "SAFER-P4-S1", "--out", "chart.gif"), "'.gif' is not one of them"),
        (("--indicator", "NOPE-1", "--out", "chart.png"), "no indicator 'NOPE-1'"),
        (("--indicator", "SAFER-P4-S1", "--out", "missing/chart.png"), "does not exist"),
    ],
)
def test_chart_refuses_bad_arguments_with_exit_2(
    cli: Cli, demo_template: Any, tmp_path: Path, args: tuple[str, ...], words: str
) -> None:
    db = copy_database(demo_template.path, tmp_path / "chart.sqlite3")
    fixed = [str(tmp_path / a) if a.endswith((".gif", ".png")) else a for a in args]
    result = cli.run(db, "chart", *fixed)
    assert result.returncode == 2, str(result)
    assert words in result.stderr
    assert result.stdout == ""


def test_chart_and_board_pack_into_a_folder_name_are_usage_errors(
    cli: Cli, demo_template: Any, tmp_path: Path
) -> None:
    db = copy_database(demo_template.path, tmp_path / "chart.sqlite3")
    folder = tmp_path / "charts.png"  # a folder that looks like a file name
    folder.mkdir()
    chart = cli.run(db, "chart", "--indicator", "SAFER-P4-S1", "--out", str(folder))
    pack_folder = tmp_path / "pack.pdf"
    pack_folder.mkdir()
    pack = cli.run(db, "board-pack", "--period", "FY2026-27-Q1", "--out", str(pack_folder))
    for result in (chart, pack):
        assert result.returncode == 2, str(result)
        assert "is a folder: give the name of the" in result.stderr
        assert result.stdout == "" and "Traceback" not in result.stderr
    assert list(folder.iterdir()) == [] and list(pack_folder.iterdir()) == []
