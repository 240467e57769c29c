"""The window on the shared database as a service manager: it says who the server says she is,
and when she presses Accept on her own return the server's refusal is shown in words."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from postgres_server import PostgresServer
from sqlalchemy import make_url
from window_idle import close_window

from skp_desktop.services.database import open_database
from skp_desktop.services.entries import EntryChange
from skp_desktop.services.returns import get_return, record_entries, submit_return
from skp_desktop.ui.dialogs import dialogs
from skp_desktop.ui.main_window import PLACES, MainWindow
from skp_desktop.ui.settings import Settings

pytestmark = [pytest.mark.gui, pytest.mark.postgresql]

TODAY = date(2024, 11, 20)
Q1 = "FY2024-25-Q1"
HANA = "gui_rules_hana"


@pytest.fixture
def hana_url(postgres_server: PostgresServer, postgres_url: str) -> str:
    """Hana manages Community Safety, whose Q1 return she submitted."""
    name = make_url(postgres_url).database or ""
    with postgres_server.connect() as admin:
        if not admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [HANA]).fetchone():
            admin.execute(f"CREATE ROLE {HANA} LOGIN IN ROLE skp_service_manager")
    with postgres_server.connect(name) as admin:
        admin.execute("INSERT INTO service_roles VALUES ('COMMSAFETY', %s)", [HANA])
        admin.execute("INSERT INTO skp_people VALUES (%s, 'Hana Patel')", [HANA])
    url = postgres_server.url(name, user=HANA)
    db = open_database(url)
    try:
        changes = [
            EntryChange("SAFER-P3-S1", {"numerator": "12", "denominator": "80"}),
            EntryChange("SAFER-P3-S2", {"value": "40"}),
        ]
        record_entries(db, service="COMMSAFETY", period=Q1, changes=changes, actor="x")
        submit_return(db, service="COMMSAFETY", period=Q1, actor="x")
    finally:
        db.dispose()
    return url


@pytest.fixture
def window(qtbot, hana_url: str) -> Iterator[MainWindow]:
    win = MainWindow(hana_url, settings=Settings(), today=TODAY)
    win.show()
    win.start()
    qtbot.waitUntil(lambda: win.database is not None, timeout=20000)
    yield win
    close_window(qtbot, win)


def test_the_window_names_the_login_and_shows_the_servers_refusal(
    qtbot, window: MainWindow, hana_url: str, shown_dialogs, monkeypatch: pytest.MonkeyPatch
) -> None:
    qtbot.waitUntil(lambda: "you act as" in window.status_db.text(), timeout=20000)
    assert window.status_db.text().endswith(f" · you act as Hana Patel ({HANA})")

    window.places.setCurrentRow(PLACES.index("Completeness"))
    page = window.completeness_page
    qtbot.waitUntil(lambda: page.report is not None, timeout=20000)
    monkeypatch.setattr(dialogs, "confirm", lambda *_a: True)
    report = page.report
    row = [s.code for s in report.services].index("COMMSAFETY")
    column = 1 + [p.code for p in report.periods].index(Q1)
    page.matrix.setCurrentIndex(page.proxy.mapFromSource(page.model.index(row, column)))
    assert page.accept_button.isEnabled()  # the window does not know roles: the server does
    page.accept_button.click()

    qtbot.waitUntil(lambda: bool(shown_dialogs), timeout=20000)
    ((kind, text),) = shown_dialogs
    assert kind == "error"
    assert "The shared database refused this (its rule “who may record what”)" in text
    assert f"{HANA} is a service manager and may not record 'return.accept'" in text
    db = open_database(hana_url)
    try:
        assert get_return(db, "COMMSAFETY", Q1).state == "submitted"
    finally:
        db.dispose()
