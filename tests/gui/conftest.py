"""GUI test rules: offscreen Qt, answered dialogs, no leaked windows or running threads."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QEvent, QSettings, QThreadPool
from PySide6.QtWidgets import QApplication

from skp_desktop.ui.dialogs import dialogs
from skp_desktop.ui.gc_guard import MainThreadGarbageCollector

pytestmark = pytest.mark.gui


@pytest.fixture(scope="session", autouse=True)
def _collect_on_ui_thread(qapp: QApplication) -> Iterator[None]:
    """As in the app: no garbage collection in worker threads (it crashes Qt)."""
    collector = MainThreadGarbageCollector(qapp)
    yield
    # bounded: a stuck task fails its own test (_no_leaks), it must not hang the run's end
    QThreadPool.globalInstance().waitForDone(30_000)
    collector.stop()


@pytest.fixture(autouse=True)
def _settings_in_tmp(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """QSettings writes into the test's folder, never the user's."""
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings")
    )


@pytest.fixture(autouse=True)
def shown_dialogs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Message boxes are recorded, never shown: a test that meets one can assert on it."""
    seen: list[tuple[str, str]] = []
    monkeypatch.setattr(
        dialogs, "error", lambda _p, title, text, detail="": seen.append(("error", text))
    )
    monkeypatch.setattr(
        dialogs, "information", lambda _p, title, text: seen.append(("information", text))
    )
    return seen


@pytest.fixture(autouse=True)
def _no_leaks(qapp: QApplication) -> Iterator[None]:
    """Fail a test that leaves a thread running or a window open (as napari does)."""
    before = {id(w) for w in qapp.topLevelWidgets()}
    yield
    assert QThreadPool.globalInstance().waitForDone(5000), "a background task is still running"
    qapp.processEvents()
    # Windows closed by qtbot are deleted later: now, not during the next test's event loop.
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()  # here, on the UI thread, not in the next test's worker
    leaked = [w for w in qapp.topLevelWidgets() if id(w) not in before and w.isVisible()]
    for widget in leaked:
        widget.close()
    assert not leaked, f"windows left open: {[type(w).__name__ for w in leaked]}"
