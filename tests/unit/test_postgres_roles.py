"""Partnership roles on PostgreSQL: the server, not the buttons, decides who may write what."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from postgres_server import PostgresServer
from sqlalchemy import inspect, make_url

from skp_desktop.domain.errors import StoreUnavailable
from skp_desktop.services import audit
from skp_desktop.services.database import Database, open_database
from skp_desktop.services.entries import EntryChange
from skp_desktop.services.returns import get_return, record_entries, submit_return
from skp_desktop.services.sync import synchronise

PERIOD = "FY2024-25-Q1"
CAT1 = "SAFER-P4-S1"  # Highways
LOOKED_AFTER = "SAFER-P1-B2"  # Children's Services
MANAGER, COORDINATOR, AUDITOR = "hana_highways", "cora_coordinator", "aud_auditor"
LOGINS = {MANAGER: "skp_service_manager", COORDINATOR: "skp_coordinator", AUDITOR: "skp_auditor"}


@pytest.fixture(scope="module")
def logins(postgres_server: PostgresServer, postgres_template: str) -> dict[str, str]:
    """One login role in each group (roles belong to the server, so once per session)."""
    with postgres_server.connect() as admin:
        for login, group in LOGINS.items():
            exists = admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [login]).fetchone()
            if not exists:
                admin.execute(f"CREATE ROLE {login} LOGIN IN ROLE {group}")
    return LOGINS


@pytest.fixture
def shared(
    postgres_server: PostgresServer, postgres_url: str, logins: dict[str, str]
) -> Iterator[str]:
    """A partnership database where Hana manages Highways and Children's has a draft."""
    name = make_url(postgres_url).database or ""
    with postgres_server.connect(name) as admin:
        admin.execute("INSERT INTO service_roles VALUES ('HIGHWAYS', %s)", [MANAGER])
    owner = open_database(postgres_url)
    _enter(owner, "CHILDRENS", LOOKED_AFTER, value="100")
    owner.dispose()
    yield name


def _enter(db: Database, service: str, code: str, **fields: str) -> None:
    record_entries(
        db, service=service, period=PERIOD, changes=[EntryChange(code, fields)], actor="t"
    )


def _as(server: PostgresServer, name: str, login: str) -> Database:
    return open_database(server.url(name, user=login), actor=login)


