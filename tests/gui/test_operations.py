"""The desk (ui/operations.py): operations get the open database, report back only while it is
still open, send failures to one display, and announce what a change changed."""

from __future__ import annotations

from typing import Any

import pytest

from skp_desktop.ui.operations import Change, Changed, Desk

pytestmark = pytest.mark.gui


class Window:
    """What a desk needs of the window: the open database (swappable) and an error display."""

    def __init__(self) -> None:
        self.db: Any = object()
        self.errors: list[Exception] = []

    def desk(self) -> Desk:
        return Desk(
            database=lambda: self.db,
            actor=lambda: "coordinator",
            show_error=self.errors.append,
            chart_theme=lambda: "light",
        )


def test_a_change_gets_the_database_and_actor_then_announces_what_it_changed(qtbot) -> None:
    window = Window()
    desk = window.desk()
    heard: list[Changed] = []
    desk.changed.connect(heard.append)
    results: list[object] = []
    page = object()

    assert desk.change(
        lambda db, actor: (db, actor), results.append, changes=Change.RETURNS, source=page
    )
    qtbot.waitUntil(lambda: bool(heard), timeout=5000)
    assert results == [(window.db, "coordinator")]
    assert heard[0].touches(Change.RETURNS) and not heard[0].touches(Change.DEFINITIONS)
    assert heard[0].source is page


def test_a_result_from_a_database_since_replaced_is_dropped(qtbot) -> None:
    window = Window()
    desk = window.desk()
    results: list[object] = []
    desk.query(lambda db: db, results.append)
    window.db = object()  # another database opened before the result came back
    assert desk.worker.wait(5000)
    qtbot.wait(50)  # the result's signal is delivered, and dropped
    assert results == [] and not desk.worker.busy


def test_failures_go_to_the_one_display_unless_the_caller_handles_them(qtbot) -> None:
    window = Window()
    desk = window.desk()
    handled: list[Exception] = []

    def boom(_db: Any) -> None:
        raise ValueError("no")

    desk.query(boom)
    qtbot.waitUntil(lambda: bool(window.errors), timeout=5000)
    desk.query(boom, failure=handled.append)
    qtbot.waitUntil(lambda: bool(handled), timeout=5000)
    assert len(window.errors) == 1 and str(handled[0]) == "no"


def test_nothing_runs_while_no_database_is_open(qtbot) -> None:
    window = Window()
    window.db = None
    assert not window.desk().query(lambda db: db)
