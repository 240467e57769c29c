"""Usage errors exit 2 with a message on stderr and nothing on stdout (docs/contracts.md)."""

from __future__ import annotations

import pytest

from .support import Call, Cli, Result, Scenario, copy_database

pytestmark = pytest.mark.e2e

Q1 = ("--period", "FY2024-25-Q1")

# id -> (arguments after --db, exact phrases stderr must contain)
CASES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "unknown global option": (
        ("--bogus", "services"),
        ("skp-returns: error: unrecognized arguments: --bogus",),
    ),
    "unknown command option": (
        ("catalogue", "--bogus"),
        ("skp-returns: error: unrecognized arguments: --bogus",),
    ),
    "missing --service": (
        ("enter", *Q1, "SAFER-P4-S1=45/50"),
        ("the following arguments are required: --service",),
    ),
    "unknown service": (
        ("enter", "--service", "NOPE", *Q1, "SAFER-P4-S1=45/50"),
        ("There is no service 'NOPE'", "HIGHWAYS"),
    ),
    "unknown service in catalogue": (
        ("catalogue", "--service", "NOPE"),
        ("There is no service 'NOPE'",),
    ),
    "financial year that does not follow on": (
        ("enter", "--service", "HIGHWAYS", "--period", "FY2024-26", "SAFER-P4-S1=45/50"),
        ("'FY2024-26' is not a period", "FY2024-25"),
    ),
    "quarter without a year": (
        ("show", "--service", "HIGHWAYS", "--period", "Q1"),
        ("'Q1' is not a period", "FY2024-25-Q1"),
    ),
    "a month, for a service with no monthly indicators, in show": (
        ("show", "--service", "STREETS", "--period", "2024-04"),
        ("Street Cleansing has no monthly indicators", "use the quarter, FY2024-25-Q1"),
    ),
    "a month, for a service with no monthly indicators, in enter": (
        ("enter", "--service", "STREETS", "--period", "2024-04", "SAFER-P4-S4=1/2"),
        ("Street Cleansing has no monthly indicators", "use the quarter, FY2024-25-Q1"),
    ),
    "unknown indicator in enter": (
        ("enter", "--service", "HIGHWAYS", *Q1, "SAFER-P4-S1=45/50", "SAFER-P9-Z9=1"),
        ("SAFER-P9-Z9 is not in the Highways return", "SAFER-P4-S1"),
    ),
    "annual indicator outside Q4": (
        ("enter", "--service", "HIGHWAYS", *Q1, "SAFER-P4-B1=70/100"),
        ("SAFER-P4-B1 is not in the Highways return for 2024/25 Q1",),
    ),
    "unknown indicator in history": (
        ("history", "--indicator", "SAFER-P9-Z9"),
        ("There is no indicator 'SAFER-P9-Z9'",),
    ),
    "unknown service in history": (
        ("history", "--service", "NOPE"),
        ("There is no service 'NOPE'",),
    ),
    "unknown period in history": (
        ("history", "--period", "Q1"),
        ("'Q1' is not a period",),
    ),
    "reopen without --reason": (
        ("reopen", "--service", "COMMSAFETY", *Q1),
        ("the following arguments are required: --reason",),
    ),
}


@pytest.fixture(scope="module")
def results(module_cli: Cli, scenario: Scenario) -> dict[str, Result]:
    """Every case once, side by side, each on its own copy of the scenario database."""
    calls = [
        Call(copy_database(scenario.path, module_cli.root / f"db{i}.sqlite3"), args)
        for i, (args, _) in enumerate(CASES.values())
    ]
    return dict(zip(CASES, module_cli.run_many(calls), strict=True))


@pytest.mark.parametrize("case", list(CASES))
def test_usage_error_exits_2_with_message_on_stderr(case: str, results: dict[str, Result]) -> None:
    result = results[case]
    assert result.returncode == 2, str(result)
    assert result.stdout == "", str(result)
    for phrase in CASES[case][1]:
        assert phrase in result.stderr, str(result)
    assert "Traceback" not in result.stderr
