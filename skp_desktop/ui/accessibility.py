"""Keyboard and focus for everyone: a focus ring on every widget kind, Tab out of every table.

One `install(window)` call, after the first paint: it draws the focus ring in every window of
the app (GOV.UK's style: yellow with a dark edge, 3:1 or more against light and dark alike),
makes Tab leave tables, lists, text boxes and date fields wherever they are (pages and dialogs
built later included), and gives the main window F6 / Shift+F6 between its regions.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence

from PySide6.QtCore import QEvent, QObject, QRect, QSize, Qt, QTimer
from PySide6.QtGui import (
    QAccessible,
    QAccessibleAnnouncementEvent,
    QBrush,
    QColor,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QShortcut,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QLineEdit,
    QListWidget,
    QMainWindow,
    QPlainTextEdit,
    QProxyStyle,
    QStyle,
    QStyleFactory,
    QStyleOption,
    QStyleOptionComplex,
    QTextEdit,
    QToolButton,
    QWidget,
)

# GOV.UK's focus colours: the yellow carries it on dark backgrounds, the dark edge on light.
FOCUS_YELLOW = QColor("#ffdd00")
FOCUS_EDGE = QColor("#0b0c0c")
RING_WIDTH = 3  # the yellow band; the dark edge inside it is 2 px more
EDGE_WIDTH = 2

# Tables that keep Tab for moving between their cells (Excel's habit) say so with this property;
# Ctrl+Tab and F6 leave them.
KEEPS_TAB = "keepsTabForCells"


def is_tab_stop(widget: QWidget) -> bool:
    """Whether Tab may land on a widget now."""
    return (
        widget.isVisible()
        and widget.isEnabled()
        and bool(widget.focusPolicy().value & Qt.FocusPolicy.TabFocus.value)
        and widget.focusProxy() is None
    )


def next_tab_stop(widget: QWidget, *, forward: bool = True) -> QWidget | None:
    """The widget Tab (or Shift+Tab) reaches from `widget` in its window, skipping its children."""
    window = widget.window()
    candidate: QWidget | None = widget
    for _ in range(2000):  # the focus chain is a ring; this bounds a broken one
        assert candidate is not None
        candidate = candidate.nextInFocusChain() if forward else candidate.previousInFocusChain()
        if candidate is None or candidate is widget:
            return None
        if widget.isAncestorOf(candidate) or candidate.window() is not window:
            continue
        if is_tab_stop(candidate):
            return candidate
    return None


def leave(widget: QWidget, *, forward: bool = True) -> bool:
    """Move the keyboard from `widget` to the next (or previous) control; False if none."""
    target = next_tab_stop(widget, forward=forward)
    if target is None:
        return False
    reason = Qt.FocusReason.TabFocusReason if forward else Qt.FocusReason.BacktabFocusReason
    target.setFocus(reason)
    return True


def release_tab(widget: QWidget) -> None:
    """Make Tab leave a widget that would otherwise keep it (tables, text boxes, date fields)."""
    if isinstance(widget, QAbstractItemView) and not widget.property(KEEPS_TAB):
        widget.setTabKeyNavigation(False)
    elif isinstance(widget, QPlainTextEdit | QTextEdit):
        widget.setTabChangesFocus(True)
    elif isinstance(widget, QDateTimeEdit) and not widget.property("_tabReleased"):
        # Qt's date field takes Tab for its day, month and year sections: with "Any" showing
        # there is no section to move to and Tab stays put. The arrows still move sections.
        widget.setProperty("_tabReleased", True)
        widget.installEventFilter(_TAB_OUT_OF_SECTIONS)


def announce(widget: QWidget, text: str, *, assertive: bool = False) -> None:
    """Have screen readers say `text` (politely: after what they are saying) from `widget`."""
    if not text or not QAccessible.isActive():
        return
    event = QAccessibleAnnouncementEvent(widget, text)
    event.setPoliteness(
        QAccessible.AnnouncementPoliteness.Assertive
        if assertive
        else QAccessible.AnnouncementPoliteness.Polite
    )
    QAccessible.updateAccessibility(event)


def name_parts(root: QWidget) -> None:
    """Name the parts Qt makes unnamed: a field's clear button, a drop-down's list."""
    for edit in root.findChildren(QLineEdit):
        if edit.isClearButtonEnabled():
            label = edit.accessibleName() or edit.placeholderText() or "the field"
            for button in edit.findChildren(QToolButton):
                if not button.accessibleName():
                    button.setAccessibleName(f"Clear {label}")
    for combo in root.findChildren(QComboBox):
        view = combo.view()
        if view is not None and not view.accessibleName():
            view.setAccessibleName(f"{combo.accessibleName() or 'Choices'} list")


class _TabOutOfSections(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and isinstance(watched, QAbstractSpinBox):
            if not isinstance(event, QKeyEvent):  # PySide6 hands key presses over as QKeyEvent
                return False
            key = event.key()
            if key in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab):
                forward = key == Qt.Key.Key_Tab and not (
                    event.modifiers() & Qt.KeyboardModifier.ShiftModifier
                )
                return leave(watched, forward=forward)
        return False


_TAB_OUT_OF_SECTIONS = _TabOutOfSections()


class FocusRing(QWidget):
    """A ring drawn over a window around the widget with the keyboard (and a table's current
    cell): the same look on every widget kind, whatever the style draws itself."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setObjectName("focusRing")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setAccessibleName("Focus ring")  # drawn decoration: never takes the keyboard
        self._target: QWidget | None = None
        self._rects: tuple[QRect, ...] = ()
        self.setGeometry(window.rect())
        window.installEventFilter(self)

    @property
    def rings(self) -> tuple[QRect, ...]:
        """Where the rings are drawn, in the window's coordinates (outer edge of the yellow)."""
        return self._rects

    def follow(self, widget: QWidget | None) -> None:
        """Ring `widget` (None: ring nothing)."""
        if self._target is not None:
            _unwatch(self._target, self)
        self._target = widget
        if widget is not None:
            _watch(widget, self)
        self.refresh()

    def refresh(self) -> None:
        """Put the rings where the ringed widget is now; repaint only if they moved."""
        window = self.parentWidget()
        if window is None:
            return
        if self.geometry() != window.rect():
            self.setGeometry(window.rect())
        rects = self._rings_for(self._target) if self._target is not None else ()
        if rects == self._rects:
            return
        old, self._rects = self._rects, rects
        grow = RING_WIDTH + EDGE_WIDTH
        for rect in (*old, *rects):
            self.update(rect.adjusted(-grow, -grow, grow, grow))
        self.raise_()
        self.setVisible(bool(rects))

    def _rings_for(self, widget: QWidget) -> tuple[QRect, ...]:
        window = self.parentWidget()
        if not widget.isVisible() or widget.window() is not window:
            return ()
        origin = widget.mapTo(window, widget.rect().topLeft())
        whole = QRect(origin, widget.size())
        pad = RING_WIDTH + EDGE_WIDTH
        outer = whole.adjusted(-pad, -pad, pad, pad).intersected(self.rect())
        rings = [outer]
        if isinstance(widget, QAbstractItemView):
            cell = _current_cell(widget)
            if cell is not None:
                viewport = widget.viewport()
                shown = cell.intersected(viewport.rect())
                if not shown.isEmpty():
                    origin = viewport.mapTo(window, shown.topLeft())
                    inner = QRect(origin, shown.size()).adjusted(-1, -1, 1, 1)
                    rings.append(inner)
        return tuple(rings)

    def paintEvent(self, event: QPaintEvent) -> None:
        if not self._rects:
            return
        painter = QPainter(self)
        for number, rect in enumerate(self._rects):
            # The whole widget: dark edge inside, yellow band outside. A cell: the same,
            # drawn inside its bounds so neighbouring cells stay readable.
            band = RING_WIDTH if number == 0 else 2
            edge = EDGE_WIDTH
            _frame(painter, rect, band, FOCUS_YELLOW)
            _frame(painter, rect.adjusted(band, band, -band, -band), edge, FOCUS_EDGE)
        painter.end()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in _MOVES:
            parent = self.parentWidget()
            if parent is not None and watched is parent and kind == QEvent.Type.Resize:
                self.setGeometry(parent.rect())
            QTimer.singleShot(0, self._refresh_if_alive)
        return False

    def _refresh_if_alive(self) -> None:
        with contextlib.suppress(RuntimeError):  # the window closed meanwhile
            self.refresh()


