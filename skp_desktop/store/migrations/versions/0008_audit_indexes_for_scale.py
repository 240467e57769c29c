"""audit indexes for scale

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06

Two indexes on audit_events, for a partnership with millions of events (issue #20):

- (return_uuid, indicator, id): the newest event of a return's state or of one of its values
  is a few index steps instead of a walk through every event. Merge and the board pack use it
  to check that the history backs each return they publish (services/audit.py), and on
  PostgreSQL the rules checked at COMMIT (migration 0006, skp_return_backed and
  skp_value_backed) look the same events up at every save.
- (actor, id): the History filtered by who acted reads its first page newest first from the
  index, instead of scanning the table.

Additive only, and made only when missing (a database stamped back to an older revision
keeps its indexes); both engines.
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_audit_events_return_uuid_indicator",
        "audit_events",
        ["return_uuid", "indicator", "id"],
        unique=False,
        if_not_exists=True,
    )
    op.create_index(
        "ix_audit_events_actor_id",
        "audit_events",
        ["actor", "id"],
        unique=False,
        if_not_exists=True,
    )


def downgrade() -> None:
    op.drop_index("ix_audit_events_actor_id", table_name="audit_events")
    op.drop_index("ix_audit_events_return_uuid_indicator", table_name="audit_events")
