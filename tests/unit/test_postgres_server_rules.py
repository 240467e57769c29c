"""The shared database decides who did what (migration 0006): one test per rule, as each role,
through plain SQL with that login and through the app's services.

Each forbidden act is refused by the server with a message naming the rule and changes
nothing; each allowed act works and its audit event names the login.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from postgres_server import PostgresServer
from signing_support import key_of
from sqlalchemy import make_url

from skp_desktop.services import audit, review
from skp_desktop.services.connection import check_connection
from skp_desktop.services.database import Database, acting_actor, open_database
from skp_desktop.services.entries import EntryChange
from skp_desktop.services.errors import RuleRefused, StoreUnavailable
from skp_desktop.services.returns import get_return, record_entries, reopen_return, submit_return
from skp_desktop.store.audit import GENESIS_HASH, event_hash

# The migration's own table of who may record what: the tests follow it as it grows.
_VERSIONS = Path(__file__).parents[2] / "skp_desktop/store/migrations/versions"
_MIGRATION = _VERSIONS / "0006_server_rules.py"
_SPEC = importlib.util.spec_from_file_location("server_rules_0006", _MIGRATION)
assert _SPEC is not None and _SPEC.loader is not None
rules = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(rules)

pytestmark = pytest.mark.postgresql

PERIOD = "FY2024-25-Q1"
CAT1 = "SAFER-P4-S1"  # Highways
HANA, CORA, AUD = "hana_rules", "cora_rules", "aud_rules"
LOGINS = {HANA: "skp_service_manager", CORA: "skp_coordinator", AUD: "skp_auditor"}
JANE = "Jane Smith (SKP coordinator)"


@pytest.fixture(scope="module")
def logins(postgres_server: PostgresServer, postgres_template: str) -> dict[str, str]:
    with postgres_server.connect() as admin:
        for login, group in LOGINS.items():
            if not admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [login]).fetchone():
                admin.execute(f"CREATE ROLE {login} LOGIN IN ROLE {group}")
    return LOGINS


@pytest.fixture
def shared(
    postgres_server: PostgresServer, postgres_url: str, logins: dict[str, str]
) -> Iterator[str]:
    """Hana manages Highways; the owner gave Cora a display name."""
    name = make_url(postgres_url).database or ""
    with postgres_server.connect(name) as admin:
        admin.execute("INSERT INTO service_roles VALUES ('HIGHWAYS', %s)", [HANA])
        admin.execute("INSERT INTO skp_people VALUES (%s, 'Cora Jones')", [CORA])
    yield name


def _as(server: PostgresServer, name: str, login: str) -> Database:
    return open_database(server.url(name, user=login), actor=JANE)


def _enter(db: Database, **fields: str) -> None:
    record_entries(
        db, service="HIGHWAYS", period=PERIOD, changes=[EntryChange(CAT1, fields)], actor=JANE
    )


def _snapshot(server: PostgresServer, name: str) -> tuple[Any, ...]:
    """Everything a refused act must leave as it was."""
    with server.connect(name) as admin:
        return (
            admin.execute("SELECT count(*), max(hash) FROM audit_events").fetchone(),
            admin.execute("SELECT id, state, updated_at FROM returns ORDER BY id").fetchall(),
            admin.execute('SELECT id, value, numerator FROM "values" ORDER BY id').fetchall(),
        )


def _refused(server: PostgresServer, name: str, login: str, rule: str, sql: str, *params: Any):  # type: ignore[no-untyped-def]
    """Run `sql` as `login`: the server must refuse it naming `rule`, changing nothing."""
    import psycopg

    before = _snapshot(server, name)
    with (
        server.connect(name, user=login) as raw,
        pytest.raises(psycopg.errors.InsufficientPrivilege) as refused,
    ):
        raw.execute(sql, list(params))
    assert f'SKP rule "{rule}"' in str(refused.value), str(refused.value)
    assert _snapshot(server, name) == before
    return refused.value


def _submitted(server: PostgresServer, name: str) -> int:
    """Highways' return, entered and submitted by Hana; its id."""
    hana = _as(server, name, HANA)
    try:
        _enter(hana, numerator="45", denominator="50")
        submit_return(hana, service="HIGHWAYS", period=PERIOD, actor=JANE)
    finally:
        hana.dispose()
    with server.connect(name) as admin:
        (return_id,) = admin.execute(
            "SELECT r.id FROM returns r JOIN services s ON s.id = r.service_id "
            "WHERE s.code = 'HIGHWAYS'"
        ).fetchone()
    return int(return_id)


