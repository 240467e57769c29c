"""The auditor's commands: history, verify."""

from __future__ import annotations

import argparse
import sys

from skp_desktop.cli.common import audit, entries, print_json, print_table
from skp_desktop.cli.registry import EXIT_OK, arg, command
from skp_desktop.services.database import Database
from skp_desktop.services.errors import TamperingDetected
from skp_desktop.services.vocabulary import AuditAction


@command(
    "history",
    "audit events, newest first",
    arg("--service"),
    arg("--period"),
    arg("--indicator"),
    arg("--limit", type=int),
    arg("--json", action="store_true"),
)
def cmd_history(args: argparse.Namespace, db: Database) -> int:
    events = audit.history(
        db, service=args.service, period=args.period, indicator=args.indicator, limit=args.limit
    )
    rows = [
        {
            "id": e.id,
            "at": e.at.isoformat(timespec="seconds"),
            "actor": e.actor,
            "action": e.action,
            "service": e.service,
            "period": e.period,
            "revision": e.revision,
            "indicator": e.indicator,
            "old": e.old,
            "new": e.new,
            "reason": e.reason,
            "source": e.source,
        }
        for e in events
    ]
    if args.json:
        print_json(rows)
    else:
        headers = ["ID", "AT", "ACTOR", "ACTION", "SERVICE", "PERIOD", "REV", "INDICATOR"]
        table = []
        for e in events:
            change = entries.describe_recorded(e.action, e.new) or ""
            if e.action == AuditAction.VALUE_SET:
                change = (
                    f"{entries.describe_value_json(e.old)} -> {entries.describe_value_json(e.new)}"
                )
            context = [e.service, e.period, e.revision, e.indicator]
            table.append([e.id, e.at.isoformat(timespec="seconds"), e.actor, e.action, *context])
            table[-1] += [change, e.reason or "", e.source or ""]
        print_table([*headers, "CHANGE", "REASON", "SOURCE"], table)
    return EXIT_OK


@command("verify", "recompute the audit chain and replay it against the values")
def cmd_verify(args: argparse.Namespace, db: Database) -> int:
    report = audit.verify(db)
    if report.ok:
        print(
            f"verify: OK: {report.events_checked} events and {report.values_checked} values "
            "match their history."
        )
        return EXIT_OK
    for problem in report.problems:
        print(f"verify: {problem}", file=sys.stderr)
    raise TamperingDetected(
        f"{len(report.problems)} problem(s) found: the history was altered outside the app."
    )