_MOVES = {
    QEvent.Type.Move,
    QEvent.Type.Resize,
    QEvent.Type.Show,
    QEvent.Type.Hide,
    QEvent.Type.Paint,  # a table's viewport repaints when its current cell moves or scrolls
}


def _frame(painter: QPainter, rect: QRect, width: int, colour: QColor) -> None:
    pen = QPen(colour)
    pen.setWidth(width)
    pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
    painter.setPen(pen)
    half = width // 2
    painter.drawRect(rect.adjusted(half, half, -(width - half), -(width - half)))


def _current_cell(view: QAbstractItemView) -> QRect | None:
    where = getattr(view, "current_cell_rect", None)  # a grid with frozen columns knows
    if where is not None:
        return where()
    index = view.currentIndex()
    if not index.isValid():
        return None
    rect = view.visualRect(index)
    return rect if rect.isValid() and not rect.isEmpty() else None


def _watch(widget: QWidget, ring: FocusRing) -> None:
    widget.installEventFilter(ring)
    if isinstance(widget, QAbstractItemView):
        widget.viewport().installEventFilter(ring)
    parent = widget.parentWidget()
    while parent is not None and not parent.isWindow():  # a scrolled or re-laid parent moves it
        parent.installEventFilter(ring)
        parent = parent.parentWidget()


