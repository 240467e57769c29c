"""Setting up and looking after the database: init, services, catalogue, backups, restore,
self-test."""

from __future__ import annotations

import argparse
import sys

from skp_desktop.cli.common import (
    backups_service,
    catalogue,
    comparators,
    print_json,
    print_table,
    setup,
)
from skp_desktop.cli.registry import EXIT_OK, EXIT_REFUSED, arg, command
from skp_desktop.services.database import Database
from skp_desktop.services.errors import StoreUnavailable


@command(
    "init",
    "create or upgrade the database and load the default catalogue",
    arg("--demo", action="store_true", help="add clearly labelled demo history"),
)
def cmd_init(args: argparse.Namespace, db: Database) -> int:
    report = setup.initialise(db, actor=args.actor, demo=args.demo)
    print(report)
    return EXIT_OK


@command("services", "list organisations and services", arg("--json", action="store_true"))
def cmd_services(args: argparse.Namespace, db: Database) -> int:
    services = catalogue.list_services(db)
    rows = [{"code": s.code, "name": s.name, "organisation": s.organisation} for s in services]
    if args.json:
        print_json(rows)
    else:
        print_table(["CODE", "NAME", "ORGANISATION"], [list(r.values()) for r in rows])
    return EXIT_OK


@command(
    "catalogue",
    "list indicator definitions",
    arg("--service"),
    arg("--json", action="store_true"),
)
def cmd_catalogue(args: argparse.Namespace, db: Database) -> int:
    infos = catalogue.list_indicators(db, service=args.service, include_context=True)
    compared: dict[str, list[dict[str, object]]] = {}
    for entry in comparators.list_comparators(db):
        compared.setdefault(entry.indicator, []).append(entry.as_dict())
    rows = []
    for info in infos:
        rules = info.rules
        rows.append(
            {
                "code": info.code,
                "kind": info.kind,
                "title": info.title,
                "service": info.service,
                "theme": info.theme,
                "level": rules.level.value,
                "unit": rules.unit.value,
                "polarity": rules.polarity.value,
                "frequency": rules.frequency.value,
                "decimals": rules.decimals,
                "target": rules.target,
                "baseline": {
                    "value": info.baseline.value,
                    "period": info.baseline.period,
                    "unit": info.baseline.unit,
                }
                if info.baseline
                else None,
                "source": info.source,
                "comparators": compared.get(info.code, []),
            }
        )
    if args.json:
        print_json(rows)
    else:
        print_table(
            ["CODE", "SERVICE", "UNIT", "FREQUENCY", "TARGET", "TITLE"],
            [
                [r["code"], r["service"], r["unit"], r["frequency"], r["target"], r["title"]]
                for r in rows
            ],
        )
    return EXIT_OK


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:,.1f} KB"
    return f"{size / 1024 / 1024:,.1f} MB"


@command(
    "backups",
    "list the backups of the (SQLite) database, newest first: made once a day of use, "
    "before every upgrade and restore, and on request in the app",
    arg("--json", action="store_true"),
    needs_db=False,  # listing must work when the database itself is damaged
)
def cmd_backups(args: argparse.Namespace, db: None) -> int:
    found = backups_service.list_backups(args.db)
    rows = [
        {
            "path": b.path,
            "label": b.label,
            "made_at": b.made_at.isoformat(timespec="seconds"),
            "size": b.size,
        }
        for b in found
    ]
    if args.json:
        print_json(rows)
        return EXIT_OK
    if not rows:
        print(f"No backups of {backups_service.database_file(args.db)} yet.", file=sys.stderr)
        return EXIT_OK
    print_table(
        ["MADE (UTC)", "LABEL", "SIZE", "PATH"],
        [[r["made_at"], r["label"], _size(r["size"]), r["path"]] for r in rows],
    )
    return EXIT_OK


@command(
    "restore",
    "check a backup and put it in place of the (SQLite) database; the database as it was "
    "is kept as a backup first",
    arg("--from", dest="source", required=True, metavar="BACKUP", help="backup file"),
    needs_db=False,  # never opened: it may be damaged, and must be closed
)
def cmd_restore(args: argparse.Namespace, db: None) -> int:
    target = backups_service.database_file(args.db)
    holder = backups_service.app_holding(args.db)
    if holder:
        raise StoreUnavailable(
            f"SKP Returns has {target} open ({holder}). Close it first, or restore from the app "
            "(File ▸ Restore a backup). Nothing was changed."
        )
    before = backups_service.restore(args.db, args.source)
    print(f"Restored {target} from {args.source}.")
    if before is not None:
        print(f"The database as it was is kept as {before.path}.")
    return EXIT_OK


@command("self-test", "check the installation in a temporary folder", needs_db=False)
def cmd_self_test(args: argparse.Namespace, db: Database | None) -> int:
    """Check the installation in a temporary folder; never opens the user's database."""
    from skp_desktop.services import selftest

    report = selftest.run_self_test(emit=selftest.print_lines())
    return EXIT_OK if report.ok else EXIT_REFUSED
