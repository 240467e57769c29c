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


class _Task(QRunnable):
    def __init__(self, work: Callable[[], Any], signals: _Signals) -> None:
        super().__init__()
        self._work = work
        self.signals = signals
        self.setAutoDelete(True)

    @Slot()
    def run(self) -> None:
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
        self._pool.start(_Task(work, signals))

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def wait(self, msecs: int = -1) -> bool:
        """Block until every task has run (for quitting: acknowledged saves finish first)."""
        return self._pool.waitForDone(msecs)
