"""Python's cyclic garbage collector runs on the UI thread only.

A collection starts in whichever thread happens to allocate. If a worker thread's collection
frees a cycle that holds a Qt object, Qt deletes that object off its own thread and the process
crashes (CI saw a segfault "Garbage-collecting" inside a background query). Anki and pyqtgraph
do what this does: turn automatic collection off and collect from a timer on the UI thread,
with the same generation thresholds Python would have used.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

CHECK_INTERVAL_MS = 500


class MainThreadGarbageCollector(QObject):
    """While it lives, cyclic garbage is collected by its timer on the thread that made it."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thresholds = gc.get_threshold()
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.check)
        self._timer.start(CHECK_INTERVAL_MS)

    def check(self) -> None:
        """Collect the generations whose counts passed their thresholds, as Python would."""
        count0, count1, count2 = gc.get_count()
        if count0 > self._thresholds[0]:
            gc.collect(0)
            if count1 > self._thresholds[1]:
                gc.collect(1)
                if count2 > self._thresholds[2]:
                    gc.collect(2)

    def stop(self) -> None:
        """Hand collection back to Python (after the last worker has finished)."""
        self._timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()
