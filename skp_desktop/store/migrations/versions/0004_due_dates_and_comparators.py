"""due dates and comparators

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07

Two tables the coordinator fills in, additive only:

- due_dates: the date a quarter's returns are due by, when the coordinator sets one (a quarter
  without a row keeps the usual rule: the last day of the month after it ends).
- comparator_values: figures to compare an indicator with (the London and England averages the
  source documents compare against), one per indicator, series and period, as canonical decimal
  text with where the figure came from.

On PostgreSQL the default privileges of 0003 already give every group role SELECT and the
coordinator writes on new tables made by the owner; they are granted here as well, so that the
tables have them whoever runs the upgrade. Service managers only read them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

MANAGER, COORDINATOR, AUDITOR = "skp_service_manager", "skp_coordinator", "skp_auditor"
TABLES = ("due_dates", "comparator_values")


def upgrade() -> None:
    op.create_table(
        "due_dates",
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("set_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("period", name=op.f("pk_due_dates")),
    )
    op.create_table(
        "comparator_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("series", sa.String(length=60), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=40), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("set_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["indicators.id"],
            name=op.f("fk_comparator_values_indicator_id_indicators"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comparator_values")),
        # Its first column is the indicator: a chart's comparators are read through this index.
        sa.UniqueConstraint(
            "indicator_id", "series", "period", name=op.f("uq_comparator_values_indicator_id")
        ),
    )
    if op.get_bind().dialect.name == "postgresql":
        tables = ", ".join(TABLES)
        op.execute(f"GRANT SELECT ON {tables} TO {MANAGER}, {COORDINATOR}, {AUDITOR}")
        op.execute(f"GRANT INSERT, UPDATE, DELETE ON {tables} TO {COORDINATOR}")
        # A new comparator's id comes from its table's sequence.
        sequence = (
            op.get_bind()
            .exec_driver_sql("SELECT pg_catalog.pg_get_serial_sequence('comparator_values', 'id')")
            .scalar()
        )
        op.execute(f"GRANT USAGE, SELECT ON SEQUENCE {sequence} TO {COORDINATOR}")


def downgrade() -> None:
    op.drop_table("comparator_values")
    op.drop_table("due_dates")
