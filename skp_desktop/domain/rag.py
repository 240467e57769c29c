"""Red, amber and green against targets, and the direction of travel between periods."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from skp_desktop.domain.definitions import Polarity


class Rag(StrEnum):
    """Performance against target; always shown as shape and word, never colour alone."""

    GREEN = "Green"
    AMBER = "Amber"
    RED = "Red"

    @property
    def shape(self) -> str:
        """A shape that tells the statuses apart without colour: ●, ▲ or ■."""
        return _SHAPES[self]

    @property
    def label(self) -> str:
        """Shape and word together, e.g. "● Green"."""
        return f"{self.shape} {self.value}"


_SHAPES = {Rag.GREEN: "●", Rag.AMBER: "▲", Rag.RED: "■"}


def rag_status(
    value: Decimal | None,
    target: Decimal | None,
    polarity: Polarity,
    tolerance: Decimal = Decimal(0),
) -> Rag | None:
    """Green when the target is met, Amber when within the tolerance of it, else Red."""
    if value is None or target is None or polarity is Polarity.NEUTRAL:
        return None
    # A tolerance is a distance from the target; a negative one in a catalogue is a slip of sign.
    tolerance = abs(tolerance)
    if polarity is Polarity.HIGHER_IS_BETTER:
        if value >= target:
            return Rag.GREEN
        return Rag.AMBER if value >= target - tolerance else Rag.RED
    if value <= target:
        return Rag.GREEN
    return Rag.AMBER if value <= target + tolerance else Rag.RED


class Direction(StrEnum):
    """How a value moved since an earlier period, judged by the indicator's polarity."""

    IMPROVING = "improving"
    WORSENING = "worsening"
    NO_CHANGE = "no change"
    UP = "up"
    DOWN = "down"

    @property
    def arrow(self) -> str:
        """The usual arrow; for lower-is-better indicators use direction_label, which follows
        the number rather than the judgement."""
        return _ARROWS[self]

    @property
    def label(self) -> str:
        """Arrow and word, e.g. "↑ improving" (see direction_label for lower-is-better)."""
        return f"{self.arrow} {self.value}"


_ARROWS = {
    Direction.IMPROVING: "↑",
    Direction.WORSENING: "↓",
    Direction.NO_CHANGE: "→",
    Direction.UP: "↑",
    Direction.DOWN: "↓",
}


def direction_of_travel(
    current: Decimal | None, earlier: Decimal | None, polarity: Polarity
) -> Direction | None:
    """Improving or worsening by polarity, up or down when neutral; None if either is missing."""
    if current is None or earlier is None:
        return None
    if current == earlier:
        return Direction.NO_CHANGE
    went_up = current > earlier
    if polarity is Polarity.NEUTRAL:
        return Direction.UP if went_up else Direction.DOWN
    good = went_up == (polarity is Polarity.HIGHER_IS_BETTER)
    return Direction.IMPROVING if good else Direction.WORSENING


def direction_arrow(current: Decimal, earlier: Decimal) -> str:
    """The arrow of the number's own movement: ↑ when it rose, ↓ when it fell, → when equal."""
    if current > earlier:
        return "↑"
    return "↓" if current < earlier else "→"


def direction_label(
    current: Decimal | None, earlier: Decimal | None, polarity: Polarity
) -> str | None:
    """Arrow and word, the arrow following the number: a fall in crime reads "↓ improving"."""
    direction = direction_of_travel(current, earlier, polarity)
    if direction is None or current is None or earlier is None:
        return None
    return f"{direction_arrow(current, earlier)} {direction.value}"
