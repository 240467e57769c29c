"""Reads SKP Returns through AT-SPI as a screen reader does; run by Debian's /usr/bin/python3
(python3-pyatspi) from tests/gui/test_accessibility_tree.py, which it answers in JSON.

Waits for the app on the accessibility bus, gives its window X's input focus with xdotool, and
visits each place by selecting it in the Places list with the keyboard (as Orca's user would).
It reports every showing interactive object that is unnamed, not focusable, or whose name does
not contain its visible label; then presses Tab, and Shift+Tab, from the Places list until the
focus comes back to it, recording each object the bus says took the focus, and reports a trap
and the controls never reached. Then it opens each dialog of DIALOGS by keyboard and does the
same inside it, closes it with Escape and reports where the keyboard is then. Then it walks
places again in another state (AGAIN). Arguments: the places, comma-separated; a file to type
into Restore a backup; the seconds it may take (after that it reports what it did not walk).
Every xdotool call is bounded (XDO_SECONDS); the ones that ran out are reported.
"""

import json
import re
import subprocess
import sys
import time

import pyatspi
from gi.repository import GLib

INTERACTIVE = {
    pyatspi.ROLE_PUSH_BUTTON,
    pyatspi.ROLE_CHECK_BOX,
    pyatspi.ROLE_RADIO_BUTTON,
    pyatspi.ROLE_COMBO_BOX,
    pyatspi.ROLE_TEXT,
    pyatspi.ROLE_ENTRY,
    pyatspi.ROLE_PASSWORD_TEXT,
    pyatspi.ROLE_SPIN_BUTTON,
    pyatspi.ROLE_TABLE,
    pyatspi.ROLE_LIST,
    pyatspi.ROLE_TREE,
    pyatspi.ROLE_PAGE_TAB,
    pyatspi.ROLE_SLIDER,
}


def find_app(name, timeout):
    end = time.time() + timeout
    while time.time() < end:
        desktop = pyatspi.Registry.getDesktop(0)
        for app in desktop:
            if app is not None and name in (app.name or "").lower():
                for window in app:
                    if window is not None and window.getRole() == pyatspi.ROLE_FRAME:
                        return app, window
        time.sleep(0.5)
    return None, None


def walk(node, seen, depth=0):
    if node is None or depth > 40:
        return
    try:
        states = node.getState()
    except Exception:
        return
    if not states.contains(pyatspi.STATE_SHOWING):
        return
    yield node
    if node.getRole() in (pyatspi.ROLE_TABLE, pyatspi.ROLE_TREE, pyatspi.ROLE_LIST):
        return
    for number, child in enumerate(node):
        if number > 400:
            break
        yield from walk(child, seen, depth + 1)


def plain(text):
    return " ".join((text or "").replace("&", "").replace("…", "").rstrip(":").split()).lower()


def describe(node):
    return f"{node.getRoleName()} '{node.name}'"


def check(window):
    found = {"objects": 0, "unnamed": [], "label_not_in_name": [], "not_focusable": []}
    for node in walk(window, set()):
        role = node.getRole()
        if role not in INTERACTIVE:
            continue
        states = node.getState()
        if not states.contains(pyatspi.STATE_ENABLED):
            continue
        found["objects"] += 1
        name = node.name or ""
        # the control's own label (a group box's title labels a whole group, not each field)
        labels = [
            plain(relation.getTarget(i).name)
            for relation in node.getRelationSet()
            if relation.getRelationType() == pyatspi.RELATION_LABELLED_BY
            for i in range(relation.getNTargets())
            if relation.getTarget(i).getRole() == pyatspi.ROLE_LABEL
        ]
        if role == pyatspi.ROLE_COMBO_BOX and labels:
            name = " ".join([*labels, name])
        if not name.strip():
            found["unnamed"].append(describe(node) + f" in {describe(node.parent)}")
        # the side panel's title-bar Close takes no focus: F9 (View > Side panel) does the same
        dock_close = role == pyatspi.ROLE_PUSH_BUTTON and name == "Close"
        focusable = states.contains(pyatspi.STATE_FOCUSABLE)
        if role != pyatspi.ROLE_PAGE_TAB and not focusable and not dock_close:
            found["not_focusable"].append(describe(node))
        for label in labels:
            if label and label not in plain(name):
                found["label_not_in_name"].append(f"{describe(node)} labelled '{label}'")
        if role in (pyatspi.ROLE_PUSH_BUTTON, pyatspi.ROLE_CHECK_BOX):
            try:
                shown = node.queryText().getText(0, -1)
            except Exception:
                shown = ""
            if shown and plain(shown) not in plain(name):
                found["label_not_in_name"].append(f"{describe(node)} shows '{shown}'")
    return found


