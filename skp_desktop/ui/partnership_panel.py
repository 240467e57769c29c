"""The whole partnership, for the coordinator (issue 18): the five organisations' services
(add, rename, retire, edit a return form in `ui/form_editor.py`) and the context measures'
later figures.

A window of its own opened from the Definitions place (Services and context…). Every change
runs a use case of services/partnership/ in the page's worker and reads the list again;
refusals are shown on the panel's message line, as the Definitions place shows its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from skp_desktop.domain.errors import SkpError, StoreUnavailable
from skp_desktop.ui.dialogs import dialogs
from skp_desktop.ui.form_editor import FormEditor
from skp_desktop.ui.operations import Change, Desk

if TYPE_CHECKING:
    from skp_desktop.services.database import Database
    from skp_desktop.services.dto import IndicatorInfo
    from skp_desktop.services.form_editing import FormChoices
    from skp_desktop.services.forms import FormLayout
    from skp_desktop.services.partnership import ContextFigure, OrganisationInfo, ServiceRecord

_Index = QModelIndex | QPersistentModelIndex
COLUMNS = ("Organisation", "Code", "Service", "Retired from")

# what the panel reads in one go: organisations, the measures context figures are for, and
# the figures by measure
_PanelData = tuple[
    "list[OrganisationInfo]", "list[IndicatorInfo]", "dict[str, list[ContextFigure]]"
]


class ServicesModel(QAbstractTableModel):
    """Every service, by organisation (an organisation with none shows one empty row)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows: list[tuple[str, ServiceRecord | None]] = []

    def load(self, organisations: list[OrganisationInfo]) -> None:
        self.beginResetModel()
        self.rows = []
        for organisation in organisations:
            if not organisation.services:
                self.rows.append((organisation.name, None))
            for service in organisation.services:
                self.rows.append((organisation.name, service))
        self.endResetModel()

    def service_at(self, row: int) -> ServiceRecord | None:
        return self.rows[row][1] if 0 <= row < len(self.rows) else None

    def row_of(self, code: str) -> int | None:
        for index, (_org, service) in enumerate(self.rows):
            if service is not None and service.code == code:
                return index
        return None

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(COLUMNS)
        ):
            return COLUMNS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        organisation, service = self.rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            if service is None:
                return (organisation, "", "no service yet: add one below", "")[index.column()]
            return (
                organisation,
                service.code,
                service.name,
                service.retired_from or "",
            )[index.column()]
        return None


