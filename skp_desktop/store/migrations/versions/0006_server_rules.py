"""server rules: the login is the actor, the chain and the workflow are the server's

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-06

On PostgreSQL (nothing on SQLite: a laptop's file is one person's, as before), the server
itself decides who did what, whatever program connects:

- skp_people(login, display_name): the owner's list of display names; everyone reads it.
- skp_actor(): the name every audit event of this login is recorded under: "Display Name
  (login)" when the owner gave one, else the login (session_user, never the client's word).
- skp_login_role(): 'owner', 'coordinator', 'service manager', 'auditor' or 'none'.
- skp_action_roles(action, roles, rule): which roles may record each audit action; the ONE
  place that says it. An action not listed is refused to coordinators and service managers;
  the owner (who sets the server up) may record any. A later migration adds its actions with
  one INSERT each, e.g. ('key.trust', '{coordinator}', 'only a coordinator enrols keys'),
  and a member of domain/vocabulary.AuditAction.
- audit_events: a BEFORE INSERT trigger fills or checks the actor, refuses an action the
  login's role may not record, takes the chain lock, gives the event the next id, and fills or
  checks prev_hash and hash (computed here with the same canonical JSON as store/audit.py).
- skp_coordinator_only(rule): a trigger function for tables only a coordinator changes (a
  later migration attaches it, e.g. to the signing keys' tables).
- returns and values: triggers that keep the workflow (a return starts as a draft; only a
  coordinator accepts or returns one; a return that is not a draft, and its values, never
  change; returns are never deleted), and, checked at COMMIT, that a return's state and each
  value are what their newest audit event says (so nothing changes without its event).

Every refusal is SQLSTATE 42501 with a message 'SKP rule "<name>": <what and why>', which the
app shows as it is (store/postgres.py).
"""

from __future__ import annotations

from alembic import op

# The action names are the program's own (domain/vocabulary.py: plain Python, safe to import
# here); their strings never change, since the audit chain has them.
from skp_desktop.domain.vocabulary import AuditAction

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

MANAGER, COORDINATOR, AUDITOR = "skp_service_manager", "skp_coordinator", "skp_auditor"
ALL_ROLES = f"{MANAGER}, {COORDINATOR}, {AUDITOR}"
# Advisory lock key of the audit chain: the same as store/postgres.CHAIN_LOCK_KEY.
CHAIN_LOCK_KEY = 0x534B50

# (action, roles that may record it, the rule in words). "manager" is a service manager.
ACTION_ROLES = (
    (AuditAction.CATALOGUE_LOAD, "{coordinator}", "only a coordinator loads the catalogue"),
    (AuditAction.VALUE_SET, "{coordinator,manager}", "values are entered by service managers"),
    (AuditAction.RETURN_CREATE, "{coordinator,manager}", "service managers start their returns"),
    (AuditAction.RETURN_SUBMIT, "{coordinator,manager}", "service managers submit their returns"),
    (AuditAction.RETURN_REOPEN, "{coordinator,manager}", "service managers reopen their returns"),
    (AuditAction.RETURN_IMPORT, "{coordinator,manager}", "a return file is imported"),
    (AuditAction.RETURN_SYNC, "{coordinator,manager}", "a laptop's returns are synchronised"),
    (AuditAction.QUERY_ANSWER, "{coordinator,manager}", "service managers answer queries"),
    (AuditAction.RETURN_ACCEPT, "{coordinator}", "only a coordinator accepts a return"),
    (
        AuditAction.RETURN_RETURN,
        "{coordinator}",
        "only a coordinator returns a return with a query",
    ),
    (AuditAction.QUERY_ASK, "{coordinator}", "only a coordinator asks a query"),
    (AuditAction.DEFINITIONS_PUBLISH, "{coordinator}", "only a coordinator publishes definitions"),
    (AuditAction.DEFINITIONS_IMPORT, "{coordinator}", "only a coordinator imports definitions"),
    (AuditAction.DEFINITIONS_CHANGE, "{coordinator}", "only a coordinator changes definitions"),
    (AuditAction.DEFINITIONS_ADD, "{coordinator}", "only a coordinator adds indicators"),
    (AuditAction.DEFINITIONS_TARGET, "{coordinator}", "only a coordinator sets targets"),
    # a draft follows the definitions the coordinator published (also pushed from a laptop)
    (AuditAction.DEFINITIONS_DRAFT, "{coordinator,manager}", "a draft moves to new definitions"),
    (AuditAction.PERIOD_DUE, "{coordinator}", "only a coordinator sets due dates"),
    (AuditAction.COMPARATOR_SET, "{coordinator}", "only a coordinator sets comparator figures"),
    # signing keys and their enrolment (migration 0005, issue 16)
    (AuditAction.KEY_TRUST, "{coordinator}", "only a coordinator trusts signing keys"),
    (AuditAction.KEY_REVOKE, "{coordinator}", "only a coordinator revokes signing keys"),
    (AuditAction.KEY_ROTATE, "{coordinator}", "only a coordinator takes a rotated key"),
    (AuditAction.KEY_PIN, "{coordinator}", "only a coordinator pins the coordinator's key"),
    # the partnership's services and context figures (migration 0007)
    (AuditAction.SERVICE_ADD, "{coordinator}", "only a coordinator adds services"),
    (AuditAction.SERVICE_RENAME, "{coordinator}", "only a coordinator renames services"),
    (AuditAction.SERVICE_RETIRE, "{coordinator}", "only a coordinator retires services"),
    (AuditAction.SERVICE_FORM, "{coordinator}", "only a coordinator lays out return forms"),
    (AuditAction.CONTEXT_SET, "{coordinator}", "only a coordinator records context figures"),
)


