"""The whole partnership: organisations, services the coordinator manages, their forms, and
context figures, each audited and replayed by verify."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import select, text

from skp_desktop.domain.errors import NotFoundError, ValidationError
from skp_desktop.services import audit
from skp_desktop.services.catalogue import list_services
from skp_desktop.services.completeness import completeness
from skp_desktop.services.database import Database
from skp_desktop.services.partnership import (
    add_service,
    context_figures,
    list_organisations,
    rename_service,
    retire_service,
    service_form,
    set_context_figure,
    set_service_form,
)
from skp_desktop.services.returns import get_return
from skp_desktop.store.models import AuditEvent

Q1, Q2, Q3 = "FY2024-25-Q1", "FY2024-25-Q2", "FY2024-25-Q3"


def _actions(db: Database) -> list[tuple[str, str | None, str | None]]:
    with db.reading() as session:
        rows = session.execute(
            select(AuditEvent.action, AuditEvent.service, AuditEvent.new)
            .where(AuditEvent.action.like("service.%") | (AuditEvent.action == "context.set"))
            .order_by(AuditEvent.id)
        ).all()
    return [tuple(row) for row in rows]


@pytest.mark.both_engines
def test_all_five_organisations_are_listed_and_a_service_added_to_one_is_audited(
    db: Database,
) -> None:
    before = list_organisations(db)
    assert [o.code for o in before] == ["RBK", "MPS", "LFB", "PS", "ICB"]
    assert [o.services for o in before if o.code in ("LFB", "PS", "ICB")] == [(), (), ()]
    added = add_service(
        db, code="lfb-kingston", name="  Kingston  fire station ", organisation="lfb", actor="cora"
    )
    assert (added.code, added.name, added.organisation) == (
        "LFB-KINGSTON",
        "Kingston fire station",
        "LFB",
    )
    rename_service(db, code="LFB-KINGSTON", name="LFB Kingston", actor="cora")
    retire_service(db, code="LFB-KINGSTON", retired_from="FY2026-27-Q1", actor="cora")
    lfb = next(o for o in list_organisations(db) if o.code == "LFB")
    assert [(s.code, s.name, s.retired_from) for s in lfb.services] == [
        ("LFB-KINGSTON", "LFB Kingston", "FY2026-27-Q1")
    ]
    assert "LFB-KINGSTON" in [s.code for s in list_services(db)]  # services keeps its shape
    assert [(a, s, json.loads(n)) for a, s, n in _actions(db)] == [
        ("service.add", "LFB-KINGSTON", {"name": "Kingston fire station", "organisation": "LFB"}),
        ("service.rename", "LFB-KINGSTON", {"name": "LFB Kingston"}),
        ("service.retire", "LFB-KINGSTON", {"retired_from": "FY2026-27-Q1"}),
    ]
    assert audit.verify(db).ok


def test_bad_service_changes_are_refused_and_nothing_is_written(db: Database) -> None:
    with pytest.raises(NotFoundError, match="Known organisations: RBK, MPS, LFB, PS, ICB"):
        add_service(db, code="X-1", name="X", organisation="FIRE", actor="cora")
    with pytest.raises(ValidationError, match="already a service HIGHWAYS"):
        add_service(db, code="HIGHWAYS", name="Roads", organisation="RBK", actor="cora")
    with pytest.raises(ValidationError, match="cannot be a service code"):
        add_service(db, code="no spaces", name="X", organisation="RBK", actor="cora")
    with pytest.raises(ValidationError, match="name"):
        add_service(db, code="PS-LONDON", name="  ", organisation="PS", actor="cora")
    with pytest.raises(NotFoundError, match="no service 'NOPE'"):
        rename_service(db, code="NOPE", name="X", actor="cora")
    with pytest.raises(NotFoundError, match="from a quarter"):
        retire_service(db, code="HIGHWAYS", retired_from="2024-05", actor="cora")
    assert _actions(db) == []


def test_a_retired_service_is_not_chased_after_its_retirement_but_its_history_stays(
    db: Database,
) -> None:
    retire_service(db, code="HIGHWAYS", retired_from=Q2, actor="cora")
    report = completeness(db, first=Q1, last=Q3, today=date(2026, 1, 1))
    assert [report.cell("HIGHWAYS", p).state for p in (Q1, Q2, Q3)] == [
        "missing",
        "not due",
        "not due",
    ]
    assert all(c.service.code != "HIGHWAYS" or c.period.code == Q1 for c in report.chase_list())
    retire_service(db, code="HIGHWAYS", retired_from=None, actor="cora")  # brought back
    report = completeness(db, first=Q1, last=Q3, today=date(2026, 1, 1))
    assert report.cell("HIGHWAYS", Q3).state == "missing"
    assert audit.verify(db).ok


def test_a_service_changed_outside_the_app_is_caught_by_verify(db: Database) -> None:
    add_service(db, code="PS-KINGSTON", name="Probation Kingston", organisation="PS", actor="c")
    with db.transaction() as session:
        session.execute(text("UPDATE services SET name = 'Renamed' WHERE code = 'PS-KINGSTON'"))
        session.execute(
            text("UPDATE services SET retired_from = 'FY2024-25-Q1' WHERE code = 'ASC'")
        )
        session.execute(
            text(
                "INSERT INTO services (code, name, organisation_id) "
                "SELECT 'SNEAKY', 'Sneaky', id FROM organisations WHERE code = 'ICB'"
            )
        )
    problems = audit.verify(db).problems
    assert any(
        "PS-KINGSTON's name is Renamed but its history says Probation" in p for p in problems
    )
    assert any(
        "ASC's retired from is FY2024-25-Q1 but its history says not set" in p for p in problems
    )
    assert any("service SNEAKY has no history" in p for p in problems), problems


def test_the_coordinator_lays_out_a_services_form_and_the_return_follows_it(db: Database) -> None:
    bundled = service_form(db, "HIGHWAYS")
    codes = [item.code for item in bundled.items]
    assert len(codes) >= 2
    reordered = {
        "title": "Highways return",
        "intro": "Figures for the quarter.",
        "sections": [
            {"title": "First", "indicators": [{"code": codes[-1], "help": "Count them all."}]},
            {"title": "Rest", "indicators": [{"code": c} for c in codes[:-1]]},
        ],
    }
    set_service_form(db, code="HIGHWAYS", form=reordered, actor="cora")
    view = get_return(db, "HIGHWAYS", "FY2024-25-Q4")
    assert view.rows[0].indicator.code == codes[-1]
    assert (view.rows[0].section, view.rows[0].help) == ("First", "Count them all.")
    assert view.rows[1].section == "Rest"
    assert service_form(db, "HIGHWAYS").intro == "Figures for the quarter."
    with pytest.raises(ValidationError, match="SAFER-P3-B1 is not one of HIGHWAYS's indicators"):
        set_service_form(
            db,
            code="HIGHWAYS",
            form={"sections": [{"title": "X", "indicators": [{"code": "SAFER-P3-B1"}]}]},
            actor="cora",
        )
    assert audit.verify(db).ok
    with db.transaction() as session:
        session.execute(text("UPDATE service_forms SET layout = '{}'"))
    assert any("return form of HIGHWAYS" in p for p in audit.verify(db).problems)


def test_a_form_reset_goes_back_to_the_bundled_file(db: Database) -> None:
    bundled = service_form(db, "HIGHWAYS")
    set_service_form(
        db,
        code="HIGHWAYS",
        form={"sections": [{"title": "All", "indicators": [{"code": bundled.items[0].code}]}]},
        actor="cora",
    )
    set_service_form(db, code="HIGHWAYS", form=None, actor="cora")
    assert service_form(db, "HIGHWAYS") == bundled
    assert [a for a, _, _ in _actions(db)] == ["service.form", "service.form"]
    assert audit.verify(db).ok


@pytest.mark.both_engines
def test_context_figures_are_recorded_audited_and_replayed(db: Database) -> None:
    figure = set_context_figure(
        db, code="ctx-asb", period="FY2025-26-Q4", value="19.1", actor="cora", source="MPS"
    )
    assert figure is not None and (figure.period.code, figure.value) == ("FY2025-26-Q4", D("19.1"))
    set_context_figure(db, code="CTX-ASB", period="FY2024-25", value="19.8", actor="cora")
    held = context_figures(db)["CTX-ASB"]
    assert [(f.period.code, f.value, f.source) for f in held] == [
        ("FY2024-25-Q4", D("19.8"), None),  # a year means its year-end quarter
        ("FY2025-26-Q4", D("19.1"), "MPS"),
    ]
    assert (
        set_context_figure(db, code="CTX-ASB", period="FY2024-25-Q4", value=None, actor="c") is None
    )
    assert [f.period.code for f in context_figures(db)["CTX-ASB"]] == ["FY2025-26-Q4"]
    assert [a for a, _, _ in _actions(db)] == ["context.set"] * 3
    assert audit.verify(db).ok
    with db.transaction() as session:
        session.execute(text("UPDATE context_values SET value = '1'"))
    assert any(
        "figure of CTX-ASB for FY2025-26-Q4 is 1 but its history says 19.1" in p
        for p in audit.verify(db).problems
    )


def test_a_context_figure_must_be_for_a_context_measure_in_its_range(db: Database) -> None:
    with pytest.raises(NotFoundError, match="is an indicator, not a context measure"):
        set_context_figure(db, code="SAFER-P3-B1", period="FY2025-26-Q4", value="1", actor="c")
    with pytest.raises(NotFoundError, match="year-end quarter"):
        set_context_figure(db, code="CTX-ASB", period="FY2025-26-Q2", value="1", actor="c")
    with pytest.raises(ValidationError, match="outside"):
        set_context_figure(
            db, code="CTX-NOT-BELIEVED", period="FY2025-26-Q4", value="120", actor="c"
        )
    with pytest.raises(ValidationError):
        set_context_figure(db, code="CTX-ASB", period="FY2025-26-Q4", value="lots", actor="c")
    assert context_figures(db) == {}


def test_the_history_reads_each_change_in_words(db: Database) -> None:
    from skp_desktop.services.entries import describe_change

    add_service(db, code="ICB-KINGSTON", name="Kingston place", organisation="ICB", actor="c")
    rename_service(db, code="ICB-KINGSTON", name="SWL ICB Kingston", actor="c")
    retire_service(db, code="ICB-KINGSTON", retired_from="FY2026-27", actor="c")
    code = service_form(db, "HIGHWAYS").items[0].code
    form = {"sections": [{"title": "All", "indicators": [{"code": code}]}]}
    set_service_form(db, code="HIGHWAYS", form=form, actor="c")
    set_service_form(db, code="HIGHWAYS", form=None, actor="c")
    set_context_figure(
        db, code="CTX-ASB", period="FY2025-26", value="19.1", actor="c", source="MPS"
    )
    set_context_figure(db, code="CTX-ASB", period="FY2025-26", value=None, actor="c")
    with db.reading() as session:
        events = session.execute(
            select(AuditEvent.action, AuditEvent.old, AuditEvent.new)
            .where(AuditEvent.action.like("service.%") | (AuditEvent.action == "context.set"))
            .order_by(AuditEvent.id)
        ).all()
    assert [describe_change(*event) for event in events] == [
        "Kingston place (ICB)",
        "Kingston place → SWL ICB Kingston",
        "asked for returns → retired from FY2026-27-Q1",
        "the default form → a form of 1 section, 1 indicator",
        "a form of 1 section, 1 indicator → the default form",
        "19.1 (MPS)",
        "19.1 (MPS) → no figure",
    ]
