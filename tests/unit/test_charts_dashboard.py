"""Small multiples of trends, and the completeness matrix of returns, checked on the figures."""

from __future__ import annotations

import warnings
from dataclasses import replace
from decimal import Decimal

import pytest
from matplotlib.colors import same_color, to_hex
from matplotlib.figure import Figure
from matplotlib.text import Text

from skp_desktop.charts.dashboard import DashboardTile, dashboard_figure, heatmap_figure
from skp_desktop.charts.export import figure_png_bytes
from skp_desktop.charts.raster import rasterise
from skp_desktop.charts.series import TrendPoint, TrendSeries
from skp_desktop.charts.styling import measure_in
from skp_desktop.charts.theme import LIGHT, relative_luminance
from skp_desktop.domain.definitions import Polarity, Unit
from skp_desktop.domain.periods import parse_period
from skp_desktop.domain.rag import Rag, direction_label

D = Decimal


def make_series(
    code: str,
    values: list[str | None],
    *,
    unit: Unit = Unit.PERCENT,
    polarity: Polarity = Polarity.HIGHER_IS_BETTER,
    rags: list[Rag | None] | None = None,
    decimals: int = 1,
) -> TrendSeries:
    periods = [parse_period("FY2023-24-Q1")]
    while len(periods) < len(values):
        periods.append(periods[-1].next())
    rags = rags or [None] * len(values)
    points = tuple(
        TrendPoint(p, None if v is None else D(v), rag=None if v is None else r)
        for p, v, r in zip(periods, values, rags, strict=True)
    )
    return TrendSeries(code, f"Indicator {code}", unit, polarity, decimals, points)


def tile_axes(fig: Figure) -> list[object]:
    return [ax for ax in fig.findobj(lambda a: (a.get_gid() or "").startswith("tile:"))]


def texts_with_gid(fig: Figure, gid: str) -> list[Text]:
    return [a for a in fig.findobj(Text) if a.get_gid() == gid]


def test_one_tile_per_indicator_in_order() -> None:
    tiles = [DashboardTile(make_series(f"S{i}", ["1", "2"])) for i in range(8)]
    fig = dashboard_figure(tiles)
    assert [ax.get_gid() for ax in tile_axes(fig)] == [f"tile:S{i}" for i in range(8)]  # type: ignore[attr-defined]
    assert len(fig.subfigs) == 8  # 4 columns x 2 rows


def test_columns_set_the_grid() -> None:
    tiles = [DashboardTile(make_series(f"S{i}", ["1", "2"])) for i in range(7)]
    fig = dashboard_figure(tiles, columns=3)
    assert len(fig.subfigs) == 9  # 3 x 3, two left blank
    assert len(tile_axes(fig)) == 7
    with pytest.raises(ValueError, match="at least one column"):
        dashboard_figure(tiles, columns=0)


def test_a_tile_heads_its_trend_with_latest_value_rag_and_direction() -> None:
    series = make_series(
        "VWI",
        ["14.2", "12.85"],
        unit=Unit.RATE_PER_1000,
        polarity=Polarity.LOWER_IS_BETTER,
        rags=[Rag.RED, Rag.AMBER],
        decimals=2,
    )
    tile = DashboardTile(
        series, direction_label=direction_label(D("12.85"), D("14.2"), series.polarity)
    )
    fig = dashboard_figure([tile])
    (ax,) = tile_axes(fig)
    headline = ax.get_title(loc="left")  # type: ignore[attr-defined]
    # Latest value formatted with its decimals and unit, and the arrow following the number.
    assert headline.splitlines() == ["12.85 per 1,000", "↓ improving"]
    rag_title = ax.get_title(loc="right").strip()  # type: ignore[attr-defined]
    assert rag_title == "▲ Amber"
    (rag_text,) = texts_with_gid(fig, "tile-rag:Amber")
    assert same_color(rag_text.get_color(), LIGHT.rag_text[Rag.AMBER])
    assert ax.get_legend() is None  # type: ignore[attr-defined]


