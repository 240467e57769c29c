"""Reads SKP Returns through AT-SPI as a screen reader does; run by Debian's /usr/bin/python3
(python3-pyatspi) from tests/gui/test_accessibility_tree.py, which it answers in JSON.

Waits for the app on the accessibility bus, visits each place by selecting it in the Places
list with the keyboard (as Orca's user would), and reports every showing interactive object that
is unnamed, not focusable, or whose name does not contain its visible label.
"""

import json
import sys
import time

import pyatspi

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
HOME, DOWN = 0xFF50, 0xFF54  # X keysyms


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
    pyatspi.Registry.generateKeyboardEvent(HOME, None, pyatspi.KEY_SYM)
    time.sleep(0.2)
    for _ in range(number):
        pyatspi.Registry.generateKeyboardEvent(DOWN, None, pyatspi.KEY_SYM)
        time.sleep(0.2)


# Dialogs a keyboard user opens by a shortcut from the Return place: what to press, and the
# X keysyms with the modifier mask to hold (Control 4, Alt 8).
DIALOGS = (
    ("Help: Entering values (F1)", 0, 0xFFBE),
    ("Open database (Ctrl+O)", 4, ord("o")),
    ("Connect to a shared database (Alt+F, C)", 8, ord("f"), ord("c")),
)
ESCAPE = 0xFF1B


def press(mask, *keysyms):
    if mask:
        pyatspi.Registry.generateKeyboardEvent(mask, None, pyatspi.KEY_LOCKMODIFIERS)
    pyatspi.Registry.generateKeyboardEvent(keysyms[0], None, pyatspi.KEY_SYM)
    if mask:
        pyatspi.Registry.generateKeyboardEvent(mask, None, pyatspi.KEY_UNLOCKMODIFIERS)
    for keysym in keysyms[1:]:
        time.sleep(0.4)
        pyatspi.Registry.generateKeyboardEvent(keysym, None, pyatspi.KEY_SYM)


def other_windows(app, window):
    found = []
    for child in app:
        if child is None or child == window:
            continue
        try:
            if child.getState().contains(pyatspi.STATE_SHOWING):
                found.append(child)
        except Exception:
            continue
    return found


def visit_dialogs(app, window, place_list, report):
    for name, mask, *keys in DIALOGS:
        choose(place_list, 0)
        window.queryComponent().grabFocus()
        time.sleep(0.3)
        press(mask, *keys)
        dialog = None
        end = time.time() + 8
        while dialog is None and time.time() < end:
            time.sleep(0.5)
            shown = other_windows(app, window)
            dialog = shown[0] if shown else None
        if dialog is None:
            report[name] = {"error": "did not open"}
            continue
        time.sleep(0.5)
        report[name] = check(dialog)
        for _ in range(3):  # Escape closes it (a file dialog's list may take one first)
            press(0, ESCAPE)
            time.sleep(0.5)
            if not other_windows(app, window):
                break


def main():
    places = sys.argv[1].split(",")
    app, window = find_app("skp", 60)
    if window is None:
        print(json.dumps({"error": "the app did not appear on the accessibility bus"}))
        return
    time.sleep(3)  # the database opens and the Return page fills
    report = {}
    place_list = None
    for node in walk(window, set()):
        if node.getRole() == pyatspi.ROLE_LIST and node.name == "Places":
            place_list = node
            break
    if place_list is None:
        print(json.dumps({"error": "no list named Places"}))
        return
    for number, place in enumerate(places):
        choose(place_list, number)
        time.sleep(2.0 if number else 0.5)
        report[place] = check(window)
    dialogs = {}
    visit_dialogs(app, window, place_list, dialogs)
    print(json.dumps({"places": report, "dialogs": dialogs}))


if __name__ == "__main__":
    main()
