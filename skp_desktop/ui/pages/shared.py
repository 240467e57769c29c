"""What more than one page uses: the quarter pickers and the words for a return's state.

Pages import this module, never each other (the "Pages are independent" contract in
pyproject.toml).
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel

from skp_desktop.charts.theme import STATE_LABELS
from skp_desktop.domain.periods import (
    Period,
    PeriodKind,
    latest_due_period,
    parse_period,
    period_range,
)
from skp_desktop.domain.vocabulary import NOT_DUE

FIRST_PERIOD = "FY2023-24-Q1"
NOT_DUE_LABEL = STATE_LABELS[NOT_DUE]
DEFAULT_QUARTERS = 4


def period_choices(today: date) -> tuple[list[Period], Period]:
    """Quarters offered in the picker (newest first) and the one due now."""
    due = latest_due_period(PeriodKind.QUARTER, today)
    quarters = period_range(parse_period(FIRST_PERIOD), due.next())
    return list(reversed(quarters)), due


def quarter_choices(today: date) -> tuple[list[Period], Period, Period]:
    """Quarters to pick from (newest first) and the default range: the last four, up to the
    one due now."""
    quarters, due = period_choices(today)
    first = due
    for _ in range(DEFAULT_QUARTERS - 1):
        first = first.previous()
    return quarters, first, due


def fill_quarter_picker(picker: QComboBox, quarters: list[Period], chosen: Period) -> None:
    """Offer the quarters in a picker (codes as data), with `chosen` selected."""
    picker.blockSignals(True)
    picker.clear()
    for period in quarters:
        picker.addItem(period.short_label, period.code)
        picker.setItemData(picker.count() - 1, period.label, Qt.ItemDataRole.ToolTipRole)
    if picker.findData(chosen.code) < 0:
        picker.addItem(chosen.short_label, chosen.code)
    picker.setCurrentIndex(picker.findData(chosen.code))
    picker.blockSignals(False)


def quarter_range(
    today: date, layout: QHBoxLayout, *, purpose: str = ""
) -> tuple[QComboBox, QComboBox]:
    """ "From [quarter] to [quarter]" pickers added to `layout`, set to the last four quarters.

    `purpose` ends the pickers' accessible names: "First quarter to merge".
    """
    quarters, first, last = quarter_choices(today)
    pickers = []
    for name, chosen, label_text in (("First", first, "Fr&om:"), ("Last", last, "&to:")):
        picker = QComboBox()
        picker.setAccessibleName(f"{name} quarter{purpose}")
        fill_quarter_picker(picker, quarters, chosen)
        label = QLabel(label_text)
        label.setBuddy(picker)
        layout.addWidget(label)
        layout.addWidget(picker)
        pickers.append(picker)
    return pickers[0], pickers[1]


def state_label(state: str) -> str:
    """The state with its symbol, e.g. "✓ accepted"."""
    return NOT_DUE_LABEL if state == NOT_DUE else STATE_LABELS[state]
