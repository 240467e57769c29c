"""Services and context measures, from the Definitions place, as a coordinator would (issue 18)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from test_definitions_page import close, open_window

from skp_desktop.services import audit
from skp_desktop.services.partnership import context_figures, list_organisations
from skp_desktop.services.returns import get_return
from skp_desktop.ui.dialogs import dialogs
from skp_desktop.ui.main_window import MainWindow
from skp_desktop.ui.partnership_panel import PartnershipPanel, ServicesModel

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, database_file: Path) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    win = open_window(qtbot, database_file)
    yield win
    close(qtbot, win)


def _panel(qtbot, win: MainWindow) -> PartnershipPanel:  # type: ignore[no-untyped-def]
    page = win.definitions_page
    qtbot.mouseClick(page.partnership_button, Qt.MouseButton.LeftButton)
    panel = page.partnership
    assert panel is not None and panel.isVisible()
    qtbot.waitUntil(lambda: panel.model.rowCount() > 0 and panel.organisation.count() == 5)
    return panel


def _settle(qtbot, panel: PartnershipPanel, words: str) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: words in panel.message.text() and not panel.busy, timeout=15000)
    qtbot.waitUntil(lambda: not panel.desk.worker.busy, timeout=15000)


def test_the_coordinator_adds_renames_and_retires_a_service(
    qtbot, window: MainWindow, qtmodeltester, monkeypatch: pytest.MonkeyPatch
) -> None:
    panel = _panel(qtbot, window)
    qtmodeltester.check(panel.model)
    organisations = [panel.model.rows[r][0] for r in range(panel.model.rowCount())]
    assert "London Fire Brigade" in organisations  # listed with no service yet
    panel.organisation.setCurrentIndex(panel.organisation.findData("LFB"))
    qtbot.keyClicks(panel.code, "lfb-kingston")
    qtbot.keyClicks(panel.name, "Kingston fire station")
    qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    _settle(qtbot, panel, "Added LFB-KINGSTON")
    qtbot.waitUntil(
        lambda: panel.selected() is not None and panel.selected().code == "LFB-KINGSTON"
    )
    monkeypatch.setattr(dialogs, "ask_text", lambda *_a: "LFB Kingston")
    qtbot.mouseClick(panel.rename_button, Qt.MouseButton.LeftButton)
    _settle(qtbot, panel, "Renamed LFB-KINGSTON")
    monkeypatch.setattr(dialogs, "ask_text", lambda *_a: "FY2026-27-Q1")
    qtbot.mouseClick(panel.retire_button, Qt.MouseButton.LeftButton)
    _settle(qtbot, panel, "retired from FY2026-27-Q1")
    db = window.database
    lfb = next(o for o in list_organisations(db) if o.code == "LFB")
    assert [(s.code, s.name, s.retired_from) for s in lfb.services] == [
        ("LFB-KINGSTON", "LFB Kingston", "FY2026-27-Q1")
    ]
    row = panel.model.row_of("LFB-KINGSTON")
    assert row is not None and panel.model.index(row, 3).data() == "FY2026-27-Q1"
    # a refusal is said on the panel, and nothing is written
    qtbot.keyClicks(panel.code, "HIGHWAYS")
    qtbot.keyClicks(panel.name, "Roads")
    qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    _settle(qtbot, panel, "already a service HIGHWAYS")
    assert audit.verify(db).ok
    panel.close()


def test_the_coordinator_lays_out_a_form_and_records_a_context_figure(
    qtbot, window: MainWindow
) -> None:
    panel = _panel(qtbot, window)
    panel.select("HIGHWAYS")
    qtbot.waitUntil(lambda: '"sections"' in panel.form_text.toPlainText(), timeout=15000)
    form = json.loads(panel.form_text.toPlainText())
    form["sections"][0]["indicators"].reverse()
    first = form["sections"][0]["indicators"][0]["code"]
    panel.form_text.setPlainText(json.dumps(form))
    qtbot.mouseClick(panel.save_form_button, Qt.MouseButton.LeftButton)
    _settle(qtbot, panel, "Saved the return form of Highways")
    assert get_return(window.database, "HIGHWAYS", "FY2024-25-Q4").rows[0].code == first
    panel.form_text.setPlainText("{not json")
    qtbot.mouseClick(panel.save_form_button, Qt.MouseButton.LeftButton)
    assert "not valid JSON" in panel.message.text()

    panel.tabs.setCurrentIndex(1)
    panel.measure.setCurrentIndex(panel.measure.findData("CTX-ASB"))
    qtbot.keyClicks(panel.period, "FY2025-26-Q4")
    qtbot.keyClicks(panel.value, "19.1")
    qtbot.keyClicks(panel.source, "MPS data")
    qtbot.mouseClick(panel.record_button, Qt.MouseButton.LeftButton)
    _settle(qtbot, panel, "Recorded CTX-ASB for FY2025-26-Q4: 19.1")
    qtbot.waitUntil(lambda: "CTX-ASB: 2025/26 Q4 19.1" in panel.figures.text(), timeout=15000)
    (figure,) = context_figures(window.database)["CTX-ASB"]
    assert (str(figure.value), figure.source) == ("19.1", "MPS data")
    assert audit.verify(window.database).ok
    panel.close()


def test_the_services_model_shows_an_organisation_without_services(qtmodeltester) -> None:
    from skp_desktop.services.partnership import OrganisationInfo

    model = ServicesModel()
    model.load([OrganisationInfo("PS", "Probation Service", ())])
    qtmodeltester.check(model)
    assert model.index(0, 2).data() == "no service yet: add one below"
    assert model.service_at(0) is None
