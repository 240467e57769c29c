"""The app as a screen reader meets it: read through AT-SPI (what Orca reads) under Xvfb on a
private D-Bus session, with keys typed by xdotool. Skipped, saying why, where that cannot start
(`make at-spi` sets it up).

For every place, and for ten dialogs opened by keyboard (Help, Open database, Connect, Keys,
Submit on a filled return, About, an indicator's chart, Services and context, a value's
timeline, Restore a backup's confirmation after typing a file's name into its chooser): every
showing interactive object is named, focusable and named with its visible label; and Tab and
Shift+Tab, pressed from the Places list (in a dialog, from where it put the focus), go round
and back without a trap, reaching every one of those objects, as the focus events on the bus
say. A trap is Tab doing nothing, or more Tabs inside one table than it has cells.

Why xdotool: with keys synthesised on the bus (`generateKeyboardEvent`) no focus event ever came
back, because Xvfb runs no window manager and so X gave no window the input focus. `xdotool
windowfocus --sync` on the app's window (windowactivate needs a window manager's
_NET_ACTIVE_WINDOW) does; then `xdotool key Tab` reaches Qt and Qt's focus events reach the bus.
A dialog gets the focus from Qt itself when it opens; when one closes the walker gives it back
to the main window, which a window manager would do.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from skp_desktop.ui.main_window import PLACES

pytestmark = pytest.mark.gui

WALKER = Path(__file__).with_name("atspi_walker.py")
SYSTEM_PYTHON = "/usr/bin/python3"


def _why_not() -> str | None:
    if not sys.platform.startswith("linux"):
        return "AT-SPI is Linux's accessibility bus"
    for tool in ("Xvfb", "dbus-run-session", "xdotool"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (make at-spi)"
    if not Path("/usr/libexec/at-spi-bus-launcher").exists():
        return "at-spi2-core is not installed (make at-spi)"
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import pyatspi"], capture_output=True, text=True, check=False
    )
    if probe.returncode != 0:
        return "python3-pyatspi is not installed for /usr/bin/python3 (make at-spi)"
    return None


def _demo_with_a_filled_draft(database: Path) -> None:
    """The demo history (the Dashboard's and History's dialogs need figures) and this quarter's
    Adult Social Care return filled in, so Submit has something to ask about."""
    from datetime import date

    from skp_desktop.domain.periods import PeriodKind, latest_due_period

    def cli(*args: str) -> None:
        subprocess.run(
            [sys.executable, "-m", "skp_desktop.cli", "--db", str(database), *args],
            check=True,
            capture_output=True,
            env=dict(os.environ, SKP_ACTOR="atspi-test"),
        )

    cli("init", "--demo")
    period = latest_due_period(PeriodKind.QUARTER, date.today()).code
    figures = ("SAFER-P1-S1=166/208", "SAFER-P1-S2=232/332")
    cli("enter", "--service", "ASC", "--period", period, *figures)


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> dict:
    reason = _why_not()
    if reason:
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("atspi")
    display = f":{150 + os.getpid() % 100}"
    xvfb = subprocess.Popen(
        ["Xvfb", display, "-screen", "0", "1366x768x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    app_python = sys.executable
    database = folder / "a.sqlite3"
    _demo_with_a_filled_draft(database)
    backup = folder / "backups" / "copy.sqlite3"  # typed into Restore a backup's file chooser
    backup.parent.mkdir()
    shutil.copyfile(database, backup)
    # the accessibility bus and its registry first: the app looks for them as it starts
    script = (
        "/usr/libexec/at-spi-bus-launcher --launch-immediately & sleep 1; "
        f"{SYSTEM_PYTHON} -c 'import pyatspi; pyatspi.Registry.getDesktop(0)'; "
        f"{app_python} -m skp_desktop.app --db {database} & app=$!; "
        f"{SYSTEM_PYTHON} {WALKER} {','.join(PLACES)} {backup}; "
        "kill $app; wait $app 2>/dev/null; true"
    )
    env = dict(
        os.environ,
        DISPLAY=display,
        QT_QPA_PLATFORM="xcb",
        QT_LINUX_ACCESSIBILITY_ALWAYS_ON="1",
        QT_ACCESSIBILITY="1",
        GTK_MODULES="",
        SKP_ACTOR="atspi-test",
        HOME=str(folder),
        XDG_CONFIG_HOME=str(folder / "config"),
        XDG_DATA_HOME=str(folder / "data"),
    )
    env.pop("QT_QPA_PLATFORMNAME", None)
    try:
        run = subprocess.run(
            ["dbus-run-session", "--", "sh", "-c", script],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )
    finally:
        xvfb.terminate()
        xvfb.wait(10)
    lines = [line for line in run.stdout.splitlines() if line.startswith("{")]
    if not lines:
        pytest.skip(f"AT-SPI did not answer: {run.stderr[-600:]}")
    answer = json.loads(lines[-1])
    if "error" in answer:
        pytest.skip(f"AT-SPI could not read the app: {answer['error']}")
    return answer


@pytest.mark.parametrize("place", PLACES)
def test_every_interactive_object_is_named_with_its_label(tree: dict, place: str) -> None:
    found = tree["places"][place]
    assert found["objects"] > 0, f"{place}: AT-SPI shows no controls"
    assert not found["unnamed"], f"{place}: unnamed {found['unnamed']}"
    assert not found["label_not_in_name"], f"{place}: {found['label_not_in_name']}"
    assert not found["not_focusable"], f"{place}: not reachable {found['not_focusable']}"


def test_each_place_was_visited_through_the_tree(tree: dict) -> None:
    counts = {place: tree["places"][place]["objects"] for place in PLACES}
    assert len(set(counts.values())) > 2, f"the places list did not change the page: {counts}"


def _assert_tab_goes_round(where: str, keyboard: dict) -> None:
    for direction in ("forward", "back"):
        walked = keyboard[direction]
        said = f"{where}, {'Tab' if direction == 'forward' else 'Shift+Tab'}"
        assert walked["trap"] is None, f"{said}: {walked['trap']} ({walked['stops']})"
        assert walked["came_back"], f"{said} never came back round: {walked['stops']}"
        missed = keyboard[f"never_focused_{direction}"]
        assert not missed, f"{said} never reaches {missed}: it went {walked['stops']}"


@pytest.mark.parametrize("place", PLACES)
def test_tab_and_shift_tab_go_round_each_place_reaching_every_control(
    tree: dict, place: str
) -> None:
    """From the Places list, round the page and the side panel and back, as Orca hears it."""
    keyboard = tree["places"][place]["keyboard"]
    _assert_tab_goes_round(place, keyboard)
    assert len(keyboard["forward"]["stops"]) > 2, f"{place}: {keyboard['forward']['stops']}"
    assert keyboard["forward"]["stops"][-1].startswith("list 'Places'")


def test_tab_walks_the_grid_cell_by_cell_and_leaves_it(tree: dict) -> None:
    stops = tree["places"]["Return"]["keyboard"]["forward"]["stops"]
    cells = [stop for stop in stops if stop.startswith("table 'Return grid' cell")]
    assert len(set(cells)) >= 2, f"Tab did not move between the grid's cells: {stops}"
    last = max(i for i, stop in enumerate(stops) if stop.startswith("table 'Return grid'"))
    assert stops[last + 1 :], f"Tab stayed in the grid: {stops}"


# What each dialog is called (in its title), as the walker names it: opened by keyboard from
# the place the walker says, focus put in it by the app (no window manager helps here).
DIALOGS = {
    "Help: Entering values (F1)": "Entering values",
    "Open database (Ctrl+O)": "Open",
    "Connect to a shared database (Alt+F, C)": "Connect to a shared database",
    "Keys (Alt+F, K)": "Keys",
    "Submit a filled return (Alt+R, S)": "Submit the return",
    "About (Alt+H, A)": "About SKP Returns",
    "Indicator chart (Dashboard, Alt+O)": " — ",
    "Services and context (Definitions, Alt+S)": "Services and context measures",
    "Value timeline (History, Alt+T)": "Timeline",
    "Restore a backup's confirmation (Alt+F, T, a file)": "Restore a backup",
}


@pytest.mark.parametrize("dialog", DIALOGS)
def test_dialogs_opened_by_keyboard_are_named_and_tab_goes_round_them(
    tree: dict, dialog: str
) -> None:
    found = tree["dialogs"][dialog]
    assert "error" not in found, f"{dialog}: {found.get('error')}"
    assert DIALOGS[dialog] in found["title"], f"{dialog}: opened '{found['title']}' instead"
    assert found["objects"] > 0, f"{dialog}: AT-SPI shows no controls"
    assert not found["unnamed"], f"{dialog}: unnamed {found['unnamed']}"
    assert not found["label_not_in_name"], f"{dialog}: {found['label_not_in_name']}"
    assert not found["not_focusable"], f"{dialog}: not reachable {found['not_focusable']}"
    _assert_tab_goes_round(dialog, found["keyboard"])
