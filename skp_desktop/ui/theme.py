"""Light and dark: follow the system, or the user's choice, with Qt's Fusion style."""

from __future__ import annotations

from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

# Qt's enum namespace (Qt.ColorScheme) is imported where it is needed, not here: PySide6 takes
# 30-50 ms to create it, and the first paint of the window does without it (bench/startup.py).

THEMES = ("system", "light", "dark")


def dark_palette() -> QPalette:
    """A dark Fusion palette with readable contrast (text on window at least 7:1)."""
    palette = QPalette()
    window, base, text = QColor("#202124"), QColor("#181a1b"), QColor("#e8eaed")
    roles = {
        QPalette.ColorRole.Window: window,
        QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base,
        QPalette.ColorRole.AlternateBase: QColor("#2a2c2f"),
        QPalette.ColorRole.ToolTipBase: QColor("#303134"),
        QPalette.ColorRole.ToolTipText: text,
        QPalette.ColorRole.PlaceholderText: QColor("#9aa0a6"),
        QPalette.ColorRole.Text: text,
        QPalette.ColorRole.Button: QColor("#2d2f31"),
        QPalette.ColorRole.ButtonText: text,
        QPalette.ColorRole.BrightText: QColor("#ffffff"),
        QPalette.ColorRole.Highlight: QColor("#3b6ea8"),
        QPalette.ColorRole.HighlightedText: QColor("#ffffff"),
        QPalette.ColorRole.Link: QColor("#8ab4f8"),
        QPalette.ColorRole.Mid: QColor("#3c4043"),
    }
    for role, colour in roles.items():
        palette.setColor(role, colour)
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.ButtonText,
    ):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#80868b"))
    return palette


def apply_theme(app: QApplication, theme: str) -> None:
    """Use the system's colours, or force light or dark.

    For the system's colours, before the first paint, the platform's own palette says whether
    they are dark; `confirm_system_theme` asks the colour scheme itself once the window is up.
    """
    hints = QGuiApplication.styleHints()
    if theme in ("dark", "light"):
        from PySide6.QtCore import Qt

        scheme = Qt.ColorScheme.Dark if theme == "dark" else Qt.ColorScheme.Light
        hints.setColorScheme(scheme)
        app.setPalette(dark_palette() if theme == "dark" else app.style().standardPalette())
    else:
        hints.unsetColorScheme()
        _use_palette(app, dark=_looks_dark(QGuiApplication.palette()))


def confirm_system_theme(app: QApplication | None, theme: str) -> None:
    """After the first paint: follow the system's colour scheme as Qt reports it, where the
    platform's palette guessed otherwise (e.g. a style that keeps a light palette in dark mode)."""
    if app is None or theme in ("dark", "light"):
        return
    from PySide6.QtCore import Qt

    dark = QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark
    if dark != _looks_dark(app.palette()):
        _use_palette(app, dark=dark)


def _looks_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def _use_palette(app: QApplication, *, dark: bool) -> None:
    app.setPalette(dark_palette() if dark else app.style().standardPalette())
