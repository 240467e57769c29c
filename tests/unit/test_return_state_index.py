"""A return's newest state event is one index step on PostgreSQL (migration 0012).

The server's rules ask for it at every COMMIT that changes a return (each save), and merge and
the board pack for every return they publish. Before, the planner combined the return's events
with every state event in the history, found through the History's trigram index: tens of
milliseconds per save at ten years, growing with the history.
"""

from __future__ import annotations

import pytest

from skp_desktop.services.audit import RETURN_STATES
from skp_desktop.services.database import Database, open_database
from skp_desktop.services.entries import EntryChange
from skp_desktop.services.returns import get_return, record_entries, reopen_return, submit_return

SERVICE, PERIOD, INDICATOR = "HIGHWAYS", "FY2025-26-Q2", "SAFER-P4-S1"
INDEX = "ix_audit_events_return_states"
# As the rules of migrations 0006 and 0010 ask (services/audit.py asks with the states sorted
# and `indicator IS NULL`)
RULES_QUERY = """
SELECT e.service, e.period, e.revision, e.new FROM audit_events e
WHERE e.return_uuid = %s AND e.action LIKE 'return.%%'
  AND e.new IN ('draft', 'submitted', 'accepted', 'returned')
ORDER BY e.id DESC LIMIT 1
"""
APP_QUERY = f"""
SELECT e.id FROM audit_events e
WHERE e.return_uuid = %s AND e.indicator IS NULL AND e.action LIKE 'return.%%'
  AND e.new IN ({", ".join(f"'{state}'" for state in sorted(RETURN_STATES))})
ORDER BY e.id DESC LIMIT 1
"""


def _edited_return(db: Database) -> str:
    """A return saved, submitted, reopened and saved again, many times: its uuid."""
    for number in range(40):
        record_entries(
            db,
            service=SERVICE,
            period=PERIOD,
            changes=[
                EntryChange(INDICATOR, {"numerator": str(40 + number % 15), "denominator": "60"})
            ],
            actor="tester",
        )
        if number % 10 == 9:
            submit_return(
                db,
                service=SERVICE,
                period=PERIOD,
                actor="tester",
                explanations={INDICATOR: "checked"},
            )
            reopen_return(db, service=SERVICE, period=PERIOD, reason="again", actor="tester")
    view = get_return(db, SERVICE, PERIOD)
    assert view.exists and view.state == "draft" and view.return_uuid
    return view.return_uuid


@pytest.mark.postgresql
def test_a_returns_newest_state_event_is_read_from_its_own_index(postgres_url: str) -> None:
    db = open_database(postgres_url)
    try:
        uuid = _edited_return(db)
        with db.reading_connection() as connection:
            connection.exec_driver_sql("ANALYZE audit_events")
            # how the server would read it were the history large (this one is a few pages)
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            connection.exec_driver_sql("SET LOCAL enable_bitmapscan = off")
            for query in (RULES_QUERY, APP_QUERY):
                plan = "\n".join(
                    row[0] for row in connection.exec_driver_sql(f"EXPLAIN {query}", (uuid,)).all()
                )
                assert f"Index Scan Backward using {INDEX}" in plan, plan
                assert "ix_audit_events_text_trgm" not in plan, plan
            (newest,) = connection.exec_driver_sql(RULES_QUERY, (uuid,)).one()[3:]
        assert newest == "draft"  # reopened last: the index finds the newest, not any
    finally:
        db.dispose()