def _actors(server: PostgresServer, name: str, *actions: str) -> set[str]:
    """Who recorded these actions since the database was made (the owner loaded the catalogue
    and trusted its installation's key, the first key.trust)."""
    with server.connect(name) as admin:
        rows = admin.execute(
            "SELECT DISTINCT actor FROM audit_events WHERE action = ANY(%s) "
            "AND action <> 'catalogue.load' AND id <> (SELECT min(id) FROM audit_events "
            "WHERE action = 'key.trust')",
            [list(actions)],
        ).fetchall()
    return {row[0] for row in rows}


def _verified(server: PostgresServer, name: str) -> None:
    owner = open_database(server.url(name))
    try:
        report = audit.verify(owner)
        assert report.ok, report.problems
    finally:
        owner.dispose()


# --- the actor is the login --------------------------------------------------------------


def test_the_app_records_the_login_whatever_it_was_told(
    postgres_server: PostgresServer, shared: str
) -> None:
    hana = _as(postgres_server, shared, HANA)
    cora = _as(postgres_server, shared, CORA)
    try:
        assert acting_actor(hana, JANE) == HANA
        assert acting_actor(cora, JANE) == f"Cora Jones ({CORA})"
        identity = cora.server_identity()
        assert identity is not None and identity.role == "coordinator"
        _enter(hana, numerator="45", denominator="50")
        submit_return(hana, service="HIGHWAYS", period=PERIOD, actor=JANE)
        review.accept_return(cora, service="HIGHWAYS", period=PERIOD, actor=JANE)
        events = audit.history(hana, service="HIGHWAYS")
    finally:
        hana.dispose()
        cora.dispose()
    assert [(e.action, e.actor) for e in reversed(events)] == [
        ("return.create", HANA),
        ("value.set", HANA),
        ("return.submit", HANA),
        ("return.accept", f"Cora Jones ({CORA})"),
    ]
    _verified(postgres_server, shared)


def test_an_event_in_another_name_is_refused_and_one_without_a_name_gets_the_login(
    postgres_server: PostgresServer, shared: str
) -> None:
    _refused(
        postgres_server,
        shared,
        HANA,
        "the actor is the login",
        "INSERT INTO audit_events (at, actor, action, service) "
        "VALUES (now(), %s, 'value.set', 'HIGHWAYS')",
        JANE,
    )
    with postgres_server.connect(shared, user=HANA) as raw:
        raw.execute(
            "INSERT INTO audit_events (action, service, reason) "
            "VALUES ('value.set', 'HIGHWAYS', 'typed in psql, línea ü \"quoted\"\n\tnext')"
        )
    assert _actors(postgres_server, shared, "value.set") == {HANA}
    _verified(postgres_server, shared)  # the server's hash is the one verify computes


# --- who may record what -------------------------------------------------------------------


COORDINATOR_ONLY = [
    action for action, roles, _rule in rules.ACTION_ROLES if roles == "{coordinator}"
]


@pytest.mark.parametrize("action", COORDINATOR_ONLY)
def test_a_service_manager_may_not_record_a_coordinators_action(
    postgres_server: PostgresServer, shared: str, action: str
) -> None:
    refusal = _refused(
        postgres_server,
        shared,
        HANA,
        "who may record what",
        "INSERT INTO audit_events (action, service) VALUES (%s, 'HIGHWAYS')",
        action,
    )
    assert "is a service manager" in str(refusal)


def test_a_coordinator_records_their_actions_and_nobody_an_action_without_a_rule(
    postgres_server: PostgresServer, shared: str
) -> None:
    with postgres_server.connect(shared, user=CORA) as raw:
        for action in COORDINATOR_ONLY:
            raw.execute("INSERT INTO audit_events (action) VALUES (%s)", [action])
    assert _actors(postgres_server, shared, *COORDINATOR_ONLY) == {f"Cora Jones ({CORA})"}
    for login in (CORA, HANA):
        _refused(
            postgres_server,
            shared,
            login,
            "who may record what",
            "INSERT INTO audit_events (action, service) VALUES ('return.forged', 'HIGHWAYS')",
        )
    _verified(postgres_server, shared)


# --- the chain -----------------------------------------------------------------------------


