"""The Dashboard place: a small chart per indicator; choose one to see it large with its table.

The page draws itself through the desk (ui/operations.py): the dashboard's pixels, an
indicator's chart and comparators, the board pack.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt, QTimer, Signal
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
from skp_desktop.ui.operations import Change, Desk
from skp_desktop.ui.rows_model import HeadedTableModel

if TYPE_CHECKING:
    from decimal import Decimal

    from matplotlib.figure import Figure

    from skp_desktop.services.board_pack import BoardPackFile
    from skp_desktop.services.comparators import ComparatorEntry
    from skp_desktop.services.database import Database

_Index = QModelIndex | QPersistentModelIndex
# an indicator's trend, its chart as the dialog shows it, and its comparators
IndicatorChart = tuple[TrendSeries, "Figure", "list[ComparatorEntry]"]


class TrendTableModel(HeadedTableModel):
    """A trend's figures as a table beside its chart: period, value, RAG, note."""

    HEADERS = TREND_HEADERS

    def __init__(self, series: TrendSeries | None = None, parent: QObject | None = None) -> None:
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
        figure: Figure,
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
        self, series: TrendSeries, figure: Figure, comparators: Sequence[ComparatorEntry]
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
    figure: Figure


# Pictures kept for revisits: a few scopes at a few widths (a picture is 8-32 MB).
KEPT_PICTURES = 4


