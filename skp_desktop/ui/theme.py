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


def light_palette(base: QPalette) -> QPalette:
    """Fusion's light palette (`base`, changed) with text at 4.5:1 or more: its selection
    blue (3.7:1 under white text) and half-transparent placeholder grey (3.8:1) made darker."""
    palette = base  # changed in place: QPalette(base) makes PySide6 build Qt's enum namespace
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        palette.setColor(group, QPalette.ColorRole.Highlight, QColor("#1f5f97"))
        palette.setColor(group, QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
        palette.setColor(group, QPalette.ColorRole.PlaceholderText, QColor("#5c5f63"))
        palette.setColor(group, QPalette.ColorRole.Link, QColor("#0b57b0"))
    return palette


# The palette's text pairs (4.5:1) and non-text cues (3:1) that the contrast test measures,
# in both themes: foreground role, background role, least ratio.
TEXT_PAIRS = (
    (QPalette.ColorRole.WindowText, QPalette.ColorRole.Window),
    (QPalette.ColorRole.Text, QPalette.ColorRole.Base),
    (QPalette.ColorRole.Text, QPalette.ColorRole.AlternateBase),
    (QPalette.ColorRole.ButtonText, QPalette.ColorRole.Button),
    (QPalette.ColorRole.HighlightedText, QPalette.ColorRole.Highlight),
    (QPalette.ColorRole.PlaceholderText, QPalette.ColorRole.Base),
    (QPalette.ColorRole.PlaceholderText, QPalette.ColorRole.Window),
    (QPalette.ColorRole.ToolTipText, QPalette.ColorRole.ToolTipBase),
    (QPalette.ColorRole.Link, QPalette.ColorRole.Base),
)
CUE_PAIRS = (
    (QPalette.ColorRole.Highlight, QPalette.ColorRole.Base),  # a selected row is seen as one
)


def relative_luminance(colour: QColor) -> float:
    """WCAG 2.2's relative luminance of an sRGB colour."""

    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * channel(colour.redF())
        + 0.7152 * channel(colour.greenF())
        + 0.0722 * channel(colour.blueF())
    )


def contrast_ratio(first: QColor, second: QColor) -> float:
    """WCAG 2.2's contrast ratio of two opaque colours (1 to 21)."""
    a, b = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (a + 0.05) / (b + 0.05)


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
        app.setPalette(
            dark_palette() if theme == "dark" else light_palette(app.style().standardPalette())
        )
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
    app.setPalette(dark_palette() if dark else light_palette(app.style().standardPalette()))
