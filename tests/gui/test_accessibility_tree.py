"""The app as a screen reader meets it: read through AT-SPI (what Orca reads) under Xvfb on a
private D-Bus session, with keys typed by xdotool. Skipped, saying why, where that cannot start
(`make at-spi` sets it up).

For every place, two places again in another state (Completeness with a due date typed, the
Return page on a return with a query to answer), and seventeen dialogs opened by keyboard
(Help, Open database, Connect, Keys, Submit on a return with a warning and the explanations it
asks for, the confirmation once explained, About, an indicator's chart and its Comparators tab,
Services and context, a value's timeline, the coordinator's Return with a query, Restore a
backup's confirmation after typing a file's name into its chooser, the one-line question boxes
of Reopen, Add a series and Rename the service, and Export's save-file chooser): every showing
interactive
object is named, focusable and named with its visible label; and Tab and Shift+Tab, pressed
from the Places list (in a dialog, from where it put the focus), go round and back without a
trap or an unnamed stop, reaching every one of those objects, as the focus events on the bus
say. A trap is Tab doing nothing, or more Tabs inside one table than it has cells. Each dialog
closes with one Escape and the keyboard is back where it was before the dialog opened (a
question box on top of a dialog: back where it was in that dialog).

Bounded, so that it can never hang a test run: every xdotool call has a timeout, the walker
stops itself after WALKER_BUDGET seconds (what it did not reach is skipped, saying so), and the
whole session (both buses, the app, the walker) runs in its own process group, killed whole
after WALK_SECONDS at most, which fails saying so. Xvfb chooses a free display (-displayfd).

Why xdotool: with keys synthesised on the bus (`generateKeyboardEvent`) no focus event ever came
back, because Xvfb runs no window manager and so X gave no window the input focus. `xdotool
windowfocus --sync` on the app's window (windowactivate needs a window manager's
_NET_ACTIVE_WINDOW) does; then `xdotool key Tab` reaches Qt and Qt's focus events reach the bus.
A dialog gets the focus from Qt itself when it opens; when one closes the walker gives it back
to the main window, which a window manager would do.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from skp_desktop.ui.main_window import PLACES

pytestmark = pytest.mark.gui

WALKER = Path(__file__).with_name("atspi_walker.py")
SYSTEM_PYTHON = "/usr/bin/python3"
WALK_SECONDS = 300  # the whole walk, app and buses included; the walker stops itself sooner
WALKER_BUDGET = 250  # the walker skips what is left after this, saying so


def _why_not() -> str | None:
    if not sys.platform.startswith("linux"):
        return "AT-SPI is Linux's accessibility bus"
    for tool in ("Xvfb", "dbus-run-session", "xdotool", "timeout"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (make at-spi)"
    if not Path("/usr/libexec/at-spi-bus-launcher").exists():
        return "at-spi2-core is not installed (make at-spi)"
    try:
        probe = subprocess.run(
            [SYSTEM_PYTHON, "-c", "import pyatspi"],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"/usr/bin/python3 could not import pyatspi: {exc}"
    if probe.returncode != 0:
        return "python3-pyatspi is not installed for /usr/bin/python3 (make at-spi)"
    return None


def _end_group(process: subprocess.Popen) -> None:
    """End a process started with start_new_session=True and everything in its group (the
    buses, the app, the walker), the stragglers its leader left behind too."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(5)


def _start_xvfb() -> tuple[subprocess.Popen, str]:
    """Xvfb on a display nobody uses: it picks a free number itself (-displayfd) and says it,
    so a server left over from an earlier run cannot collide."""
    read, write = os.pipe()
    try:
        xvfb = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write), "-screen", "0", "1366x768x24", "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(write,),
            start_new_session=True,
        )
    finally:
        os.close(write)
    said = b""
    try:
        end = time.monotonic() + 30
        while not said.endswith(b"\n") and time.monotonic() < end:
            ready, _, _ = select.select([read], [], [], max(0.0, end - time.monotonic()))
            if not ready:
                break
            chunk = os.read(read, 32)
            if not chunk:  # Xvfb ended without a display
                break
            said += chunk
    finally:
        os.close(read)
    number = said.decode(errors="replace").strip()
    if not number.isdigit():
        _end_group(xvfb)
        pytest.skip("Xvfb did not start within 30 s (it named no display)")
    return xvfb, f":{number}"


QUERIED = "SAFER-P1-S2"  # the indicator the coordinator asks about on last quarter's return


