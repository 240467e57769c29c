"""Files the app writes for people (exports, charts, packs): checked first, and a failure to
write said plainly, as the command line's exit statuses expect (docs/contracts.md)."""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterator, Sequence
from pathlib import Path

from skp_desktop.domain.errors import NotFoundError, StoreUnavailable


def check_output(out: Path, *, suffixes: Sequence[str] = (), what: str = "file") -> None:
    """Refuse, as a usage error, an output that cannot be what is asked for: a folder, a
    missing folder, or a name without one of `suffixes`."""
    if out.is_dir():
        raise NotFoundError(f"{out} is a folder: give the name of the {what} to write.")
    if suffixes and out.suffix.lower() not in suffixes:
        given = out.suffix or "no extension"
        if len(suffixes) == 1:
            raise NotFoundError(
                f"Cannot write {out}: the file name of a {what} must end in {suffixes[0]} "
                f"('{given}' is not {suffixes[0]})."
            )
        raise NotFoundError(
            f"Cannot write {out}: a {what} is written as {', '.join(suffixes)}; "
            f"'{given}' is not one of them."
        )
    if not out.parent.is_dir():
        raise NotFoundError(
            f"The folder {out.parent} does not exist: create it, or choose another."
        )


@contextlib.contextmanager
def writing(out: Path, what: str = "file") -> Iterator[None]:
    """Turn the operating system's refusal to write `out` into a StoreUnavailable that says
    why and what to do (exit status 3); a file already there is left as it was."""
    try:
        yield
    except PermissionError as exc:
        program = "Excel" if out.suffix.lower() == ".xlsx" else "another program"
        raise StoreUnavailable(
            f"Cannot write {out}: permission denied. Close it if it is open in {program}, or "
            "choose a folder you can write to."
        ) from exc
    except IsADirectoryError as exc:
        raise NotFoundError(f"{out} is a folder: give the name of the {what} to write.") from exc
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise StoreUnavailable(
                f"Cannot write {out}: the disk is full. Free some space and try again; a {what} "
                "already there is left as it was."
            ) from exc
        if exc.errno == errno.EROFS:
            raise StoreUnavailable(
                f"Cannot write {out}: the disk is read-only. Choose a folder you can write to."
            ) from exc
        raise StoreUnavailable(
            f"Cannot write {out}: {exc.strerror or exc}. Check the disk and try again."
        ) from exc
