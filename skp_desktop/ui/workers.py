"""Running use cases off the UI thread and handing their results back to it."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)


class _Signals(QObject):
    done = Signal(object)
    failed = Signal(object)
    skipped = Signal()


class _Task(QRunnable):
    def __init__(
        self, work: Callable[[], Any], signals: _Signals, cancelled: Callable[[], bool]
    ) -> None:
        super().__init__()
        self._work = work
        self._cancelled = cancelled
        self.signals = signals
        self.setAutoDelete(True)

    @Slot()
    def run(self) -> None:
        if self._cancelled():
            self.signals.skipped.emit()
            return
        try:
            result = self._work()
        except Exception as exc:  # handed to the UI thread, which decides how to show it
            log.debug("background task failed:\n%s", traceback.format_exc())
            self.signals.failed.emit(exc)
        else:
            self.signals.done.emit(result)


class Worker(QObject):
    """Runs callables in the thread pool; results arrive as signals on the UI thread."""

    def __init__(self, parent: QObject | None = None, *, serial: bool = False) -> None:
        super().__init__(parent)
        self._pending: list[_Signals] = []
        self._generation = 0  # tasks queued before cancel_pending() belong to an older one
        # serial: a pool of one thread runs tasks in the order given (saves must not overtake).
        self._pool = QThreadPool(self) if serial else QThreadPool.globalInstance()
        if serial:
            self._pool.setMaxThreadCount(1)

    def run(
        self,
        work: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[Exception], None],
    ) -> None:
        """Call `work()` in the background, then `on_done(result)` or `on_error(exc)` here."""
        signals = _Signals(self)  # parented: lives on the UI thread, so slots run there
        self._pending.append(signals)

        def finish(callback: Callable[[Any], None], value: Any) -> None:
            self._pending.remove(signals)
            signals.deleteLater()
            callback(value)

        signals.done.connect(lambda result: finish(on_done, result))
        signals.failed.connect(lambda exc: finish(on_error, exc))
        signals.skipped.connect(lambda: finish(lambda _none: None, None))
        generation = self._generation
        self._pool.start(_Task(work, signals, lambda: self._generation != generation))

    def cancel_pending(self) -> None:
        """Tasks not yet started are skipped (no callback); a running one still finishes.

        For work whose result nobody will look at, such as charts for a closing window.
        """
        self._generation += 1

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def wait(self, msecs: int = -1) -> bool:
        """Block until every task has run (for quitting: acknowledged saves finish first)."""
        return self._pool.waitForDone(msecs)
