"""Settings declared once, over QSettings: window state and the last return chosen."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings

ORGANISATION = "RBK"
APPLICATION = "SKP Returns"


class Settings:
    """Typed access to the user's settings."""

    def __init__(self, store: QSettings | None = None) -> None:
        # An INI file on every platform (not the Windows registry): easy to back up and reset,
        # and tests can point it at a folder of their own with QSettings.setPath.
        self._store = store or QSettings(
            QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANISATION, APPLICATION
        )

    def _text(self, key: str) -> str | None:
        value = self._store.value(key)
        return str(value) if value else None

    @property
    def last_service(self) -> str | None:
        return self._text("return/service")

    @last_service.setter
    def last_service(self, code: str) -> None:
        self._store.setValue("return/service", code)

    @property
    def last_period(self) -> str | None:
        return self._text("return/period")

    @last_period.setter
    def last_period(self, code: str) -> None:
        self._store.setValue("return/period", code)

    @property
    def theme(self) -> str:
        return self._text("view/theme") or "system"

    @theme.setter
    def theme(self, name: str) -> None:
        self._store.setValue("view/theme", name)

    def recent_databases(self) -> list[str]:
        value = self._store.value("file/recent")
        if isinstance(value, str):
            return [value]
        return [str(v) for v in value] if isinstance(value, list) else []

    def add_recent_database(self, path: str, keep: int = 8) -> None:
        paths = [path] + [p for p in self.recent_databases() if p != path]
        self._store.setValue("file/recent", paths[:keep])

    def window_geometry(self) -> QByteArray | None:
        value = self._store.value("window/geometry")
        return value if isinstance(value, QByteArray) else None

    def window_state(self) -> QByteArray | None:
        value = self._store.value("window/state")
        return value if isinstance(value, QByteArray) else None

    def splitter_state(self) -> QByteArray | None:
        value = self._store.value("window/splitter")
        return value if isinstance(value, QByteArray) else None

    def save_window(
        self,
        geometry: QByteArray,
        state: QByteArray | None,
        splitter: QByteArray | None = None,
    ) -> None:
        """The window's size and place; `state` (its docks) and `splitter` when known."""
        self._store.setValue("window/geometry", geometry)
        if state is not None:
            self._store.setValue("window/state", state)
        if splitter is not None:
            self._store.setValue("window/splitter", splitter)
        self._store.sync()
