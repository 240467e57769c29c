"""Return files from several services, and runs of the console script killed at chosen moments.

The returns are built in-process on a copy of the catalogue-only template (quick), then sent as
Excel files; the tests run `skp-returns` on them in subprocesses, as a coordinator would.
"""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skp_desktop.domain.definitions import Definition, Unit
from skp_desktop.services import exchange
from skp_desktop.services.catalogue import list_services
from skp_desktop.services.database import Database
from skp_desktop.services.returns import EntryChange, get_return, record_entries, submit_return

from .support import SCRIPT, TIMEOUT

ACTOR = "Crash Tester"
# What a value row holds, as the import must store it (compared column by column).
VALUE_COLUMNS = ("numerator", "denominator", "value", "symbol", "commentary", "explanation")


def plausible(rules: Definition, step: int) -> dict[str, str]:
    """A valid figure for any indicator of the catalogue, a little different at each step."""
    if rules.has_fraction:
        if rules.unit is Unit.PERCENT:
            return {"numerator": str(150 + step), "denominator": "200"}
        return {"numerator": str(12000 + 10 * step), "denominator": "170000"}
    if rules.unit is Unit.PERCENT:
        return {"value": str(70 + step % 5)}
    if rules.unit is Unit.SCORE:
        return {"value": "62.5"}
    if rules.unit is Unit.COUNT:
        return {"value": str(90 + step)}
    return {"value": "700"}


@dataclass(frozen=True)
class SentFile:
    """One return file and what the database must hold once it is imported."""

    path: Path
    sha256: str
    service: str
    period: str
    values: tuple[tuple[Any, ...], ...]  # (code, *VALUE_COLUMNS), sorted by code


