"""The return form as the coordinator edits it (issue 18), without Qt."""

from __future__ import annotations

import pytest

from skp_desktop.domain.errors import ValidationError
from skp_desktop.services import audit
from skp_desktop.services.form_editing import DraftItem, DraftSection, FormDraft
from skp_desktop.services.forms import FormItem, FormLayout
from skp_desktop.services.partnership import form_choices, service_form, set_service_form
from skp_desktop.services.returns import get_return


def _draft() -> FormDraft:
    return FormDraft.from_layout(
        FormLayout(
            "X",
            "X return",
            None,
            (
                FormItem("A1", "Alpha", "help a1"),
                FormItem("A2", "Alpha", None),
                FormItem("B1", "Beta", "help b1"),
            ),
        )
    )


def _shape(draft: FormDraft) -> list[tuple[str, list[str]]]:
    return [(s.title, [i.code for i in s.items]) for s in draft.sections]


def test_a_layout_becomes_sections_in_order_with_their_help() -> None:
    draft = _draft()
    assert _shape(draft) == [("Alpha", ["A1", "A2"]), ("Beta", ["B1"])]
    assert draft.item("A1") == DraftItem("A1", "help a1")
    assert draft.item("A2") == DraftItem("A2", "")
    assert draft.problems({"A1", "A2", "B1"}) == []


def test_moving_up_and_down_crosses_into_the_next_section_at_the_edges() -> None:
    draft = _draft()
    assert _shape(draft.move_indicator("A2", -1))[0] == ("Alpha", ["A2", "A1"])
    down = draft.move_indicator("A2", +1)
    assert _shape(down) == [("Alpha", ["A1"]), ("Beta", ["A2", "B1"])]
    assert _shape(down.move_indicator("A2", -1)) == _shape(draft)
    assert draft.move_indicator("A1", -1) is draft  # already first: nothing moves
    assert draft.move_indicator("B1", +1) is draft
    moved = draft.move_to_section("A1", 1)
    assert _shape(moved) == [("Alpha", ["A2"]), ("Beta", ["B1", "A1"])]
    assert moved.item("A1") == DraftItem("A1", "help a1")  # the help goes with it


def test_sections_are_added_renamed_moved_and_removed() -> None:
    draft = _draft().add_section("  Gamma ").add_indicator(2, "C1", "new")
    assert _shape(draft)[2] == ("Gamma", ["C1"])
    draft = draft.rename_section(0, "First").move_section(2, -1)
    assert [s.title for s in draft.sections] == ["First", "Gamma", "Beta"]
    removed = draft.remove_section(0)
    assert removed.codes() == ["C1", "B1"]
    assert removed.missing(["A1", "A2", "B1", "C1"]) == ["A1", "A2"]
    assert draft.remove_indicator("C1").codes() == ["A1", "A2", "B1"]


def test_the_problems_name_what_to_fix() -> None:
    draft = _draft().add_indicator(1, "A1").add_section("alpha").rename_section(1, "")
    said = draft.problems({"A1", "A2", "B1"})
    assert "A1 is on the form twice (in Alpha and in section 2): remove one." in said
    assert "Section 2 has no title: rename it." in said
    assert any(s.startswith("Section 3 (alpha) has the same title as section 1") for s in said)
    assert "Section 3 (alpha) has no indicator: add one or remove the section." in said
    assert "ZZ is not one of this service's indicators." in _draft().add_indicator(
        0, "ZZ"
    ).problems({"A1", "A2", "B1"})
    assert FormDraft("t", "", ()).problems() == [
        "The form has no section: add one, then put indicators in it."
    ]
    long_help = _draft().with_help("A1", "x" * 4001)
    assert long_help.problems() == ["A1's help is longer than 4000 characters."]


def test_the_data_is_what_the_form_file_holds() -> None:
    draft = _draft().with_title(" T ").with_intro("").with_help("B1", "  ")
    assert draft.data() == {
        "title": "T",
        "intro": None,
        "sections": [
            {
                "title": "Alpha",
                "indicators": [
                    {"code": "A1", "help": "help a1"},
                    {"code": "A2", "help": None},
                ],
            },
            {"title": "Beta", "indicators": [{"code": "B1", "help": None}]},
        ],
    }


def test_an_edited_draft_saves_and_the_return_follows_it(db) -> None:  # type: ignore[no-untyped-def]
    choices = form_choices(db, "HIGHWAYS")
    assert not choices.custom and list(choices.indicators)
    draft = FormDraft.from_layout(choices.layout)
    last = draft.codes()[-1]
    draft = draft.add_section("Checked first", at=0)
    draft = draft.move_to_section(last, 0).with_help(last, "Count the potholes fixed.")
    draft = draft.move_section(0, 1).move_section(1, -1)  # back to the top
    emptied = len(draft.sections) - 1
    assert draft.problems(choices.indicators) == [
        f"Section {emptied + 1} ({draft.sections[emptied].title}) has no indicator: "
        "add one or remove the section."
    ]
    draft = draft.remove_section(emptied)
    assert draft.problems(choices.indicators) == []
    set_service_form(db, code="HIGHWAYS", form=draft.data(), actor="coordinator")
    assert form_choices(db, "HIGHWAYS").custom
    row = get_return(db, "HIGHWAYS", "FY2024-25-Q4").rows[0]
    assert (row.code, row.help, row.section) == (last, "Count the potholes fixed.", "Checked first")
    assert FormDraft.from_layout(service_form(db, "HIGHWAYS")) == draft
    assert audit.verify(db).ok


def test_a_draft_with_a_problem_is_refused_by_the_service_too(db) -> None:  # type: ignore[no-untyped-def]
    draft = FormDraft.from_layout(form_choices(db, "HIGHWAYS").layout)
    twice = draft.add_indicator(0, draft.codes()[0])
    with pytest.raises(ValidationError, match="on the form twice"):
        set_service_form(db, code="HIGHWAYS", form=twice.data(), actor="coordinator")
    assert not form_choices(db, "HIGHWAYS").custom
    assert DraftSection("S").items == ()
