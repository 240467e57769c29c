"""The one widget that shows a matplotlib Figure in the app (FigureCanvasQTAgg)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QScrollArea, QSizePolicy, QVBoxLayout, QWidget

# matplotlib's default: a figure of w inches is w * 100 pixels on screen (before scaling).
FIGURE_DPI = 100


class ChartView(QWidget):
    """Holds one figure at a time; matplotlib's Qt backend loads with the first figure shown."""

    # The width changed enough that a figure drawn for the old one would crop or wrap badly.
    resized = Signal()

    def __init__(
        self, placeholder: str = "", parent: QWidget | None = None, *, scrollable: bool = False
    ) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        # scrollable: the figure keeps its own size (a tall dashboard scrolls, not squashes).
        self._scroll: QScrollArea | None = None
        if scrollable:
            self._scroll = QScrollArea()
            self._scroll.setWidgetResizable(True)
            self._scroll.setAccessibleName("Chart area")
            inner = QWidget()
            self._layout = QVBoxLayout(inner)
            self._scroll.setWidget(inner)
            outer.addWidget(self._scroll)
        else:
            self._layout = outer
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._canvas: Any = None
        self._placeholder = QLabel(placeholder)
        self._placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._placeholder.setWordWrap(True)
        self._layout.addWidget(self._placeholder)
        self._on_click: Callable[[str], None] | None = None

    def fitting_size(
        self, default: tuple[float, float], *, minimum: tuple[float, float] = (2.2, 1.8)
    ) -> tuple[float, float]:
        """The size in inches a figure needs to fill this view (default before it is laid out).

        Titles are wrapped for the width a figure is made with: a figure made wider than the
        view it lands in loses the end of its title.
        """
        width, height = self.width(), self.height()
        if width < 50 or height < 50:
            return default
        return (max(minimum[0], width / FIGURE_DPI), max(minimum[1], height / FIGURE_DPI))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if abs(event.size().width() - event.oldSize().width()) >= 24:
            self.resized.emit()

    @property
    def figure(self) -> Any:
        return self._canvas.figure if self._canvas is not None else None

    @property
    def canvas(self) -> Any:
        return self._canvas

    def show_message(self, text: str) -> None:
        self._drop_canvas()
        self._placeholder.setText(text)
        self._placeholder.show()

    def show_figure(self, figure: Any, description: str = "") -> None:
        """Show a Figure built elsewhere (often in a worker); call on the UI thread."""
        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg

        self._drop_canvas()
        self._placeholder.hide()
        canvas = FigureCanvasQTAgg(figure)
        canvas.setParent(self)  # never a window of its own, even for a moment
        canvas.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # a picture: the grid keeps the keyboard
        if self._scroll is not None:
            width, height = figure.get_size_inches() * figure.dpi
            canvas.setFixedSize(int(width), int(height))
        else:
            canvas.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        canvas.setAccessibleName("Chart")
        canvas.setAccessibleDescription(description)
        canvas.setToolTip(description)
        canvas.mpl_connect("button_press_event", self._clicked)
        self._layout.addWidget(canvas)
        self._canvas = canvas
        canvas.draw_idle()

    def on_axes_click(self, handler: Callable[[str], None]) -> None:
        """Call `handler(gid)` with the gid of the axes someone clicks."""
        self._on_click = handler

    def _clicked(self, event: Any) -> None:
        if self._on_click is not None and event.inaxes is not None:
            gid = event.inaxes.get_gid()
            if gid:
                self._on_click(gid)

    def _drop_canvas(self) -> None:
        if self._canvas is not None:
            self._layout.removeWidget(self._canvas)
            self._canvas.hide()
            self._canvas.deleteLater()
            self._canvas = None
