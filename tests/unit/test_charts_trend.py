"""The trend chart of one indicator, checked on the figure's own artists for known data."""

from __future__ import annotations

import itertools
import math
import subprocess
import sys
import warnings
from dataclasses import replace
from decimal import Decimal

import pytest
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.colors import same_color, to_hex
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.path import Path

from skp_desktop.charts.export import figure_png_bytes
from skp_desktop.charts.series import ComparatorSeries, TrendPoint, TrendSeries
from skp_desktop.charts.theme import DARK, LIGHT, relative_luminance
from skp_desktop.charts.trend import empty_figure, period_labels, trend_figure, y_limits
from skp_desktop.domain.definitions import Polarity, Unit
from skp_desktop.domain.periods import Period, parse_period, period_range
from skp_desktop.domain.rag import Rag

D = Decimal


def quarters(count: int, first: str = "FY2023-24-Q1") -> list[Period]:
    periods = [parse_period(first)]
    while len(periods) < count:
        periods.append(periods[-1].next())
    return periods


def make_series(
    values: list[str | None],
    *,
    rags: list[Rag | None] | None = None,
    revised: tuple[int, ...] = (),
    unit: Unit = Unit.PERCENT,
    polarity: Polarity = Polarity.HIGHER_IS_BETTER,
    first: str = "FY2023-24-Q1",
    **extra: object,
) -> TrendSeries:
    """A series from texts: "71.5" a value, None no data, "[x]" a symbol."""
    periods = quarters(len(values), first)
    rags = rags or [None] * len(values)
    points = []
    for i, (period, text) in enumerate(zip(periods, values, strict=True)):
        if text is None or text.startswith("["):
            points.append(TrendPoint(period, None, symbol=text))
        else:
            points.append(TrendPoint(period, D(text), rag=rags[i], revised=i in revised))
    return TrendSeries(
        code="SKP01",
        title="Victims of domestic abuse who engaged with an IDVA",
        unit=unit,
        polarity=polarity,
        decimals=1,
        points=tuple(points),
        **extra,  # type: ignore[arg-type]
    )


def artist(fig: Figure, gid: str) -> Artist:
    found = fig.findobj(lambda a: a.get_gid() == gid)
    assert len(found) == 1, f"expected one artist with gid {gid!r}, found {len(found)}"
    return found[0]


def has_artist(fig: Figure, gid: str) -> bool:
    return bool(fig.findobj(lambda a: a.get_gid() == gid))


def legend_texts(fig: Figure) -> list[str]:
    assert len(fig.legends) == 1
    return [text.get_text() for text in fig.legends[0].get_texts()]


def y_data(line: Line2D) -> list[float]:
    return [float(y) for y in line.get_ydata()]


def same_with_nan(actual: list[float], expected: list[float]) -> bool:
    return len(actual) == len(expected) and all(
        (math.isnan(a) and math.isnan(e)) or a == e for a, e in zip(actual, expected, strict=True)
    )


def test_the_values_line_breaks_at_gaps() -> None:
    series = make_series(["70", "72.5", None, "[c]", "76"])
    line = artist(trend_figure(series), "values")
    assert isinstance(line, Line2D)
    assert same_with_nan(y_data(line), [70, 72.5, math.nan, math.nan, 76])
    assert list(line.get_xdata()) == [0, 1, 2, 3, 4]


def test_gaps_say_why_in_words() -> None:
    series = make_series(["70", None, "[c]", "76"], first="FY2024-25-Q1")
    fig = trend_figure(series)
    assert artist(fig, "gap-label:FY2024-25-Q2").get_text() == "no data"
    assert artist(fig, "gap-label:FY2024-25-Q3").get_text() == "[c]"
    note = fig.axes[0].get_xlabel()
    assert "[c] = suppressed (small number)" in note
    assert "no data = no figure returned" in note


def test_x_tick_labels_are_the_period_short_labels() -> None:
    series = make_series(["70", "71", "72", "73"])
    labels = [t.get_text() for t in period_labels(trend_figure(series).axes[0])]
    assert labels == ["2023/24 Q1", "2023/24 Q2", "2023/24 Q3", "2023/24 Q4"]


