"""The definitions editor's unpublished draft: what the coordinator sees while editing."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from skp_desktop.domain.definition_edits import IndicatorSpec
from skp_desktop.domain.definitions import Frequency, Level, Polarity, Unit
from skp_desktop.services.database import Database
from skp_desktop.services.definitions import (
    DefinitionsState,
    VersionInfo,
    definitions_in_force,
    definitions_state,
    publish_definitions,
)
from skp_desktop.services.definitions_draft import DefinitionsDraft

D = Decimal
REPAIRS = "SAFER-P4-S1"
VICTIMS = "SAFER-P4-S2"
TITLE = "% of Category 1 defects repaired on time"
FROM = "FY2025-26-Q1"


def spec(**overrides: Any) -> IndicatorSpec:
    values: dict[str, Any] = {
        "code": REPAIRS,
        "kind": "indicator",
        "theme": "SAFER-P4",
        "service": "HIGHWAYS",
        "title": TITLE,
        "level": Level.SERVICE,
        "unit": Unit.PERCENT,
        "polarity": Polarity.HIGHER_IS_BETTER,
        "frequency": Frequency.QUARTERLY,
        "decimals": 1,
        "amber_tolerance": D(5),
    }
    values.update(overrides)
    return IndicatorSpec(**values)


def state() -> DefinitionsState:
    version = VersionInfo(
        number=1,
        applies_from="FY2024-25-Q1",
        applies_from_label="2024/25 Q1 (Apr–Jun 2024)",
        published_at=datetime(2024, 4, 1, tzinfo=UTC),
        published_by="coordinator",
        note=None,
    )
    return DefinitionsState(
        latest=version,
        versions=(version,),
        indicators=(
            spec(),
            spec(code=VICTIMS, title="Repeat victims", unit=Unit.COUNT, decimals=0),
        ),
        targets={REPAIRS: {"FY2024-25": D(100)}},
        services=(("HIGHWAYS", "Highways"), ("PARKS", "Parks")),
        themes=(("SAFER-P4", "Safer roads"),),
    )


@pytest.fixture
def draft() -> DefinitionsDraft:
    made = DefinitionsDraft()
    made.applies_from = FROM
    made.note = "new measures for 2025/26"
    made.load(state())
    return made


def test_nothing_to_publish_until_something_changes(draft: DefinitionsDraft) -> None:
    assert not draft.dirty and not draft.can_publish
    assert draft.summary() == "No changes yet: edit an indicator, or add one."
    assert draft.status(REPAIRS) == ""


def test_a_changed_field_is_pending_and_publishable(draft: DefinitionsDraft) -> None:
    draft.set_field(REPAIRS, "title", "Defects made safe within 24 hours")
    assert draft.dirty and draft.pending(REPAIRS) and not draft.pending(VICTIMS)
    assert draft.status(REPAIRS) == "changed"
    assert draft.values(REPAIRS)["title"] == "Defects made safe within 24 hours"
    assert draft.can_publish
    assert draft.summary() == (
        "Ready to publish version 2 from 2025/26 Q1 (Apr–Jun 2025): 1 change to 1 indicator."
    )
    publication = draft.publication()
    assert publication.changes == {REPAIRS: {"title": "Defects made safe within 24 hours"}}
    assert publication.applies_from == FROM and publication.note == "new measures for 2025/26"


def test_typing_the_published_value_back_leaves_nothing_pending(draft: DefinitionsDraft) -> None:
    draft.set_field(REPAIRS, "amber_tolerance", "3")
    draft.set_field(REPAIRS, "amber_tolerance", "5.0")  # the same number as published
    assert not draft.pending(REPAIRS) and not draft.dirty and not draft.can_publish


def test_a_bad_value_is_named_with_its_field_and_blocks_publishing(
    draft: DefinitionsDraft,
) -> None:
    draft.set_field(REPAIRS, "decimals", "9")
    assert draft.field_problems(REPAIRS) == {
        "decimals": "9 decimal places is out of range: use a whole number from 0 to 6"
    }
    assert draft.field_problems(VICTIMS) == {}
    assert not draft.can_publish and draft.plan is None
    assert draft.summary().startswith("✗ 1 problem to put right before publishing")
    draft.set_field(REPAIRS, "decimals", "2")
    assert draft.field_problems(REPAIRS) == {} and draft.can_publish


def test_fields_that_do_not_fit_together_are_shown_on_the_field(
    draft: DefinitionsDraft,
) -> None:
    draft.set_field(VICTIMS, "decimals", "1")  # a count is whole
    assert draft.field_problems(VICTIMS) == {
        "decimals": "a count is a whole number: decimals must be 0"
    }


def test_the_identity_of_a_published_indicator_cannot_be_set(draft: DefinitionsDraft) -> None:
    with pytest.raises(ValueError, match="code of a published indicator"):
        draft.set_field(REPAIRS, "code", "SAFER-P4-S9")
    # the form gives every field: the identity ones are not kept as changes
    draft.set_fields(REPAIRS, {**draft.values(REPAIRS), "code": "SAFER-P4-S9"})
    assert not draft.pending(REPAIRS)


def test_a_note_is_needed_before_publishing(draft: DefinitionsDraft) -> None:
    draft.set_note("")
    draft.set_field(REPAIRS, "title", "Defects made safe")
    assert not draft.can_publish
    assert draft.summary() == "Write a note saying why the definitions change."
    assert "note" in draft.publication_problems()


def test_an_applies_from_before_the_newest_version_is_named(draft: DefinitionsDraft) -> None:
    draft.set_applies_from("FY2023-24-Q4")
    assert draft.publication_problems()["applies_from"].startswith(
        "2023/24 Q4 (Jan–Mar 2024) is earlier than 2024/25 Q1"
    )


def test_a_target_for_a_year(draft: DefinitionsDraft) -> None:
    year = draft.add_target_year(REPAIRS)
    assert year == "FY2025-26"  # the first year from the applies-from period without a row
    assert draft.target_years(REPAIRS) == ["FY2024-25", "FY2025-26"]
    assert not draft.dirty  # an empty row is not a change
    draft.set_target(REPAIRS, year, "95")
    assert draft.target_text(REPAIRS, year) == "95"
    assert draft.target_text(REPAIRS, "FY2024-25") == "100"  # as published
    assert draft.publication().targets == {REPAIRS: {"FY2025-26": "95"}}
    assert draft.summary().endswith(": 1 target.")
    assert draft.can_publish


def test_a_target_out_of_range_is_named_with_its_year(draft: DefinitionsDraft) -> None:
    draft.set_target(REPAIRS, "FY2025-26", "120")
    [problem] = draft.target_problems(REPAIRS)
    assert problem.field == "target FY2025-26"
    assert problem.message == "120 is above the highest valid value 100"
    assert not draft.can_publish


def test_a_target_for_a_year_already_under_way_is_refused(draft: DefinitionsDraft) -> None:
    draft.set_applies_from("FY2025-26-Q2")
    draft.set_target(REPAIRS, "FY2025-26", "95")
    [problem] = draft.target_problems(REPAIRS)
    assert "a yearly target covers the whole year" in problem.message


def test_clearing_a_published_target_removes_it(draft: DefinitionsDraft) -> None:
    draft.set_applies_from("FY2024-25-Q1")
    draft.clear_target(REPAIRS, "FY2024-25")
    assert draft.publication().targets == {REPAIRS: {"FY2024-25": ""}}
    assert draft.plan is not None
    [change] = draft.plan.targets
    assert (change.old, change.new) == (D(100), None)


def test_a_new_indicator_takes_the_service_and_theme_of_the_one_shown(
    draft: DefinitionsDraft,
) -> None:
    key = draft.add_indicator(like=REPAIRS)
    assert draft.is_new(key) and draft.status(key) == "new" and draft.dirty
    assert draft.keys[-1] == key
    assert draft.values(key)["service"] == "HIGHWAYS"
    # it has no code or title yet: both are named, under "new indicator 1"
    assert set(draft.field_problems(key)) == {"code", "title"}
    draft.set_fields(key, {"code": "safer-p4-s7", "title": "Potholes filled"})
    assert draft.field_problems(key) == {}
    assert draft.code_of(key) == "SAFER-P4-S7"
    assert draft.summary().endswith(": 1 new indicator.")


def test_a_new_indicator_may_not_take_a_code_in_use(draft: DefinitionsDraft) -> None:
    key = draft.add_indicator()
    draft.set_fields(key, {"code": REPAIRS, "title": "Again"})
    assert draft.field_problems(key)["code"].startswith("SAFER-P4-S1 is already an indicator")


def test_reverting_an_indicator_drops_its_changes_or_the_new_one(
    draft: DefinitionsDraft,
) -> None:
    draft.set_field(REPAIRS, "title", "Defects made safe")
    draft.set_target(REPAIRS, "FY2025-26", "95")
    key = draft.add_indicator()
    draft.revert(REPAIRS)
    assert not draft.pending(REPAIRS) and draft.values(REPAIRS)["title"] == TITLE
    draft.revert(key)
    assert key not in draft.keys and not draft.dirty


def test_discarding_restores_the_published_values(draft: DefinitionsDraft) -> None:
    draft.set_field(REPAIRS, "title", "Defects made safe")
    draft.set_field(VICTIMS, "decimals", "3")
    draft.set_target(REPAIRS, "FY2025-26", "95")
    draft.add_indicator()
    draft.discard()
    assert not draft.dirty and draft.summary() == ""
    assert draft.problems_of(VICTIMS) == [] and draft.note == ""  # the note goes too
    assert draft.keys == (REPAIRS, VICTIMS)
    assert draft.values(REPAIRS)["title"] == TITLE
    assert draft.values(VICTIMS)["decimals"] == 0
    assert draft.target_years(REPAIRS) == ["FY2024-25"]


def test_reading_the_definitions_again_keeps_the_pending_changes(
    draft: DefinitionsDraft,
) -> None:
    draft.set_field(REPAIRS, "title", "Defects made safe")
    key = draft.add_indicator()
    draft.load(state())
    assert draft.pending(REPAIRS) and draft.keys == (REPAIRS, VICTIMS, key)


def test_the_draft_publishes_through_the_service(db: Database) -> None:
    draft = DefinitionsDraft()
    draft.applies_from = FROM
    draft.load(definitions_state(db))
    draft.set_note("a 2025/26 target")
    draft.set_field(REPAIRS, "amber_tolerance", "3")
    draft.set_target(REPAIRS, "FY2025-26", "97")
    assert draft.can_publish
    publish_definitions(db, draft.publication(), actor="coordinator")
    shown = definitions_in_force(db, "FY2025-26-Q3").indicator(REPAIRS)
    assert shown.target == 97