class PartnershipPanel(QDialog):
    """Services of the five organisations, their forms, and context measures' figures."""

    changed = Signal()  # a service, form or figure was saved

    def __init__(self, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.busy = False
        self.reloading = False
        self.setWindowTitle("Services and context measures")
        self.setModal(False)
        self.resize(1100, 680)  # fits a 1366×768 screen with its title bar
        self.model = ServicesModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName("Services of the partnership's organisations")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()

        self.organisation = QComboBox()
        self.organisation.setAccessibleName("Organisation of the new service")
        self.organisation.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.code = QLineEdit()
        self.code.setPlaceholderText("e.g. LFB-KINGSTON")
        self.code.setAccessibleName("Code of the new service")
        self.name = QLineEdit()
        self.name.setPlaceholderText("what people call it")
        self.name.setAccessibleName("Name of the new service")
        self.add_button = QPushButton("&Add service")
        add_row = QHBoxLayout()
        for widget in (self.organisation, self.code, self.name):
            add_row.addWidget(widget, 1 if widget is self.name else 0)
        add_row.addWidget(self.add_button)
        self.rename_button = QPushButton("&Rename…")
        self.retire_button = QPushButton("Re&tire from…")
        self.back_button = QPushButton("&Bring back")
        selected_row = QHBoxLayout()
        selected_row.addWidget(QLabel("Selected service:"))
        for button in (self.rename_button, self.retire_button, self.back_button):
            selected_row.addWidget(button)
        selected_row.addStretch(1)

        self.form_editor = FormEditor()
        self.shown_service: str | None = None  # whose form the editor holds

        listing = QWidget()
        listing_layout = QVBoxLayout(listing)
        listing_layout.setContentsMargins(0, 0, 0, 0)
        listing_layout.addWidget(self.table, 1)
        listing_layout.addLayout(add_row)
        listing_layout.addLayout(selected_row)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(listing)
        splitter.addWidget(self.form_editor)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 3)
        self.table.setMinimumHeight(110)
        services = QWidget()
        services_layout = QVBoxLayout(services)
        services_layout.addWidget(splitter, 1)

        self.measure = QComboBox()
        self.measure.setAccessibleName("Context measure")
        self.period = QLineEdit()
        self.period.setPlaceholderText("e.g. FY2025-26-Q4")
        self.period.setAccessibleName("Period of the figure")
        self.value = QLineEdit()
        self.value.setAccessibleName("Figure")
        self.source = QLineEdit()
        self.source.setAccessibleName("Where the figure comes from")
        self.record_button = QPushButton("&Record figure")
        self.figures = QLabel()
        self.figures.setWordWrap(True)
        self.figures.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        context_tab = QWidget()
        context_form = QFormLayout(context_tab)
        context_form.addRow("Measure", self.measure)
        context_form.addRow("Period", self.period)
        context_form.addRow("Figure", self.value)
        context_form.addRow("Source", self.source)
        context_form.addRow("", self.record_button)
        context_form.addRow("Held", self.figures)

        self.tabs = QTabWidget()
        self.tabs.addTab(services, "Services")
        self.tabs.addTab(context_tab, "Context measures")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Message")
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.message)

        self.add_button.clicked.connect(self.add_service)
        self.rename_button.clicked.connect(self.rename_service)
        self.retire_button.clicked.connect(self.retire_service)
        self.back_button.clicked.connect(lambda: self._retire(None))
        self.form_editor.save_requested.connect(self._save_form)
        self.form_editor.default_requested.connect(lambda: self._save_form(None))
        self.record_button.clicked.connect(self.record_figure)
        self.table.selectionModel().currentRowChanged.connect(self._service_changed)
        self._enable()

    # --- reading -------------------------------------------------------------------------

    def selected(self) -> ServiceRecord | None:
        return self.model.service_at(self.table.currentIndex().row())

    def select(self, code: str) -> None:
        row = self.model.row_of(code)
        if row is not None:
            self.table.setCurrentIndex(self.model.index(row, 1))

    def refresh(self, select: str | None = None) -> None:
        """Read the organisations, services and context figures again."""
        chosen = self.selected()
        keep = select or (chosen.code if chosen else None)

        def work(db: Database) -> _PanelData:
            from skp_desktop.services.partnership import (
                context_figures,
                context_measures,
                list_organisations,
            )

            return list_organisations(db), context_measures(db), context_figures(db)

        def done(result: _PanelData) -> None:
            organisations, measures, figures = result
            self.reloading = True  # the list is read again: not the coordinator's choice
            self.model.load(organisations)
            current = self.organisation.currentData()
            self.organisation.clear()
            for organisation in organisations:
                self.organisation.addItem(organisation.name, organisation.code)
            if current is not None:
                self.organisation.setCurrentIndex(max(0, self.organisation.findData(current)))
            chosen = self.measure.currentData()
            self.measure.clear()
            for info in measures:
                self.measure.addItem(info.title, info.code)
            if chosen is not None:
                self.measure.setCurrentIndex(max(0, self.measure.findData(chosen)))
            self.figures.setText(
                "\n".join(
                    f"{code}: " + ", ".join(f"{f.period.short_label} {f.value}" for f in held)
                    for code, held in sorted(figures.items())
                )
                or "No later figure is recorded yet: the baselines are the latest known."
            )
            if keep:
                self.select(keep)
            self.reloading = False
            self._show_form()
            self._enable()

        self.desk.query(work, done, failure=self._failed)

    def _service_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        if self.reloading:
            return
        service = self.model.service_at(current.row())
        code = service.code if service is not None else None
        if code != self.shown_service and self.form_editor.dirty:
            leave = dialogs.confirm(
                self,
                "Unsaved return form",
                f"The changes to {self.shown_service}'s return form are not saved. Leave them?",
            )
            if not leave:  # back to the service whose form is being edited
                self.table.selectionModel().blockSignals(True)
                self.table.setCurrentIndex(self.model.index(previous.row(), 1))
                self.table.selectionModel().blockSignals(False)
                return
        self._show_form()

    def _show_form(self) -> None:
        service = self.selected()
        db = self.desk.database()
        if service is None or db is None:
            self.shown_service = None
            self.form_editor.load(None, writable=False)
            self._enable()
            return

        def work(db: Database) -> FormChoices:
            from skp_desktop.services.partnership import form_choices

            return form_choices(db, service.code)

        def done(choices: FormChoices) -> None:
            chosen = self.selected()
            if chosen is None or chosen.code != choices.service:
                return  # another service was chosen meanwhile: its own reading follows
            self.shown_service = choices.service
            self.form_editor.load(choices, writable=self._writable())
            self._enable()

        self.desk.query(work, done, failure=self._failed)

    # --- changing ------------------------------------------------------------------------

    def _run(
        self,
        work: Callable[[Database, str], object],
        said: str,
        select: str | None = None,
        then: Callable[[], object] | None = None,
    ) -> None:
        if self.desk.database() is None or self.busy:
            return
        self.busy = True
        self._enable()

        def done(_result: object) -> None:
            self.busy = False
            if then is not None:
                then()
            self.message.setText(said)
            self.changed.emit()
            self.refresh(select)

        def failed(exc: Exception) -> None:
            self.busy = False
            self._enable()
            self._failed(exc)

        # services, forms and context figures: every page showing the catalogue reads it again
        changes = Change.CATALOGUE | Change.HISTORY
        self.desk.change(work, done, changes=changes, failure=failed, source=self)

    def add_service(self) -> None:
        code, name = self.code.text().strip().upper(), self.name.text().strip()
        organisation = self.organisation.currentData()

        def work(db: Database, actor: str) -> ServiceRecord:
            from skp_desktop.services.partnership import add_service

            return add_service(db, code=code, name=name, organisation=organisation, actor=actor)

        self._run(work, f"Added {code}: {name}.", select=code)
        self.code.clear()
        self.name.clear()

    def rename_service(self) -> None:
        service = self.selected()
        if service is None:
            return
        name = dialogs.ask_text(self, "Rename the service", f"New name for {service.code}:")
        if not name:
            return

        def work(db: Database, actor: str) -> ServiceRecord:
            from skp_desktop.services.partnership import rename_service

            return rename_service(db, code=service.code, name=name, actor=actor)

        self._run(work, f"Renamed {service.code}: {name}.", select=service.code)

    def retire_service(self) -> None:
        service = self.selected()
        if service is None:
            return
        period = dialogs.ask_text(
            self,
            "Retire the service",
            f"First quarter {service.name} sends no return for (e.g. FY2026-27-Q1):",
        )
        if period:
            self._retire(period)

    def _retire(self, period: str | None) -> None:
        service = self.selected()
        if service is None:
            return

        def work(db: Database, actor: str) -> ServiceRecord:
            from skp_desktop.services.partnership import retire_service

            return retire_service(db, code=service.code, retired_from=period, actor=actor)

        said = (
            f"{service.name} is retired from {period}: completeness no longer chases it then."
            if period
            else f"{service.name} is asked for returns again."
        )
        self._run(work, said, select=service.code)

    def _save_form(self, data: Mapping[str, Any] | None) -> None:
        """One audited `service.form` change; a refusal leaves the editor's draft as it is."""
        service = self.selected()
        if service is None or self.busy:
            return

        def work(db: Database, actor: str) -> FormLayout | None:
            from skp_desktop.services.partnership import set_service_form

            return set_service_form(db, code=service.code, form=data, actor=actor)

        said = (
            f"Saved the return form of {service.name}."
            if data is not None
            else f"{service.name}'s return is laid out with the default form again."
        )
        # saved: the draft is what is held (for the default form, what is read next replaces it)
        self._run(work, said, select=service.code, then=self.form_editor.mark_saved)

    def record_figure(self) -> None:
        code, period = self.measure.currentData(), self.period.text().strip()
        value, source = self.value.text().strip(), self.source.text().strip() or None

        def work(db: Database, actor: str) -> ContextFigure | None:
            from skp_desktop.services.partnership import set_context_figure

            return set_context_figure(
                db, code=code, period=period, value=value or None, actor=actor, source=source
            )

        self._run(work, f"Recorded {code} for {period}: {value or 'cleared'}.")

    # --- state ---------------------------------------------------------------------------

    def _failed(self, exc: Exception) -> None:
        if isinstance(exc, SkpError) and not isinstance(exc, StoreUnavailable):
            self.message.setText(f"Not saved: {exc}")
            return
        self.desk.failed(exc)

    def _writable(self) -> bool:
        db = self.desk.database()
        return db is not None and not getattr(db, "read_only", False)

    def _enable(self) -> None:
        writable = self._writable() and not self.busy
        chosen = self.selected() is not None
        self.add_button.setEnabled(writable)
        for button in (
            self.rename_button,
            self.retire_button,
            self.back_button,
        ):
            button.setEnabled(writable and chosen)
        self.record_button.setEnabled(writable)