def _demo_with_a_filled_draft(database: Path) -> None:
    """The demo history (the Dashboard's and History's dialogs need figures); this quarter's
    Adult Social Care return filled in with one figure far from the last (a warning Submit asks
    to explain); and last quarter's returned with a query on one indicator and reopened, so
    there is a query for the service to answer."""
    from datetime import date

    from skp_desktop.domain.periods import PeriodKind, latest_due_period
    from skp_desktop.services import review
    from skp_desktop.services.database import open_database
    from skp_desktop.services.returns import reopen_return

    def cli(*args: str) -> None:
        subprocess.run(
            [sys.executable, "-m", "skp_desktop.cli", "--db", str(database), *args],
            check=True,
            capture_output=True,
            env=dict(os.environ, SKP_ACTOR="atspi-test"),
            timeout=180,
        )

    cli("init", "--demo")
    period = latest_due_period(PeriodKind.QUARTER, date.today())
    # 48% after 80% last quarter: a warning to explain
    figures = ("SAFER-P1-S1=100/208", "SAFER-P1-S2=232/332")
    cli("enter", "--service", "ASC", "--period", period.code, *figures)
    db = open_database(database)
    try:
        last = period.previous().code
        question = {QUERIED: "Is 232 of 332 right?"}
        review.return_with_query(db, service="ASC", period=last, queries=question, actor="Cora")
        reopen_return(db, service="ASC", period=last, reason="the query", actor="atspi-test")
    finally:
        db.dispose()


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> dict:
    reason = _why_not()
    if reason:
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("atspi")
    app_python = sys.executable
    database = folder / "a.sqlite3"
    _demo_with_a_filled_draft(database)
    backup = folder / "backups" / "copy.sqlite3"  # typed into Restore a backup's file chooser
    backup.parent.mkdir()
    shutil.copyfile(database, backup)
    # the accessibility bus and its registry first: the app looks for them as it starts. Each
    # step is bounded (coreutils timeout); the whole session is killed as a group after.
    script = (
        "/usr/libexec/at-spi-bus-launcher --launch-immediately & sleep 1; "
        f"timeout 60 {SYSTEM_PYTHON} -c 'import pyatspi; pyatspi.Registry.getDesktop(0)'; "
        f"{app_python} -m skp_desktop.app --db {database} & app=$!; "
        f"timeout -k 5 {WALKER_BUDGET + 30} "
        f"{SYSTEM_PYTHON} {WALKER} {','.join(PLACES)} {backup} {WALKER_BUDGET}; "
        "kill $app; wait $app 2>/dev/null; true"
    )
    xvfb, display = _start_xvfb()
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
    # Output goes to files, not pipes: a straggler holding a pipe open cannot make us wait.
    out_file, err_file = folder / "walk.json", folder / "walk.err"
    timed_out = False
    try:
        with out_file.open("w") as out, err_file.open("w") as err:
            session = subprocess.Popen(
                ["dbus-run-session", "--", "sh", "-c", script],
                stdout=out,
                stderr=err,
                env=env,
                start_new_session=True,  # its own process group, to kill it whole
            )
            try:
                session.wait(WALK_SECONDS)
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                _end_group(session)
    finally:
        _end_group(xvfb)
    said = err_file.read_text(errors="replace")[-800:]
    if timed_out:
        pytest.fail(f"the AT-SPI walk took more than {WALK_SECONDS} s and was ended: {said}")
    lines = [line for line in out_file.read_text().splitlines() if line.startswith("{")]
    if not lines:
        pytest.skip(f"AT-SPI did not answer: {said}")
    answer = json.loads(lines[-1])
    if "error" in answer:
        pytest.skip(f"AT-SPI could not read the app: {answer['error']}")
    return answer


@pytest.mark.parametrize("place", PLACES)
def test_every_interactive_object_is_named_with_its_label(tree: dict, place: str) -> None:
    found = _walked(tree, "places", place)
    assert found["objects"] > 0, f"{place}: AT-SPI shows no controls"
    assert not found["unnamed"], f"{place}: unnamed {found['unnamed']}"
    assert not found["label_not_in_name"], f"{place}: {found['label_not_in_name']}"
    assert not found["not_focusable"], f"{place}: not reachable {found['not_focusable']}"


def test_each_place_was_visited_through_the_tree(tree: dict) -> None:
    counts = {place: tree["places"][place].get("objects") for place in PLACES}
    assert len(set(counts.values())) > 2, f"the places list did not change the page: {counts}"


