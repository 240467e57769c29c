"""`make bench`: run every benchmark and print one table of ratios against their baselines."""

from __future__ import annotations

import sys
import tempfile
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


def main() -> int:
    from skp_desktop.services.trust import key_folder_for_now

    rows: list[Result] = []
    # files are signed with a throwaway key, never the user's (issue 16)
    with (
        tempfile.TemporaryDirectory(prefix="skp-bench-key-") as keys,
        key_folder_for_now(Path(keys)),
    ):
        for module in BENCHMARKS:
            rows += module.run()
    print(f"{'benchmark':<36} {'ours':>10} {'baseline':>10} {'ratio':>7} {'goal':>7}  holds")
    for row in rows:
        goal = "—" if row.goal == float("inf") else f"{row.goal:.1f}x"
        holds = ("yes" if row.holds else "NO") if row.goal != float("inf") else ""
        print(
            f"{row.name:<36} {row.ours * 1000:>8.1f}ms {row.baseline * 1000:>8.1f}ms "
            f"{row.ratio:>6.2f}x {goal:>7}  {holds} {row.note}".rstrip()
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
