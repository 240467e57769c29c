"""server rules tightened: an event names its return, and is backed by it; no login creates

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07

What an audit of issue #21 found the rules of 0006 let through on PostgreSQL (nothing on
SQLite: a laptop's file is one person's, as before):

- An audit event of a return could name another service than the return's. Row-level security
  checks the event's `service` column only, so a service manager could record a `value.set`
  in her own service's name on another service's return: that return then "differs from its
  history", and merge and the board pack leave it out. Now, checked at COMMIT, an event that
  names a return (`return_uuid`) must name a return that is held, with its service, period and
  revision (rule "an event names its return").
- An event could say what was not done: a `return.submit` whose state is 'accepted', or a
  `value.set` whose value is not the one held. 0006 checks what is held against its newest
  event when a return or value changes; now the newest event is checked against what is held
  when the event is added, too (rule "what is held follows its history").
- A value of a draft could be removed with no event (the app never removes one): at COMMIT a
  removed value must be one its newest event says is empty (same rule).
- Which services a service manager writes (`service_roles`) is the owner's to say, as the
  display names of `skp_people` are: the coordinator could map any login to any service with
  no audit event. The coordinator reads it, as everyone does.
- On PostgreSQL 14 and older every login may create objects in the `public` schema, so a login
  could add a function of the same name and closer argument types than one the rules call
  (e.g. skp_may_record(varchar)) and switch a rule off. Nobody but the owner creates objects
  in the app's schema now (REVOKE CREATE … FROM PUBLIC and the three group roles).

Refusals are SQLSTATE 42501, 'SKP rule "<name>": <what and why>', as in 0006.
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

MANAGER, COORDINATOR, AUDITOR = "skp_service_manager", "skp_coordinator", "skp_auditor"
STATES = "('draft', 'submitted', 'accepted', 'returned')"


def _schema() -> str:
    name = op.get_bind().exec_driver_sql("SELECT current_schema()").scalar()
    return '"' + str(name).replace('"', '""') + '"'


def _functions(schema: str) -> list[str]:
    path = f"SET search_path = pg_catalog, {schema}, pg_temp"
    return [
        # The JSON of services/entries.value_json, as 0006's skp_value_backed builds it.
        f"""
        CREATE FUNCTION skp_value_entry(v "values") RETURNS text LANGUAGE sql STABLE {path}
        AS $$
            SELECT '{{"commentary":' || skp_json(v.commentary)
                || ',"denominator":' || skp_json(v.denominator)
                || ',"explanation":' || skp_json(v.explanation)
                || ',"numerator":' || skp_json(v.numerator)
                || ',"symbol":' || skp_json(v.symbol)
                || ',"value":' || skp_json(v.value) || '}}'
        $$
        """,
        # Checked at COMMIT (deferred), on each event as the transaction leaves the return.
        f"""
        CREATE FUNCTION skp_event_backed() RETURNS trigger LANGUAGE plpgsql {path} AS $$
        DECLARE
            held record;
            newest bigint;
            entry text;
        BEGIN
            IF NEW.return_uuid IS NULL THEN
                RETURN NULL;
            END IF;
            SELECT r.id, s.code AS service, r.period, r.revision, r.state INTO held
            FROM returns r JOIN services s ON s.id = r.service_id
            WHERE r.uuid = NEW.return_uuid;
            IF NOT FOUND THEN
                PERFORM skp_refuse('an event names its return', format(
                    'audit event %s (%s) names return %s, which is not held: an event about a '
                    'return is recorded with the return', NEW.id, NEW.action, NEW.return_uuid));
            END IF;
            IF (held.service, held.period, held.revision)
                IS DISTINCT FROM (NEW.service, NEW.period, NEW.revision) THEN
                PERFORM skp_refuse('an event names its return', format(
                    'audit event %s (%s) is about revision %s of the %s return for %s, but '
                    'names %s %s revision %s', NEW.id, NEW.action, held.revision, held.service,
                    held.period, coalesce(NEW.service, '(no service)'),
                    coalesce(NEW.period, '(no period)'),
                    coalesce(NEW.revision::text, '(none)')));
            END IF;
            IF NEW.action LIKE 'return.%' AND NEW.new IN {STATES} THEN
                SELECT e.id INTO newest FROM audit_events e
                WHERE e.return_uuid = NEW.return_uuid AND e.action LIKE 'return.%'
                  AND e.new IN {STATES}
                ORDER BY e.id DESC LIMIT 1;
                IF newest = NEW.id AND held.state IS DISTINCT FROM NEW.new THEN
                    PERFORM skp_refuse('what is held follows its history', format(
                        'audit event %s (%s) says revision %s of the %s return for %s is %L, '
                        'but it is %L: an event records a change made with it',
                        NEW.id, NEW.action, held.revision, held.service, held.period, NEW.new,
                        held.state));
                END IF;
            ELSIF NEW.action = 'value.set' AND NEW.indicator IS NOT NULL THEN
                SELECT e.id INTO newest FROM audit_events e
                WHERE e.return_uuid = NEW.return_uuid AND e.indicator = NEW.indicator
                  AND e.action = 'value.set'
                ORDER BY e.id DESC LIMIT 1;
                IF newest = NEW.id THEN
                    SELECT skp_value_entry(v) INTO entry
                    FROM "values" v JOIN indicators i ON i.id = v.indicator_id
                    WHERE v.return_id = held.id AND i.code = NEW.indicator;
                    IF entry IS DISTINCT FROM NEW.new THEN
                        PERFORM skp_refuse('what is held follows its history', format(
                            'audit event %s (value.set) says the value of %s in revision %s '
                            'of the %s return for %s is %s, but it is %s: an event records a '
                            'change made with it', NEW.id, NEW.indicator, held.revision,
                            held.service, held.period, coalesce(NEW.new, 'empty'),
                            coalesce(entry, 'empty')));
                    END IF;
                END IF;
            END IF;
            RETURN NULL;
        END
        $$
        """,
        # Checked at COMMIT: a value removed (and not put back) is one its history says is empty.
        f"""
        CREATE FUNCTION skp_value_removed() RETURNS trigger LANGUAGE plpgsql {path} AS $$
        DECLARE
            held record;
            said text;
        BEGIN
            IF EXISTS (SELECT 1 FROM "values" v
                       WHERE v.return_id = OLD.return_id AND v.indicator_id = OLD.indicator_id)
            THEN
                RETURN NULL;  -- put back: 0006's skp_value_backed checks the row held
            END IF;
            SELECT r.uuid, r.revision, s.code AS service, r.period, i.code INTO held
            FROM returns r JOIN services s ON s.id = r.service_id
                JOIN indicators i ON i.id = OLD.indicator_id
            WHERE r.id = OLD.return_id;
            IF NOT FOUND THEN
                RETURN NULL;
            END IF;
            SELECT e.new INTO said FROM audit_events e
            WHERE e.return_uuid = held.uuid AND e.indicator = held.code
              AND e.action = 'value.set'
            ORDER BY e.id DESC LIMIT 1;
            IF said IS NOT NULL THEN
                PERFORM skp_refuse('what is held follows its history', format(
                    'the value of %s in revision %s of the %s return for %s was removed, but '
                    'its newest audit event says %s: a value changes only with the audit event '
                    'that records the change', held.code, held.revision, held.service,
                    held.period, said));
            END IF;
            RETURN NULL;
        END
        $$
        """,
    ]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    schema = _schema()
    for statement in _functions(schema):
        op.execute(statement)
    op.execute(
        "CREATE CONSTRAINT TRIGGER skp_event_backed AFTER INSERT ON audit_events "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION skp_event_backed()"
    )
    op.execute(
        'CREATE CONSTRAINT TRIGGER skp_value_removed AFTER DELETE ON "values" '
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION skp_value_removed()"
    )
    # Who writes which service's returns is the owner's to say (README: the administrator).
    op.execute(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON service_roles FROM {COORDINATOR}")
    # Only the owner creates objects where the rules look their functions up (PostgreSQL 14
    # and older let every login create in public).
    op.execute(f"REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC, {MANAGER}, {COORDINATOR}, {AUDITOR}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute('DROP TRIGGER IF EXISTS skp_value_removed ON "values"')
    op.execute("DROP TRIGGER IF EXISTS skp_event_backed ON audit_events")
    for function in ("skp_value_removed()", "skp_event_backed()", 'skp_value_entry("values")'):
        op.execute(f"DROP FUNCTION IF EXISTS {function}")
    op.execute(f"GRANT INSERT, UPDATE, DELETE ON service_roles TO {COORDINATOR}")
    # CREATE on the schema is not given back: who had it before is not known here.