def test_eight_quarters_are_all_labelled_at_the_default_size() -> None:
    series = make_series([str(70 + i) for i in range(8)])
    labels = [t.get_text() for t in period_labels(trend_figure(series).axes[0])]
    assert [label.replace("\n", " ") for label in labels] == [
        p.period.short_label for p in series.points
    ]


def _visible_tick_boxes(fig: Figure) -> list[object]:
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    return [t.get_window_extent(renderer) for ax in fig.axes for t in period_labels(ax)]


@pytest.mark.parametrize(
    ("count", "size", "compact"),
    [(8, (8, 4.5), False), (16, (8, 4.5), False), (12, (5, 3.5), False), (8, (3.2, 2.4), True)],
)
def test_x_tick_labels_never_overlap(count: int, size: tuple[float, float], compact: bool) -> None:
    series = make_series([str(60 + i) for i in range(count)])
    boxes = _visible_tick_boxes(trend_figure(series, size=size, compact=compact))
    assert len(boxes) >= 2
    for left, right in itertools.pairwise(boxes):
        assert left.x1 < right.x0, "two period labels overlap"  # type: ignore[attr-defined]


@pytest.mark.parametrize("count", [4, 9])
def test_period_labels_sit_under_their_ticks_and_the_note_about_gaps_under_them(
    count: int,
) -> None:
    # At the size of the board pack's chart four quarters' labels fit on one line; nine need two.
    series = make_series(["70", None] + [str(71 + i) for i in range(count - 2)])
    fig = trend_figure(series, size=(7, 3.75))
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    ax = fig.axes[0]
    plot = ax.get_window_extent(renderer)
    labels = period_labels(ax)
    assert len(labels) == count
    assert ("\n" in labels[0].get_text()) is (count == 9)
    ticks = artist(fig, "period-ticks")
    for label, x in zip(labels, ticks.get_xdata(), strict=True):  # type: ignore[attr-defined]
        box = label.get_window_extent(renderer)
        assert box.y1 < plot.y0, "a period label overlaps the plot"
        centre = ax.transData.transform((x, 0))[0]
        assert abs((box.x0 + box.x1) / 2 - centre) < 1, "a label is not under its tick"
    note = ax.xaxis.label.get_window_extent(renderer)
    assert "Gaps in the line" in ax.get_xlabel()
    lowest = min(label.get_window_extent(renderer).y0 for label in labels)
    assert note.y1 < lowest, "the note about gaps overlaps the period labels"


def test_two_years_of_months_label_the_latest_month_and_thin_the_rest() -> None:
    months = period_range(parse_period("2023-04"), parse_period("2025-03"))
    series = TrendSeries(
        "ASB01",
        "Anti-social behaviour incidents",
        Unit.COUNT,
        Polarity.NEUTRAL,
        0,
        tuple(TrendPoint(p, D(400 + i)) for i, p in enumerate(months)),
    )
    fig = trend_figure(series)
    ticks = artist(fig, "period-ticks")
    assert list(ticks.get_xdata()) == list(range(24))  # type: ignore[attr-defined]
    shown = period_labels(fig.axes[0])
    assert 4 <= len(shown) <= 12
    assert shown[-1].get_text() == "Mar 2025"
    assert shown[-1].get_position()[0] == 23  # under the latest month's tick


def test_target_is_a_step_line_that_changes_when_a_new_target_starts() -> None:
    periods = quarters(4)
    series = make_series(
        ["70", "72", "74", "76"], targets=((periods[0], D("75")), (periods[2], D("80")))
    )
    fig = trend_figure(series)
    line = artist(fig, "target")
    assert isinstance(line, Line2D)
    assert line.get_drawstyle() == "steps-post"
    # Each period's target spans its column; the last step runs to the right edge.
    assert list(line.get_xdata()) == [-0.5, 0.5, 1.5, 2.5, 3.5]
    assert y_data(line) == [75, 75, 80, 80, 80]
    assert "Target: 75.0% → 80.0%" in legend_texts(fig)


def test_no_target_line_before_the_first_target() -> None:
    periods = quarters(3)
    series = make_series(["70", "72", "74"], targets=((periods[1], D("75")),))
    assert same_with_nan(y_data(artist(trend_figure(series), "target")), [math.nan, 75, 75, 75])