def choose(place_list, number):
    """Show a place as a keyboard user would: into the Places list, Home, then Down to it."""
    place_list.queryComponent().grabFocus()
    time.sleep(0.3)
    key("Home")
    for _ in range(number):
        key("Down")
        time.sleep(0.1)


# --- the keyboard, as X delivers it, and focus as AT-SPI reports it ---------------------------
#
# Without a window manager X gives no window the input focus, so keys synthesised on the
# accessibility bus reached nothing and no focus event came back. xdotool gives the app's window
# X's input focus (windowfocus: Xvfb has no window manager for windowactivate) and types into it;
# the focus events come back on the bus as Orca hears them.

FOCUSED = []  # the objects that took the focus since the last key, oldest first


def _on_focus(event):
    if event.detail1:
        FOCUSED.append(event.source)


def pump(seconds, until=None):
    """Deliver the bus's events for up to `seconds`, or until `until()` holds."""
    context = GLib.MainContext.default()
    end = time.time() + seconds
    while time.time() < end:
        while context.iteration(False):
            pass
        if until is not None and until():
            return True
        time.sleep(0.02)
    return False


XDO_SECONDS = 10
XDO_TIMEOUTS = []  # the xdotool calls that did not finish in time, for the report


def xdo(*args):
    """xdotool, bounded: `windowfocus --sync` waits for ever on a window that never takes the
    focus, so each call gets XDO_SECONDS and the walk carries on without it."""
    try:
        return subprocess.run(
            ["xdotool", *args], capture_output=True, text=True, timeout=XDO_SECONDS, check=False
        )
    except subprocess.TimeoutExpired:
        XDO_TIMEOUTS.append(" ".join(args))
        return None


def key(*names, wait=0.05):
    FOCUSED.clear()
    for name in names:
        xdo("key", "--clearmodifiers", name)
        pump(wait)


def type_text(text):
    xdo("type", "--delay", "20", text)


def focus_window():
    found = xdo("search", "--onlyvisible", "--name", "^SKP Returns")
    windows = found.stdout.split() if found is not None else []
    for window in windows:
        xdo("windowfocus", "--sync", window)
    return bool(windows)


CONTAINERS = {pyatspi.ROLE_TABLE, pyatspi.ROLE_TREE_TABLE, pyatspi.ROLE_LIST, pyatspi.ROLE_TREE}
ITEMS = {
    pyatspi.ROLE_TABLE_CELL,
    pyatspi.ROLE_LIST_ITEM,
    pyatspi.ROLE_TREE_ITEM,
    pyatspi.ROLE_COLUMN_HEADER,
    pyatspi.ROLE_ROW_HEADER,
}


def stop_of(node):
    """(the object Tab is in, the cell in it): a cell counts as its table."""
    try:
        parent = node.parent
        if node.getRole() in ITEMS and parent is not None and parent.getRole() in CONTAINERS:
            return parent, node.getIndexInParent()
    except Exception:
        pass
    return node, None


def column_title(container, cell):
    """' (Answer)' for a cell of a table's Answer column: which column Tab is in."""
    if cell is None:
        return ""
    try:
        table = container.queryTable()
        title = table.getColumnDescription(table.getColumnAtIndex(cell))
    except Exception:
        return ""
    return f" ({title})" if title else ""


