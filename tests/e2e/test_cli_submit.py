"""`submit` and `reopen`: errors and unexplained warnings refuse; a submitted return is locked."""

from __future__ import annotations

import pytest

from .support import Call, Cli, Result, Scenario, copy_database

pytestmark = pytest.mark.e2e

Q2 = ("--service", "COMMSAFETY", "--period", "FY2024-25-Q2")
Q3 = ("--service", "COMMSAFETY", "--period", "FY2024-25-Q3")
EXPLANATION = "New training programme doubled attendance"
REASON = "Q2 training figure to be corrected"


@pytest.fixture(scope="module")
def steps(module_cli: Cli, scenario: Scenario) -> dict[str, Result]:
    """The life of a return, with the refusals run side by side on their own copies."""
    root = module_cli.root
    unexplained = copy_database(scenario.path, root / "unexplained.sqlite3")
    missing = copy_database(scenario.path, root / "missing.sqlite3")
    main = copy_database(scenario.path, root / "main.sqlite3")
    run = module_cli.run_many
    out: dict[str, Result] = {}
    (
        out["submit_unexplained"],
        out["enter_part_of_q3"],
        out["submit_explained"],
    ) = run(
        [
            Call(unexplained, ("submit", *Q2)),
            Call(missing, ("enter", *Q3, "SAFER-P3-S1=10/100")),
            Call(main, ("submit", *Q2, "--explain", f"SAFER-P3-S2={EXPLANATION}")),
        ]
    )
    out["submit_missing"], out["show_submitted"], out["show_unexplained"] = run(
        [
            Call(missing, ("submit", *Q3)),
            Call(main, ("show", *Q2, "--json")),
            Call(unexplained, ("show", *Q2, "--json")),
        ]
    )
    out["enter_submitted"] = module_cli.run(main, "enter", *Q2, "SAFER-P3-S2=81")
    out["reopen"] = module_cli.run(main, "reopen", *Q2, "--reason", REASON)
    out["show_reopened"], out["history_reopened"] = run(
        [
            Call(main, ("show", *Q2, "--json")),
            Call(copy_database(main, root / "history.sqlite3"), ("history", *Q2, "--json")),
        ]
    )
    return out


def test_submit_is_refused_while_values_are_missing(steps: dict[str, Result]) -> None:
    assert steps["enter_part_of_q3"].returncode == 0, str(steps["enter_part_of_q3"])
    result = steps["submit_missing"]
    assert result.returncode == 1, str(result)
    assert result.stdout == ""
    assert "The return was not submitted" in result.stderr
    assert "SAFER-P3-S2 value: nothing entered" in result.stderr
    assert "SAFER-P3-S1" not in result.stderr


def test_a_change_of_more_than_25_percent_is_a_warning(scenario: Scenario) -> None:
    result = scenario.steps["commsafety_q2"]
    assert result.returncode == 0, str(result)
    assert "warning: SAFER-P3-S2: 80 is 100% higher than the previous period (40)" in result.stderr
    assert "SAFER-P3-S1: " not in result.stderr  # 10% both quarters: no warning


def test_submit_is_refused_while_a_warning_is_unexplained(steps: dict[str, Result]) -> None:
    result = steps["submit_unexplained"]
    assert result.returncode == 1, str(result)
    assert result.stdout == ""
    assert "The return was not submitted" in result.stderr
    assert "SAFER-P3-S2 explanation: needs an explanation of its warning" in result.stderr
    assert "--explain SAFER-P3-S2=TEXT" in result.stderr
    rows = steps["show_unexplained"].json()
    assert {(row["status"], row["revision"]) for row in rows} == {("draft", 1)}


def test_submit_with_explanation(scenario: Scenario, steps: dict[str, Result]) -> None:
    first = scenario.steps["submit_q1"]
    assert (first.returncode, first.stdout) == (
        0,
        "Submitted COMMSAFETY FY2024-25-Q1 revision 1.\n",
    )
    result = steps["submit_explained"]
    assert result.returncode == 0, str(result)
    assert result.stdout == "Submitted COMMSAFETY FY2024-25-Q2 revision 1.\n"
    rows = {row["code"]: row for row in steps["show_submitted"].json()}
    assert {(row["status"], row["revision"]) for row in rows.values()} == {("submitted", 1)}
    assert rows["SAFER-P3-S2"]["explanation"] == EXPLANATION
    assert rows["SAFER-P3-S2"]["value"] == 80


def test_enter_after_submit_says_to_reopen(steps: dict[str, Result]) -> None:
    result = steps["enter_submitted"]
    assert result.returncode == 1, str(result)
    assert result.stdout == ""
    assert "is submitted (revision 1) and cannot be changed" in result.stderr
    assert "Reopen it with a reason to start revision 2" in result.stderr


def test_reopen_makes_revision_2_as_a_draft_with_the_values(steps: dict[str, Result]) -> None:
    result = steps["reopen"]
    assert result.returncode == 0, str(result)
    assert result.stdout == "Reopened COMMSAFETY FY2024-25-Q2 as revision 2 (draft).\n"
    rows = {row["code"]: row for row in steps["show_reopened"].json()}
    assert {(row["status"], row["revision"]) for row in rows.values()} == {("draft", 2)}
    # carried over, and the refused `enter …=81` wrote nothing
    assert (rows["SAFER-P3-S1"]["numerator"], rows["SAFER-P3-S1"]["denominator"]) == (10, 100)
    assert rows["SAFER-P3-S1"]["value"] == 10
    assert rows["SAFER-P3-S2"]["value"] == 80

    events = steps["history_reopened"].json()
    [reopen] = [e for e in events if e["action"] == "return.reopen"]
    assert (reopen["revision"], reopen["reason"]) == (2, REASON)
    assert [e["action"] for e in events if e["id"] > reopen["id"]] == ["value.set", "value.set"]
    assert {e["revision"] for e in events if e["id"] > reopen["id"]} == {2}