@pytest.mark.postgresql
def test_an_auditor_reads_everything_and_the_server_refuses_their_changes(
    postgres_server: PostgresServer, shared: str
) -> None:
    import psycopg

    db = _as(postgres_server, shared, AUDITOR)
    try:
        assert get_return(db, "CHILDRENS", PERIOD).row(LOOKED_AFTER).value == 100
        assert audit.verify(db).ok and audit.history(db, limit=1)
        with pytest.raises(StoreUnavailable, match=r"may not (make this change|record)"):
            _enter(db, "CHILDRENS", LOOKED_AFTER, value="101")
    finally:
        db.dispose()
    with postgres_server.connect(shared, user=AUDITOR) as raw:
        for statement in (
            "INSERT INTO audit_events (at, actor, action, prev_hash, hash) "
            "VALUES (now(), 'aud', 'forged', 'x', 'y')",
            "UPDATE \"values\" SET value = '1'",
            "DELETE FROM returns",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                raw.execute(statement)


@pytest.mark.postgresql
def test_a_service_manager_writes_only_their_own_services_returns(
    postgres_server: PostgresServer, shared: str
) -> None:
    import psycopg

    db = _as(postgres_server, shared, MANAGER)
    try:
        _enter(db, "HIGHWAYS", CAT1, numerator="45", denominator="50")
        submit_return(db, service="HIGHWAYS", period=PERIOD, actor=MANAGER)
        assert get_return(db, "HIGHWAYS", PERIOD).state == "submitted"
        with pytest.raises(StoreUnavailable, match="row-level security"):
            _enter(db, "CHILDRENS", LOOKED_AFTER, value="5")
        with pytest.raises(StoreUnavailable, match="row-level security"):
            _enter(db, "ASC", "SAFER-P1-S1", numerator="1", denominator="2")
        assert get_return(db, "CHILDRENS", PERIOD).row(LOOKED_AFTER).value == 100
        assert get_return(db, "ASC", PERIOD).state == "not started"
    finally:
        db.dispose()
    with postgres_server.connect(shared, user=MANAGER) as raw:
        (childrens,) = raw.execute(
            "SELECT r.id FROM returns r JOIN services s ON s.id = r.service_id "
            "WHERE s.code = 'CHILDRENS'"
        ).fetchone()
        refused = {
            "a value in another service's return": (
                "UPDATE \"values\" SET value = '5' WHERE return_id = %s",
                [childrens],
            ),
            "another service's return": (
                "UPDATE returns SET state = 'submitted' WHERE id = %s",
                [childrens],
            ),
            "moving a return to one's own service": (
                "UPDATE returns SET service_id = "
                "(SELECT id FROM services WHERE code = 'HIGHWAYS') WHERE id = %s",
                [childrens],
            ),
            "an audit event for another service": (
                "INSERT INTO audit_events (at, actor, action, service, prev_hash, hash) "
                "VALUES (now(), 'hana', 'forged', 'CHILDRENS', 'x', 'y')",
                [],
            ),
        }
        for what, (statement, params) in refused.items():
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                raw.execute(statement, params)
                pytest.fail(f"the server let a service manager change {what}")
    owner = open_database(postgres_server.url(shared))
    try:
        assert get_return(owner, "CHILDRENS", PERIOD).state == "draft"
        assert audit.verify(owner).ok
    finally:
        owner.dispose()


@pytest.mark.postgresql
def test_the_coordinator_writes_every_service_but_cannot_change_audit_events(
    postgres_server: PostgresServer, shared: str
) -> None:
    import psycopg

    db = _as(postgres_server, shared, COORDINATOR)
    try:
        _enter(db, "CHILDRENS", LOOKED_AFTER, value="101")
        _enter(db, "HIGHWAYS", CAT1, symbol="[x]")
        assert audit.verify(db).ok
    finally:
        db.dispose()
    with postgres_server.connect(shared, user=COORDINATOR) as raw:
        for statement in (
            "UPDATE audit_events SET actor = 'someone else'",
            "DELETE FROM audit_events",
            "TRUNCATE audit_events",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                raw.execute(statement)


@pytest.mark.postgresql
def test_a_service_manager_pushes_only_their_own_services_returns(
    postgres_server: PostgresServer, shared: str, template_database: Path, tmp_path: Path
) -> None:
    laptop_file = tmp_path / "laptop.sqlite3"
    shutil.copyfile(template_database, laptop_file)
    laptop = open_database(laptop_file)
    db = _as(postgres_server, shared, MANAGER)
    try:
        _enter(laptop, "HIGHWAYS", CAT1, numerator="45", denominator="50")
        _enter(laptop, "ASC", "SAFER-P1-S1", numerator="1", denominator="2")
        # the dry run meets the server's refusal too, and leaves nothing behind
        rehearsed = {o.service: o for o in synchronise(laptop, db, actor=MANAGER, dry_run=True)}
        assert (rehearsed["HIGHWAYS"].status, rehearsed["ASC"].status) == ("ACCEPTED", "REJECTED")
        assert rehearsed["ASC"].refused_by_server and not rehearsed["HIGHWAYS"].refused_by_server
        assert get_return(db, "HIGHWAYS", PERIOD).state == "not started"
        outcomes = {o.service: o for o in synchronise(laptop, db, actor=MANAGER)}
        assert outcomes["HIGHWAYS"].status == "ACCEPTED"
        assert outcomes["ASC"].status == "REJECTED" and outcomes["ASC"].refused_by_server
        assert "may not make this change" in (outcomes["ASC"].reason or "")
        assert get_return(db, "HIGHWAYS", PERIOD).row(CAT1).value == 90
        assert get_return(db, "ASC", PERIOD).state == "not started"
        assert audit.verify(db).ok
    finally:
        db.dispose()
        laptop.dispose()


@pytest.mark.postgresql
def test_only_the_owner_can_upgrade_the_schema_and_others_are_told_so(
    postgres_server: PostgresServer, shared: str
) -> None:
    with postgres_server.connect(shared) as admin:
        admin.execute("UPDATE alembic_version SET version_num = '0002'")  # as if made earlier
    with pytest.raises(StoreUnavailable, match="must run once as the database's owner"):
        _as(postgres_server, shared, COORDINATOR)


def test_roles_are_a_postgresql_matter_only(database_file: Path) -> None:
    db = open_database(database_file)
    try:
        with db.engine.connect() as connection:
            assert not inspect(connection).has_table("service_roles")
    finally:
        db.dispose()


@pytest.mark.postgresql
def test_due_dates_and_comparators_are_the_coordinators_to_change_and_everyones_to_read(
    postgres_server: PostgresServer, shared: str
) -> None:
    from datetime import date

    import psycopg

    from skp_desktop.services.comparators import list_comparators, set_comparator
    from skp_desktop.services.completeness import completeness
    from skp_desktop.services.due_dates import set_due_date

    coordinator = _as(postgres_server, shared, COORDINATOR)
    try:
        set_due_date(coordinator, PERIOD, date(2024, 7, 12), COORDINATOR)
        set_comparator(coordinator, CAT1, "London", PERIOD, "93.5", COORDINATOR)
        assert audit.verify(coordinator).ok
    finally:
        coordinator.dispose()
    for login in (MANAGER, AUDITOR):
        db = _as(postgres_server, shared, login)
        try:
            report = completeness(db, first=PERIOD, last=PERIOD, today=date(2024, 8, 1))
            assert report.due_dates[0].due == date(2024, 7, 12)
            assert [e.value for e in list_comparators(db, CAT1)] == [93.5]
            # a service manager's event is refused by the rule, an auditor's by the grants
            refused = "may not make this change|rule “who may record what”"
            with pytest.raises(StoreUnavailable, match=refused):
                set_due_date(db, PERIOD, date(2024, 7, 20), login)
            with pytest.raises(StoreUnavailable, match=refused):
                set_comparator(db, CAT1, "England", PERIOD, "90", login)
        finally:
            db.dispose()
        with postgres_server.connect(shared, user=login) as raw:
            for statement in (
                "UPDATE due_dates SET due_on = '2024-12-31'",
                "DELETE FROM comparator_values",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    raw.execute(statement)


@pytest.mark.postgresql
def test_services_forms_and_context_figures_are_the_coordinators_to_change(
    postgres_server: PostgresServer, shared: str
) -> None:
    from skp_desktop.services.partnership import (
        add_service,
        context_figures,
        list_organisations,
        retire_service,
        service_form,
        set_context_figure,
        set_service_form,
    )

    coordinator = _as(postgres_server, shared, COORDINATOR)
    try:
        add_service(
            coordinator, code="LFB-KINGSTON", name="LFB", organisation="LFB", actor=COORDINATOR
        )
        retire_service(coordinator, code="PARKS", retired_from="FY2026-27-Q1", actor=COORDINATOR)
        set_service_form(
            coordinator,
            code="HIGHWAYS",
            form={"sections": [{"title": "All", "indicators": [{"code": CAT1}]}]},
            actor=COORDINATOR,
        )
        set_context_figure(
            coordinator, code="CTX-ASB", period="FY2024-25-Q4", value="19", actor=COORDINATOR
        )
        assert audit.verify(coordinator).ok
    finally:
        coordinator.dispose()
    for login in (MANAGER, AUDITOR):
        db = _as(postgres_server, shared, login)
        try:
            lfb = next(o for o in list_organisations(db) if o.code == "LFB")
            assert [s.code for s in lfb.services] == ["LFB-KINGSTON"]
            assert service_form(db, "HIGHWAYS").items[0].section == "All"
            assert [f.value for f in context_figures(db)["CTX-ASB"]] == [19]
            with pytest.raises(StoreUnavailable, match=r"may not (make this change|record)"):
                add_service(db, code="PS-X", name="X", organisation="PS", actor=login)
            with pytest.raises(StoreUnavailable, match=r"may not (make this change|record)"):
                set_context_figure(
                    db, code="CTX-ASB", period="FY2025-26-Q4", value="1", actor=login
                )
            with pytest.raises(StoreUnavailable, match=r"may not (make this change|record)"):
                set_service_form(db, code="HIGHWAYS", form=None, actor=login)
        finally:
            db.dispose()
