"""Every menu action of the main window, declared in one place and enabled from one state.

As Picard's picard/ui/mainwindow/actions.py: `ActionName` names each action, `ACTIONS`
declares its menu, text, shortcut and what it does, and `Actions.update_actions(state)`
enables it together with the page buttons bound to it (Submit on the Return page and
Return ▸ Submit are one action).

Adding a menu item is one line in ACTIONS (and its name in ActionName). `run` is given the
window, or names "module:function" to import on first use, which keeps the module's imports
out of the first paint; e.g. File ▸ Keys…:

    ActionSpec(ActionName.KEYS, "&File", "&Keys…", "skp_desktop.ui.keys_dialog:show_keys"),

Shortcuts go through setShortcuts, not setShortcut: PySide6 resolves setShortcut's overloads
by creating Qt's whole enum namespace (30-50 ms), which the first paint does without.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QAction, QKeySequence

from skp_desktop.domain.vocabulary import Step, allows

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMainWindow, QMenu, QMenuBar, QWidget

# The places, in the order of the list on the left and of Ctrl+1 … Ctrl+7.
PLACES = ("Return", "Dashboard", "Import", "Completeness", "Merge", "Definitions", "History")
# Qt's standard keys, by the names ActionSpec uses (resolved when the menus are built).
_STANDARD = ("Open", "Quit", "Undo", "Refresh", "HelpContents")


class ActionName(StrEnum):
    OPEN_DATABASE = "open_database"
    CONNECT = "connect"
    RECENT = "recent"  # a submenu, filled by the window
    READ_ONLY = "read_only"
    BACK_UP = "back_up"
    RESTORE = "restore"
    KEYS = "keys"
    QUIT = "quit"
    UNDO = "undo"
    REDO = "redo"
    MARK_NOT_AVAILABLE = "mark_not_available"
    MARK_NOT_APPLICABLE = "mark_not_applicable"
    VIEW_RETURN = "view_return"
    VIEW_DASHBOARD = "view_dashboard"
    VIEW_IMPORT = "view_import"
    VIEW_COMPLETENESS = "view_completeness"
    VIEW_MERGE = "view_merge"
    VIEW_DEFINITIONS = "view_definitions"
    VIEW_HISTORY = "view_history"
    SIDE_PANEL = "side_panel"
    THEME_SYSTEM = "theme_system"
    THEME_LIGHT = "theme_light"
    THEME_DARK = "theme_dark"
    SUBMIT = "submit"
    REOPEN = "reopen"
    REFRESH = "refresh"
    EXPORT = "export"
    TEMPLATE = "template"
    VERIFY_HISTORY = "verify_history"
    HELP_ENTRY = "help_entry"
    ABOUT = "about"


@dataclass(frozen=True)
class ActionState:
    """What the actions depend on; the window makes one whenever it changes."""

    database_open: bool = False
    writable: bool = False  # open, and changes can be saved
    sqlite: bool = False  # a file (backups and restore are for files)
    editable: bool = False  # typing is taken (also while the database opens: saves wait)
    return_state: str | None = None  # of the return on the Return page


Run = (
    Callable[[Any], object] | str
)  # given the window (MainWindow: not imported, a cycle); or "module:function" to import


@dataclass(frozen=True)
class ActionSpec:
    name: ActionName
    menu: str  # "&File", or "&View/&Theme" for a submenu
    text: str
    run: Run | None = None
    keys: tuple[str, ...] = ()  # "Ctrl+E", or a standard key's name ("Open")
    tip: str = ""
    checkable: bool = False
    enabled: Callable[[ActionState], bool] | None = None  # None: always enabled
    separator: bool = False  # a line above it
    submenu: bool = False  # the item is a submenu (Open recent), filled by the window
    # the window's own QAction (undo, redo, the side panel's toggle) instead of a new one
    make: Callable[[Any], QAction] | None = None


def _open(state: ActionState) -> bool:
    return state.database_open


def _editable(state: ActionState) -> bool:
    return state.editable


def _can_submit(state: ActionState) -> bool:
    return state.database_open and state.writable and allows(state.return_state, Step.SUBMIT)


def _can_reopen(state: ActionState) -> bool:
    reopenable = allows(state.return_state, Step.REOPEN)
    return state.database_open and state.writable and reopenable


def _can_export(state: ActionState) -> bool:
    exportable = allows(state.return_state, Step.EXPORT) or allows(
        state.return_state, Step.EXPORT_FEEDBACK
    )
    return state.database_open and exportable


def _place(number: int) -> Callable[[Any], object]:
    return lambda window: window.places.setCurrentRow(number)


def _redo(window: Any) -> QAction:
    redo = window.undo_stack.createRedoAction(window, "&Redo")
    keys = QKeySequence.keyBindings(QKeySequence.StandardKey.Redo)
    if QKeySequence("Ctrl+Y") not in keys:  # Windows habit, also wanted elsewhere
        keys.append(QKeySequence("Ctrl+Y"))
    redo.setShortcuts(keys)
    return redo


def _side_panel(window: Any) -> QAction:
    toggle = window.side_panel.toggleViewAction()
    toggle.setText("Side &panel")
    return toggle


N = ActionName
ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec(
        N.OPEN_DATABASE, "&File", "&Open database…", lambda w: w.choose_database(), ("Open",)
    ),
    ActionSpec(
        N.CONNECT,
        "&File",
        "&Connect to a shared database…",
        lambda w: w.connect_to_server(),
        tip="Open the partnership's database on a PostgreSQL server",
    ),
    ActionSpec(N.RECENT, "&File", "Open &recent", submenu=True),
    ActionSpec(
        N.READ_ONLY,
        "&File",
        "Read-only (&auditor) mode",
        tip="Open the database so that nothing can be changed",
        checkable=True,  # toggled(bool) goes to the window's set_read_only
    ),
    ActionSpec(N.BACK_UP, "&File", "&Back up now", lambda w: w.backup_now(), separator=True),
    ActionSpec(
        N.RESTORE,
        "&File",
        "Res&tore a backup…",
        lambda w: w.restore_backup(),
        enabled=lambda s: s.database_open and s.sqlite,
    ),
    # this computer's signing key and the keys the database trusts (issue 16)
    ActionSpec(N.KEYS, "&File", "&Keys…", "skp_desktop.ui.keys_dialog:show_keys"),
    ActionSpec(N.QUIT, "&File", "&Quit", lambda w: w.close(), ("Quit",), separator=True),
    ActionSpec(
        N.UNDO,
        "&Edit",
        "&Undo",
        keys=("Undo",),
        make=lambda w: w.undo_stack.createUndoAction(w, "&Undo"),
    ),
    ActionSpec(N.REDO, "&Edit", "&Redo", make=_redo),
    ActionSpec(
        N.MARK_NOT_AVAILABLE,
        "&Edit",
        "Mark not &available [x]",
        lambda w: w.mark_symbol("[x]"),
        separator=True,
        enabled=_editable,
    ),
    ActionSpec(
        N.MARK_NOT_APPLICABLE,
        "&Edit",
        "Mark not a&pplicable [z]",
        lambda w: w.mark_symbol("[z]"),
        enabled=_editable,
    ),
    *(
        ActionSpec(N(f"view_{place.lower()}"), "&View", place, _place(row), (f"Ctrl+{row + 1}",))
        for row, place in enumerate(PLACES)
    ),
    ActionSpec(N.SIDE_PANEL, "&View", "Side &panel", keys=("F9",), make=_side_panel),
    ActionSpec(N.THEME_SYSTEM, "&View/&Theme", "System", lambda w: w.set_theme("system")),
    ActionSpec(N.THEME_LIGHT, "&View/&Theme", "Light", lambda w: w.set_theme("light")),
    ActionSpec(N.THEME_DARK, "&View/&Theme", "Dark", lambda w: w.set_theme("dark")),
    ActionSpec(N.SUBMIT, "&Return", "&Submit…", lambda w: w.submit(), enabled=_can_submit),
    ActionSpec(N.REOPEN, "&Return", "&Reopen…", lambda w: w.reopen(), enabled=_can_reopen),
    ActionSpec(
        N.REFRESH,
        "&Return",
        "Re&fresh",
        lambda w: w.on_return_place(lambda place: place.reload()),
        ("Refresh",),
        enabled=_open,
    ),
    ActionSpec(
        N.EXPORT,
        "&Return",
        "&Export as Excel…",
        lambda w: w.on_return_place(lambda place: place.export_return()),
        ("Ctrl+E",),
        enabled=_can_export,
    ),
    ActionSpec(
        N.TEMPLATE,
        "&Return",
        "Blank return (&template)…",
        lambda w: w.on_return_place(lambda place: place.write_template()),
        enabled=_open,
    ),
    ActionSpec(
        N.VERIFY_HISTORY, "Histor&y", "&Verify history", lambda w: w.verify_history_from_menu()
    ),
    ActionSpec(
        N.HELP_ENTRY, "&Help", "&Entering values", lambda w: w.show_entry_help(), ("HelpContents",)
    ),
    ActionSpec(N.ABOUT, "&Help", "&About SKP Returns", lambda w: w.show_about()),
)


def _shortcuts(action: QAction, keys: tuple[str, ...]) -> None:
    if len(keys) == 1 and keys[0] in _STANDARD:
        action.setShortcuts(getattr(QKeySequence.StandardKey, keys[0]))
    elif keys:
        action.setShortcuts([QKeySequence(key) for key in keys])


def _runner(window: Any, run: Run) -> Callable[[], object]:
    if not isinstance(run, str):
        return lambda: run(window)

    def imported() -> object:  # "module:function", imported when first chosen
        module, _, function = run.partition(":")
        return getattr(importlib.import_module(module), function)(window)

    return imported


class Actions:
    """The window's actions, built from ACTIONS into its menu bar."""

    def __init__(self, window: QMainWindow, specs: tuple[ActionSpec, ...] = ACTIONS) -> None:
        self._specs = {spec.name: spec for spec in specs}
        self._actions: dict[ActionName, QAction] = {}
        self._buttons: dict[ActionName, list[QWidget]] = {}
        self.menus: dict[str, QMenu] = {}  # by path, e.g. "&View/&Theme" or "&File/recent"
        bar = window.menuBar()
        for spec in specs:
            menu = self._menu(bar, spec.menu)
            if spec.separator:
                menu.addSeparator()
            if spec.submenu:
                self.menus[f"{spec.menu}/{spec.name}"] = menu.addMenu(spec.text)
                continue
            action = spec.make(window) if spec.make else QAction(spec.text, window)
            _shortcuts(action, spec.keys)
            if spec.tip:
                action.setToolTip(spec.tip)
            action.setCheckable(spec.checkable)
            if spec.run is not None:
                action.triggered.connect(_runner(window, spec.run))
            menu.addAction(action)
            self._actions[spec.name] = action

    def _menu(self, bar: QMenuBar, path: str) -> QMenu:
        if path not in self.menus:
            parent, _, title = path.rpartition("/")
            self.menus[path] = (self._menu(bar, parent) if parent else bar).addMenu(title)
        return self.menus[path]

    def __getitem__(self, name: ActionName) -> QAction:
        return self._actions[name]

    def submenu(self, name: ActionName) -> QMenu:
        spec = self._specs[name]
        return self.menus[f"{spec.menu}/{spec.name}"]

    def bind(self, name: ActionName, button: QWidget) -> None:
        """A page's button that does what the action does: enabled together with it."""
        self._buttons.setdefault(name, []).append(button)

    def update_actions(self, state: ActionState) -> None:
        """Enable each action, and the buttons bound to it, as `state` allows."""
        for name, spec in self._specs.items():
            if spec.enabled is None or name not in self._actions:
                continue
            on = spec.enabled(state)
            self._actions[name].setEnabled(on)
            for button in self._buttons.get(name, ()):
                button.setEnabled(on)