def cells(container):
    try:
        table = container.queryTable()
        return table.nRows * table.nColumns
    except Exception:
        try:
            return container.childCount
        except Exception:
            return 0


def ancestors(node, root):
    paths = set()
    for _ in range(60):
        if node is None:
            break
        paths.add(node.path)
        if node.path == root.path:
            break
        try:
            node = node.parent
        except Exception:
            break
    return paths


def tab_round(root, start, controls, forward=True, limit=150):
    """Tab (or Shift+Tab) from `start` until the focus comes back to it. Reports the stops,
    whether it came back, and any object Tab could not leave: the same cell twice running
    (Tab did nothing), or more Tabs in one table than it has cells."""
    if start is not None:
        start.queryComponent().grabFocus()
        pump(0.4)
    else:  # a dialog: from wherever it put the focus
        pump(0.3)
    first = None if start is None else start.path
    reached, stops, trap = set(), [], None
    for node in walk(root, set()) if start is None else ():
        if node.getState().contains(pyatspi.STATE_FOCUSED):  # where the dialog put it
            reached |= ancestors(node, root)
    previous, run = None, 0
    for _ in range(limit):
        key("Tab" if forward else "shift+Tab", wait=0)
        if not pump(1.0, until=lambda: bool(FOCUSED)):
            if len(controls) <= 1:  # one control: Tab rightly stays on it
                break
            trap = f"Tab did nothing after {stops[-1] if stops else 'the start'}"
            break
        pump(0.05)
        node = FOCUSED[-1]
        container, cell = stop_of(node)
        where = describe(container) + ("" if cell is None else f" cell {cell}")
        where += column_title(container, cell)
        stops.append(where)
        reached |= ancestors(node, root)
        if first is None:
            first = container.path
        elif container.path == first and (previous is None or previous[0] != first):
            break  # back round to where it started
        same = previous is not None and previous[0] == container.path
        run = run + 1 if same else 1
        if same and previous[1] == cell:
            trap = f"Tab stayed on {where}"
            break
        if run > cells(container) + 2:
            trap = f"Tab stayed inside {describe(container)} for {run} presses"
            break
        previous = (container.path, cell)
    else:
        trap = trap or "Tab never came back round"
    came_back = trap is None
    return {"stops": stops, "came_back": came_back, "trap": trap}, reached


def unnamed_stops(report):
    """Objects Tab landed on that have no name (a focusable scroll area reads as "filler")."""
    stops = report["forward"]["stops"] + report["back"]["stops"]
    return sorted({stop for stop in stops if stop.split(" cell ")[0].endswith(" ''")})


def interactive(root):
    """The showing, enabled, focusable controls Tab should reach (a page tab is reached
    through its tab bar; the side panel's title-bar Close through F9)."""
    found = []
    for node in walk(root, set()):
        role = node.getRole()
        if role not in INTERACTIVE or role == pyatspi.ROLE_PAGE_TAB:
            continue
        states = node.getState()
        if not states.contains(pyatspi.STATE_ENABLED):
            continue
        if not states.contains(pyatspi.STATE_FOCUSABLE):
            continue
        if role == pyatspi.ROLE_PUSH_BUTTON and node.name == "Close":
            continue
        found.append(node)
    return found


def keyboard(root, start):
    """Both Tab rounds from `start`, and the controls neither reached."""
    report = {}
    controls = interactive(root)
    for direction, forward in (("forward", True), ("back", False)):
        round_, reached = tab_round(root, start, controls, forward)
        report[direction] = round_
        missed = [describe(n) for n in controls if n.path not in reached]
        report[f"never_focused_{direction}"] = missed
    report["unnamed_stops"] = unnamed_stops(report)
    return report


