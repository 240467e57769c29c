"""return state events index (PostgreSQL)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07

At every COMMIT that changes a return (a save changes its `updated_at`), the server's rule
"what is held follows its history" (migration 0006, skp_return_backed; 0010 asks the same when
an event is added) looks up the return's newest state event:

    WHERE e.return_uuid = :uuid AND e.action LIKE 'return.%'
      AND e.new IN ('draft', 'submitted', 'accepted', 'returned')
    ORDER BY e.id DESC LIMIT 1

Merge and the board pack ask the same of each return they publish (services/audit.py). The
(return_uuid, id) index of 0006 answers it by walking back through the return's events until a
state event (thousands of value edits for a return worked on all quarter), and at ten years
the planner chose worse still: it ANDed the return's events with every state event in the
whole history, found through the History's trigram index on `new` (0009), then sorted:

    Limit (actual time=68.673..68.677 rows=1)
      -> Sort  Sort Key: id DESC
        -> Bitmap Heap Scan on audit_events e
          -> BitmapAnd
            -> Bitmap Index Scan on ix_audit_events_return_uuid (rows=3)
            -> Bitmap Index Scan on ix_audit_events_text_trgm (rows=3468, 68 ms)

28 to 69 ms of the server's CPU in every save's COMMIT at ten years of the partnership (a save
took 41 ms at the median with nobody else on the server), growing with the history.

A partial index of the state events alone, (return_uuid, id), answers it in one step from
the newest end. It holds one event in a few hundred (value edits are most of the history), so
it is small and a value's save does not write to it. PostgreSQL only: SQLite's planner uses
the (return_uuid, indicator, id) index of 0008 for it, and has no trigram index on `new`.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

INDEX = "ix_audit_events_return_states"
# The same conditions, word for word, as the rules' queries and services/audit.py's: the
# planner uses a partial index only for a query whose conditions imply its own.
STATE_EVENT = "action LIKE 'return.%' AND new IN ('draft', 'submitted', 'accepted', 'returned')"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.create_index(
        INDEX,
        "audit_events",
        ["return_uuid", "id"],
        unique=False,
        postgresql_where=text(STATE_EVENT),
        if_not_exists=True,
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index(INDEX, table_name="audit_events", if_exists=True)
