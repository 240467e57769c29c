"""Several clients writing to one PostgreSQL database at once: one chain, nothing lost."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import pytest

from skp_desktop.services import audit, exchange
from skp_desktop.services.database import open_database
from skp_desktop.services.entries import EntryChange
from skp_desktop.services.returns import get_return, record_entries, submit_return

from .support import TIMEOUT, Cli

pytestmark = [pytest.mark.e2e, pytest.mark.postgresql]

# A client that saves one value after another as fast as it can, each in its own transaction.
WRITER = r"""
import os, sys, time
from skp_desktop.services.database import open_database
from skp_desktop.services.entries import EntryChange
from skp_desktop.services.returns import record_entries
url, service, code, kind, times, go = sys.argv[1:7]
db = open_database(url, actor=f"writer-{code}")
print("READY", flush=True)
while not os.path.exists(go):  # start together, so that the writers really contend
    time.sleep(0.01)
for n in range(1, int(times) + 1):
    fields = {"numerator": str(n), "denominator": "100"} if kind == "rate" else {"value": str(n)}
    record_entries(db, service=service, period="FY2024-25-Q1", actor=f"writer-{code}",
                   changes=[EntryChange(code, fields)])
db.dispose()
"""
# (service, indicator, kind): two writers share Children's Services' one draft return.
WRITERS = [
    ("HIGHWAYS", "SAFER-P4-S1", "rate"),
    ("CHILDRENS", "SAFER-P1-B2", "count"),
    ("CHILDRENS", "SAFER-P1-S3", "rate"),
]
TIMES = 10
# Not Q4: its return also asks for the annual indicators.
PERIODS = ("FY2024-25-Q1", "FY2024-25-Q2")


def _return_files(template_database: Path, folder: Path) -> list[Path]:
    """Community Safety's returns for PERIODS, submitted and exported as return files."""
    laptop = open_database(_copy(template_database, folder / "laptop.sqlite3"))
    files = []
    try:
        for period in PERIODS:
            record_entries(
                laptop,
                service="COMMSAFETY",
                period=period,
                actor="sam",
                changes=[
                    EntryChange("SAFER-P3-S1", {"numerator": "10", "denominator": "100"}),
                    EntryChange("SAFER-P3-S2", {"value": "40"}),
                ],
            )
            submit_return(laptop, service="COMMSAFETY", period=period, actor="sam")
            out = folder / f"commsafety-{period}.xlsx"
            exchange.export_return(
                laptop, service="COMMSAFETY", period=period, out=out, actor="sam"
            )
            files.append(out)
    finally:
        laptop.dispose()
    return files


def _copy(source: Path, target: Path) -> Path:
    target.write_bytes(source.read_bytes())
    return target


def test_clients_entering_and_importing_at_once_make_one_chain_and_lose_nothing(
    postgres_url: str, template_database: Path, tmp_path: Path
) -> None:
    files = _return_files(template_database, tmp_path)
    cli = Cli(tmp_path / "cli")
    env = {**cli.env, "SKP_LOG_DIR": str(tmp_path / "logs")}
    go = tmp_path / "go"
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, postgres_url, service, code, kind, str(TIMES), go],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for service, code, kind in WRITERS
    ]
    for writer in writers:
        assert writer.stdout is not None and writer.stdout.readline() == "READY\n"
    go.touch()
    # the real console script, at the same time: an entry and two imports
    calls = [
        ("enter", "--service", "ASC", "--period", "FY2024-25-Q2", "SAFER-P1-S1=3/4"),
        *(("import", str(path)) for path in files),
    ]
    commands = [cli.start(postgres_url, *call) for call in calls]  # type: ignore[arg-type]
    for process in writers + commands:
        out, err = process.communicate(timeout=TIMEOUT)
        assert process.returncode == 0, f"{process.args}: {out} {err}"
        if "import" in process.args:
            assert out.startswith("ACCEPTED\t"), out

    cli.env["SKP_DB"] = postgres_url  # the environment, not --db, names the shared database
    verified = cli.run_raw("verify")
    assert verified.returncode == 0 and verified.stdout.startswith("verify: OK"), str(verified)

    db = open_database(postgres_url)
    try:
        report = audit.verify(db)
        assert report.ok, report.problems
        for service, code, _kind in WRITERS:
            view = get_return(db, service, "FY2024-25-Q1")
            assert view.revision == 1  # never two revision 1s made side by side
            assert view.row(code).value == TIMES
            assert len(audit.history(db, service=service, indicator=code)) == TIMES
        # each writer by its indicator: the server records every event as the login
        codes = {code for _service, code, _kind in WRITERS}
        written = [e.indicator for e in reversed(audit.history(db)) if e.indicator in codes]
        switches = sum(a != b for a, b in itertools.pairwise(written))
        assert switches >= len(WRITERS), "the writers did not run at the same time"
        creations = [e for e in audit.history(db) if e.action == "return.create"]
        assert len(creations) == 3  # Highways, Children's (once, for two writers) and ASC
        assert get_return(db, "ASC", "FY2024-25-Q2").row("SAFER-P1-S1").value == 75
        for period in PERIODS:
            held = get_return(db, "COMMSAFETY", period)
            assert (held.state, held.row("SAFER-P3-S2").value) == ("submitted", 40)
    finally:
        db.dispose()
