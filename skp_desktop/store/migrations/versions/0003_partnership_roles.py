"""partnership roles

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30

On PostgreSQL (nothing on SQLite, where the file's permissions are the only gate): three group
roles and what the server lets each do, whatever program connects.

- skp_auditor: reads every table, changes nothing.
- skp_coordinator: reads and writes every table (imports, merges, publishes definitions),
  except that audit events may only be added, never changed or removed.
- skp_service_manager: reads every table; adds and changes returns and values, and adds audit
  events, only for the services in `service_roles` mapped to a role it is a member of
  (row-level security). Which columns of a return or value it may change is also limited, so
  that a row cannot be moved to another service.

The group roles are created when missing (roles belong to the whole server, so another
database may have made them already). Login roles are the administrator's: see the README.
Tables added by later migrations get SELECT for all three roles and write access for the
coordinator through default privileges; a later migration that adds a column a service manager
must change has to grant it.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

MANAGER, COORDINATOR, AUDITOR = "skp_service_manager", "skp_coordinator", "skp_auditor"
ROLES = (MANAGER, COORDINATOR, AUDITOR)
ALL_ROLES = ", ".join(ROLES)
TABLES = (
    "organisations",
    "services",
    "themes",
    "definitions_versions",
    "indicators",
    "indicator_definitions",
    "targets",
    "baselines",
    "returns",
    "values",
    "imported_files",
    "audit_events",
    "alembic_version",
    "service_roles",
)
# A coordinator may add audit events but not change them; nobody but the owner migrates.
COORDINATOR_WRITES = tuple(t for t in TABLES if t not in ("audit_events", "alembic_version"))
MANAGER_RETURN_COLUMNS = "state, updated_at, submitted_at, submitted_by, reopen_reason"
MANAGER_VALUE_COLUMNS = (
    "numerator, denominator, value, symbol, commentary, explanation, updated_at, updated_by"
)
SECURED = ("returns", "values", "audit_events")


def _may_write_code(code: str) -> str:
    """SQL: the current user is a member of a role mapped to the service with this code."""
    # Table names in a policy are resolved when it is created, so a temporary table of the
    # same name cannot stand in for service_roles later.
    return (
        "EXISTS (SELECT 1 FROM service_roles m "
        "JOIN pg_catalog.pg_roles r ON r.rolname = m.role_name "
        f"WHERE m.service_code = {code} AND pg_catalog.pg_has_role(r.oid, 'MEMBER'))"
    )


def _may_write_service_id(service_id: str) -> str:
    return _may_write_code(f"(SELECT s.code FROM services s WHERE s.id = {service_id})")


CREATE_ROLES = f"""
DO $$
DECLARE
    wanted text;
BEGIN
    FOREACH wanted IN ARRAY ARRAY['{MANAGER}', '{COORDINATOR}', '{AUDITOR}'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = wanted) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', wanted);
            EXCEPTION
                WHEN duplicate_object OR unique_violation THEN
                    NULL;  -- made at the same moment by a migration of another database
                WHEN insufficient_privilege THEN
                    RAISE EXCEPTION 'SKP Returns needs the group roles {ALL_ROLES}: '
                        'ask a PostgreSQL administrator to create them (CREATE ROLE name '
                        'NOLOGIN), or to give the database owner CREATEROLE, then open the '
                        'database again';
            END;
        END IF;
    END LOOP;
