"""How pages run database work off the UI thread (see Desk)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from skp_desktop.ui.workers import Worker


@dataclass(frozen=True)
class PageContext:
    """What a coordinator's page needs from the window: its workers, database and actor."""

    worker: Worker
    charts: Worker
    database: Callable[[], Any]
    actor: Callable[[], str]
    failed: Callable[[Exception], None]
    chart_theme: Callable[[], str]
    today: date | None = None

    def day(self) -> date:
        return self.today or date.today()
