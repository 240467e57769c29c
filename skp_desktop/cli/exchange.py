"""Files and databases moving between laptops: export-return, feedback, template, import,
sync."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from skp_desktop.cli.common import RETURN, UsageError, exchange, notice, print_json
from skp_desktop.cli.registry import EXIT_ENVIRONMENT, EXIT_OK, EXIT_REFUSED, arg, command
from skp_desktop.services.database import Database, open_database, same_database
from skp_desktop.services.vocabulary import ImportStatus

if TYPE_CHECKING:
    from skp_desktop.services.exchange_outcomes import ImportOutcome


@command(
    "export-return",
    "write the submitted return as an Excel file",
    *RETURN,
    arg("--out", required=True, metavar="FILE.xlsx"),
)
def cmd_export_return(args: argparse.Namespace, db: Database) -> int:
    result = exchange.export_return(
        db, service=args.service, period=args.period, out=args.out, actor=args.actor
    )
    print(
        f"Wrote {result.path}: {result.service} {result.period} revision {result.revision} "
        f"(payload sha256 {result.payload_sha256}), signed by {result.signed_by}"
    )
    notice(result.notice)
    return EXIT_OK


@command(
    "feedback",
    "write a returned return with its queries as a feedback file for the service to import",
    *RETURN,
    arg("--out", required=True, metavar="FILE.xlsx"),
)
def cmd_feedback(args: argparse.Namespace, db: Database) -> int:
    result = exchange.export_feedback(
        db, service=args.service, period=args.period, out=args.out, actor=args.actor
    )
    print(
        f"Wrote {result.path}: feedback on {result.service} {result.period} revision "
        f"{result.revision} (payload sha256 {result.payload_sha256}), signed by {result.signed_by}"
    )
    notice(result.notice)
    return EXIT_OK


@command(
    "template",
    "write a blank return to fill in Excel or LibreOffice",
    *RETURN,
    arg("--out", required=True, metavar="FILE.xlsx"),
)
def cmd_template(args: argparse.Namespace, db: Database) -> int:
    result = exchange.write_template(
        db, service=args.service, period=args.period, out=args.out, actor=args.actor
    )
    print(
        f"Wrote {result.path}: blank return for {result.service} {result.period}, signed by "
        f"{result.signed_by}"
    )
    notice(result.notice)
    return EXIT_OK


def _print_outcome(outcome: ImportOutcome) -> None:
    # flushed file by file: a long batch shows progress, and what was stored is on screen even
    # if the process is stopped
    print(outcome.line, flush=True)
    for warning in outcome.warnings if outcome.status == ImportStatus.ACCEPTED else ():
        print(f"warning: {outcome.file}: {warning}", file=sys.stderr, flush=True)
    for code, question in outcome.queries if outcome.status == ImportStatus.ACCEPTED else ():
        print(f"query: {outcome.file}: {code}: {question}", file=sys.stderr, flush=True)
    if outcome.signature_text and outcome.status != ImportStatus.REJECTED:
        print(f"signature: {outcome.file}: {outcome.signature_text}", file=sys.stderr, flush=True)


@command(
    "import",
    "import return files, or folders of them",
    arg("--dry-run", action="store_true", help="say what each file would do; write nothing"),
    arg(
        "--accept-modified",
        action="store_true",
        help="import a return edited after export as a new revision of its visible values",
    ),
    arg(
        "--accept-unsigned",
        action="store_true",
        help="take files that carry no signature (format 1, or cut out), marked unsigned; "
        "needs --reason",
    ),
    arg("--reason", metavar="TEXT", help="why unsigned files are taken (recorded)"),
    arg("--json", action="store_true"),
    arg("paths", nargs="+", metavar="PATH", help=".xlsx files, or folders of them"),
)
def cmd_import(args: argparse.Namespace, db: Database) -> int:
    if args.accept_unsigned and not (args.reason or "").strip():
        raise UsageError("--accept-unsigned needs --reason TEXT: say why unsigned files are taken")
    if args.reason and not args.accept_unsigned:
        raise UsageError("--reason goes with --accept-unsigned")
    try:
        outcomes = exchange.import_files(
            db,
            args.paths,
            actor=args.actor,
            dry_run=args.dry_run,
            accept_modified=args.accept_modified,
            accept_unsigned=args.reason.strip() if args.accept_unsigned else None,
            on_outcome=None if args.json else _print_outcome,
        )
    except exchange.ImportStopped as stopped:
        if args.json:
            print_json([outcome.as_dict() for outcome in stopped.outcomes])
        raise
    if args.json:
        print_json([outcome.as_dict() for outcome in outcomes])
    if args.dry_run:
        print("Dry run: nothing was written.", file=sys.stderr)
    if not outcomes:
        print("No .xlsx files found to import.", file=sys.stderr)
    return EXIT_REFUSED if any(outcome.failed for outcome in outcomes) else EXIT_OK


@command(
    "sync",
    "copy the return revisions that the --db database lacks from another database: push "
    "a laptop's file into the shared database, or pull the shared one into a laptop's "
    "file before going offline; one line per revision, with the statuses of import",
    arg(
        "--from",
        dest="source",
        required=True,
        metavar="SOURCE",
        help="the database to copy from: a SQLite file or a postgresql:// URL",
    ),
    arg(
        "--service",
        dest="services",
        action="append",
        metavar="S",
        help="only this service's returns (repeat for several; default: every service)",
    ),
    arg("--dry-run", action="store_true", help="say what each revision would do; write nothing"),
    arg("--json", action="store_true"),
)
def cmd_sync(args: argparse.Namespace, db: Database) -> int:
    from skp_desktop.services import sync  # SQLAlchemy's ORM queries: only when asked for

    if same_database(args.source, db):
        raise UsageError(f"--from names the database given with --db ({db.display_name})")
    source = open_database(args.source, actor=args.actor, initialise=False, must_exist=True)
    origin = source.display_name  # never the password a URL may hold
    try:
        outcomes = sync.synchronise(
            source, db, actor=args.actor, services=args.services, dry_run=args.dry_run
        )
    finally:
        source.dispose()
    if args.json:
        print_json([outcome.as_dict() for outcome in outcomes])
    else:
        for outcome in outcomes:
            print(outcome.line)
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    told = ", ".join(f"{n} {status.lower()}" for status, n in counts.items()) or "no returns"
    verb = "Would synchronise" if args.dry_run else "Synchronised"
    print(f"{verb} {origin} into {db.display_name}: {told}.", file=sys.stderr)
    if args.dry_run:
        print("Dry run: nothing was written.", file=sys.stderr)
    refused = next((o for o in outcomes if o.refused_by_server), None)
    if refused is not None:
        # the login's roles, not the data: the administrator can change them (environment)
        print(f"skp-returns: {refused.reason}", file=sys.stderr)
        return EXIT_ENVIRONMENT
    return EXIT_REFUSED if any(outcome.failed for outcome in outcomes) else EXIT_OK
