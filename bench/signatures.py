"""Signed import (issue 16): the same 200 signed return files imported with every signature
checked against the trusted keys, against the same import with the signature check left out
(the files read as unsigned and taken with --accept-unsigned, their events worded as the
import worded them before files were signed). Goal: ratio ≤ 1.05.

This machine's speed moves by a fifth from one second to the next (a plain Python loop's time
does, with no steal reported), so two imports run one after the other differ by more than the
5% being measured: 40 such pairs gave ratios from 0.78 to 1.31. The two arms therefore run in
**lockstep**: a child process per arm, each importing the same files into its own fresh
database, and a baton passed between them after each file is read (the reader thread idle),
so one works while the other waits and both meet the same machine file by file. The same
import against itself (A/A) then comes out within ±1.5% in CPU time and ±0.3% in wall time.
CPU time is the process's (both threads of the import); wall time is the sum of the arm's own
turns. Each of ROUNDS rounds is a paired ratio; the note gives their spread and the 90%
confidence interval of their mean. A further row gives the check's own CPU time (verifying,
the canonical text, judging the signer) as a share of the signed import's.

CPU instructions are counted by valgrind's callgrind (switched on for the import alone, in a
child process per arm, after a warm-up import) on COUNTED_FILES of the files: the same count
whatever else the machine does. They are informative, not the goal: Ed25519's verify is dense
arithmetic that runs ~3-4 instructions a cycle where the import's Python runs ~1, so counting
instructions weighs the check about three times its share of the time (1.46 M of the ~1.75 M
instructions a file's check costs are OpenSSL's verify, the floor). Without valgrind
(`apt-get install valgrind`) the count is left out, saying so.
"""

from __future__ import annotations

import functools
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from bench.exchange import RETURNS, shared_returns
from bench.results import Result

T = TypeVar("T")
ROUNDS = int(os.environ.get("SKP_BENCH_SIGNATURE_ROUNDS", "6"))  # lockstep rounds, ~4 s each
COUNTED_FILES = int(os.environ.get("SKP_BENCH_COUNTED_FILES", "10"))  # 200: ~3 min of CPU
WARM_UP_FILES = 5
SHARE_IMPORTS = 1  # signed imports with the check timed, for its share of the CPU
T_90 = {3: 2.353, 4: 2.132, 5: 2.015, 6: 1.943, 7: 1.895, 8: 1.860, 9: 1.833}  # t, two-sided

# One arm, run under callgrind with instrumentation off until the import starts.
COUNTED = r"""
import os, shutil, subprocess, sys, tempfile
from pathlib import Path
from bench.signatures import _import, _warm_up
files, blank, arm = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
work = Path(tempfile.mkdtemp())
_warm_up(files, blank, work, check_signatures=arm == "signed")  # before the count
shutil.copyfile(blank, work / "counted.sqlite3")

def instrument(on):
    subprocess.run(["callgrind_control", "-i", "on" if on else "off", str(os.getpid())],
                   check=True, capture_output=True)

instrument(True)
_import(files, work / "counted.sqlite3", check_signatures=arm == "signed")
instrument(False)
shutil.rmtree(work)
"""
COLLECTED = re.compile(r"^==\d+== Collected : (\d+)$", re.MULTILINE)


