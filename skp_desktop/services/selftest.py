"""The installation checks itself: `skp-desktop --self-test` and `skp-returns self-test`.

Every check runs in a temporary folder, never on the user's database: the bundled files are
there, the Qt platform plugin loads, a database is created, migrated, written, read back and its
audit chain verified, a return goes to Excel and back into a second database, and a chart is
drawn as PNG, SVG and PDF. Each check prints one line; the last line is `self-test: OK`, or
`self-test: FAILED: <the checks that failed>`.

Qt is not imported here (services stay below the GUI): the Qt check is a callable the GUI entry
passes in, or by default the GUI program run in a subprocess with `--qt-check`.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TextIO

from skp_desktop import __version__
from skp_desktop.domain.definitions import Definition, Unit
from skp_desktop.domain.errors import SkpError
from skp_desktop.domain.vocabulary import ImportStatus
from skp_desktop.locations import forms_dir, install_root, resources_dir
from skp_desktop.services.database import Database
from skp_desktop.services.dto import ReturnView

log = logging.getLogger(__name__)

ACTOR = "self-test"
PERIOD = "FY2024-25-Q1"
QT_CHECK_FLAG = "--qt-check"
QT_CHECK_TIMEOUT = 60
GUI_PROGRAM = "skp-desktop"

# A callable that loads Qt's platform plugin and says what it loaded; it raises on failure.
QtCheck = Callable[[], str]


class CheckFailed(Exception):
    """A check found something wrong; the message says what, for the person running it."""


@dataclass(frozen=True)
class CheckResult:
    """One check: its name, whether it passed, what it found, and how long it took."""

    name: str
    ok: bool
    detail: str
    seconds: float

    @property
    def line(self) -> str:
        status = "ok" if self.ok else "FAILED"
        return f"{self.name}: {status}: {self.detail} ({self.seconds:.1f} s)"


@dataclass(frozen=True)
class SelfTestReport:
    """Every check's result, in the order they ran."""

    checks: tuple[CheckResult, ...]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def failed(self) -> tuple[str, ...]:
        return tuple(check.name for check in self.checks if not check.ok)

    @property
    def final_line(self) -> str:
        if self.ok:
            return "self-test: OK"
        return f"self-test: FAILED: {', '.join(self.failed)}"

    @property
    def lines(self) -> list[str]:
        return [check.line for check in self.checks] + [self.final_line]


# --- the Qt check, out of process --------------------------------------------------------


def gui_command() -> list[str]:
    """How to start the GUI program: the sibling executable when frozen, else this Python."""
    if getattr(sys, "frozen", False):
        name = GUI_PROGRAM + (".exe" if sys.platform == "win32" else "")
        return [str(Path(sys.executable).resolve().parent / name)]
    return [sys.executable, "-m", "skp_desktop.app"]


def qt_check_in_subprocess() -> str:
    """Run `skp-desktop --qt-check` and report what it says; a crash or abort is a failure."""
    command = [*gui_command(), QT_CHECK_FLAG]
    if not Path(command[0]).exists():
        raise CheckFailed(f"the GUI program {command[0]} is missing")
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=QT_CHECK_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise CheckFailed(
            f"{GUI_PROGRAM} {QT_CHECK_FLAG} did not finish in {exc.timeout} s"
        ) from exc
    said = (done.stdout or "").strip().splitlines()
    if done.returncode == 0:
        return said[-1] if said else "platform plugin loaded"
    # Qt writes why a plugin did not load to stderr before it aborts: pass on the gist of it.
    errors = [line.strip() for line in (done.stderr or "").splitlines() if line.strip()]
    gist = "; ".join((said + errors)[-4:]) or "no message"
    raise CheckFailed(f"{GUI_PROGRAM} {QT_CHECK_FLAG} exited with status {done.returncode}: {gist}")


# --- the checks ----------------------------------------------------------------------------


def check_installation() -> str:
    """The bundled catalogue, forms and migrations are where the app looks for them."""
    from skp_desktop.services.catalogue import catalogue_path
    from skp_desktop.store.migrate import MIGRATIONS_DIR

    catalogue = catalogue_path()
    if not catalogue.is_file():
        raise CheckFailed(f"the catalogue {catalogue} is missing")
    forms = sorted(forms_dir().glob("*.toml"))
    if not forms:
        raise CheckFailed(f"no service forms in {forms_dir()}")
    migrations = sorted((MIGRATIONS_DIR / "versions").glob("*.py"))
    if not (MIGRATIONS_DIR / "env.py").is_file() or not migrations:
        raise CheckFailed(f"the database migrations are missing from {MIGRATIONS_DIR}")
    how = "frozen bundle" if getattr(sys, "frozen", False) else "source checkout"
    resources = sum(path.is_file() for path in resources_dir().rglob("*"))
    return (
        f"version {__version__}, {how} at {install_root()}: catalogue, {len(forms)} forms, "
        f"{len(migrations)} migrations, {resources} resource files"
    )


