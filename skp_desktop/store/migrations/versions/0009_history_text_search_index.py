"""an index for the History's text search

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

The History's text search (`LIKE '%text%'` on an event's new and old values, reason and
source) read every event: ten seconds' worth of scanning at ten years of the partnership
(issue #20). This adds an index it can look words up in (store/text_search.py says how the
search uses it):

- SQLite: `audit_search`, an FTS5 table with the `trigram` tokenizer over those four columns,
  external content (`audit_events` keeps the text; the table holds only the index),
  `detail=none` (which events hold a trigram, not where: the exact test is LIKE's), filled
  here from every event already held, and kept in step by an AFTER INSERT trigger on
  `audit_events` (events are never updated or deleted: 0001's triggers refuse it). A SQLite
  without FTS5's trigram tokenizer (older than 3.34) gets no index, and the search reads the
  events as before.
- PostgreSQL: pg_trgm's GIN index on the same columns, which the planner uses for ILIKE
  '%text%'. The extension is made when the server has it and the owner may (pg_trgm is a
  trusted extension: the database owner may create it); when it cannot be, the upgrade goes on
  without the index, logs why, and the search reads the events as before. An index grants
  nothing: who may read which rows is 0003's and 0006's rules as before, and pg_trgm's
  functions read no table.

The index is not part of the audit chain: `verify` reads `audit_events` only, and the
chain's hashes cover none of it. Made again from the events each time this runs (a database
stamped back to an older revision upgrades cleanly).
"""

from __future__ import annotations

import logging

from alembic import op
from sqlalchemy.exc import DBAPIError

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

LOG = logging.getLogger(__name__)

# The names store/text_search.py uses (repeated: a migration stays as it was written).
SEARCH_TABLE = "audit_search"
SEARCH_TRIGGER = "audit_search_after_insert"
COLUMNS = ("new", "old", "reason", "source")
TRIGRAM_INDEX = "ix_audit_events_text_trgm"


def _sqlite_upgrade() -> None:
    bind = op.get_bind()
    op.execute(f"DROP TRIGGER IF EXISTS {SEARCH_TRIGGER}")
    op.execute(f"DROP TABLE IF EXISTS {SEARCH_TABLE}")
    columns = ", ".join(COLUMNS)
    try:
        with bind.begin_nested():
            op.execute(
                f"CREATE VIRTUAL TABLE {SEARCH_TABLE} USING fts5({columns}, "
                "content='audit_events', content_rowid='id', tokenize='trigram', "
                "detail='none')"
            )
    except DBAPIError as exc:  # no FTS5, or no trigram tokenizer (SQLite before 3.34)
        LOG.warning("No index for the History's text search: this SQLite cannot make it (%s)", exc)
        return
    # 'rebuild' reads every event's columns from the content table, audit_events.
    op.execute(f"INSERT INTO {SEARCH_TABLE}({SEARCH_TABLE}) VALUES ('rebuild')")
    values = ", ".join(f"new.{name}" for name in COLUMNS)
    op.execute(
        f"CREATE TRIGGER {SEARCH_TRIGGER} AFTER INSERT ON audit_events BEGIN "
        f"INSERT INTO {SEARCH_TABLE}(rowid, {columns}) VALUES (new.id, {values}); END"
    )


def _postgresql_upgrade() -> None:
    bind = op.get_bind()
    op.execute(f"DROP INDEX IF EXISTS {TRIGRAM_INDEX}")
    schema = bind.exec_driver_sql(
        "SELECT n.nspname FROM pg_catalog.pg_extension e "
        "JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'"
    ).scalar()
    if schema is None:
        available = bind.exec_driver_sql(
            "SELECT count(*) FROM pg_catalog.pg_available_extensions WHERE name = 'pg_trgm'"
        ).scalar()
        if not available:
            LOG.warning(
                "No index for the History's text search: this PostgreSQL server has no pg_trgm "
                "extension (the contrib files are not installed)"
            )
            return
        try:
            with bind.begin_nested():
                op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except DBAPIError as exc:
            LOG.warning(
                "No index for the History's text search: pg_trgm could not be made (%s)", exc
            )
            return
        schema = bind.exec_driver_sql(
            "SELECT n.nspname FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n "
            "ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'"
        ).scalar()
    operator_class = '"' + str(schema).replace('"', '""') + '".gin_trgm_ops'
    columns = ", ".join(f'"{name}" {operator_class}' for name in COLUMNS)
    op.execute(f"CREATE INDEX {TRIGRAM_INDEX} ON audit_events USING gin ({columns})")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_upgrade()
    else:
        _sqlite_upgrade()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {TRIGRAM_INDEX}")  # pg_trgm stays: others may use it
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {SEARCH_TRIGGER}")
        op.execute(f"DROP TABLE IF EXISTS {SEARCH_TABLE}")
