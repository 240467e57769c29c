"""The window's first look at a SQLite database: the pickers and the return, read with the
standard library's sqlite3 while SQLAlchemy is still loading.

It never creates or changes anything (the file is opened read-only), and says None whenever
its look cannot be trusted: then the window opens the database as it always has before it
shows a return. Whatever it shows is read again once the database is open.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from skp_desktop.domain.errors import SkpError
from skp_desktop.domain.periods import PeriodKind, latest_due_period
from skp_desktop.locations import resolve_target
from skp_desktop.services.dto import ReturnView, ServiceInfo
from skp_desktop.services.return_view import read_return, services_of, themes_of
from skp_desktop.store.return_reads import definitions_versions, schema_revision
from skp_desktop.store.schema_head import SCHEMA_HEAD
from skp_desktop.store.sqlite_snapshot import read_only_snapshot, unwritable_reason

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QuickStart:
    """What the window shows before the database is fully open."""

    services: list[ServiceInfo]
    themes: list[tuple[str, str, str]]
    view: ReturnView
    # The file and its folder can be written here: edits typed now can wait for the open.
    writable: bool


def sqlite_file(target: Any) -> Path | None:
    """The SQLite file a `--db`-style target names (None: the built-in one); None for a
    server URL."""
    if target is not None and not isinstance(target, str | os.PathLike):
        return None  # a URL object from the connection dialog
    text = resolve_target(target)
    if "://" in text:
        return None
    return Path(text).expanduser().resolve()  # as store/engine.database_url resolves it


def quick_start(
    target: Any, service: str | None = None, period: str | None = None, *, today: date | None = None
) -> QuickStart | None:
    """Services, themes and the return the Return page would open: `service` when the
    database has it (else the first), `period` (else the quarter due now).

    None when the quick look cannot be trusted: no such file, not a SQLite database, a schema
    other than this version's, no catalogue yet, or any error reading it.
    """
    path = sqlite_file(target)
    if path is None or not path.is_file():
        return None
    try:
        with read_only_snapshot(path) as fetch:
            if schema_revision(fetch) != SCHEMA_HEAD:
                return None  # the full open migrates it (or refuses a newer one)
            services = services_of(fetch)
            if not services or not definitions_versions(fetch):
                return None  # the full open loads the catalogue
            codes = [info.code for info in services]
            chosen = service if service in codes else codes[0]
            due = latest_due_period(PeriodKind.QUARTER, today or date.today())
            view = read_return(fetch, chosen, period or due.code)
            themes = themes_of(fetch)
    except (sqlite3.Error, SkpError) as exc:
        log.info("quick look at %s skipped: %s", path, exc)
        return None
    except Exception:  # a bug here must not stop the app opening: the full open still runs
        log.exception("quick look at %s failed", path)
        return None
    return QuickStart(services, themes, view, writable=unwritable_reason(path) is None)
