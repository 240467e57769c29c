"""The one widget that shows a matplotlib Figure in the app (FigureCanvasQTAgg), or a picture
of one drawn in a worker."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QHelpEvent,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPixmap,
    QResizeEvent,
)
from PySide6.QtWidgets import QLabel, QScrollArea, QSizePolicy, QToolTip, QVBoxLayout, QWidget

if TYPE_CHECKING:
    from matplotlib.backend_bases import MouseEvent
    from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
    from matplotlib.figure import Figure

    from skp_desktop.charts.raster import Raster

# matplotlib's default: a figure of w inches is w * 100 pixels on screen (before scaling).
FIGURE_DPI = 100


@dataclass(frozen=True)
class Picture:
    """A figure already drawn: its image (at the screen's pixel ratio) and, in the window's
    logical pixels, the rectangles people can click, by gid."""

    image: QImage
    targets: tuple[tuple[str, QRectF], ...]

    @classmethod
    def from_raster(cls, raster: Raster) -> Picture:
        """Made in a worker: a QImage (unlike a QPixmap) may be made off the UI thread."""
        width, height = raster.width, raster.height
        rgba = QImage.Format.Format_RGBA8888
        image = QImage(raster.rgba, width, height, width * 4, rgba).copy()  # its own pixels
        image.setDevicePixelRatio(raster.scale)
        scale = raster.scale
        return cls(
            image,
            tuple(
                (t.gid, QRectF(t.x / scale, t.y / scale, t.width / scale, t.height / scale))
                for t in raster.targets
            ),
        )

    def target_at(self, point: QPointF) -> str | None:
        return next((gid for gid, rect in self.targets if rect.contains(point)), None)


class _PictureWidget(QWidget):
    """Paints a Picture at its logical size; a click on a target calls `clicked(gid)`."""

    def __init__(
        self,
        picture: Picture,
        tips: Mapping[str, str],
        clicked: Callable[[str], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.picture = picture
        self._pixmap = QPixmap.fromImage(picture.image)  # keeps the image's pixel ratio
        self._tips = tips
        self._clicked = clicked
        self.setMouseTracking(True)  # the pointing hand over a tile, without a button held
        size = picture.image.deviceIndependentSize()
        self.setFixedSize(int(size.width()), int(size.height()))

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.drawPixmap(0, 0, self._pixmap)  # at its pixel ratio: one pixel per device pixel
        painter.end()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        over = self.picture.target_at(event.position()) is not None
        if over:
            self.setCursor(Qt.CursorShape.PointingHandCursor)
        else:
            self.unsetCursor()
        super().mouseMoveEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        gid = self.picture.target_at(event.position())
        if event.button() == Qt.MouseButton.LeftButton and gid is not None:
            self._clicked(gid)
            event.accept()
            return
        super().mousePressEvent(event)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            gid = self.picture.target_at(QPointF(event.pos()))
            tip = self._tips.get(gid, "") if gid is not None else ""
            if tip:
                QToolTip.showText(event.globalPos(), tip, self)
                return True
        return super().event(event)


class ChartView(QWidget):
    """Holds one figure at a time; matplotlib's Qt backend loads with the first figure shown."""

    # The size changed enough that a figure drawn for the old one would crop or wrap badly (in a
    # scrolling view only the width counts: the figure keeps its own height there), or the
    # theme went from light to dark or back: a picture is drawn in the window's theme.
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
        self._canvas: FigureCanvasQTAgg | None = None
        self._picture: _PictureWidget | None = None
        # what the picture was drawn from, never drawn here
        self._picture_figure: Figure | None = None
        self._placeholder = QLabel(placeholder)
        self._placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._placeholder.setWordWrap(True)
        self._layout.addWidget(self._placeholder)
        self._on_click: Callable[[str], None] | None = None
        from skp_desktop.ui.rag_style import is_dark

        self._drawn_dark = is_dark()

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

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            from skp_desktop.ui.rag_style import is_dark

            dark = is_dark()
            if dark != getattr(self, "_drawn_dark", dark):
                self.resized.emit()  # drawn again, in the new theme
            self._drawn_dark = dark

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        size, old = event.size(), event.oldSize()
        taller = self._scroll is None and abs(size.height() - old.height()) >= 24
        if abs(size.width() - old.width()) >= 24 or taller:
            self.resized.emit()

    @property
    def figure(self) -> Figure | None:
        """The figure shown: on the live canvas, or the one the picture was drawn from."""
        if self._canvas is not None:
            return self._canvas.figure
        return self._picture_figure if self._picture is not None else None

    @property
    def picture(self) -> _PictureWidget | None:
        """The widget showing a picture (show_picture), or None."""
        return self._picture

    @property
    def canvas(self) -> FigureCanvasQTAgg | None:
        return self._canvas

    def show_message(self, text: str) -> None:
        self._drop_shown()
        self._placeholder.setText(text)
        self._placeholder.show()

    def show_figure(self, figure: Figure, description: str = "") -> None:
        """Show a Figure built elsewhere (often in a worker); call on the UI thread."""
        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg

        self._drop_shown()
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

    def show_picture(
        self,
        picture: Picture,
        description: str = "",
        *,
        tips: Mapping[str, str] | None = None,
        figure: Figure | None = None,
    ) -> None:
        """Show a figure drawn in a worker (Picture.from_raster): no drawing on this thread.

        A click on one of its targets calls the on_axes_click handler with the target's gid;
        `tips` are tooltips by gid; `figure`, the one it was drawn from, is kept as `figure`.
        """
        if self._picture is not None and self._picture.picture is picture:
            return  # already on screen
        self._drop_shown()
        self._placeholder.hide()
        widget = _PictureWidget(picture, dict(tips or {}), self._picture_clicked, self)
        widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # a picture: pickers keep the keyboard
        widget.setAccessibleName("Chart")
        widget.setAccessibleDescription(description)
        widget.setToolTip(description)
        self._layout.addWidget(widget)
        self._picture = widget
        self._picture_figure = figure

    def _picture_clicked(self, gid: str) -> None:
        if self._on_click is not None:
            self._on_click(gid)

    def on_axes_click(self, handler: Callable[[str], None]) -> None:
        """Call `handler(gid)` with the gid of the axes someone clicks."""
        self._on_click = handler

    def _clicked(self, event: MouseEvent) -> None:
        if self._on_click is not None and event.inaxes is not None:
            gid = event.inaxes.get_gid()
            if gid:
                self._on_click(gid)

    def _drop_shown(self) -> None:
        """Take the canvas or picture off the view (the placeholder stays)."""
        for shown in (self._canvas, self._picture):
            if shown is not None:
                self._layout.removeWidget(shown)
                shown.hide()
                shown.deleteLater()
        self._canvas = self._picture = self._picture_figure = None
