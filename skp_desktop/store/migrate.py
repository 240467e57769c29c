"""Bring a database's schema to the newest Alembic revision, backing up a SQLite file first."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from skp_desktop.domain.errors import StoreUnavailable
from skp_desktop.store.backups import make_backup
from skp_desktop.store.engine import Database
from skp_desktop.store.schema_head import SCHEMA_HEAD

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
BACKUPS_KEPT = 7  # as for every kind of backup (store/backups.py)


def _config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    """The newest schema revision this version of the app knows."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(db: Database) -> str | None:
    """The schema revision the database is at, or None for an empty database."""
    # A reader: opening the database does not wait for (or hold up) another client's writes.
    with db.reading_connection() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def needs_upgrade(db: Database) -> bool:
    """Whether the database is behind this version of the app (refuses one that is ahead)."""
    current = current_revision(db)
    if current == SCHEMA_HEAD:
        return False
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_config())
    known = {rev.revision for rev in script.walk_revisions()}
    if current is not None and current not in known:
        raise StoreUnavailable(
            f"The database {db.display_name} was made by a newer version of SKP Returns "
            f"(schema {current}). Install the newer version, or open a backup made before it."
        )
    return current != head_revision()


def backup_sqlite(db: Database, label: str) -> Path | None:
    """Copy a SQLite database with the online backup API into `backups/` beside it."""
    if not db.is_sqlite or not db.url.database or db.url.database == ":memory:":
        return None
    return make_backup(Path(db.url.database), label, keep=BACKUPS_KEPT)


def upgrade(db: Database) -> bool:
    """Migrate to the newest schema; returns True when anything was applied."""
    if db.read_only:
        if needs_upgrade(db):
            if db.read_only_reason:
                raise StoreUnavailable(
                    f"The database {db.display_name} needs upgrading for this version of SKP "
                    f"Returns, which cannot be done here because {db.read_only_reason}. Copy "
                    "it to a folder you can write to and open the copy; nothing was changed."
                )
            raise StoreUnavailable(
                f"The database {db.display_name} needs upgrading, which cannot be done read-only."
            )
        return False
    if not needs_upgrade(db):
        return False
    if current_revision(db) is not None:
        backup_sqlite(db, "before-upgrade")
    from alembic import command

    config = _config()
    try:
        with db.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except DBAPIError as exc:
        if db.is_sqlite:
            raise  # open_database says what a damaged or foreign file means
        reason = str(exc.orig or exc).strip().splitlines()[0]
        raise StoreUnavailable(
            f"The database {db.display_name} could not be brought up to this version of SKP "
            f"Returns ({reason}). The upgrade must run once as the database's owner: ask its "
            "administrator. Nothing was changed."
        ) from exc
    return True
