"""`make bench`: run every benchmark and print one table of ratios against their baselines.

`python -m bench signatures history` runs only the modules named. Each module's elapsed and CPU
time (its own and its child processes') goes to stderr as it ends, and under the table.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
import traceback
from pathlib import Path

from bench import (
    charts,
    dashboard_stall,
    edit_latency,
    exchange,
    frozen_startup,
    history,
    load,
    merge,
    pg_throughput,
    signatures,
    startup,
    strategic_assessment,
    ten_years,
)
from bench.results import Result

BENCHMARKS = (
    startup,
    edit_latency,
    exchange,
    signatures,
    history,
    frozen_startup,
    pg_throughput,
    charts,
    dashboard_stall,
    merge,
    strategic_assessment,
    ten_years,
    load,
)


def _cpu_seconds() -> float:
    """CPU time of this process and of the child processes it has waited for."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _short(module: object) -> str:
    return getattr(module, "__name__", "?").rsplit(".", 1)[-1]


def main(names: list[str]) -> int:
    from skp_desktop.services.trust import key_folder_for_now

    known = {_short(module): module for module in BENCHMARKS}
    unknown = [name for name in names if name not in known]
    if unknown:
        print(f"no benchmark {', '.join(unknown)}; there are: {', '.join(known)}", file=sys.stderr)
        return 2
    chosen = [known[name] for name in names] if names else list(BENCHMARKS)
    rows: list[Result] = []
    spent: list[tuple[str, float, float]] = []
    failed: list[str] = []
    started = time.perf_counter()
    # files are signed with a throwaway key, never the user's (issue 16)
    with (
        tempfile.TemporaryDirectory(prefix="skp-bench-key-") as keys,
        key_folder_for_now(Path(keys)),
    ):
        for module in chosen:
            wall, cpu = time.perf_counter(), _cpu_seconds()
            try:
                rows += module.run()
            except Exception:  # one broken module must not lose the others' rows
                traceback.print_exc()
                failed.append(_short(module))
            wall, cpu = time.perf_counter() - wall, _cpu_seconds() - cpu
            spent.append((_short(module), wall, cpu))
            print(f"bench: {_short(module)} {wall:.0f} s ({cpu:.0f} s CPU)", file=sys.stderr)
    total = time.perf_counter() - started
    print(f"{'benchmark':<36} {'ours':>10} {'baseline':>10} {'ratio':>7} {'goal':>7}  holds")
    for row in rows:
        goal = "—" if row.goal == float("inf") else f"{row.goal:g}x"
        holds = ("yes" if row.holds else "NO") if row.goal != float("inf") else ""
        print(
            f"{row.name:<36} {row.shown(row.ours):>10} {row.shown(row.baseline):>10} "
            f"{row.ratio:>6.2f}x {goal:>7}  {holds} {row.note}".rstrip()
        )
    print(
        "time: "
        + ", ".join(f"{name} {wall:.0f} s" for name, wall, _cpu in spent)
        + f"; CPU {sum(cpu for _n, _w, cpu in spent):.0f} s"
    )
    print(f"total elapsed: {total / 60:.1f} min ({total:.0f} s)")
    if failed:
        print(f"FAILED: {', '.join(failed)} (tracebacks above)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
