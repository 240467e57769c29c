"""RAG shown as a word, a shape and a colour, with light and dark variants."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from skp_desktop.domain.rag import Rag

# Okabe-Ito-derived hues: told apart with the common colour-vision deficiencies.
_LIGHT = {Rag.GREEN: "#007a4d", Rag.AMBER: "#a35200", Rag.RED: "#c0362c"}
_DARK = {Rag.GREEN: "#4fd1a1", Rag.AMBER: "#f0a848", Rag.RED: "#ff7b72"}


def is_dark() -> bool:
    """Whether the application palette is dark (window text lighter than the window)."""
    palette = QApplication.palette()
    return (
        palette.color(QPalette.ColorRole.WindowText).lightness()
        > palette.color(QPalette.ColorRole.Window).lightness()
    )


def rag_colour(rag: Rag) -> QColor:
    """The text colour for a RAG rating on the current palette."""
    return QColor((_DARK if is_dark() else _LIGHT)[rag])
