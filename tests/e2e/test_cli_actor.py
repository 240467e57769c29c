"""Who is acting must fit the history: a longer `--actor` or `SKP_ACTOR` is a usage error,
said the same way on both engines (PostgreSQL would refuse it with a raw error, SQLite keep it).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import make_url

from .support import Cli

pytestmark = [pytest.mark.e2e, pytest.mark.both_engines]

ENTER = ("enter", "--service", "HIGHWAYS", "--period", "FY2024-25-Q1", "SAFER-P4-S1=45/50")
LONGEST = "Hana " + "x" * 95  # 100 characters: the most an actor column holds


def test_an_actor_too_long_for_the_history_is_refused_before_anything_is_written(
    cli: Cli, db_target: str
) -> None:
    db = Path(db_target) if "://" not in db_target else db_target
    too_long = LONGEST + "y"

    refused = cli.run(db, *ENTER, actor=too_long)  # type: ignore[arg-type]
    assert (refused.returncode, refused.stdout) == (2, ""), str(refused)
    assert refused.stderr.startswith(
        "skp-returns: error: The name of who is acting (--actor or SKP_ACTOR) is 101 "
        "characters long; the history records at most 100."
    ), str(refused)
    assert "Traceback" not in refused.stderr and "DataError" not in refused.stderr

    cli.env["SKP_ACTOR"] = too_long
    from_environment = cli.run(db, *ENTER)  # type: ignore[arg-type]
    assert from_environment.returncode == 2 and "is 101 characters long" in from_environment.stderr

    history = cli.run(db, "history", "--service", "HIGHWAYS", "--json", actor="auditor")  # type: ignore[arg-type]
    assert history.json() == []  # nothing was written

    cli.env["SKP_ACTOR"] = LONGEST
    accepted = cli.run(db, *ENTER)  # type: ignore[arg-type]
    assert accepted.returncode == 0, str(accepted)
    history = cli.run(db, "history", "--service", "HIGHWAYS", "--json")  # type: ignore[arg-type]
    # a shared database records the login, whatever the program is told (and says so)
    recorded = LONGEST if "://" not in db_target else make_url(db_target).username
    assert {event["actor"] for event in history.json()} == {recorded}
    if "://" in db_target:
        assert "SKP_ACTOR ('Hana xxx" in accepted.stderr and "is ignored" in accepted.stderr