def _assert_tab_goes_round(where: str, keyboard: dict) -> None:
    for direction in ("forward", "back"):
        walked = keyboard[direction]
        said = f"{where}, {'Tab' if direction == 'forward' else 'Shift+Tab'}"
        assert walked["trap"] is None, f"{said}: {walked['trap']} ({walked['stops']})"
        assert walked["came_back"], f"{said} never came back round: {walked['stops']}"
        missed = keyboard[f"never_focused_{direction}"]
        assert not missed, f"{said} never reaches {missed}: it went {walked['stops']}"
    assert not keyboard["unnamed_stops"], (
        f"{where}: Tab lands on unnamed {keyboard['unnamed_stops']}"
    )


@pytest.mark.parametrize("place", PLACES)
def test_tab_and_shift_tab_go_round_each_place_reaching_every_control(
    tree: dict, place: str
) -> None:
    """From the Places list, round the page and the side panel and back, as Orca hears it."""
    keyboard = _walked(tree, "places", place)["keyboard"]
    _assert_tab_goes_round(place, keyboard)
    assert len(keyboard["forward"]["stops"]) > 2, f"{place}: {keyboard['forward']['stops']}"
    assert keyboard["forward"]["stops"][-1].startswith("list 'Places'")


def test_tab_walks_the_grid_cell_by_cell_and_leaves_it(tree: dict) -> None:
    stops = _walked(tree, "places", "Return")["keyboard"]["forward"]["stops"]
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
    "Explain the warnings (Alt+R, S)": "Explain the warnings",
    "Submit, once explained (Alt+R, S, an explanation)": "Submit the return",
    "About (Alt+H, A)": "About SKP Returns",
    "Indicator chart (Dashboard, Alt+O)": " — ",
    "Comparators (Dashboard, Alt+O, then Alt+O)": " — ",
    "Services and context (Definitions, Alt+S)": "Services and context measures",
    "Value timeline (History, Alt+T)": "Timeline",
    "Return with a query (Completeness, a submitted return, Alt+Q)": "Return with a query",
    "Restore a backup's confirmation (Alt+F, T, a file)": "Restore a backup",
    "Add a series (Dashboard, Alt+O, Alt+O, Alt+S)": "Add a series",
    "Rename the service (Definitions, Alt+S, a service, Alt+R)": "Rename the service",
    "Reopen's reason (Return, an accepted return, Alt+R, R)": "Reopen the return",
    "Export's file chooser (Return, an accepted return, Ctrl+E)": "Export the return",
}

# The question boxes opened on top of another dialog (by their button's Alt key).
BOXES_ON_DIALOGS = (
    "Add a series (Dashboard, Alt+O, Alt+O, Alt+S)",
    "Rename the service (Definitions, Alt+S, a service, Alt+R)",
)


def _walked(tree: dict, part: str, name: str) -> dict:
    found = tree[part][name]
    if "not_walked" in found:  # a slow machine: the walk stops itself rather than hang
        pytest.skip(f"{name}: {found['not_walked']}")
    assert "error" not in found, f"{name}: {found.get('error')}"
    return found


@pytest.mark.parametrize("dialog", DIALOGS)
def test_dialogs_opened_by_keyboard_are_named_and_tab_goes_round_them(
    tree: dict, dialog: str
) -> None:
    found = _walked(tree, "dialogs", dialog)
    assert DIALOGS[dialog] in found["title"], f"{dialog}: opened '{found['title']}' instead"
    assert found["objects"] > 0, f"{dialog}: AT-SPI shows no controls"
    assert not found["unnamed"], f"{dialog}: unnamed {found['unnamed']}"
    assert not found["label_not_in_name"], f"{dialog}: {found['label_not_in_name']}"
    assert not found["not_focusable"], f"{dialog}: not reachable {found['not_focusable']}"
    _assert_tab_goes_round(dialog, found["keyboard"])


@pytest.mark.parametrize("dialog", DIALOGS)
def test_escape_closes_each_dialog_and_the_keyboard_goes_back_where_it_was(
    tree: dict, dialog: str
) -> None:
    found = _walked(tree, "dialogs", dialog)
    # A file chooser's list may take the first Escape (it closes a popup there first).
    most = 2 if dialog.startswith(("Open database", "Export's file chooser")) else 1
    presses = found["escapes_to_close"]
    assert presses is not None, f"{dialog}: Escape did not close it"
    assert presses <= most, f"{dialog}: Escape closed it only after {presses} presses"
    if dialog in BOXES_ON_DIALOGS:
        # the box's own return is checked below; its dialog's return to the main window is
        # its own entry's (Comparators, Services and context), here disturbed now and then by
        # a late Alt release of the box's Alt key putting the menu bar in keyboard mode
        return
    assert found["focus_returned"], (
        f"{dialog}: the keyboard was on {found['focus_before']} before it opened and on "
        f"{found['focus_after']} after it closed"
        + (" (and Escape from the menu bar)" if found.get("menu_bar_detour") else "")
    )


