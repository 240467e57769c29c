"""What a chart shows, as frozen dataclasses the services layer builds (no matplotlib here)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise

from skp_desktop.domain.definitions import Polarity, Unit
from skp_desktop.domain.periods import Period
from skp_desktop.domain.rag import Rag
from skp_desktop.domain.values import Symbol, format_number


@dataclass(frozen=True)
class TrendPoint:
    """One period's figure: a value, or a gap (no value, or a symbol such as "[x]")."""

    period: Period
    value: Decimal | None
    symbol: str | None = None  # "[x]", "[z]" or "[c]": drawn as a gap with the symbol's meaning
    rag: Rag | None = None
    revised: bool = False  # the value came from a revision after the first (revision > 1)

    def __post_init__(self) -> None:
        if self.value is not None and not isinstance(self.value, Decimal):
            raise TypeError(f"{self.period.code}: expected a Decimal value, got {self.value!r}")
        if self.value is not None and self.symbol is not None:
            raise ValueError(
                f"{self.period.code}: a point has a value or a symbol such as [x], not both"
            )
        if self.value is not None and not self.value.is_finite():
            raise ValueError(f"{self.period.code}: {self.value} is not a figure that can be drawn")

    @property
    def is_gap(self) -> bool:
        """Whether the line breaks here: no value was returned, or a symbol stands in for it."""
        return self.value is None

    @property
    def gap_text(self) -> str:
        """What a gap says on the chart: the symbol, or "no data" when nothing was returned."""
        return self.symbol if self.symbol else "no data"

    @property
    def gap_meaning(self) -> str:
        """The gap in words: "[x] = not available", "no data = no figure returned"."""
        if not self.symbol:
            return "no data = no figure returned"
        try:
            return f"{self.symbol} = {Symbol(self.symbol.strip().lower()).description}"
        except ValueError:
            return self.symbol


@dataclass(frozen=True)
class ComparatorSeries:
    """Another series drawn for comparison (London average, statistical neighbours...)."""

    name: str
    points: tuple[tuple[Period, Decimal], ...]


@dataclass(frozen=True)
class TrendSeries:
    """One indicator over time, with its target, baseline and comparators."""

    code: str
    title: str
    unit: Unit
    polarity: Polarity
    decimals: int
    points: tuple[TrendPoint, ...]  # in period order, each period once
    targets: tuple[tuple[Period, Decimal], ...] = ()  # target in force from that period on
    baseline: Decimal | None = None
    baseline_label: str = "Baseline"
    comparators: tuple[ComparatorSeries, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "unit", Unit(self.unit))
        object.__setattr__(self, "polarity", Polarity(self.polarity))
        object.__setattr__(self, "points", tuple(self.points))
        object.__setattr__(self, "targets", tuple(sorted(self.targets, key=lambda t: t[0])))
        object.__setattr__(self, "comparators", tuple(self.comparators))
        if self.decimals < 0:
            raise ValueError(f"{self.code}: decimals cannot be negative")
        periods = [point.period for point in self.points]
        if any(later <= earlier for earlier, later in pairwise(periods)):
            raise ValueError(f"{self.code}: points must be in period order, each period once")

    @property
    def has_values(self) -> bool:
        """Whether at least one period has a figure to draw."""
        return any(not point.is_gap for point in self.points)

    @property
    def latest_point(self) -> TrendPoint | None:
        """The most recent point that has a value, or None if every period is a gap."""
        return next((point for point in reversed(self.points) if not point.is_gap), None)

    def format_value(self, value: Decimal) -> str:
        """A value with the indicator's decimals and unit: "72.5%", "1,234", "3.1 per 10,000"."""
        return f"{format_number(value, self.decimals)}{self.unit.suffix}"

    def target_for(self, period: Period) -> Decimal | None:
        """The target in force in `period`: the latest one set on or before it."""
        current: Decimal | None = None
        for start, target in self.targets:
            if start <= period:
                current = target
        return current


@dataclass(frozen=True)
class DashboardTile:
    """One small multiple: a trend with its latest value, RAG and direction of travel."""

    series: TrendSeries
    latest_label: str | None = None  # None: the latest value, formatted with the unit
    rag: Rag | None = None  # None: the RAG of the latest value, if it has one
    direction_label: str | None = None  # e.g. "↓ improving" from domain.rag.direction_label

    @property
    def shown_latest(self) -> str:
        """The latest value as the tile shows it, or "No data"."""
        if self.latest_label is not None:
            return self.latest_label
        latest = self.series.latest_point
        if latest is None or latest.value is None:
            return "No data"
        return self.series.format_value(latest.value)

    @property
    def shown_rag(self) -> Rag | None:
        """The RAG rating the tile shows."""
        if self.rag is not None:
            return self.rag
        latest = self.series.latest_point
        return latest.rag if latest is not None else None
