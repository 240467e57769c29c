"""Red, amber and green against target, and the direction of travel, for each polarity."""

from __future__ import annotations

from decimal import Decimal

import pytest

from skp_desktop.domain.definitions import Polarity
from skp_desktop.domain.rag import (
    Direction,
    Rag,
    direction_label,
    direction_of_travel,
    rag_status,
)

D = Decimal
HIGHER, LOWER, NEUTRAL = (
    Polarity.HIGHER_IS_BETTER,
    Polarity.LOWER_IS_BETTER,
    Polarity.NEUTRAL,
)


@pytest.mark.parametrize(
    ("value", "target", "polarity", "tolerance", "expected"),
    [
        # Higher is better: target 80, amber down to 75.
        ("85", "80", HIGHER, "5", Rag.GREEN),
        ("80", "80", HIGHER, "5", Rag.GREEN),  # on target is green
        ("79.9", "80", HIGHER, "5", Rag.AMBER),
        ("75", "80", HIGHER, "5", Rag.AMBER),  # on the edge of tolerance is amber
        ("74.9", "80", HIGHER, "5", Rag.RED),
        ("79.9", "80", HIGHER, "0", Rag.RED),  # no tolerance: just short is red
        ("0", "0", HIGHER, "0", Rag.GREEN),
        # Lower is better: target 450 incidents, amber up to 475.
        ("400", "450", LOWER, "25", Rag.GREEN),
        ("450", "450", LOWER, "25", Rag.GREEN),
        ("450.1", "450", LOWER, "25", Rag.AMBER),
        ("475", "450", LOWER, "25", Rag.AMBER),
        ("475.1", "450", LOWER, "25", Rag.RED),
        ("451", "450", LOWER, "0", Rag.RED),
        # A tolerance entered with a minus sign still means a distance from the target.
        ("77", "80", HIGHER, "-5", Rag.AMBER),
        ("470", "450", LOWER, "-25", Rag.AMBER),
        # Nothing to judge.
        ("85", "80", NEUTRAL, "5", None),
        (None, "80", HIGHER, "5", None),
        ("85", None, HIGHER, "5", None),
        (None, None, LOWER, "0", None),
    ],
)
def test_rag_status(
    value: str | None,
    target: str | None,
    polarity: Polarity,
    tolerance: str,
    expected: Rag | None,
) -> None:
    status = rag_status(
        D(value) if value is not None else None,
        D(target) if target is not None else None,
        polarity,
        D(tolerance),
    )
    assert status is expected


def test_rag_tolerance_defaults_to_zero() -> None:
    assert rag_status(D("79.9"), D(80), HIGHER) is Rag.RED
    assert rag_status(D(80), D(80), HIGHER) is Rag.GREEN


@pytest.mark.parametrize(
    ("rag", "shape", "label"),
    [
        (Rag.GREEN, "●", "● Green"),
        (Rag.AMBER, "▲", "▲ Amber"),
        (Rag.RED, "■", "■ Red"),
    ],
)
def test_rag_is_shape_and_word_not_colour_alone(rag: Rag, shape: str, label: str) -> None:
    assert rag.shape == shape
    assert rag.label == label
    assert str(rag) == label.split(" ")[1]


@pytest.mark.parametrize(
    ("current", "earlier", "polarity", "direction", "label"),
    [
        ("62", "55", HIGHER, Direction.IMPROVING, "↑ improving"),
        ("50", "55", HIGHER, Direction.WORSENING, "↓ worsening"),
        ("55", "55", HIGHER, Direction.NO_CHANGE, "→ no change"),
        # Lower is better: a fall in crime improves, and the arrow follows the number down.
        ("400", "450", LOWER, Direction.IMPROVING, "↓ improving"),
        ("500", "450", LOWER, Direction.WORSENING, "↑ worsening"),
        ("450", "450.0", LOWER, Direction.NO_CHANGE, "→ no change"),
        ("12", "10", NEUTRAL, Direction.UP, "↑ up"),
        ("8", "10", NEUTRAL, Direction.DOWN, "↓ down"),
        ("10", "10", NEUTRAL, Direction.NO_CHANGE, "→ no change"),
        ("-1", "0", HIGHER, Direction.WORSENING, "↓ worsening"),
    ],
)
def test_direction_of_travel(
    current: str, earlier: str, polarity: Polarity, direction: Direction, label: str
) -> None:
    assert direction_of_travel(D(current), D(earlier), polarity) is direction
    assert direction_label(D(current), D(earlier), polarity) == label


@pytest.mark.parametrize(("current", "earlier"), [(None, D(5)), (D(5), None), (None, None)])
@pytest.mark.parametrize("polarity", [HIGHER, LOWER, NEUTRAL])
def test_no_direction_without_both_values(
    current: Decimal | None, earlier: Decimal | None, polarity: Polarity
) -> None:
    assert direction_of_travel(current, earlier, polarity) is None
    assert direction_label(current, earlier, polarity) is None


@pytest.mark.parametrize(
    ("direction", "arrow", "label"),
    [
        (Direction.IMPROVING, "↑", "↑ improving"),
        (Direction.WORSENING, "↓", "↓ worsening"),
        (Direction.NO_CHANGE, "→", "→ no change"),
        (Direction.UP, "↑", "↑ up"),
        (Direction.DOWN, "↓", "↓ down"),
    ],
)
def test_direction_arrows_and_labels(direction: Direction, arrow: str, label: str) -> None:
    assert direction.arrow == arrow
    assert direction.label == label
