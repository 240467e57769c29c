"""File ▸ Connect to a shared database…: a server's address and login, tested off the UI thread.

The dialog's result is a database target for MainWindow.open_database: the server's URL (with
the password, held only in memory) or a SQLite file chosen with the same file dialog as
File ▸ Open database….
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from skp_desktop.domain.errors import SkpError, ValidationError
from skp_desktop.services.connection import (
    SSL_MODES,
    LoginRefused,
    ServerAddress,
    check_connection,
    default_address,
    server_url,
)
from skp_desktop.ui.rag_style import is_dark
from skp_desktop.ui.workers import Worker

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from skp_desktop.services.connection import ConnectionCheck

log = logging.getLogger(__name__)
TITLE = "Connect to a shared database"
CONNECTING = "Connecting…"
# Status colours with light and dark variants; the text also starts with a symbol.
_GOOD = ("#007a4d", "#4fd1a1")
_BAD = ("#c0362c", "#ff7b72")


class ConnectionDialog(QDialog):
    """Host, port, database, user, password and SSL mode; Test connection and Connect.

    `target` holds what to open once the dialog is accepted: the server's URL or a file path.
    """

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        address: ServerAddress | None = None,
        message: str = "",
        choose_file: Callable[[QWidget], str],
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(TITLE)
        self.target: str | URL | None = None
        # File ▸ Open database…'s own chooser, handed in (ui/dialogs.py opens this dialog)
        self._choose_file = choose_file
        self._worker = Worker(self)
        self._checking = 0  # connection checks still running in the background
        self._closed = False
        address = address or default_address()

        intro = QLabel(
            "The partnership's shared database is on a PostgreSQL server. Its administrator "
            "gives you the server's address and your login. The password is used for this "
            "session only: it is never saved."
        )
        intro.setWordWrap(True)

        self.host = QLineEdit(address.host)
        self.host.setPlaceholderText("e.g. skp-db.kingston.gov.uk")
        self.host.setAccessibleName("Server host")
        self.host.setAccessibleDescription(
            "The server's name or address; a folder starting with / for a local socket"
        )
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(address.port)
        self.port.setGroupSeparatorShown(False)
        self.port.setAccessibleName("Server port")
        self.database_name = QLineEdit(address.database)
        self.database_name.setAccessibleName("Database name")
        self.user = QLineEdit(address.user)
        self.user.setAccessibleName("User name")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Password")
        self.password.setAccessibleDescription("Not saved; asked again next time if needed")
        self.ssl_mode = QComboBox()
        for mode, text in SSL_MODES.items():
            self.ssl_mode.addItem(text, mode)
        self.ssl_mode.setCurrentIndex(max(0, self.ssl_mode.findData(address.ssl_mode)))
        self.ssl_mode.setAccessibleName("Encryption (SSL mode)")

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        for text, field in (
            ("&Host:", self.host),
            ("P&ort:", self.port),
            ("&Database:", self.database_name),
            ("&User:", self.user),
            ("&Password:", self.password),
            ("&Encryption:", self.ssl_mode),
        ):
            label = QLabel(text)
            label.setBuddy(field)
            form.addRow(label, field)

        self.status = QLabel(message)
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Connection status")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.setMinimumHeight(self.fontMetrics().lineSpacing() * 3)
        self.status.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        if message:
            self._show(f"✗ {message}", good=False)

        self.file_button = QPushButton("Database &file on this computer…")
        self.file_button.setAccessibleName("Open a database file on this computer instead")
        self.file_button.setAutoDefault(False)
        self.test_button = QPushButton("&Test connection")
        self.test_button.setAccessibleName("Test connection")
        self.test_button.setAutoDefault(False)
        self.connect_button = QPushButton("&Connect")
        self.connect_button.setAccessibleName("Connect")
        self.connect_button.setDefault(True)  # Enter in any field connects
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName("Cancel")
        self.cancel_button.setAutoDefault(False)
        # One row in keyboard order (a button box would reorder them by platform).
        buttons = QHBoxLayout()
        buttons.addWidget(self.file_button)
        buttons.addStretch(1)
        for button in (self.test_button, self.connect_button, self.cancel_button):
            buttons.addWidget(button)
        self.file_button.clicked.connect(self._open_file)
        self.test_button.clicked.connect(lambda: self._check(connect=False))
        self.connect_button.clicked.connect(lambda: self._check(connect=True))
        self.cancel_button.clicked.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addStretch(1)
        layout.addLayout(buttons)

        # Keyboard order: the fields top to bottom, then the buttons left to right.
        order = [
            self.host,
            self.port,
            self.database_name,
            self.user,
            self.password,
            self.ssl_mode,
            self.file_button,
            self.test_button,
            self.connect_button,
            self.cancel_button,
        ]
        for first, second in itertools.pairwise(order):
            QWidget.setTabOrder(first, second)
        self.setMinimumWidth(520)
        # Asked again for a password: start there; otherwise at the first empty field.
        start = next((f for f in (self.host, self.database_name, self.user) if not f.text()), None)
        (self.password if message or start is None else start).setFocus()

    # --- the form ----------------------------------------------------------------------------

    def address(self) -> ServerAddress:
        """The fields as typed (without the password)."""
        return ServerAddress(
            host=self.host.text().strip(),
            port=self.port.value(),
            database=self.database_name.text().strip(),
            user=self.user.text().strip(),
            ssl_mode=str(self.ssl_mode.currentData()),
        )

    def url(self) -> URL:
        """The server's URL with the password (a ValidationError names a missing field)."""
        return server_url(self.address(), self.password.text())

    # --- checking, in the background ---------------------------------------------------------

    def _check(self, *, connect: bool) -> None:
        if self._checking:
            return
        try:
            url = self.url()
        except ValidationError as exc:
            self._show(f"✗ {exc.message}", good=False)
            field = {"database": self.database_name, "user": self.user, "port": self.port}
            field.get(exc.field or "", self.host).setFocus()
            return
        self._checking += 1
        self._busy(True)
        self._show(CONNECTING, good=None)
        self._worker.run(
            lambda: check_connection(url),
            lambda found: self._checked(found, url, connect),
            self._failed,
        )

    def _checked(self, found: ConnectionCheck, url: URL, connect: bool) -> None:
        self._checking -= 1
        if self._closed:
            self._dispose_if_idle()
            return
        self._busy(False)
        if not found.usable:
            self._show(f"✗ {found.message}", good=False)
            return
        self._show(f"✓ {found.message}", good=True)
        if connect:
            self.target = url
            self.accept()

    def _failed(self, exc: Exception) -> None:
        self._checking -= 1
        if self._closed:
            self._dispose_if_idle()
            return
        self._busy(False)
        if isinstance(exc, SkpError):
            self._show(f"✗ {exc}", good=False)
            if isinstance(exc, LoginRefused):
                self.password.setFocus()
                self.password.selectAll()
        else:  # a bug: the log gets the traceback, people a plain sentence
            log.error("testing a connection failed unexpectedly", exc_info=exc)
            self._show(f"✗ Could not connect ({type(exc).__name__}: {exc}).", good=False)

    def _busy(self, busy: bool) -> None:
        for button in (self.test_button, self.connect_button, self.file_button):
            button.setEnabled(not busy)

    def _show(self, text: str, *, good: bool | None) -> None:
        self.status.setText(text)
        if good is None:
            self.status.setStyleSheet("")
        else:
            light, dark = _GOOD if good else _BAD
            self.status.setStyleSheet(f"color: {dark if is_dark() else light};")

    @property
    def checking(self) -> bool:
        """Whether a connection is being tried in the background."""
        return self._checking > 0

    # --- a file instead ----------------------------------------------------------------------

    def _open_file(self) -> None:
        path = self._choose_file(self)
        if path:
            self.target = path
            self.accept()

    # --- closing -----------------------------------------------------------------------------

    def done(self, result: int) -> None:
        # A check still running reports to a dialog that is gone: it is dropped quietly.
        self._closed = True
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._closed = True
        super().closeEvent(event)

    def _dispose_if_idle(self) -> None:
        if not self._checking:
            self.deleteLater()

    def dispose(self) -> None:
        """Delete the dialog now, or when its last background check has reported."""
        self._dispose_if_idle()


def ask_connection(
    parent: QWidget | None,
    *,
    address: ServerAddress | None = None,
    message: str = "",
    choose_file: Callable[[QWidget], str],
) -> str | URL | None:
    """Show the dialog until Connect or Cancel: the target to open, or None."""
    dialog = ConnectionDialog(parent, address=address, message=message, choose_file=choose_file)
    try:
        accepted = dialog.exec() == QDialog.DialogCode.Accepted
        return dialog.target if accepted else None
    finally:
        dialog.dispose()
