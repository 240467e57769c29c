"""`enter` and `show`: values stored as typed, all or nothing, RAG as a word."""

from __future__ import annotations

from typing import Any

import pytest

from .support import Call, Cli, Result, Scenario, copy_database

pytestmark = pytest.mark.e2e

Q2 = ("--service", "COMMSAFETY", "--period", "FY2024-25-Q2")
SHOW_Q2 = ("show", *Q2, "--json")
HISTORY_Q2 = ("history", "--service", "COMMSAFETY", "--period", "FY2024-25-Q2", "--json")

# Community Safety Q2 is a draft in the scenario (SAFER-P3-S1 = 10/100, SAFER-P3-S2 = 80).
# Each case gives good values with one bad one: id -> (values, exit status, stderr phrases).
REFUSED: dict[str, tuple[tuple[str, ...], int, tuple[str, ...]]] = {
    "text for a count": (
        ("SAFER-P3-S1=20/100", "SAFER-P3-S2=lots"),
        1,
        ("Nothing was saved", "SAFER-P3-S2", "'lots' is not a number", "expected a number"),
    ),
    "numerator above denominator": (
        ("SAFER-P3-S1=60/50", "SAFER-P3-S2=90"),
        1,
        (
            "Nothing was saved",
            "SAFER-P3-S1",
            "the numerator (60) is above the denominator (50)",
            "a percentage cannot be more than 100",
        ),
    ),
    "negative count": (
        ("SAFER-P3-S1=20/100", "SAFER-P3-S2=-3"),
        1,
        ("Nothing was saved", "SAFER-P3-S2", "-3 is below the minimum of 0", "must be 0 or more"),
    ),
    "unknown code": (
        ("SAFER-P3-S1=20/100", "SAFER-P3-S2=90", "SAFER-P9-Z9=1"),
        2,
        ("SAFER-P9-Z9 is not in the Community Safety return", "SAFER-P3-S1, SAFER-P3-S2"),
    ),
    "numerator and denominator for a count": (
        ("SAFER-P3-S1=20/100", "SAFER-P3-S2=5/6"),
        1,
        ("SAFER-P3-S2",),
    ),
}


@pytest.fixture(scope="module")
def refused(module_cli: Cli, scenario: Scenario) -> dict[str, Any]:
    """Each bad entry on its own copy, then `show --json` and `history --json` of each."""
    root = module_cli.root
    dbs = {
        c: copy_database(scenario.path, root / f"refused{i}.sqlite3") for i, c in enumerate(REFUSED)
    }
    baseline_db = copy_database(scenario.path, root / "baseline.sqlite3")
    first = module_cli.run_many(
        [Call(baseline_db, SHOW_Q2), Call(baseline_db, HISTORY_Q2)]
        + [Call(dbs[c], ("enter", *Q2, *REFUSED[c][0])) for c in REFUSED]
    )
    after = module_cli.run_many(
        [Call(dbs[c], args) for c in REFUSED for args in (SHOW_Q2, HISTORY_Q2)]
    )
    return {
        "show_before": first[0].json(),
        "history_before": first[1].json(),
        "enter": dict(zip(REFUSED, first[2:], strict=True)),
        "show_after": dict(zip(REFUSED, after[0::2], strict=True)),
        "history_after": dict(zip(REFUSED, after[1::2], strict=True)),
    }


@pytest.mark.parametrize("case", list(REFUSED))
def test_enter_is_all_or_nothing(case: str, refused: dict[str, Any]) -> None:
    result: Result = refused["enter"][case]
    _, status, phrases = REFUSED[case]
    assert result.returncode == status, str(result)
    assert result.stdout == "", str(result)
    for phrase in phrases:
        assert phrase in result.stderr, str(result)
    # nothing written: neither the good values nor the bad one
    assert refused["show_after"][case].json() == refused["show_before"]
    assert refused["history_after"][case].json() == refused["history_before"]


def test_show_before_is_the_scenario_draft(refused: dict[str, Any]) -> None:
    rows = {row["code"]: row for row in refused["show_before"]}
    assert (rows["SAFER-P3-S1"]["value"], rows["SAFER-P3-S2"]["value"]) == (10, 80)
    assert len(refused["history_before"]) == 3  # return.create and two value.set