def submit_and_send(
    db: Database, periods: Sequence[str], folder: Path, *, commentary: int = 1500
) -> list[SentFile]:
    """Every service's return for each period, entered, submitted and exported to `folder`.

    Long commentaries make each import a transaction of some size, so a kill lands inside one.
    """
    folder.mkdir(parents=True, exist_ok=True)
    sent = []
    step = 0
    for period in periods:
        for service in (s.code for s in list_services(db)):
            view = get_return(db, service, period)
            if not view.rows:
                continue
            step += 1
            changes = [
                EntryChange(
                    row.code,
                    plausible(row.indicator.rules, step)
                    | {"commentary": f"{service} {period}: " + "checked. " * (commentary // 9)},
                )
                for row in view.rows
            ]
            record_entries(db, service=service, period=period, changes=changes, actor=ACTOR)
            view = get_return(db, service, period)
            explanations = {row.code: "checked" for row in view.rows if row.needs_explanation}
            submit_return(
                db, service=service, period=period, actor=ACTOR, explanations=explanations
            )
            out = folder / f"{period}-{service}.xlsx"
            exchange.export_return(db, service=service, period=period, out=out, actor=ACTOR)
            sent.append(
                SentFile(
                    out,
                    hashlib.sha256(out.read_bytes()).hexdigest(),
                    service,
                    period,
                    values_held(db_file(db), service, period),
                )
            )
    return sent


def db_file(db: Database) -> Path:
    assert db.url.database
    return Path(db.url.database)


def values_held(path: Path, service: str, period: str) -> tuple[tuple[Any, ...], ...]:
    """The values of a return's latest revision, read with plain sqlite3."""
    columns = ", ".join(f'v."{c}"' for c in VALUE_COLUMNS)
    with closing(sqlite3.connect(path)) as raw:
        return tuple(
            raw.execute(
                f"""SELECT i.code, {columns} FROM "values" v
                JOIN indicators i ON i.id = v.indicator_id
                JOIN returns r ON r.id = v.return_id
                JOIN services s ON s.id = r.service_id
                WHERE s.code = ? AND r.period = ?
                  AND r.revision = (SELECT MAX(revision) FROM returns r2
                                    WHERE r2.service_id = r.service_id AND r2.period = r.period)
                ORDER BY i.code""",
                (service, period),
            ).fetchall()
        )


@dataclass(frozen=True)
class Holding:
    """How much of one imported file a database holds: each part counted on its own."""

    kept_files: int  # rows in imported_files with the file's digest
    kept_bytes_match: bool  # the kept copy is the file, byte for byte
    returns: int  # revisions held for its service and period
    values: tuple[tuple[Any, ...], ...]
    events: int  # audit events that name the file's digest

    def fully_in(self, sent: SentFile) -> bool:
        return (
            self.kept_files == 1
            and self.kept_bytes_match
            and self.returns == 1
            and self.values == sent.values
            and self.events == 1 + len(sent.values)  # return.import, then one per value
        )

    @property
    def not_in(self) -> bool:
        return (self.kept_files, self.returns, self.values, self.events) == (0, 0, (), 0)


def holding(path: Path, sent: SentFile) -> Holding:
    with closing(sqlite3.connect(path)) as raw:
        kept = raw.execute(
            "SELECT content FROM imported_files WHERE sha256 = ?", (sent.sha256,)
        ).fetchall()
        returns = raw.execute(
            "SELECT COUNT(*) FROM returns r JOIN services s ON s.id = r.service_id "
            "WHERE s.code = ? AND r.period = ?",
            (sent.service, sent.period),
        ).fetchone()[0]
        events = raw.execute(
            "SELECT COUNT(*) FROM audit_events WHERE file_sha256 = ?", (sent.sha256,)
        ).fetchone()[0]
    return Holding(
        kept_files=len(kept),
        kept_bytes_match=len(kept) == 1 and bytes(kept[0][0]) == sent.path.read_bytes(),
        returns=returns,
        values=values_held(path, sent.service, sent.period),
        events=events,
    )


def integrity(path: Path) -> str:
    with closing(sqlite3.connect(path)) as raw:
        return str(raw.execute("PRAGMA integrity_check").fetchone()[0])


def dump(path: Path, *, untouched: bool = False) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to show a database did not change.

    `untouched` reads the file as it lies, without even the journal files SQLite makes beside
    it (for a database that nobody has open, in a folder that must not change).
    """
    uri = f"{path.resolve().as_uri()}?mode=ro" + ("&immutable=1" if untouched else "")
    with closing(sqlite3.connect(uri, uri=True)) as raw:
        tables = [
            name
            for (name,) in raw.execute(
                # real tables: not the text search's index, which its events make
                "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' "
                "AND name != 'sqlite_schema' ORDER BY name"
            )
        ]
        return {t: raw.execute(f'SELECT * FROM "{t}" ORDER BY rowid').fetchall() for t in tables}


# --- runs killed with SIGKILL ----------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """What a run of the console script printed before it ended or was killed."""

    lines: list[str]
    stderr: str
    returncode: int
    killed: bool
    seconds: float


def run_until(
    args: Sequence[str],
    env: dict[str, str],
    *,
    stderr_file: Path,
    kill_when: Callable[[list[str]], bool],
    poll: float = 0.001,
) -> Run:
    """Run `skp-returns ARGS`; SIGKILL it the moment `kill_when(lines so far)` is true.

    stdout is read line by line as it comes (the script flushes each line); stderr goes to a
    file, so that a chatty run never blocks on a full pipe.
    """
    started = time.monotonic()
    with stderr_file.open("w") as errors:
        child = subprocess.Popen(
            [str(SCRIPT), *args],
            env={**env, "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
        lines: list[str] = []
        assert child.stdout is not None
        stdout = child.stdout

        def read() -> None:
            for line in stdout:
                lines.append(line.rstrip("\n"))

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        killed = False
        while child.poll() is None:
            if time.monotonic() - started > TIMEOUT:
                child.kill()
                raise AssertionError(f"skp-returns {' '.join(args)} took over {TIMEOUT} s")
            if kill_when(list(lines)):
                child.send_signal(signal.SIGKILL)
                killed = True
                break
            if poll:
                time.sleep(poll)
        child.wait(timeout=TIMEOUT)
        reader.join(timeout=TIMEOUT)
    if killed and child.returncode != -signal.SIGKILL:
        killed = False  # it had finished on its own just before the signal
    return Run(
        lines,
        stderr_file.read_text(),
        child.returncode,
        killed,
        time.monotonic() - started,
    )


def after(seconds: float) -> Callable[[list[str]], bool]:
    """A kill moment: `seconds` after the start."""
    deadline = time.monotonic() + seconds
    return lambda _lines: time.monotonic() >= deadline


def after_lines(count: int, then: float) -> Callable[[list[str]], bool]:
    """A kill moment: `then` seconds after the `count`-th line of output."""
    seen_at: list[float] = []

    def moment(lines: list[str]) -> bool:
        if len(lines) < count:
            return False
        if not seen_at:
            seen_at.append(time.monotonic())
        return time.monotonic() - seen_at[0] >= then

    return moment


def when_exists(folder: Path, prefix: str, suffix: str) -> Callable[[list[str]], bool]:
    """A kill moment: as soon as a file named PREFIX…SUFFIX appears in `folder`."""
    return lambda _lines: any(
        name.startswith(prefix) and name.endswith(suffix) for name in os.listdir(folder)
    )
