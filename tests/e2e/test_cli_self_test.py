"""`skp-returns self-test` and `skp-desktop --self-test` from the source checkout.

A self-test takes seconds (it makes two databases, an Excel file and three charts), so the runs
start together, each in its own isolated folder, and the tests read their results. A Qt that
fails is tried with `--qt-check` alone; test_dist.py runs every case on the frozen bundle.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from skp_desktop.services import selftest

from .support import SCRIPT, TIMEOUT, Cli, Result

CHECKS = ("installation", "drivers", "database", "excel", "chart", "qt")
GUI = (sys.executable, "-m", "skp_desktop.app")
RUNS = {
    "cli": ((str(SCRIPT), "self-test"), None),
    "gui": ((*GUI, "--self-test"), None),
    "qt_fails": ((*GUI, "--qt-check"), "no-such-platform"),
}


@dataclass(frozen=True)
class Run:
    result: Result
    root: Path

    @property
    def lines(self) -> list[str]:
        return self.result.stdout.splitlines()

    def log(self, name: str = "skp-returns.log") -> str:
        return (self.root / "logs" / name).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    started = {}
    for name, (command, platform) in RUNS.items():
        cli = Cli(tmp_path_factory.mktemp(name))
        if platform:
            cli.env["QT_QPA_PLATFORM"] = platform
        process = subprocess.Popen(
            command,
            env=cli.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            encoding="utf-8",
        )
        started[name] = (cli, process)
    done = {}
    for name, (cli, process) in started.items():
        stdout, stderr = process.communicate(timeout=TIMEOUT)
        done[name] = Run(Result(RUNS[name][0], process.returncode, stdout, stderr), cli.root)
    return done


def assert_passed(run: Run) -> None:
    assert run.result.returncode == 0, str(run.result)
    assert run.lines[-1] == "self-test: OK", str(run.result)
    assert [line.split(":")[0] for line in run.lines[:-1]] == list(CHECKS), str(run.result)


def test_the_command_line_self_test_checks_everything_and_says_ok(runs: dict[str, Run]) -> None:
    run = runs["cli"]

    assert_passed(run)
    assert "platform plugin 'offscreen' loaded" in run.lines[-2]  # by skp-desktop --qt-check
    assert not list((run.root / "home").rglob("*.sqlite3")), "the user's database was created"
    assert "self-test: OK" in run.log()


def test_the_apps_self_test_loads_qt_itself_and_logs_the_report(runs: dict[str, Run]) -> None:
    run = runs["gui"]

    assert_passed(run)
    assert "platform plugin 'offscreen' loaded" in run.lines[-2]
    assert "self-test database: ok" in run.log()
    assert "self-test: OK" in run.log()


def test_a_qt_platform_that_does_not_load_fails_the_qt_check_with_qts_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QT_QPA_PLATFORM", "no-such-platform")

    with pytest.raises(selftest.CheckFailed) as failed:
        selftest.qt_check_in_subprocess()

    assert str(failed.value).startswith("skp-desktop --qt-check exited with status")
    assert "no Qt platform plugin could be initialized" in str(failed.value)


def test_when_qt_aborts_the_log_says_why_and_a_crash_trace_is_left(runs: dict[str, Run]) -> None:
    run = runs["qt_fails"]

    assert run.result.returncode != 0, str(run.result)
    assert "no Qt platform plugin could be initialized" in run.result.stderr
    assert "CRITICAL" in run.log() and "no Qt platform plugin could be initialized" in run.log()
    assert "Fatal Python error: Aborted" in run.log("skp-returns.crash.log")
