"""Comparator series (London, England …) the coordinator enters, and the charts that show them."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest
from sqlalchemy import select, text

from skp_desktop.domain.errors import NotFoundError, ValidationError
from skp_desktop.services import audit
from skp_desktop.services.comparators import (
    ComparatorChange,
    list_comparators,
    set_comparator,
    set_comparators,
)
from skp_desktop.services.database import Database
from skp_desktop.services.returns import EntryChange, record_entries
from skp_desktop.services.trends import dashboard_tiles, indicator_trend
from skp_desktop.store.models import AuditEvent

CAT1 = "SAFER-P4-S1"  # % of Category 1 defects repaired on time (Highways, quarterly)
ROADS = "SAFER-P4-B1"  # % of A/B/C roads in good condition (annual)
Q1, Q2, Q3 = "FY2024-25-Q1", "FY2024-25-Q2", "FY2024-25-Q3"


def _events(db: Database) -> list[tuple[str | None, str | None, dict | None, dict | None]]:
    with db.reading() as session:
        rows = session.execute(
            select(AuditEvent.indicator, AuditEvent.period, AuditEvent.old, AuditEvent.new)
            .where(AuditEvent.action == "comparator.set")
            .order_by(AuditEvent.id)
        ).all()
    return [
        (code, period, json.loads(old) if old else None, json.loads(new) if new else None)
        for code, period, old, new in rows
    ]


@pytest.mark.both_engines
def test_the_coordinator_sets_changes_and_clears_comparators_and_each_change_is_audited(
    db: Database,
) -> None:
    set_comparator(db, CAT1, "london", Q1, "91.5", "cora", source="TfL bulletin")
    set_comparator(db, CAT1, "England", Q1, D("88"), "cora")
    held = set_comparator(db, CAT1, "London", Q1, "92.25", "cora")
    assert [(e.series, e.period.code, e.value, e.source) for e in held] == [
        ("London", Q1, D("92.25"), "TfL bulletin"),  # spelt as the standard series
        ("England", Q1, D("88"), None),
    ]
    set_comparator(db, CAT1, "England", Q1, None, "cora")
    assert [(e.series, e.value) for e in list_comparators(db, CAT1)] == [("London", D("92.25"))]
    assert _events(db) == [
        (CAT1, Q1, None, {"series": "London", "value": "91.5", "source": "TfL bulletin"}),
        (CAT1, Q1, None, {"series": "England", "value": "88", "source": None}),
        (
            CAT1,
            Q1,
            {"series": "London", "value": "91.5", "source": "TfL bulletin"},
            {"series": "London", "value": "92.25", "source": "TfL bulletin"},
        ),
        (
            CAT1,
            Q1,
            {"series": "England", "value": "88", "source": None},
            {"series": "England", "value": None, "source": None},
        ),
    ]
    report = audit.verify(db)
    assert report.ok, report.problems


def test_an_unchanged_figure_records_nothing(db: Database) -> None:
    set_comparator(db, CAT1, "London", Q1, "91.5", "cora")
    set_comparator(db, CAT1, "London", Q1, "91.50", "cora")  # the same figure
    set_comparator(db, CAT1, "England", Q1, None, "cora")  # nothing to clear
    assert len(_events(db)) == 1


@pytest.mark.parametrize(
    ("code", "series", "period", "value", "error", "says"),
    [
        (CAT1, "London", Q1, "101", ValidationError, "at most 100.0"),
        (CAT1, "London", Q1, "-1", ValidationError, "at least 0.0"),
        (CAT1, "London", Q1, "lots", ValidationError, "not a number"),
        (CAT1, "  ", Q1, "50", ValidationError, "Name the comparator series"),
        (CAT1, "London", "FY2024-25", "50", NotFoundError, "reported quarterly"),
        (CAT1, "London", "FY2024-25-Q7", "50", NotFoundError, "not a period"),
        (ROADS, "England", "FY2024-25", "70", NotFoundError, "give FY2024-25-Q4"),
        (ROADS, "England", Q2, "70", NotFoundError, "reported annual"),
        ("SAFER-NOPE", "London", Q1, "50", NotFoundError, "no indicator"),
    ],
)
def test_a_figure_that_cannot_be_right_is_refused(
    db: Database, code: str, series: str, period: str, value: str, error: type, says: str
) -> None:
    with pytest.raises(error, match=says):
        set_comparator(db, code, series, period, value, "cora")
    assert list_comparators(db) == [] and _events(db) == []


def test_several_figures_are_set_all_or_nothing(db: Database) -> None:
    good = [ComparatorChange("London", Q1, "90"), ComparatorChange("England", Q1, "88")]
    with pytest.raises(ValidationError, match="outside"):
        set_comparators(db, CAT1, [*good, ComparatorChange("London", Q2, "900")], "cora")
    with pytest.raises(ValidationError, match="given twice"):
        set_comparators(db, CAT1, [*good, ComparatorChange("london", Q1, "91")], "cora")
    assert list_comparators(db) == []
    assert len(set_comparators(db, CAT1, good, "cora")) == 2


def test_an_annual_indicator_takes_its_comparator_with_the_year_end_quarter(db: Database) -> None:
    (entry,) = set_comparator(db, ROADS, "England", "FY2024-25-Q4", "68", "cora")
    assert entry.period.code == "FY2024-25-Q4"


def test_a_comparator_changed_outside_the_app_is_caught_by_verify(db: Database) -> None:
    set_comparator(db, CAT1, "London", Q1, "91.5", "cora")
    with db.transaction() as session:
        session.execute(text("UPDATE comparator_values SET value = '99'"))
    report = audit.verify(db)
    assert not report.ok
    assert any(
        f"London comparator of {CAT1} for {Q1} is 99 but its history says 91.5" in p
        for p in report.problems
    ), report.problems


def _highways(db: Database, period: str, numerator: str) -> None:
    record_entries(
        db,
        service="HIGHWAYS",
        period=period,
        changes=[EntryChange(CAT1, {"numerator": numerator, "denominator": "50"})],
        actor="hana",
    )


def test_the_trend_series_carries_the_comparators_and_the_chart_draws_them(db: Database) -> None:
    from skp_desktop.charts.trend import trend_figure

    for period, numerator in ((Q1, "45"), (Q2, "47"), (Q3, "49")):
        _highways(db, period, numerator)
    set_comparators(
        db,
        CAT1,
        [
            ComparatorChange("London", Q1, "91"),
            ComparatorChange("London", Q3, "93.5"),
            ComparatorChange("England", Q2, "88"),
            ComparatorChange("Statistical neighbours", Q2, "90"),
        ],
        "cora",
    )
    series = indicator_trend(db, CAT1)
    assert [(c.name, [(p.code, v) for p, v in c.points]) for c in series.comparators] == [
        ("London", [(Q1, D("91")), (Q3, D("93.5"))]),
        ("England", [(Q2, D("88"))]),
        ("Statistical neighbours", [(Q2, D("90"))]),
    ]
    figure = trend_figure(series)
    lines = {line.get_gid(): line for ax in figure.axes for line in ax.lines if line.get_gid()}
    london = lines["comparator:London"]
    assert list(london.get_xdata()) == [0, 1, 2]
    ys = list(london.get_ydata())
    assert ys[0] == 91 and ys[2] == 93.5 and ys[1] != ys[1]  # no London figure for Q2: a gap
    assert "comparator:England" in lines
    legend = [
        t.get_text() for ax in figure.axes for lg in [ax.get_legend()] if lg for t in lg.texts
    ]
    legend += [t.get_text() for lg in figure.legends for t in lg.texts]
    assert "London" in legend and "England" in legend

    (tile,) = [t for t in dashboard_tiles(db, service="HIGHWAYS") if t.series.code == CAT1]
    assert [c.name for c in tile.series.comparators] == [
        "London",
        "England",
        "Statistical neighbours",
    ]


def test_an_indicator_without_comparators_draws_none(db: Database) -> None:
    from skp_desktop.charts.trend import trend_figure

    _highways(db, Q1, "45")
    series = indicator_trend(db, CAT1)
    assert series.comparators == ()
    figure = trend_figure(series)
    assert not [
        line for ax in figure.axes for line in ax.lines if (line.get_gid() or "").startswith("comp")
    ]
