"""The coordinator's desk: completeness, due, comparator, accept, return."""

from __future__ import annotations

import argparse
import sys
from datetime import date

from skp_desktop.cli.common import (
    RETURN,
    UsageError,
    comparators,
    completeness_service,
    due_dates,
    print_json,
    print_table,
    review,
)
from skp_desktop.cli.registry import EXIT_OK, arg, command, one_of
from skp_desktop.services.database import Database


@command(
    "completeness",
    "each service's return per quarter: missing, draft, submitted, accepted or returned, "
    "with its due date (as set with `due`, else the last day of the month after the "
    "quarter) and whether it is overdue; a quarter whose return asks for nothing is not "
    "listed (default: the last four quarters, up to the one due now)",
    arg("--json", action="store_true"),
    arg("--from", dest="first", metavar="P", help="first quarter, e.g. FY2024-25-Q1"),
    arg("--to", dest="last", metavar="P", help="last quarter, e.g. FY2024-25-Q4"),
)
def cmd_completeness(args: argparse.Namespace, db: Database) -> int:
    report = completeness_service.completeness(db, first=args.first, last=args.last)
    cells = report.expected_cells()  # a quarter whose return asks for nothing is not listed
    if args.json:
        print_json([cell.as_dict() for cell in cells])
    else:
        print_table(
            ["SERVICE", "PERIOD", "STATE", "REVISION", "DUE", "OVERDUE"],
            [
                [
                    cell.service.code,
                    cell.period.code,
                    cell.state,
                    cell.revision,
                    cell.due.isoformat(),
                    f"{cell.days_overdue} days" if cell.overdue else "",
                ]
                for cell in cells
            ],
        )
        print(report.summary(), file=sys.stderr)
    return EXIT_OK


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date: give YYYY-MM-DD") from None


@command(
    "due",
    "set the date a quarter's returns are due by, or --clear it to go back to the usual "
    "date (the last day of the month after the quarter)",
    arg("--period", required=True, help="quarter code, e.g. FY2024-25-Q1"),
    one_of(
        arg("--date", type=_iso_date, metavar="YYYY-MM-DD"),
        arg("--clear", action="store_true", help="use the usual date again"),
        required=True,
    ),
    arg("--reason", help="why (recorded in the history)"),
)
def cmd_due(args: argparse.Namespace, db: Database) -> int:
    due = due_dates.set_due_date(
        db, args.period, None if args.clear else args.date, args.actor, reason=args.reason
    )
    how = "set by the coordinator" if due.is_set else "the usual date"
    print(f"Returns for {due.period.label} are due by {due.due.isoformat()} ({how}).")
    return EXIT_OK


@command(
    "comparator",
    "set or --clear an indicator's comparator figure (e.g. the London average) for a "
    "period, in the indicator's own unit",
    arg("--indicator", required=True, help="indicator code, e.g. SAFER-P3-B1"),
    arg("--series", required=True, help="e.g. London or England"),
    arg("--period", required=True, help="period code, e.g. FY2024-25-Q1"),
    arg("--source", help="where the figure comes from"),
    arg("--clear", action="store_true", help="remove the figure"),
    arg("value", nargs="?", metavar="VALUE", help="the figure, e.g. 81.4"),
)
def cmd_comparator(args: argparse.Namespace, db: Database) -> int:
    if args.clear == (args.value is not None):
        raise UsageError("give the comparator's VALUE, or --clear (not both)")
    held = comparators.set_comparator(
        db,
        args.indicator,
        args.series,
        args.period,
        None if args.clear else args.value,
        args.actor,
        source=args.source,
    )
    name = comparators.series_name(args.series, [e.series for e in held])
    entry = next(
        (e for e in held if e.series == name and args.period.strip().upper() == e.period.code),
        None,
    )
    code = args.indicator.strip().upper()
    if entry is None:
        print(f"{code}: no {name} comparator for {args.period} now.")
    else:
        print(f"{code}: {name} {entry.period.code} = {entry.as_dict()['value']}")
    return EXIT_OK


@command(
    "accept",
    "accept the latest (submitted) revision of a return",
    *RETURN,
    arg("--revision", type=int, help="refuse unless this is still the latest revision"),
)
def cmd_accept(args: argparse.Namespace, db: Database) -> int:
    view = review.accept_return(
        db, service=args.service, period=args.period, actor=args.actor, revision=args.revision
    )
    print(f"Accepted {view.service.code} {view.period} revision {view.revision}.")
    return EXIT_OK


@command(
    "return",
    "return the latest (submitted) revision of a return with a query",
    *RETURN,
    arg("--reason", required=True, help="the query: what the service should check"),
    arg("--revision", type=int, help="refuse unless this is still the latest revision"),
)
def cmd_return(args: argparse.Namespace, db: Database) -> int:
    view = review.return_with_query(
        db,
        service=args.service,
        period=args.period,
        reason=args.reason,
        actor=args.actor,
        revision=args.revision,
    )
    print(f"Returned {view.service.code} {view.period} revision {view.revision} with a query.")
    return EXIT_OK
