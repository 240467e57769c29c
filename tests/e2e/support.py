"""Running the real `skp-returns` console script for the end-to-end tests."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCRIPT = Path(sys.executable).parent / "skp-returns"
ACTOR = "E2E Tester"
TIMEOUT = 120

# Column keys promised by docs/contracts.md ("Command line").
SERVICE_KEYS = {"code", "name", "organisation"}
CATALOGUE_KEYS = {
    "code",
    "kind",  # indicator or context (issue 18)
    "title",
    "service",
    "theme",
    "level",
    "unit",
    "polarity",
    "frequency",
    "decimals",
    "target",
    "baseline",
    "source",
    "comparators",  # added: the comparator figures the coordinator entered
}
BASELINE_KEYS = {"value", "period", "unit"}
HISTORY_KEYS = {
    "id",
    "at",
    "actor",
    "action",
    "service",
    "period",
    "revision",
    "indicator",
    "old",
    "new",
    "reason",
    "source",
}


@dataclass(frozen=True)
class Result:
    """What one run of the console script did."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    def __str__(self) -> str:
        return (
            f"skp-returns {' '.join(self.args)}\n-> exit {self.returncode}\n"
            f"--- stdout ---\n{self.stdout}--- stderr ---\n{self.stderr}"
        )

    def json(self) -> Any:
        """stdout parsed as JSON: fails unless stdout is exactly one JSON document."""
        assert self.returncode == 0, str(self)
        return json.loads(self.stdout)


@dataclass(frozen=True)
class Call:
    """One planned run: the database and the arguments after `--db PATH`."""

    db: Path
    args: tuple[str, ...]
    actor: str | None = None


@dataclass
class Cli:
    """Runs the console script in an isolated environment rooted at `root`."""

    root: Path
    env: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        home = self.root / "home"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SKP_")}
        if os.environ.get("SKP_KEY_DIR"):  # the run's signing key, enrolled in its databases
            env["SKP_KEY_DIR"] = os.environ["SKP_KEY_DIR"]
        env.update(
            SKP_ACTOR=ACTOR,
            SKP_LOG_DIR=str(self.root / "logs"),
            HOME=str(home),
            XDG_DATA_HOME=str(home / "data"),
            XDG_STATE_HOME=str(home / "state"),
            XDG_CONFIG_HOME=str(home / "config"),
            XDG_CACHE_HOME=str(home / "cache"),
        )
        self.env = env

    @property
    def home(self) -> Path:
        return self.root / "home"

    def command(self, call: Call) -> list[str]:
        prefix = ["--db", str(call.db)]
        if call.actor is not None:
            prefix += ["--actor", call.actor]
        return [str(SCRIPT), *prefix, *call.args]

    def run(self, db: Path, *args: str, actor: str | None = None) -> Result:
        """Run `skp-returns --db DB [--actor NAME] ARGS…` and wait for it."""
        return self._run(Call(db, tuple(args), actor))

    def run_raw(self, *args: str) -> Result:
        """Run `skp-returns ARGS…` exactly as given (for testing `--db` itself)."""
        done = subprocess.run(
            [str(SCRIPT), *args],
            env=self.env,
            capture_output=True,
            encoding="utf-8",
            timeout=TIMEOUT,
            check=False,
        )
        return Result(tuple(args), done.returncode, done.stdout, done.stderr)

    def _run(self, call: Call) -> Result:
        done = subprocess.run(
            self.command(call),
            env=self.env,
            capture_output=True,
            encoding="utf-8",
            timeout=TIMEOUT,
            check=False,
        )
        return Result(self.command(call)[1:], done.returncode, done.stdout, done.stderr)

    def run_many(self, calls: Sequence[Call]) -> list[Result]:
        """Independent calls side by side (give each its own database), results in order."""
        with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
            return list(pool.map(self._run, calls))

    def start(self, db: Path, *args: str) -> subprocess.Popen[str]:
        """Start a call in the background."""
        return subprocess.Popen(
            self.command(Call(db, tuple(args))),
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            encoding="utf-8",
        )


def copy_database(source: Path, target: Path) -> Path:
    """A copy of a closed SQLite database (and its WAL file, if one was left behind)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    for suffix in ("-wal", "-shm"):
        side = Path(f"{source}{suffix}")
        if side.exists():
            shutil.copyfile(side, Path(f"{target}{suffix}"))
    return target


@dataclass(frozen=True)
class Scenario:
    """A database with returns made through the command line, and what each step printed."""

    path: Path
    steps: dict[str, Result]


# The scenario, step by step (all as ACTOR, through the real console script):
SCENARIO_STEPS: dict[str, tuple[str, ...]] = {
    # Highways 2024/25 Q1 stays a draft: 45 of 50 Category 1 defects repaired on time.
    "highways_q1": (
        "enter",
        "--service",
        "HIGHWAYS",
        "--period",
        "FY2024-25-Q1",
        "SAFER-P4-S1=45/50",
    ),
    # Community Safety 2024/25 Q1 entered and submitted.
    "commsafety_q1": (
        "enter",
        "--service",
        "COMMSAFETY",
        "--period",
        "FY2024-25-Q1",
        "SAFER-P3-S1=10/100",
        "SAFER-P3-S2=40",
    ),
    "submit_q1": ("submit", "--service", "COMMSAFETY", "--period", "FY2024-25-Q1"),
    # Community Safety 2024/25 Q2 as a draft: the count doubles (40 -> 80), which is a warning.
    "commsafety_q2": (
        "enter",
        "--service",
        "COMMSAFETY",
        "--period",
        "FY2024-25-Q2",
        "SAFER-P3-S1=10/100",
        "SAFER-P3-S2=80",
    ),
}
