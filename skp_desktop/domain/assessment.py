"""The annual strategic assessment, as decided (suppression included) before it is drawn or
written: plain data the PDF (charts/) and the workbook (excel/) both take."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from skp_desktop.domain.values import format_number

MISSING_TEXT = "–"


@dataclass(frozen=True)
class AssessedFigure:
    """A number with the decimals it is published to, or a symbol ([x], [z], [c]) instead."""

    value: Decimal | None = None
    decimals: int = 0
    symbol: str | None = None

    @property
    def text(self) -> str:
        """As a person reads it: the number, the symbol, or a dash for nothing held."""
        if self.value is not None:
            return format_number(self.value, self.decimals)
        return self.symbol or MISSING_TEXT


@dataclass(frozen=True)
class AssessedMeasure:
    """One indicator or context measure over the year and the years before it."""

    code: str
    title: str
    kind: str  # "indicator" or "context"
    service: str  # who reports it ("Context measure (no return)" for a context measure)
    unit: str  # as the workbooks label it: "%", "count", "per 1,000"…
    polarity: str  # "higher is better", "lower is better", "neutral"
    frequency: str
    quarters: tuple[AssessedFigure, ...]  # the year's Q1 to Q4
    latest: AssessedFigure
    latest_period: str | None  # the label of the period of `latest`
    year_earlier: AssessedFigure  # the same period a year before
    change: Decimal | None  # latest minus year_earlier, when both are numbers
    direction: str | None  # e.g. "↓ improving"
    target: AssessedFigure
    rag: str | None
    comparators: tuple[tuple[str, AssessedFigure], ...]  # (series, figure at the latest period)
    years: tuple[tuple[str, AssessedFigure], ...]  # (year label, its year-end figure), oldest first
    baseline: AssessedFigure
    note: str | None = None


@dataclass(frozen=True)
class AssessmentSection:
    """A statutory duty of the partnership or a Council Plan priority, with its measures."""

    code: str
    kind: str  # "statutory duty" or "priority"
    name: str
    commitment: str | None
    measures: tuple[AssessedMeasure, ...]


@dataclass(frozen=True)
class QualityNote:
    """One thing about the year's data a reader should know, tied to a return."""

    topic: str  # one of QUALITY_TOPICS
    service: str
    period: str  # label
    detail: str
    days_late: int | None = None  # a late return's days after the due date


@dataclass(frozen=True)
class QualityGroup:
    """The notes of one topic about one service, as the board reads them: which quarters,
    and what happened in a line."""

    topic: str
    service: str
    periods: str  # e.g. "Q1, Q2, Q4" (the year's quarters), else the labels
    detail: str
    returns: int  # how many notes it stands for


def grouped_quality(notes: Sequence[QualityNote], year_label: str) -> list[QualityGroup]:
    """One row per topic and service, topics in QUALITY_TOPICS order, services as first met.

    A board asks "who was late, and how often", not for forty-nine rows of the same words;
    the workbook keeps one row per note."""
    groups: dict[tuple[str, str], list[QualityNote]] = {}
    for note in notes:
        groups.setdefault((note.topic, note.service), []).append(note)
    order = {topic: n for n, topic in enumerate(QUALITY_TOPICS)}
    prefix = f"{year_label} "

    def quarter(label: str) -> str:
        return label.removeprefix(prefix)

    rows = []
    for (topic, service), held in sorted(groups.items(), key=lambda g: order.get(g[0][0], 99)):
        periods = ", ".join(dict.fromkeys(quarter(n.period) for n in held))
        details = list(dict.fromkeys(n.detail for n in held))
        days = [n.days_late for n in held if n.days_late is not None]
        if topic == "Late" and days:
            low, high = min(days), max(days)
            span = f"{low}" if low == high else f"{low} to {high}"
            detail = f"{span} day{'s' if high != 1 else ''} after the due date"
        elif len(details) == 1:
            detail = details[0]
        else:
            detail = "; ".join(f"{quarter(n.period)}: {n.detail}" for n in held)
        rows.append(QualityGroup(topic, service, periods, detail, len(held)))
    return rows


QUALITY_TOPICS = (
    "Late",
    "Revised after submission",
    "Taken unsigned or modified",
    "Not available [x]",
    "Not accepted",
    "Left out: not backed by its history",
)


@dataclass(frozen=True)
class Assessment:
    """Everything the annual strategic assessment shows."""

    year: str  # code, e.g. FY2025-26
    year_label: str  # e.g. "2025/26"
    quarter_labels: tuple[str, ...]  # the year's four quarters, short labels
    sections: tuple[AssessmentSection, ...]
    quality: tuple[QualityNote, ...]
    made: date
    suppressed: int  # figures published as [c]
    comparator_names: tuple[str, ...]
    # returns of the years read whose audit history does not back them: left out, one line each
    left_out: tuple[str, ...] = ()

    @property
    def measures(self) -> list[AssessedMeasure]:
        """Every measure once, in section order."""
        return [m for section in self.sections for m in section.measures]

    def quality_count(self, topic: str) -> int:
        return sum(1 for note in self.quality if note.topic == topic)