def test_an_event_that_breaks_the_chain_is_refused(
    postgres_server: PostgresServer, shared: str
) -> None:
    with postgres_server.connect(shared) as admin:
        (head,) = admin.execute("SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1").fetchone()
    insert = (
        "INSERT INTO audit_events (at, actor, action, service, prev_hash, hash) "
        "VALUES (%s, %s, 'value.set', 'HIGHWAYS', %s, %s)"
    )
    from datetime import UTC, datetime

    at = datetime(2026, 12, 6, 12, 0, 0, 123456, tzinfo=UTC)
    fields = {"at": at, "actor": HANA, "action": "value.set", "service": "HIGHWAYS"}
    _refused(
        postgres_server,
        shared,
        HANA,
        "the chain",
        insert,
        at,
        HANA,
        GENESIS_HASH,  # not the newest event: a fork
        event_hash({**fields, "prev_hash": GENESIS_HASH}),
    )
    _refused(
        postgres_server, shared, HANA, "the chain", insert, at, HANA, head, "f" * 64
    )  # a hash that is not the event's
    with postgres_server.connect(shared, user=HANA) as raw:  # a well-formed event of her own
        raw.execute(insert, [at, HANA, head, event_hash({**fields, "prev_hash": head})])
    _verified(postgres_server, shared)


def test_the_server_hashes_awkward_text_as_verify_does(
    postgres_server: PostgresServer, shared: str
) -> None:
    """The server writes an event's hash itself when it is not given (migration 0013 writes
    that in PL/pgSQL): for quotes, backslashes, control characters, non-ASCII and line
    separators it must be the hash `verify` computes, or every such event would be reported
    as altered."""
    from datetime import UTC, datetime

    awkward = 'He said "no" \\ then\n\ttabbed \x01\x1f café Ł 中文 😀 \u2028 \x7f'
    at = datetime(2026, 12, 7, 9, 30, 0, 654321, tzinfo=UTC)
    with postgres_server.connect(shared, user=HANA) as raw:  # hash and prev_hash left out
        raw.execute(
            "INSERT INTO audit_events (at, action, service, reason, source, new) "
            "VALUES (%s, 'value.set', 'HIGHWAYS', %s, %s, NULL)",
            [at, awkward, awkward[::-1]],
        )
    with postgres_server.connect(shared) as admin:
        stored = admin.execute(
            "SELECT prev_hash, actor, hash FROM audit_events ORDER BY id DESC LIMIT 1"
        ).fetchone()
    prev_hash, actor, server_hash = stored
    fields = {"at": at, "actor": actor, "action": "value.set", "service": "HIGHWAYS"}
    fields |= {"reason": awkward, "source": awkward[::-1], "prev_hash": prev_hash}
    assert server_hash == event_hash(fields)
    _verified(postgres_server, shared)


# --- the workflow --------------------------------------------------------------------------


def test_only_a_coordinator_accepts_or_returns_a_return(
    postgres_server: PostgresServer, shared: str
) -> None:
    return_id = _submitted(postgres_server, shared)
    hana = _as(postgres_server, shared, HANA)
    try:
        with pytest.raises(RuleRefused, match="who may record what"):
            review.accept_return(hana, service="HIGHWAYS", period=PERIOD, actor=JANE)
        with pytest.raises(RuleRefused, match="who may record what"):
            review.return_with_query(
                hana, service="HIGHWAYS", period=PERIOD, reason="mine", actor=JANE
            )
        assert get_return(hana, "HIGHWAYS", PERIOD).state == "submitted"
    finally:
        hana.dispose()
    for state in ("accepted", "returned"):
        refusal = _refused(
            postgres_server,
            shared,
            HANA,
            "only a coordinator accepts or returns",
            "UPDATE returns SET state = %s WHERE id = %s",
            state,
            return_id,
        )
        assert f"{HANA} is a service manager" in str(refusal)
    cora = _as(postgres_server, shared, CORA)
    try:
        review.accept_return(cora, service="HIGHWAYS", period=PERIOD, actor=JANE)
        assert get_return(cora, "HIGHWAYS", PERIOD).state == "accepted"
    finally:
        cora.dispose()
    assert _actors(postgres_server, shared, "return.accept") == {f"Cora Jones ({CORA})"}
    _verified(postgres_server, shared)