def check_drivers() -> str:
    """SQLite always; the PostgreSQL driver and its libpq when this installation includes them."""
    import sqlite3

    import sqlalchemy

    found = f"SQLAlchemy {sqlalchemy.__version__}, SQLite {sqlite3.sqlite_version}"
    try:
        psycopg = importlib.import_module("psycopg")
    except ModuleNotFoundError:
        return f"{found}; no PostgreSQL driver in this installation (SQLite only)"
    except ImportError as exc:  # the driver is there but its libpq is not
        raise CheckFailed(f"the PostgreSQL driver does not load: {exc}") from exc
    libpq = psycopg.pq.version()
    return (
        f"{found}, psycopg {psycopg.__version__} ({psycopg.pq.__impl__}) "
        f"with libpq {libpq // 10000}.{libpq % 100}"
    )


def _quantize(value: Decimal, decimals: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def sample_entry(rules: Definition) -> dict[str, str]:
    """A plausible entry for an indicator: on its target where it has one, inside its range."""
    low, high = rules.effective_min, rules.effective_max
    if rules.target is not None:
        aim = rules.target
    elif low is not None and high is not None:
        aim = (low + high) / 2
    else:
        aim = Decimal(50) if rules.unit is Unit.PERCENT else Decimal(10)
    if low is not None:
        aim = max(aim, low)
    if high is not None:
        aim = min(aim, high)
    if rules.has_fraction:
        denominator = Decimal(200) if rules.unit is Unit.PERCENT else Decimal(100_000)
        numerator = (aim * denominator / rules.multiplier).to_integral_value(ROUND_HALF_UP)
        return {"numerator": str(numerator), "denominator": str(denominator)}
    decimals = 0 if rules.is_count else rules.decimals
    return {"value": str(_quantize(aim, decimals))}


@dataclass
class _Scratch:
    """What the database check leaves for the Excel and chart checks."""

    folder: Path
    service: str = ""
    codes: tuple[str, ...] = ()
    entered: dict[str, tuple[object, ...]] | None = None


def _figures(view: ReturnView) -> dict[str, tuple[object, ...]]:
    return {row.code: (row.numerator, row.denominator, row.value, row.symbol) for row in view.rows}


@contextmanager
def _opened(path: Path) -> Iterator[Database]:
    from skp_desktop.services.database import open_database

    db = open_database(path, actor=ACTOR)
    try:
        yield db
    finally:
        db.dispose()


def check_database(scratch: _Scratch) -> str:
    """Create and migrate a database, enter and submit a return, read it back, verify."""
    from skp_desktop.services import audit
    from skp_desktop.services.catalogue import list_services
    from skp_desktop.services.entries import EntryChange
    from skp_desktop.services.returns import get_return, record_entries, submit_return
    from skp_desktop.store.migrate import current_revision, head_revision

    path = scratch.folder / "self-test.sqlite3"
    with _opened(path) as db:
        revision, head = current_revision(db), head_revision()
        if revision != head:
            raise CheckFailed(f"the new database is at schema {revision}, not {head}")
        # the first service whose return for the period asks for something
        views = (get_return(db, service.code, PERIOD) for service in list_services(db))
        chosen = next((view for view in views if view.rows), None)
        if chosen is None:
            raise CheckFailed(f"no service has indicators to return for {PERIOD}")
        changes = [EntryChange(row.code, sample_entry(row.indicator.rules)) for row in chosen.rows]
        record_entries(
            db,
            service=chosen.service.code,
            period=PERIOD,
            changes=changes,
            actor=ACTOR,
            reason="installation self-test",
        )
        draft = get_return(db, chosen.service.code, PERIOD)
        missing = [row.code for row in draft.rows if row.value is None and row.symbol is None]
        if missing:
            raise CheckFailed(f"values written but not read back: {', '.join(missing)}")
        submitted = submit_return(
            db,
            service=chosen.service.code,
            period=PERIOD,
            actor=ACTOR,
            explanations={
                row.code: "installation self-test" for row in draft.rows if row.needs_explanation
            },
        )
        report = audit.verify(db)
        if not report.ok:
            raise CheckFailed("the audit chain does not verify: " + "; ".join(report.problems))
    scratch.service = chosen.service.code
    scratch.codes = tuple(row.code for row in submitted.rows)
    scratch.entered = _figures(submitted)
    return (
        f"created and migrated to schema {head}, {len(scratch.codes)} values of "
        f"{scratch.service} {PERIOD} written, read back and submitted, "
        f"audit chain of {report.events_checked} events verified"
    )


def check_excel(scratch: _Scratch) -> str:
    """Export the submitted return to .xlsx and import it into a second, new database."""
    from skp_desktop.services import audit, exchange
    from skp_desktop.services.returns import get_return

    if scratch.entered is None:
        raise CheckFailed("skipped: the database check did not get far enough")
    out = scratch.folder / "self-test-return.xlsx"
    with _opened(scratch.folder / "self-test.sqlite3") as db:
        written = exchange.export_return(
            db,
            service=scratch.service,
            period=PERIOD,
            out=out,
            actor=ACTOR,
        )
    with _opened(scratch.folder / "self-test-import.sqlite3") as other:
        outcomes = exchange.import_files(other, [out], actor=ACTOR)
        if [o.status for o in outcomes] != [ImportStatus.ACCEPTED]:
            said = "; ".join(o.line for o in outcomes) or "no outcome"
            raise CheckFailed(f"the return written did not import: {said}")
        read = _figures(get_return(other, scratch.service, PERIOD))
        if read != scratch.entered:
            differ = sorted(c for c in scratch.entered if read.get(c) != scratch.entered[c])
            raise CheckFailed(f"values differ after the round trip: {', '.join(differ)}")
        if not audit.verify(other).ok:
            raise CheckFailed("the imported return's audit chain does not verify")
    size, digest = out.stat().st_size, (written.payload_sha256 or "")[:12]
    return (
        f"return written ({size:,} bytes, payload {digest}…), read back into a new database "
        f"with the same {len(read)} values"
    )


def _png_size(data: bytes) -> tuple[int, int]:
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise CheckFailed("the chart is not a PNG image")
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def check_chart(scratch: _Scratch) -> str:
    """Draw the first indicator's trend chart as PNG bytes, and save it as SVG and PDF."""
    import matplotlib

    from skp_desktop.charts.export import figure_png_bytes
    from skp_desktop.charts.trend import trend_figure
    from skp_desktop.services.trends import export_trend_chart, indicator_trend

    if not scratch.codes:
        raise CheckFailed("skipped: the database check did not get far enough")
    code = scratch.codes[0]
    with _opened(scratch.folder / "self-test.sqlite3") as db:
        series = indicator_trend(db, code, service=scratch.service)
        png = figure_png_bytes(trend_figure(series))
        width, height = _png_size(png)
        others = []
        for suffix in (".svg", ".pdf"):
            target = scratch.folder / f"self-test-chart{suffix}"
            export_trend_chart(db, code, str(target), service=scratch.service)
            if target.stat().st_size < 500:
                raise CheckFailed(f"the {suffix} chart is empty")
            others.append(suffix[1:].upper())
    return (
        f"{code} drawn as a {width}×{height} PNG ({len(png):,} bytes), "
        f"and as {' and '.join(others)} (matplotlib {matplotlib.__version__})"
    )


# --- running them --------------------------------------------------------------------------


def _run_check(name: str, check: Callable[[], str]) -> CheckResult:
    started = time.perf_counter()
    try:
        detail, ok = check(), True
    except CheckFailed as exc:
        detail, ok = str(exc), False
    except SkpError as exc:
        detail, ok = f"{type(exc).__name__}: {exc}", False
    except Exception as exc:  # a self-test reports every failure; the traceback goes to the log
        log.error("self-test check %s failed\n%s", name, traceback.format_exc())
        detail, ok = f"{type(exc).__name__}: {exc}", False
    result = CheckResult(name, ok, detail.replace("\n", " "), time.perf_counter() - started)
    (log.info if ok else log.error)("self-test %s", result.line)
    return result


def run_self_test(
    *,
    qt_check: QtCheck | None = None,
    emit: Callable[[str], None] | None = None,
    folder: str | os.PathLike[str] | None = None,
) -> SelfTestReport:
    """Run every check in a temporary folder (inside `folder` when given).

    `qt_check` loads Qt's platform plugin (default: the GUI program with `--qt-check`, in a
    subprocess); `emit` receives each line as soon as its check is done, then the final one.
    """
    checks: list[CheckResult] = []

    def record(name: str, check: Callable[[], str]) -> None:
        result = _run_check(name, check)
        checks.append(result)
        if emit is not None:
            emit(result.line)

    log.info("self-test of %s %s started", GUI_PROGRAM, __version__)
    from skp_desktop.services.trust import key_folder_for_now

    with (
        tempfile.TemporaryDirectory(prefix="skp-self-test-", dir=folder) as temporary,
        # a key of its own: the self-test never makes or uses the user's signing key
        key_folder_for_now(Path(temporary) / "key"),
    ):
        scratch = _Scratch(Path(temporary))
        record("installation", check_installation)
        record("drivers", check_drivers)
        record("database", lambda: check_database(scratch))
        record("excel", lambda: check_excel(scratch))
        record("chart", lambda: check_chart(scratch))
        record("qt", qt_check or qt_check_in_subprocess)
    report = SelfTestReport(tuple(checks))
    (log.info if report.ok else log.error)("%s", report.final_line)
    if emit is not None:
        emit(report.final_line)
    return report


def print_lines(stream: TextIO | None = None) -> Callable[[str], None]:
    """An `emit` that prints to a stream (stdout by default), and is quiet when there is none."""

    def emit(line: str) -> None:
        target = stream if stream is not None else sys.stdout
        if target is None:  # a windowed program on Windows has no console
            return
        with contextlib.suppress(OSError, ValueError):
            print(line, file=target, flush=True)

    return emit