def _import(
    files: Path, target: Path, *, check_signatures: bool, spent: dict[str, float] | None = None
) -> tuple[float, float]:
    """Wall and CPU seconds of one import of `files` into `target`; `spent` adds up the CPU
    time of the signature check (reader thread) and of judging the signer (main thread)."""
    from skp_desktop.excel import file_signature, return_reader
    from skp_desktop.services import exchange, import_store, trust
    from skp_desktop.services.database import open_database

    db = open_database(target)
    checked, judged = return_reader.check_signature, trust.judge_file_signature
    worded = import_store.audit_reason, import_store.import_source
    if not check_signatures:  # as before signing: nothing to verify, nothing to look up
        return_reader.check_signature = lambda _values: file_signature.UNSIGNED_FILE
        # and the events say what they said before signing, not "UNSIGNED, taken because: …"
        import_store.audit_reason = functools.partial(_reason_before_signing, worded[0])
        import_store.import_source = _source_before_signing
    elif spent is not None:
        return_reader.check_signature = _timed(checked, spent, "check")
        trust.judge_file_signature = _timed(judged, spent, "judge")
    try:
        start, cpu = time.perf_counter(), time.process_time()
        outcomes = exchange.import_files(
            db, [files], actor="bench", accept_unsigned=None if check_signatures else "bench"
        )
        elapsed = time.perf_counter() - start, time.process_time() - cpu
    finally:
        return_reader.check_signature, trust.judge_file_signature = checked, judged
        import_store.audit_reason, import_store.import_source = worded
        db.dispose()
    wanted = "signed" if check_signatures else "unsigned"
    assert {(o.status, o.signature) for o in outcomes} == {("ACCEPTED", wanted)}, {
        o.reason for o in outcomes
    }
    return elapsed


def _warm_up(files: Path, blank: Path, work: Path, *, check_signatures: bool) -> None:
    """Import the first WARM_UP_FILES of `files` into a copy of `blank` in `work`: modules
    loaded and caches warm before anything is measured."""
    warm = work / "warm"
    warm.mkdir()
    for path in sorted(files.glob("*.xlsx"))[:WARM_UP_FILES]:
        shutil.copy(path, warm)
    shutil.copyfile(blank, work / "warm.sqlite3")
    _import(warm, work / "warm.sqlite3", check_signatures=check_signatures)


def _reason_before_signing(
    audit_reason: Callable[..., str], imported: Any, revision: int, _verdict: Any
) -> str:
    """An imported file's reason as the import wrote it before files were signed: "revision N
    imported from a return file exported by … at …" (the words a signed file's events keep)."""
    from skp_desktop.services import trust

    return audit_reason(imported, revision, trust.SignerVerdict(trust.SIGNED))


def _source_before_signing(
    file_name: str, _verdict: Any, *, modified: bool, of_value: bool = False
) -> str:
    """An imported file's source as the import wrote it before files were signed."""
    return f"imported from {file_name}" + (
        " (changed after export, accepted as modified)" if modified else ""
    )


def _timed(work: Callable[..., T], spent: dict[str, float], key: str) -> Callable[..., T]:
    """`work`, adding the CPU time of its thread while it runs to spent[key]."""

    def timed(*args: Any, **kwargs: Any) -> T:
        start = time.thread_time()
        try:
            return work(*args, **kwargs)
        finally:
            spent[key] = spent.get(key, 0.0) + time.thread_time() - start

    return timed


# One arm in lockstep: argv = files, blank database, arm ("signed"/"unsigned"), rounds, and
# the two pipe descriptors of its baton (turns received, turns given back).
IN_LOCKSTEP = """
import sys
from pathlib import Path
from bench.signatures import _arm_in_lockstep
_arm_in_lockstep(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] == "signed",
                 int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]))
"""


def _arm_in_lockstep(
    files: Path, blank: Path, check_signatures: bool, rounds: int, given: int, back: int
) -> None:
    """One arm's rounds, each an import of `files` into a copy of `blank`, working only while it
    holds the baton: it gives it back once each file is read, when its reader thread has
    nothing left to do, so no work of one arm runs in the other's turn. Prints one JSON line:
    [own wall seconds, CPU seconds] per round."""
    import json

    from skp_desktop.services import return_import

    turns, answers = os.fdopen(given, "rb", buffering=0), os.fdopen(back, "wb", buffering=0)
    clock: dict[str, float] = {"own": 0.0}  # this round's turns so far; when this turn began

    def give_back() -> None:
        if "began" in clock:
            clock["own"] += time.perf_counter() - clock.pop("began")
        answers.write(b"t")
        if turns.read(1) != b"g":
            raise SystemExit("the other side of the lockstep went away")
        clock["began"] = time.perf_counter()

    work = Path(tempfile.mkdtemp())
    _warm_up(files, blank, work, check_signatures=check_signatures)

    take = return_import._ReadAhead.take

    def take_then_give_back(self: Any, index: int) -> Any:
        read = take(self, index)
        give_back()
        return read

    return_import._ReadAhead.take = take_then_give_back  # type: ignore[method-assign]
    measured = []
    try:
        for number in range(rounds):
            target = work / f"round-{number}.sqlite3"
            shutil.copyfile(blank, target)
            clock.clear()
            clock["own"] = 0.0
            give_back()  # the round begins in this arm's turn
            _wall, cpu = _import(files, target, check_signatures=check_signatures)
            own = clock["own"] + time.perf_counter() - clock.pop("began")
            measured.append([own, cpu])
            target.unlink()
    finally:
        return_import._ReadAhead.take = take  # type: ignore[method-assign]
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(measured), flush=True)
    answers.write(b"e")  # the end: the last turn given back


