"""Opening the database for a use case: migrate, load the default catalogue on first use."""

from __future__ import annotations

import getpass
import logging
import os
from pathlib import Path

from sqlalchemy import URL
from sqlalchemy.exc import DatabaseError

from skp_desktop.domain.errors import NotFoundError, StateError, StoreUnavailable, ValidationError
from skp_desktop.locations import resolve_target as resolve_target  # re-exported
from skp_desktop.store import migrate
from skp_desktop.store.engine import Database, database_url, open_engine, unwritable_reason
from skp_desktop.store.models import ACTOR_LENGTH

log = logging.getLogger(__name__)

__all__ = [
    "ACTOR_LENGTH",
    "Database",
    "acting_actor",
    "checked_actor",
    "database_url",
    "default_actor",
    "open_database",
    "resolve_target",
    "same_database",
]


def default_actor() -> str:
    """Who is acting, for the audit trail: `$SKP_ACTOR`, else the login name."""
    env = os.environ.get("SKP_ACTOR", "").strip()
    if env:
        return env
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def acting_actor(db: Database, actor: str) -> str:
    """Who the history will name for what this program does: `actor` on a file; on a shared
    database the server's name for the login (migration 0006), whatever `actor` says, since
    the server records every event in that name and refuses any other."""
    identity = db.server_identity()
    return identity.actor if identity is not None else actor


def same_database(target: str | os.PathLike[str], db: Database) -> bool:
    """Whether a `--db`-style path or URL names the database `db` has open."""
    url = database_url(target)
    return url._replace(password=None) == db.url._replace(password=None)


def checked_actor(name: str | None, *, given_as: str = "--actor or SKP_ACTOR") -> str:
    """Who is acting, ready for the audit trail: stripped, and refused when it cannot be kept.

    Every actor column holds ACTOR_LENGTH characters: PostgreSQL refuses a longer name with a
    raw error and SQLite would keep it whole, so it is said once, where the name comes in.
    """
    text = (name or "").strip() or "unknown"
    if len(text) > ACTOR_LENGTH:
        raise ValidationError(
            f"The name of who is acting ({given_as}) is {len(text)} characters long; the "
            f"history records at most {ACTOR_LENGTH}. Give a shorter name, e.g. your login "
            f"name. It began: '{text[:40]}…'"
        )
    return text


def _enrol_own_key(database: Database, actor: str) -> None:
    """A new (or newly upgraded) database trusts this installation's key, so that its own
    exports import here; a key that cannot be made is said in the log, not a failure to open
    (`keys show` and `keys trust` put it right)."""
    from skp_desktop.services.trust import enrol_installation_key

    try:
        enrol_installation_key(database, actor=actor)
    except (OSError, StateError, DatabaseError) as exc:
        log.warning(
            "this installation's signing key was not enrolled in %s: %s", database.display_name, exc
        )


def open_database(
    db: str | os.PathLike[str] | URL | None = None,
    *,
    read_only: bool = False,
    initialise: bool = True,
    actor: str | None = None,
    must_exist: bool = False,
) -> Database:
    """Open a database; a new or old one is migrated and given the default catalogue.

    `actor` is who the audit trail names for loading the catalogue into a new database.
    A SQLite file that cannot be written here (a read-only folder or disk) is opened read-only,
    and `Database.read_only_reason` says why.
    `must_exist`: a missing SQLite file is a NotFoundError instead of a new database.
    """
    from skp_desktop.services.catalogue import ensure_default_catalogue

    url = db if isinstance(db, URL) else database_url(resolve_target(db))
    forced = None
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        path = Path(url.database)
        if must_exist and not path.exists():
            raise NotFoundError(f"There is no database at {path}.")
        if read_only and not path.exists():
            raise StoreUnavailable(f"There is no database at {path} to open read-only.")
        if path.is_dir():
            raise StoreUnavailable(f"{path} is a folder, not a database file.")
        if not path.parent.is_dir():  # a mistyped path makes no stray folders
            raise NotFoundError(
                f"There is no folder {path.parent} for the database {path.name}: create it "
                "first, or choose another place."
            )
        if not read_only and path.exists():
            # Opened read-only rather than refused: it can still be read, checked and exported.
            forced = unwritable_reason(path)
    database = open_engine(url, read_only=read_only, read_only_reason=forced)
    try:
        upgraded = migrate.upgrade(database)
        if initialise and not database.read_only:
            loaded = ensure_default_catalogue(database, actor=actor or default_actor())
            if loaded or upgraded:
                _enrol_own_key(database, actor or default_actor())
    except DatabaseError as exc:
        database.dispose()
        raise StoreUnavailable(
            f"{database.display_name} is not an SKP Returns database, or it is damaged "
            f"({exc.orig}). Restore a backup, or choose another file."
        ) from exc
    except BaseException:
        database.dispose()
        raise
    return database