def other_windows(app, window):
    """The app's showing dialogs. (After the places are visited a second frame with the main
    window's title shows on the bus: not a dialog.)"""
    found = []
    for child in app:
        if child is None or child.path == window.path or child.getRole() == pyatspi.ROLE_FRAME:
            continue
        try:
            if child.getState().contains(pyatspi.STATE_SHOWING):
                found.append(child)
        except Exception:
            continue
    return found


def find(root, role, name):
    for node in walk(root, set()):
        if node.getRole() == role and node.name == name:
            return node
    return None


def focus_on(window, role, name):
    node = find(window, role, name)
    if node is None:
        return False
    node.queryComponent().grabFocus()
    pump(0.3)
    return True


def focused_in(root):
    """The object that has the keyboard in `root` (a cell counts as its table), or None. Qt
    marks every tab bar's current tab focused, so a page tab counts only when nothing else is."""
    tabs = []
    for node in walk(root, set()):
        try:
            if node.getState().contains(pyatspi.STATE_FOCUSED):
                if node.getRole() == pyatspi.ROLE_PAGE_TAB:
                    tabs.append(node)
                    continue
                return stop_of(node)[0]
        except Exception:
            continue
    return tabs[0] if tabs else None


# --- what is done in a place before a dialog's keys, and after the dialog opens --------------


def select_first_row(table_name):
    def prepare(window):
        if focus_on(window, pyatspi.ROLE_TABLE, table_name):
            key("ctrl+Home", "Down", "Up")

    return prepare


def wait_until_shown(window, seconds, holds):
    """Pump until some showing object of the window satisfies `holds` (the page has read)."""
    end = time.time() + seconds
    while time.time() < end:
        for node in walk(window, set()):
            try:
                if holds(node):
                    return True
            except Exception:
                continue
        pump(0.5)
    return False


def enabled_button(name):
    def holds(node):
        return (
            node.getRole() == pyatspi.ROLE_PUSH_BUTTON
            and node.name == name
            and node.getState().contains(pyatspi.STATE_ENABLED)
        )

    return holds


def select_submitted_return(window):
    """Children's Services' return for last quarter, submitted in the demo: the matrix's second
    row (services in their own order), the column before the last (the quarter due now).
    Again if the page's reading, finishing late, took the selection away."""
    for _ in range(3):
        if focus_on(window, pyatspi.ROLE_TABLE, "Returns by service and quarter"):
            key("ctrl+Home", "Down", "End", "Left")
        if wait_until_shown(window, 2.0, enabled_button("Return with query…")):
            return


def type_a_due_date(window):
    """Into the due-date editor (Alt+I, its "is on" field), a day earlier: Set is offered.
    Again if the page's reading, finishing late, put the usual date back."""
    for _ in range(4):
        key("alt+i", wait=0.3)
        key("Down", wait=0.5)  # the day before (Up does nothing on the 31st)
        if wait_until_shown(window, 1.5, enabled_button("Set due date")):
            return


def last_quarters_return(window):
    """The Return page on last quarter's return (the period picker lists the newest first:
    next quarter, the one due now, last quarter), which the coordinator returned with a query
    and the service reopened. From Home: an earlier walk may have left another period shown."""
    choose_period(2)
    # read once the status line says there is a query to answer
    wait_until_shown(window, 10.0, lambda node: "to answer" in (node.name or ""))
    pump(0.5)


def then_type(text):
    """Type into the field the dialog gave the keyboard, then Return: the next dialog opens."""

    def then(app, window, dialog):
        first = dialog.path
        type_text(text)
        key("Return")
        end = time.time() + 10
        while time.time() < end:
            pump(0.3)
            found = next((w for w in other_windows(app, window) if w.path != first), None)
            if found is not None:
                return found
        return None

    return then


def choose_period(number):
    """The period picker's `number`th quarter (newest first: next quarter, the one due now,
    ...). Alt+P before each key: once a period's return has read, the grid takes the keyboard."""
    for step in ("Home", *["Down"] * number):
        key("alt+p", wait=0.3)
        key(step, wait=0.3)
        pump(0.4)