def _drawn_cat1_tile() -> Figure:
    """SAFER-P4-S1's demo figures in one tile, drawn: amber around 95-99%, target 100."""
    values = ["99.1", "96.8", "99.1", "96.5", "99.0", "95.8", "95.2", "99.1", "98.9"]
    series = make_series("P4S1", values, rags=[Rag.AMBER] * len(values))
    series = replace(series, targets=((series.points[0].period, D("100")),))
    fig = dashboard_figure([DashboardTile(series)])
    fig.canvas.draw()
    return fig


def test_tile_y_tick_labels_read_the_value_at_their_tick() -> None:
    # SAFER-P4-S1's tile had ticks at 92.5 and 97.5 printed "92%" and "98%".
    fig = _drawn_cat1_tile()
    (ax,) = tile_axes(fig)
    low, high = ax.get_ylim()  # type: ignore[attr-defined]
    ticks = [
        (t.get_position()[1], t.get_text())
        for t in ax.get_yticklabels()  # type: ignore[attr-defined]
        if low <= t.get_position()[1] <= high and t.get_text()
    ]
    assert len(ticks) >= 3
    for position, label in ticks:
        assert float(label.removesuffix("%")) == pytest.approx(position), ticks


def test_a_tile_keeps_a_target_at_the_top_of_the_range_inside_and_the_key_names_it() -> None:
    fig = _drawn_cat1_tile()
    (ax,) = tile_axes(fig)
    top = ax.get_window_extent().y1  # type: ignore[attr-defined]
    line_y = ax.transData.transform((0, 100))[1]  # type: ignore[attr-defined]
    assert (top - line_y) * 72 / fig.dpi >= 5  # a gap under the plot's top, not its edge
    assert "Target" in [t.get_text() for t in fig.legends[0].get_texts()]


@pytest.mark.parametrize(
    "latest", ["98.9% (2026/27 Q1)", "98.9%", "12,345.6 per 10,000 (2026/27 Q1)"]
)
def test_a_tiles_headline_and_rag_word_never_touch(latest: str) -> None:
    # In a board pack's four columns "98.9% (2026/27 Q1)" ran into "● Green".
    values = ["99.1", "96.8", "99.1", "96.5", "99.0", "95.8", "95.2", "99.1", "98.9"]
    series = make_series("P4S1", values, rags=[Rag.AMBER] * 8 + [Rag.GREEN])
    series = replace(series, targets=((series.points[0].period, D("98.5")),))
    tiles = [DashboardTile(series, latest_label=latest, direction_label="↑ improving")] * 4
    fig = dashboard_figure(tiles, columns=4, size=(11.69, 3.2), margins=(0, 0.4, 0, 0.4))
    fig.canvas.draw()
    ax = tile_axes(fig)[0]
    (headline,) = [t for t in texts_with_gid(fig, "tile-latest") if t.axes is ax]
    (rag,) = [t for t in texts_with_gid(fig, "tile-rag:Green") if t.axes is ax]
    assert "● Green" in rag.get_text() and latest in headline.get_text()
    plot_width = ax.get_window_extent().width / fig.dpi  # type: ignore[attr-defined]
    for left, right in zip(
        headline.get_text().split("\n"), rag.get_text().split("\n"), strict=True
    ):
        if left.strip() and right.strip():
            used = measure_in(fig, left, headline.get_fontsize(), bold=True) + measure_in(
                fig, right, rag.get_fontsize(), bold=True
            )
            assert plot_width - used >= 0.1, (left, right, plot_width - used)
    assert headline.get_fontsize() >= 7.5


def test_a_tile_uses_the_label_and_rag_it_is_given() -> None:
    series = make_series("X", ["1234.5"], unit=Unit.COUNT, polarity=Polarity.NEUTRAL)
    fig = dashboard_figure([DashboardTile(series, latest_label="1,235 (provisional)", rag=Rag.RED)])
    (ax,) = tile_axes(fig)
    assert ax.get_title(loc="left").startswith("1,235 (provisional)")  # type: ignore[attr-defined]
    assert ax.get_title(loc="right").strip() == "■ Red"  # type: ignore[attr-defined]


