"""`verify`: passes on an untouched database; names every change made behind the app's back."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from .support import Call, Cli, Result, Scenario, copy_database

pytestmark = pytest.mark.e2e

DEFECTS_VALUE_SET = (
    "SELECT id FROM audit_events WHERE action = 'value.set' AND indicator = 'SAFER-P4-S1'"
)


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def _drop_triggers(con: sqlite3.Connection) -> None:
    con.execute("DROP TRIGGER audit_events_no_update")
    con.execute("DROP TRIGGER audit_events_no_delete")


def _defects_event(con: sqlite3.Connection) -> int:
    [(event_id,)] = con.execute(DEFECTS_VALUE_SET).fetchall()
    return event_id


def tamper_value(con: sqlite3.Connection) -> list[str]:
    """(a) 45/50 becomes 50/50 in the `values` table."""
    changed = con.execute(
        """UPDATE "values" SET numerator = '50', value = '100'
           WHERE indicator_id = (SELECT id FROM indicators WHERE code = 'SAFER-P4-S1')"""
    ).rowcount
    assert changed == 1
    return [
        "verify: value of SAFER-P4-S1 in HIGHWAYS FY2024-25-Q1 revision 1 differs from its "
        "history: it was changed outside the app",
    ]


def tamper_audit_update(con: sqlite3.Connection) -> list[str]:
    """(c) with the triggers dropped, the recorded 45/50 becomes 50/50 in the audit trail."""
    _drop_triggers(con)
    event = _defects_event(con)
    con.execute(
        "UPDATE audit_events SET new = replace(new, '\"45\"', '\"50\"') WHERE id = ?", (event,)
    )
    return [
        f"verify: event {event} (value.set) was altered after it was recorded",
        "verify: value of SAFER-P4-S1 in HIGHWAYS FY2024-25-Q1 revision 1 differs from its history",
    ]


def tamper_audit_delete(con: sqlite3.Connection) -> list[str]:
    """(d) with the triggers dropped, an event in the middle of the chain is deleted."""
    _drop_triggers(con)
    event = _defects_event(con)
    [(following,)] = con.execute(
        "SELECT min(id) FROM audit_events WHERE id > ?", (event,)
    ).fetchall()
    con.execute("DELETE FROM audit_events WHERE id = ?", (event,))
    return [
        f"verify: event {following} does not follow the event before it: an event was removed",
        "verify: value of SAFER-P4-S1 in HIGHWAYS FY2024-25-Q1 revision 1 has no history",
    ]


def tamper_insert_value(con: sqlite3.Connection) -> list[str]:
    """(e) a value row that no event ever recorded."""
    con.execute(
        """INSERT INTO "values" (return_id, indicator_id, value, updated_at, updated_by)
           SELECT v.return_id, (SELECT id FROM indicators WHERE code = 'SAFER-P4-B1'), '99',
                  '2024-07-01 00:00:00', 'mallory'
           FROM "values" v JOIN indicators i ON i.id = v.indicator_id
           WHERE i.code = 'SAFER-P4-S1'"""
    )
    return [
        "verify: value of SAFER-P4-B1 in HIGHWAYS FY2024-25-Q1 revision 1 has no history: "
        "it was added outside the app",
    ]


TAMPERING: dict[str, Callable[[sqlite3.Connection], list[str]]] = {
    "value updated": tamper_value,
    "audit event updated": tamper_audit_update,
    "audit event deleted": tamper_audit_delete,
    "value inserted": tamper_insert_value,
}


@pytest.fixture(scope="module")
def verified(module_cli: Cli, scenario: Scenario) -> dict[str, tuple[Result, list[str]]]:
    """`verify` on an untouched copy and on one tampered copy per case, side by side."""
    root = module_cli.root
    expected: dict[str, list[str]] = {"untouched": []}
    calls = [Call(copy_database(scenario.path, root / "untouched.sqlite3"), ("verify",))]
    for i, (name, tamper) in enumerate(TAMPERING.items()):
        db = copy_database(scenario.path, root / f"tampered{i}.sqlite3")
        con = _connect(db)
        try:
            expected[name] = tamper(con)
        finally:
            con.close()
        calls.append(Call(db, ("verify",)))
    results = module_cli.run_many(calls)
    return {name: (r, expected[name]) for name, r in zip(expected, results, strict=True)}


def test_verify_passes_on_an_untouched_database(
    verified: dict[str, tuple[Result, list[str]]],
) -> None:
    result, _ = verified["untouched"]
    assert result.returncode == 0, str(result)
    assert result.stderr == ""
    # the scenario: 11 events (catalogue, this installation's key enrolled, 3 returns made,
    # 5 values, 1 submission), 5 values
    assert result.stdout == "verify: OK: 11 events and 5 values match their history.\n"


@pytest.mark.parametrize("case", list(TAMPERING))
def test_verify_names_each_problem(
    case: str, verified: dict[str, tuple[Result, list[str]]]
) -> None:
    result, expected = verified[case]
    assert result.returncode == 1, str(result)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    problems = [line for line in lines if line.startswith("verify: ")]
    for phrase in expected:
        assert any(phrase in line for line in problems), f"{phrase!r} missing in\n{result}"
    assert len(problems) == len(expected), str(result)
    assert lines[-1] == (
        f"skp-returns: {len(expected)} problem(s) found: the history was altered outside the app."
    )


def test_audit_events_cannot_be_deleted_while_the_triggers_stand(
    scenario: Scenario, tmp_path: Path
) -> None:
    db = copy_database(scenario.path, tmp_path / "delete.sqlite3")
    con = _connect(db)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            con.execute("DELETE FROM audit_events")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            con.execute("UPDATE audit_events SET actor = 'mallory'")
        assert con.execute("SELECT count(*) FROM audit_events").fetchone() == (11,)
        assert con.execute(
            "SELECT count(*) FROM audit_events WHERE actor = 'mallory'"
        ).fetchone() == (0,)
    finally:
        con.close()