def an_accepted_return(window):
    """The Return page on the quarter before last (accepted in the demo): Reopen is offered.
    (Still shown after Reopen's box was cancelled: nothing to choose.)"""
    if wait_until_shown(window, 0.5, enabled_button("Reopen…")):
        return
    for _ in range(3):
        choose_period(3)
        if wait_until_shown(window, 5.0, enabled_button("Reopen…")):
            return


BOX_OPENED_FROM = {}  # a dialog's path: where its keyboard was when a question box opened


def then_open(*keys, first=None):
    """Keys pressed in the dialog (after `first`, e.g. choosing a row) open a question box on
    top of it: that box is walked, then closed on its own, and the keyboard must be back in
    the dialog on the control that opened it."""

    def then(app, window, dialog):
        outer = dialog.path
        if first is not None:
            first(dialog)
        where = focused_in(dialog)
        BOX_OPENED_FROM[outer] = None if where is None else describe(where)
        key(*keys, wait=0.4)
        end = time.time() + 10
        while time.time() < end:
            pump(0.3)
            found = next((w for w in other_windows(app, window) if w.path != outer), None)
            if found is not None:
                return found
        return None

    return then


def select_first_row_in(table_name):
    """In a dialog: the table's first row current, once the dialog has read its rows."""

    def first(dialog):
        for _ in range(2):  # again if the rows, read late, came after the keys
            if focus_on(dialog, pyatspi.ROLE_TABLE, table_name):
                key("ctrl+Home", "Down", "Up", wait=0.2)
            if wait_until_shown(dialog, 3.0, enabled_button("Rename…")):
                return

    return first


def then_keys(*keys):
    """Keys pressed in the dialog (a tab shown by its Alt key): the same dialog is walked."""

    def then(app, window, dialog):
        key(*keys, wait=0.4)
        pump(0.5)
        return dialog

    return then


# Each dialog: the place it is opened from, what is done there first, the keys that open it,
# and what is done in it before it is walked (a file's name typed, a tab shown).
DIALOGS = (
    ("Help: Entering values (F1)", "Return", None, ("F1",), None),
    ("Open database (Ctrl+O)", "Return", None, ("ctrl+o",), None),
    ("Connect to a shared database (Alt+F, C)", "Return", None, ("alt+f", "c"), None),
    ("Keys (Alt+F, K)", "Return", None, ("alt+f", "k"), None),
    ("Explain the warnings (Alt+R, S)", "Return", None, ("alt+r", "s"), None),
    (
        "Submit, once explained (Alt+R, S, an explanation)",
        "Return",
        None,
        ("alt+r", "s"),
        then_type("Cases are now counted when closed"),
    ),
    ("About (Alt+H, A)", "Return", None, ("alt+h", "a"), None),
    ("Indicator chart (Dashboard, Alt+O)", "Dashboard", None, ("alt+o",), None),
    (
        "Comparators (Dashboard, Alt+O, then Alt+O)",
        "Dashboard",
        None,
        ("alt+o",),
        then_keys("alt+o"),
    ),
    ("Services and context (Definitions, Alt+S)", "Definitions", None, ("alt+s",), None),
    (
        "Value timeline (History, Alt+T)",
        "History",
        select_first_row("Audit events"),
        ("alt+t",),
        None,
    ),
    (
        "Return with a query (Completeness, a submitted return, Alt+Q)",
        "Completeness",
        select_submitted_return,
        ("alt+q",),
        None,
    ),
    (
        "Restore a backup's confirmation (Alt+F, T, a file)",
        "Return",
        None,
        ("alt+f", "t"),
        "a file",
    ),
    # the one-line question boxes (dialogs.ask_text); the last on the Return page, whose
    # period it changes (AGAIN's Return chooses its own)
    (
        "Reopen's reason (Return, an accepted return, Alt+R, R)",
        "Return",
        an_accepted_return,
        ("alt+r", "r"),
        None,
    ),
    # a file chooser for saving (dialogs.save_file), on the same return
    (
        "Export's file chooser (Return, an accepted return, Ctrl+E)",
        "Return",
        an_accepted_return,
        ("ctrl+e",),
        None,
    ),
    (
        "Add a series (Dashboard, Alt+O, Alt+O, Alt+S)",
        "Dashboard",
        None,
        ("alt+o",),
        then_open("alt+s", first=lambda dialog: key("alt+o", wait=0.8)),
    ),
    (
        "Rename the service (Definitions, Alt+S, a service, Alt+R)",
        "Definitions",
        None,
        ("alt+s",),
        then_open(
            "alt+r", first=select_first_row_in("Services of the partnership's organisations")
        ),
    ),
)

