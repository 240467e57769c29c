"""`skp-returns --db TARGET sync --from SOURCE` through the real console script.

The laptop is the session's scenario database (made through the command line): Highways
2024/25 Q1 a draft, Community Safety Q1 submitted and Q2 a draft.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from postgres_server import PostgresServer
from sqlalchemy import make_url

from .support import Cli, Result, Scenario, copy_database

pytestmark = pytest.mark.e2e

Q1, Q2 = "FY2024-25-Q1", "FY2024-25-Q2"
SYNC_KEYS = {"service", "period", "revision", "status", "detail", "changes", "source"}


def lines(result: Result) -> list[list[str]]:
    return [line.split("\t") for line in result.stdout.splitlines()]


def laptop_and_shared(cli: Cli, scenario: Scenario, blank_template: Path) -> tuple[Path, Path]:
    laptop = copy_database(scenario.path, cli.root / "laptop" / "skp.sqlite3")
    shared = copy_database(blank_template, cli.root / "shared" / "skp.sqlite3")
    return laptop, shared


def test_a_dry_run_then_a_push_of_one_service_then_nothing_new(
    cli: Cli, scenario: Scenario, blank_template: Path
) -> None:
    laptop, shared = laptop_and_shared(cli, scenario, blank_template)
    push = ("sync", "--from", str(laptop), "--service", "commsafety")
    history_before = cli.run(shared, "history", "--json").json()

    dry = cli.run(shared, *push, "--dry-run")
    assert dry.returncode == 0, str(dry)
    assert lines(dry) == [
        ["ACCEPTED", f"COMMSAFETY {Q1} 1", "new revision: 2 values changed"],
        ["ACCEPTED", f"COMMSAFETY {Q2} 1", "new revision: 2 values changed"],
    ]
    assert "Dry run: nothing was written." in dry.stderr
    shown = cli.run(shared, "show", "--service", "COMMSAFETY", "--period", Q1, "--json").json()
    assert {row["status"] for row in shown} == {"not started"}
    assert cli.run(shared, "history", "--json").json() == history_before

    pushed = cli.run(shared, *push)
    assert pushed.returncode == 0, str(pushed)
    assert pushed.stdout == dry.stdout
    assert f"Synchronised {laptop} into {shared}: 2 accepted." in pushed.stderr
    shown = cli.run(shared, "show", "--service", "COMMSAFETY", "--period", Q1, "--json").json()
    assert {(row["code"], row["value"], row["status"]) for row in shown} == {
        ("SAFER-P3-S1", 10, "submitted"),
        ("SAFER-P3-S2", 40, "submitted"),
    }
    # only the service asked for: Highways' draft stayed on the laptop
    highways = cli.run(shared, "show", "--service", "HIGHWAYS", "--period", Q1, "--json").json()
    assert {row["status"] for row in highways} == {"not started"}
    history = cli.run(shared, "history", "--service", "COMMSAFETY", "--json").json()
    assert {e["actor"] for e in history if e["action"] == "value.set"} == {"E2E Tester"}
    assert all(e["source"].startswith(f"synchronised from {laptop}") for e in history)
    verified = cli.run(shared, "verify")
    assert verified.returncode == 0 and verified.stdout.startswith("verify: OK"), str(verified)

    again = cli.run(shared, *push, "--json")
    assert again.returncode == 0, str(again)
    outcomes = json.loads(again.stdout)
    assert [(o["status"], o["period"], o["revision"]) for o in outcomes] == [
        ("DUPLICATE", Q1, 1),
        ("DUPLICATE", Q2, 1),
    ]
    assert all(set(o) >= SYNC_KEYS for o in outcomes)
    assert outcomes[0]["detail"] == "the same revision with the same history is held"


def test_changes_made_in_both_databases_are_a_conflict_and_exit_1(
    cli: Cli, scenario: Scenario, blank_template: Path
) -> None:
    laptop, shared = laptop_and_shared(cli, scenario, blank_template)
    highways = ("--service", "HIGHWAYS", "--period", Q1)
    assert cli.run(shared, "sync", "--from", str(laptop), "--service", "HIGHWAYS").returncode == 0
    assert cli.run(shared, "enter", *highways, "SAFER-P4-S1=30/50").returncode == 0
    assert cli.run(laptop, "enter", *highways, "SAFER-P4-S1=20/50").returncode == 0

    result = cli.run(shared, "sync", "--from", str(laptop), "--json")

    assert result.returncode == 1, str(result)
    outcomes = {o["service"]: o for o in json.loads(result.stdout)}
    assert outcomes["HIGHWAYS"]["status"] == "CONFLICT"
    assert "changed in both databases" in outcomes["HIGHWAYS"]["detail"]
    assert outcomes["COMMSAFETY"]["status"] == "ACCEPTED"  # the batch goes on
    shown = cli.run(shared, "show", *highways, "--json").json()
    assert [row["value"] for row in shown if row["code"] == "SAFER-P4-S1"] == [60]


def test_a_laptop_pulls_the_shared_returns_into_a_new_file(cli: Cli, scenario: Scenario) -> None:
    offline = cli.root / "offline" / "skp.sqlite3"  # a new file in a folder of its own
    offline.parent.mkdir()

    pulled = cli.run(offline, "sync", "--from", str(scenario.path), "--service", "HIGHWAYS")

    assert pulled.returncode == 0, str(pulled)
    assert lines(pulled) == [
        ["ACCEPTED", f"HIGHWAYS {Q1} 1", "new revision: 1 value changed"],
    ]
    shown = cli.run(offline, "show", "--service", "HIGHWAYS", "--period", Q1, "--json").json()
    assert [row["value"] for row in shown if row["code"] == "SAFER-P4-S1"] == [90]


def test_usage_and_environment_errors(cli: Cli, scenario: Scenario, blank_template: Path) -> None:
    laptop, shared = laptop_and_shared(cli, scenario, blank_template)
    before = cli.run(shared, "history", "--json").json()

    unknown = cli.run(shared, "sync", "--from", str(laptop), "--service", "NOPE")
    assert (unknown.returncode, unknown.stdout) == (2, ""), str(unknown)
    assert unknown.stderr == f"skp-returns: There is no service NOPE in {laptop}.\n"

    missing = cli.root / "nowhere" / "laptop.sqlite3"
    absent = cli.run(shared, "sync", "--from", str(missing))
    assert (absent.returncode, absent.stdout) == (2, ""), str(absent)
    assert absent.stderr == f"skp-returns: There is no database at {missing}.\n"
    assert not missing.parent.exists()  # not created on the way

    itself = cli.run(shared, "sync", "--from", str(shared))
    assert itself.returncode == 2 and "--from names the database given with --db" in itself.stderr

    no_source = cli.run(shared, "sync")
    assert no_source.returncode == 2 and "--from" in no_source.stderr

    server = "postgresql://hana:s3cret@/skp?host=/nonexistent-skp-socket-folder"
    unreachable = cli.run(shared, "sync", "--from", server)
    assert (unreachable.returncode, unreachable.stdout) == (3, ""), str(unreachable)
    assert "Cannot reach the database server" in unreachable.stderr
    assert "s3cret" not in unreachable.stderr and "Traceback" not in unreachable.stderr

    assert cli.run(shared, "history", "--json").json() == before


# --- the shared database on PostgreSQL ---------------------------------------------------------

MANAGER = "sync_e2e_highways"


@pytest.mark.postgresql
def test_a_laptop_pushed_into_postgresql_and_a_manager_refused_other_services(
    cli: Cli,
    scenario: Scenario,
    postgres_server: PostgresServer,
    postgres_url: str,
) -> None:
    laptop = copy_database(scenario.path, cli.root / "laptop.sqlite3")
    name = make_url(postgres_url).database or ""
    with postgres_server.connect() as admin:
        if not admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [MANAGER]).fetchone():
            admin.execute(f"CREATE ROLE {MANAGER} LOGIN IN ROLE skp_service_manager")
    with postgres_server.connect(name) as admin:
        admin.execute("INSERT INTO service_roles VALUES ('HIGHWAYS', %s)", [MANAGER])
    as_manager = postgres_server.url(name, user=MANAGER)

    # Hana's login may write Highways only: the server refuses Community Safety (exit 3)
    refused = cli.run(as_manager, "sync", "--from", str(laptop), actor=MANAGER)  # type: ignore[arg-type]
    assert refused.returncode == 3, str(refused)
    statuses = {line[1]: line[0] for line in lines(refused)}
    assert statuses == {
        f"COMMSAFETY {Q1} 1": "REJECTED",
        f"COMMSAFETY {Q2} 1": "REJECTED",
        f"HIGHWAYS {Q1} 1": "ACCEPTED",
    }
    assert "Your login may not make this change" in refused.stderr
    assert "ask them" in refused.stderr and "Traceback" not in refused.stderr

    # the coordinator (the owner here) pushes the rest
    pushed = cli.run(postgres_url, "sync", "--from", str(laptop), "--json")  # type: ignore[arg-type]
    assert pushed.returncode == 0, str(pushed)
    assert [(o["service"], o["status"]) for o in json.loads(pushed.stdout)] == [
        ("COMMSAFETY", "ACCEPTED"),
        ("COMMSAFETY", "ACCEPTED"),
        ("HIGHWAYS", "DUPLICATE"),
    ]
    shown = cli.run(
        postgres_url,  # type: ignore[arg-type]
        "show",
        "--service",
        "COMMSAFETY",
        "--period",
        Q1,
        "--json",
    ).json()
    assert {(row["code"], row["value"]) for row in shown} == {
        ("SAFER-P3-S1", 10),
        ("SAFER-P3-S2", 40),
    }
    verified = cli.run(postgres_url, "verify")  # type: ignore[arg-type]
    assert verified.returncode == 0 and verified.stdout.startswith("verify: OK"), str(verified)
