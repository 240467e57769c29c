"""Background work: results come back on the UI thread; work nobody wants any more is dropped."""

from __future__ import annotations

import sys
import threading

from skp_desktop.ui.workers import Worker


def test_results_arrive_on_the_ui_thread(qtbot) -> None:
    worker = Worker(serial=True)
    seen: list[tuple[object, bool]] = []
    worker.run(
        lambda: 6 * 7,
        lambda result: seen.append((result, threading.current_thread() is threading.main_thread())),
        lambda exc: seen.append((exc, False)),
    )
    qtbot.waitUntil(lambda: not worker.busy, timeout=15000)
    assert seen == [(42, True)]


def test_a_failure_reaches_the_error_callback(qtbot) -> None:
    worker = Worker(serial=True)
    errors: list[Exception] = []

    def fail() -> None:
        raise ValueError("no such period")

    worker.run(fail, lambda _r: None, errors.append)
    qtbot.waitUntil(lambda: not worker.busy, timeout=15000)
    assert [str(e) for e in errors] == ["no such period"]


def test_cancel_pending_skips_queued_work_but_lets_the_running_task_finish(qtbot) -> None:
    worker = Worker(serial=True)
    release = threading.Event()
    started = threading.Event()
    ran: list[str] = []
    called_back: list[str] = []

    def first() -> str:
        started.set()
        release.wait(5)
        ran.append("first")
        return "first"

    def later(name: str) -> str:
        ran.append(name)
        return name

    worker.run(first, called_back.append, lambda exc: None)
    assert started.wait(5)
    worker.run(lambda: later("second"), called_back.append, lambda exc: None)
    worker.run(lambda: later("third"), called_back.append, lambda exc: None)
    worker.cancel_pending()
    worker.run(lambda: later("after"), called_back.append, lambda exc: None)
    release.set()
    qtbot.waitUntil(lambda: not worker.busy, timeout=15000)
    assert ran == ["first", "after"]
    assert called_back == ["first", "after"]
    assert worker.wait(5000)


def test_emitting_a_signal_keeps_reference_counts_intact(qtbot) -> None:
    """PySide6 6.12.0 took a reference from True on every emit() made from Python: after a
    few hundred signals the process aborted ("bool_dealloc"). The app emits thousands a day."""
    worker = Worker(serial=True)
    arrived: list[object] = []
    before = sys.getrefcount(True), sys.getrefcount(False), sys.getrefcount(None)
    for number in range(50):
        worker.run(lambda n=number: n, arrived.append, lambda exc: None)
    qtbot.waitUntil(lambda: not worker.busy, timeout=15000)
    assert len(arrived) == 50
    after = sys.getrefcount(True), sys.getrefcount(False), sys.getrefcount(None)
    assert all(a >= b - 5 for a, b in zip(after, before, strict=True)), (before, after)


def test_hundreds_of_results_in_a_row_do_not_crash(qtbot) -> None:
    """Each result once came on its own signal object, deleted as soon as its slot ran: while
    the pool thread was still inside emit() on it, one run in a few crashed in ~QObject."""
    worker = Worker(serial=True)
    arrived: list[int] = []
    for number in range(300):
        worker.run(lambda n=number: n, arrived.append, lambda exc: None)
        qtbot.wait(0)  # deliver results while later tasks are still emitting theirs
    qtbot.waitUntil(lambda: not worker.busy, timeout=15000)
    qtbot.wait(10)  # and any deletion a result would have asked for
    assert arrived == list(range(300))


def test_a_worker_says_what_it_still_waits_for(qtbot) -> None:
    """What a test that waited too long prints: each task by name, running or queued."""
    worker = Worker(serial=True)
    release, started = threading.Event(), threading.Event()

    def export_return() -> str:
        started.set()
        release.wait(5)
        return "saved"

    def draw_chart() -> str:
        return "drawn"

    worker.run(export_return, lambda _r: None, lambda _e: None)
    worker.run(draw_chart, lambda _r: None, lambda _e: None)
    assert started.wait(5)
    said = worker.describe_pending()
    assert "export_return: running for" in said and "draw_chart: queued for" in said, said
    release.set()
    qtbot.waitUntil(lambda: not worker.busy, timeout=15000)
    assert worker.describe_pending() == "nothing"