# Places walked again in another state: (name, place, what is done there first).
AGAIN = (
    ("Completeness, a due date typed", "Completeness", type_a_due_date),
    ("Return, a query to answer", "Return", last_quarters_return),
)
ESCAPE = "Escape"


def wait_for_dialog(app, window, seconds):
    end = time.time() + seconds
    while time.time() < end:
        pump(0.3)
        shown = other_windows(app, window)
        if shown:
            return shown[-1]
    return None


def close_dialogs(app, window):
    """Escape until no dialog shows: how many presses it took (None: it never closed)."""
    for presses in range(1, 5):  # a file dialog's list may take one first
        key(ESCAPE)
        if pump(1.0, until=lambda: not other_windows(app, window)):
            return presses
    return None


def close_the_box(app, window, box, outer):
    """Escape once closes the question box alone; then the dialog under it gets X's input
    focus back (no window manager here to do it) and we hear where its keyboard is.
    Returns (whether one Escape closed the box, the object with the keyboard in the dialog)."""
    key(ESCAPE)
    closed = pump(2.0, until=lambda: all(w.path != box.path for w in other_windows(app, window)))
    FOCUSED.clear()
    found = xdo("search", "--onlyvisible", "--name", "^" + re.escape(outer.name))
    for number in found.stdout.split() if found is not None else []:
        xdo("windowfocus", "--sync", number)
    focus_heard(outer)
    return closed, focused_in(outer)


def focus_once_closed(window):
    """Where the keyboard is in the main window once its dialog has gone. Qt gives it back to
    the control that had it when the window is active again; with no window manager here to
    make it so, the walker gives the window X's input focus, as a window manager would."""
    pump(0.3)
    FOCUSED.clear()
    focus_window()
    node = focus_heard(window)
    detour = in_menus(node)
    for _ in range(3):
        if not in_menus(node):
            break
        # A bare Alt release the window saw late (xdotool's Alt chords on a loaded machine)
        # puts the menu bar in keyboard mode, a menu perhaps open; Escape (twice if a menu
        # is open) leaves it for the control that had the keyboard, as a user would. The
        # detour is reported, not taken for the app moving the keyboard.
        key(ESCAPE)
        node = focus_heard(window)
    return node, detour


def in_menus(node):
    menus = (pyatspi.ROLE_MENU_BAR, pyatspi.ROLE_MENU, pyatspi.ROLE_MENU_ITEM)
    try:
        return node is not None and node.getRole() in menus
    except Exception:
        return False


def focus_heard(window):
    if pump(0.8, until=lambda: bool(FOCUSED)):
        pump(0.2)  # and any that follow at once
        return stop_of(FOCUSED[-1])[0]  # what Orca hears when the window is back
    return focused_in(window)


def time_left():
    return STARTED + BUDGET - time.time()


def open_place(window, place_list, places, place, prepare):
    # a closed dialog leaves X's input focus nowhere (no window manager hands it back)
    focus_window()
    choose(place_list, places.index(place))
    pump(1.0 if place != "Return" else 0.3)
    if prepare is not None:
        prepare(window)
    else:
        window.queryComponent().grabFocus()
        pump(0.2)


