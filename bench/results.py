"""One row of the benchmark table."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Result:
    """Our time against a baseline measured in the same run, with the goal for the ratio."""

    name: str
    ours: float
    baseline: float
    goal: float
    note: str = ""
    unit: str = "s"  # "s": seconds, shown in ms; "instructions": CPU instructions counted

    def shown(self, value: float) -> str:
        if self.unit == "instructions":
            return f"{value / 1e6:.0f}M in"
        return f"{value * 1000:.1f}ms"

    @property
    def ratio(self) -> float:
        return self.ours / self.baseline

    @property
    def holds(self) -> bool:
        return self.ratio <= self.goal
