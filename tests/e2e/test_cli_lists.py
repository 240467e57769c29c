"""`services` and `catalogue`: one JSON array on stdout with the contract's keys."""

from __future__ import annotations

from typing import Any

import pytest

from .support import (
    BASELINE_KEYS,
    CATALOGUE_KEYS,
    SERVICE_KEYS,
    Call,
    Cli,
    Result,
    Scenario,
    copy_database,
)

pytestmark = pytest.mark.e2e

COMMANDS = {
    "services": ("services", "--json"),
    "catalogue": ("catalogue", "--json"),
    "highways": ("catalogue", "--service", "HIGHWAYS", "--json"),
    "services_table": ("services",),
}


@pytest.fixture(scope="module")
def results(module_cli: Cli, scenario: Scenario) -> dict[str, Result]:
    calls = [
        Call(copy_database(scenario.path, module_cli.root / f"{name}.sqlite3"), args)
        for name, args in COMMANDS.items()
    ]
    return dict(zip(COMMANDS, module_cli.run_many(calls), strict=True))


def _one_array(result: Result) -> list[dict[str, Any]]:
    assert result.returncode == 0, str(result)
    assert result.stderr == "", str(result)
    rows = result.json()  # json.loads: stdout holds one JSON document and nothing else
    assert isinstance(rows, list)
    assert all(isinstance(row, dict) for row in rows)
    return rows


def test_services_json(results: dict[str, Result]) -> None:
    rows = _one_array(results["services"])
    assert all(set(row) == SERVICE_KEYS for row in rows)
    by_code = {row["code"]: row for row in rows}
    assert len(by_code) == len(rows) == 10
    assert by_code["HIGHWAYS"] == {
        "code": "HIGHWAYS",
        "name": "Highways",
        "organisation": "Royal Borough of Kingston upon Thames Council",
    }
    assert by_code["MPS-KINGSTON"]["organisation"] == "Metropolitan Police Service Kingston"
    assert set(by_code) == {
        "ASC",
        "CHILDRENS",
        "COMMSAFETY",
        "EPR",
        "HIGHWAYS",
        "PARKS",
        "REGULATORY",
        "STREETS",
        "SUSTAINABILITY",
        "MPS-KINGSTON",
    }


def test_services_table_is_for_people(results: dict[str, Result]) -> None:
    result = results["services_table"]
    assert result.returncode == 0, str(result)
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["CODE", "NAME", "ORGANISATION"]
    assert any(line.startswith("HIGHWAYS") and "Highways" in line for line in lines)
    assert len(lines) == 11


def test_catalogue_json(results: dict[str, Result]) -> None:
    rows = _one_array(results["catalogue"])
    # 22 indicators, then the 3 "Where are we now?" figures with no indicator (issue 18)
    assert [row["kind"] for row in rows] == ["indicator"] * 22 + ["context"] * 3
    for row in rows:
        assert set(row) == CATALOGUE_KEYS, row["code"]
        assert row["baseline"] is None or set(row["baseline"]) == BASELINE_KEYS, row["code"]
        assert row["frequency"] in {"quarterly", "annual"}
        assert row["comparators"] == []  # the sources give no comparator figures to load
    by_code = {row["code"]: row for row in rows}
    assert len(by_code) == 25
    asb = by_code["CTX-ASB"]
    assert (asb["service"], asb["theme"], asb["unit"]) == (None, "SAFER-P3", "rate per 1,000")
    assert asb["baseline"]["value"] == 19.3

    defects = by_code["SAFER-P4-S1"]
    assert defects["title"] == "% of Category 1 defects repaired on time"
    assert defects["service"] == "HIGHWAYS"
    assert defects["unit"] == "percent"
    assert defects["frequency"] == "quarterly"
    assert defects["polarity"] == "higher is better"
    assert defects["decimals"] == 1
    assert defects["target"] == 100

    crime = by_code["SAFER-P3-B1"]
    assert crime["title"] == "Crime rate per 10,000 population"
    assert crime["service"] == "MPS-KINGSTON"
    assert crime["polarity"] == "lower is better"
    assert crime["baseline"]["value"] == 751
    assert crime["baseline"]["unit"] == "rate per 10,000"

    services = {row["service"] for row in rows}
    assert "HIGHWAYS" in services and "COMMSAFETY" in services


def test_catalogue_for_one_service(results: dict[str, Result]) -> None:
    everything = _one_array(results["catalogue"])
    rows = _one_array(results["highways"])
    assert [row["code"] for row in rows] == ["SAFER-P4-B1", "SAFER-P4-S1"]
    assert {row["service"] for row in rows} == {"HIGHWAYS"}
    assert rows == [row for row in everything if row["service"] == "HIGHWAYS"]
