"""history filters in id order (PostgreSQL)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07

The History's first page with a filter on service, period or indicator is
`WHERE <filter> = :value ORDER BY id DESC LIMIT 200`. On SQLite each of the three
single-column indexes of 0001 already lists its events in id order (an index entry ends with
the row's id), so the page is read straight from the index. On PostgreSQL a B-tree lists
equal keys in the order of where rows lie on disk, not by id, so the planner walks the whole
table backwards from the newest event and throws away every event of other periods: 110 ms
for the quarter before the newest at one year of the partnership (54,421 events read and
dropped), seconds for an older quarter at ten years, and all of it CPU the shared server's
other users wait for (issue #20's load test: the History by period 1.4 s at p95).

On PostgreSQL the three indexes become (service, id), (period, id) and (indicator, id): the
same lookups by equality, now also in id order, so the page is 200 index entries whatever the
period. The same number of indexes, each a little wider: saves and imports write no more.
Nothing changes on SQLite. Building them on a ten-year database takes a minute or two.
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

FILTERED = ("service", "period", "indicator")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite's index on a column is already in id (rowid) order
    for column in FILTERED:
        op.create_index(
            f"ix_audit_events_{column}_id",
            "audit_events",
            [column, "id"],
            unique=False,
            if_not_exists=True,
        )
        op.drop_index(f"ix_audit_events_{column}", table_name="audit_events", if_exists=True)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for column in FILTERED:
        op.create_index(
            f"ix_audit_events_{column}", "audit_events", [column], unique=False, if_not_exists=True
        )
        op.drop_index(f"ix_audit_events_{column}_id", table_name="audit_events", if_exists=True)
