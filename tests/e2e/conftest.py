"""End-to-end fixtures: the real `skp-returns` console script, run in subprocesses.

Every call gets `--db` pointing at a database under a pytest temporary folder and an
environment in which `SKP_DB` is unset and HOME, the XDG folders and the log folder all point
into that temporary folder, so the user's real data is never touched.

Each call costs about a second of start-up, so databases are built once per session and copied:
`blank_template` (catalogue only), `scenario` (a few returns entered and submitted through the
command line) and `demo_template` (`init --demo`, started in the background as soon as the
session begins because it takes several seconds). Independent calls run side by side with
`Cli.run_many`, each on its own copy of a database.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .support import ACTOR, SCENARIO_STEPS, SCRIPT, TIMEOUT, Cli, Result, Scenario, copy_database

# --- session fixtures ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def session_cli(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    assert SCRIPT.exists(), f"the console script is not installed at {SCRIPT}"
    return Cli(tmp_path_factory.mktemp("e2e-session"))


@pytest.fixture(scope="session")
def blank_template(session_cli: Cli) -> Path:
    """A database with the default catalogue and nothing else, made by `init`."""
    path = session_cli.root / "blank.sqlite3"
    result = session_cli.run(path, "init")
    assert result.returncode == 0, str(result)
    assert result.stderr == "", str(result)
    assert f"Database {path} is ready" in result.stdout, str(result)
    return path


@pytest.fixture(scope="session")
def scenario(session_cli: Cli, blank_template: Path) -> Scenario:
    """The blank database with SCENARIO_STEPS applied, one command after the other."""
    path = copy_database(blank_template, session_cli.root / "scenario.sqlite3")
    steps = {name: session_cli.run(path, *args) for name, args in SCENARIO_STEPS.items()}
    for result in steps.values():
        assert result.returncode == 0, str(result)
    return Scenario(path, steps)


@dataclass
class _Background:
    path: Path
    process: subprocess.Popen[str]
    result: Result | None = None

    def wait(self) -> Result:
        if self.result is None:
            stdout, stderr = self.process.communicate(timeout=TIMEOUT)
            args = tuple(self.process.args[1:])  # type: ignore[index]
            self.result = Result(args, self.process.returncode, stdout, stderr)
        return self.result


@pytest.fixture(scope="session")
def _demo_build(session_cli: Cli, blank_template: Path) -> Iterator[_Background]:
    path = copy_database(blank_template, session_cli.root / "demo.sqlite3")
    build = _Background(path, session_cli.start(path, "init", "--demo"))
    yield build
    if build.process.poll() is None:
        build.process.kill()
        build.process.communicate()


@pytest.fixture(scope="session", autouse=True)
def _start_demo_build_early(request: pytest.FixtureRequest) -> None:
    """`init --demo` takes several seconds: start it before the first test if any needs it."""
    if any("demo_template" in getattr(i, "fixturenames", ()) for i in request.session.items):
        request.getfixturevalue("_demo_build")


@dataclass(frozen=True)
class DemoTemplate:
    path: Path
    first_init: Result


@pytest.fixture(scope="session")
def demo_template(_demo_build: _Background) -> DemoTemplate:
    """A blank database after one `init --demo`."""
    result = _demo_build.wait()
    assert result.returncode == 0, str(result)
    return DemoTemplate(_demo_build.path, result)


# --- per-module and per-test -----------------------------------------------------------------


@pytest.fixture(scope="module")
def module_cli(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    return Cli(tmp_path_factory.mktemp("e2e-module"))


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


@pytest.fixture
def actor() -> str:
    return ACTOR
