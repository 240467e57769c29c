"""Export chart… in the large chart: a name typed without an extension gets the chosen one,
and a file that cannot be written is said plainly (the window stays usable)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog, QPushButton

from skp_desktop.charts.series import TrendPoint, TrendSeries
from skp_desktop.charts.trend import trend_figure
from skp_desktop.domain.definitions import Polarity, Unit
from skp_desktop.domain.periods import parse_period
from skp_desktop.ui.dialogs import dialogs, with_filter_extension
from skp_desktop.ui.pages.dashboard_page import IndicatorChartDialog

pytestmark = pytest.mark.gui

FILTERS = "PNG (*.png);;SVG (*.svg);;PDF (*.pdf)"


def _cat1_series() -> TrendSeries:
    first = parse_period("FY2024-25-Q1")
    return TrendSeries(
        "SAFER-P4-S1",
        "% of Category 1 defects repaired on time",
        Unit.PERCENT,
        Polarity.HIGHER_IS_BETTER,
        1,
        (TrendPoint(first, Decimal("90")), TrendPoint(first.next(), Decimal("96"))),
    )


@pytest.fixture
def dialog(qtbot) -> IndicatorChartDialog:
    series = _cat1_series()
    shown = IndicatorChartDialog(series, trend_figure(series))
    qtbot.addWidget(shown)
    shown.show()
    return shown


def _export_button(dialog: IndicatorChartDialog) -> QPushButton:
    return next(b for b in dialog.findChildren(QPushButton) if b.text() == "&Export chart…")


def test_a_name_without_extension_is_saved_as_the_chosen_type(
    qtbot, dialog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    typed = tmp_path / "cat1"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *_a, **_k: (str(typed), "SVG (*.svg)")
    )
    _export_button(dialog).click()
    saved = tmp_path / "cat1.svg"
    assert saved.read_text(encoding="utf-8").lstrip().startswith("<?xml")
    assert "% of Category 1 defects repaired on time" in saved.read_text(encoding="utf-8")


def test_a_file_that_cannot_be_written_is_said_plainly(
    qtbot, dialog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "gone" / "cat1.png"
    monkeypatch.setattr(dialogs, "save_file", lambda *_a: str(missing))
    said: list[str] = []
    monkeypatch.setattr(dialogs, "error", lambda _parent, _title, text, **_k: said.append(text))
    _export_button(dialog).click()
    assert len(said) == 1 and f"The folder {missing.parent} does not exist" in said[0]
    assert not missing.parent.exists()
    assert dialog.isVisible()


@pytest.mark.parametrize(
    ("path", "chosen", "expected"),
    [
        ("/t/chart", "SVG (*.svg)", "/t/chart.svg"),
        ("/t/chart.PDF", "PNG (*.png)", "/t/chart.PDF"),  # a typed extension on offer is kept
        ("/t/chart.v2", "PNG (*.png)", "/t/chart.v2.png"),
        ("/t/chart", "", "/t/chart.png"),  # no filter chosen: the first on offer
    ],
)
def test_with_filter_extension(path: str, chosen: str, expected: str) -> None:
    assert with_filter_extension(path, chosen, FILTERS) == expected


def test_a_chart_shown_dark_is_saved_light_for_paper(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtGui import QImage

    series = _cat1_series()
    shown = IndicatorChartDialog(series, trend_figure(series, theme="dark"))
    qtbot.addWidget(shown)
    out = tmp_path / "cat1.png"
    monkeypatch.setattr(dialogs, "save_file", lambda *_a: str(out))
    _export_button(shown).click()
    corner = QImage(str(out)).pixelColor(2, 2)
    assert corner.lightness() > 200  # a light page, not the screen's dark background