def _schema() -> str:
    name = op.get_bind().exec_driver_sql("SELECT current_schema()").scalar()
    return '"' + str(name).replace('"', '""') + '"'


def _functions(schema: str) -> list[str]:
    # Every function names its search path, so neither a temporary table nor a function of
    # the same name can stand in for ours or the server's. skp_actor() and skp_login_role()
    # run as the owner (SECURITY DEFINER), so that a login in no role is still told who it is.
    path = f"SET search_path = pg_catalog, {schema}, pg_temp"
    refuse = "USING ERRCODE = 'insufficient_privilege'"
    return [
        f"""
        CREATE FUNCTION skp_actor() RETURNS text LANGUAGE sql STABLE SECURITY DEFINER {path}
        AS $$
            SELECT coalesce(
                (SELECT p.display_name || ' (' || session_user || ')'
                 FROM skp_people p WHERE p.login = session_user),
                session_user::text)
        $$
        """,
        f"""
        CREATE FUNCTION skp_login_role() RETURNS text LANGUAGE sql STABLE SECURITY DEFINER {path}
        AS $$
            SELECT CASE
                WHEN (SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = session_user)
                    OR pg_has_role(session_user,
                                   (SELECT c.relowner FROM pg_class c
                                    WHERE c.oid = 'audit_events'::regclass), 'MEMBER')
                    THEN 'owner'
                WHEN pg_has_role(session_user, '{COORDINATOR}', 'MEMBER') THEN 'coordinator'
                WHEN pg_has_role(session_user, '{MANAGER}', 'MEMBER') THEN 'service manager'
                WHEN pg_has_role(session_user, '{AUDITOR}', 'MEMBER') THEN 'auditor'
                ELSE 'none'
            END
        $$
        """,
        # Whether this login may record an action. The owner, who sets the server up and could
        # change these rules anyway, may record any action (the actor and chain rules still hold).
        f"""
        CREATE FUNCTION skp_may_record(wanted text) RETURNS boolean LANGUAGE sql STABLE {path}
        AS $$
            SELECT skp_login_role() = 'owner' OR EXISTS (
                SELECT 1 FROM skp_action_roles a
                WHERE a.action = wanted AND (
                    (skp_login_role() = 'coordinator' AND 'coordinator' = ANY (a.roles))
                    OR (skp_login_role() = 'service manager' AND 'manager' = ANY (a.roles))))
        $$
        """,
        f"""
        CREATE FUNCTION skp_refuse(rule text, what text) RETURNS void LANGUAGE plpgsql {path}
        AS $$
        BEGIN
            RAISE EXCEPTION 'SKP rule "%": %', rule, what {refuse};
        END
        $$
        """,
        f"""
        CREATE FUNCTION skp_json(t text) RETURNS text LANGUAGE sql IMMUTABLE {path} AS $$
            SELECT coalesce(to_json(t)::text, 'null')
        $$
        """,
        # The canonical JSON of store/audit.py: sorted keys, no spaces, UTF-8, time in UTC
        # with microseconds; to_json escapes text as Python's json (ensure_ascii=False) does.
        f"""
        CREATE FUNCTION skp_event_hash(e audit_events) RETURNS text LANGUAGE sql STABLE {path}
        AS $$
            SELECT encode(sha256(convert_to(
                '{{"action":' || skp_json(e.action)
                || ',"actor":' || skp_json(e.actor)
                || ',"at":"' || to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')
                || '+00:00"'
                || ',"file_sha256":' || skp_json(e.file_sha256)
                || ',"indicator":' || skp_json(e.indicator)
                || ',"new":' || skp_json(e.new)
                || ',"old":' || skp_json(e.old)
                || ',"period":' || skp_json(e.period)
                || ',"prev_hash":' || skp_json(e.prev_hash)
                || ',"reason":' || skp_json(e.reason)
                || ',"return_uuid":' || skp_json(e.return_uuid)
                || ',"revision":' || coalesce(e.revision::text, 'null')
                || ',"service":' || skp_json(e.service)
                || ',"source":' || skp_json(e.source)
                || '}}', 'UTF8')), 'hex')
        $$
        """,
        f"""
        CREATE FUNCTION skp_audit_event_rules() RETURNS trigger LANGUAGE plpgsql {path} AS $$
        DECLARE
            me text := skp_actor();
            head text;
            computed text;
        BEGIN
            IF NEW.actor IS NULL THEN
                NEW.actor := me;
            ELSIF NEW.actor IS DISTINCT FROM me THEN
                PERFORM skp_refuse('the actor is the login', format(
                    'an audit event is recorded in the name of the login that connects (%s), '
                    'not %L', me, NEW.actor));
            END IF;
            IF NOT skp_may_record(NEW.action) THEN
                PERFORM skp_refuse('who may record what', format(
                    '%s is %s and may not record %L: %s', session_user,
                    CASE skp_login_role() WHEN 'none' THEN 'in no SKP Returns role'
                        WHEN 'auditor' THEN 'an auditor (auditors only read)'
                        ELSE 'a ' || skp_login_role() END,
                    NEW.action,
                    coalesce((SELECT a.rule FROM skp_action_roles a WHERE a.action = NEW.action),
                             'no rule lets anyone record it')));
            END IF;
            -- One writer at a time on the chain (the app takes this lock at BEGIN already);
            -- the id is taken after the lock, so ids follow the chain whoever inserts.
            PERFORM pg_advisory_xact_lock({CHAIN_LOCK_KEY});
            NEW.id := nextval(pg_get_serial_sequence('audit_events', 'id'));
            IF NEW.at IS NULL THEN
                NEW.at := clock_timestamp();
            END IF;
            SELECT e.hash INTO head FROM audit_events e ORDER BY e.id DESC LIMIT 1;
            head := coalesce(head, repeat('0', 64));
            IF NEW.prev_hash IS NULL THEN
                NEW.prev_hash := head;
            ELSIF NEW.prev_hash IS DISTINCT FROM head THEN
                PERFORM skp_refuse('the chain', format(
                    'an audit event follows the newest event in the chain (%s…), not %L',
                    left(head, 12), left(NEW.prev_hash, 12)));
            END IF;
            computed := skp_event_hash(NEW);
            IF NEW.hash IS NULL THEN
                NEW.hash := computed;
            ELSIF NEW.hash IS DISTINCT FROM computed THEN
                PERFORM skp_refuse('the chain', format(
                    'an audit event''s hash is the SHA-256 of its fields as recorded (%s…), '
                    'not %L', left(computed, 12), left(NEW.hash, 12)));
            END IF;
            RETURN NEW;
        END
        $$
        """,
        f"""
        CREATE FUNCTION skp_return_rules() RETURNS trigger LANGUAGE plpgsql {path} AS $$
        DECLARE
            role text := skp_login_role();
            coordinator boolean := skp_login_role() IN ('coordinator', 'owner');
        BEGIN
            IF TG_OP = 'DELETE' THEN
                PERFORM skp_refuse('returns are never deleted', format(
                    'revision %s of a return is kept with its history', OLD.revision));
            END IF;
            IF TG_OP = 'INSERT' THEN
                IF NEW.state <> 'draft' THEN
                    PERFORM skp_refuse('a return starts as a draft', format(
                        'a new revision is made as a draft and moves on by the workflow '
                        '(submit, accept, return): it cannot be made %L', NEW.state));
                END IF;
                RETURN NEW;
            END IF;
            IF NEW.state IS DISTINCT FROM OLD.state THEN
                IF OLD.state = 'draft' AND NEW.state = 'submitted' THEN
                    NULL;  -- the service (or the coordinator) submits
                ELSIF OLD.state IN ('draft', 'submitted') AND NEW.state IN ('accepted', 'returned')
                THEN
                    IF NOT coordinator THEN
                        PERFORM skp_refuse('only a coordinator accepts or returns', format(
                            '%s is %s: only a coordinator may make a return %L',
                            session_user,
                            CASE role WHEN 'auditor' THEN 'an auditor'
                                WHEN 'none' THEN 'in no SKP Returns role'
                                ELSE 'a ' || role END,
                            NEW.state));
                    END IF;
                ELSE
                    PERFORM skp_refuse('a submitted revision is never changed', format(
                        'revision %s is %s and cannot become %s: reopening it makes the next '
                        'revision', OLD.revision, OLD.state, NEW.state));
                END IF;
            END IF;
            IF OLD.state <> 'draft' AND (
                NEW.uuid, NEW.service_id, NEW.period, NEW.revision, NEW.definitions_version_id,
                NEW.created_at, NEW.created_by, NEW.submitted_at, NEW.submitted_by,
                NEW.reopen_reason, NEW.payload_sha256
            ) IS DISTINCT FROM (
                OLD.uuid, OLD.service_id, OLD.period, OLD.revision, OLD.definitions_version_id,
                OLD.created_at, OLD.created_by, OLD.submitted_at, OLD.submitted_by,
                OLD.reopen_reason, OLD.payload_sha256
            ) THEN
                PERFORM skp_refuse('a submitted revision is never changed', format(
                    'revision %s is %s: only its state may move on (accepted or returned)',
                    OLD.revision, OLD.state));
            END IF;
            RETURN NEW;
        END
        $$
        """,
        # Checked at COMMIT (deferred), on the row as the transaction leaves it: the newest
        # event of the return says its state, as verify replays it (services/audit.py).
        f"""
        CREATE FUNCTION skp_return_backed() RETURNS trigger LANGUAGE plpgsql {path} AS $$
        DECLARE
            held record;
            said record;
        BEGIN
            SELECT r.uuid, s.code AS service, r.period, r.revision, r.state INTO held
            FROM returns r JOIN services s ON s.id = r.service_id WHERE r.id = NEW.id;
            IF NOT FOUND THEN
                RETURN NULL;
            END IF;
            SELECT e.service, e.period, e.revision, e.new AS state INTO said
            FROM audit_events e
            WHERE e.return_uuid = held.uuid AND e.action LIKE 'return.%'
              AND e.new IN ('draft', 'submitted', 'accepted', 'returned')
            ORDER BY e.id DESC LIMIT 1;
            IF NOT FOUND OR (said.service, said.period, said.revision, said.state)
                IS DISTINCT FROM (held.service, held.period, held.revision, held.state) THEN
                PERFORM skp_refuse('what is held follows its history', format(
                    'revision %s of the %s return for %s is %L, but %s: a return changes '
                    'only with the audit event that records the change',
                    held.revision, held.service, held.period, held.state,
                    CASE WHEN said.state IS NULL THEN 'no audit event records it'
                        ELSE format('its newest audit event says %L', said.state) END));
            END IF;
            RETURN NULL;
        END
        $$
        """,
        # The JSON of services/entries.value_json: sorted keys, no spaces.
        f"""
        CREATE FUNCTION skp_value_backed() RETURNS trigger LANGUAGE plpgsql {path} AS $$
        DECLARE
            held record;
            said text;
        BEGIN
            SELECT r.uuid, r.revision, s.code AS service, r.period, i.code,
                '{{"commentary":' || skp_json(v.commentary)
                || ',"denominator":' || skp_json(v.denominator)
                || ',"explanation":' || skp_json(v.explanation)
                || ',"numerator":' || skp_json(v.numerator)
                || ',"symbol":' || skp_json(v.symbol)
                || ',"value":' || skp_json(v.value) || '}}' AS entry
            INTO held
            FROM "values" v JOIN returns r ON r.id = v.return_id
                JOIN services s ON s.id = r.service_id JOIN indicators i ON i.id = v.indicator_id
            WHERE v.id = NEW.id;
            IF NOT FOUND THEN
                RETURN NULL;
            END IF;
            SELECT e.new INTO said FROM audit_events e
            WHERE e.return_uuid = held.uuid AND e.indicator = held.code
              AND e.action = 'value.set'
            ORDER BY e.id DESC LIMIT 1;
            IF said IS DISTINCT FROM held.entry THEN
                PERFORM skp_refuse('what is held follows its history', format(
                    'the value of %s in revision %s of the %s return for %s is %s, but %s: a '
                    'value changes only with the audit event that records the change',
                    held.code, held.revision, held.service, held.period, held.entry,
                    CASE WHEN said IS NULL THEN 'no audit event records it'
                        ELSE format('its newest audit event says %s', said) END));
            END IF;
            RETURN NULL;
        END
        $$
        """,
        # For tables only a coordinator changes (e.g. signing keys): attach with
        # CREATE TRIGGER t BEFORE INSERT OR UPDATE OR DELETE ON table FOR EACH ROW
        # EXECUTE FUNCTION skp_coordinator_only('only a coordinator enrols keys')
        f"""
        CREATE FUNCTION skp_coordinator_only() RETURNS trigger LANGUAGE plpgsql {path} AS $$
        BEGIN
            IF skp_login_role() NOT IN ('coordinator', 'owner') THEN
                PERFORM skp_refuse(coalesce(TG_ARGV[0], 'only a coordinator changes this'),
                    format('%s is %s and may not change %s', session_user,
                           CASE skp_login_role() WHEN 'none' THEN 'in no SKP Returns role'
                               WHEN 'auditor' THEN 'an auditor' ELSE 'a ' || skp_login_role()
                           END, TG_TABLE_NAME));
            END IF;
            RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
        END
        $$
        """,
        f"""
        CREATE FUNCTION skp_value_rules() RETURNS trigger LANGUAGE plpgsql {path} AS $$
        DECLARE
            held record;
        BEGIN
            IF TG_OP = 'UPDATE' AND NEW IS NOT DISTINCT FROM OLD THEN
                RETURN NEW;
            END IF;
            FOR held IN
                SELECT r.revision, r.state FROM returns r
                WHERE r.id IN (CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE OLD.return_id END,
                               CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.return_id END)
                  AND r.state <> 'draft'
            LOOP
                PERFORM skp_refuse('only a draft''s values change', format(
                    'revision %s of this return is %s: its values cannot be changed by anyone '
                    '(reopen it to correct them in the next revision)',
                    held.revision, held.state));
            END LOOP;
            RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
        END
        $$
        """,
    ]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    schema = _schema()
    op.execute(
        """
        CREATE TABLE skp_people (
            login name NOT NULL CONSTRAINT pk_skp_people PRIMARY KEY,
            display_name varchar(96) NOT NULL,
            CONSTRAINT ck_skp_people_fits CHECK (
                length(btrim(display_name)) > 0
                AND length(display_name) + length(login::text) + 3 <= 100)
        )
        """
    )
    op.execute(
        "COMMENT ON TABLE skp_people IS 'The owner''s display names of logins: audit events "
        'of a login are recorded as "display_name (login)"\''
    )
    op.execute(
        """
        CREATE TABLE skp_action_roles (
            action varchar(40) NOT NULL CONSTRAINT pk_skp_action_roles PRIMARY KEY,
            roles text[] NOT NULL,
            rule text NOT NULL
        )
        """
    )
    op.execute(
        "COMMENT ON TABLE skp_action_roles IS 'Which roles (coordinator, manager) may record "
        "each audit action; an action not listed is refused to everyone'"
    )
    values = ", ".join(
        f"('{action}', '{roles}', '{rule.replace(chr(39), chr(39) * 2)}')"
        for action, roles, rule in ACTION_ROLES
    )
    op.execute(f"INSERT INTO skp_action_roles (action, roles, rule) VALUES {values}")
    # Only the owner writes these two: default privileges would give the coordinator writes.
    op.execute(f"REVOKE ALL ON skp_people, skp_action_roles FROM {ALL_ROLES}")
    op.execute(f"GRANT SELECT ON skp_people, skp_action_roles TO {ALL_ROLES}")
    for statement in _functions(schema):
        op.execute(statement)
    op.execute(
        "CREATE TRIGGER skp_audit_event_rules BEFORE INSERT ON audit_events "
        "FOR EACH ROW EXECUTE FUNCTION skp_audit_event_rules()"
    )
    op.execute(
        "CREATE TRIGGER skp_return_rules BEFORE INSERT OR UPDATE OR DELETE ON returns "
        "FOR EACH ROW EXECUTE FUNCTION skp_return_rules()"
    )
    op.execute(
        'CREATE TRIGGER skp_value_rules BEFORE INSERT OR UPDATE OR DELETE ON "values" '
        "FOR EACH ROW EXECUTE FUNCTION skp_value_rules()"
    )
    # At COMMIT: what a transaction leaves in returns and values is what its events say.
    op.execute(
        "CREATE CONSTRAINT TRIGGER skp_return_backed AFTER INSERT OR UPDATE ON returns "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION skp_return_backed()"
    )
    op.execute(
        'CREATE CONSTRAINT TRIGGER skp_value_backed AFTER INSERT OR UPDATE ON "values" '
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION skp_value_backed()"
    )
    # The newest event of a return (and of its values) is found by this, not by a scan.
    op.execute("CREATE INDEX ix_audit_events_return_uuid ON audit_events (return_uuid, id)")
    # TRUNCATE skips row triggers: nobody but the owner may truncate returns or values.
    op.execute(f'REVOKE TRUNCATE ON returns, "values" FROM {ALL_ROLES}')


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_audit_events_return_uuid")
    op.execute('DROP TRIGGER IF EXISTS skp_value_backed ON "values"')
    op.execute("DROP TRIGGER IF EXISTS skp_return_backed ON returns")
    op.execute('DROP TRIGGER IF EXISTS skp_value_rules ON "values"')
    op.execute("DROP TRIGGER IF EXISTS skp_return_rules ON returns")
    op.execute("DROP TRIGGER IF EXISTS skp_audit_event_rules ON audit_events")
    for function in (
        "skp_value_backed()",
        "skp_return_backed()",
        "skp_coordinator_only()",
        "skp_value_rules()",
        "skp_return_rules()",
        "skp_audit_event_rules()",
        "skp_event_hash(audit_events)",
        "skp_json(text)",
        "skp_refuse(text, text)",
        "skp_may_record(text)",
        "skp_login_role()",
        "skp_actor()",
    ):
        op.execute(f"DROP FUNCTION IF EXISTS {function}")
    op.execute("DROP TABLE IF EXISTS skp_action_roles")
    op.execute("DROP TABLE IF EXISTS skp_people")