def test_a_tile_with_no_values_says_no_data() -> None:
    series = make_series("EMPTY", [None, None])
    fig = dashboard_figure([DashboardTile(series)])
    (ax,) = tile_axes(fig)
    assert ax.get_title(loc="left").startswith("No data")  # type: ignore[attr-defined]
    assert ax.get_title(loc="right") == ""  # type: ignore[attr-defined]


def test_the_dashboard_key_names_only_what_the_tiles_show() -> None:
    tiles = [
        DashboardTile(make_series("A", ["1", "2"], rags=[Rag.GREEN, Rag.RED])),
        DashboardTile(make_series("B", ["3", None])),
    ]
    fig = dashboard_figure(tiles)
    assert len(fig.legends) == 1
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    # The key's markers show the shapes; the words beside them do not repeat them.
    assert "Green" in texts and "Red" in texts
    assert "Amber" not in texts
    assert not [t for t in texts if any(shape in t for shape in "●▲■◆○")]
    assert "Gap: no figure" in texts
    assert "Target" not in texts


def test_dark_dashboard_has_dark_tiles_and_light_words() -> None:
    fig = dashboard_figure([DashboardTile(make_series("A", ["1", "2"]))], theme="dark")
    assert relative_luminance(to_hex(fig.get_facecolor())) < 0.05
    assert relative_luminance(to_hex(fig.subfigs[0].get_facecolor())) < 0.05
    (ax,) = tile_axes(fig)
    assert relative_luminance(to_hex(ax.title.get_color())) > 0.7  # type: ignore[attr-defined]


def test_an_empty_dashboard_says_so() -> None:
    fig = dashboard_figure([])
    assert texts_with_gid(fig, "empty-message")[0].get_text() == "No indicators to show."


SERVICES = ["Adult Social Care", "Highways", "Regulatory Services"]
PERIODS = ["2024/25 Q1", "2024/25 Q2"]
STATES = [["accepted", "submitted"], ["draft", "missing"], ["returned", "Accepted"]]


def test_heatmap_cells_say_their_state_in_words() -> None:
    fig = heatmap_figure(SERVICES, PERIODS, STATES)
    for r, row in enumerate(STATES):
        for c, state in enumerate(row):
            (cell,) = texts_with_gid(fig, f"cell:{r}:{c}")
            assert state.lower() in cell.get_text()
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == PERIODS
    assert [t.get_text() for t in ax.get_yticklabels()] == SERVICES


def test_heatmap_cells_are_coloured_by_state() -> None:
    fig = heatmap_figure(SERVICES, PERIODS, STATES)
    image = fig.axes[0].get_images()[0]
    rgba = image.to_rgba(image.get_array())
    assert same_color(rgba[1][1], LIGHT.state_fill["missing"])
    assert same_color(rgba[0][0], LIGHT.state_fill["accepted"])
    assert not same_color(rgba[0][0], rgba[0][1])


def test_heatmap_legend_names_every_state() -> None:
    fig = heatmap_figure(SERVICES, PERIODS, STATES)
    texts = " ".join(t.get_text() for t in fig.legends[0].get_texts())
    for state in ("missing", "draft", "submitted", "accepted", "returned"):
        assert state in texts


def test_heatmap_not_due_cells_are_blank_and_the_legend_says_what_they_mean() -> None:
    # A service whose return asks for nothing that quarter (services/completeness.NOT_DUE).
    states = [["accepted", "not due"], ["draft", "missing"], ["not due", "accepted"]]
    fig = heatmap_figure(SERVICES, PERIODS, states)
    (cell,) = texts_with_gid(fig, "cell:0:1")
    assert cell.get_text() == "— not due"
    assert same_color(cell.get_color(), LIGHT.muted_text)
    image = fig.axes[0].get_images()[0]
    rgba = image.to_rgba(image.get_array())
    assert same_color(rgba[0][1], LIGHT.figure_background)
    assert same_color(rgba[2][0], LIGHT.figure_background)
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "— not due: nothing asked for that quarter" in texts
    # A matrix with nothing "not due" does not explain it.
    plain = heatmap_figure(SERVICES, PERIODS, STATES)
    assert not [t for t in plain.legends[0].get_texts() if "not due" in t.get_text()]


