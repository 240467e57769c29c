"""The issue as a new user met it: on the shared database a service manager, claiming to be
the coordinator with --actor, tries to accept her own return. The server refuses it, the
command says which rule (exit 1), and the history names the login for everything she did."""

from __future__ import annotations

import pytest
from postgres_server import PostgresServer
from sqlalchemy import make_url

from .support import ACTOR, Cli

pytestmark = [pytest.mark.e2e, pytest.mark.postgresql]

HANA = "hana_cli"
Q1 = "FY2025-26-Q1"
WHERE = ("--service", "HIGHWAYS", "--period", Q1)
JANE = "Jane Smith (SKP coordinator)"


def test_a_service_manager_cannot_accept_her_own_return_in_anothers_name(
    cli: Cli, postgres_server: PostgresServer, postgres_url: str
) -> None:
    name = make_url(postgres_url).database or ""
    with postgres_server.connect() as admin:
        if not admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [HANA]).fetchone():
            admin.execute(f"CREATE ROLE {HANA} LOGIN IN ROLE skp_service_manager")
    with postgres_server.connect(name) as admin:
        admin.execute("INSERT INTO service_roles VALUES ('HIGHWAYS', %s)", [HANA])
    hana = postgres_server.url(name, user=HANA)

    entered = cli.run(hana, "enter", *WHERE, "SAFER-P4-S1=45/50", actor=JANE)  # type: ignore[arg-type]
    assert entered.returncode == 0, str(entered)
    assert f"--actor or SKP_ACTOR ('{JANE}') is ignored; you act as {HANA}" in entered.stderr
    submitted = cli.run(hana, "submit", *WHERE, actor=JANE)  # type: ignore[arg-type]
    assert submitted.returncode == 0, str(submitted)

    refused = cli.run(hana, "accept", *WHERE, actor=JANE)  # type: ignore[arg-type]
    assert refused.returncode == 1, str(refused)
    assert "The shared database refused this (its rule “who may record what”)" in refused.stderr
    assert f"{HANA} is a service manager and may not record 'return.accept'" in refused.stderr
    assert "Nothing was changed" in refused.stderr and "Traceback" not in refused.stderr

    shown = cli.run(hana, "show", *WHERE, "--json").json()  # type: ignore[arg-type]
    assert {row["status"] for row in shown} == {"submitted"}
    history = cli.run(hana, "history", "--service", "HIGHWAYS", "--json").json()  # type: ignore[arg-type]
    assert [(e["action"], e["actor"]) for e in reversed(history)] == [
        ("return.create", HANA),
        ("value.set", HANA),
        ("return.submit", HANA),
    ]

    # the owner (here the coordinator's rights) accepts it, in its own name; SKP_ACTOR alone
    # (the tests' environment names an actor) is ignored too, and said so
    accepted = cli.run(postgres_url, "accept", *WHERE)  # type: ignore[arg-type]
    assert accepted.returncode == 0, str(accepted)
    assert f"--actor or SKP_ACTOR ('{ACTOR}') is ignored; you act as skp_admin" in accepted.stderr
    verified = cli.run(hana, "verify")  # type: ignore[arg-type]
    assert verified.returncode == 0 and verified.stdout.startswith("verify: OK"), str(verified)
    last = cli.run(hana, "history", "--limit", "1", "--json").json()  # type: ignore[arg-type]
    assert (last[0]["action"], last[0]["actor"]) == ("return.accept", "skp_admin")