def test_baseline_is_a_dashed_line_with_its_label() -> None:
    series = make_series(["70", "72"], baseline=D("68.5"), baseline_label="Baseline 2022/23")
    fig = trend_figure(series)
    line = artist(fig, "baseline")
    assert isinstance(line, Line2D)
    assert y_data(line) == [68.5, 68.5]
    assert line.get_linestyle() == "--"
    assert artist(fig, "baseline-label").get_text().strip() == "Baseline 2022/23"
    assert "Baseline 2022/23: 68.5%" in legend_texts(fig)


def test_comparators_are_thin_dotted_lines_at_the_indicators_periods() -> None:
    periods = quarters(3)
    london = ComparatorSeries("London", ((periods[0], D("65")), (periods[2], D("67"))))
    fig = trend_figure(make_series(["70", "72", "74"], comparators=(london,)))
    line = artist(fig, "comparator:London")
    assert isinstance(line, Line2D)
    assert line.get_linestyle() == ":"
    assert line.get_linewidth() < artist(fig, "values").get_linewidth()  # type: ignore[attr-defined]
    assert same_with_nan(y_data(line), [65, math.nan, 67])
    assert "London" in legend_texts(fig)


def test_a_red_point_is_a_red_square_and_the_legend_names_only_the_levels_present() -> None:
    series = make_series(["60", "80"], rags=[Rag.RED, Rag.GREEN])
    fig = trend_figure(series)
    red = artist(fig, "rag:Red")
    assert isinstance(red, Line2D)
    assert red.get_marker() == "s"
    assert same_color(red.get_markerfacecolor(), LIGHT.rag_fill[Rag.RED])
    assert list(red.get_xdata()) == [0]
    assert y_data(red) == [60]
    green = artist(fig, "rag:Green")
    assert green.get_marker() == "o"  # type: ignore[attr-defined]
    texts = legend_texts(fig)
    assert "Red" in texts
    assert "Green" in texts
    assert "Amber" not in texts
    assert not has_artist(fig, "rag:Amber")


def test_an_amber_point_is_a_triangle_and_the_rag_word_is_coloured_in_the_legend() -> None:
    fig = trend_figure(make_series(["60"], rags=[Rag.AMBER]))
    assert artist(fig, "rag:Amber").get_marker() == "^"  # type: ignore[attr-defined]
    word = next(t for t in fig.legends[0].get_texts() if t.get_text() == "Amber")
    assert same_color(word.get_color(), LIGHT.rag_text[Rag.AMBER])


SHAPES = "●▲■◆○"


def test_the_legend_shows_each_shape_once_as_its_marker_beside_the_word() -> None:
    # "▲ Amber" beside a ▲ marker showed the shape twice.
    series = make_series(
        ["60", "70", "80", "75"], rags=[Rag.RED, Rag.AMBER, Rag.GREEN, None], revised=(2,)
    )
    legend = trend_figure(series).legends[0]
    shown = {
        text.get_text(): handle
        for text, handle in zip(legend.get_texts(), legend.legend_handles, strict=True)
    }
    assert not [label for label in shown if any(shape in label for shape in SHAPES)]
    for rag, marker in ((Rag.RED, "s"), (Rag.AMBER, "^"), (Rag.GREEN, "o")):
        assert shown[rag.value].get_marker() == marker  # type: ignore[union-attr]
    assert shown["Not rated"].get_marker() == "D"  # type: ignore[union-attr]
    assert shown["Revised figure"].get_marker() == "o"  # type: ignore[union-attr]


def test_points_without_a_rating_get_a_neutral_diamond() -> None:
    series = make_series(["60", "70"], rags=[Rag.GREEN, None])
    fig = trend_figure(series)
    neutral = artist(fig, "rag:none")
    assert neutral.get_marker() == "D"  # type: ignore[attr-defined]
    assert list(neutral.get_xdata()) == [1]  # type: ignore[attr-defined]
    assert "Not rated" in legend_texts(fig)


