"""Signed import (issue 16): the same 200 signed return files imported with every signature
checked against the trusted keys, against the same import with the signature check left out
(the files read as unsigned and taken with --accept-unsigned, as the import was before files
were signed). Goal: ratio ≤ 1.05. After one warm-up import, rounds alternate which arm goes
first, each into a fresh database; medians. Wall time is what a coordinator waits; the process's
CPU time is printed too, because on a shared two-core machine other work moves wall time by more
than the 5% being measured, while the CPU the import itself spends moves far less.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path

from bench.exchange import RETURNS, _make_returns
from bench.results import Result

ROUNDS = 6


def _import(files: Path, target: Path, *, check_signatures: bool) -> tuple[float, float]:
    """Wall and CPU seconds of one import of `files` into `target`."""
    from skp_desktop.excel import file_signature, return_reader
    from skp_desktop.services import exchange
    from skp_desktop.services.database import open_database

    db = open_database(target)
    checked = return_reader.check_signature
    if not check_signatures:  # as before signing: nothing to verify, nothing to look up
        return_reader.check_signature = lambda _values: file_signature.UNSIGNED_FILE
    try:
        start, cpu = time.perf_counter(), time.process_time()
        outcomes = exchange.import_files(
            db, [files], actor="bench", accept_unsigned=None if check_signatures else "bench"
        )
        elapsed = time.perf_counter() - start, time.process_time() - cpu
    finally:
        return_reader.check_signature = checked
        db.dispose()
    wanted = "signed" if check_signatures else "unsigned"
    assert {(o.status, o.signature) for o in outcomes} == {("ACCEPTED", wanted)}, {
        o.reason for o in outcomes
    }
    return elapsed


def run() -> list[Result]:
    from skp_desktop.services.database import open_database

    work = Path(tempfile.mkdtemp())
    try:
        files = work / "returns"
        files.mkdir()
        _make_returns(work / "source.sqlite3", files)
        assert len(list(files.glob("*.xlsx"))) == RETURNS
        blank = work / "blank.sqlite3"
        open_database(blank).dispose()  # trusts this installation's key, as a new database does
        shutil.copyfile(blank, work / "warm-up.sqlite3")  # modules loaded, caches warm
        _import(files, work / "warm-up.sqlite3", check_signatures=True)
        signed: list[tuple[float, float]] = []
        unsigned: list[tuple[float, float]] = []
        arms = [(True, signed), (False, unsigned)]
        for number in range(ROUNDS):
            for check, times in arms if number % 2 == 0 else arms[::-1]:  # neither always first
                target = work / f"target-{number}-{check}.sqlite3"
                shutil.copyfile(blank, target)
                times.append(_import(files, target, check_signatures=check))
        return [
            Result(
                f"import {RETURNS} signed vs unsigned{kind}",
                statistics.median(t[at] for t in signed),
                statistics.median(t[at] for t in unsigned),
                1.05,
                "every signature verified and its key looked up",
            )
            for at, kind in ((0, ""), (1, " (CPU time)"))
        ]
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    from skp_desktop.services.trust import key_folder_for_now

    with tempfile.TemporaryDirectory() as keys, key_folder_for_now(Path(keys)):
        rows = run()
    for row in rows:
        print(f"{row.name}: {row.ours:.2f}s vs {row.baseline:.2f}s = {row.ratio:.3f}x")
