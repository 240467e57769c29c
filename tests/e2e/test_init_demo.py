"""`init --demo`: labelled demo history, idempotent, and it verifies."""

from __future__ import annotations

import re
from typing import Any

import pytest

from .support import Call, Cli, Result, Scenario, copy_database

pytestmark = pytest.mark.e2e

OK = re.compile(r"^verify: OK: (\d+) events and (\d+) values match their history\.\n$")
DEMO_PERIOD = ("--service", "HIGHWAYS", "--period", "FY2025-26-Q4")


@pytest.fixture(scope="module")
def demo(module_cli: Cli, demo_template: Any) -> dict[str, Result]:
    root = module_cli.root
    again = copy_database(demo_template.path, root / "again.sqlite3")
    names = ["verify_before", "show", "init_again", "organisations", "merge", "last", "added"]
    first = module_cli.run_many(
        [
            Call(copy_database(demo_template.path, root / "verify.sqlite3"), ("verify",)),
            Call(
                copy_database(demo_template.path, root / "show.sqlite3"),
                ("show", *DEMO_PERIOD, "--json"),
            ),
            Call(again, ("init", "--demo")),
            Call(
                copy_database(demo_template.path, root / "organisations.sqlite3"),
                ("organisations", "--json"),
            ),
            Call(
                copy_database(demo_template.path, root / "merge.sqlite3"),
                ("merge-export", "--out", str(root / "demo.xlsx")),
            ),
            Call(
                copy_database(demo_template.path, root / "last.sqlite3"),
                ("show", "--service", "DEMO-LFB", "--period", "FY2026-27-Q1", "--json"),
            ),
            Call(
                copy_database(demo_template.path, root / "added.sqlite3"),
                ("history", "--service", "DEMO-LFB", "--limit", "1000", "--json"),
            ),
        ]
    )
    out = dict(zip(names, first, strict=True))
    out["verify_after"] = module_cli.run(again, "verify")
    out["first_init"] = demo_template.first_init
    return out


def test_first_demo_run_adds_history(demo: dict[str, Result]) -> None:
    result = demo["first_init"]
    assert result.returncode == 0, str(result)
    assert re.search(
        r"^Added demo history: \d+ returns from FY2024-25-Q1 to FY\d{4}-\d\d-Q\d\.$",
        result.stdout,
        re.MULTILINE,
    ), str(result)


def test_demo_is_idempotent(demo: dict[str, Result]) -> None:
    again = demo["init_again"]
    assert again.returncode == 0, str(again)
    assert "Demo history is already there." in again.stdout
    assert "Added demo history" not in again.stdout
    before, after = OK.match(demo["verify_before"].stdout), OK.match(demo["verify_after"].stdout)
    assert before and after, (str(demo["verify_before"]), str(demo["verify_after"]))
    assert after.groups() == before.groups()  # the second run added no event and no value
    assert int(before.group(1)) > 100


def test_demo_history_verifies(demo: dict[str, Result]) -> None:
    for result in (demo["verify_before"], demo["verify_after"]):
        assert result.returncode == 0, str(result)
        assert result.stderr == ""


def test_show_a_demo_period(demo: dict[str, Result]) -> None:
    rows = {row["code"]: row for row in demo["show"].json()}
    assert list(rows) == ["SAFER-P4-B1", "SAFER-P4-S1"]
    for row in rows.values():
        # accepted by the demo's coordinator; only the last demo quarter awaits review
        assert (row["status"], row["revision"]) == ("accepted", 1)
        assert row["value"] is not None and row["errors"] == []
        assert "DEMO DATA" in row["commentary"]  # clearly labelled
    defects = rows["SAFER-P4-S1"]
    assert defects["value"] == round(100 * defects["numerator"] / defects["denominator"], 1)
    assert defects["rag"] in {"Green", "Amber", "Red"}
    assert defects["direction_year"] is not None  # a year earlier is in the demo history too


# Demo history on a database that already holds the user's own returns.
ASC_Q1 = ("--service", "ASC", "--period", "FY2024-25-Q1")


@pytest.fixture(scope="module")
def demo_over_real_returns(module_cli: Cli, scenario: Scenario) -> dict[str, Any]:
    """The scenario (Community Safety Q1 submitted) plus the user's Adult Social Care Q1 draft,
    then `init --demo`."""
    db = copy_database(scenario.path, module_cli.root / "real.sqlite3")
    entered = module_cli.run(db, "enter", *ASC_Q1, "SAFER-P1-S1=40/50", "SAFER-P1-S2=10/100")
    assert entered.returncode == 0, str(entered)
    init = module_cli.run(db, "init", "--demo")
    show, history = module_cli.run_many(
        [
            Call(db, ("show", *ASC_Q1, "--json")),
            Call(
                copy_database(db, module_cli.root / "real-history.sqlite3"), ("history", "--json")
            ),
        ]
    )
    return {"init": init, "show": show.json(), "history": history.json()}


def test_demo_leaves_the_users_draft_alone(demo_over_real_returns: dict[str, Any]) -> None:
    rows = {row["code"]: row for row in demo_over_real_returns["show"]}
    assert (rows["SAFER-P1-S1"]["value"], rows["SAFER-P1-S2"]["value"]) == (80, 10)
    assert {(row["status"], row["revision"]) for row in rows.values()} == {("draft", 1)}


def test_demo_refused_half_way_writes_nothing(demo_over_real_returns: dict[str, Any]) -> None:
    init = demo_over_real_returns["init"]
    demo_events = [e for e in demo_over_real_returns["history"] if e["actor"] == "demo"]
    assert init.returncode == 0 or demo_events == [], str(init)


def test_the_demo_covers_all_five_organisations_with_labelled_demo_services(
    demo: dict[str, Result],
) -> None:
    organisations = {o["code"]: o for o in demo["organisations"].json()}
    assert list(organisations) == ["RBK", "MPS", "LFB", "PS", "ICB"]
    for code in ("LFB", "PS", "ICB"):
        (service,) = organisations[code]["services"]
        assert service["code"] == f"DEMO-{code}"
        assert service["name"].startswith("DEMO:") and "demo data" in service["name"]
    (row,) = demo["last"].json()  # the last demo quarter still waits for the coordinator
    assert (row["code"], row["status"]) == ("DEMO-LFB-1", "submitted")
    assert row["title"].startswith("DEMO:")
    assert "DEMO DATA" in row["commentary"]
    # the history says where the demo services came from
    (added,) = [e for e in demo["added"].json() if e["action"] == "service.add"]
    assert (added["actor"], added["source"]) == ("demo", "demo data")


def test_the_demo_merges_into_a_workbook_that_is_not_empty(
    demo: dict[str, Result], module_cli: Cli
) -> None:
    import openpyxl

    merged = demo["merge"]
    assert merged.returncode == 0, str(merged)
    assert re.search(r": [1-9]\d* accepted returns from", merged.stdout), merged.stdout
    data = openpyxl.load_workbook(module_cli.root / "demo.xlsx")["Data"]
    services = {row[0] for row in data.iter_rows(min_row=2, values_only=True)}
    assert {"DEMO-LFB", "DEMO-PS", "DEMO-ICB", "MPS-KINGSTON", "HIGHWAYS"} <= services