def _unwatch(widget: QWidget, ring: FocusRing) -> None:
    try:
        widget.removeEventFilter(ring)
        if isinstance(widget, QAbstractItemView):
            widget.viewport().removeEventFilter(ring)
        parent = widget.parentWidget()
        while parent is not None and not parent.isWindow():
            parent.removeEventFilter(ring)
            parent = parent.parentWidget()
    except RuntimeError:  # already deleted
        pass


class FocusTracker(QObject):
    """Follows the keyboard across the application: rings it, and frees Tab where it lands."""

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self._rings: dict[int, FocusRing] = {}
        app.focusChanged.connect(self._moved)

    def ring_of(self, window: QWidget) -> FocusRing | None:
        return self._rings.get(id(window))

    def _moved(self, old: QWidget | None, new: QWidget | None) -> None:
        if old is not None:
            ring = self._rings.get(id(_safe_window(old)))
            if ring is not None and (new is None or _safe_window(new) is not ring.parentWidget()):
                ring.follow(None)
        if new is None:
            return
        release_tab(new)
        window = new.window()
        if not isinstance(window, QMainWindow | QDialog):
            return  # popups (a combo box's list) show their own current row
        ring = self._rings.get(id(window))
        name_parts(window)
        if ring is None:
            ring = FocusRing(window)
            self._rings[id(window)] = ring
            key = id(window)
            window.destroyed.connect(lambda _=None: self._rings.pop(key, None))
        ring.follow(new)


def _safe_window(widget: QWidget) -> QWidget | None:
    try:
        return widget.window()
    except RuntimeError:
        return None


_tracker: FocusTracker | None = None


def install_focus_ring(app: QApplication) -> FocusTracker:
    """Ring the keyboard's widget in every window of the app (once per application)."""
    global _tracker
    if _tracker is None or _tracker.parent() is not app:
        _tracker = FocusTracker(app)
    return _tracker


class RegionCycle(QObject):
    """F6 and Shift+F6 move between a window's regions (places list, page, side panel),
    coming back to the control that had the keyboard there last."""

    def __init__(self, window: QWidget, regions: Callable[[], Sequence[QWidget]]) -> None:
        super().__init__(window)
        self._window = window
        self._regions = regions
        self._last: dict[int, QWidget] = {}
        forward = QShortcut(QKeySequence("F6"), window)
        forward.activated.connect(lambda: self.cycle(forward=True))
        back = QShortcut(QKeySequence("Shift+F6"), window)
        back.activated.connect(lambda: self.cycle(forward=False))
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._remember)

    def _shown(self) -> list[QWidget]:
        return [r for r in self._regions() if r is not None and r.isVisible()]

    def _region_of(self, widget: QWidget | None) -> int:
        for number, region in enumerate(self._shown()):
            if widget is not None and (widget is region or region.isAncestorOf(widget)):
                return number
        return -1

    def _remember(self, _old: QWidget | None, new: QWidget | None) -> None:
        try:
            number = self._region_of(new)
        except RuntimeError:
            return
        if number >= 0 and new is not None:
            self._last[id(self._shown()[number])] = new

    def cycle(self, *, forward: bool = True) -> QWidget | None:
        """Give the keyboard to the next region; returns the widget that has it."""
        regions = self._shown()
        if not regions:
            return None
        here = self._region_of(QApplication.focusWidget())
        step = 1 if forward else -1
        start = (here + step) % len(regions) if here >= 0 else 0
        for offset in range(len(regions)):
            region = regions[(start + step * offset) % len(regions)]
            target = self._entry(region)
            if target is not None:
                target.setFocus(Qt.FocusReason.ShortcutFocusReason)
                return target
        return None

    def tab(self, forward: bool) -> bool:
        """Tab leaving a region goes to the next region in order (places list, page, side
        panel), whatever order the widgets were made in; True if it moved the keyboard."""
        here = QApplication.focusWidget()
        if here is None:
            return False
        number = self._region_of(here)
        target = next_tab_stop(here, forward=forward)
        if number < 0 or target is None or self._region_of(target) == number:
            return False
        regions = self._shown()
        step = 1 if forward else -1
        for offset in range(1, len(regions) + 1):
            stops = _stops_in(regions[(number + step * offset) % len(regions)])
            if stops:
                stop = stops[0] if forward else stops[-1]
                reason = (
                    Qt.FocusReason.TabFocusReason if forward else Qt.FocusReason.BacktabFocusReason
                )
                stop.setFocus(reason)
                return True
        return False

    def _entry(self, region: QWidget) -> QWidget | None:
        last = self._last.get(id(region))
        try:
            if last is not None and is_tab_stop(last) and region.isAncestorOf(last):
                return last
        except RuntimeError:
            pass
        if is_tab_stop(region):
            return region
        candidate: QWidget | None = region
        for _ in range(2000):
            assert candidate is not None
            candidate = candidate.nextInFocusChain()
            if candidate is region or candidate is None:
                return None
            if region.isAncestorOf(candidate) and is_tab_stop(candidate):
                return candidate
        return None