def test_values_of_a_return_that_is_not_a_draft_are_changed_by_nobody(
    postgres_server: PostgresServer, shared: str
) -> None:
    return_id = _submitted(postgres_server, shared)
    for login in (CORA, None):  # the coordinator, and the owner
        user = login or "skp_admin"
        for sql in (
            "UPDATE \"values\" SET value = '99', numerator = '49.5' WHERE return_id = %s",
            'DELETE FROM "values" WHERE return_id = %s',
            'INSERT INTO "values" (return_id, indicator_id, value, updated_at, updated_by) '
            "SELECT %s, id, '1', now(), 'x' FROM indicators WHERE code = 'SAFER-P4-S2'",
        ):
            refusal = _refused(
                postgres_server, shared, user, "only a draft's values change", sql, return_id
            )
            assert "is submitted: its values cannot be changed by anyone" in str(refusal)
        _refused(
            postgres_server,
            shared,
            user,
            "a submitted revision is never changed",
            "UPDATE returns SET state = 'draft' WHERE id = %s",
            return_id,
        )
        _refused(
            postgres_server,
            shared,
            user,
            "a submitted revision is never changed",
            "UPDATE returns SET submitted_by = 'someone else' WHERE id = %s",
            return_id,
        )
        _refused(
            postgres_server,
            shared,
            user,
            "returns are never deleted",
            "DELETE FROM returns WHERE id = %s",
            return_id,
        )
    _verified(postgres_server, shared)


def test_a_return_starts_as_a_draft(postgres_server: PostgresServer, shared: str) -> None:
    for login in (HANA, CORA):
        _refused(
            postgres_server,
            shared,
            login,
            "a return starts as a draft",
            "INSERT INTO returns (uuid, service_id, period, revision, state, "
            "definitions_version_id, created_at, created_by, updated_at) "
            "SELECT gen_random_uuid()::text, s.id, 'FY2024-25-Q2', 1, 'accepted', "
            "(SELECT max(id) FROM definitions_versions), now(), 'x', now() "
            "FROM services s WHERE s.code = 'HIGHWAYS'",
        )


def test_a_service_manager_drafts_submits_reopens_and_answers_queries(
    postgres_server: PostgresServer, shared: str
) -> None:
    _submitted(postgres_server, shared)
    cora = _as(postgres_server, shared, CORA)
    try:
        review.return_with_query(
            cora, service="HIGHWAYS", period=PERIOD, queries={CAT1: "Is 50 right?"}, actor=JANE
        )
    finally:
        cora.dispose()
    hana = _as(postgres_server, shared, HANA)
    try:
        reopen_return(hana, service="HIGHWAYS", period=PERIOD, reason="the query", actor=JANE)
        review.answer_queries(
            hana, service="HIGHWAYS", period=PERIOD, answers={CAT1: "Yes."}, actor=JANE
        )
        _enter(hana, numerator="46", denominator="50")
        view = submit_return(hana, service="HIGHWAYS", period=PERIOD, actor=JANE)
        assert (view.state, view.revision) == ("submitted", 2)
    finally:
        hana.dispose()
    assert _actors(
        postgres_server,
        shared,
        "return.create",
        "return.submit",
        "return.reopen",
        "query.answer",
        "value.set",
    ) == {HANA}
    assert _actors(postgres_server, shared, "return.return", "query.ask") == {
        f"Cora Jones ({CORA})"
    }
    _verified(postgres_server, shared)