@pytest.fixture(scope="module")
def entered(module_cli: Cli, scenario: Scenario) -> dict[str, Result]:
    """Good entries: symbols in Q3, an annual indicator in Q4; shows of the Highways draft."""
    root = module_cli.root
    q3 = copy_database(scenario.path, root / "symbols.sqlite3")
    q4 = copy_database(scenario.path, root / "annual.sqlite3")
    shown = copy_database(scenario.path, root / "shown.sqlite3")
    q3_args = ("--service", "COMMSAFETY", "--period", "FY2024-25-Q3")
    q4_args = ("--service", "HIGHWAYS", "--period", "FY2024-25-Q4")
    q1_args = ("--service", "HIGHWAYS", "--period", "FY2024-25-Q1")
    names = ["symbols", "annual", "show_json", "show_text"]
    first = module_cli.run_many(
        [
            Call(q3, ("enter", *q3_args, "SAFER-P3-S1=[x]", "SAFER-P3-S2=[z]")),
            Call(q4, ("enter", *q4_args, "SAFER-P4-B1=70/100", "SAFER-P4-S1=50/50")),
            Call(shown, ("show", *q1_args, "--json")),
            Call(copy_database(shown, root / "shown_text.sqlite3"), ("show", *q1_args)),
        ]
    )
    second = module_cli.run_many(
        [Call(q3, ("show", *q3_args, "--json")), Call(q4, ("show", *q4_args, "--json"))]
    )
    return dict(zip([*names, "symbols_show", "annual_show"], first + second, strict=True))


def test_enter_reports_what_it_saved_on_stderr(scenario: Scenario) -> None:
    result = scenario.steps["highways_q1"]
    assert result.returncode == 0, str(result)
    assert result.stdout == ""
    assert result.stderr == "Saved 1 entry in HIGHWAYS FY2024-25-Q1 revision 1 (draft).\n"


def test_show_json_computes_value_and_rag(entered: dict[str, Result]) -> None:
    result = entered["show_json"]
    assert result.stderr == "", str(result)
    [row] = result.json()
    assert row["code"] == "SAFER-P4-S1"
    assert (row["numerator"], row["denominator"], row["value"]) == (45, 50, 90)
    assert row["symbol"] is None
    assert row["target"] == 100
    assert row["rag"] == "Red"
    assert row["errors"] == [] and row["warnings"] == []
    assert (row["status"], row["revision"]) == ("draft", 1)


def test_show_text_is_for_people(entered: dict[str, Result]) -> None:
    result = entered["show_text"]
    assert result.returncode == 0, str(result)
    lines = result.stdout.splitlines()
    assert lines[0] == "Highways (HIGHWAYS) · 2024/25 Q1 (Apr–Jun 2024) · draft · revision 1"
    [row] = [line for line in lines if line.startswith("SAFER-P4-S1")]
    assert "90.0 (45/50)" in row
    assert " Red " in row
    assert "% of Category 1 defects repaired on time" in row


def test_symbols_are_accepted(entered: dict[str, Result]) -> None:
    result = entered["symbols"]
    assert result.returncode == 0, str(result)
    assert "Saved 2 entries in COMMSAFETY FY2024-25-Q3 revision 1 (draft)." in result.stderr
    rows = {row["code"]: row for row in entered["symbols_show"].json()}
    assert rows["SAFER-P3-S1"]["symbol"] == "[x]"
    assert rows["SAFER-P3-S2"]["symbol"] == "[z]"
    for row in rows.values():
        assert row["value"] is None and row["numerator"] is None
        assert row["errors"] == []
        assert (row["status"], row["revision"]) == ("draft", 1)


def test_annual_indicator_is_due_in_q4(entered: dict[str, Result]) -> None:
    result = entered["annual"]
    assert result.returncode == 0, str(result)
    rows = {row["code"]: row for row in entered["annual_show"].json()}
    assert list(rows) == ["SAFER-P4-B1", "SAFER-P4-S1"]
    assert (rows["SAFER-P4-B1"]["value"], rows["SAFER-P4-B1"]["rag"]) == (70, None)
    assert (rows["SAFER-P4-S1"]["value"], rows["SAFER-P4-S1"]["rag"]) == (100, "Green")
