"""`history`: audit events newest first, with the contract's keys, actors and filters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .support import ACTOR, HISTORY_KEYS, Call, Cli, Result, Scenario, copy_database

pytestmark = pytest.mark.e2e

QUERIES = {
    "all": ("history", "--json"),
    "service": ("history", "--service", "HIGHWAYS", "--json"),
    "period": ("history", "--period", "FY2024-25-Q2", "--json"),
    "indicator": ("history", "--indicator", "SAFER-P3-S2", "--json"),
    "limit": ("history", "--limit", "2", "--json"),
    "combined": ("history", "--service", "COMMSAFETY", "--indicator", "SAFER-P3-S1", "--json"),
}
OTHER = "Jo Bloggs"


@pytest.fixture(scope="module")
def results(module_cli: Cli, scenario: Scenario) -> dict[str, Result]:
    root = module_cli.root
    calls = [
        Call(copy_database(scenario.path, root / f"{name}.sqlite3"), args)
        for name, args in QUERIES.items()
    ]
    other = copy_database(scenario.path, root / "other.sqlite3")
    fresh = root / "fresh.sqlite3"  # does not exist yet: created on first use
    calls += [
        Call(
            other,
            ("enter", "--service", "EPR", "--period", "FY2024-25-Q1", "SAFER-P2-S2=3/4"),
            actor=OTHER,
        ),
        Call(fresh, ("history", "--json"), actor=OTHER),
    ]
    out = dict(zip([*QUERIES, "other_enter", "fresh"], module_cli.run_many(calls), strict=True))
    out["other_history"] = module_cli.run(other, "history", "--limit", "3", "--json")
    return out


def _events(result: Result) -> list[dict[str, object]]:
    assert result.stderr == "", str(result)
    events = result.json()
    assert isinstance(events, list)
    return events


def test_history_lists_events_newest_first_with_the_contract_keys(
    results: dict[str, Result],
) -> None:
    events = _events(results["all"])
    assert all(set(e) == HISTORY_KEYS for e in events)
    ids = [e["id"] for e in events]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)
    assert [(e["action"], e["service"], e["period"], e["indicator"]) for e in events] == [
        ("value.set", "COMMSAFETY", "FY2024-25-Q2", "SAFER-P3-S2"),
        ("value.set", "COMMSAFETY", "FY2024-25-Q2", "SAFER-P3-S1"),
        ("return.create", "COMMSAFETY", "FY2024-25-Q2", None),
        ("return.submit", "COMMSAFETY", "FY2024-25-Q1", None),
        ("value.set", "COMMSAFETY", "FY2024-25-Q1", "SAFER-P3-S2"),
        ("value.set", "COMMSAFETY", "FY2024-25-Q1", "SAFER-P3-S1"),
        ("return.create", "COMMSAFETY", "FY2024-25-Q1", None),
        ("value.set", "HIGHWAYS", "FY2024-25-Q1", "SAFER-P4-S1"),
        ("return.create", "HIGHWAYS", "FY2024-25-Q1", None),
        ("key.trust", None, None, None),  # a new database trusts its installation's key
        ("catalogue.load", None, None, None),
    ]
    assert {e["actor"] for e in events} == {ACTOR}  # SKP_ACTOR
    ats = [e["at"] for e in events]
    assert ats == sorted(ats, reverse=True)

    [defects] = [e for e in events if e["indicator"] == "SAFER-P4-S1"]
    assert defects["old"] is None
    new = json.loads(defects["new"])
    assert (new["numerator"], new["denominator"], new["value"]) == ("45", "50", "90")
    assert defects["source"] == "command line"
    assert defects["revision"] == 1


def test_history_filters(results: dict[str, Result]) -> None:
    everything = _events(results["all"])

    def expected(**match: object) -> list[dict[str, object]]:
        return [e for e in everything if all(e[k] == v for k, v in match.items())]

    assert _events(results["service"]) == expected(service="HIGHWAYS")
    assert len(expected(service="HIGHWAYS")) == 2
    assert _events(results["period"]) == expected(period="FY2024-25-Q2")
    assert len(expected(period="FY2024-25-Q2")) == 3
    assert _events(results["indicator"]) == expected(indicator="SAFER-P3-S2")
    assert len(expected(indicator="SAFER-P3-S2")) == 2
    assert _events(results["limit"]) == everything[:2]
    assert _events(results["combined"]) == expected(service="COMMSAFETY", indicator="SAFER-P3-S1")


def test_actor_option_is_recorded(results: dict[str, Result]) -> None:
    assert results["other_enter"].returncode == 0, str(results["other_enter"])
    events = _events(results["other_history"])
    assert [(e["action"], e["actor"]) for e in events[:2]] == [
        ("value.set", OTHER),
        ("return.create", OTHER),
    ]
    assert events[2]["actor"] == ACTOR  # the scenario's last event, before Jo Bloggs


def test_actor_option_is_recorded_when_the_database_is_created(
    results: dict[str, Result], module_cli: Cli
) -> None:
    assert Path(module_cli.root / "fresh.sqlite3").exists()
    enrolled, event = _events(results["fresh"])
    assert (enrolled["action"], enrolled["actor"]) == ("key.trust", OTHER)
    assert event["action"] == "catalogue.load"
    assert event["actor"] == OTHER


def test_history_as_a_table_says_each_value_change_in_words(module_cli: Cli, scenario: Scenario):
    copy = copy_database(scenario.path, module_cli.root / "table.sqlite3")
    result = module_cli.run(copy, "history", "--service", "HIGHWAYS")
    assert result.returncode == 0, str(result)
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["ID", "AT", "ACTOR", "ACTION"]
    [change] = [line for line in lines if "SAFER-P4-S1" in line]
    assert "value.set" in change and "-> 45/50" in change