def test_an_auditor_reads_and_the_server_refuses_their_events(
    postgres_server: PostgresServer, shared: str
) -> None:
    import psycopg

    _submitted(postgres_server, shared)
    aud = _as(postgres_server, shared, AUD)
    try:
        identity = aud.server_identity()
        assert identity is not None and (identity.actor, identity.role) == (AUD, "auditor")
        assert audit.verify(aud).ok and get_return(aud, "HIGHWAYS", PERIOD).state == "submitted"
        with pytest.raises(StoreUnavailable, match=f"{AUD} is an auditor, who only reads there"):
            review.accept_return(aud, service="HIGHWAYS", period=PERIOD, actor=JANE)
        assert get_return(aud, "HIGHWAYS", PERIOD).state == "submitted"
    finally:
        aud.dispose()
    with postgres_server.connect(shared, user=AUD) as raw:
        for sql in (
            "INSERT INTO audit_events (action) VALUES ('value.set')",
            "UPDATE returns SET state = 'accepted'",
            "INSERT INTO skp_people VALUES ('aud_rules', 'The Boss')",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                raw.execute(sql)


def test_display_names_are_the_owners_to_give(postgres_server: PostgresServer, shared: str) -> None:
    import psycopg

    for login in (CORA, HANA):
        with postgres_server.connect(shared, user=login) as raw:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                raw.execute("UPDATE skp_people SET display_name = 'Hana Patel'")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                raw.execute("INSERT INTO skp_action_roles VALUES ('x.y', '{manager}', 'mine')")
    for login in (CORA, HANA):  # nor who manages which service: the owner maps logins
        with postgres_server.connect(shared, user=login) as raw:
            assert raw.execute("SELECT count(*) FROM service_roles").fetchone() == (1,)
            for sql in (
                "INSERT INTO service_roles VALUES ('CHILDRENS', %s)",
                "UPDATE service_roles SET role_name = %s",
                "DELETE FROM service_roles WHERE role_name <> %s",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    raw.execute(sql, [HANA])
    with postgres_server.connect(shared, user=HANA) as raw:
        assert raw.execute("SELECT skp_actor(), skp_login_role()").fetchone() == (
            HANA,
            "service manager",
        )


def test_the_connection_check_says_the_logins_role_and_recorded_name(
    postgres_server: PostgresServer, shared: str
) -> None:
    found = check_connection(make_url(postgres_server.url(shared, user=CORA)))
    assert (found.role, found.actor) == ("coordinator", f"Cora Jones ({CORA})")
    assert "Your role there: coordinator (accepts and returns returns" in found.message
    found = check_connection(make_url(postgres_server.url(shared, user=HANA)))
    assert found.role == "service manager" and "records what you do as hana_rules" in found.message


def test_a_table_a_later_migration_gives_to_coordinators_refuses_everyone_else(
    postgres_server: PostgresServer, shared: str
) -> None:
    with postgres_server.connect(shared) as admin:  # as a migration would, e.g. signing keys
        admin.execute("CREATE TABLE keys_example (name text)")
        admin.execute(f"GRANT SELECT, INSERT ON keys_example TO {HANA}, {CORA}")
        admin.execute(
            "CREATE TRIGGER coordinators BEFORE INSERT OR UPDATE OR DELETE ON keys_example "
            "FOR EACH ROW EXECUTE FUNCTION skp_coordinator_only('only a coordinator enrols keys')"
        )
    _refused(
        postgres_server,
        shared,
        HANA,
        "only a coordinator enrols keys",
        "INSERT INTO keys_example VALUES ('hana key')",
    )
    with postgres_server.connect(shared, user=CORA) as raw:
        raw.execute("INSERT INTO keys_example VALUES ('cora key')")


def test_nothing_is_held_that_its_history_does_not_say(
    postgres_server: PostgresServer, shared: str
) -> None:
    return_id = _submitted(postgres_server, shared)
    # a coordinator may accept, but not without the event that records it (checked at COMMIT)
    refusal = _refused(
        postgres_server,
        shared,
        CORA,
        "what is held follows its history",
        "UPDATE returns SET state = 'accepted' WHERE id = %s",
        return_id,
    )
    assert "is 'accepted', but its newest audit event says 'submitted'" in str(refusal)
    hana = _as(postgres_server, shared, HANA)
    try:
        reopen_return(hana, service="HIGHWAYS", period=PERIOD, reason="a typo", actor=JANE)
    finally:
        hana.dispose()
    with postgres_server.connect(shared) as admin:
        (draft_id, uuid) = admin.execute(
            "SELECT id, uuid FROM returns WHERE revision = 2 AND period = %s", [PERIOD]
        ).fetchone()
    # a draft's value, changed in psql without its event
    _refused(
        postgres_server,
        shared,
        HANA,
        "what is held follows its history",
        "UPDATE \"values\" SET numerator = '46', value = '92' WHERE return_id = %s",
        draft_id,
    )
    # with its event in the same transaction, as the app does it, the change stands
    entry = (
        '{"commentary":null,"denominator":"50","explanation":null,"numerator":"46",'
        '"symbol":null,"value":"92"}'
    )
    with postgres_server.connect(shared, user=HANA, autocommit=False) as raw:
        raw.execute(
            "UPDATE \"values\" SET numerator = '46', value = '92' WHERE return_id = %s",
            [draft_id],
        )
        raw.execute(
            "INSERT INTO audit_events (action, service, period, revision, return_uuid, "
            "indicator, new) VALUES ('value.set', 'HIGHWAYS', %s, 2, %s, %s, %s)",
            [PERIOD, uuid, CAT1, entry],
        )
        raw.commit()
    hana = _as(postgres_server, shared, HANA)
    try:
        assert get_return(hana, "HIGHWAYS", PERIOD).row(CAT1).value == 92
    finally:
        hana.dispose()
    _verified(postgres_server, shared)


def test_the_rules_come_off_and_back_on_with_the_migration(
    postgres_server: PostgresServer, shared: str
) -> None:
    from alembic import command

    from skp_desktop.store import migrate

    owner = open_database(postgres_server.url(shared))
    try:
        config = migrate._config()
        with owner.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0005")  # before the rules
        with postgres_server.connect(shared, user=HANA) as raw:  # as before this migration
            raw.execute(
                "INSERT INTO audit_events (at, actor, action, service, prev_hash, hash) "
                "VALUES (now(), 'anyone', 'forged', 'HIGHWAYS', 'x', 'y')"
            )
        with postgres_server.connect(shared) as admin:  # (it would not verify: taken out)
            admin.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
            admin.execute("DELETE FROM audit_events WHERE action = 'forged'")
            admin.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")
        assert migrate.upgrade(owner)
        assert migrate.current_revision(owner) == migrate.SCHEMA_HEAD
    finally:
        owner.dispose()
    _refused(
        postgres_server,
        shared,
        HANA,
        "the actor is the login",
        "INSERT INTO audit_events (action, actor, service) VALUES ('value.set', 'x', 'HIGHWAYS')",
    )
    _verified(postgres_server, shared)


def test_an_owner_who_is_not_a_superuser_sets_the_rules_up_as_the_readme_says(
    postgres_server: PostgresServer, logins: dict[str, str]
) -> None:
    owner, name = "rules_owner", "t_rules_owner"
    with postgres_server.connect() as admin:
        if not admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [owner]).fetchone():
            admin.execute(f"CREATE ROLE {owner} LOGIN CREATEROLE")
        admin.execute(f"CREATE DATABASE {name} OWNER {owner}")
    try:
        with postgres_server.connect(name) as admin:
            admin.execute(f"ALTER SCHEMA public OWNER TO {owner}")
        db = open_database(postgres_server.url(name, user=owner), actor=JANE)  # `init`
        try:
            identity = db.server_identity()
            assert identity is not None and (identity.actor, identity.role) == (owner, "owner")
            with postgres_server.connect(name, user=owner) as raw:
                raw.execute("INSERT INTO service_roles VALUES ('HIGHWAYS', %s)", [HANA])
        finally:
            db.dispose()
        _submitted(postgres_server, name)
        _refused(
            postgres_server,
            name,
            HANA,
            "who may record what",
            "INSERT INTO audit_events (action, service) VALUES ('return.accept', 'HIGHWAYS')",
        )
        _refused(
            postgres_server,
            name,
            owner,
            "only a draft's values change",
            "UPDATE \"values\" SET value = '1'",
        )
        assert _actors(postgres_server, name, "return.submit") == {HANA}
        _verified(postgres_server, name)
    finally:
        postgres_server.drop_database(name)


# --- migration 0010: an event names its return, and is backed by it; nobody else creates -----


LOOKED_AFTER = "SAFER-P1-B2"  # Children's Services


def _childrens_draft(server: PostgresServer, name: str) -> str:
    """Children's Services' draft, entered by the owner; its return's uuid."""
    owner = open_database(server.url(name))
    try:
        record_entries(
            owner,
            service="CHILDRENS",
            period=PERIOD,
            changes=[EntryChange(LOOKED_AFTER, {"value": "100"})],
            actor=JANE,
        )
    finally:
        owner.dispose()
    with server.connect(name) as admin:
        (uuid,) = admin.execute(
            "SELECT r.uuid FROM returns r JOIN services s ON s.id = r.service_id "
            "WHERE s.code = 'CHILDRENS'"
        ).fetchone()
    return str(uuid)


_VALUE_EVENT = (
    "INSERT INTO audit_events (action, service, period, revision, return_uuid, indicator, new) "
    "VALUES ('value.set', %s, %s, %s, %s, %s, %s)"
)


def test_an_event_names_its_return(postgres_server: PostgresServer, shared: str) -> None:
    childrens = _childrens_draft(postgres_server, shared)
    forged = '{"value":"1"}'
    # In her own service's name, on another service's return: that return would no longer
    # follow its history, and merge and the board pack would leave it out.
    refusal = _refused(
        postgres_server,
        shared,
        HANA,
        "an event names its return",
        _VALUE_EVENT,
        "HIGHWAYS",
        PERIOD,
        1,
        childrens,
        LOOKED_AFTER,
        forged,
    )
    assert "is about revision 1 of the CHILDRENS return for FY2024-25-Q1" in str(refusal)
    assert "but names HIGHWAYS FY2024-25-Q1 revision 1" in str(refusal)
    for login in (HANA, CORA):  # a return that is not held
        _refused(
            postgres_server,
            shared,
            login,
            "an event names its return",
            _VALUE_EVENT,
            "HIGHWAYS",
            PERIOD,
            1,
            "00000000-0000-4000-8000-000000000000",
            CAT1,
            forged,
        )
    _refused(  # the coordinator too: the event's revision is its return's
        postgres_server,
        shared,
        CORA,
        "an event names its return",
        _VALUE_EVENT,
        "CHILDRENS",
        PERIOD,
        2,
        childrens,
        LOOKED_AFTER,
        forged,
    )
    owner = open_database(postgres_server.url(shared))
    try:
        assert audit.returns_not_backed(owner) == ()
    finally:
        owner.dispose()
    _verified(postgres_server, shared)


def test_an_event_that_records_what_was_not_done_is_refused(
    postgres_server: PostgresServer, shared: str
) -> None:
    return_id = _submitted(postgres_server, shared)
    with postgres_server.connect(shared) as admin:
        (uuid,) = admin.execute("SELECT uuid FROM returns WHERE id = %s", [return_id]).fetchone()
    # an action she may record, saying her return was accepted, which it is not
    refusal = _refused(
        postgres_server,
        shared,
        HANA,
        "what is held follows its history",
        "INSERT INTO audit_events (action, service, period, revision, return_uuid, new) "
        "VALUES ('return.submit', 'HIGHWAYS', %s, 1, %s, 'accepted')",
        PERIOD,
        uuid,
    )
    assert "says revision 1 of the HIGHWAYS return for FY2024-25-Q1 is 'accepted'" in str(refusal)
    assert "but it is 'submitted'" in str(refusal)
    refusal = _refused(  # a value that is not the one held
        postgres_server,
        shared,
        CORA,
        "what is held follows its history",
        _VALUE_EVENT,
        "HIGHWAYS",
        PERIOD,
        1,
        uuid,
        CAT1,
        '{"value":"99"}',
    )
    assert f"says the value of {CAT1} in revision 1 of the HIGHWAYS return" in str(refusal)
    _verified(postgres_server, shared)


def test_a_value_is_removed_only_with_the_event_that_records_it(
    postgres_server: PostgresServer, shared: str
) -> None:
    uuid = _childrens_draft(postgres_server, shared)
    remove = 'DELETE FROM "values" WHERE indicator_id = (SELECT id FROM indicators WHERE code = %s)'
    refusal = _refused(
        postgres_server, shared, CORA, "what is held follows its history", remove, LOOKED_AFTER
    )
    assert f"the value of {LOOKED_AFTER} in revision 1 of the CHILDRENS return" in str(refusal)
    with postgres_server.connect(shared, user=CORA, autocommit=False) as raw:
        raw.execute(remove, [LOOKED_AFTER])
        raw.execute(_VALUE_EVENT, ["CHILDRENS", PERIOD, 1, uuid, LOOKED_AFTER, None])
        raw.commit()
    cora = _as(postgres_server, shared, CORA)
    try:
        assert get_return(cora, "CHILDRENS", PERIOD).row(LOOKED_AFTER).value is None
    finally:
        cora.dispose()
    _verified(postgres_server, shared)


def test_no_login_but_the_owner_creates_where_the_rules_look_up_their_functions(
    postgres_server: PostgresServer, shared: str
) -> None:
    """As on PostgreSQL 14 and older, where every login may create in `public`: a function
    closer in argument types than the rules' own would switch a rule off."""
    import psycopg
    from alembic import command

    from skp_desktop.store import migrate

    with postgres_server.connect(shared) as admin:
        admin.execute("GRANT CREATE ON SCHEMA public TO PUBLIC")
    owner = open_database(postgres_server.url(shared))
    try:
        config = migrate._config()
        with owner.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0009")
        assert migrate.upgrade(owner)
    finally:
        owner.dispose()
    with (
        postgres_server.connect(shared, user=HANA) as raw,
        pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied for schema"),
    ):
        raw.execute(
            "CREATE FUNCTION public.skp_may_record(character varying) RETURNS boolean "
            "LANGUAGE sql AS 'SELECT true'"
        )
    _refused(
        postgres_server,
        shared,
        HANA,
        "who may record what",
        "INSERT INTO audit_events (action, service) VALUES ('return.accept', 'HIGHWAYS')",
    )


def _definitions_and_keys(server: PostgresServer, name: str) -> tuple[Any, ...]:
    with server.connect(name) as admin:
        return (
            admin.execute("SELECT count(*), max(number) FROM definitions_versions").fetchone(),
            admin.execute("SELECT id, title FROM indicator_definitions ORDER BY id").fetchall(),
            admin.execute("SELECT id, value FROM targets ORDER BY id").fetchall(),
            admin.execute(
                "SELECT fingerprint, revoked_at FROM signing_keys ORDER BY id"
            ).fetchall(),
            admin.execute("SELECT * FROM signing_key_services ORDER BY 1, 2").fetchall(),
        )


def test_only_a_coordinator_publishes_definitions_and_enrols_keys(
    postgres_server: PostgresServer, shared: str, tmp_path: Path
) -> None:
    import psycopg

    from skp_desktop.services import trust
    from skp_desktop.services.definitions import Publication, publish_definitions

    publication = Publication(
        applies_from="FY2025-26-Q1",
        note="2025/26 tolerance",
        changes={CAT1: {"amber_tolerance": "3"}},
    )
    with key_of(tmp_path / "another-laptop"):  # a service's key, to enrol
        _path, enrolment = trust.export_enrolment(tmp_path / "hana.skpkey", name="Hana")
    (installation,) = [k.fingerprint for k in _keys(postgres_server, shared)]
    before = _definitions_and_keys(postgres_server, shared)
    refused = r"may not (make this change|record)|rule “who may record what”"
    for login in (HANA, AUD):
        db = _as(postgres_server, shared, login)
        try:
            with pytest.raises((StoreUnavailable, RuleRefused), match=refused):
                publish_definitions(db, publication, actor=JANE)
            with pytest.raises((StoreUnavailable, RuleRefused), match=refused):
                trust.trust_key(
                    db,
                    tmp_path / "hana.skpkey",
                    services=["HIGHWAYS"],
                    fingerprint_given=enrolment.fingerprint,
                    actor=JANE,
                )
            with pytest.raises((StoreUnavailable, RuleRefused), match=refused):
                trust.revoke_key(db, installation, reason="mine", actor=JANE)
        finally:
            db.dispose()
        with postgres_server.connect(shared, user=login) as raw:
            for sql in (
                "INSERT INTO definitions_versions (number, applies_from, published_at, "
                "published_by) VALUES (99, 'FY2025-26-Q1', now(), 'x')",
                "UPDATE indicator_definitions SET title = 'mine'",
                "UPDATE targets SET value = '1'",
                "INSERT INTO signing_keys (fingerprint, public_key, name, role, trusted_at, "
                "trusted_by) VALUES ('f', 'k', 'mine', 'service', now(), 'x')",
                "UPDATE signing_keys SET revoked_at = now()",
                "INSERT INTO signing_key_services SELECT id, 'HIGHWAYS' FROM signing_keys",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    raw.execute(sql)
        assert _definitions_and_keys(postgres_server, shared) == before
    cora = _as(postgres_server, shared, CORA)
    try:
        assert publish_definitions(cora, publication, actor=JANE).version == 2
        trust.trust_key(
            cora,
            tmp_path / "hana.skpkey",
            services=["HIGHWAYS"],
            fingerprint_given=enrolment.fingerprint,
            actor=JANE,
        )
    finally:
        cora.dispose()
    assert _actors(postgres_server, shared, "definitions.publish", "key.trust") == {
        f"Cora Jones ({CORA})"
    }
    _verified(postgres_server, shared)


def _keys(server: PostgresServer, name: str) -> list[Any]:
    from skp_desktop.services import trust

    owner = open_database(server.url(name))
    try:
        return trust.list_keys(owner)
    finally:
        owner.dispose()