def test_a_series_with_no_ratings_has_no_rag_entries_in_its_legend() -> None:
    fig = trend_figure(make_series(["60", "70"], unit=Unit.COUNT, polarity=Polarity.NEUTRAL))
    assert legend_texts(fig) == ["Value"]


def test_the_revised_point_is_ringed_and_named_in_the_legend() -> None:
    series = make_series(["60", "70", "75"], revised=(1,))
    fig = trend_figure(series)
    ring = artist(fig, "revised")
    assert isinstance(ring, Line2D)
    assert list(ring.get_xdata()) == [1]
    assert y_data(ring) == [70]
    assert ring.get_markerfacecolor() == "none"
    assert "Revised figure" in legend_texts(fig)


def test_title_is_wrapped_and_the_subtitle_gives_the_polarity() -> None:
    long_title = " ".join(["Percentage of victims referred who engaged with an adviser"] * 3)
    series = make_series(["70"])
    series = TrendSeries(
        series.code, long_title, series.unit, Polarity.LOWER_IS_BETTER, 1, series.points
    )
    fig = trend_figure(series, size=(6, 4))
    title = fig.get_suptitle()
    assert "\n" in title
    assert title.replace("\n", " ").startswith("Percentage of victims referred")
    assert fig.axes[0].get_title(loc="left") == "SKP01 · Lower is better"


def test_the_y_axis_is_labelled_in_the_unit() -> None:
    assert trend_figure(make_series(["70"])).axes[0].get_ylabel() == "Percentage (%)"
    rate = make_series(["3.2"], unit=Unit.RATE_PER_10000)
    assert trend_figure(rate).axes[0].get_ylabel() == "Rate per 10,000"
    count = make_series(["1200", "1350"], unit=Unit.COUNT)
    ax = trend_figure(count).axes[0]
    assert ax.get_ylabel() == "Count"
    fig = ax.get_figure()
    fig.canvas.draw()  # type: ignore[union-attr]
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert any("," in t for t in ticks), ticks  # en-GB thousands separators


# Figures like SAFER-P4-S1's: repairs on time, between 95% and 99%, against a 100% target.
REPAIRS = ["99.1", "96.8", "99.1", "96.5", "99.0", "95.8", "95.2", "99.1", "98.9"]


def drawn_y_ticks(ax: Axes) -> list[tuple[float, str]]:
    """The y ticks inside the plot as (position, label), after drawing."""
    ax.get_figure(root=True).canvas.draw()  # type: ignore[union-attr]
    low, high = ax.get_ylim()
    return [
        (float(t.get_position()[1]), t.get_text())
        for t in ax.get_yticklabels()
        if low <= t.get_position()[1] <= high and t.get_text()
    ]


@pytest.mark.parametrize(
    ("values", "compact", "size"),
    [
        (REPAIRS, False, (8, 4.5)),
        (REPAIRS, False, (5, 3.5)),
        (REPAIRS, True, (3.3, 2.6)),
        (["80", "83.5", "87", "86"], False, (8, 4.5)),  # ticks 2.5 apart in a full chart
    ],
)
def test_y_tick_labels_read_the_value_at_their_tick(
    values: list[str], compact: bool, size: tuple[float, float]
) -> None:
    # A step of 2.5 printed with no decimals read "92%, 95%, 98%, 100%": uneven and wrong.
    periods = quarters(len(values))
    target = ((periods[0], D("100")),) if values is REPAIRS else ()
    series = make_series(values, targets=target)
    ax = trend_figure(series, size=size, compact=compact).axes[0]
    ticks = drawn_y_ticks(ax)
    assert len(ticks) >= 3
    for position, label in ticks:
        assert float(label.removesuffix("%").replace(",", "")) == pytest.approx(position), ticks
    decimals = {len(label.removesuffix("%").partition(".")[2]) for _, label in ticks}
    assert len(decimals) == 1, ticks  # every label written with the same decimals


def line_gap_to_edges(ax: Axes, level: float) -> tuple[float, float]:
    """Points from a horizontal line at `level` up to the plot's top and down to its bottom."""
    ax.get_figure(root=True).canvas.draw()  # type: ignore[union-attr]
    box = ax.get_window_extent()
    y = ax.transData.transform((0, level))[1]
    dpi = ax.get_figure(root=True).dpi  # type: ignore[union-attr]
    return (box.y1 - y) * 72 / dpi, (y - box.y0) * 72 / dpi


