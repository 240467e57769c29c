"""File ▸ Connect to a shared database…: the real dialog, driven as a person would, against the
tests' own PostgreSQL server (tests/postgres_server.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from postgres_server import PORT, SUPERUSER, PostgresServer
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QWidget
from sqlalchemy import make_url

from skp_desktop.services.connection import ServerAddress
from skp_desktop.ui.connection_dialog import CONNECTING, ConnectionDialog
from skp_desktop.ui.dialogs import dialogs
from skp_desktop.ui.main_window import MainWindow
from skp_desktop.ui.settings import Settings

pytestmark = pytest.mark.gui

TODAY = date(2024, 8, 10)
LOGIN, PASSWORD = "gui_hana", "Tr1cky p@ss:w/rd#%?"


@pytest.fixture
def dialog(qtbot) -> Iterator[ConnectionDialog]:
    made = ConnectionDialog(
        None, address=ServerAddress(user="hana"), choose_file=dialogs.open_database_file
    )
    qtbot.addWidget(made)
    made.show()
    yield made
    qtbot.waitUntil(lambda: not made.checking, timeout=20000)
    made.close()


def fill(dialog: ConnectionDialog, qtbot, **fields: Any) -> None:
    """Type into the fields as a person would (clearing each first)."""
    for name, value in fields.items():
        widget = getattr(dialog, name)
        if name == "port":
            widget.setValue(int(value))
        elif name == "ssl_mode":
            widget.setCurrentIndex(widget.findData(value))
        else:
            widget.clear()
            qtbot.keyClicks(widget, value)


def on_server(dialog: ConnectionDialog, qtbot, server: PostgresServer, database: str, **more: Any):  # type: ignore[no-untyped-def]
    fill(dialog, qtbot, host=server.socket_dir, port=PORT, database_name=database, **more)


def database_of(url: str) -> str:
    return make_url(url).database or ""


# --- the form --------------------------------------------------------------------------------


def test_the_fields_make_the_server_url_with_special_characters_quoted(
    qtbot, dialog: ConnectionDialog
) -> None:
    fill(
        dialog,
        qtbot,
        host="skp-db.kingston.gov.uk",
        port=6543,
        database_name="skp live",
        user="o'brien@rbk",
        password=PASSWORD,
        ssl_mode="require",
    )
    assert dialog.password.echoMode() == dialog.password.EchoMode.Password  # masked
    url = dialog.url()
    text = url.render_as_string(hide_password=False)
    assert text == (
        "postgresql+psycopg://o%27brien%40rbk:Tr1cky p%40ss%3Aw%2Frd%23%25%3F"
        "@skp-db.kingston.gov.uk:6543/skp live?sslmode=require"
    )
    back = make_url(text)  # what the driver is given reads back as typed
    assert (back.username, back.password, back.host, back.port, back.database) == (
        "o'brien@rbk",
        PASSWORD,
        "skp-db.kingston.gov.uk",
        6543,
        "skp live",
    )

    fill(dialog, qtbot, host="/run/postgresql", ssl_mode="prefer")  # a local socket's folder
    socket = dialog.url()
    assert socket.host is None and dict(socket.query) == {"host": "/run/postgresql", "port": "6543"}


def test_a_missing_field_is_named_and_nothing_is_tried(qtbot, dialog: ConnectionDialog) -> None:
    fill(dialog, qtbot, host="db.example", user="")
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    assert dialog.status.text() == "✗ Give your user name on the server."
    assert not dialog.checking and dialog.focusWidget() is dialog.user


def test_every_control_is_labelled_named_and_reached_in_order_by_keyboard(
    qtbot, dialog: ConnectionDialog
) -> None:
    fields = [
        dialog.host,
        dialog.port,
        dialog.database_name,
        dialog.user,
        dialog.password,
        dialog.ssl_mode,
    ]
    buddies = {id(label.buddy()): label.text() for label in dialog.findChildren(QLabel)}
    assert [buddies.get(id(field)) for field in fields] == [
        "&Host:",
        "P&ort:",
        "&Database:",
        "&User:",
        "&Password:",
        "&Encryption:",
    ]
    buttons = [dialog.file_button, dialog.test_button, dialog.connect_button, dialog.cancel_button]
    for widget in [*fields, *buttons, dialog.status]:
        assert widget.accessibleName(), widget
    # Tab from the host goes through every field, then the buttons left to right.
    dialog.activateWindow()
    dialog.host.setFocus()
    reached: list[QWidget] = []
    for _ in range(len(fields) + len(buttons)):
        reached.append(QApplication.focusWidget())
        dialog.focusNextChild()
    assert reached == [*fields, *buttons]


def test_enter_connects_and_escape_cancels(qtbot) -> None:
    first = ConnectionDialog(
        None, address=ServerAddress(user=""), choose_file=dialogs.open_database_file
    )
    qtbot.addWidget(first)
    first.show()
    fill(first, qtbot, host="db.example")
    qtbot.keyClick(first.host, Qt.Key.Key_Return)  # Connect: the missing user name is said
    assert first.status.text() == "✗ Give your user name on the server."
    assert first.connect_button.isDefault()

    qtbot.keyClick(first.user, Qt.Key.Key_Escape)
    assert first.result() == QDialog.DialogCode.Rejected and not first.isVisible()
    assert first.target is None


def test_a_database_file_can_be_chosen_instead(
    qtbot, dialog: ConnectionDialog, database_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    def open_file(_parent: Any, title: str, _folder: str, filters: str) -> str:
        asked.append(f"{title} | {filters}")
        return str(database_file)

    monkeypatch.setattr(dialogs, "open_file", open_file)
    qtbot.mouseClick(dialog.file_button, Qt.MouseButton.LeftButton)
    assert asked == ["Open an SKP Returns database | SKP Returns databases (*.sqlite3 *.db)"]
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.target == str(database_file)


# --- against the tests' PostgreSQL server ------------------------------------------------------


@pytest.mark.postgresql
def test_test_connection_reaches_the_server_in_the_background(
    qtbot, dialog: ConnectionDialog, postgres_server: PostgresServer, postgres_url: str
) -> None:
    on_server(dialog, qtbot, postgres_server, database_of(postgres_url), user=SUPERUSER)

    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)

    assert dialog.status.text() == CONNECTING  # at once: the window does not wait
    assert not dialog.test_button.isEnabled() and not dialog.connect_button.isEnabled()
    qtbot.waitUntil(lambda: not dialog.checking, timeout=20000)
    text = dialog.status.text()
    assert text.startswith(f"✓ Connected to postgresql+psycopg://{SUPERUSER}@/"), text
    assert f"as {SUPERUSER} (PostgreSQL " in text and "It holds SKP Returns" in text
    assert "Your role there: the database's owner" in text  # what the server's rules say
    assert f"The server records what you do as {SUPERUSER}" in text
    assert dialog.test_button.isEnabled() and dialog.isVisible()  # a test only: still open


@pytest.mark.postgresql
def test_a_wrong_password_is_said_plainly_and_the_right_one_connects(
    qtbot, dialog: ConnectionDialog, postgres_server: PostgresServer, postgres_url: str
) -> None:
    postgres_server.password_login(LOGIN, PASSWORD, "skp_coordinator")
    on_server(dialog, qtbot, postgres_server, database_of(postgres_url), user=LOGIN)
    fill(dialog, qtbot, password="not the password")

    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.checking, timeout=20000)

    text = dialog.status.text()
    assert text.startswith("✗ The server refused the login for "), text
    assert f'password authentication failed for user "{LOGIN}"' in text
    assert "Check the user name and password" in text
    assert "not the password" not in text
    assert dialog.focusWidget() is dialog.password  # where to put it right

    fill(dialog, qtbot, password=PASSWORD)
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.checking, timeout=20000)
    assert dialog.status.text().startswith(f"✓ Connected to postgresql+psycopg://{LOGIN}:***@")


@pytest.mark.postgresql
def test_a_login_with_no_role_in_skp_returns_is_told_whom_to_ask_and_not_connected(
    qtbot, dialog: ConnectionDialog, postgres_server: PostgresServer, postgres_url: str
) -> None:
    postgres_server.password_login("gui_nobody", PASSWORD)  # in no skp_* group
    on_server(dialog, qtbot, postgres_server, database_of(postgres_url), user="gui_nobody")
    fill(dialog, qtbot, password=PASSWORD)

    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)  # Connect
    qtbot.waitUntil(lambda: not dialog.checking, timeout=20000)

    text = dialog.status.text()
    assert text.startswith("✗ Connected to "), text
    assert "This login has no part in SKP Returns there yet" in text
    assert dialog.isVisible() and dialog.target is None  # not connected


# --- Connect, in the window ------------------------------------------------------------------


def answer_with_the_dialog(
    qtbot, typed: Callable[[ConnectionDialog], None], seen: list[ConnectionDialog]
) -> Callable[..., Any]:
    """A stand-in for dialogs.ask_connection that drives the real dialog: type, then Connect."""

    def ask(parent: Any, *, address: Any = None, message: str = "") -> Any:
        dialog = ConnectionDialog(
            parent, address=address, message=message, choose_file=dialogs.open_database_file
        )
        seen.append(dialog)
        dialog.show()
        typed(dialog)
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)  # Enter connects
        qtbot.waitUntil(lambda: not dialog.isVisible() or not dialog.checking, timeout=20000)
        qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=20000)
        target = dialog.target
        dialog.dispose()
        return target

    return ask


@pytest.mark.postgresql
def test_connect_opens_the_window_on_the_server_and_never_keeps_the_password(
    qtbot,
    database_file: Path,
    postgres_server: PostgresServer,
    postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    postgres_server.password_login(LOGIN, PASSWORD, "skp_coordinator")
    name = database_of(postgres_url)
    seen: list[ConnectionDialog] = []

    def typed(dialog: ConnectionDialog) -> None:
        on_server(dialog, qtbot, postgres_server, name, user=LOGIN, password=PASSWORD)

    monkeypatch.setattr(dialogs, "ask_connection", answer_with_the_dialog(qtbot, typed, seen))
    window = MainWindow(str(database_file), today=TODAY)
    qtbot.addWidget(window)
    window.show()
    window.start()
    qtbot.waitUntil(lambda: window.return_page.isEnabled(), timeout=15000)

    window.connect_action.trigger()
    qtbot.waitUntil(lambda: "postgresql" in window.status_db.text(), timeout=20000)
    qtbot.waitUntil(lambda: window.return_page.isEnabled(), timeout=20000)
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=15000)

    assert window.database.is_postgresql and window.database.url.database == name
    assert window.status_db.text().startswith(f"Database: postgresql+psycopg://{LOGIN}:***@")
    assert window.status_db.text().endswith(f" · you act as {LOGIN}")  # who the server says
    assert window.return_page.service_picker.count() == 10
    remembered = f"postgresql+psycopg://{LOGIN}@/{name}?host={postgres_server.socket_dir}"
    recent = Settings().recent_databases()
    assert make_url(recent[0]) == make_url(remembered + f"&port={PORT}")
    assert recent[1] == str(database_file)
    window.close()
    window.dispose()

    # the password is in no settings file and no log
    QSettings().sync()
    for folder in (tmp_path / "settings", tmp_path / "logs"):
        for path in folder.rglob("*"):
            if path.is_file():
                content = path.read_bytes()
                assert PASSWORD.encode() not in content, path
                assert b"p%40ss" not in content, path
    assert any((tmp_path / "settings").rglob("*.ini"))


@pytest.mark.postgresql
def test_a_recent_server_database_asks_for_the_password_again(
    qtbot, postgres_server: PostgresServer, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    postgres_server.password_login(LOGIN, PASSWORD, "skp_coordinator")
    name = database_of(postgres_url)
    recent = postgres_server.url(name, user=LOGIN)  # as kept in settings: no password
    seen: list[ConnectionDialog] = []
    prefilled: list[tuple[str, str, str, str, QWidget]] = []

    def typed(dialog: ConnectionDialog) -> None:
        prefilled.append(
            (
                dialog.host.text(),
                dialog.database_name.text(),
                dialog.user.text(),
                dialog.status.text(),
                dialog.focusWidget(),
            )
        )
        fill(dialog, qtbot, password=PASSWORD)

    monkeypatch.setattr(dialogs, "ask_connection", answer_with_the_dialog(qtbot, typed, seen))
    window = MainWindow(recent, today=TODAY)
    qtbot.addWidget(window)
    window.show()
    window.start()
    qtbot.waitUntil(lambda: window.database is not None, timeout=30000)
    qtbot.waitUntil(lambda: window.return_page.isEnabled(), timeout=20000)
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=15000)

    assert len(seen) == 1
    host, database, user, status, focused = prefilled[0]
    assert (host, database, user) == (postgres_server.socket_dir, name, LOGIN)
    assert status.startswith("✗ The server asks for a password for "), status
    assert focused is seen[0].password
    assert window.database.is_postgresql and window.database.url.username == LOGIN
    window.close()
    window.dispose()