def _arm_environment() -> dict[str, str]:
    """The environment of an arm's child process: this checkout importable, the same dict and
    set orders in both arms, and this installation's key, which the blank database trusts."""
    from skp_desktop.services.trust import key_folder

    root = Path(__file__).resolve().parents[1]
    return dict(
        os.environ,
        PYTHONHASHSEED="0",
        PYTHONPATH=os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
        SKP_KEY_DIR=str(key_folder()),
    )


def _in_lockstep(files: Path, blank: Path, rounds: int) -> dict[str, list[list[float]]]:
    """Both arms' rounds, run in lockstep (see the module's note): by arm, [own wall, CPU] per
    round."""
    import json

    env = _arm_environment()
    arms = ("signed", "unsigned")
    batons = {}
    children = {}
    for arm in arms:
        given_read, given_write = os.pipe()
        back_read, back_write = os.pipe()
        children[arm] = subprocess.Popen(
            [
                sys.executable,
                "-c",
                IN_LOCKSTEP,
                str(files),
                str(blank),
                arm,
                str(rounds),
                str(given_read),
                str(back_write),
            ],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
            pass_fds=(given_read, back_write),
        )
        os.close(given_read)
        os.close(back_write)
        batons[arm] = (
            os.fdopen(given_write, "wb", buffering=0),
            os.fdopen(back_read, "rb", buffering=0),
        )
    try:
        for arm in arms:  # each warms up, then waits for its first turn
            if batons[arm][1].read(1) != b"t":
                raise RuntimeError(f"the {arm} arm of the lockstep stopped before its first turn")
        # Both arms make the same number of turns (the same files, the same rounds); whichever
        # went second in a step goes first in the next, so neither always follows the other.
        order = list(arms)
        while order:
            for arm in list(order):
                batons[arm][0].write(b"g")
                answer = batons[arm][1].read(1)
                if answer == b"e":
                    order.remove(arm)
                elif answer != b"t":
                    raise RuntimeError(f"the {arm} arm of the lockstep stopped")
            order.reverse()
    finally:
        for give, back in batons.values():
            give.close()
            back.close()
    results = {}
    for arm, child in children.items():
        out, _ = child.communicate()
        if child.returncode != 0 or not out.strip():
            raise RuntimeError(f"the {arm} arm of the lockstep failed ({child.returncode})")
        results[arm] = json.loads(out.strip().splitlines()[-1])
    return results


def _instructions(files: Path, blank: Path, arm: str) -> int:
    """CPU instructions of one import (every thread), counted by callgrind."""
    env = _arm_environment()
    with tempfile.TemporaryDirectory() as folder:
        done = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                f"--callgrind-out-file={folder}/callgrind.out",
                sys.executable,
                "-c",
                COUNTED,
                str(files),
                str(blank),
                arm,
            ],
            env=env,
            capture_output=True,
            text=True,
        )
    found = COLLECTED.findall(done.stderr)
    if done.returncode != 0 or not found:
        raise RuntimeError(f"callgrind failed ({done.returncode}): {done.stderr[-2000:]}")
    return int(found[-1])