def visit_dialogs(app, window, place_list, places, report, file_to_type=""):
    for name, place, prepare, keys, then in DIALOGS:
        if time_left() < 15:
            report[name] = {"not_walked": f"the walk's {BUDGET:.0f} s ran out first"}
            continue
        open_place(window, place_list, places, place, prepare)
        before = focused_in(window)
        pressed = time.time()
        key(*keys, wait=0.4)
        dialog = wait_for_dialog(app, window, 10)
        if dialog is None:  # on a busy machine the keys can land before the window takes them
            focus_window()
            pump(1.0)
            key(*keys, wait=0.4)
            dialog = wait_for_dialog(app, window, 15)
        if dialog is not None and then == "a file":
            dialog = then_type(file_to_type)(app, window, dialog)
        elif dialog is not None and then is not None:
            dialog = then(app, window, dialog)
        if dialog is None:
            report[name] = {"error": "did not open"}
            close_dialogs(app, window)
            continue
        opened_in = round(time.time() - pressed, 1)
        pump(0.4)
        # a question box on top of a dialog that still shows (then_open)
        outer = next((w for w in other_windows(app, window) if w.path != dialog.path), None)
        found = check(dialog)
        found["opened_in"] = opened_in
        found["title"] = dialog.name
        found["keyboard"] = keyboard(dialog, None)
        if outer is not None:
            closed, node = close_the_box(app, window, dialog, outer)
            found["under"] = outer.name
            found["box_closed_alone"] = closed
            found["focus_in_dialog_under"] = None if node is None else describe(node)
            found["focus_in_dialog_before"] = BOX_OPENED_FROM.get(outer.path)
        found["escapes_to_close"] = close_dialogs(app, window)
        after, found["menu_bar_detour"] = focus_once_closed(window)
        found["focus_before"] = None if before is None else describe(before)
        found["focus_after"] = None if after is None else describe(after)
        found["focus_returned"] = (
            before is not None and after is not None and (before.path == after.path)
        )
        report[name] = found
        progress(name)


def visit_again(window, place_list, places, report):
    for name, place, prepare in AGAIN:
        if time_left() < 20:
            report[name] = {"not_walked": f"the walk's {BUDGET:.0f} s ran out first"}
            continue
        open_place(window, place_list, places, place, prepare)
        pump(0.5)
        report[name] = check(window)
        report[name]["keyboard"] = keyboard(window, place_list)
        progress(name)


STARTED = time.time()
BUDGET = 250.0  # seconds; what is left to walk after that is reported as not walked


def progress(what):
    print(f"{time.time() - STARTED:6.1f}s {what}", file=sys.stderr, flush=True)


def main():
    global BUDGET
    places = sys.argv[1].split(",")
    if len(sys.argv) > 3:
        BUDGET = float(sys.argv[3])
    app, window = find_app("skp", 60)
    if window is None:
        print(json.dumps({"error": "the app did not appear on the accessibility bus"}))
        return
    pyatspi.Registry.registerEventListener(_on_focus, "object:state-changed:focused")
    time.sleep(3)  # the database opens and the Return page fills
    if not focus_window():
        print(json.dumps({"error": "xdotool found no window named SKP Returns"}))
        return
    report = {}
    place_list = find(window, pyatspi.ROLE_LIST, "Places")
    if place_list is None:
        print(json.dumps({"error": "no list named Places"}))
        return
    for number, place in enumerate(places):
        if time_left() < 30:
            report[place] = {"not_walked": f"the walk's {BUDGET:.0f} s ran out first"}
            continue
        choose(place_list, number)
        pump(1.5 if number else 0.3)
        report[place] = check(window)
        report[place]["keyboard"] = keyboard(window, place_list)
        progress(place)
    dialogs, again = {}, {}
    visit_dialogs(app, window, place_list, places, dialogs, sys.argv[2])
    visit_again(window, place_list, places, again)
    print(
        json.dumps(
            {
                "places": report,
                "dialogs": dialogs,
                "again": again,
                "xdotool_timeouts": XDO_TIMEOUTS,
            }
        )
    )


if __name__ == "__main__":
    main()
