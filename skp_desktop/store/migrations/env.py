"""Alembic environment: runs on the connection the app hands over, or on SKP_DB for developers."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection, create_engine

from skp_desktop.store.models import Base
from skp_desktop.store.text_search import SEARCH_TABLE, TRIGRAM_INDEX

config = context.config
target_metadata = Base.metadata


def _in_models(name: str | None, type_: str, _parents: object) -> bool:
    """What autogenerate compares: not the text search's index (migration 0009), which the
    models do not hold (an FTS5 table and its shadow tables; a pg_trgm index)."""
    if type_ == "table" and name and (name == SEARCH_TABLE or name.startswith(SEARCH_TABLE + "_")):
        return False
    return not (type_ == "index" and name == TRIGRAM_INDEX)


def _run(connection: Connection) -> None:
    # render_as_batch: SQLite cannot ALTER most things; batch mode copies the table instead.
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        include_name=_in_models,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("SKP_DB")
    if not url:
        raise SystemExit("Set SKP_DB to a SQLAlchemy URL (or a sqlite:/// path) to run alembic.")
    if "://" not in url:
        url = f"sqlite:///{url}"
    engine = create_engine(url)
    with engine.begin() as conn:
        _run(conn)
