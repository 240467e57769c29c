"""The app as a screen reader meets it: read through AT-SPI (what Orca reads) under Xvfb on a
private D-Bus session. Skipped, saying why, where that cannot start (`make at-spi` sets it up).

Tab traps and the Tab order are checked at the Qt level in test_keyboard.py; here every place's
showing interactive objects must be named, focusable, and named with their visible label.
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
    for tool in ("Xvfb", "dbus-run-session"):
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
    # the accessibility bus and its registry first: the app looks for them as it starts
    script = (
        "/usr/libexec/at-spi-bus-launcher --launch-immediately & sleep 1; "
        f"{SYSTEM_PYTHON} -c 'import pyatspi; pyatspi.Registry.getDesktop(0)'; "
        f"{app_python} -m skp_desktop.app --db {folder / 'a.sqlite3'} & app=$!; "
        f"{SYSTEM_PYTHON} {WALKER} {','.join(PLACES)}; kill $app; wait $app 2>/dev/null; true"
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
            timeout=240,
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


DIALOGS = (
    "Help: Entering values (F1)",
    "Open database (Ctrl+O)",
    "Connect to a shared database (Alt+F, C)",
)


@pytest.mark.parametrize("dialog", DIALOGS)
def test_dialogs_opened_by_keyboard_are_named_and_reachable(tree: dict, dialog: str) -> None:
    found = tree["dialogs"][dialog]
    assert "error" not in found, f"{dialog}: {found.get('error')}"
    assert found["objects"] > 0, f"{dialog}: AT-SPI shows no controls"
    assert not found["unnamed"], f"{dialog}: unnamed {found['unnamed']}"
    assert not found["label_not_in_name"], f"{dialog}: {found['label_not_in_name']}"
    assert not found["not_focusable"], f"{dialog}: not reachable {found['not_focusable']}"
