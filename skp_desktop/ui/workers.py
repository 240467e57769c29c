"""Running use cases off the UI thread and handing their results back to it."""

from __future__ import annotations

import itertools
import logging
import time
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)
T = TypeVar("T")


class _Signals(QObject):
    """One per Worker, alive while the Worker or a task holds it; results carry the task's
    number.

    Not one per task, deleted as its result arrives: that raced the pool thread, which may
    still be inside emit() on the object, or drop the last reference to it, while the UI thread
    deletes it (a crash in ~QObject, in about one run of tests/gui/test_workers.py in three).
    """

    done = Signal(int, object)
    failed = Signal(int, object)
    skipped = Signal(int)


class _Cancellation:
    """What a queued task checks before it starts: tasks queued before cancel_pending() belong
    to an older generation. Tasks hold this, never the Worker: a task is deleted on its pool
    thread, and the last reference to a Worker must not be dropped there (Qt would destroy the
    Worker, its signals and its pool off the UI thread)."""

    def __init__(self) -> None:
        self.generation = 0


class _Progress:
    """Where one task is, written by its pool thread and read by the UI thread (plain
    attribute writes, whole under the GIL), for `Worker.describe_pending`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.queued = time.monotonic()
        self.started: float | None = None
        self.finished: float | None = None


class _Task(QRunnable):
    def __init__(
        self,
        number: int,
        work: Callable[[], object],
        signals: _Signals,
        cancellation: _Cancellation,
        progress: _Progress,
    ) -> None:
        super().__init__()
        self._number = number
        self._work = work
        self._cancellation = cancellation
        self._generation = cancellation.generation
        self._progress = progress
        self.signals = signals
        self.setAutoDelete(True)

    @Slot()
    def run(self) -> None:
        progress = self._progress
        if self._cancellation.generation != self._generation:
            progress.finished = time.monotonic()
            self.signals.skipped.emit(self._number)
            return
        progress.started = time.monotonic()
        try:
            result = self._work()
        except Exception as exc:  # handed to the UI thread, which decides how to show it
            log.debug("background task failed:\n%s", traceback.format_exc())
            progress.finished = time.monotonic()
            self.signals.failed.emit(self._number, exc)
        else:
            progress.finished = time.monotonic()
            self.signals.done.emit(self._number, result)


# A pending task: its callbacks (each takes its own task's result type, unknown in the table)
# and where it is.
_Pending = tuple[Callable[[Any], None], Callable[[Exception], None], _Progress]


class Worker(QObject):
    """Runs callables in the thread pool; results arrive as signals on the UI thread."""

    def __init__(self, parent: QObject | None = None, *, serial: bool = False) -> None:
        super().__init__(parent)
        self._pending: dict[int, _Pending] = {}
        self._numbers = itertools.count()
        self._cancellation = _Cancellation()
        # Not parented: the Worker and each task in flight hold it, so it outlives every emit()
        # even when the Worker is deleted with its window first (then the connections below
        # are gone and the result is dropped). The slots are the Worker's, on the UI thread.
        self._signals = _Signals()
        self._signals.done.connect(self._done)
        self._signals.failed.connect(self._failed)
        self._signals.skipped.connect(self._skipped)
        # serial: a pool of one thread runs tasks in the order given (saves must not overtake).
        self._pool = QThreadPool(self) if serial else QThreadPool.globalInstance()
        if serial:
            self._pool.setMaxThreadCount(1)

    def run(
        self,
        work: Callable[[], T],
        on_done: Callable[[T], None],
        on_error: Callable[[Exception], None],
    ) -> None:
        """Call `work()` in the background, then `on_done(result)` or `on_error(exc)` here."""
        number = next(self._numbers)
        progress = _Progress(getattr(work, "__qualname__", type(work).__name__))
        self._pending[number] = (on_done, on_error, progress)
        self._pool.start(_Task(number, work, self._signals, self._cancellation, progress))

    @Slot(int, object)
    def _done(self, number: int, result: object) -> None:
        on_done, _on_error, _progress = self._pending.pop(number)
        on_done(result)

    @Slot(int, object)
    def _failed(self, number: int, exc: Exception) -> None:
        _on_done, on_error, _progress = self._pending.pop(number)
        on_error(exc)

    @Slot(int)
    def _skipped(self, number: int) -> None:
        del self._pending[number]

    def describe_pending(self) -> str:
        """What is pending, for a test that waited too long: each task's name and whether it
        is queued, running, or finished with its result not yet back on this thread (as when
        the Worker was deleted with its window before the result came: it never will)."""
        now = time.monotonic()
        lines = []
        for _on_done, _on_error, progress in self._pending.values():
            if progress.finished is not None:
                where = f"finished {now - progress.finished:.1f} s ago, result not delivered"
            elif progress.started is not None:
                where = f"running for {now - progress.started:.1f} s"
            else:
                where = f"queued for {now - progress.queued:.1f} s"
            lines.append(f"{progress.name}: {where}")
        return "; ".join(lines) or "nothing"

    def cancel_pending(self) -> None:
        """Tasks not yet started are skipped (no callback); a running one still finishes.

        For work whose result nobody will look at, such as charts for a closing window.
        """
        self._cancellation.generation += 1

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def wait(self, msecs: int = -1) -> bool:
        """Block until every task has run (for quitting: acknowledged saves finish first)."""
        return self._pool.waitForDone(msecs)