@pytest.mark.parametrize(
    ("size", "compact"), [((8, 4.5), False), ((5, 3.5), False), ((3.3, 2.6), True)]
)
def test_a_target_at_the_top_of_the_range_is_inside_the_plot(
    size: tuple[float, float], compact: bool
) -> None:
    # SAFER-P4-S1: a 100% target on the top edge read as the plot's frame, not a target.
    periods = quarters(len(REPAIRS))
    series = make_series(REPAIRS, targets=((periods[0], D("100")),))
    ax = trend_figure(series, size=size, compact=compact).axes[0]
    above, _ = line_gap_to_edges(ax, 100)
    assert above >= 6, above
    # The room above is not filled with tick labels past 100%.
    assert all(position <= 100 for position, _ in drawn_y_ticks(ax))


def test_a_target_line_is_named_on_the_line_clear_of_it() -> None:
    periods = quarters(len(REPAIRS))
    fig = trend_figure(make_series(REPAIRS, targets=((periods[0], D("100")),)))
    fig.canvas.draw()
    label = artist(fig, "target-label")
    assert label.get_text().strip() == "Target"  # type: ignore[attr-defined]
    ax = fig.axes[0]
    box, plot = label.get_window_extent(), ax.get_window_extent()
    y = ax.transData.transform((0, 100))[1]
    # Inside the plot, and wholly above the line: the points are all below it.
    assert plot.x0 <= box.x0 and box.x1 <= plot.x1 and box.y1 <= plot.y1 + 1
    assert box.y0 > y


def test_a_baseline_at_the_bottom_of_the_range_is_inside_the_plot() -> None:
    series = make_series(["3", "5", "4"], unit=Unit.COUNT, baseline=D("0"))
    ax = trend_figure(series).axes[0]
    _, below = line_gap_to_edges(ax, 0)
    assert below >= 6, below
    assert all(position >= 0 for position, _ in drawn_y_ticks(ax))  # no "-1" under a count


def test_a_target_inside_the_range_leaves_the_limits_alone() -> None:
    periods = quarters(3)
    series = make_series(["70", "80", "90"], targets=((periods[0], D("82")),))
    ax = trend_figure(series).axes[0]
    assert ax.get_ylim() == pytest.approx(y_limits(series, bins=5))


@pytest.mark.parametrize(
    ("unit", "values", "low_at_least", "high_at_most"),
    [
        (Unit.PERCENT, ["96", "99.5", "100"], 0, 100),  # never above 100 per cent
        (Unit.PERCENT, ["2", "4"], 0, 100),  # never below 0
        (Unit.COUNT, ["0", "3"], 0, math.inf),
        (Unit.RATE_PER_1000, ["1", "1"], 0, math.inf),  # flat data still gets a range
    ],
)
def test_y_limits_stay_within_what_the_unit_allows(
    unit: Unit, values: list[str], low_at_least: float, high_at_most: float
) -> None:
    series = make_series(values, unit=unit)
    low, high = y_limits(series)
    assert low_at_least <= low < high <= high_at_most
    assert low <= min(float(v) for v in values) and high >= max(float(v) for v in values)


def test_y_limits_follow_data_far_from_zero() -> None:
    low, high = y_limits(make_series(["81", "84", "86"]))
    assert 60 <= low <= 81 and 86 <= high <= 100


def test_y_limits_can_go_negative_for_a_score() -> None:
    low, _ = y_limits(make_series(["-3", "2"], unit=Unit.SCORE))
    assert low < -3


def test_compact_mode_names_its_rag_shapes_under_a_code_title() -> None:
    # The side panel's small trend: its shapes read without colour only with a key naming them.
    fig = trend_figure(make_series(["70", "80"], rags=[Rag.RED, Rag.GREEN]), compact=True)
    assert fig.axes[0].get_legend() is None
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["Value", "Green", "Red"]
    assert fig.axes[0].get_title(loc="left").startswith("SKP01 Victims")
    assert fig.axes[0].get_ylabel() == ""


