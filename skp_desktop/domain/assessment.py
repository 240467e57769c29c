"""The annual strategic assessment, as decided (suppression included) before it is drawn or
written: plain data the PDF (charts/) and the workbook (excel/) both take."""

from __future__ import annotations

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
