"""The Definitions place: the coordinator edits indicator definitions and publishes a version.

The indicators are listed on the left; the form on the right edits the one selected. Every
change is checked as it is typed with the same domain rules that publishing uses, and shown
beside its field; Publish stays disabled until there is something to publish and nothing is
wrong. Publishing, exporting and importing a definitions pack run through the desk
(ui/operations.py); a published version is announced there, and the open return reads it.

The unpublished draft (the pending fields and targets, the applies-from period, the problems
and whether anything can be published) is services/definitions_draft.py, a model without Qt
with its own unit tests: this page shows it and forwards what is typed. Still over 600 lines:
the form's twenty-one fields, the targets table and the pack's import and export are built
and wired here.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from skp_desktop.domain.definition_edits import (
    FIELD_LABELS,
    IDENTITY_FIELDS,
    KINDS,
    MAX_DECIMALS,
    DefinitionsRefused,
)
from skp_desktop.domain.definitions import Frequency, Level, Polarity, Unit
from skp_desktop.domain.periods import (
    Period,
    PeriodKind,
    parse_period,
    period_for_date,
    period_range,
)
from skp_desktop.domain.rag import Rag
from skp_desktop.domain.values import canonical_text
from skp_desktop.domain.vocabulary import PackStatus
from skp_desktop.services.definitions_draft import NO_SERVICE, DefinitionsDraft
from skp_desktop.ui.accessibility import row_height
from skp_desktop.ui.definitions_models import (
    KEY_ROLE,
    IndicatorListModel,
    IndicatorRow,
    TargetRow,
    TargetsModel,
)
from skp_desktop.ui.dialogs import dialogs
from skp_desktop.ui.operations import Change, Desk
from skp_desktop.ui.rag_style import rag_colour

if TYPE_CHECKING:
    from skp_desktop.services.database import Database
    from skp_desktop.services.definitions import (
        DefinitionsState,
        PackExport,
        PackImport,
        Publication,
        PublishResult,
    )
    from skp_desktop.ui.partnership_panel import PartnershipPanel

QUARTERS_AHEAD = 8
NONE = NO_SERVICE  # the "no service" choice of a context measure
TEXT_FIELDS = ("definition", "source")
NUMBER_FIELDS = (
    "min_value",
    "max_value",
    "amber_tolerance",
    "change_warning_percent",
    "small_number_threshold",
)
LINE_FIELDS = ("code", "title", "numerator_label", "denominator_label", "source_document")
# Label text with its mnemonic, for each field of the form.
# Label text, with a mnemonic for the fields used most; the window's menus take F, E, V, R,
# S and H, and the page's buttons C, I, K, N, Y, M, O and B.
LABELS = {
    "code": "Code:",
    "kind": "Kind:",
    "service": "Service:",
    "theme": "Theme:",
    "frequency": "Fre&quency:",
    "has_fraction": "Entered as numerator and denominator",
    "title": "&Title:",
    "unit": "&Unit:",
    "polarity": "&Polarity:",
    "level": "&Level:",
    "decimals": "&Decimals:",
    "numerator_label": "Numerator:",
    "denominator_label": "Denominator:",
    "min_value": "Minimum:",
    "max_value": "Ma&ximum:",
    "amber_tolerance": "&Amber tolerance:",
    "change_warning_percent": "Change &warning %:",
    "small_number_threshold": "Small-number threshold:",
    "source_document": "Source document:",
    "definition": "Definition:",
    "source": "Source:",
}
# Explained once, in the tooltip and to screen readers.
HELP = {
    "amber_tolerance": "How far from the target still counts as amber, in the indicator's unit",
    "change_warning_percent": "A value that moves more than this % from the previous period "
    "needs an explanation; blank for no warning",
    "small_number_threshold": "Counts below this are published as [c]; blank for none",
    "min_value": "The lowest valid value; blank means 0 for percentages, counts and rates",
    "max_value": "The highest valid value; blank means 100 for percentages",
    "decimals": "Decimal places the value is shown and rounded to",
}
INTRO = (
    "Edit indicator definitions, then publish them as a new definitions version that applies "
    "from a period: returns for that period and later use it, earlier returns keep theirs."
)


def _text_of(value: object) -> str:
    """A spec's value as the form shows it."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return canonical_text(value)
    if isinstance(value, Unit | Polarity | Level | Frequency):
        return value.value
    return str(value)


def applies_from_choices(today: date, latest: str) -> list[Period]:
    """Quarters a new version may apply from: the latest version's on, two years ahead."""
    first = parse_period(latest)
    if first.kind is not PeriodKind.QUARTER:
        first = period_for_date(PeriodKind.QUARTER, first.start)
    now = period_for_date(PeriodKind.QUARTER, today)
    last = now
    for _ in range(QUARTERS_AHEAD):
        last = last.next()
    if last < first:
        last = first
    return period_range(first, last)


