"""The History's first page with a filter on service, period or indicator is read newest first
from that filter's own index on PostgreSQL (migration 0011), not by walking every newer event.

On SQLite an index on one column already lists its events in id order; on PostgreSQL it did
not, and a page of an older quarter read the whole history after it (seconds at ten years).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from skp_desktop.domain.vocabulary import AuditAction
from skp_desktop.services.database import Database, open_database
from skp_desktop.services.history import HistoryFilter, _filtered, history_page
from skp_desktop.store.audit import append_events
from skp_desktop.store.models import AuditEvent

# A long history's older events: a quarter, a service and an indicator all of whose events
# lie before everything newer (the case the old plan walked back through every event for).
OLD = {"period": "FY2019-20-Q1", "service": "ASC", "indicator": "SAFER-P2-S1"}
SERVICES = ("HIGHWAYS", "PARKS", "STREETS")
INDICATORS = ("SAFER-P4-S1", "SAFER-P4-B1", "SAFER-P3-S1")
PERIODS = tuple(f"FY2025-26-Q{n}" for n in range(1, 5))
OLDER, NEWER = 300, 5700  # a twentieth: a quarter of ten years is a fortieth


def _fill(db: Database) -> None:
    events = [
        {"actor": "tester", "action": AuditAction.COMPARATOR_SET, "reason": f"old {n}", **OLD}
        for n in range(OLDER)
    ]
    events += [
        {
            "actor": "tester",
            "action": AuditAction.COMPARATOR_SET,
            "service": SERVICES[n % len(SERVICES)],
            "period": PERIODS[n % len(PERIODS)],
            "indicator": INDICATORS[(n // 7) % len(INDICATORS)],
            "reason": f"new {n}",
        }
        for n in range(NEWER)
    ]
    with db.transaction() as session:
        append_events(session, events)
        session.connection().exec_driver_sql("ANALYZE audit_events")


def _plan(db: Database, flt: HistoryFilter) -> str:
    query, params = _filtered(flt, limit=200)
    with db.reading_connection() as connection:
        compiled = query.compile(connection)
        rows = connection.exec_driver_sql(
            f"EXPLAIN {compiled}", compiled.construct_params(params)
        ).all()
    return "\n".join(row[0] for row in rows)


@pytest.mark.postgresql
def test_postgresql_reads_a_filtered_first_page_from_the_filters_own_index(
    postgres_url: str,
) -> None:
    db = open_database(postgres_url)
    try:
        _fill(db)
        for field, value in OLD.items():
            flt = HistoryFilter(**{field: value})
            plan = _plan(db, flt)
            assert f"ix_audit_events_{field}_id" in plan, plan
            assert "pk_audit_events" not in plan, plan  # no walk back through every event
            # and the page is the filter's newest events, as before
            column = getattr(AuditEvent, field)
            with db.reading_connection() as connection:
                newest = list(
                    connection.scalars(
                        select(AuditEvent.id)
                        .where(column == value)
                        .order_by(AuditEvent.id.desc())
                        .limit(200)
                    )
                )
            page = history_page(db, flt, limit=200)
            assert [entry.id for entry in page] == newest
    finally:
        db.dispose()