def _interval(ratios: list[float]) -> str:
    """The 90% confidence interval of the mean of paired ratios (t on their logarithms)."""
    logs = [math.log(r) for r in ratios]
    if len(logs) < 3:
        return "too few rounds for an interval"
    spread = T_90.get(len(logs) - 1, 1.645) * statistics.stdev(logs) / math.sqrt(len(logs))
    mean = statistics.fmean(logs)
    return f"90% CI {math.exp(mean - spread):.3f}–{math.exp(mean + spread):.3f}"


def run() -> list[Result]:
    from skp_desktop.services.database import open_database

    files, _source, _made = shared_returns()
    assert len(list(files.glob("*.xlsx"))) == RETURNS
    work = Path(tempfile.mkdtemp())
    rows: list[Result] = []
    try:
        blank = work / "blank.sqlite3"
        open_database(blank).dispose()  # trusts this installation's key, as a new database does
        name = f"import {RETURNS} signed vs unsigned"

        both = _in_lockstep(files, blank, ROUNDS)
        signed, unsigned = both["signed"], both["unsigned"]
        # The check's own CPU time as a share of the same import's (both inflate alike when the
        # machine is busy), timed in imports of their own: the timing is not in the rounds above.
        shares = []
        for number in range(SHARE_IMPORTS + 1):  # the first loads modules and warms caches
            target = work / f"share-{number}.sqlite3"
            shutil.copyfile(blank, target)
            spent: dict[str, float] = {}
            _wall, cpu = _import(files, target, check_signatures=True, spent=spent)
            if number:
                shares.append(sum(spent.values()) / cpu)
            target.unlink()
        share = statistics.median(shares)
        cpu_signed = statistics.geometric_mean(s[1] for s in signed)
        rows.append(
            Result(
                f"{name} (CPU share of the check)",
                cpu_signed,
                cpu_signed * (1 - share),
                1.05,
                f"verifying, the canonical text and judging the signer: {share:.1%} of the "
                f"signed import's CPU (imports: {', '.join(f'{x:.1%}' for x in shares)}); "
                "baseline = the rest",
            )
        )
        for at, kind in ((1, "CPU time"), (0, "wall")):
            paired = [s[at] / u[at] for s, u in zip(signed, unsigned, strict=True)]
            rows.append(
                Result(
                    f"{name} ({kind})",
                    # geometric means: their ratio is the mean of the paired ratios
                    statistics.geometric_mean(s[at] for s in signed),
                    statistics.geometric_mean(u[at] for u in unsigned),
                    1.05,
                    f"geometric means of {ROUNDS} rounds run in lockstep; paired ratios "
                    f"{min(paired):.3f}–{max(paired):.3f}, {_interval(paired)}",
                )
            )

        if COUNTED_FILES <= 0:
            pass  # not asked for
        elif shutil.which("valgrind") and shutil.which("callgrind_control"):
            counted = work / "counted"
            counted.mkdir()
            for path in sorted(files.glob("*.xlsx"))[:COUNTED_FILES]:
                shutil.copy(path, counted)
            with ThreadPoolExecutor(max_workers=2) as pool:  # one arm per core
                signed_in, unsigned_in = pool.map(
                    lambda arm: _instructions(counted, blank, arm), ("signed", "unsigned")
                )
            per_file = (signed_in - unsigned_in) / COUNTED_FILES / 1e6
            rows.append(
                Result(
                    f"import {COUNTED_FILES} signed vs unsigned (instructions)",
                    signed_in,
                    unsigned_in,
                    float("inf"),
                    f"informative: {per_file:.2f} M more a file (callgrind, every thread); "
                    "crypto weighs ~3x its time",
                    unit="instructions",
                )
            )
        else:
            print("bench/signatures.py: valgrind is not installed: no instruction count")
        return rows
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    from skp_desktop.services.trust import key_folder_for_now

    os.environ.setdefault("SKP_LOG_DIR", tempfile.mkdtemp())
    with tempfile.TemporaryDirectory() as keys, key_folder_for_now(Path(keys)):
        rows = run()
    for row in rows:
        print(
            f"{row.name}: {row.shown(row.ours)} vs {row.shown(row.baseline)} = {row.ratio:.3f}x; "
            f"{row.note}"
        )
