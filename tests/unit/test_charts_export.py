"""Saving charts: real PNG, SVG and PDF files, written all or nothing."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from matplotlib.figure import Figure

from skp_desktop.charts.export import PNG_DPI, figure_png_bytes, save_figure
from skp_desktop.charts.trend import empty_figure


def small_figure() -> Figure:
    return empty_figure("A chart", size=(4, 2.5))


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which always comes first after the signature."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_png_is_a_real_png_at_150_dpi(tmp_path: Path) -> None:
    path = save_figure(small_figure(), tmp_path / "chart.png")
    assert path == tmp_path / "chart.png"
    assert png_size(path.read_bytes()) == (4 * PNG_DPI, round(2.5 * PNG_DPI))
    assert PNG_DPI == 150


def test_extension_case_does_not_matter(tmp_path: Path) -> None:
    path = save_figure(small_figure(), tmp_path / "CHART.PNG")
    assert path.read_bytes().startswith(b"\x89PNG")


def test_svg_is_xml_with_an_svg_root(tmp_path: Path) -> None:
    path = save_figure(small_figure(), tmp_path / "chart.svg")
    root = ElementTree.parse(path).getroot()
    assert root.tag in ("svg", "{http://www.w3.org/2000/svg}svg")


def test_pdf_is_a_complete_pdf(tmp_path: Path) -> None:
    data = save_figure(small_figure(), str(tmp_path / "chart.pdf")).read_bytes()
    assert data.startswith(b"%PDF")
    assert data.rstrip().endswith(b"%%EOF")


@pytest.mark.parametrize("name", ["chart.gif", "chart.jpeg", "chart"])
def test_other_extensions_are_refused_naming_the_allowed_ones(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match=r"\.png, \.svg, \.pdf"):
        save_figure(small_figure(), tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_save_leaves_the_old_file_and_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "chart.png"
    target.write_bytes(b"the chart saved last week")
    fig = small_figure()

    def broken_savefig(stream: object, **_: object) -> None:
        stream.write(b"\x89PNG half a chart")  # type: ignore[attr-defined]
        raise OSError("disk full")

    fig.savefig = broken_savefig  # type: ignore[method-assign]
    with pytest.raises(OSError, match="disk full"):
        save_figure(fig, target)
    assert target.read_bytes() == b"the chart saved last week"
    assert [p.name for p in tmp_path.iterdir()] == ["chart.png"]


def test_saving_replaces_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "chart.svg"
    target.write_text("old")
    save_figure(small_figure(), target)
    assert "<svg" in target.read_text(encoding="utf-8")
    assert [p.name for p in tmp_path.iterdir()] == ["chart.svg"]


def test_a_missing_folder_is_reported(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save_figure(small_figure(), tmp_path / "nowhere" / "chart.png")


def test_png_bytes_match_the_figure_size() -> None:
    data = figure_png_bytes(small_figure())
    assert png_size(data) == (600, 375)


def test_a_bare_figure_can_be_saved(tmp_path: Path) -> None:
    fig = Figure(figsize=(2, 1))
    fig.add_subplot().plot([1, 2])
    assert png_size(save_figure(fig, tmp_path / "bare.png").read_bytes()) == (300, 150)
