"""The whole partnership (issue 18): organisations, service add|rename|retire|form, context,
strategic-assessment."""

from __future__ import annotations

import argparse
import json
from typing import Any

from skp_desktop.cli.common import (
    UsageError,
    entries,
    lazy,
    left_out,
    partnership,
    print_json,
    print_table,
)
from skp_desktop.cli.registry import EXIT_OK, arg, command, declare_group
from skp_desktop.services.database import Database
from skp_desktop.services.errors import NotFoundError, ValidationError


@command(
    "organisations",
    "the five organisations and their services",
    arg("--json", action="store_true"),
)
def cmd_organisations(args: argparse.Namespace, db: Database) -> int:
    organisations = partnership.list_organisations(db)
    if args.json:
        print_json([o.as_dict() for o in organisations])
    else:
        print_table(
            ["CODE", "NAME", "SERVICES"],
            [
                [
                    o.code,
                    o.name,
                    ", ".join(
                        s.code + (f" (retired from {s.retired_from})" if s.retired_from else "")
                        for s in o.services
                    )
                    or "(none yet)",
                ]
                for o in organisations
            ],
        )
    return EXIT_OK


declare_group("service", "add, rename, retire a service or lay out its form", dest="service_action")


def _print_service(record: Any, verb: str) -> None:
    retired = f", retired from {record.retired_from}" if record.retired_from else ""
    print(f"{verb} {record.code}: {record.name} ({record.organisation}{retired}).")


@command(
    "add",
    "add a service to one of the organisations",
    arg("--code", required=True, help="new code, e.g. LFB-KINGSTON"),
    arg("--name", required=True, help="what people call it"),
    arg("--organisation", required=True, help="RBK, MPS, LFB, PS or ICB"),
    group="service",
)
def cmd_service_add(args: argparse.Namespace, db: Database) -> int:
    record = partnership.add_service(
        db,
        code=args.code,
        name=args.name,
        organisation=args.organisation,
        actor=args.actor,
        source=entries.SOURCE_COMMAND_LINE,
    )
    _print_service(record, "Added")
    return EXIT_OK


@command(
    "rename",
    "give a service a new name (the code stays)",
    arg("--code", required=True),
    arg("--name", required=True),
    group="service",
)
def cmd_service_rename(args: argparse.Namespace, db: Database) -> int:
    record = partnership.rename_service(
        db, code=args.code, name=args.name, actor=args.actor, source=entries.SOURCE_COMMAND_LINE
    )
    _print_service(record, "Renamed")
    return EXIT_OK


@command(
    "retire",
    "stop asking a service for returns from a quarter on",
    arg("--code", required=True),
    arg("--from", dest="first", metavar="P", help="first quarter without a return"),
    arg("--clear", action="store_true", help="ask the service for returns again"),
    group="service",
)
def cmd_service_retire(args: argparse.Namespace, db: Database) -> int:
    if args.clear == (args.first is not None):
        raise UsageError("give --from PERIOD, or --clear to ask the service for returns again")
    record = partnership.retire_service(
        db,
        code=args.code,
        retired_from=None if args.clear else args.first,
        actor=args.actor,
        source=entries.SOURCE_COMMAND_LINE,
    )
    _print_service(record, "Retired" if record.retired_from else "Brought back")
    return EXIT_OK


def _form_file(path: str) -> dict[str, Any]:
    """A form file (the shape of forms/<CODE>.toml, in TOML or JSON), read but not yet checked."""
    import tomllib
    from pathlib import Path

    source = Path(path)
    if not source.is_file():
        raise NotFoundError(f"No such file: {source}")
    try:
        text = source.read_text(encoding="utf-8")
        data = json.loads(text) if source.suffix.lower() == ".json" else tomllib.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {source}: {exc}") from None
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        kind = source.suffix[1:].upper()
        raise ValidationError(f"{source.name} is not valid {kind}: {exc}") from None
    if not isinstance(data, dict):
        raise ValidationError(f"{source.name}: expected a table with title, intro and sections")
    return data


@command(
    "form",
    "print a service's return form, or set it from a file",
    arg("--code", required=True),
    arg("--from-file", metavar="FILE.toml|.json", help="title, intro and sections"),
    arg("--reset", action="store_true", help="back to the bundled form"),
    group="service",
)
def cmd_service_form(args: argparse.Namespace, db: Database) -> int:
    if args.from_file and args.reset:
        raise UsageError("give --from-file FILE or --reset, not both")
    if args.from_file or args.reset:
        form = None if args.reset else _form_file(args.from_file)
        partnership.set_service_form(
            db, code=args.code, form=form, actor=args.actor, source=entries.SOURCE_COMMAND_LINE
        )
    layout = partnership.service_form(db, args.code)
    print(json.dumps(partnership.layout_data(layout), ensure_ascii=False, indent=2))
    return EXIT_OK


@command(
    "context",
    "record a context measure's figure for a period",
    arg("--code", required=True, help="context measure, e.g. CTX-ASB"),
    arg("--period", required=True, help="e.g. FY2025-26-Q4"),
    arg("--source", help="where the figure comes from"),
    arg("--clear", action="store_true", help="remove the figure"),
    arg("value", nargs="?", metavar="VALUE", help="the figure, e.g. 19.1"),
)
def cmd_context(args: argparse.Namespace, db: Database) -> int:
    if args.clear == (args.value is not None):
        raise UsageError("give the figure VALUE, or --clear (not both)")
    figure = partnership.set_context_figure(
        db,
        code=args.code,
        period=args.period,
        value=None if args.clear else args.value,
        actor=args.actor,
        source=args.source,
        audit_source=entries.SOURCE_COMMAND_LINE,
    )
    code = args.code.strip().upper()
    if figure is None:
        print(f"{code}: no figure for {args.period} now.")
    else:
        print(f"{code}: {figure.period.code} = {figure.as_dict()['value']}")
    return EXIT_OK


@command(
    "strategic-assessment",
    "write the annual strategic assessment for a financial year as PDF or Excel",
    arg("--year", required=True, help="financial year, e.g. FY2025-26"),
    arg("--out", required=True, metavar="FILE.pdf|FILE.xlsx"),
)
def cmd_strategic_assessment(args: argparse.Namespace, db: Database) -> int:
    assessment = lazy("skp_desktop.services.strategic_assessment")
    result = assessment.write_assessment(db, year=args.year, out=args.out)
    print(f"Wrote {result.path}: {result.describe()}")
    return left_out(result.left_out)
