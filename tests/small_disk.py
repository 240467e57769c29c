"""A real small disk for the tests: a tmpfs of a few MB that fills up, or turns read-only.

Mounting needs root (or CAP_SYS_ADMIN) and the `mount` command; where either is missing the
tests that need a disk are skipped, saying why, and the SQLite-level stand-in (a database
limited with PRAGMA max_page_count, which fails with the same SQLITE_FULL) still runs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class Unavailable(Exception):
    """No small disk can be mounted here; the message says why."""


class SmallDisk:
    """A tmpfs mounted on `path`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._filler = path / ".filler"

    @property
    def free_bytes(self) -> int:
        stats = os.statvfs(self.path)
        return stats.f_bavail * stats.f_frsize

    def fill(self, leave: int) -> None:
        """Take all the free space but `leave` bytes (or as near as the page size allows)."""
        self.free()
        size = self.free_bytes - leave
        if size > 0:
            with self._filler.open("wb") as handle:
                handle.write(b"\0" * size)

    def free(self) -> None:
        """Give back the space `fill` took."""
        self._filler.unlink(missing_ok=True)

    def read_only(self) -> None:
        _mount("-o", "remount,ro", str(self.path))

    def writable(self) -> None:
        _mount("-o", "remount,rw", str(self.path))


def _mount(*args: str) -> None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise Unavailable(f"mount {' '.join(args)} failed: {done.stderr.strip()}")


@contextmanager
def small_disk(path: Path, size: str = "4m") -> Iterator[SmallDisk]:
    """Mount a tmpfs of `size` on `path` (made if missing) for the block; unmount it after."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        raise Unavailable("mounting a small tmpfs needs root")
    if shutil.which("mount") is None or shutil.which("umount") is None:
        raise Unavailable("there is no mount command")
    path.mkdir(parents=True, exist_ok=True)
    _mount("-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path))
    try:
        yield SmallDisk(path)
    finally:
        done = subprocess.run(["umount", str(path)], capture_output=True, check=False)
        if done.returncode != 0:  # a killed child may still hold a file: detach it anyway
            subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)
