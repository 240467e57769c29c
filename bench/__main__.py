"""`make bench`: run every benchmark and print one table of ratios against their baselines."""

from __future__ import annotations

import sys

from bench.startup import run as startup


def main() -> int:
    rows = [startup()]
    print(f"{'benchmark':<34} {'ours':>9} {'baseline':>9} {'ratio':>6} {'goal':>6}  holds")
    for name, ours, baseline, goal in rows:
        ratio = ours / baseline
        holds = "yes" if ratio <= goal else "NO"
        print(f"{name:<34} {ours:>8.3f}s {baseline:>8.3f}s {ratio:>6.2f} {goal:>5.1f}x  {holds}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