END
$$
"""


def _policies() -> list[str]:
    returns_check = _may_write_service_id("service_id")
    values_check = _may_write_service_id(
        '(SELECT rt.service_id FROM returns rt WHERE rt.id = "values".return_id)'
    )
    audit_check = f"service IS NOT NULL AND {_may_write_code('service')}"
    statements = []
    for table in SECURED:
        quoted = f'"{table}"'
        statements += [
            f"ALTER TABLE {quoted} ENABLE ROW LEVEL SECURITY",
            # Privileges decide who reads; the policies only narrow which rows are written.
            f"CREATE POLICY skp_read ON {quoted} FOR SELECT TO PUBLIC USING (true)",
        ]
    statements += [
        f"CREATE POLICY skp_coordinator_write ON returns FOR ALL TO {COORDINATOR} "
        "USING (true) WITH CHECK (true)",
        f'CREATE POLICY skp_coordinator_write ON "values" FOR ALL TO {COORDINATOR} '
        "USING (true) WITH CHECK (true)",
        f"CREATE POLICY skp_coordinator_add ON audit_events FOR INSERT TO {COORDINATOR} "
        "WITH CHECK (true)",
        f"CREATE POLICY skp_manager_add ON returns FOR INSERT TO {MANAGER} "
        f"WITH CHECK ({returns_check})",
        # USING (true): another service's row is refused with an error, not skipped in silence.
        f"CREATE POLICY skp_manager_change ON returns FOR UPDATE TO {MANAGER} "
        f"USING (true) WITH CHECK ({returns_check})",
        f'CREATE POLICY skp_manager_add ON "values" FOR INSERT TO {MANAGER} '
        f"WITH CHECK ({values_check})",
        f'CREATE POLICY skp_manager_change ON "values" FOR UPDATE TO {MANAGER} '
        f"USING (true) WITH CHECK ({values_check})",
        f"CREATE POLICY skp_manager_add ON audit_events FOR INSERT TO {MANAGER} "
        f"WITH CHECK ({audit_check})",
    ]
    return statements


def _grants() -> list[str]:
    tables = ", ".join(f'"{t}"' for t in TABLES)
    coordinator_tables = ", ".join(f'"{t}"' for t in COORDINATOR_WRITES)
    return [
        f"GRANT USAGE ON SCHEMA {_schema()} TO {ALL_ROLES}",
        f"GRANT SELECT ON {tables} TO {ALL_ROLES}",
        f"GRANT INSERT, UPDATE, DELETE ON {coordinator_tables} TO {COORDINATOR}",
        f"GRANT INSERT ON audit_events TO {COORDINATOR}, {MANAGER}",
        f'GRANT INSERT ON returns, "values" TO {MANAGER}',
        f"GRANT UPDATE ({MANAGER_RETURN_COLUMNS}) ON returns TO {MANAGER}",
        f'GRANT UPDATE ({MANAGER_VALUE_COLUMNS}) ON "values" TO {MANAGER}',
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {_schema()} TO {COORDINATOR}",
        # A new row's id comes from its table's sequence.
        f"""
        DO $$
        DECLARE
            tab text;
        BEGIN
            FOREACH tab IN ARRAY ARRAY['returns', 'values', 'audit_events'] LOOP
                EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE %s TO {MANAGER}',
                               pg_catalog.pg_get_serial_sequence(quote_ident(tab), 'id'));
            END LOOP;
        END
        $$
        """,
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {_schema()} GRANT SELECT ON TABLES TO {ALL_ROLES}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {_schema()} "
        f"GRANT INSERT, UPDATE, DELETE ON TABLES TO {COORDINATOR}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {_schema()} "
        f"GRANT USAGE, SELECT ON SEQUENCES TO {COORDINATOR}",
    ]


def _schema() -> str:
    """The schema the app's tables are in (public unless the administrator chose another)."""
    name = op.get_bind().exec_driver_sql("SELECT current_schema()").scalar()
    return '"' + str(name).replace('"', '""') + '"'


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(CREATE_ROLES)
    op.execute(
        """
        CREATE TABLE service_roles (
            service_code varchar(32) NOT NULL
                CONSTRAINT fk_service_roles_service_code_services REFERENCES services (code),
            role_name name NOT NULL,
            CONSTRAINT pk_service_roles PRIMARY KEY (service_code, role_name)
        )
        """
    )
    op.execute(
        "COMMENT ON TABLE service_roles IS 'Members of role_name may write the returns of "
        "service_code (row-level security for skp_service_manager)'"
    )
    for statement in _grants() + _policies():
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    schema = _schema()
    for table in SECURED:
        quoted = f'"{table}"'
        for policy in (
            "skp_read",
            "skp_coordinator_write",
            "skp_coordinator_add",
            "skp_manager_add",
            "skp_manager_change",
        ):
            op.execute(f"DROP POLICY IF EXISTS {policy} ON {quoted}")
        op.execute(f"ALTER TABLE {quoted} DISABLE ROW LEVEL SECURITY")
    op.execute("DROP TABLE service_roles")
    tables = ", ".join(f'"{t}"' for t in TABLES if t != "service_roles")
    op.execute(f"REVOKE ALL ON {tables} FROM {ALL_ROLES}")
    op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {ALL_ROLES}")
    op.execute(f"REVOKE USAGE ON SCHEMA {schema} FROM {ALL_ROLES}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} REVOKE ALL ON TABLES FROM {ALL_ROLES}")
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} REVOKE ALL ON SEQUENCES FROM {COORDINATOR}"
    )
    # The group roles stay: they belong to the server, and other databases may use them.
