"""Alembic environment: runs on the connection the app hands over, or on SKP_DB for developers."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection, create_engine

from skp_desktop.store.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    # render_as_batch: SQLite cannot ALTER most things; batch mode copies the table instead.
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
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