class DashboardPage(QWidget):
    """Small multiples of every indicator of a service (or all), drawn in the background."""

    scope_changed = Signal(str)  # "theme:CODE", "service:CODE", or "" for every indicator
    tile_chosen = Signal(str)  # indicator code
    board_pack_requested = Signal(str)  # the scope shown, as scope_changed gives it

    def __init__(
        self,
        desk: Desk,
        period: Callable[[], str | None],
        parent: QWidget | None = None,
    ) -> None:
        """`period`: the period chosen on the Return page, which the board pack is for."""
        super().__init__(parent)
        self.desk = desk
        self._period = period
        self._wanted: DashboardKey | None = None  # the key last asked for
        self._queued: set[DashboardKey] = set()  # keys a worker is drawing or will draw
        self.indicator_dialog: IndicatorChartDialog | None = None
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
        # A resize draws the dashboard again once it settles; the old picture stays meanwhile.
        self._resize_timer = QTimer(self)
        self._resize_timer.setSingleShot(True)
        self._resize_timer.setInterval(300)
        self._resize_timer.timeout.connect(self.refresh)
        self.chart.resized.connect(self._redraw_soon)
        self.scope_changed.connect(self.draw)
        self.tile_chosen.connect(self.open_indicator_chart)
        self.board_pack_requested.connect(self.save_board_pack)
        self.set_scopes(*desk.catalogue)
        desk.database_opened.connect(self._on_database_opened)

    def _on_database_opened(self) -> None:
        self._queued.clear()  # pictures of the database before are dropped by the desk
        self.forget_drawn()
        self.set_scopes(*self.desk.catalogue)
        if self.isVisible():
            self.refresh()

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

    # --- drawing, through the desk ---------------------------------------------------------

    def refresh(self) -> None:
        """Show the dashboard of the scope chosen (drawn again only if something changed)."""
        self.draw(self.scope_picker.currentData() or "")

    def _redraw_soon(self) -> None:
        """After a resize has settled, the dashboard again at its new width (if on screen)."""
        if self.isVisible():
            self._resize_timer.start()

    def draw(self, scope: str) -> None:
        """Show the dashboard of `scope`, drawn (pixels too) in a worker.

        The picture drawn last for this scope, width and theme shows at once; the worker then
        draws again only if something was saved, imported or published since. Another width of
        the same scope stays on screen until its new picture is ready.
        """
        if self.desk.database() is None:
            return
        theme = self.desk.chart_theme()
        width, ratio = self.available_width(), self.devicePixelRatioF()
        key = DashboardKey(scope, width, theme, ratio)
        kept = self.drawn(key)
        if kept is not None:
            self.show_drawn(kept)
        elif not self.showing(scope, theme):
            self.show_message("Drawing the charts…")
        self._wanted = key
        if key in self._queued:
            return  # a worker is on it already
        self._queued.add(key)
        known = kept.stamp if kept is not None else None

        def work(db: Database) -> DrawnDashboard | None:
            from skp_desktop.charts.dashboard import dashboard_figure
            from skp_desktop.charts.raster import rasterise
            from skp_desktop.services.history import change_stamp
            from skp_desktop.services.trends import dashboard_tiles

            if self._wanted != key:
                return None  # the scope or width moved on while this waited
            # Read before the tiles: a change in between draws again next time, never missed.
            stamp = change_stamp(db)
            if stamp == known:
                return None
            kind, _, code = scope.partition(":")
            tiles = dashboard_tiles(
                db,
                service=code if kind == "service" else None,
                theme=code if kind == "theme" else None,
            )
            columns, size = dashboard_layout(width, len(tiles))
            figure = dashboard_figure(tiles, columns=columns, theme=theme, size=size)
            picture = Picture.from_raster(rasterise(figure, scale=ratio, gid_prefix="tile:"))
            return DrawnDashboard(key, stamp, tiles, picture, figure)

        def done(drawn: DrawnDashboard | None) -> None:
            self._queued.discard(key)
            if drawn is not None:
                self.remember(drawn)
            if self._wanted == key:
                shown = drawn or self.drawn(key)
                if shown is not None:
                    self.show_drawn(shown)

        def failed(exc: Exception) -> None:
            self._queued.discard(key)
            self.desk.failed(exc)

        self.desk.query(work, done, failure=failed, charts=True)

    def open_indicator_chart(self, code: str) -> None:
        """One indicator large, with the table of its figures and its comparators."""
        if not code:
            return
        theme, editable = self.desk.chart_theme(), self.desk.writable

        def done(result: IndicatorChart) -> None:
            series, figure, comparators = result
            self.indicator_dialog = IndicatorChartDialog(
                series, figure, parent=self.window(), comparators=comparators, editable=editable
            )
            self.indicator_dialog.comparators_save_requested.connect(self._save_comparators)
            self.indicator_dialog.open()

        self.desk.query(lambda db: indicator_chart(db, code, theme), done, charts=True)

    def _save_comparators(
        self, code: str, payload: tuple[list[tuple[str, str, Decimal | None]], str | None]
    ) -> None:
        """Write the comparator figures typed in the indicator's dialog, then redraw it."""
        dialog, theme = self.indicator_dialog, self.desk.chart_theme()
        assert dialog is not None
        changes, source = payload

        def work(db: Database, actor: str) -> IndicatorChart:
            from skp_desktop.services.comparators import ComparatorChange, set_comparators

            set_comparators(
                db,
                code,
                [
                    ComparatorChange(series, period, value, source)
                    for series, period, value in changes
                ],
                actor,
            )
            return indicator_chart(db, code, theme)

        def failed(exc: Exception) -> None:
            from skp_desktop.domain.errors import SkpError

            if isinstance(exc, SkpError) and dialog.comparators is not None:
                dialog.comparators.show_problem(str(exc))
            else:
                self.desk.failed(exc)

        self.desk.change(
            work,
            lambda result: dialog.show_series(*result),
            changes=Change.COMPARATORS | Change.HISTORY,
            failure=failed,
            source=self,
            charts=True,
        )

    def save_board_pack(self, scope: str) -> None:
        """The board pack for the period chosen on the Return page, as one PDF, drawn behind."""
        period = self._period()
        if self.desk.database() is None:
            return
        if not period:
            dialogs.information(
                self, "Board pack", "Choose a period on the Return page: the pack is for that."
            )
            return
        from skp_desktop.domain.periods import parse_period

        label = parse_period(period).label
        kind, _, code = scope.partition(":")
        suggested = f"SKP-board-pack-{period}{f'-{code}' if code else ''}.pdf"
        path = dialogs.save_file(self, f"Board pack for {label}", suggested, "PDF (*.pdf)")
        if not path:
            return
        if not path.lower().endswith(".pdf"):
            path += ".pdf"
        button = self.board_pack_button
        button.setEnabled(False)
        self.desk.say(f"Making the board pack for {label}…")

        def work(db: Database) -> BoardPackFile:
            from skp_desktop.services.board_pack import export_board_pack

            return export_board_pack(
                db,
                period,
                path,
                service=code if kind == "service" else None,
                theme=code if kind == "theme" else None,
            )

        def done(made: BoardPackFile) -> None:
            button.setEnabled(True)
            said = f"Board pack saved to {made.path} ({made.pages} pages)."
            for line in made.left_out:  # as the command line says them
                said += f" Not published, its history does not back it: {line}."
            self.desk.say(said)

        def failed(exc: Exception) -> None:
            from skp_desktop.domain.errors import SkpError

            button.setEnabled(True)
            if not isinstance(exc, SkpError):
                self.desk.failed(exc)
                return
            self.desk.say("The board pack was not made.")
            dialogs.error(self, "Board pack", str(exc))

        self.desk.query(work, done, failure=failed, charts=True)


def indicator_chart(db: Database, code: str, theme: str) -> IndicatorChart:
    """In a worker: an indicator's trend, its chart as the dialog shows it, and its comparators."""
    from skp_desktop.charts.trend import trend_figure
    from skp_desktop.services.comparators import list_comparators
    from skp_desktop.services.trends import indicator_trend

    series = indicator_trend(db, code)
    return series, trend_figure(series, theme=theme, size=(7.5, 4.6)), list_comparators(db, code)


def _tile_summary(tile: DashboardTile) -> str:
    """A tile in words for the page's description: code, latest value, RAG and direction."""
    rag = tile.shown_rag.value if tile.shown_rag else "no RAG"
    direction = f", {tile.direction_label}" if tile.direction_label else ""
    return f"{tile.series.code}: {tile.shown_latest}, {rag}{direction}"


def _tile_state(tile: DashboardTile) -> str:
    """A tile's tooltip line: latest value, RAG as shown (word and shape), direction."""
    parts = [tile.shown_latest, tile.shown_rag.label if tile.shown_rag else "No RAG"]
    return ", ".join(parts + ([tile.direction_label] if tile.direction_label else []))
