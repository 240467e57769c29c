"""signing keys and how each imported return was signed

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07

Issue 16: every file the partners exchange is signed (Ed25519), and the importer believes
signatures only. Three tables, additive only:

- signing_keys: the public keys this database trusts (this installation's own key, the keys
  enrolled for services, the coordinator's pinned key), with revocation and replacement.
- signing_key_services: which services each enrolled key may sign returns for.
- return_signatures: for an imported revision, who signed its file, or that it came from a
  filled template, or why the coordinator took it unsigned.

On PostgreSQL every group role reads them; only the coordinator writes them (trust is the
coordinator's decision, and the coordinator imports returns).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

MANAGER, COORDINATOR, AUDITOR = "skp_service_manager", "skp_coordinator", "skp_auditor"
TABLES = ("signing_keys", "signing_key_services", "return_signatures")


def upgrade() -> None:
    op.create_table(
        "signing_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("trusted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("trusted_by", sa.String(length=100), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=100), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.Column("replaced_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signing_keys")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_signing_keys_fingerprint")),
    )
    op.create_table(
        "signing_key_services",
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["key_id"],
            ["signing_keys.id"],
            name=op.f("fk_signing_key_services_key_id_signing_keys"),
        ),
        sa.PrimaryKeyConstraint("key_id", "service", name=op.f("pk_signing_key_services")),
    )
    op.create_table(
        "return_signatures",
        sa.Column("return_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("signed_by", sa.String(length=64), nullable=True),
        sa.Column("signer_name", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["return_id"], ["returns.id"], name=op.f("fk_return_signatures_return_id_returns")
        ),
        sa.PrimaryKeyConstraint("return_id", name=op.f("pk_return_signatures")),
    )
    if op.get_bind().dialect.name == "postgresql":
        tables = ", ".join(TABLES)
        op.execute(f"GRANT SELECT ON {tables} TO {MANAGER}, {COORDINATOR}, {AUDITOR}")
        op.execute(f"GRANT INSERT, UPDATE, DELETE ON {tables} TO {COORDINATOR}")
        sequence = (
            op.get_bind()
            .exec_driver_sql("SELECT pg_catalog.pg_get_serial_sequence('signing_keys', 'id')")
            .scalar()
        )
        op.execute(f"GRANT USAGE, SELECT ON SEQUENCE {sequence} TO {COORDINATOR}")


def downgrade() -> None:
    op.drop_table("return_signatures")
    op.drop_table("signing_key_services")
    op.drop_table("signing_keys")