def test_heatmap_row_names_keep_a_margin_from_the_left_edge() -> None:
    services = ["Emergency Planning and Resilience", "Highways"]
    fig = heatmap_figure(services, PERIODS, [["draft", "draft"], ["accepted", "missing"]])
    fig.canvas.draw()
    lefts = [t.get_window_extent().x0 / fig.dpi for t in fig.axes[0].get_yticklabels()]
    assert min(lefts) >= 0.12, lefts


def test_heatmap_refuses_an_unknown_state_naming_the_cell() -> None:
    with pytest.raises(ValueError, match=r"Highways, 2024/25 Q2: 'lost'.*missing, draft"):
        heatmap_figure(SERVICES, PERIODS, [["draft", "draft"], ["draft", "lost"], ["draft"] * 2])


def test_heatmap_refuses_a_ragged_matrix() -> None:
    with pytest.raises(ValueError, match="row 2"):
        heatmap_figure(SERVICES, PERIODS, [["draft", "draft"], ["draft"], ["draft", "draft"]])
    with pytest.raises(ValueError, match="3 row names but 2 rows"):
        heatmap_figure(SERVICES, PERIODS, [["draft", "draft"], ["draft", "draft"]])


def test_dark_heatmap_and_its_glyphs_render() -> None:
    fig = heatmap_figure(SERVICES, PERIODS, STATES, theme="dark")
    assert relative_luminance(to_hex(fig.get_facecolor())) < 0.05
    (cell,) = texts_with_gid(fig, "cell:0:0")
    assert relative_luminance(to_hex(cell.get_color())) > 0.7
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a glyph missing from the font is a warning
        figure_png_bytes(fig)
        figure_png_bytes(dashboard_figure([DashboardTile(make_series("A", ["1"]))]))


def test_saving_a_dashboard_draws_it_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # The tiles are placed by hand; a layout engine (even matplotlib's placeholder for "none")
    # makes savefig draw the whole dashboard a second time first (bench/charts.py).
    tiles = [DashboardTile(make_series(f"S{i}", ["1", "2", "3"])) for i in range(4)]
    fig = dashboard_figure(tiles)
    draws: list[object] = []
    original = Figure.draw

    def counting_draw(self: Figure, renderer: object) -> None:
        draws.append(renderer)
        original(self, renderer)

    monkeypatch.setattr(Figure, "draw", counting_draw)
    assert figure_png_bytes(fig).startswith(b"\x89PNG")
    assert len(draws) == 1


# Drawn to pixels in memory, as the Dashboard place shows it, with where each tile landed.
def _dashboard():
    tiles = [DashboardTile(make_series(code, ["40", "55"])) for code in ("A", "B", "C")]
    return dashboard_figure(tiles, columns=2, size=(6.0, 5.8))


def test_the_pixels_and_tiles_are_where_the_window_expects_them() -> None:
    raster = rasterise(_dashboard(), gid_prefix="tile:")
    assert (raster.width, raster.height) == (600, 580)  # 100 pixels an inch at scale 1
    assert len(raster.rgba) == 600 * 580 * 4
    tiles = {t.gid: t for t in raster.targets}
    assert list(tiles) == ["tile:A", "tile:B", "tile:C"]
    # From the top left, as Qt counts: A then B across the first row, C under A.
    a, b, c = tiles["tile:A"], tiles["tile:B"], tiles["tile:C"]
    assert a.x == pytest.approx(0) and a.y == pytest.approx(0)
    assert b.x == pytest.approx(a.width) and b.y == pytest.approx(0)
    assert c.x == pytest.approx(0) and c.y == pytest.approx(a.height)
    assert c.y + c.height < raster.height  # the key sits below the tiles


def test_a_high_dpi_picture_has_twice_the_pixels_at_the_same_places() -> None:
    once = rasterise(_dashboard(), gid_prefix="tile:")
    twice = rasterise(_dashboard(), scale=2, gid_prefix="tile:")
    assert (twice.width, twice.height) == (2 * once.width, 2 * once.height)
    for one, two in zip(once.targets, twice.targets, strict=True):
        assert (two.x, two.y, two.width) == pytest.approx((2 * one.x, 2 * one.y, 2 * one.width))


def test_a_scale_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive scale"):
        rasterise(_dashboard(), scale=0)
