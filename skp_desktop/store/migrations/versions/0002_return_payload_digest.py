"""return payload digest

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30

Records, on each return revision imported from an Excel file, the SHA-256 of the canonical
payload it was stored from (docs/contracts.md, "Return file format version 1"), so that the
revision can be traced to the file and its content compared without reading every value.
Additive only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain nullable column: SQLite adds it in place, no table copy.
    op.add_column("returns", sa.Column("payload_sha256", sa.String(length=64), nullable=True))
    op.create_index(op.f("ix_returns_payload_sha256"), "returns", ["payload_sha256"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_returns_payload_sha256"), table_name="returns")
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.drop_column("payload_sha256")
