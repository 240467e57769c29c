"""A service the coordinator adds reaches a new laptop through the definitions pack, is filled
in there, comes back as a return file, and is merged (issue 18)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from exchange_support import do_import, open_copy

from skp_desktop.services import audit, exchange, review
from skp_desktop.services.definitions import (
    Publication,
    export_definitions_pack,
    import_definitions_pack,
    publish_definitions,
)
from skp_desktop.services.merge import merge_export
from skp_desktop.services.partnership import (
    add_service,
    list_organisations,
    rename_service,
    service_form,
    set_service_form,
)
from skp_desktop.services.returns import EntryChange, get_return, record_entries, submit_return

FIRE = "LFB-KINGSTON"
VISITS = "SKP-D1-LFB1"  # made by the coordinator in this test: the catalogue invents none
PERIOD = "FY2025-26-Q1"


def _coordinator_adds_the_fire_brigade(tmp_path: Path, template_database: Path):
    coordinator = open_copy(template_database, tmp_path / "coordinator" / "skp.sqlite3")
    add_service(
        coordinator, code=FIRE, name="Kingston fire station", organisation="LFB", actor="cora"
    )
    publish_definitions(
        coordinator,
        Publication(
            applies_from=PERIOD,
            note="The fire brigade joins the returns",
            new_indicators=[
                {
                    "code": VISITS,
                    "theme": "SKP-D1",
                    "service": FIRE,
                    "title": "Home fire safety visits made",
                    "unit": "count",
                    "polarity": "higher is better",
                    "frequency": "quarterly",
                }
            ],
        ),
        actor="cora",
    )
    set_service_form(
        coordinator,
        code=FIRE,
        form={
            "title": "LFB Kingston return",
            "intro": "Figures for Kingston's station ground.",
            "sections": [
                {
                    "title": "Prevention",
                    "indicators": [{"code": VISITS, "help": "Visits completed this quarter."}],
                }
            ],
        },
        actor="cora",
    )
    return coordinator


def test_a_service_added_by_the_coordinator_is_filled_on_a_new_laptop_and_merged(
    tmp_path: Path, template_database: Path
) -> None:
    coordinator = _coordinator_adds_the_fire_brigade(tmp_path, template_database)
    pack = export_definitions_pack(coordinator, tmp_path / "pack.xlsx", actor="cora").path

    laptop = open_copy(template_database, tmp_path / "laptop" / "skp.sqlite3")
    try:
        imported = import_definitions_pack(laptop, pack, actor="fiona")
        assert imported.status == "IMPORTED", imported.reason
        lfb = next(o for o in list_organisations(laptop) if o.code == "LFB")
        assert [s.code for s in lfb.services] == [FIRE]
        form = service_form(laptop, FIRE)
        assert (form.title, form.items[0].help) == (
            "LFB Kingston return",
            "Visits completed this quarter.",
        )
        view = get_return(laptop, FIRE, PERIOD)
        assert [(r.indicator.code, r.section) for r in view.rows] == [(VISITS, "Prevention")]

        record_entries(
            laptop,
            service=FIRE,
            period=PERIOD,
            changes=[EntryChange(VISITS, {"value": "42", "commentary": "A busy quarter."})],
            actor="fiona",
        )
        submit_return(laptop, service=FIRE, period=PERIOD, actor="fiona")
        sent = tmp_path / "lfb.xlsx"
        exchange.export_return(laptop, service=FIRE, period=PERIOD, out=sent, actor="fiona")
        assert audit.verify(laptop).ok
    finally:
        laptop.dispose()

    (outcome,) = do_import(coordinator, sent)
    assert outcome.status == "ACCEPTED", outcome.reason
    review.accept_return(coordinator, service=FIRE, period=PERIOD, actor="cora")
    merged = merge_export(coordinator, out=tmp_path / "merged.xlsx", first=PERIOD, last=PERIOD)
    data = openpyxl.load_workbook(merged.path)["Data"]
    rows = [[c.value for c in row] for row in data.iter_rows()]
    assert any(FIRE in row and VISITS in row and 42 in row for row in rows), rows
    assert audit.verify(coordinator).ok
    coordinator.dispose()


def test_a_renamed_service_and_a_new_form_travel_in_a_pack_of_the_same_version(
    tmp_path: Path, template_database: Path
) -> None:
    coordinator = _coordinator_adds_the_fire_brigade(tmp_path, template_database)
    first = export_definitions_pack(coordinator, tmp_path / "v2.xlsx", actor="cora").path
    laptop = open_copy(template_database, tmp_path / "laptop" / "skp.sqlite3")
    try:
        assert import_definitions_pack(laptop, first, actor="fiona").status == "IMPORTED"
        rename_service(coordinator, code=FIRE, name="LFB Kingston", actor="cora")
        set_service_form(coordinator, code=FIRE, form=None, actor="cora")
        again = export_definitions_pack(coordinator, tmp_path / "v2b.xlsx", actor="cora").path
        result = import_definitions_pack(laptop, again, actor="fiona")
        assert result.status == "UP TO DATE"
        assert "1 service renamed" in (result.reason or "")
        lfb = next(o for o in list_organisations(laptop) if o.code == "LFB")
        assert lfb.services[0].name == "LFB Kingston"
        assert service_form(laptop, FIRE).title == "LFB Kingston return"  # theme sections now
        assert audit.verify(laptop).ok
        # nothing changes the second time
        assert import_definitions_pack(laptop, again, actor="fiona").reason == (
            "definitions version 2 is already held"
        )
    finally:
        laptop.dispose()
        coordinator.dispose()


def test_a_pack_whose_service_belongs_to_no_known_organisation_is_refused_whole(
    tmp_path: Path, template_database: Path
) -> None:
    from dataclasses import replace
    from datetime import UTC, datetime

    from skp_desktop.excel.definitions_pack import read_definitions_pack, write_definitions_pack
    from skp_desktop.excel.pack_services import PackService
    from skp_desktop.services.trust import installation_key

    coordinator = _coordinator_adds_the_fire_brigade(tmp_path, template_database)
    good = export_definitions_pack(coordinator, tmp_path / "good.xlsx", actor="cora").path
    coordinator.dispose()
    pack = read_definitions_pack(Path(good).read_bytes(), file_name="good.xlsx").pack
    odd = replace(pack, services=(*pack.services, PackService("X-1", "X", "NOPE")))
    write_definitions_pack(
        odd,
        tmp_path / "odd.xlsx",
        applies_from_label=PERIOD,
        exported_at=datetime.now(UTC).replace(microsecond=0),
        exported_by="cora",
        app_version="test",
        signer=installation_key().signer,  # signed as the coordinator's: judged on its cells
    )
    laptop = open_copy(template_database, tmp_path / "laptop" / "skp.sqlite3")
    try:
        result = import_definitions_pack(laptop, tmp_path / "odd.xlsx", actor="fiona")
        assert result.status == "REFUSED"
        assert any("no organisation 'NOPE'" in p for p in result.problems), result.problems
        assert [o.services for o in list_organisations(laptop) if o.code == "LFB"] == [()]
    finally:
        laptop.dispose()
