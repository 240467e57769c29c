"""A trend chart in words: its text alternative, in the same words as its table of figures."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from skp_desktop.charts.series import TrendPoint, TrendSeries

TREND_HEADERS = ("Period", "Value", "Target", "RAG", "Note")


def trend_cell(series: TrendSeries, point: TrendPoint, column: str) -> str:
    """One cell of a trend's table of figures (a TrendSeries' TrendPoint, by header)."""
    if column == "Period":
        return point.period.label
    if column == "Value":
        return point.gap_text if point.value is None else series.format_value(point.value)
    if column == "Target":
        target = series.target_for(point.period)
        return "" if target is None else series.format_value(target)
    if column == "RAG":
        return point.rag.label if point.rag else "—"
    return "revised" if point.revised else ""


def describe_trend(series: TrendSeries) -> str:
    """The chart's figures as a screen reader reads them, oldest first:
    "Trend of <title>: 2024/25 Q1 (Apr–Jun 2024) 45.0%, target 50.0%, ■ Red; …"."""
    parts = []
    for point in series.points:
        value, target, rag, note = (trend_cell(series, point, c) for c in TREND_HEADERS[1:])
        words = f"{trend_cell(series, point, 'Period')} {value}"
        if target:
            words += f", target {target}"
        if rag and rag != "—":
            words += f", {rag}"
        if note:
            words += f" ({note})"
        parts.append(words)
    figures = "; ".join(parts) if parts else "no figures yet"
    return f"Trend of {series.title}: {figures}."
