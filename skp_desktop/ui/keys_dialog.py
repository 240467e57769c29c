"""File ▸ Keys…: this computer's signing key, and the keys this database trusts (issue 16).

The same use cases as `skp-returns keys …` (services/trust/), each run through the window's
desk (ui/operations.py): export this computer's enrolment file, rotate its key, enrol a key for
services once its fingerprint is confirmed by phone, revoke a key. A change to the keys is
announced (Change.KEYS, and HISTORY: each is audited) so an open History page reads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from skp_desktop.services import trust
from skp_desktop.ui.dialogs import dialogs
from skp_desktop.ui.operations import Change
from skp_desktop.ui.rows_model import HeadedTableModel

if TYPE_CHECKING:
    from skp_desktop.services.database import Database
    from skp_desktop.ui.main_window import MainWindow
    from skp_desktop.ui.operations import Desk

_Index = QModelIndex | QPersistentModelIndex
# the keys a database trusts live in it
NO_DATABASE = "Open a database first: the keys it trusts are kept in it."
# what trusting, revoking or rotating a key changes (each is an audit event)
KEYS_CHANGE = Change.KEYS | Change.HISTORY


class KeysModel(HeadedTableModel):
    """One row per key the database knows: fingerprint, name, what it may sign, dates."""

    HEADERS = ("Fingerprint", "Name", "Trusted for", "Trusted", "Revoked")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.keys: list[trust.TrustedKey] = []

    def set_keys(self, keys: list[trust.TrustedKey]) -> None:
        self.beginResetModel()
        self.keys = list(keys)
        self.endResetModel()

    def row_count(self) -> int:
        return len(self.keys)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        key = self.keys[index.row()]
        column = self.HEADERS[index.column()]
        if role in (
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.AccessibleTextRole,
            Qt.ItemDataRole.ToolTipRole,
        ):
            shown = key.as_dict()
            if column == "Fingerprint":
                return key.fingerprint
            if column == "Name":
                return key.name
            if column == "Trusted for":
                return key.trusted_for
            if column == "Trusted":
                return f"{(shown['trusted_at'] or '')[:10]} by {key.trusted_by}"
            if key.revoked_at is None:
                return ""
            return f"{(shown['revoked_at'] or '')[:10]}: {key.revoke_reason or ''}"
        return None


class KeysDialog(QDialog):
    """This computer's key and the database's trusted keys, with what can be done to them."""

    def __init__(
        self, desk: Desk, *, read_only: bool = False, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keys")
        self.desk, self.read_only = desk, read_only
        self.own: trust.KeyInfo | None = None

        intro = QLabel(
            "Every file SKP Returns sends (returns, feedback, templates, definitions packs) is "
            "signed with this computer's key. Whoever imports it checks the signature against "
            "the keys they trust: send your enrolment file, and read your fingerprint to them "
            "over the phone."
        )
        intro.setWordWrap(True)
        self.fingerprint = QLabel("…")
        font = QFont(self.fingerprint.font())
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.fingerprint.setFont(font)
        self.fingerprint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.fingerprint.setAccessibleName("This computer's fingerprint")
        self.key_details = QLabel("")
        self.key_details.setWordWrap(True)
        self.key_details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.export_button = QPushButton("&Export enrolment file…")
        self.export_button.clicked.connect(self.export_enrolment)
        self.rotate_button = QPushButton("&Rotate key…")
        self.rotate_button.setToolTip(
            "Make a new key, vouched for by the old one: whoever trusts the old key takes the "
            "new one without a phone call"
        )
        self.rotate_button.clicked.connect(self.rotate)
        own_buttons = QHBoxLayout()
        own_buttons.addWidget(self.export_button)
        own_buttons.addWidget(self.rotate_button)
        own_buttons.addStretch(1)

        self.model = KeysModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setAccessibleName("Keys this database trusts")
        self.trust_button = QPushButton("&Trust a key…")
        self.trust_button.setToolTip(
            "Enrol a service's key from its enrolment file, once its owner has read you the "
            "fingerprint over the phone"
        )
        self.trust_button.clicked.connect(self.trust)
        self.revoke_button = QPushButton("Re&voke…")
        self.revoke_button.clicked.connect(self.revoke)
        trust_buttons = QHBoxLayout()
        trust_buttons.addWidget(self.trust_button)
        trust_buttons.addWidget(self.revoke_button)
        trust_buttons.addStretch(1)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Keys status")
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(QLabel("<b>This computer's key</b>"))
        layout.addWidget(self.fingerprint)
        layout.addWidget(self.key_details)
        layout.addLayout(own_buttons)
        layout.addWidget(QLabel("<b>Keys this database trusts</b>"))
        layout.addWidget(self.table, 1)
        layout.addLayout(trust_buttons)
        layout.addWidget(self.message)
        layout.addWidget(close)
        for button in (self.trust_button, self.revoke_button, self.rotate_button):
            button.setEnabled(not read_only)
        self.resize(980, 520)
        self.refresh()

    # --- reading ---------------------------------------------------------------------------

    def refresh(self) -> None:
        def work(db: Database) -> tuple[trust.KeyInfo, list[trust.TrustedKey]]:
            return trust.show_key(db), trust.list_keys(db)

        if not self.desk.query(work, self._show, failure=self._failed):
            # no database open (yet, or it failed to open): this computer's key still shows
            self.desk.run(lambda: (trust.show_key(None), []), self._show, failure=self._failed)

    def _show(self, found: tuple[trust.KeyInfo, list[trust.TrustedKey]]) -> None:
        own, keys = found
        self.own = own
        self.fingerprint.setText(own.fingerprint.replace("-", "  "))
        trusted = (
            f"this database trusts it for {own.enrolled_here}"
            if own.enrolled_here
            else "this database does not trust it"
        )
        self.key_details.setText(
            f"Kept in {own.key_file} (readable by you only; never put in a database, backup or "
            f"export); {trusted}."
        )
        self.model.set_keys(keys)

    def _failed(self, exc: Exception) -> None:
        self.message.setText(f"✗ {exc}")

    # --- changes ---------------------------------------------------------------------------

    def export_enrolment(self) -> None:
        path = dialogs.save_file(
            self, "Export enrolment file", "my-key.skpkey", "Enrolment files (*.skpkey)"
        )
        if not path:
            return
        actor = self.desk.actor()

        def work() -> str:
            written, info = trust.export_enrolment(path, name=actor)
            return f"✓ Wrote {written}: send it, then read {info.fingerprint} over the phone."

        self.desk.run(work, self.message.setText, failure=self._failed)

    def rotate(self) -> None:
        if not dialogs.confirm(
            self,
            "Rotate key",
            "Make a new key for this computer? Files signed from now on use the new key; it "
            "carries a statement signed by the old key, so whoever trusts the old key takes "
            "the new one. Send your new enrolment file afterwards.",
        ):
            return

        def work(db: Database | None, actor: str) -> trust.Rotation:
            return trust.rotate_installation_key(db, actor=actor)

        def done(result: trust.Rotation) -> None:
            self.message.setText(
                f"✓ New key {result.new_fingerprint} replaces {result.old_fingerprint}. "
                "Export the enrolment file and send it."
            )
            self.refresh()

        if not self.desk.change(
            work, done, changes=KEYS_CHANGE, failure=self._failed, source=self
        ):  # no database: only this computer's key file changes
            actor = self.desk.actor()
            self.desk.run(lambda: work(None, actor), done, failure=self._failed)

    def trust(self) -> None:
        path = dialogs.open_file(
            self, "Trust a key: its enrolment file", "", "Enrolment files (*.skpkey);;All (*)"
        )
        if not path:
            return
        fingerprint = dialogs.ask_text(
            self,
            "Trust a key",
            "The fingerprint its owner read you over the phone (30 digits):",
        )
        if not fingerprint:
            return
        services = dialogs.ask_text(
            self,
            "Trust a key",
            "The services it signs returns for, as codes separated by commas (e.g. HIGHWAYS):",
        )
        if not services:
            return
        codes = [code.strip() for code in services.split(",") if code.strip()]

        def work(db: Database, actor: str) -> str:
            key, done = trust.trust_key(
                db, path, services=codes, fingerprint_given=fingerprint, actor=actor
            )
            return f"✓ {key.name} ({key.fingerprint}): {done}."

        def shown(text: str) -> None:
            self.message.setText(text)
            self.refresh()

        if not self.desk.change(
            work, shown, changes=KEYS_CHANGE, failure=self._failed, source=self
        ):
            self.message.setText(NO_DATABASE)

    def revoke(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            self.message.setText("Choose the key to revoke in the list first.")
            return
        key = self.model.keys[rows[0].row()]
        reason = dialogs.ask_text(
            self,
            "Revoke a key",
            f"Why is {key.name} ({key.fingerprint}) revoked? Files it signs are refused from "
            "now on; files already imported stay.",
        )
        if not reason:
            return

        def work(db: Database, actor: str) -> str:
            done = trust.revoke_key(db, key.fingerprint, reason=reason, actor=actor)
            return f"✓ Revoked {done.name} ({done.fingerprint})."

        def shown(text: str) -> None:
            self.message.setText(text)
            self.refresh()

        if not self.desk.change(
            work, shown, changes=KEYS_CHANGE, failure=self._failed, source=self
        ):
            self.message.setText(NO_DATABASE)


def show_keys(window: MainWindow) -> None:
    """File ▸ Keys…: this computer's signing key and the keys the database trusts."""
    KeysDialog(window.desk, read_only=window.session.read_only, parent=window).exec()