# A published or imported version: the open return may read it now.
DEFINITIONS_CHANGE = Change.DEFINITIONS | Change.HISTORY


def pin_question(fingerprint: str) -> str:
    """What the app asks before it pins the coordinator's key on the first pack."""
    return (
        "This definitions pack is signed by the key with the fingerprint\n\n"
        f"    {fingerprint.replace('-', '  ')}\n\n"
        "This database has not yet recorded the coordinator's key. Phone the coordinator and "
        "ask them to read out their fingerprint (File ▸ Keys… in their SKP Returns). Only if "
        "it is exactly the same, choose Yes: from then on packs and feedback files signed by "
        "any other key are refused."
    )


class DefinitionsPage(QWidget):
    """Indicators on the left, the selected one's form on the right, Publish at the bottom."""

    def __init__(self, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        desk.database_opened.connect(self.database_changed)
        self.state: DefinitionsState | None = None
        self.read_only = False
        self.busy = False
        self._loading = False
        self._filling = False
        self.draft = DefinitionsDraft()  # the unpublished changes and their problems
        self._current: str | None = None
        self._editors: dict[str, QWidget] = {}
        self._errors: dict[str, QLabel] = {}
        self._labels: dict[str, QLabel] = {}

        # --- header ---------------------------------------------------------------------
        self.version_label = QLabel("Reading the definitions…")
        self.version_label.setAccessibleDescription("Definitions in force")
        self.version_label.setWordWrap(True)
        self.version_label.setTextFormat(Qt.TextFormat.RichText)
        self.export_button = QPushButton("Export pac&k…")
        self.export_button.setAccessibleDescription("Export the definitions pack")
        self.export_button.setToolTip("Save the newest definitions as a pack to send to services")
        self.import_button = QPushButton("&Import pack…")
        self.import_button.setAccessibleDescription("Import a definitions pack")
        self.import_button.setToolTip(
            "Check a definitions pack from the coordinator, then import it"
        )
        # services of the five organisations and context figures (issue 18): a window of its own
        self.partnership_button = QPushButton("&Services and context…")
        self.partnership_button.setAccessibleName("Services and context measures")
        self.partnership_button.setToolTip(
            "Add, rename or retire a service, lay out its return form, record context figures"
        )
        self.partnership_button.clicked.connect(self.open_partnership)
        self.partnership: PartnershipPanel | None = None
        header = QHBoxLayout()
        header.addWidget(self.version_label, 1)
        header.addWidget(self.partnership_button, 0, Qt.AlignmentFlag.AlignTop)
        header.addWidget(self.export_button, 0, Qt.AlignmentFlag.AlignTop)
        header.addWidget(self.import_button, 0, Qt.AlignmentFlag.AlignTop)
        intro = QLabel(INTRO)
        intro.setWordWrap(True)

        # --- the list -------------------------------------------------------------------
        self.filter_box = QLineEdit()
        self.filter_box.setPlaceholderText("Filter indicators (Ctrl+F)")
        self.filter_box.setAccessibleName("Filter indicators")
        self.filter_box.setClearButtonEnabled(True)
        QShortcut(QKeySequence.StandardKey.Find, self, self.filter_box.setFocus)
        self.list_model = IndicatorListModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.list_model)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.filter_box.textChanged.connect(self.proxy.setFilterFixedString)
        self.indicator_list = QTableView()
        self.indicator_list.setAccessibleName("Indicators")
        self.indicator_list.setModel(self.proxy)
        self.indicator_list.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.indicator_list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.indicator_list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.indicator_list.setTabKeyNavigation(False)
        self.indicator_list.verticalHeader().setVisible(False)
        self.indicator_list.setWordWrap(False)
        self.indicator_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.indicator_list.verticalHeader().setDefaultSectionSize(row_height(self.indicator_list))
        heading = self.indicator_list.horizontalHeader()
        heading.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        heading.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.indicator_list.selectionModel().currentRowChanged.connect(self._on_current_row)
        self.new_button = QPushButton("&New indicator")
        self.new_button.setAccessibleDescription("Add a new indicator")
        self.new_button.setToolTip("Add an indicator to the next definitions version")
        list_label = QLabel("Indi&cators:")
        list_label.setBuddy(self.indicator_list)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(list_label)
        left_layout.addWidget(self.filter_box)
        left_layout.addWidget(self.indicator_list, 1)
        left_layout.addWidget(self.new_button)

        # --- the form -------------------------------------------------------------------
        self.form_title = QLabel("Choose an indicator to edit it.")
        self.form_title.setAccessibleDescription("Indicator being edited")
        font = self.form_title.font()
        font.setBold(True)
        self.form_title.setFont(font)
        self.form_title.setWordWrap(True)
        identity = QGroupBox("What it is (set when the indicator is added)")
        identity_grid = QGridLayout(identity)
        self._place(identity_grid, 0, 0, "code", self._line("code"))
        self._place(identity_grid, 0, 1, "kind", self._combo("kind", [(k, k) for k in KINDS]))
        self._place(identity_grid, 1, 0, "service", self._combo("service", []))
        self._place(identity_grid, 1, 1, "theme", self._combo("theme", []))
        frequencies = [(f.value, f.value) for f in Frequency]
        self._place(identity_grid, 2, 0, "frequency", self._combo("frequency", frequencies))
        fraction = QCheckBox(LABELS["has_fraction"].replace("&", ""))
        fraction.setAccessibleName("Entered as numerator and denominator")
        fraction.toggled.connect(lambda _on: self._form_changed("has_fraction"))
        self._place(identity_grid, 2, 1, "has_fraction", fraction, label=False)

        definition = QGroupBox("The definition")
        grid = QGridLayout(definition)
        self._place(grid, 0, 0, "title", self._line("title"), span=True)
        self._place(grid, 1, 0, "unit", self._combo("unit", [(u.value, u.value) for u in Unit]))
        polarities = [(p.value, p.value) for p in Polarity]
        self._place(grid, 1, 1, "polarity", self._combo("polarity", polarities))
        self._place(grid, 2, 0, "level", self._combo("level", [(v.value, v.value) for v in Level]))
        decimals = QSpinBox()
        decimals.setRange(0, MAX_DECIMALS)
        decimals.valueChanged.connect(lambda _v: self._form_changed("decimals"))
        self._place(grid, 2, 1, "decimals", decimals)
        self._place(grid, 3, 0, "numerator_label", self._line("numerator_label"), span=True)
        self._place(grid, 4, 0, "denominator_label", self._line("denominator_label"), span=True)
        self._place(grid, 5, 0, "min_value", self._line("min_value"))
        self._place(grid, 5, 1, "max_value", self._line("max_value"))
        self._place(grid, 6, 0, "amber_tolerance", self._line("amber_tolerance"))
        self._place(grid, 6, 1, "change_warning_percent", self._line("change_warning_percent"))
        self._place(grid, 7, 0, "small_number_threshold", self._line("small_number_threshold"))
        self._place(grid, 7, 1, "source_document", self._line("source_document"))
        self._place(grid, 8, 0, "definition", self._plain("definition"), span=True)
        self._place(grid, 9, 0, "source", self._plain("source"), span=True)

        targets_box = QGroupBox("Targets per year")
        self.targets_model = TargetsModel(self)
        self.targets_model.edited.connect(self._target_edited)
        self.targets_view = QTableView()
        self.targets_view.setAccessibleName("Targets per year")
        self.targets_view.setModel(self.targets_model)
        self.targets_view.verticalHeader().setVisible(False)
        self.targets_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.targets_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.targets_view.setTabKeyNavigation(False)
        self.targets_view.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        self.targets_view.horizontalHeader().setStretchLastSection(True)
        self.targets_view.setMaximumHeight(150)
        self.add_year_button = QPushButton("Add a tar&get year")
        self.add_year_button.setAccessibleDescription("Add a year's target")
        self.add_year_button.setToolTip("Add the next year without a target to the table")
        self.targets_error = QLabel()
        self.targets_error.setWordWrap(True)
        self.targets_error.setAccessibleDescription("Problems with the targets")
        self.targets_error.hide()
        targets_note = QLabel(
            "A yearly target covers the whole year: it can be set for years that start on or "
            "after the period the new version applies from. Clear a target to remove it."
        )
        targets_note.setWordWrap(True)
        targets_layout = QGridLayout(targets_box)
        targets_layout.addWidget(self.targets_view, 0, 0, 3, 1)
        targets_layout.addWidget(self.add_year_button, 0, 1)
        targets_layout.addWidget(targets_note, 1, 1)
        targets_layout.addWidget(self.targets_error, 3, 0, 1, 2)
        targets_layout.setColumnStretch(0, 1)
        targets_layout.setColumnStretch(1, 1)

        self.revert_button = QPushButton("Undo changes to this indicator")
        self.revert_button.setAccessibleDescription("Undo the changes to this indicator")
        form = QWidget()
        self.form_layout = QVBoxLayout(form)
        self.form_layout.addWidget(self.form_title)
        self.form_layout.addWidget(identity)
        self.form_layout.addWidget(definition)
        self.form_layout.addWidget(targets_box)
        revert_row = QHBoxLayout()
        revert_row.addStretch(1)
        revert_row.addWidget(self.revert_button)
        self.form_layout.addLayout(revert_row)
        self.form_layout.addStretch(1)
        self.form_scroll = QScrollArea()
        self.form_scroll.setAccessibleName("Indicator form")
        self.form_scroll.setWidget(form)
        self.form_scroll.setWidgetResizable(True)
        self.form_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.form_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.form = form

        splitter = QSplitter()
        splitter.setObjectName("definitionsSplitter")
        splitter.addWidget(left)
        splitter.addWidget(self.form_scroll)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([340, 640])
        splitter.setChildrenCollapsible(False)
        self.splitter = splitter

        # --- publishing -----------------------------------------------------------------
        self.applies_from = QComboBox()
        self.applies_from.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.applies_from.setAccessibleName("Applies from")
        self.applies_from.setToolTip("The first period whose returns use the new definitions")
        applies_label = QLabel("Applies fro&m:")
        applies_label.setBuddy(self.applies_from)
        self.note = QLineEdit()
        self.note.setAccessibleName("Note: why the definitions change")
        self.note.setPlaceholderText("Why the definitions change (kept in the history)")
        self.note.setMaxLength(2000)
        note_label = QLabel("N&ote:")
        note_label.setBuddy(self.note)
        self.discard_button = QPushButton("Discard all changes")
        self.discard_button.setAccessibleDescription("Discard every unpublished change")
        self.publish_button = QPushButton("Pu&blish…")
        self.publish_button.setAccessibleDescription("Publish the new definitions version")
        self.publish_button.setToolTip("Check the changes, confirm, and publish them")
        publish_row = QHBoxLayout()
        publish_row.addWidget(applies_label)
        publish_row.addWidget(self.applies_from)
        publish_row.addWidget(note_label)
        publish_row.addWidget(self.note, 1)
        publish_row.addWidget(self.discard_button)
        publish_row.addWidget(self.publish_button)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setAccessibleDescription("What will be published")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setAccessibleDescription("Message")
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)

        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(intro)
        layout.addWidget(splitter, 1)
        layout.addLayout(publish_row)
        layout.addWidget(self.summary)
        layout.addWidget(self.message)
        self.show_message("")

        self.new_button.clicked.connect(self.add_indicator)
        self.add_year_button.clicked.connect(self.add_year)
        self.revert_button.clicked.connect(self.revert_current)
        self.discard_button.clicked.connect(self.discard_all)
        self.applies_from.currentIndexChanged.connect(lambda _i: self._applies_from_chosen())
        self.note.textChanged.connect(self._note_typed)
        self.publish_button.clicked.connect(self.publish)
        self.export_button.clicked.connect(self.export_pack)
        self.import_button.clicked.connect(self.import_pack)
        self._update_enabled()

    # --- building the form -----------------------------------------------------------------

    def _line(self, name: str) -> QLineEdit:
        edit = QLineEdit()
        edit.textEdited.connect(lambda _t: self._form_changed(name))
        return edit

    def _combo(self, name: str, choices: list[tuple[str, str]]) -> QComboBox:
        combo = QComboBox()
        for text, data in choices:
            combo.addItem(text, data)
        combo.currentIndexChanged.connect(lambda _i: self._form_changed(name))
        return combo

    def _plain(self, name: str) -> QPlainTextEdit:
        edit = QPlainTextEdit()
        edit.setTabChangesFocus(True)
        edit.setFixedHeight(edit.fontMetrics().lineSpacing() * 3 + 14)
        edit.textChanged.connect(lambda: self._form_changed(name))
        return edit

    def _place(
        self,
        grid: QGridLayout,
        row: int,
        column: int,
        name: str,
        editor: QWidget,
        *,
        span: bool = False,
        label: bool = True,
    ) -> None:
        """A field at (row, column) of a two-pair grid, its message on the line below."""
        where = column * 2
        width = 3 if span else 1
        if label:
            caption = QLabel(LABELS[name])
            caption.setBuddy(editor)
            grid.addWidget(caption, row * 2, where, Qt.AlignmentFlag.AlignTop)
            self._labels[name] = caption
        editor.setAccessibleName(FIELD_LABELS[name].capitalize())
        if name in HELP:
            editor.setToolTip(HELP[name])
            editor.setAccessibleDescription(HELP[name])
        grid.addWidget(editor, row * 2, where + 1, 1, width)
        error = QLabel()
        error.setWordWrap(True)
        error.setAccessibleDescription(f"Problem with the {FIELD_LABELS[name]}")
        error.hide()
        grid.addWidget(error, row * 2 + 1, where + 1, 1, width)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        self._editors[name] = editor
        self._errors[name] = error

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self.state is not None:
            self._show_problems()  # the problem colour has a light and a dark variant

    def editor(self, name: str) -> QWidget:
        """The form's editor of a field, e.g. "title"."""
        return self._editors[name]

    def error_text(self, name: str) -> str:
        """The problem shown under a field, or "" when there is none."""
        label = self._errors[name]
        return label.text() if not label.isHidden() else ""

    # --- state -----------------------------------------------------------------------------

    def open_partnership(self) -> PartnershipPanel:
        """Show the services and context measures window (made on first use)."""
        if self.partnership is None:
            from skp_desktop.ui.partnership_panel import PartnershipPanel

            self.partnership = PartnershipPanel(self.desk, self)
            self.partnership.changed.connect(self.refresh)  # a service is a definitions choice
        self.partnership.show()
        # the keyboard goes with it, also when it was already open behind the main window
        self.partnership.activateWindow()
        self.partnership.refresh()
        return self.partnership

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.state is None or not self.dirty:
            self.refresh()

    @property
    def dirty(self) -> bool:
        """Whether there are changes not yet published."""
        return self.draft.dirty

    def database_changed(self) -> None:
        """Another database (or the same one read-only): forget what was being edited."""
        self.state = None
        self._loading = False  # a read of the one before is dropped (ui/operations.py)
        self.set_busy(False, "")
        self._clear_pending()
        if self.isVisible():
            self.refresh()

    def refresh(self) -> None:
        """Read the newest definitions in the background."""
        if self._loading:
            return

        def work(db: Database) -> DefinitionsState:
            from skp_desktop.services.definitions import definitions_state

            return definitions_state(db)

        def done(state: DefinitionsState) -> None:
            self._loading = False
            self.show_state(state, read_only=not self.desk.writable)

        def failed(exc: Exception) -> None:
            self._loading = False
            self.desk.failed(exc)

        self._loading = self.desk.query(work, done, failure=failed)

    def show_state(self, state: DefinitionsState, *, read_only: bool = False) -> None:
        """Show the newest definitions; changes not yet published are kept."""
        self.state = state
        self.read_only = read_only
        latest = state.latest
        note = f": {latest.note}" if latest.note else ""
        when = latest.published_at.strftime("%d/%m/%Y")
        self.version_label.setText(
            f"<b>Definitions version {latest.number}</b>, in force from "
            f"{latest.applies_from_label} · published by {latest.published_by} on {when}{note}"
        )
        self._fill_choices(state)
        self.draft.applies_from = self.applies_from.currentData() or ""
        self.draft.note = self.note.text()
        self.draft.load(state)
        keys = self.draft.keys
        held = [k for k in keys if not self.draft.is_new(k)]
        wanted = self._current if self._current in keys else (held[0] if held else None)
        self._current = None
        self._show_draft()
        if wanted:
            self.select(wanted)
        if read_only:
            self.show_message(
                "The database is open read-only: the definitions can be read and exported, "
                "not changed."
            )
        self._update_enabled()

    def _fill_choices(self, state: DefinitionsState) -> None:
        self._filling = True
        service = self._editors["service"]
        theme = self._editors["theme"]
        assert isinstance(service, QComboBox) and isinstance(theme, QComboBox)
        service.clear()
        service.addItem("(none: a context measure)", NONE)
        for code, name in state.services:
            service.addItem(f"{name} ({code})", code)
        theme.clear()
        for code, name in state.themes:
            theme.addItem(f"{code}: {name}", code)
            theme.setItemData(theme.count() - 1, name, Qt.ItemDataRole.ToolTipRole)
        chosen = self.applies_from.currentData()
        self.applies_from.clear()
        periods = applies_from_choices(self.desk.day(), state.latest.applies_from)
        for period in periods:
            self.applies_from.addItem(period.label, period.code)
        now = period_for_date(PeriodKind.QUARTER, self.desk.day())
        default = chosen or (now.code if now >= periods[0] else periods[0].code)
        self.applies_from.setCurrentIndex(max(0, self.applies_from.findData(default)))
        self._filling = False

    def _clear_pending(self) -> None:
        self._current = None
        self.note.clear()
        self.draft.clear()

    # --- the list --------------------------------------------------------------------------

    def select(self, key: str) -> None:
        """Show an indicator in the form and select it in the list."""
        row = self.list_model.row_of(key)
        if row < 0:
            return
        index = self.proxy.mapFromSource(self.list_model.index(row, 0))
        if not index.isValid():
            self.filter_box.clear()
            index = self.proxy.mapFromSource(self.list_model.index(row, 0))
        self.indicator_list.setCurrentIndex(index)
        self._show_indicator(key)

    def _on_current_row(self, current: QModelIndex, _previous: QModelIndex) -> None:
        key = current.data(KEY_ROLE) if current.isValid() else None
        if key and key != self._current:
            self._show_indicator(key)

    def add_indicator(self) -> None:
        """A new indicator at the end of the list, its form ready to fill in."""
        if self.state is None or self.read_only:
            return
        key = self.draft.add_indicator(like=self._current)
        self._show_draft()
        self.select(key)
        self._editors["code"].setFocus()

    def revert_current(self) -> None:
        key = self._current
        if key is None:
            return
        if self.draft.is_new(key):
            self._current = None
        self.draft.revert(key)
        self._show_draft()
        if self._current is None and self.draft.keys:
            self.select(self.draft.keys[0])
        elif key in self.draft.keys:
            self._show_indicator(key)

    def discard_all(self) -> None:
        if not self.dirty or not dialogs.confirm(
            self, "Discard changes", "Discard every change not yet published?"
        ):
            return
        state = self.state
        self._clear_pending()  # draft.discard(), and the note box emptied
        if state is not None:
            self.show_state(state, read_only=self.read_only)

    # --- the form --------------------------------------------------------------------------

    def _show_indicator(self, key: str) -> None:
        self._current = key
        values = self.draft.values(key)
        base = self.draft.base(key)
        self._filling = True
        for name, editor in self._editors.items():
            value = values.get(name)
            if isinstance(editor, QLineEdit):
                editor.setText(_text_of(value))
            elif isinstance(editor, QPlainTextEdit):
                editor.setPlainText(_text_of(value))
            elif isinstance(editor, QComboBox):
                wanted = NONE if value is None and name == "service" else _text_of(value)
                index = editor.findData(wanted)
                editor.setCurrentIndex(index if index >= 0 else -1)
            elif isinstance(editor, QSpinBox):
                try:
                    editor.setValue(int(str(value)))
                except ValueError:
                    editor.setValue(0)
            elif isinstance(editor, QCheckBox):
                editor.setChecked(bool(value))
        self._filling = False
        title = _text_of(values.get("title")) or "(no title yet)"
        code = _text_of(values.get("code")) or "new indicator"
        self.form_title.setText(f"{code}: {title}" if base is not None else f"New: {title}")
        self._fill_targets(key)
        self._show_problems()
        self._update_enabled()
        self.form_scroll.ensureVisible(0, 0)

    def _read_form(self) -> dict[str, object]:
        read: dict[str, object] = {}
        for name, editor in self._editors.items():
            if isinstance(editor, QLineEdit):
                read[name] = editor.text()
            elif isinstance(editor, QPlainTextEdit):
                read[name] = editor.toPlainText()
            elif isinstance(editor, QComboBox):
                read[name] = editor.currentData()
            elif isinstance(editor, QSpinBox):
                read[name] = editor.value()
            elif isinstance(editor, QCheckBox):
                read[name] = editor.isChecked()
        return read

    def _form_changed(self, _name: str) -> None:
        if self._filling or self._current is None:
            return
        self.draft.set_fields(self._current, self._read_form())
        self._show_draft()

    # --- targets ---------------------------------------------------------------------------

    def _fill_targets(self, key: str) -> None:
        rows = [
            TargetRow(
                year=year,
                held=self.draft.held_target_text(key, year),
                text=self.draft.target_text(key, year),
            )
            for year in self.draft.target_years(key)
        ]
        unit = _text_of(self.draft.values(key).get("unit"))
        self.targets_model.set_rows(rows, editable=not self.read_only, unit=unit)
        self.targets_view.resizeColumnToContents(0)
        self._show_target_problems()

    def add_year(self) -> None:
        """Add the first year from the chosen period on that has no row yet."""
        key = self._current
        if key is None:
            return
        year = self.draft.add_target_year(key)
        self._fill_targets(key)
        index = self.targets_model.index(self.targets_model.row_of(year), 1)
        self.targets_view.setCurrentIndex(index)
        self.targets_view.setFocus()

    def _target_edited(self, year: str, text: str) -> None:
        key = self._current
        if key is None:
            return
        self.draft.set_target(key, year, text)
        self._show_draft()

    # --- checking as you type --------------------------------------------------------------

    def publication(self) -> Publication:
        """The changes as the definitions service takes them."""
        return self.draft.publication()

    def _applies_from_chosen(self) -> None:
        if not self._filling:
            self.draft.set_applies_from(self.applies_from.currentData() or "")
            self._show_draft()

    def _note_typed(self, text: str) -> None:
        self.draft.set_note(text)
        self._show_draft()

    def _show_draft(self) -> None:
        """Show what the draft's check found: in the list, beside each field, the summary."""
        if self._filling or self.state is None:
            return
        self.summary.setText(self.draft.summary())
        self._refresh_list()
        self._show_problems()
        self._update_enabled()

    def _refresh_list(self) -> None:
        rows = []
        for key in self.draft.keys:
            values = self.draft.values(key)
            rows.append(
                IndicatorRow(
                    key=key,
                    code=_text_of(values.get("code")) or "(new)",
                    title=_text_of(values.get("title")) or "(no title yet)",
                    state=self.draft.status(key),
                    problems=len(self.draft.problems_of(key)),
                )
            )
        self.list_model.set_rows(rows)
        if self._current is not None:
            row = self.list_model.row_of(self._current)
            index = self.proxy.mapFromSource(self.list_model.index(row, 0))
            if index.isValid() and self.indicator_list.currentIndex().row() != index.row():
                self.indicator_list.blockSignals(True)
                self.indicator_list.setCurrentIndex(index)
                self.indicator_list.blockSignals(False)

    def _set_error(self, label: QLabel, text: str | None, editor: QWidget | None = None) -> None:
        label.setVisible(bool(text))
        if text:
            label.setText(f"✗ {text}")
            label.setStyleSheet(f"color: {rag_colour(Rag.RED).name()}")
        if editor is not None:
            help_text = HELP.get(next((n for n, e in self._editors.items() if e is editor), ""))
            described = f"Problem: {text}" if text else (help_text or "")
            editor.setAccessibleDescription(described)
            editor.setToolTip(text or help_text or "")

    def _show_problems(self) -> None:
        key = self._current
        found = self.draft.field_problems(key) if key else {}
        for name, label in self._errors.items():
            self._set_error(label, found.get(name), self._editors[name])
        self.applies_from.setToolTip(
            self.draft.publication_problems().get("applies_from")
            or "The first period whose returns use the new definitions"
        )
        self._show_target_problems()

    def _show_target_problems(self) -> None:
        key = self._current
        problems = self.draft.target_problems(key) if key else []

        def problem_of(year: str) -> str | None:
            return next((p.message for p in problems if p.field == f"target {year}"), None)

        self.targets_model.set_problems(problem_of)
        texts = [
            f"{p.field.removeprefix('target ').strip() or 'target'}: {p.message}" for p in problems
        ]
        self._set_error(self.targets_error, "; ".join(texts) or None)

    # --- enabling --------------------------------------------------------------------------

    def _update_enabled(self) -> None:
        loaded = self.state is not None
        writable = loaded and not self.read_only and not self.busy
        base = self.draft.base(self._current or "")
        editing = writable and self._current is not None
        for name, editor in self._editors.items():
            editor.setEnabled(editing and (base is None or name not in IDENTITY_FIELDS))
        self.targets_view.setEnabled(self._current is not None)
        self.add_year_button.setEnabled(editing)
        pending = self.draft.pending(self._current or "")
        self.revert_button.setEnabled(editing and (base is None or pending))
        self.new_button.setEnabled(writable)
        self.applies_from.setEnabled(writable)
        self.note.setEnabled(writable)
        self.discard_button.setEnabled(writable and self.dirty)
        self.publish_button.setEnabled(writable and self.draft.can_publish)
        self.import_button.setEnabled(writable)
        self.export_button.setEnabled(loaded and not self.busy)

    def set_busy(self, busy: bool, text: str = "") -> None:
        self.busy = busy
        if text:
            self.show_message(text)
        self._update_enabled()

    def show_message(self, text: str, *, problem: bool = False) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))
        colour = rag_colour(Rag.RED).name() if problem else ""
        self.message.setStyleSheet(f"color: {colour}" if colour else "")

    # --- publishing ------------------------------------------------------------------------

    def publish(self) -> None:
        """Check in full, ask (naming the drafts that move), then publish in the background."""
        if self.desk.database() is None or not self.publish_button.isEnabled():
            return
        publication = self.publication()
        self.set_busy(True, "Checking the changes…")

        def preview(db: Database) -> PublishResult:
            from skp_desktop.services.definitions import preview_publication

            return preview_publication(db, publication)

        def confirm(result: PublishResult) -> None:
            self.set_busy(False, "")
            if not dialogs.confirm(self, "Publish definitions", result.describe() + "\n\nPublish?"):
                self.show_message("Not published: nothing was changed.")
                return
            self._run_publish(publication)

        self.desk.query(preview, confirm, failure=self._refused)

    def _run_publish(self, publication: Publication) -> None:
        self.set_busy(True, "Publishing…")

        def work(db: Database, actor: str) -> PublishResult:
            from skp_desktop.services.definitions import publish_definitions

            return publish_definitions(db, publication, actor=actor)

        def done(result: PublishResult) -> None:
            self.set_busy(False, "")
            shown = self._current if self.draft.base(self._current or "") else None
            self._clear_pending()
            self._current = shown  # the indicator just published stays in the form
            self.show_message(f"✓ {result.describe()}")
            self.refresh()

        self.desk.change(work, done, changes=DEFINITIONS_CHANGE, failure=self._refused, source=self)

    def _refused(self, exc: Exception) -> None:
        self.set_busy(False, "")
        if isinstance(exc, DefinitionsRefused):
            self.draft.refused(list(exc.problems))
            self._show_problems()
            self.show_message("✗ Not published: " + exc.message, problem=True)
            return
        self.show_message(f"✗ {exc}", problem=True)
        self.desk.failed(exc)

    # --- the pack --------------------------------------------------------------------------

    def export_pack(self) -> None:
        if self.desk.database() is None or self.state is None:
            return
        number = self.state.latest.number
        path = dialogs.save_file(
            self,
            "Export the definitions pack",
            f"skp-definitions-v{number}.xlsx",
            "Excel workbook (*.xlsx)",
        )
        if not path:
            return
        if Path(path).suffix.lower() != ".xlsx":
            path += ".xlsx"
        self.set_busy(True, "Writing the definitions pack…")

        def work(db: Database, actor: str) -> PackExport:
            from skp_desktop.services.definitions import export_definitions_pack

            return export_definitions_pack(db, path, actor=actor)

        def done(made: PackExport) -> None:
            self.set_busy(False, "")
            self.show_message(
                f"✓ Saved definitions version {made.version} (from {made.applies_from}, "
                f"{made.indicators} indicators) to {made.path}"
            )

        actor = self.desk.actor()
        self.desk.query(lambda db: work(db, actor), done, failure=self._refused)

    def import_pack(self) -> None:
        """Check the chosen pack first; import it only when it would change something and the
        coordinator agrees."""
        if self.desk.database() is None or self.read_only:
            return
        path = dialogs.open_file(
            self, "Import a definitions pack", "", "Definitions packs (*.xlsx)"
        )
        if not path:
            return
        if self.dirty and not dialogs.confirm(
            self,
            "Import a definitions pack",
            "Importing a pack discards the changes not yet published here. Go on?",
        ):
            return
        self._run_import(path, dry_run=True)

    def _run_import(self, path: str, *, dry_run: bool, fingerprint: str | None = None) -> None:
        self.set_busy(True, "Checking the pack…" if dry_run else "Importing the pack…")

        def work(db: Database, actor: str) -> PackImport:
            from skp_desktop.services.definitions import import_definitions_pack

            return import_definitions_pack(
                db, path, actor=actor, dry_run=dry_run, fingerprint=fingerprint
            )

        def done(outcome: PackImport) -> None:
            self.set_busy(False, "")
            self._show_import(path, outcome, dry_run=dry_run, fingerprint=fingerprint)

        changes = Change.HISTORY if dry_run else DEFINITIONS_CHANGE
        self.desk.change(work, done, changes=changes, failure=self._refused, source=self)

    def _show_import(
        self, path: str, outcome: PackImport, *, dry_run: bool, fingerprint: str | None = None
    ) -> None:
        name = Path(path).name
        if outcome.refused and outcome.needs_pin and outcome.signed_by and fingerprint is None:
            # The first pack: the coordinator's key is pinned once its fingerprint is confirmed.
            if dialogs.confirm(self, "Whose pack is this?", pin_question(outcome.signed_by)):
                self._run_import(path, dry_run=True, fingerprint=outcome.signed_by)
            else:
                self.show_message(
                    f"{name} was not imported: the coordinator's key was not confirmed.",
                    problem=True,
                )
            return
        if outcome.refused:
            self.show_message(f"✗ {name} was not imported: {outcome.reason}", problem=True)
            return
        if outcome.status != PackStatus.IMPORTED:
            self.show_message(f"{name}: {outcome.reason}. Nothing was changed.")
            return
        if dry_run:
            if dialogs.confirm(
                self, "Import a definitions pack", f"{outcome.reason}\n\nImport it?"
            ):
                self._run_import(path, dry_run=False, fingerprint=fingerprint)
            else:
                self.show_message(f"{name} was not imported: nothing was changed.")
            return
        self._clear_pending()
        self.show_message(f"✓ Imported {name}: {outcome.reason}")
        self.refresh()
