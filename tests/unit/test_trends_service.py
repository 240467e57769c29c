"""Trend series built from the returns held: the figures a chart and dashboard draw."""

from __future__ import annotations

from decimal import Decimal

import pytest

from skp_desktop.domain.rag import Rag
from skp_desktop.services.database import Database
from skp_desktop.services.entries import EntryChange
from skp_desktop.services.history import change_stamp
from skp_desktop.services.returns import record_entries, reopen_return, submit_return
from skp_desktop.services.trends import dashboard_tiles, indicator_trend

pytestmark = pytest.mark.both_engines

CAT1 = "SAFER-P4-S1"


def enter(db: Database, period: str, fields: dict[str, str]) -> None:
    record_entries(
        db, service="HIGHWAYS", period=period, changes=[EntryChange(CAT1, fields)], actor="t"
    )


def test_a_trend_has_a_point_per_quarter_with_gaps_rag_and_revisions(db: Database) -> None:
    enter(db, "FY2024-25-Q1", {"numerator": "48", "denominator": "50"})  # 96: amber
    enter(db, "FY2024-25-Q2", {"symbol": "[x]"})
    enter(db, "FY2024-25-Q4", {"numerator": "50", "denominator": "50"})
    submit_return(db, service="HIGHWAYS", period="FY2024-25-Q1", actor="t")
    reopen_return(db, service="HIGHWAYS", period="FY2024-25-Q1", reason="fix", actor="t")
    enter(db, "FY2024-25-Q1", {"numerator": "40", "denominator": "50"})  # 80: red, revised

    series = indicator_trend(db, CAT1)
    assert [p.period.code for p in series.points] == [
        "FY2024-25-Q1",
        "FY2024-25-Q2",
        "FY2024-25-Q3",
        "FY2024-25-Q4",
    ]
    q1, q2, q3, q4 = series.points
    assert (q1.value, q1.rag, q1.revised) == (Decimal(80), Rag.RED, True)
    assert (q2.value, q2.symbol) == (None, "[x]")
    assert (q3.value, q3.symbol) == (None, None)  # nothing returned: a gap
    assert (q4.value, q4.rag, q4.revised) == (Decimal(100), Rag.GREEN, False)
    assert [(p.code, v) for p, v in series.targets] == [("FY2024-25-Q1", Decimal(100))]


def test_the_change_stamp_moves_with_each_save_and_only_then(db: Database) -> None:
    """The Dashboard draws again only when this changes: a save must change it, a read not."""
    before = change_stamp(db)
    dashboard_tiles(db)
    assert change_stamp(db) == before
    enter(db, "FY2024-25-Q1", {"numerator": "40", "denominator": "50"})
    saved = change_stamp(db)
    assert saved != before
    submit_return(db, service="HIGHWAYS", period="FY2024-25-Q1", actor="t")
    assert change_stamp(db) not in (before, saved)


def test_dashboard_tiles_give_latest_value_and_direction(db: Database) -> None:
    enter(db, "FY2024-25-Q1", {"numerator": "40", "denominator": "50"})
    enter(db, "FY2024-25-Q2", {"numerator": "45", "denominator": "50"})
    tiles = {t.series.code: t for t in dashboard_tiles(db, service="HIGHWAYS")}
    tile = tiles[CAT1]
    assert tile.shown_latest == "90.0%"
    assert tile.direction_label == "↑ improving"
    assert tile.shown_rag is Rag.RED
    assert "SAFER-P4-B1" in tiles  # the annual roads indicator has a tile with no data yet
    assert tiles["SAFER-P4-B1"].shown_latest == "No data"


def test_context_measures_sit_beside_their_themes_tiles_with_baseline_and_later_figures(
    db: Database,
) -> None:
    from skp_desktop.services.partnership import set_context_figure

    set_context_figure(db, code="CTX-ASB", period="FY2024-25-Q4", value="19.0", actor="c")
    set_context_figure(db, code="CTX-ASB", period="FY2025-26-Q4", value="18.2", actor="c")
    tiles = dashboard_tiles(db)
    codes = [t.series.code for t in tiles]
    # right after the last of their theme's indicators (Keeping the borough safe, SAFER-P3)
    assert codes[codes.index("CTX-VSO") - 1].startswith("SAFER-P3-")
    assert not codes[codes.index("CTX-NOT-BELIEVED") + 1].startswith("SAFER-P3-")
    assert codes[codes.index("CTX-VSO") : codes.index("CTX-VSO") + 3] == [
        "CTX-VSO",
        "CTX-ASB",
        "CTX-NOT-BELIEVED",
    ]
    asb = tiles[codes.index("CTX-ASB")]
    assert [p.value for p in asb.series.points] == [Decimal("19.0"), Decimal("18.2")]
    assert asb.series.baseline == Decimal("19.3")
    assert asb.direction_label is not None and "improving" in asb.direction_label
    vso = tiles[codes.index("CTX-VSO")].shown_latest
    assert vso.startswith("20.2") and vso.endswith("(baseline)")
    trend = indicator_trend(db, "CTX-ASB")
    assert trend.title.endswith("(context measure)") and len(trend.points) == 2
    assert [t.series.code for t in dashboard_tiles(db, service="MPS-KINGSTON")] == ["SAFER-P3-B1"]
    themed = [t.series.code for t in dashboard_tiles(db, theme="SAFER-P3")]
    assert themed[-3:] == ["CTX-VSO", "CTX-ASB", "CTX-NOT-BELIEVED"]