def test_dark_theme_has_a_dark_background_light_text_and_brighter_rag_colours() -> None:
    fig = trend_figure(make_series(["60"], rags=[Rag.RED]), theme="dark")
    assert relative_luminance(to_hex(fig.get_facecolor())) < 0.05
    assert relative_luminance(to_hex(fig._suptitle.get_color())) > 0.7  # type: ignore[union-attr]
    tick = period_labels(fig.axes[0])[0]
    assert relative_luminance(to_hex(tick.get_color())) > 0.7
    red = artist(fig, "rag:Red")
    assert same_color(red.get_markerfacecolor(), DARK.rag_fill[Rag.RED])  # type: ignore[attr-defined]
    assert relative_luminance(DARK.rag_fill[Rag.RED]) > relative_luminance(LIGHT.rag_fill[Rag.RED])


def test_light_theme_has_a_light_background_and_dark_text() -> None:
    fig = trend_figure(make_series(["60"]))
    assert relative_luminance(to_hex(fig.get_facecolor())) > 0.9
    assert relative_luminance(to_hex(fig._suptitle.get_color())) < 0.05  # type: ignore[union-attr]


def test_unknown_theme_is_refused() -> None:
    with pytest.raises(ValueError, match=r"'sepia'.*dark, light"):
        trend_figure(make_series(["60"]), theme="sepia")


def test_legend_sits_outside_the_plot() -> None:
    fig = trend_figure(make_series(["60", "70"], rags=[Rag.RED, Rag.GREEN], baseline=D("50")))
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    legend_box = fig.legends[0].get_window_extent(renderer)
    axes_box = fig.axes[0].get_window_extent(renderer)
    assert legend_box.y1 <= axes_box.y0


