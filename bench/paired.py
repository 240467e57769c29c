"""Two (or more) arms timed in turn, so that the machine's moods fall on each alike.

This machine's speed moves by a fifth from one minute to the next (bench/signatures.py
measured it): an arm timed for a minute and then the other for a minute compares two machines
as much as two pieces of code (two full `make bench` runs of the same code gave 1.70× and 2.59×
for PostgreSQL's import against SQLite's). Here each round runs every arm once, the order
reversed every other round (A B, B A, A B, …) so neither is always the one that runs second,
and each arm's figure is the median of its runs.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping


def interleaved(
    arms: Mapping[str, Callable[[], object]], runs: int, *, warm: bool = True
) -> dict[str, float]:
    """Median seconds of each arm over `runs` rounds taken in turn; `warm` runs each once
    first, untimed (its caches, this process's first use of a module)."""
    names = list(arms)
    if warm:
        for name in names:
            arms[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for number in range(runs):
        for name in names if number % 2 == 0 else reversed(names):
            start = time.perf_counter()
            arms[name]()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(spent) for name, spent in times.items()}
