"""The Dashboard place: a small chart per indicator; choose one to see it large with its table."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from skp_desktop.charts.series import DashboardTile, TrendSeries
from skp_desktop.services.dto import ServiceInfo
from skp_desktop.ui.chart_view import ChartView, Picture
from skp_desktop.ui.chart_words import TREND_HEADERS, describe_trend, trend_cell
from skp_desktop.ui.comparators_editor import ComparatorsEditor
from skp_desktop.ui.dialogs import dialogs
from skp_desktop.ui.rows_model import HeadedTableModel

if TYPE_CHECKING:
    from skp_desktop.services.comparators import ComparatorEntry

_Index = QModelIndex | QPersistentModelIndex


class TrendTableModel(HeadedTableModel):
    """A trend's figures as a table beside its chart: period, value, RAG, note."""

    HEADERS = TREND_HEADERS

    def __init__(self, series: TrendSeries | None = None, parent: Any = None) -> None:
        super().__init__(parent)
        self._series = series

    def row_count(self) -> int:
        return 0 if self._series is None else len(self._series.points)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self._series is None:
            return None
        point = self._series.points[index.row()]
        column = self.HEADERS[index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole and column in ("Value", "Target"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return None
        return trend_cell(self._series, point, column)


class IndicatorChartDialog(QDialog):
    """One indicator large: its trend chart and the table of its figures; export the chart.

    Given `comparators`, a second tab lets the coordinator enter the indicator's comparator
    figures (London, England …); saving asks the window, which redraws through `show_series`.
    """

    comparators_save_requested = Signal(str, object)  # indicator code, (changes, source)

    def __init__(
        self,
        series: TrendSeries,
        figure: Any,
        parent: QWidget | None = None,
        *,
        comparators: Sequence[ComparatorEntry] | None = None,
        editable: bool = False,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{series.code} — {series.title}")
        self.resize(1100, 620)
        self.series = series
        self.chart = ChartView()
        self.chart.show_figure(figure, describe_trend(series))
        self.table = QTableView()
        self.table.setAccessibleName("Figures by period")
        self.table.setModel(TrendTableModel(series, self))
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.comparators: ComparatorsEditor | None = None
        splitter = QSplitter()
        splitter.addWidget(self.chart)
        if comparators is None:
            splitter.addWidget(self.table)
            splitter.setSizes([760, 340])
        else:
            self.comparators = ComparatorsEditor()
            self.comparators.save_requested.connect(
                lambda payload: self.comparators_save_requested.emit(self.series.code, payload)
            )
            self._editable = editable
            self._load_comparators(series, comparators)
            self.tabs = QTabWidget()
            self.tabs.setAccessibleName("Figures and comparators")
            self.tabs.addTab(self.table, "&Figures")
            self.tabs.addTab(self.comparators, "C&omparators")
            splitter.addWidget(self.tabs)
            splitter.setSizes([700, 400])
        export = QPushButton("&Export chart…")
        export.clicked.connect(self.export)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.addButton(export, QDialogButtonBox.ButtonRole.ActionRole)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(buttons)

    def _load_comparators(self, series: TrendSeries, entries: Sequence[ComparatorEntry]) -> None:
        assert self.comparators is not None
        self.comparators.load(
            [point.period for point in series.points],
            entries,
            unit=series.unit.value,
            editable=self._editable,
        )

    def reject(self) -> None:
        """Close, after asking when typed comparator figures have not been saved."""
        waiting = len(self.comparators.model.pending()) if self.comparators is not None else 0
        if waiting and not dialogs.confirm(
            self,
            "Comparators not saved",
            f"{waiting} comparator figure{'s' if waiting != 1 else ''} typed here "
            f"{'have' if waiting != 1 else 'has'} not been saved. Close without saving?",
        ):
            return
        super().reject()

    def show_series(
        self, series: TrendSeries, figure: Any, comparators: Sequence[ComparatorEntry]
    ) -> None:
        """The indicator again after its comparators changed: chart, figures and editor."""
        self.series = series
        self.chart.show_figure(figure, describe_trend(series))
        self.table.setModel(TrendTableModel(series, self))
        if self.comparators is not None:
            self._load_comparators(series, comparators)
            self.comparators.status.setText("Saved: the chart shows the comparators.")

    def export(self) -> None:
        path = dialogs.save_file(
            self, "Export chart", f"{self.series.code}.png", "PNG (*.png);;SVG (*.svg);;PDF (*.pdf)"
        )
        if not path:
            return
        from skp_desktop.charts.trend import trend_figure
        from skp_desktop.domain.errors import SkpError
        from skp_desktop.services.trends import save_chart

        # A file is for a report or a slide: light, as `skp-returns chart` writes it, whatever
        # the app's theme on screen.
        shown = self.chart.figure
        size = tuple(shown.get_size_inches()) if shown is not None else (8.0, 4.5)
        try:
            save_chart(trend_figure(self.series, theme="light", size=size), path)
        except SkpError as exc:  # a name it cannot be, a full or read-only disk: say so
            dialogs.error(self, "Export chart", str(exc))


def dashboard_layout(width: int, count: int) -> tuple[int, tuple[float, float]]:
    """Columns and figure size (inches at 100 dpi) that fill `width` pixels with `count` tiles."""
    columns = max(1, min(6, width // 300, count))
    rows = -(-count // columns)
    return columns, (width / 100, rows * 2.6 + 0.6)


class DashboardKey(NamedTuple):
    """What a dashboard picture was drawn for: scope, width (logical pixels), theme, pixel ratio."""

    scope: str
    width: int
    theme: str
    ratio: float


@dataclass(frozen=True)
class DrawnDashboard:
    """A dashboard drawn in a worker: its tiles, picture and figure, and the data it shows."""

    key: DashboardKey
    stamp: str  # services.history.change_stamp when the tiles were read
    tiles: list[DashboardTile]
    picture: Picture
    figure: Any


# Pictures kept for revisits: a few scopes at a few widths (a picture is 8-32 MB).
KEPT_PICTURES = 4


class DashboardPage(QWidget):
    """Small multiples of every indicator of a service (or all), drawn in the background."""

    scope_changed = Signal(str)  # "theme:CODE", "service:CODE", or "" for every indicator
    tile_chosen = Signal(str)  # indicator code
    board_pack_requested = Signal(str)  # the scope shown, as scope_changed gives it

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scope_picker = QComboBox()
        self.scope_picker.setAccessibleName("Dashboard scope")
        label = QLabel("&Show:")
        label.setBuddy(self.scope_picker)
        self.open_button = QPushButton("&Open indicator…")
        self.open_button.setAccessibleDescription("Open an indicator's chart")
        self.indicator_picker = QComboBox()
        self.indicator_picker.setAccessibleName("Indicator to open")
        self.open_button.clicked.connect(
            lambda: self.tile_chosen.emit(self.indicator_picker.currentData() or "")
        )
        header = QHBoxLayout()
        header.addWidget(label)
        header.addWidget(self.scope_picker, 1)
        header.addStretch(1)
        header.addWidget(self.indicator_picker, 1)
        header.addWidget(self.open_button)
        self.board_pack_button = QPushButton("&Board pack…")
        self.board_pack_button.setAccessibleDescription("Save the board pack as a PDF")
        self.board_pack_button.setToolTip(
            "One PDF for the board: a cover, this dashboard and a page per indicator with its "
            "chart, figures and commentary, for the period chosen on the Return page."
        )
        self.board_pack_button.clicked.connect(
            lambda: self.board_pack_requested.emit(self.scope_picker.currentData() or "")
        )
        header.addWidget(self.board_pack_button)
        self.chart = ChartView("Drawing the charts…", scrollable=True)
        self.chart.on_axes_click(self._tile_clicked)
        self._drawn: OrderedDict[DashboardKey, DrawnDashboard] = OrderedDict()
        self.shown: DrawnDashboard | None = None
        hint = QLabel("Click a chart to see it large with its figures.")
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(hint)
        layout.addWidget(self.chart, 1)
        self.scope_picker.currentIndexChanged.connect(
            lambda: self.scope_changed.emit(self.scope_picker.currentData() or "")
        )
        self.tiles: list[DashboardTile] = []

    def set_scopes(self, services: list[ServiceInfo], themes: list[tuple[str, str, str]]) -> None:
        """What can be shown: every indicator, a priority's, or a service's."""
        self.scope_picker.blockSignals(True)
        self.scope_picker.clear()
        self.scope_picker.addItem("Every indicator", "")
        for code, kind, name in themes:
            self.scope_picker.addItem(f"{kind.capitalize()}: {name}", f"theme:{code}")
        for service in services:
            self.scope_picker.addItem(f"Service: {service.name}", f"service:{service.code}")
        self.scope_picker.blockSignals(False)

    def drawn(self, key: DashboardKey) -> DrawnDashboard | None:
        """The picture last drawn for `key`, if it is still kept."""
        drawn = self._drawn.get(key)
        if drawn is not None:
            self._drawn.move_to_end(key)
        return drawn

    def remember(self, drawn: DrawnDashboard) -> None:
        self._drawn[drawn.key] = drawn
        self._drawn.move_to_end(drawn.key)
        while len(self._drawn) > KEPT_PICTURES:
            self._drawn.popitem(last=False)

    def forget_drawn(self) -> None:
        """Drop the kept pictures (another database is open): the next visit draws anew."""
        self._drawn.clear()

    def show_drawn(self, drawn: DrawnDashboard) -> None:
        """Show a dashboard drawn in a worker; nothing is drawn here."""
        if self.shown is drawn:
            return
        self.shown = drawn
        tiles = drawn.tiles
        self.tiles = tiles
        chosen = self.indicator_picker.currentData()
        self.indicator_picker.clear()
        for tile in tiles:
            self.indicator_picker.addItem(
                f"{tile.series.code} {tile.series.title}", tile.series.code
            )
        if chosen is not None and (index := self.indicator_picker.findData(chosen)) >= 0:
            self.indicator_picker.setCurrentIndex(index)
        summary = "; ".join(_tile_summary(t) for t in tiles)
        tips = {
            f"tile:{t.series.code}": f"{t.series.code} {t.series.title}\n{_tile_state(t)}\n"
            "Click to see it large with its figures."
            for t in tiles
        }
        self.chart.show_picture(drawn.picture, summary, tips=tips, figure=drawn.figure)

    def show_message(self, text: str) -> None:
        self.shown = None
        self.chart.show_message(text)

    def available_width(self) -> int:
        """Pixels across the chart area, less room for the scroll bar (read on the UI thread)."""
        return max(320, self.chart.width() - 24)

    def showing(self, scope: str, theme: str) -> bool:
        """Whether the picture on screen is of `scope` in `theme` (at whatever width)."""
        shown = self.shown
        return shown is not None and (shown.key.scope, shown.key.theme) == (scope, theme)

    def _tile_clicked(self, gid: str) -> None:
        if gid.startswith("tile:"):
            self.tile_chosen.emit(gid.removeprefix("tile:"))


def _tile_summary(tile: DashboardTile) -> str:
    """A tile in words for the page's description: code, latest value, RAG and direction."""
    rag = tile.shown_rag.value if tile.shown_rag else "no RAG"
    direction = f", {tile.direction_label}" if tile.direction_label else ""
    return f"{tile.series.code}: {tile.shown_latest}, {rag}{direction}"


def _tile_state(tile: DashboardTile) -> str:
    """A tile's tooltip line: latest value, RAG as shown (word and shape), direction."""
    parts = [tile.shown_latest, tile.shown_rag.label if tile.shown_rag else "No RAG"]
    return ", ".join(parts + ([tile.direction_label] if tile.direction_label else []))