@pytest.mark.parametrize("box", BOXES_ON_DIALOGS)
def test_escape_closes_a_question_box_alone_and_the_keyboard_goes_back_in_its_dialog(
    tree: dict, box: str
) -> None:
    """One Escape closes the box, not the dialog under it, and the keyboard is where it was in
    that dialog (an Alt key clicks its button without moving the keyboard, as in Qt)."""
    found = _walked(tree, "dialogs", box)
    assert found.get("under"), f"{box}: it did not open on top of its dialog"
    assert found["box_closed_alone"], f"{box}: one Escape did not close it"
    before, after = found["focus_in_dialog_before"], found["focus_in_dialog_under"]
    assert before is not None, f"{box}: no keyboard in {found['under']} before it opened"
    assert after == before, f"{box}: the keyboard was on {before}, then on {after}"


def test_a_question_box_names_its_field_with_the_question(tree: dict) -> None:
    found = _walked(tree, "dialogs", "Reopen's reason (Return, an accepted return, Alt+R, R)")
    stops = found["keyboard"]["forward"]["stops"]
    assert any(stop.startswith("text 'Why does ") for stop in stops), stops
    assert any(stop.startswith("push button 'OK'") for stop in stops), stops


def test_the_explanations_asked_for_reach_the_warning_and_ok(tree: dict) -> None:
    found = _walked(tree, "dialogs", "Explain the warnings (Alt+R, S)")
    stops = found["keyboard"]["forward"]["stops"]
    assert any(stop.startswith("text 'Explanation for SAFER-P1-S1'") for stop in stops), stops
    assert any(stop.startswith("push button 'Cancel'") for stop in stops), stops


def test_the_comparators_tab_is_walked_with_its_table_and_source(tree: dict) -> None:
    found = _walked(tree, "dialogs", "Comparators (Dashboard, Alt+O, then Alt+O)")
    stops = found["keyboard"]["forward"]["stops"]
    assert any(stop.startswith("table 'Comparator figures by period'") for stop in stops), stops
    assert any(stop.startswith("text 'Source of the figures typed'") for stop in stops), stops


def test_the_queries_dialog_offers_each_indicator_to_tick(tree: dict) -> None:
    found = _walked(
        tree, "dialogs", "Return with a query (Completeness, a submitted return, Alt+Q)"
    )
    stops = found["keyboard"]["forward"]["stops"]
    ticks = [stop for stop in stops if stop.startswith("check box 'SAFER-")]
    assert len(ticks) >= 2, f"Tab does not reach each indicator's tick box: {stops}"


# Places walked again in another state: a due date typed on Completeness (Set due date is
# offered); the Return page on last quarter's return, returned with a query to answer.
AGAIN = ("Completeness, a due date typed", "Return, a query to answer")


@pytest.mark.parametrize("where", AGAIN)
def test_places_in_another_state_are_named_and_tab_goes_round(tree: dict, where: str) -> None:
    found = _walked(tree, "again", where)
    assert not found["unnamed"], f"{where}: unnamed {found['unnamed']}"
    assert not found["label_not_in_name"], f"{where}: {found['label_not_in_name']}"
    assert not found["not_focusable"], f"{where}: not reachable {found['not_focusable']}"
    _assert_tab_goes_round(where, found["keyboard"])


def test_set_due_date_is_reached_once_a_date_is_typed(tree: dict) -> None:
    found = _walked(tree, "again", "Completeness, a due date typed")
    stops = found["keyboard"]["forward"]["stops"]
    assert any(stop.startswith("push button 'Set due date'") for stop in stops), stops


def test_tab_reaches_the_answer_to_a_query_in_the_grid(tree: dict) -> None:
    found = _walked(tree, "again", "Return, a query to answer")
    stops = found["keyboard"]["forward"]["stops"]
    answers = [s for s in stops if s.startswith("table 'Return grid'") and "(Answer)" in s]
    assert answers, f"Tab never reaches an Answer cell: {stops}"


def test_no_key_press_or_focus_wait_ran_out_of_time(tree: dict) -> None:
    assert not tree["xdotool_timeouts"], f"xdotool gave up on {tree['xdotool_timeouts']}"
