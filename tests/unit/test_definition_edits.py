"""Checking changed and new indicator definitions: every problem names its indicator and field."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from skp_desktop.domain.definition_edits import (
    DefinitionsRefused,
    FieldProblem,
    IndicatorSpec,
    build_spec,
    check_applies_from,
    parse_field,
    plan_version,
)
from skp_desktop.domain.definitions import Frequency, Level, Polarity, Unit
from skp_desktop.domain.errors import ValidationError

D = Decimal
SERVICES = ("HIGHWAYS", "PARKS")
THEMES = ("SAFER-P4",)


def spec(**overrides: Any) -> IndicatorSpec:
    """Category 1 defects repaired on time, as the default catalogue has it."""
    values: dict[str, Any] = {
        "code": "SAFER-P4-S1",
        "kind": "indicator",
        "theme": "SAFER-P4",
        "service": "HIGHWAYS",
        "title": "% of Category 1 defects repaired on time",
        "level": Level.SERVICE,
        "unit": Unit.PERCENT,
        "polarity": Polarity.HIGHER_IS_BETTER,
        "frequency": Frequency.QUARTERLY,
        "decimals": 1,
        "has_fraction": True,
        "numerator_label": "repaired on time",
        "denominator_label": "reported",
        "min_value": D(0),
        "amber_tolerance": D(5),
    }
    values.update(overrides)
    return IndicatorSpec(**values)


NEW = {
    "code": "SAFER-P4-S7",
    "theme": "SAFER-P4",
    "service": "HIGHWAYS",
    "title": "Potholes filled",
    "unit": "count",
    "polarity": "higher is better",
    "frequency": "quarterly",
}


def plan(**given: Any) -> Any:
    settings: dict[str, Any] = {
        "applies_from": "FY2025-26-Q1",
        "latest_applies_from": "FY2024-25-Q1",
        "note": "targets for 2025/26",
        "services": SERVICES,
        "themes": THEMES,
        "current_targets": {("SAFER-P4-S1", "FY2024-25"): D(100)},
    }
    settings.update(given)
    return plan_version([spec()], **settings)


def refusal(**given: Any) -> list[tuple[str | None, str, str]]:
    with pytest.raises(DefinitionsRefused) as caught:
        plan(**given)
    return [(p.indicator, p.field, p.message) for p in caught.value.problems]


# --- one field at a time -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "text", "expected"),
    [
        ("unit", "percent", Unit.PERCENT),
        ("unit", " Rate per 1,000 ", Unit.RATE_PER_1000),
        ("polarity", "LOWER IS BETTER", Polarity.LOWER_IS_BETTER),
        ("decimals", "2", 2),
        ("decimals", 0, 0),
        ("amber_tolerance", "2.5", D("2.5")),
        ("amber_tolerance", 2.5, D("2.5")),  # from TOML or JSON
        ("amber_tolerance", "", D(0)),
        ("min_value", "", None),
        ("max_value", "1,000", D(1000)),
        ("change_warning_percent", "", None),
        ("small_number_threshold", "5", 5),
        ("code", " safer-p4-s7 ", "SAFER-P4-S7"),
        ("has_fraction", "yes", True),
        ("title", "  Repairs  ", "Repairs"),
        ("definition", "", None),
    ],
)
def test_a_field_is_read_into_its_type(field: str, text: object, expected: object) -> None:
    assert parse_field(field, text) == expected


@pytest.mark.parametrize(
    ("field", "text", "message"),
    [
        ("unit", "furlongs", "'furlongs' is not a unit: use 'percent', 'count', 'rate per 1,000'"),
        ("unit", "%", "'%' is not a unit"),
        ("polarity", "up is good", "'up is good' is not a polarity: use 'higher is better'"),
        ("decimals", "7", "7 decimal places is out of range: use a whole number from 0 to 6"),
        ("decimals", "-1", "-1 decimal places is out of range"),
        ("decimals", "1.5", "'1.5' is not a whole number"),
        ("decimals", "", "give the number of decimal places, 0 to 6"),
        ("amber_tolerance", "-2", "-2 is negative: the amber tolerance is how far from the"),
        ("amber_tolerance", "lots", "'lots' is not a number"),
        ("change_warning_percent", "0", "0 is not above 0"),
        ("small_number_threshold", "-3", "-3 is negative"),
        ("code", "safer p4", "'safer p4' is not an indicator code: use capital letters"),
        ("code", "4-SAFER", "'4-SAFER' is not an indicator code"),
        ("code", "SAFER--P4", "'SAFER--P4' is not an indicator code"),
        ("code", "A" * 33, "is not an indicator code"),
        ("kind", "measure", "'measure' is not a kind: use 'indicator' or 'context'"),
        ("title", "  ", "every indicator needs a title"),
        ("title", "x" * 401, "is 401 characters long: at most 400 fit"),
        ("colour", "red", "there is no field 'colour'"),
    ],
)
def test_a_bad_field_is_refused_naming_it(field: str, text: object, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_field(field, text)
    assert caught.value.field == field
    assert message in caught.value.message


# --- one indicator -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"min_value": "50", "max_value": "10"},
            "min_value",
            "the minimum 50 is above the maximum 10",
        ),
        ({"min_value": "101"}, "min_value", "the minimum 101 is above the maximum 100"),
        ({"unit": "count"}, "unit", "'count' is not worked out from a numerator and denominator"),
        ({"unit": "count"}, "decimals", "a count is a whole number: decimals must be 0"),
        ({"numerator_label": ""}, "numerator_label", "say what the numerator counts"),
        ({"frequency": "monthly"}, "frequency", "cannot change: add a new indicator instead"),
        ({"service": "PARKS"}, "service", "cannot change"),
    ],
)
def test_fields_that_do_not_fit_together_are_named(
    changes: dict[str, str], field: str, message: str
) -> None:
    _, problems = build_spec(spec(), changes, services=SERVICES, themes=THEMES)
    assert any(p.field == field and message in p.message for p in problems), problems
    assert all(p.indicator == "SAFER-P4-S1" for p in problems)


def test_an_unchanged_identity_field_given_again_is_no_change() -> None:
    changed, problems = build_spec(
        spec(), {"service": "highways", "title": "Repairs"}, services=SERVICES, themes=THEMES
    )
    assert problems == []
    assert changed is not None and changed.title == "Repairs"


@pytest.mark.parametrize(
    ("given", "field", "message"),
    [
        ({"theme": "SAFER-P9"}, "theme", "there is no theme 'SAFER-P9': use SAFER-P4"),
        ({"service": "POLICE"}, "service", "there is no service 'POLICE': use HIGHWAYS, PARKS"),
        ({"service": ""}, "service", "an indicator belongs to the service that reports it"),
        ({"title": ""}, "title", "a new indicator needs a title"),
        ({"unit": None}, "unit", "a new indicator needs a unit"),
        ({"code": "bad code"}, "code", "'bad code' is not an indicator code"),
    ],
)
def test_a_new_indicator_is_checked(given: dict[str, str], field: str, message: str) -> None:
    _, problems = build_spec(
        None, {**NEW, **given}, services=SERVICES, themes=THEMES, code="SAFER-P4-S7"
    )
    assert any(p.field == field and message in p.message for p in problems), problems


def test_a_new_indicator_takes_sensible_defaults() -> None:
    new, problems = build_spec(None, NEW, services=SERVICES, themes=THEMES)
    assert problems == []
    assert new is not None
    assert (new.decimals, new.kind, new.amber_tolerance, new.has_fraction) == (
        0,
        "indicator",
        0,
        False,
    )


def test_a_context_measure_needs_no_service() -> None:
    given = {**NEW, "kind": "context", "service": ""}
    new, problems = build_spec(None, given, services=SERVICES, themes=THEMES)
    assert problems == [] and new is not None and new.service is None


# --- the publication -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("applies_from", "message"),
    [
        ("", "say which period the new definitions apply from"),
        ("2025 Q1", "'2025 Q1' is not a period"),
        ("FY2025-27-Q1", "'FY2025-27-Q1' is not a period"),
        ("FY2023-24-Q4", "2023/24 Q4 (Jan–Mar 2024) is earlier than 2024/25 Q1 (Apr–Jun 2024)"),
    ],
)
def test_applies_from_must_be_a_period_no_earlier_than_the_latest(
    applies_from: str, message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        check_applies_from(applies_from, "FY2024-25-Q1")
    assert caught.value.field == "applies_from"
    assert message in caught.value.message


def test_the_same_period_as_the_latest_version_is_allowed() -> None:
    assert check_applies_from("fy2024-25-q1", "FY2024-25-Q1").code == "FY2024-25-Q1"


def test_every_problem_of_a_publication_is_reported_at_once() -> None:
    problems = refusal(
        applies_from="FY2020-21-Q1",
        note=" ",
        changes={"SAFER-P4-S1": {"decimals": "9"}, "NOPE-1": {"title": "x"}},
        new_indicators=[{**NEW, "code": "SAFER-P4-S1"}, {**NEW, "unit": "furlongs"}],
    )
    fields = {(indicator, field) for indicator, field, _ in problems}
    assert fields == {
        (None, "applies_from"),
        (None, "note"),
        ("SAFER-P4-S1", "decimals"),
        ("NOPE-1", "code"),
        ("SAFER-P4-S1", "code"),  # a new one cannot take an existing code
        ("SAFER-P4-S7", "unit"),
    }


def test_two_new_indicators_cannot_share_a_code() -> None:
    problems = refusal(new_indicators=[NEW, {**NEW, "title": "Other"}])
    assert (
        "SAFER-P4-S7",
        "code",
        "SAFER-P4-S7 is already given to another new one: every indicator has its own code",
    ) in problems


def test_a_publication_lists_what_it_changes() -> None:
    planned = plan(
        changes={"SAFER-P4-S1": {"title": "Repairs on time", "amber_tolerance": "3"}},
        new_indicators=[NEW],
        targets={"SAFER-P4-S1": {"FY2025-26": "95", "FY2024-25": "100"}},
    )
    assert planned.applies_from.code == "FY2025-26-Q1"
    assert [(c.field, c.old, c.new) for c in planned.changes] == [
        ("title", "% of Category 1 defects repaired on time", "Repairs on time"),
        ("amber_tolerance", D(5), D(3)),
    ]
    assert planned.added == ("SAFER-P4-S7",)
    # FY2024-25 is already 100: only the new year is a change.
    assert [(t.code, t.year, t.old, t.new) for t in planned.targets] == [
        ("SAFER-P4-S1", "FY2025-26", None, D(95))
    ]
    assert [s.code for s in planned.specs] == ["SAFER-P4-S1", "SAFER-P4-S7"]


@pytest.mark.parametrize(
    ("targets", "field", "message"),
    [
        ({"FY2025-26": "101"}, "target FY2025-26", "101 is above the highest valid value 100"),
        ({"FY2025-26": "-1"}, "target FY2025-26", "-1 is below the lowest valid value 0"),
        ({"FY2025-26": "high"}, "target FY2025-26", "'high' is not a number"),
        ({"2025-26": "90"}, "target", "'2025-26' is not a financial year"),
        ({"FY2025-26-Q2": "90"}, "target", "FY2025-26-Q2 is a quarter: targets are yearly"),
        ({"FY2024-25": "90"}, "target FY2024-25", "2024/25 starts before 2025/26 Q1"),
    ],
)
def test_a_bad_target_is_named_by_its_year(
    targets: dict[str, str], field: str, message: str
) -> None:
    problems = refusal(targets={"SAFER-P4-S1": targets})
    assert [(i, f) for i, f, _ in problems] == [("SAFER-P4-S1", field)]
    assert message in problems[0][2]


def test_a_target_held_must_still_fit_a_narrower_range() -> None:
    problems = refusal(changes={"SAFER-P4-S1": {"max_value": "90"}})
    assert problems == [
        (
            "SAFER-P4-S1",
            "target FY2024-25",
            "the target held no longer fits: 100 is above the highest valid value 90",
        )
    ]


def test_an_imported_pack_may_set_any_year() -> None:
    planned = plan(
        targets={"SAFER-P4-S1": {"FY2024-25": "90"}},
        guard_past_targets=False,
        note=None,
        require_note=False,
    )
    assert [(t.year, t.old, t.new) for t in planned.targets] == [("FY2024-25", D(100), D(90))]


def test_a_problem_reads_as_indicator_field_message() -> None:
    assert (
        str(FieldProblem("SAFER-P4-S1", "decimals", "too many")) == "SAFER-P4-S1 decimals: too many"
    )
    assert str(FieldProblem(None, "note", "say why")) == "note: say why"