def _stops_in(region: QWidget) -> list[QWidget]:
    """A region's Tab stops in focus-chain order."""
    stops = [region] if is_tab_stop(region) else []
    candidate: QWidget | None = region
    for _ in range(5000):
        assert candidate is not None
        candidate = candidate.nextInFocusChain()
        if candidate is region or candidate is None:
            break
        if region.isAncestorOf(candidate) and is_tab_stop(candidate):
            stops.append(candidate)
    return stops


# A field's edge at 3:1 or more against the window and the field (WCAG 1.4.11): Fusion's own
# is its window colour darkened, 2.0:1 in light and 1.1:1 in dark.
FIELD_EDGE = {"light": QColor("#767676"), "dark": QColor("#8a8d91")}


class FieldEdges(QProxyStyle):
    """Fusion, with an edge you can see on text fields, spin and date boxes and drop-downs."""

    def drawPrimitive(
        self,
        element: QStyle.PrimitiveElement,
        option: QStyleOption,
        painter: QPainter,
        widget: QWidget | None = None,
    ) -> None:
        super().drawPrimitive(element, option, painter, widget)
        # a line edit's panel comes with its QStyleOptionFrame, which has the width
        framed = getattr(option, "lineWidth", 0) > 0
        if element == QStyle.PrimitiveElement.PE_PanelLineEdit and framed:
            _edge(painter, option.rect, option.palette)

    def drawComplexControl(
        self,
        control: QStyle.ComplexControl,
        option: QStyleOptionComplex,
        painter: QPainter,
        widget: QWidget | None = None,
    ) -> None:
        super().drawComplexControl(control, option, painter, widget)
        framed = getattr(option, "frame", False)
        if framed and control in (
            QStyle.ComplexControl.CC_SpinBox,
            QStyle.ComplexControl.CC_ComboBox,
        ):
            _edge(painter, option.rect, option.palette)


def _edge(painter: QPainter, rect: QRect, palette: QPalette) -> None:
    window = palette.color(QPalette.ColorRole.Window)
    text = palette.color(QPalette.ColorRole.WindowText)
    colour = FIELD_EDGE["dark" if text.lightness() > window.lightness() else "light"]
    painter.save()
    painter.setPen(QPen(colour, 1))
    painter.setBrush(QBrush())
    painter.drawRect(rect.adjusted(0, 0, -1, -1))
    painter.restore()


def use_field_edges(app: QApplication) -> None:
    """Draw fields with a visible edge (once; Fusion only: other styles draw their own)."""
    style = app.style()
    if isinstance(style, FieldEdges) or style.name().lower() != "fusion":
        return
    app.setStyle(FieldEdges(QStyleFactory.create("Fusion")))


TARGET_SIZE = 24  # WCAG 2.2's least target size, in pixels at 100%


def row_height(view: QWidget) -> int:
    """A table's row height: its text with room around it, and never under TARGET_SIZE."""
    return max(TARGET_SIZE, view.fontMetrics().height() + 8)


def roomy_rows(view: QListWidget) -> None:
    """A list's rows at least TARGET_SIZE high, so each is easy to hit (WCAG 2.5.8)."""
    for row in range(view.count()):
        item = view.item(row)
        hint = item.sizeHint()
        item.setSizeHint(QSize(max(hint.width(), 0), max(hint.height(), TARGET_SIZE)))


def install(window: QMainWindow, regions: Callable[[], Sequence[QWidget]]) -> RegionCycle:
    """Focus ring and Tab release app-wide, F6 between `regions` of the main window; the
    window's focusNextPrevChild asks the returned cycle's `tab` first."""
    app = QApplication.instance()
    if isinstance(app, QApplication):
        install_focus_ring(app)
        use_field_edges(app)
    for region in regions():
        if isinstance(region, QListWidget):  # the places list
            roomy_rows(region)
    cycle = RegionCycle(window, regions)
    window.setProperty("regionCycle", True)
    return cycle
