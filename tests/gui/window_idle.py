"""Waiting for a window's background work to end before a test closes it.

pytest-qt closes and deletes the widgets given to `qtbot.addWidget` before the fixtures' own
teardown runs: a result still on its way then never comes back (its Worker is gone with the
window), and a fixture that waits for "not busy" after that waits for ever (or, checking that
the window still exists, not at all). So a window's fixture either passes
`before_close_func=lambda w: wait_until_idle(qtbot, w)` to addWidget, or keeps the window to
itself and ends with `close_window`, which also disposes of its database.
"""

from __future__ import annotations

from shiboken6 import Shiboken

from skp_desktop.ui.main_window import MainWindow

# Not a figure the user would notice (those have their own waits): the test's last work
# finishing on a machine that another test keeps busy.
CLOSING_TIMEOUT_MS = 30_000


def wait_until_idle(qtbot, win: MainWindow, *, charts: bool = True) -> None:  # type: ignore[no-untyped-def]
    """Until the window's saves, reads, desk work (and charts) have all reported back; on a
    timeout the failure says what each worker still waits for. Nothing to wait for once the
    window is deleted: no result can reach it any more."""
    if not Shiboken.isValid(win):
        return
    workers = [win._worker] + ([win._charts] if charts else [])

    def idle() -> bool:
        return not win.controller.busy and not any(w.busy for w in workers)

    try:
        qtbot.waitUntil(idle, timeout=CLOSING_TIMEOUT_MS)
    except qtbot.TimeoutError as exc:
        controller = win.controller
        raise AssertionError(
            f"the window was still busy after {CLOSING_TIMEOUT_MS // 1000} s: "
            f"saves: {controller._writer.describe_pending()}; "
            f"reads: {controller._reader.describe_pending()}; "
            f"database still opening: {controller.pending is not None}; "
            f"desk work: {'; '.join(w.describe_pending() for w in workers)}"
        ) from exc


def close_window(qtbot, win: MainWindow) -> None:  # type: ignore[no-untyped-def]
    """Close a window not given to addWidget as a user would (the charts still queued are
    dropped), wait until its background work has reported back, then dispose of its database.
    Nothing to do if the test already closed and deleted it."""
    if not Shiboken.isValid(win):
        return
    win.close()
    wait_until_idle(qtbot, win)
    win.dispose()