def test_every_glyph_renders_without_a_missing_glyph_warning() -> None:
    series = make_series(
        ["60", None, "70", "80"], rags=[Rag.RED, None, Rag.AMBER, Rag.GREEN], revised=(2,)
    )
    for theme in ("light", "dark"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert figure_png_bytes(trend_figure(series, theme=theme)).startswith(b"\x89PNG")


def test_a_series_with_no_points_gives_a_figure_that_says_so() -> None:
    empty = TrendSeries("SKP09", "Hate crimes", Unit.COUNT, Polarity.NEUTRAL, 0, ())
    fig = trend_figure(empty)
    message = artist(fig, "empty-message").get_text()  # type: ignore[attr-defined]
    assert "SKP09" in message and "no figures" in message


def test_empty_figure_shows_its_message() -> None:
    fig = empty_figure("No data for this indicator yet", theme="dark", size=(4, 3))
    assert artist(fig, "empty-message").get_text() == "No data for this indicator yet"  # type: ignore[attr-defined]
    assert tuple(fig.get_size_inches()) == (4, 3)


def test_a_series_refuses_periods_out_of_order() -> None:
    first, second = quarters(2)
    with pytest.raises(ValueError, match="period order"):
        TrendSeries(
            "X",
            "X",
            Unit.COUNT,
            Polarity.NEUTRAL,
            0,
            (TrendPoint(second, D(1)), TrendPoint(first, D(2))),
        )


def test_a_point_cannot_hold_a_value_and_a_symbol() -> None:
    with pytest.raises(ValueError, match="not both"):
        TrendPoint(quarters(1)[0], D(1), symbol="[x]")


def test_importing_the_series_module_does_not_load_matplotlib() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import skp_desktop.charts, skp_desktop.charts.series, skp_desktop.charts.theme, sys;"
            " print('matplotlib' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "False"


def test_building_charts_loads_neither_pyplot_nor_qt() -> None:
    code = (
        "import sys\n"
        "from decimal import Decimal\n"
        "from skp_desktop.charts.series import TrendPoint, TrendSeries\n"
        "from skp_desktop.charts.trend import trend_figure\n"
        "from skp_desktop.charts.export import figure_png_bytes\n"
        "from skp_desktop.domain.periods import parse_period\n"
        "s = TrendSeries('X', 'X', 'count', 'neutral', 0,"
        " (TrendPoint(parse_period('FY2024-25-Q1'), Decimal(3)),))\n"
        "figure_png_bytes(trend_figure(s))\n"
        "print(sorted(m for m in sys.modules if m == 'matplotlib.pyplot' or"
        " m.startswith('PySide6')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_the_latest_value_is_written_with_its_unit() -> None:
    fig = trend_figure(make_series(["70", "72.45", None]))
    assert artist(fig, "latest-label").get_text() == "72.5%"  # type: ignore[attr-defined]


# SAFER-P3-B1, crime per 10,000 (lower is better): the last segment falls to the latest value.
CRIME = ["714.2", "757.8", "742.3", "787.2", "737.6", "731.4", "763.0", "733.9", "722.7"]


def assert_label_clear_of_the_values(fig: Figure, label_gid: str = "latest-label") -> None:
    """The label lies inside its plot and no segment of the values line runs through it."""
    fig.canvas.draw()
    label = artist(fig, label_gid)
    ax = label.axes
    assert ax is not None
    box = label.get_window_extent()
    plot = ax.get_window_extent()
    assert plot.x0 <= box.x0 and box.x1 <= plot.x1, (box, plot)
    assert plot.y0 <= box.y0 and box.y1 <= plot.y1, (box, plot)
    values = next(line for line in ax.get_lines() if line.get_gid() == "values")
    shown = ax.transData.transform(values.get_xydata())
    for a, b in itertools.pairwise(shown):
        if all(math.isfinite(v) for v in (*a, *b)):
            assert not Path([a, b]).intersects_bbox(box), f"the label covers {a}–{b}"


@pytest.mark.parametrize("size", [(8, 4.5), (6.7, 3.75), (5, 3.5)])
def test_the_latest_value_label_keeps_clear_of_the_line_and_inside_the_plot(
    size: tuple[float, float],
) -> None:
    series = make_series(
        CRIME,
        unit=Unit.RATE_PER_10000,
        polarity=Polarity.LOWER_IS_BETTER,
        baseline=D("751.0"),
        baseline_label="Baseline (Council Plan)",
    )
    fig = trend_figure(series, size=size)
    assert artist(fig, "latest-label").get_text() == "722.7 per 10,000"  # type: ignore[attr-defined]
    assert_label_clear_of_the_values(fig)


def test_the_latest_value_label_avoids_a_line_rising_to_it() -> None:
    # The mirror case: the line climbs to the latest point, and the place above is free.
    rising = [str(1000 - float(v)) for v in CRIME]
    assert_label_clear_of_the_values(trend_figure(make_series(rising, unit=Unit.COUNT)))


@pytest.mark.parametrize("size", [(8, 4.5), (5, 3.5), (6, 3)])
def test_a_small_figure_keeps_room_for_the_plot_and_fits_its_legend(
    size: tuple[float, float],
) -> None:
    periods = quarters(8)
    series = make_series(
        [str(70 + i) for i in range(8)],
        rags=[Rag.RED, Rag.AMBER, Rag.GREEN] * 2 + [Rag.RED, Rag.GREEN],
        revised=(3,),
        targets=((periods[0], D("75")),),
        baseline=D("68"),
        comparators=(ComparatorSeries("London", ((periods[0], D("71")),)),),
    )
    fig = trend_figure(series, size=size)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    figure_box = fig.bbox
    legend_box = fig.legends[0].get_window_extent(renderer)
    assert figure_box.x0 <= legend_box.x0 and legend_box.x1 <= figure_box.x1
    assert fig.axes[0].get_window_extent(renderer).height >= 0.35 * figure_box.height


def test_dollar_signs_in_a_title_are_text_not_mathematics() -> None:
    # a coordinator may retitle an indicator; "$" there is money, and a stray "$\frac{"
    # once stopped the chart drawing
    title = r"Spend per head $\frac{ between $5 and $10"
    series = make_series(["1", "2", "3"])
    fig = trend_figure(replace(series, title=title))
    assert figure_png_bytes(fig).startswith(b"\x89PNG")  # drawn, not stopped by a parse error
    shown = [t for t in fig.findobj(lambda a: hasattr(a, "get_text")) if "$5" in t.get_text()]
    assert shown and all(not t.get_parse_math() for t in shown)
