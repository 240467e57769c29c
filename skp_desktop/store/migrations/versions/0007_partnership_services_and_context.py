"""services the coordinator manages, their forms, and context figures

Revision ID: 0007
Revises: 0004
Create Date: 2026-12-06

What the whole partnership needs (issue 18), additive only:

- services.retired_from: the period from which a service sends no returns; its history stays
  and completeness stops chasing it from then on. Null for a service in use.
- service_forms: a service's return form (sections, order, help text) as the coordinator set
  it, as canonical JSON; it overrides the bundled forms/<CODE>.toml, and travels in the
  definitions pack so that a service added on the coordinator's database can be filled in on a
  new laptop.
- context_values: later figures of the context measures (the "Where are we now?" figures
  with no indicator), one per measure and period, as canonical decimal text with their source.

On PostgreSQL every group role reads the new tables and the coordinator writes them, as 0004
grants.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

MANAGER, COORDINATOR, AUDITOR = "skp_service_manager", "skp_coordinator", "skp_auditor"
TABLES = ("service_forms", "context_values")


def upgrade() -> None:
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retired_from", sa.String(length=16), nullable=True))
    op.create_table(
        "service_forms",
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("layout", sa.Text(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("set_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"], ["services.id"], name=op.f("fk_service_forms_service_id_services")
        ),
        sa.PrimaryKeyConstraint("service_id", name=op.f("pk_service_forms")),
    )
    op.create_table(
        "context_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=40), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("set_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["indicators.id"],
            name=op.f("fk_context_values_indicator_id_indicators"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_context_values")),
        sa.UniqueConstraint("indicator_id", "period", name=op.f("uq_context_values_indicator_id")),
    )
    if op.get_bind().dialect.name == "postgresql":
        tables = ", ".join(TABLES)
        op.execute(f"GRANT SELECT ON {tables} TO {MANAGER}, {COORDINATOR}, {AUDITOR}")
        op.execute(f"GRANT INSERT, UPDATE, DELETE ON {tables} TO {COORDINATOR}")
        sequence = (
            op.get_bind()
            .exec_driver_sql("SELECT pg_catalog.pg_get_serial_sequence('context_values', 'id')")
            .scalar()
        )
        op.execute(f"GRANT USAGE, SELECT ON SEQUENCE {sequence} TO {COORDINATOR}")


def downgrade() -> None:
    op.drop_table("context_values")
    op.drop_table("service_forms")
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.drop_column("retired_from")
